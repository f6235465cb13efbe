"""The gateway's GraphQL schema: queries over the read models, and its SDL (``sdl()``, committed as
``gateway/schema.graphql``)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date
from typing import Any

import strawberry
from sqlalchemy import Date, and_, case, func, literal, select, tuple_
from sqlalchemy.sql.elements import ColumnElement
from strawberry.types import Info

from izlek_gateway.graphql.commitment import (
    CLOSED_STATUSES,
    Commitment,
    CommitmentConnection,
    CommitmentEdge,
    PageInfo,
)
from izlek_gateway.graphql.context import GatewayContext
from izlek_gateway.graphql.history import HistoryEntry
from izlek_gateway.graphql.organisation import Organisation
from izlek_gateway.graphql.plan import Plan
from izlek_gateway.graphql.protocol import Protocol
from izlek_gateway.graphql.purchase import Purchase
from izlek_gateway.graphql.scalars import normalised
from izlek_gateway.read_models.tables import (
    commitments,
    entity_events,
    organisations,
    plans,
    protocol_parties,
    protocols,
    purchases,
)

MAX_PAGE_SIZE = 200
NO_DUE_DATE = date(9999, 12, 31)
"""Commitments without a due date sort after every dated one."""

Context = Info[GatewayContext, None]


class InvalidCursor(ValueError):
    """An ``after`` cursor that this gateway did not hand out."""


def encode_cursor(key: tuple[int, date, str, str]) -> str:
    rank, due, plan_id, code = key
    return base64.urlsafe_b64encode(json.dumps([rank, due.isoformat(), plan_id, code]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, date, str, str]:
    try:
        rank, due, plan_id, code = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return int(rank), date.fromisoformat(due), str(plan_id), str(code)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidCursor(f"not a cursor of this connection: {cursor!r}") from exc


def _overdue_condition(today: date) -> ColumnElement[bool]:
    return and_(commitments.c.due_date.is_not(None), commitments.c.due_date < today,
                commitments.c.status.not_in(sorted(CLOSED_STATUSES)))


@strawberry.type
class Query:
    @strawberry.field(description="Every action plan.")
    def plans(self, info: Context) -> list[Plan]:
        rows = info.context.connection.execute(select(plans).order_by(plans.c.code))
        return [Plan.from_row(row) for row in rows]

    @strawberry.field(description="One plan by its id.")
    def plan(self, info: Context, id: strawberry.ID) -> Plan | None:
        row = info.context.connection.execute(select(plans).where(plans.c.id == str(id))).first()
        return None if row is None else Plan.from_row(row)

    @strawberry.field(description="Commitments, overdue ones first, then by due date; a Relay connection.")
    def commitments(
        self,
        info: Context,
        plan_id: strawberry.ID | None = None,
        status: str | None = None,
        actor_group: str | None = None,
        organisation_id: str | None = None,
        overdue: bool | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> CommitmentConnection:
        if not 0 <= first <= MAX_PAGE_SIZE:
            raise ValueError(f"first must be between 0 and {MAX_PAGE_SIZE}, got {first}")
        today = info.context.today
        is_overdue = _overdue_condition(today)
        rank = case((is_overdue, 0), else_=1)
        due = func.coalesce(commitments.c.due_date, literal(NO_DUE_DATE, Date), type_=Date)
        conditions: list[ColumnElement[bool]] = []
        if plan_id is not None:
            conditions.append(commitments.c.plan_id == str(plan_id))
        if status is not None:
            conditions.append(commitments.c.status == normalised(status))
        if actor_group is not None:
            conditions.append(commitments.c.actor_group == actor_group)
        if organisation_id is not None:
            conditions.append(commitments.c.organisation_id == organisation_id)
        if overdue is not None:
            conditions.append(is_overdue if overdue else ~is_overdue)
        connection = info.context.connection
        total = connection.execute(select(func.count()).select_from(commitments).where(*conditions)).scalar_one()
        if after is not None:
            conditions.append(tuple_(rank, due, commitments.c.plan_id, commitments.c.code)
                              > tuple_(*(literal(part) for part in decode_cursor(after))))
        rows = connection.execute(
            select(commitments, rank.label("sort_rank"), due.label("sort_due")).where(*conditions)
            .order_by(rank, due, commitments.c.plan_id, commitments.c.code).limit(first + 1)
        ).all()
        edges = [
            CommitmentEdge(cursor=encode_cursor((row.sort_rank, _as_date(row.sort_due), row.plan_id, row.code)),
                           node=Commitment.from_row(row, today))
            for row in rows[:first]
        ]
        return CommitmentConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=len(rows) > first, end_cursor=edges[-1].cursor if edges else None),
            total_count=total,
        )

    @strawberry.field(description="Partner organisations; `type` as stored or in capitals (COOPERATIVE).")
    def organisations(self, info: Context, type: str | None = None) -> list[Organisation]:
        query = select(organisations).order_by(organisations.c.code)
        if type is not None:
            query = query.where(organisations.c.type == normalised(type))
        return [Organisation.from_row(row) for row in info.context.connection.execute(query)]

    @strawberry.field(description="One organisation by its code (e.g. kedv).")
    def organisation(self, info: Context, code: str) -> Organisation | None:
        return_row = info.context.connection.execute(
            select(organisations).where(organisations.c.code == code)
        ).first()
        return None if return_row is None else Organisation.from_row(return_row)

    @strawberry.field(description="Protocols, optionally those an organisation is party to, or in one status.")
    def protocols(self, info: Context, party: str | None = None, status: str | None = None) -> list[Protocol]:
        query = select(protocols).order_by(protocols.c.code)
        if party is not None:
            query = query.where(protocols.c.id.in_(
                select(protocol_parties.c.protocol_id).where(protocol_parties.c.organisation_code == party)
            ))
        if status is not None:
            query = query.where(protocols.c.status == normalised(status))
        return [Protocol.from_row(row) for row in info.context.connection.execute(query)]

    @strawberry.field(description="Purchases, by municipality, cooperative (codes) or protocol id.")
    def purchases(self, info: Context, municipality: str | None = None, cooperative: str | None = None,
                  protocol: strawberry.ID | None = None) -> list[Purchase]:
        conditions: list[Any] = []
        if municipality is not None:
            conditions.append(purchases.c.municipality_code == municipality)
        if cooperative is not None:
            conditions.append(purchases.c.cooperative_code == cooperative)
        if protocol is not None:
            conditions.append(purchases.c.protocol_id == str(protocol))
        query = select(purchases).where(*conditions).order_by(purchases.c.purchased_on, purchases.c.id)
        return [Purchase.from_row(row) for row in info.context.connection.execute(query)]

    @strawberry.field(description="Every recorded change of one entity (any service), oldest first.")
    def history(self, info: Context, id: strawberry.ID) -> list[HistoryEntry]:
        query = (select(entity_events).where(entity_events.c.entity_id == str(id))
                 .order_by(entity_events.c.version, entity_events.c.recorded_at))
        return [HistoryEntry.from_row(row) for row in info.context.connection.execute(query)]


def _as_date(value: Any) -> date:
    # SQLite returns the coalesced date as text.
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


schema = strawberry.Schema(query=Query)


def sdl() -> str:
    """The schema in SDL; ``gateway/schema.graphql`` holds it followed by a newline (what ``print`` writes)."""
    return schema.as_str()


__all__ = ["InvalidCursor", "Query", "decode_cursor", "encode_cursor", "schema", "sdl"]
