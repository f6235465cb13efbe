"""What the service keeps of the other services' events, and what each event says about who is concerned.

One handler per event type updates the projections (plans, actor groups, commitments, organisations, people,
protocols, purchases) and returns the event's `Facts`: its plan, its protocol, the organisations it involves, the
organisations whose contacts are told without subscribing (those a commitment is assigned to, directly or through
an actor group naming them, and a protocol's parties, before and after the change), and what the messages about it
show. Events of types it does not know still get facts (their subject), so subscriptions to any type work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from izlek_common.cloudevents import CloudEvent
from izlek_notifications.state.database import upsert
from izlek_notifications.state.tables import (
    actor_groups,
    commitments,
    organisations,
    people,
    plan_entities,
    plans,
    protocols,
    purchases,
)


@dataclass
class Facts:
    """What one event is about."""

    plan_id: str | None = None
    protocol_id: str | None = None
    organisations: set[str] = field(default_factory=set)
    """Organisation codes the event involves (filters and digests)."""
    contacts: set[str] = field(default_factory=set)
    """Organisation codes whose contacts are told without subscribing."""
    entity: dict[str, Any] = field(default_factory=dict)
    """The entity as messages show it: kind, id, code, title, status, ..."""
    change: dict[str, Any] = field(default_factory=dict)
    """What changed: ``{"from": ..., "to": ...}`` for a status, ``{"fields": {...}}`` otherwise."""
    plan: dict[str, Any] | None = None
    """The plan's id, code, title and region, when known."""


Handler = Callable[[Session, CloudEvent, dict[str, Any]], Facts]
HANDLERS: dict[str, Handler] = {}


def handles(*event_types: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for event_type in event_types:
            HANDLERS[event_type] = handler
        return handler

    return register


def facts_of(session: Session, event: CloudEvent) -> Facts:
    """Apply ``event`` to the projections and say what it is about (does not commit)."""
    handler = HANDLERS.get(event.type)
    facts = handler(session, event, event.data) if handler is not None else Facts()
    if facts.plan_id is not None and facts.plan is None:
        facts.plan = _plan(session, facts.plan_id)
    facts.entity.setdefault("id", event.subject)
    facts.entity.setdefault("kind", event.type.split(".")[2])
    return facts


# --- plans ----------------------------------------------------------------------------------------------------


@handles("izlek.plans.plan.started.v1")
def _plan_started(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    upsert(session, plans, {"id": event.subject, "code": data["code"], "title": data["title"],
                            "region": data.get("region")})
    facts = Facts(plan_id=event.subject, entity=_plan_entity(data, event.subject))
    if data.get("owner_organisation_id"):
        facts.organisations.add(data["owner_organisation_id"])
    return facts


@handles("izlek.plans.plan.details_changed.v1", "izlek.plans.plan.corrected.v1")
def _plan_changed(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    changes = {k: v for k, v in data["changes"].items() if k in ("code", "title", "region")}
    if changes:
        session.execute(update(plans).where(plans.c.id == event.subject).values(**changes))
    return Facts(plan_id=event.subject, change={"fields": data["changes"]})


@handles("izlek.plans.plan.actor_group_defined.v1")
def _actor_group_defined(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    group = data["group"]
    upsert(session, actor_groups, {"plan_id": event.subject, "code": group["code"], "name": group["name"],
                                   "organisation_codes": list(group["organisation_ids"])})
    return Facts(plan_id=event.subject, organisations=set(group["organisation_ids"]),
                 entity={"kind": "actor_group", "code": group["code"], "title": group["name"]})


@handles("izlek.plans.plan.goal_added.v1", "izlek.plans.plan.goal_changed.v1", "izlek.plans.plan.goal_corrected.v1",
         "izlek.plans.plan.target_added.v1", "izlek.plans.plan.target_changed.v1",
         "izlek.plans.plan.target_corrected.v1", "izlek.plans.plan.priority_defined.v1",
         "izlek.plans.plan.report_published.v1", "izlek.plans.plan.commitment_attached.v1",
         "izlek.plans.plan.criterion_attached.v1", "izlek.plans.plan.indicator_attached.v1")
def _plan_part(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    return Facts(plan_id=event.subject)


@handles("izlek.plans.commitment.registered.v1")
def _commitment_registered(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    row = {"id": event.subject, "plan_id": str(data["plan_id"]), "code": data["code"], "title": data["title"],
           "actor_group": data.get("actor_group"), "organisation_code": data.get("organisation_id"),
           "due_date": _date(data.get("due_date")), "status": "planned"}
    upsert(session, commitments, row)
    return _commitment_facts(session, event.subject, before=set())


@handles("izlek.plans.commitment.status_changed.v1")
def _commitment_status_changed(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    before = _commitment(session, event.subject)
    session.execute(update(commitments).where(commitments.c.id == event.subject).values(status=data["status"]))
    facts = _commitment_facts(session, event.subject, before=_assignees(session, before))
    facts.change = {"from": before["status"] if before else None, "to": data["status"]}
    return facts


@handles("izlek.plans.commitment.details_changed.v1", "izlek.plans.commitment.corrected.v1")
def _commitment_changed(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    before = _commitment(session, event.subject)
    renamed = {"organisation_id": "organisation_code"}
    values = {renamed.get(k, k): (_date(v) if k == "due_date" else v) for k, v in data["changes"].items()
              if k in ("title", "due_date", "status", "actor_group", "organisation_id")}
    if values and before is not None:
        session.execute(update(commitments).where(commitments.c.id == event.subject).values(**values))
    facts = _commitment_facts(session, event.subject, before=_assignees(session, before))
    facts.change = {"fields": data["changes"]}
    if "status" in data["changes"] and before is not None:
        facts.change.update({"from": before["status"], "to": data["changes"]["status"]})
    return facts


@handles("izlek.plans.commitment.assigned.v1")
def _commitment_assigned(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    before = _commitment(session, event.subject)
    session.execute(update(commitments).where(commitments.c.id == event.subject).values(
        actor_group=data.get("actor_group"), organisation_code=data.get("organisation_id")))
    facts = _commitment_facts(session, event.subject, before=_assignees(session, before))
    facts.change = {"fields": {"actor_group": data.get("actor_group"), "organisation_id": data.get("organisation_id")}}
    return facts


@handles("izlek.plans.commitment.evidence_added.v1")
def _commitment_evidence(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    facts = _commitment_facts(session, event.subject, before=set())
    facts.change = {"fields": {"evidence": data["evidence"]["reference"]}}
    return facts


@handles("izlek.plans.criterion.defined.v1", "izlek.plans.indicator.defined.v1")
def _plan_entity_defined(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    upsert(session, plan_entities, {"entity_id": event.subject, "plan_id": str(data["plan_id"])})
    return Facts(plan_id=str(data["plan_id"]), entity={"code": data.get("code"), "title": data.get("text")
                                                       or data.get("name")})


def _plan_entity_event(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    plan_id = session.execute(select(plan_entities.c.plan_id).where(
        plan_entities.c.entity_id == event.subject)).scalar_one_or_none()
    return Facts(plan_id=plan_id)


for _type in ("criterion.text_changed", "criterion.text_corrected", "criterion.measure_changed",
              "criterion.measure_corrected", "criterion.band_overridden", "criterion.band_override_withdrawn",
              "indicator.details_changed", "indicator.baseline_set", "indicator.baseline_corrected",
              "indicator.target_set", "indicator.target_corrected", "indicator.actual_recorded",
              "indicator.actual_corrected", "indicator.band_overridden", "indicator.band_override_withdrawn"):
    HANDLERS[f"izlek.plans.{_type}.v1"] = _plan_entity_event


def _commitment(session: Session, commitment_id: str) -> dict[str, Any] | None:
    row = session.execute(select(commitments).where(commitments.c.id == commitment_id)).mappings().one_or_none()
    return None if row is None else dict(row)


def _assignees(session: Session, commitment: dict[str, Any] | None) -> set[str]:
    """Who is responsible: the organisation named, or else the organisations the actor group names."""
    if commitment is None:
        return set()
    if commitment["organisation_code"]:
        return {commitment["organisation_code"]}
    if commitment["actor_group"]:
        codes = session.execute(select(actor_groups.c.organisation_codes).where(
            actor_groups.c.plan_id == commitment["plan_id"],
            actor_groups.c.code == commitment["actor_group"])).scalar_one_or_none()
        return set(codes or ())
    return set()


def _commitment_facts(session: Session, commitment_id: str, *, before: set[str]) -> Facts:
    commitment = _commitment(session, commitment_id)
    if commitment is None:
        return Facts()
    now = _assignees(session, commitment)
    return Facts(
        plan_id=commitment["plan_id"], organisations=before | now, contacts=before | now,
        entity={"kind": "commitment", "id": commitment_id, "code": commitment["code"],
                "title": commitment["title"], "status": commitment["status"],
                "due_date": commitment["due_date"].isoformat() if commitment["due_date"] else None,
                "actor_group": commitment["actor_group"], "organisation_code": commitment["organisation_code"]})


def _plan(session: Session, plan_id: str) -> dict[str, Any] | None:
    row = session.execute(select(plans.c.id, plans.c.code, plans.c.title, plans.c.region).where(
        plans.c.id == plan_id)).mappings().one_or_none()
    return None if row is None else dict(row)


def _plan_entity(data: dict[str, Any], plan_id: str) -> dict[str, Any]:
    return {"kind": "plan", "id": plan_id, "code": data["code"], "title": data["title"]}


# --- partners -------------------------------------------------------------------------------------------------


@handles("izlek.partners.organisation.registered.v1")
def _organisation_registered(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    upsert(session, organisations, {"code": data["code"], "id": event.subject, "name": data["name"],
                                    "type": data["type"], "email": _email((data.get("contact") or {}).get("email"))})
    return Facts(organisations={data["code"]},
                 entity={"kind": "organisation", "code": data["code"], "title": data["name"]})


@handles("izlek.partners.organisation.details_changed.v1", "izlek.partners.organisation.corrected.v1")
def _organisation_changed(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    changes = data["changes"]
    values: dict[str, Any] = {k: changes[k] for k in ("name", "type") if k in changes}
    if "contact" in changes:
        values["email"] = _email((changes["contact"] or {}).get("email"))
    if values:
        session.execute(update(organisations).where(organisations.c.id == event.subject).values(**values))
    return _organisation_facts(session, event.subject, change={"fields": changes})


def _organisation_event(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    return _organisation_facts(session, event.subject, change={})


for _type in ("liaison_designated", "liaison_ended", "purchase_volume_declared", "purchase_volume_corrected"):
    HANDLERS[f"izlek.partners.organisation.{_type}.v1"] = _organisation_event


@handles("izlek.partners.person.registered.v1")
def _person_registered(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    upsert(session, people, {"id": event.subject, "organisation_code": data["organisation_code"]})
    return Facts(organisations={data["organisation_code"]}, entity={"kind": "person", "title": data["name"]})


@handles("izlek.partners.person.details_changed.v1", "izlek.partners.person.corrected.v1")
def _person_changed(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    before = session.execute(select(people.c.organisation_code).where(people.c.id == event.subject)).scalar_one_or_none()
    codes = {before} if before else set()
    if data["changes"].get("organisation_code"):
        session.execute(update(people).where(people.c.id == event.subject).values(
            organisation_code=data["changes"]["organisation_code"]))
        codes.add(data["changes"]["organisation_code"])
    return Facts(organisations=codes, entity={"kind": "person"}, change={"fields": data["changes"]})


@handles("izlek.partners.protocol.drafted.v1")
def _protocol_drafted(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    parties = [p["organisation_code"] for p in data["parties"]]
    upsert(session, protocols, {"id": event.subject, "code": data["code"], "title": data["title"], "status": "draft",
                                "term_end": data.get("term_end"), "party_codes": parties})
    return _protocol_facts(session, event.subject, before=set())


@handles("izlek.partners.protocol.status_changed.v1")
def _protocol_status_changed(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    before = _protocol(session, event.subject)
    session.execute(update(protocols).where(protocols.c.id == event.subject).values(status=data["status"]))
    facts = _protocol_facts(session, event.subject, before=set(before["party_codes"]) if before else set())
    facts.change = {"from": before["status"] if before else None, "to": data["status"],
                    "evidence_reference": data.get("evidence_reference")}
    return facts


@handles("izlek.partners.protocol.party_added.v1")
def _protocol_party_added(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    before = _protocol(session, event.subject)
    parties = list(before["party_codes"]) if before else []
    code = data["party"]["organisation_code"]
    if before is not None and code not in parties:
        session.execute(update(protocols).where(protocols.c.id == event.subject).values(party_codes=[*parties, code]))
    facts = _protocol_facts(session, event.subject, before=set(parties))
    facts.change = {"fields": {"party_added": code}}
    return facts


@handles("izlek.partners.protocol.party_removed.v1")
def _protocol_party_removed(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    before = _protocol(session, event.subject)
    parties = list(before["party_codes"]) if before else []
    code = data["organisation_code"]
    if before is not None:
        session.execute(update(protocols).where(protocols.c.id == event.subject).values(
            party_codes=[p for p in parties if p != code]))
    facts = _protocol_facts(session, event.subject, before=set(parties))
    facts.change = {"fields": {"party_removed": code}}
    return facts


@handles("izlek.partners.protocol.revised.v1", "izlek.partners.protocol.amended.v1",
         "izlek.partners.protocol.corrected.v1")
def _protocol_changed(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    before = _protocol(session, event.subject)
    changes = data["changes"]
    values = {k: changes[k] for k in ("title", "term_end", "status") if k in changes}
    if values and before is not None:
        session.execute(update(protocols).where(protocols.c.id == event.subject).values(**values))
    facts = _protocol_facts(session, event.subject, before=set(before["party_codes"]) if before else set())
    facts.change = {"fields": changes}
    if "status" in changes and before is not None:
        facts.change.update({"from": before["status"], "to": changes["status"]})
    if "amendment" in data:
        facts.change["amendment"] = data["amendment"]
    return facts


@handles("izlek.partners.protocol.document_attached.v1")
def _protocol_document(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    facts = _protocol_facts(session, event.subject, before=set())
    facts.change = {"fields": {"document": data["document"].get("title") or data["document"]["reference"]}}
    return facts


@handles("izlek.partners.purchase.recorded.v1")
def _purchase_recorded(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    upsert(session, purchases, {"id": event.subject, "protocol_id": str(data["protocol_id"]),
                                "municipality_code": data["municipality_code"],
                                "cooperative_code": data["cooperative_code"]})
    return _purchase_facts(session, event.subject, change={"fields": {
        "amount": data["amount"], "category": data["category"], "invoice_reference": data["invoice_reference"]}})


@handles("izlek.partners.purchase.corrected.v1")
def _purchase_corrected(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    changes = data["changes"]
    values = {k: str(changes[k]) for k in ("protocol_id", "cooperative_code") if changes.get(k) is not None}
    if values:
        session.execute(update(purchases).where(purchases.c.id == event.subject).values(**values))
    return _purchase_facts(session, event.subject, change={"fields": changes})


def _purchase_event(session: Session, event: CloudEvent, data: dict[str, Any]) -> Facts:
    return _purchase_facts(session, event.subject, change={})


for _type in ("confirmed", "disputed", "voided"):
    HANDLERS[f"izlek.partners.purchase.{_type}.v1"] = _purchase_event


def _organisation_facts(session: Session, organisation_id: str, *, change: dict[str, Any]) -> Facts:
    row = session.execute(select(organisations.c.code, organisations.c.name).where(
        organisations.c.id == organisation_id)).one_or_none()
    if row is None:
        return Facts(change=change)
    return Facts(organisations={row.code}, entity={"kind": "organisation", "code": row.code, "title": row.name},
                 change=change)


def _protocol(session: Session, protocol_id: str) -> dict[str, Any] | None:
    row = session.execute(select(protocols).where(protocols.c.id == protocol_id)).mappings().one_or_none()
    return None if row is None else dict(row)


def _protocol_facts(session: Session, protocol_id: str, *, before: set[str]) -> Facts:
    protocol = _protocol(session, protocol_id)
    if protocol is None:
        return Facts(protocol_id=protocol_id)
    parties = set(protocol["party_codes"])
    return Facts(
        protocol_id=protocol_id, organisations=before | parties, contacts=before | parties,
        entity={"kind": "protocol", "id": protocol_id, "code": protocol["code"], "title": protocol["title"],
                "status": protocol["status"], "term_end": protocol["term_end"],
                "parties": [*protocol["party_codes"], *sorted(before - parties)]})


def _purchase_facts(session: Session, purchase_id: str, *, change: dict[str, Any]) -> Facts:
    row = session.execute(select(purchases).where(purchases.c.id == purchase_id)).mappings().one_or_none()
    if row is None:
        return Facts(change=change)
    return Facts(protocol_id=row["protocol_id"], organisations={row["municipality_code"], row["cooperative_code"]},
                 entity={"kind": "purchase", "id": purchase_id}, change=change)


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _email(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text if "@" in text else None
