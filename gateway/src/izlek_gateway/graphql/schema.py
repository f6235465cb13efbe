"""The gateway's GraphQL schema: queries over the read models, and its SDL (``sdl()``, committed as
``gateway/schema.graphql``)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

import strawberry
from sqlalchemy import Date, and_, case, func, literal, select, tuple_
from sqlalchemy.sql.elements import ColumnElement
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from izlek_gateway.dashboards import plan_dashboard
from izlek_gateway.graphql.commitment import (
    CLOSED_STATUSES,
    Commitment,
    CommitmentConnection,
    CommitmentEdge,
    PageInfo,
)
from izlek_gateway.graphql.context import GatewayContext
from izlek_gateway.graphql.dashboard import PlanDashboard
from izlek_gateway.graphql.history import (
    ChangeConnection,
    ChangeEdge,
    HistoryEntry,
    decode_change_cursor,
    encode_change_cursor,
    entries_with_changes,
)
from izlek_gateway.graphql.organisation import Organisation
from izlek_gateway.graphql.plan import Plan
from izlek_gateway.graphql.protocol import Protocol
from izlek_gateway.graphql.purchase import Purchase
from izlek_gateway.graphql.report import Report
from izlek_gateway.graphql.scalars import SCALARS, PointInTime, normalised
from izlek_gateway.graphql.subscriptions import Subscription
from izlek_gateway.read_models.tables import (
    commitments,
    entity_events,
    organisations,
    plans,
    protocol_parties,
    protocols,
    purchases,
    reports,
)

MAX_PAGE_SIZE = 200
NO_DUE_DATE = date(9999, 12, 31)
"""Commitments without a due date sort after every dated one."""

Context = Info[GatewayContext, None]
AsOf = Annotated[PointInTime | None, strawberry.argument(
    description="What Izlek knew then: only changes recorded by this time.")]
ValidAt = Annotated[PointInTime | None, strawberry.argument(
    description="What was true then: only changes in effect by this time.")]


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
    @strawberry.field(description="Every action plan the caller may see.")
    async def plans(self, info: Context, as_of: AsOf = None, valid_at: ValidAt = None) -> list[Plan]:
        view = await info.context.open_view(info, as_of, valid_at)
        rows = await view.rows(select(plans).where(await view.plan_filter(plans.c.id)).order_by(plans.c.code))
        return [Plan.from_row(row) for row in rows]

    @strawberry.field(description="One plan by its id.")
    async def plan(self, info: Context, id: strawberry.ID, as_of: AsOf = None,
                   valid_at: ValidAt = None) -> Plan | None:
        view = await info.context.open_view(info, as_of, valid_at)
        row = await view.first(select(plans).where(plans.c.id == str(id), await view.plan_filter(plans.c.id)))
        return None if row is None else Plan.from_row(row)

    @strawberry.field(description="The success-criteria dashboard of one plan: criteria with value, target, "
                      "achievement and bands, commitments by actor group and status, indicator bands, protocol "
                      "coverage and quota compliance.")
    async def dashboard(self, info: Context, plan_id: strawberry.ID, as_of: AsOf = None,
                        valid_at: ValidAt = None) -> PlanDashboard | None:
        view = await info.context.open_view(info, as_of, valid_at)
        if await view.first(select(plans.c.id).where(plans.c.id == str(plan_id),
                                                     await view.plan_filter(plans.c.id))) is None:
            return None
        result = await view.run(plan_dashboard, str(plan_id), view.today)
        return None if result is None else PlanDashboard.from_result(result)

    @strawberry.field(description="Commitments, overdue ones first, then by due date; a Relay connection.")
    async def commitments(
        self,
        info: Context,
        plan_id: strawberry.ID | None = None,
        status: str | None = None,
        actor_group: str | None = None,
        organisation_id: str | None = None,
        overdue: bool | None = None,
        due_after: Annotated[date | None, strawberry.argument(description="Due on or after this day.")] = None,
        due_before: Annotated[date | None, strawberry.argument(description="Due on or before this day.")] = None,
        first: int = 50,
        after: str | None = None,
        as_of: AsOf = None,
        valid_at: ValidAt = None,
    ) -> CommitmentConnection:
        if not 0 <= first <= MAX_PAGE_SIZE:
            raise ValueError(f"first must be between 0 and {MAX_PAGE_SIZE}, got {first}")
        view = await info.context.open_view(info, as_of, valid_at)
        today = view.today
        is_overdue = _overdue_condition(today)
        rank = case((is_overdue, 0), else_=1)
        due = func.coalesce(commitments.c.due_date, literal(NO_DUE_DATE, Date), type_=Date)
        conditions: list[ColumnElement[bool]] = [await view.plan_filter(commitments.c.plan_id)]
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
        if due_after is not None:
            conditions.append(commitments.c.due_date >= due_after)
        if due_before is not None:
            conditions.append(commitments.c.due_date <= due_before)
        total = await view.scalar(select(func.count()).select_from(commitments).where(*conditions))
        if after is not None:
            conditions.append(tuple_(rank, due, commitments.c.plan_id, commitments.c.code)
                              > tuple_(*(literal(part) for part in decode_cursor(after))))
        rows = await view.rows(
            select(commitments, rank.label("sort_rank"), due.label("sort_due")).where(*conditions)
            .order_by(rank, due, commitments.c.plan_id, commitments.c.code).limit(first + 1)
        )
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
    async def organisations(self, info: Context, type: str | None = None, as_of: AsOf = None,
                            valid_at: ValidAt = None) -> list[Organisation]:
        view = await info.context.open_view(info, as_of, valid_at)
        query = select(organisations).order_by(organisations.c.code)
        if type is not None:
            query = query.where(organisations.c.type == normalised(type))
        return [Organisation.from_row(row) for row in await view.rows(query)]

    @strawberry.field(description="One organisation by its code (e.g. kedv).")
    async def organisation(self, info: Context, code: str, as_of: AsOf = None,
                           valid_at: ValidAt = None) -> Organisation | None:
        view = await info.context.open_view(info, as_of, valid_at)
        row = await view.first(select(organisations).where(organisations.c.code == code))
        return None if row is None else Organisation.from_row(row)

    @strawberry.field(description="Protocols, optionally those an organisation is party to, in one status or of "
                      "one kind.")
    async def protocols(self, info: Context, party: str | None = None, status: str | None = None,
                        kind: str | None = None, as_of: AsOf = None, valid_at: ValidAt = None) -> list[Protocol]:
        view = await info.context.open_view(info, as_of, valid_at)
        query = select(protocols).order_by(protocols.c.code)
        if party is not None:
            query = query.where(protocols.c.id.in_(
                select(protocol_parties.c.protocol_id).where(protocol_parties.c.organisation_code == party)
            ))
        if status is not None:
            query = query.where(protocols.c.status == normalised(status))
        if kind is not None:
            query = query.where(protocols.c.kind == normalised(kind))
        return [Protocol.from_row(row) for row in await view.rows(query)]

    @strawberry.field(description="Purchases, by municipality, cooperative (codes) or protocol id.")
    async def purchases(self, info: Context, municipality: str | None = None, cooperative: str | None = None,
                        protocol: strawberry.ID | None = None, as_of: AsOf = None,
                        valid_at: ValidAt = None) -> list[Purchase]:
        view = await info.context.open_view(info, as_of, valid_at)
        conditions: list[Any] = []
        if municipality is not None:
            conditions.append(purchases.c.municipality_code == municipality)
        if cooperative is not None:
            conditions.append(purchases.c.cooperative_code == cooperative)
        if protocol is not None:
            conditions.append(purchases.c.protocol_id == str(protocol))
        query = select(purchases).where(*conditions).order_by(purchases.c.purchased_on, purchases.c.id)
        return [Purchase.from_row(row) for row in await view.rows(query)]

    @strawberry.field(description="The published reports of a plan, newest first.")
    async def reports(self, info: Context, plan_id: strawberry.ID) -> list[Report]:
        view = info.context.present
        rows = await view.rows(select(reports).where(reports.c.plan_id == str(plan_id),
                                                     await view.plan_filter(reports.c.plan_id))
                               .order_by(reports.c.recorded_at.desc(), reports.c.code))
        return [Report.from_row(row) for row in rows]

    @strawberry.field(description="One published report of a plan, by its code: its contents as published and "
                      "the differences Izlek knows of since.")
    async def report(self, info: Context, plan_id: strawberry.ID, code: str) -> Report | None:
        view = info.context.present
        row = await view.first(select(reports).where(reports.c.plan_id == str(plan_id), reports.c.code == code,
                                                     await view.plan_filter(reports.c.plan_id)))
        return None if row is None else Report.from_row(row)

    @strawberry.field(description="Every recorded change of one entity (any service), oldest first, each with "
                      "the fields it changed; with `asOf`, only the changes recorded by then.")
    async def history(self, info: Context, id: strawberry.ID, as_of: AsOf = None) -> list[HistoryEntry]:
        view = info.context.present
        conditions = [entity_events.c.entity_id == str(id), await view.plan_filter(entity_events.c.plan_id)]
        if as_of is not None:
            conditions.append(entity_events.c.recorded_at <= as_of)
        rows = await view.rows(select(entity_events).where(*conditions)
                               .order_by(entity_events.c.version, entity_events.c.recorded_at))
        return await asyncio.to_thread(entries_with_changes, rows)

    @strawberry.field(description="Every change recorded in a span of time, oldest first: by one author (their "
                      "subject, e.g. an e-mail address), of one organisation's people, of one plan, or all.")
    async def changes(
        self,
        info: Context,
        by: str | None = None,
        organisation: str | None = None,
        plan_id: strawberry.ID | None = None,
        from_: Annotated[PointInTime | None, strawberry.argument(name="from", description="Recorded at or "
                                                                 "after this time.")] = None,
        to: Annotated[PointInTime | None, strawberry.argument(description="Recorded at or before this "
                                                              "time.")] = None,
        first: int = 100,
        after: str | None = None,
    ) -> ChangeConnection:
        if not 0 <= first <= MAX_PAGE_SIZE:
            raise ValueError(f"first must be between 0 and {MAX_PAGE_SIZE}, got {first}")
        view = info.context.present
        conditions = [await view.plan_filter(entity_events.c.plan_id)]
        if by is not None:
            conditions.append(entity_events.c.actor == by)
        if organisation is not None:
            conditions.append(entity_events.c.actor_org == organisation)
        if plan_id is not None:
            conditions.append(entity_events.c.plan_id == str(plan_id))
        if from_ is not None:
            conditions.append(entity_events.c.recorded_at >= from_)
        if to is not None:
            conditions.append(entity_events.c.recorded_at <= to)
        order = (entity_events.c.recorded_at, entity_events.c.service, entity_events.c.notification_id)
        if after is not None:
            recorded_at, service, notification_id = decode_change_cursor(after)
            conditions.append(tuple_(*order) > tuple_(literal(recorded_at, entity_events.c.recorded_at.type),
                                                      literal(service), literal(notification_id)))
        rows = await view.rows(select(entity_events).where(*conditions).order_by(*order).limit(first + 1))
        edges = [ChangeEdge(cursor=encode_change_cursor(row), node=HistoryEntry.from_row(row)) for row in rows[:first]]
        return ChangeConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=len(rows) > first, end_cursor=edges[-1].cursor if edges else None),
        )


def _as_date(value: Any) -> date:
    # SQLite returns the coalesced date as text.
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def build_schema(extensions: Sequence[Any] = ()) -> strawberry.Schema:
    """The gateway's schema, with the given strawberry extensions (e.g. the query limits of the settings)."""
    return strawberry.Schema(query=Query, subscription=Subscription, extensions=list(extensions),
                             config=StrawberryConfig(scalar_map=SCALARS))


schema = build_schema()
"""The schema without limits: for tests and the SDL."""


def sdl() -> str:
    """The schema in SDL; ``gateway/schema.graphql`` holds it followed by a newline (what ``print`` writes)."""
    return schema.as_str()


__all__ = ["InvalidCursor", "Query", "build_schema", "decode_cursor", "encode_cursor", "schema", "sdl"]
