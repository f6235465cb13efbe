"""The intake's message handler: one CloudEvent of the PLANS or PARTNERS stream, applied in the consumer's
transaction (so with its stream position): the projections, the organisations' activity, and one delivery per
recipient. A redelivered message is skipped by the consumer's position; the unique (recipient, event) key of
deliveries would refuse a second delivery anyway."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from nats.aio.msg import Msg
from sqlalchemy import select
from sqlalchemy.orm import Session

from izlek_common.cloudevents import CloudEvent
from izlek_common.eventsourced.views import jsonable
from izlek_notifications.application import NotificationsApplication
from izlek_notifications.clock import Clock, SystemClock
from izlek_notifications.delivery.store import enqueue
from izlek_notifications.intake.facts import Facts, facts_of
from izlek_notifications.intake.matching import contacts, organisation_names, subscribers
from izlek_notifications.mail.templates import template_for
from izlek_notifications.state.database import insert_new, upsert
from izlek_notifications.state.subscription_index import follow_log
from izlek_notifications.state.tables import activity, service_state

CONTACTS_SINCE = "contacts_since"


def contacts_since(session: Session, now: datetime) -> datetime:
    """Since when organisations' contacts are told: the first start of the service on this database, so that
    connecting it to years of history sends nothing about the past. Set on first use."""
    upsert(session, service_state, {"key": CONTACTS_SINCE, "value": now.isoformat()}, update=False)
    value = session.execute(select(service_state.c.value).where(service_state.c.key == CONTACTS_SINCE)).scalar_one()
    return datetime.fromisoformat(value)


class Intake:
    """Applies events to the state database and creates their deliveries."""

    def __init__(self, application: NotificationsApplication, *, contact_language: str = "tr",
                 clock: Clock | None = None) -> None:
        self.application = application
        self.contact_language = contact_language
        self.clock = clock or SystemClock()

    def handle_message(self, session: Session, message: Msg) -> None:
        """The `TrackedConsumer` handler."""
        self.handle(session, bytes(message.data))

    def handle(self, session: Session, raw: bytes) -> int:
        """Apply one event (its CloudEvent JSON); returns how many deliveries it created."""
        event = CloudEvent.from_json_bytes(raw)
        follow_log(session, self.application)
        facts = facts_of(session, event)
        self._record_activity(session, event, facts)
        recipients = subscribers(session, event.type, event.time, facts)
        if facts.contacts and event.time >= contacts_since(session, self.clock.now()):
            recipients += contacts(session, facts.contacts, self.contact_language, besides=recipients)
        if not recipients:
            return 0
        return enqueue(session, recipients, event_id=event.id, event_type=event.type, subject=event.subject,
                       template=template_for(event.type), payload=raw.decode("utf-8"),
                       context=message_context(session, event, facts), now=self.clock.now())

    def _record_activity(self, session: Session, event: CloudEvent, facts: Facts) -> None:
        if not facts.organisations:
            return
        entity = " ".join(str(part) for part in (facts.entity.get("code"), facts.entity.get("title")) if part)
        summary = json.dumps({"kind": facts.entity.get("kind"), "change": facts.change}, ensure_ascii=False,
                             default=str)
        for code in sorted(facts.organisations):
            insert_new(session, activity, {"organisation_code": code, "event_id": event.id, "event_type": event.type,
                                           "recorded_at": event.time, "entity": entity or event.subject or "",
                                           "summary": summary}, "organisation_code", "event_id")


def message_context(session: Session, event: CloudEvent, facts: Facts) -> dict[str, Any]:
    """What the e-mail templates show, fixed when the event is taken in (retries later show the same)."""
    return jsonable({
        "event": {"id": event.id, "type": event.type, "time": event.time, "valid_time": event.validtime,
                  "valid_precision": event.validprecision, "actor": event.actor, "actor_role": event.actorrole,
                  "actor_org": event.actororg, "reason": event.reason, "kind": event.kind,
                  "correlation_id": event.correlationid},
        "entity": facts.entity,
        "change": facts.change,
        "plan": facts.plan,
        "organisations": organisation_names(session, facts.organisations),
    })
