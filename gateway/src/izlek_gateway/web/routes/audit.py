"""The audit page of any entity: its timeline (who, when recorded, when valid, why, change or correction, the
fields changed) and the entity as it was "as of" a recorded date and "valid at" a date."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from izlek_gateway.graphql.scalars import point_in_time
from izlek_gateway.web.forms import entity_id
from izlek_gateway.web.reads import AUDIT, ENTITY_THEN, entity_then
from izlek_gateway.web.routes.dashboard import DateText, day_parameter
from izlek_gateway.web.site import PageError, SiteDep, VisitorDep

router = APIRouter(include_in_schema=False)

HIDDEN_FIELDS = frozenset({"id", "version", "__typename"})
TITLE_FIELDS = ("title", "name", "code", "invoiceReference")


@router.get("/audit/{entity}")
async def audit_page(request: Request, entity: str, site: SiteDep, visitor: VisitorDep,
                     asOf: DateText = None, validAt: DateText = None) -> Response:
    """Every recorded change of one entity, newest first, and the entity at the chosen point in time."""
    t = visitor.t
    principal = visitor.principal
    assert principal is not None
    entity = entity_id(entity, visitor)
    as_of, valid_at = day_parameter(asOf, t), day_parameter(validAt, t)
    data = await site.read(principal, AUDIT, id=entity, asOf=as_of)
    history = data["history"]
    if not history and not as_of:
        raise PageError(404, t("audit.not_found"))
    entity_type = history[0]["entityType"] if history else None
    then = None
    if entity_type in ENTITY_THEN:
        found = await site.read(principal, ENTITY_THEN[entity_type], asOf=as_of, validAt=valid_at)
        then = entity_then(entity_type, found, entity)
    now = then
    if (as_of or valid_at) and entity_type in ENTITY_THEN:
        now = entity_then(entity_type, await site.read(principal, ENTITY_THEN[entity_type]), entity)
    limit = point_in_time(valid_at) if valid_at else None
    organisations = {o["code"]: o["name"] for o in data["organisations"]}
    entries = [_entry(e, limit, organisations, STATUS_NAMES.get(entity_type or "")) for e in reversed(history)]
    label = _label(now or then) or entity
    return site.render(request, visitor, "audit.html", {
        "entity": entity, "entity_type": entity_type, "label": label, "then": _facts(then, entity_type),
        "as_of": as_of, "valid_at": valid_at, "entries": entries,
    })


def _entry(entry: dict[str, Any], limit: datetime | None, organisations: dict[str, str],
           status_names: str | None) -> dict[str, Any]:
    valid = datetime.fromisoformat(entry["validAt"])
    recorded = datetime.fromisoformat(entry["recordedAt"])
    return {
        **entry,
        "organisationName": organisations.get(entry["organisation"] or "", entry["organisation"]),
        "inEffect": limit is None or valid <= limit,
        "backdated": (recorded - valid).total_seconds() > 60,
        "changes": [{"field": c["field"], "before": _shown(c["before"]), "after": _shown(c["after"]),
                     "names": _names_of(c["field"], status_names)} for c in entry["changes"]],
    }


def _names_of(field: str, status_names: str | None) -> str | None:
    """Which names a changed field's values have (statuses, kinds, types), if any."""
    if field == "status":
        return status_names
    return {"kind": "protocol_kind", "type": "org_type"}.get(field)


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _label(entity: dict[str, Any] | None) -> str | None:
    if entity is None:
        return None
    return next((str(entity[key]) for key in TITLE_FIELDS if entity.get(key)), None)


STATUS_NAMES = {"protocol": "protocol_status", "commitment": "commitment_status", "purchase": "purchase_status"}


def _facts(entity: dict[str, Any] | None, entity_type: str | None) -> list[dict[str, str]] | None:
    """The entity's fields in the order the query names them: field name, value and how to show it."""
    if entity is None:
        return None
    facts = []
    for key, value in entity.items():
        if key in HIDDEN_FIELDS or key == "validPrecision":
            continue
        field = _snake(key)
        kind = "text"
        if key == "parties" and isinstance(value, list):
            value = ", ".join(f"{p['organisationCode']} ({p['role']})" for p in value)
        elif key == "status" and entity_type in STATUS_NAMES:
            kind = STATUS_NAMES[entity_type]
        elif key == "kind" and entity_type == "protocol":
            kind = "protocol_kind"
        elif key == "type" and entity_type == "organisation":
            kind = "org_type"
        elif key == "statusValidAt":
            kind, value = "valid", (value, entity.get("validPrecision"))
        elif key in ("dueDate", "purchasedOn"):
            kind = "date"
        elif key == "amount":
            kind = "money"
        if kind == "text":
            value = _shown(value)
        facts.append({"field": field, "value": value, "kind": kind})
    return facts


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
