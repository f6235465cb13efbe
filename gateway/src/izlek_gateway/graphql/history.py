"""The ``HistoryEntry`` type: one recorded change of an entity, with its author and times."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import Row
from strawberry.scalars import JSON

from izlek_gateway.audit import field_changes
from izlek_gateway.graphql.commitment import PageInfo
from izlek_gateway.graphql.scalars import aware


@strawberry.type(description="Who changed an entity, when it was recorded and when it was true, and why.")
class HistoryEntry:
    service: str
    version: int
    entity_type: str
    event_type: str = strawberry.field(description="The CloudEvent type, e.g. izlek.partners.protocol.drafted.v1")
    name: str = strawberry.field(description="The event's name: Drafted, StatusChanged...")
    kind: str = strawberry.field(description="change or correction")
    author: str = strawberry.field(description="The author's subject, e.g. an e-mail address.")
    author_name: str | None = strawberry.field(description="The author's display name, when their token gave one.")
    role: str
    organisation: str | None
    recorded_at: datetime
    valid_at: datetime
    valid_precision: str | None
    reason: str | None
    correlation_id: str | None
    data: JSON
    changes: list[FieldChange] = strawberry.field(
        default_factory=list,
        description="The fields this change set, each with its value before and after (in history(id); empty in "
        "other lists).")

    @classmethod
    def from_row(cls, row: Row[Any], changes: list[FieldChange] | None = None) -> HistoryEntry:
        return cls(
            service=row.service, version=row.version, entity_type=row.entity_type, event_type=row.event_type,
            name=event_name(row.event_type), kind=row.kind, author=row.actor, author_name=row.actor_name, role=row.actor_role,
            organisation=row.actor_org, recorded_at=aware(row.recorded_at), valid_at=aware(row.valid_at),
            valid_precision=row.valid_precision, reason=row.reason, correlation_id=row.correlation_id,
            data=row.data, changes=changes or [],
        )


@strawberry.type(description="One field an event set: its value before and after.")
class FieldChange:
    field: str
    before: JSON | None
    after: JSON | None


def entries_with_changes(rows: Iterable[Row[Any]]) -> list[HistoryEntry]:
    """The history of one entity, oldest first, each entry with the fields its event changed
    (`izlek_gateway.audit.field_changes`)."""
    rows = list(rows)
    return [
        HistoryEntry.from_row(row, [FieldChange(field=name, before=before, after=after)
                                    for name, before, after in changes])
        for row, changes in zip(rows, field_changes(rows), strict=True)
    ]


@strawberry.type
class ChangeEdge:
    cursor: str
    node: HistoryEntry


@strawberry.type(description="A page of recorded changes, oldest first (Relay connection).")
class ChangeConnection:
    edges: list[ChangeEdge]
    page_info: PageInfo


class InvalidChangeCursor(ValueError):
    """An ``after`` cursor of ``changes`` that this gateway did not hand out."""


def encode_change_cursor(row: Row[Any]) -> str:
    key = [aware(row.recorded_at).isoformat(), row.service, row.notification_id]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def decode_change_cursor(cursor: str) -> tuple[datetime, str, int]:
    try:
        recorded_at, service, notification_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(recorded_at), str(service), int(notification_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidChangeCursor(f"not a cursor of changes: {cursor!r}") from exc


def event_name(event_type: str) -> str:
    """``izlek.partners.protocol.status_changed.v1`` -> ``StatusChanged``."""
    parts = event_type.split(".")
    name = parts[-2] if len(parts) >= 2 else event_type
    return "".join(word.capitalize() for word in name.split("_"))
