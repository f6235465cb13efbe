"""The handler of each event type, and the row operations the handlers share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Date, Table
from sqlalchemy.orm import Session

from izlek_common.cloudevents import CloudEvent, IntegrationEvent
from izlek_gateway.projections.errors import UnknownEventType, UnprojectableEvent
from izlek_gateway.projections.rows import rows_of

__all__ = ["HANDLERS", "Projection", "UnknownEventType", "UnprojectableEvent", "column_values", "delete_rows",
           "handles", "insert_rows", "last_change", "update_one", "upsert", "value_of"]

ContractT = TypeVar("ContractT", bound=IntegrationEvent)
Handler = Callable[[Session, CloudEvent, Any], None]


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
    rows_of(session).upsert(table, row)


def update_one(session: Session, table: Table, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """Update the row of `key`; raise `UnprojectableEvent` when there is none."""
    rows_of(session).update(table, key, values)


def value_of(session: Session, table: Table, key: Mapping[str, Any], column: str) -> Any:
    """The value of `column` in the row of `key` (None when there is no row)."""
    return rows_of(session).value(table, key, column)


def delete_rows(session: Session, table: Table, key: Mapping[str, Any]) -> None:
    """Delete the rows whose columns have the values of `key`."""
    rows_of(session).delete(table, key)


def insert_rows(session: Session, table: Table, rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert new rows."""
    rows_of(session).insert(table, rows)


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
