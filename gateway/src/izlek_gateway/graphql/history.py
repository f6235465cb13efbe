"""The ``HistoryEntry`` type: one recorded change of an entity, with its author and times."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import Row
from strawberry.scalars import JSON

from izlek_gateway.graphql.scalars import aware


@strawberry.type(description="Who changed an entity, when it was recorded and when it was true, and why.")
class HistoryEntry:
    service: str
    version: int
    entity_type: str
    event_type: str = strawberry.field(description="The CloudEvent type, e.g. izlek.partners.protocol.drafted.v1")
    name: str = strawberry.field(description="The event's name: Drafted, StatusChanged...")
    kind: str = strawberry.field(description="change or correction")
    author: str
    role: str
    organisation: str | None
    recorded_at: datetime
    valid_at: datetime
    valid_precision: str | None
    reason: str | None
    correlation_id: str | None
    data: JSON

    @classmethod
    def from_row(cls, row: Row[Any]) -> HistoryEntry:
        return cls(
            service=row.service, version=row.version, entity_type=row.entity_type, event_type=row.event_type,
            name=event_name(row.event_type), kind=row.kind, author=row.actor, role=row.actor_role,
            organisation=row.actor_org, recorded_at=aware(row.recorded_at), valid_at=aware(row.valid_at),
            valid_precision=row.valid_precision, reason=row.reason, correlation_id=row.correlation_id,
            data=row.data,
        )


def event_name(event_type: str) -> str:
    """``izlek.partners.protocol.status_changed.v1`` -> ``StatusChanged``."""
    parts = event_type.split(".")
    name = parts[-2] if len(parts) >= 2 else event_type
    return "".join(word.capitalize() for word in name.split("_"))
