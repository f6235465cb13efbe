"""The ``Commitment`` type: one action of a plan, with its actor group, due date and derived ``overdue``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from sqlalchemy import Row
from strawberry.scalars import JSON

from izlek_gateway.graphql.scalars import aware

CLOSED_STATUSES = frozenset({"done", "dropped"})
"""A commitment in one of these statuses is never overdue."""


def is_overdue(due_date: date | None, status: str, today: date) -> bool:
    """Due before `today` (in Turkey) and neither done nor dropped."""
    return due_date is not None and due_date < today and status not in CLOSED_STATUSES


@strawberry.type(description="A commitment (action) of a plan, under one of its targets.")
class Commitment:
    id: strawberry.ID
    plan_id: strawberry.ID
    target_code: str
    code: str
    title: str
    actor_group: str | None
    organisation_id: str | None
    due_date: date | None
    position: int | None
    status: str = strawberry.field(description="planned, in_progress, done or dropped")
    overdue: bool = strawberry.field(description="Due before today in Turkey (UTC+3) and not done or dropped.")
    evidence: JSON
    version: int
    recorded_at: datetime
    valid_at: datetime

    @classmethod
    def from_row(cls, row: Row[Any], today: date) -> Commitment:
        return cls(
            id=strawberry.ID(row.id), plan_id=strawberry.ID(row.plan_id), target_code=row.target_code,
            code=row.code, title=row.title, actor_group=row.actor_group, organisation_id=row.organisation_id,
            due_date=row.due_date, position=row.position, status=row.status,
            overdue=is_overdue(row.due_date, row.status, today), evidence=row.evidence or [],
            version=row.version, recorded_at=aware(row.recorded_at), valid_at=aware(row.valid_at),
        )


@strawberry.type
class CommitmentEdge:
    cursor: str
    node: Commitment


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="A page of commitments, overdue ones first (Relay connection).")
class CommitmentConnection:
    edges: list[CommitmentEdge]
    page_info: PageInfo
    total_count: int
