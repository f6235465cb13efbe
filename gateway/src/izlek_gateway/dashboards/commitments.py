"""Commitments by actor group and status, overdue ones first."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, select

from izlek_gateway.graphql.commitment import is_overdue
from izlek_gateway.read_models.tables import actor_groups, commitments

STATUSES = ("planned", "in_progress", "done", "dropped")
"""A commitment's statuses, in the order the dashboards show them (overdue is derived, not a status)."""


@dataclass(frozen=True)
class StatusCount:
    status: str
    count: int
    overdue: int


@dataclass(frozen=True)
class CommitmentLine:
    id: str
    code: str
    title: str
    target_code: str
    actor_group: str | None
    organisation_id: str | None
    status: str
    due_date: date | None
    overdue: bool


@dataclass(frozen=True)
class ActorGroupCommitments:
    """The commitments of one actor group (``actor_group`` None: of no group): counts per status, overdue ones
    counted, and the commitments themselves, overdue ones first (earliest due first), then in plan order."""

    actor_group: str | None
    name: str | None
    total: int
    overdue: int
    by_status: tuple[StatusCount, ...]
    commitments: tuple[CommitmentLine, ...]


@dataclass(frozen=True)
class CommitmentsProgress:
    """Every commitment of a plan: counts per status, per actor group × status, and the overdue ones first."""

    total: int
    overdue: int
    by_status: tuple[StatusCount, ...]
    groups: tuple[ActorGroupCommitments, ...]
    overdue_commitments: tuple[CommitmentLine, ...]


def commitments_progress(connection: Connection, plan_id: str, today: date) -> CommitmentsProgress:
    """The plan's commitments by actor group (in code order; those of no or an unknown group last) and status;
    overdue means due before `today` in Turkey and neither done nor dropped."""
    names = {row.code: row.name for row in connection.execute(
        select(actor_groups.c.code, actor_groups.c.name).where(actor_groups.c.plan_id == plan_id))}
    rows = connection.execute(select(commitments).where(commitments.c.plan_id == plan_id)
                              .order_by(commitments.c.target_code, commitments.c.position, commitments.c.code))
    lines = [
        CommitmentLine(id=row.id, code=row.code, title=row.title, target_code=row.target_code,
                       actor_group=row.actor_group, organisation_id=row.organisation_id, status=row.status,
                       due_date=row.due_date, overdue=is_overdue(row.due_date, row.status, today))
        for row in rows
    ]
    # A stable sort: overdue ones first, earliest due first; the others stay in plan order.
    overdue_first = sorted(lines, key=lambda line: (0, line.due_date or date.min) if line.overdue else (1, date.min))
    unknown = {line.actor_group for line in lines if line.actor_group is not None} - set(names)
    groups: list[str | None] = [*sorted(names), *sorted(unknown)]
    if any(line.actor_group is None for line in lines):
        groups.append(None)
    by_group = [
        _group(group, names.get(group or ""), [line for line in overdue_first if line.actor_group == group])
        for group in groups
    ]
    return CommitmentsProgress(
        total=len(lines), overdue=sum(line.overdue for line in lines), by_status=_by_status(lines),
        groups=tuple(by_group), overdue_commitments=tuple(line for line in overdue_first if line.overdue),
    )


def _group(code: str | None, name: str | None, lines: list[CommitmentLine]) -> ActorGroupCommitments:
    return ActorGroupCommitments(actor_group=code, name=name, total=len(lines),
                                 overdue=sum(line.overdue for line in lines), by_status=_by_status(lines),
                                 commitments=tuple(lines))


def _by_status(lines: list[CommitmentLine]) -> tuple[StatusCount, ...]:
    counts = Counter(line.status for line in lines)
    overdue = Counter(line.status for line in lines if line.overdue)
    statuses = [*STATUSES, *sorted(set(counts) - set(STATUSES))]
    return tuple(StatusCount(status=status, count=counts[status], overdue=overdue[status]) for status in statuses)
