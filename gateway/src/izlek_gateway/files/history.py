"""The history of a plan's commitments as the audit trail of a view holds it: who changed what, in which role and
organisation, when it was recorded and when it took effect, why, and which fields it changed."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from izlek_gateway.audit import aware, field_changes_of_entities
from izlek_gateway.graphql.history import event_name
from izlek_gateway.read_models.tables import commitments, entity_events

HIDDEN_FIELDS = frozenset({"id", "plan_id"})
"""Fields every commitment event repeats; the history's own columns say which commitment it is."""


@dataclass(frozen=True)
class HistoryLine:
    commitment_code: str
    commitment_title: str
    version: int
    name: str
    """The event's name: Registered, StatusChanged, Corrected..."""
    kind: str
    """``change`` or ``correction``."""
    author: str
    author_name: str | None
    role: str
    organisation: str | None
    recorded_at: datetime
    valid_at: datetime
    valid_precision: str | None
    reason: str | None
    changes: tuple[tuple[str, Any, Any], ...]
    """(field, before, after) for each field the event set."""


def commitment_history(connection: Connection, plan_id: str) -> list[HistoryLine]:
    """Every recorded event of the plan's commitments in the read models on `connection` (a view of a point in
    time holds only the events recorded and in effect by then), by commitment code and version."""
    known = {row.id: row for row in connection.execute(
        select(commitments.c.id, commitments.c.code, commitments.c.title).where(commitments.c.plan_id == plan_id))}
    rows = connection.execute(
        select(entity_events).where(entity_events.c.plan_id == plan_id, entity_events.c.entity_type == "commitment")
        .order_by(entity_events.c.entity_id, entity_events.c.version, entity_events.c.recorded_at)
    ).all()
    by_commitment: defaultdict[str, list[Row[Any]]] = defaultdict(list)
    for row in rows:
        by_commitment[row.entity_id].append(row)
    lines = []
    histories = list(by_commitment.values())
    for events, changes in zip(histories, field_changes_of_entities(histories), strict=True):
        first = events[0].data or {}
        current = known.get(events[0].entity_id)
        code = current.code if current is not None else str(first.get("code", events[0].entity_id))
        title = current.title if current is not None else str(first.get("title", ""))
        for row, changed in zip(events, changes, strict=True):
            lines.append(HistoryLine(
                commitment_code=code, commitment_title=title, version=row.version, name=event_name(row.event_type),
                kind=row.kind, author=row.actor, author_name=row._mapping.get("actor_name"), role=row.actor_role,
                organisation=row.actor_org, recorded_at=aware(row.recorded_at), valid_at=aware(row.valid_at),
                valid_precision=row.valid_precision, reason=row.reason,
                changes=tuple(c for c in changed if c[0] not in HIDDEN_FIELDS),
            ))
    lines.sort(key=lambda line: (_natural(line.commitment_code), line.version))
    return lines


def _natural(code: str) -> tuple[Any, ...]:
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", code))
