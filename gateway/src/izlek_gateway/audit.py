"""Field diffs of an entity's history: its events replayed alone, the entity's rows compared after each one.

The diffs come from the same projections as the read models, so a field an event leaves implicit (a commitment
registered as "planned", a protocol's status date) shows with its real value before and after, and parts kept
in tables of their own (a plan's goals, a protocol's parties, an indicator's values per period) show as
``goals[G1].title``, ``protocol_parties[konak-belediyesi].role`` or ``indicator_values[2021].actual``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, Table, create_engine, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.dml import UpdateBase

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
    return SHARED_HISTORIES.changes(rows)


def field_changes_of_entities(histories: Sequence[Sequence[Row[Any]]]) -> list[list[FieldChanges]]:
    """`field_changes` of several entities' histories, replayed in one scratch database (each entity's state is
    read by its own id): far quicker than a database each when a report lists a whole plan's commitments."""
    scratch = Scratch()
    try:
        return [scratch.replay(rows) if rows else [] for rows in histories]
    finally:
        scratch.dispose()


class Scratch:
    """A scratch database that events are replayed into, reading back only the tables the replay has written:
    the others hold no row of any entity."""

    def __init__(self) -> None:
        self.engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        metadata.create_all(self.engine, tables=list(STATE_TABLES))
        self.written: set[str] = set()
        event.listen(self.engine, "before_execute", self._note_writes)
        self.state: dict[str, Any] = {}

    def _note_writes(self, _connection: Any, statement: Any, *_: Any) -> None:
        if isinstance(statement, UpdateBase):
            self.written.add(statement.table.name)  # type: ignore[attr-defined]

    def replay(self, rows: Sequence[Row[Any]], before: dict[str, Any] | None = None) -> list[FieldChanges]:
        """The changes of `rows` (one entity's, in order), from the entity's state `before` them (its state in
        this database when not given); `state` is the entity's state after them."""
        entity_id = rows[0].entity_id
        tables = [table for table in STATE_TABLES if table.name in self.written]
        changes: list[FieldChanges] = []
        with Session(self.engine) as session, session.begin():
            if before is None:
                before = entity_state(session.connection(), entity_id, tables)
            for row in rows:
                projection = HANDLERS.get(row.event_type)
                if projection is not None:
                    try:
                        with session.begin_nested():
                            projection.handler(session, event_of(row), projection.contract.model_validate(row.data))
                    except (UnprojectableEvent, IntegrityError):
                        pass  # it changes a part that lives outside this entity's own events
                if len(tables) != len(self.written):
                    tables = [table for table in STATE_TABLES if table.name in self.written]
                after = entity_state(session.connection(), entity_id, tables)
                changes.append(compare(before, after))
                before = after
        self.state = before
        return changes

    def dispose(self) -> None:
        self.engine.dispose()


@dataclass
class _KeptHistory:
    rows: list[tuple[Any, ...]]
    changes: list[FieldChanges]
    scratch: Scratch
    lock: threading.Lock = field(default_factory=threading.Lock)


class EntityHistories:
    """The field changes of the entities asked for lately, at most `capacity`, each kept with its replay: a
    history asked for again is answered from what was kept, one that grew replays only its new events, and a
    prefix of it (a history ``asOf``) is a prefix of what was kept. Rows are told apart by service, notification
    id, version and recorded time, so two databases' histories are never mistaken for one another."""

    def __init__(self, capacity: int = 32) -> None:
        self.capacity = capacity
        self._kept: OrderedDict[str, _KeptHistory] = OrderedDict()
        self._lock = threading.Lock()

    def changes(self, rows: Sequence[Row[Any]]) -> list[FieldChanges]:
        if not rows:
            return []
        entity_id = rows[0].entity_id
        identities = [(row.service, row.notification_id, row.version, row.recorded_at) for row in rows]
        with self._lock:
            kept = self._kept.get(entity_id)
            if kept is not None:
                self._kept.move_to_end(entity_id)
        if kept is not None:
            with kept.lock:
                seen = len(kept.rows)
                if kept.rows[:len(identities)] == identities:
                    return kept.changes[:len(identities)]
                if identities[:seen] == kept.rows:
                    kept.changes += kept.scratch.replay(rows[seen:], kept.scratch.state)
                    kept.rows = identities
                    return list(kept.changes)
        scratch = Scratch()
        kept = _KeptHistory(identities, scratch.replay(rows), scratch)
        with self._lock:
            replaced = self._kept.pop(entity_id, None)
            self._kept[entity_id] = kept
            dropped = [self._kept.popitem(last=False)[1] for _ in range(len(self._kept) - self.capacity)]
        for old in ([replaced] if replaced is not None else []) + dropped:
            old.scratch.dispose()
        return list(kept.changes)


SHARED_HISTORIES = EntityHistories()
"""The histories kept for every request (`field_changes`)."""


def entity_state(connection: Connection, entity_id: str, tables: Sequence[Table] = STATE_TABLES) -> dict[str, Any]:
    """Every field of the entity (in `tables`), its parts' fields under ``table[key].field``."""
    state: dict[str, Any] = {}
    for table in tables:
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
