"""Field diffs of an entity's history: its events replayed alone, the entity's rows compared after each one.

The diffs come from the same projections as the read models, so a field an event leaves implicit (a commitment
registered as "planned", a protocol's status date) shows with its real value before and after, and parts kept
in tables of their own (a plan's goals, a protocol's parties, an indicator's values per period) show as
``goals[G1].title``, ``protocol_parties[konak-belediyesi].role`` or ``indicator_values[2021].actual``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, Table, create_engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from izlek_common.cloudevents import CloudEvent
from izlek_gateway.projections import HANDLERS, UnprojectableEvent
from izlek_gateway.read_models.tables import READ_MODEL_TABLES, entity_events, metadata

ENTITY_KEYS = ("id", "plan_id", "organisation_id", "protocol_id", "indicator_id")
"""Columns that tie a row to its entity: its own id, or the id of the entity it is a part of."""

UNCHANGING = frozenset({"version", "recorded_at", "valid_at"})
"""Kept by every row of its last change; the history entry shows them itself."""

STATE_TABLES = tuple(table for table in READ_MODEL_TABLES if table is not entity_events)

FieldChanges = list[tuple[str, Any, Any]]


def event_of(row: Any) -> CloudEvent:
    """The CloudEvent an ``entity_events`` row was projected from."""
    return CloudEvent(
        id=f"{row.service}:{row.notification_id}", source=f"izlek/{row.service}", type=row.event_type,
        subject=row.entity_id, time=aware(row.recorded_at), data=row.data, notificationid=row.notification_id,
        aggregateversion=row.version, actor=row.actor, actorrole=row.actor_role, actororg=row.actor_org,
        actorname=row.actor_name,
        validtime=aware(row.valid_at), validprecision=row.valid_precision, correlationid=row.correlation_id,
        reason=row.reason, kind=row.kind,
    )


def aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def field_changes(rows: Sequence[Row[Any]]) -> list[FieldChanges]:
    """For each of one entity's audit rows (oldest first), the fields its event changed: (name, before, after)."""
    return field_changes_of_entities([rows])[0]


def field_changes_of_entities(histories: Sequence[Sequence[Row[Any]]]) -> list[list[FieldChanges]]:
    """`field_changes` of several entities' histories, replayed in one scratch database (each entity's state is
    read by its own id): far quicker than a database each when a report lists a whole plan's commitments."""
    scratch = create_engine("sqlite://", poolclass=StaticPool)
    try:
        metadata.create_all(scratch, tables=list(STATE_TABLES))
        with Session(scratch) as session, session.begin():
            return [_replayed(session, rows) if rows else [] for rows in histories]
    finally:
        scratch.dispose()


def _replayed(session: Session, rows: Sequence[Row[Any]]) -> list[FieldChanges]:
    entity_id = rows[0].entity_id
    changes: list[FieldChanges] = []
    before = entity_state(session.connection(), entity_id)
    for row in rows:
        projection = HANDLERS.get(row.event_type)
        if projection is not None:
            try:
                with session.begin_nested():
                    projection.handler(session, event_of(row), projection.contract.model_validate(row.data))
            except (UnprojectableEvent, IntegrityError):
                pass  # it changes a part that lives outside this entity's own events
        after = entity_state(session.connection(), entity_id)
        changes.append(compare(before, after))
        before = after
    return changes


def entity_state(connection: Connection, entity_id: str) -> dict[str, Any]:
    """Every field of the entity, its parts' fields under ``table[key].field``."""
    state: dict[str, Any] = {}
    for table in STATE_TABLES:
        for key in (k for k in ENTITY_KEYS if k in table.c):
            for row in connection.execute(select(table).where(table.c[key] == entity_id)):
                prefix = "" if key == "id" else f"{table.name}[{_part_key(table, key, row)}]."
                for column, value in row._mapping.items():
                    if column not in UNCHANGING and not (prefix and column == key):
                        state[f"{prefix}{column}"] = plain(value)
    return state


def _part_key(table: Table, parent: str, row: Row[Any]) -> str:
    parts = [str(plain(row._mapping[c.name])) for c in table.primary_key if c.name != parent]
    return "/".join(parts) or parent


def compare(before: dict[str, Any], after: dict[str, Any]) -> FieldChanges:
    names = [*before, *(name for name in after if name not in before)]
    return [(name, before.get(name), after.get(name)) for name in names if before.get(name) != after.get(name)]


def plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return aware(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value
