"""The handler of each event type, and the row operations the handlers share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Date, Table, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from izlek_common.cloudevents import CloudEvent, IntegrationEvent

ContractT = TypeVar("ContractT", bound=IntegrationEvent)
Handler = Callable[[Session, CloudEvent, Any], None]


class UnknownEventType(LookupError):
    """No projection handles this event type (a newer producer, or a message that is not ours)."""


class UnprojectableEvent(ValueError):
    """The event does not fit the read models: a change to an entity never seen, or to a field they lack."""


@dataclass(frozen=True)
class Projection:
    contract: type[IntegrationEvent]
    handler: Handler


HANDLERS: dict[str, Projection] = {}
"""The projection of each event type, filled by ``@handles``."""


def handles(contract: type[ContractT]) -> Callable[[Callable[[Session, CloudEvent, ContractT], None]], Handler]:
    """Decorator: make the function the read models' handler of `contract`'s events."""

    def register(handler: Callable[[Session, CloudEvent, ContractT], None]) -> Handler:
        if contract.event_type in HANDLERS:
            raise ValueError(f"{contract.event_type} has a handler already")
        HANDLERS[contract.event_type] = Projection(contract, handler)
        return handler

    return register


def last_change(event: CloudEvent) -> dict[str, Any]:
    """The version and times every entity row keeps of its last change."""
    return {"version": event.aggregateversion, "recorded_at": event.time, "valid_at": event.validtime}


def upsert(session: Session, table: Table, row: Mapping[str, Any]) -> None:
    """Insert `row`, or update the given columns of the row with its primary key."""
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise NotImplementedError(f"read models support SQLite and PostgreSQL, not {dialect}")
    key = [column.name for column in table.primary_key]
    statement = insert(table).values(**row)
    changed = {name: statement.excluded[name] for name in row if name not in key}
    statement = (
        statement.on_conflict_do_update(index_elements=key, set_=changed)
        if changed
        else statement.on_conflict_do_nothing(index_elements=key)
    )
    session.execute(statement)


def update_one(session: Session, table: Table, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """Update the row of `key`; raise `UnprojectableEvent` when there is none."""
    condition = [table.c[name] == value for name, value in key.items()]
    result = session.execute(update(table).where(*condition).values(**values))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise UnprojectableEvent(f"{table.name} has no row {dict(key)} to change")


def column_values(table: Table, changes: Mapping[str, Any], *, renamed: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The columns of `table` that a ``changes`` mapping of an event sets, dates parsed from ISO text."""
    renamed = renamed or {}
    values: dict[str, Any] = {}
    for field, value in changes.items():
        name = renamed.get(field, field)
        if name not in table.c or table.c[name].primary_key:
            raise UnprojectableEvent(f"{table.name} has no column for the changed field {field!r}")
        if isinstance(table.c[name].type, Date) and isinstance(value, str):
            value = date.fromisoformat(value)
        values[name] = value
    return values
