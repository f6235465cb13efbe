"""The ``Report`` type: a published report of a plan, reproduced from the events, and what changed since.

A report is published by an event of the plans service (``ReportPublished``): its recorded time is the report's
"as of" and its valid time the report's date. Its contents are the plan's dashboard computed in that view of the
read models, so they are the same whenever they are asked for; ``contentsHash`` lets a reader check that. The
differences compare them with what Izlek knows now about the same date: later corrections and backfilled
changes, each listed in ``laterChanges``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from sqlalchemy import Row, or_, select
from strawberry.scalars import JSON

from izlek_gateway.graphql.history import HistoryEntry
from izlek_gateway.graphql.scalars import aware
from izlek_gateway.read_models.tables import entity_events
from izlek_gateway.temporal import corrects_every_valid_time


def plain(value: Any) -> Any:
    """A dashboard (dataclasses, decimals, dates) as plain JSON values; decimals stay exact text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def contents_hash(contents: Any) -> str:
    """SHA-256 of the contents as canonical JSON (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(contents, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


IDENTITY_KEYS = ("code", "id", "organisation_code", "period", "actor_group", "group", "status")
"""How items of a list are told apart when two versions of a dashboard are compared."""


def differences(published: Any, now: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Every leaf that differs between two JSON documents, as (path, published value, current value).

    Items of lists are matched by their identity (``code``, ``id``...) where they have one, so that an added
    criterion shows as one difference rather than a shift of every later one.
    """
    if isinstance(published, dict) and isinstance(now, dict):
        found = []
        for key in [*published, *(k for k in now if k not in published)]:
            found += differences(published.get(key), now.get(key), f"{path}.{key}" if path else str(key))
        return found
    if isinstance(published, list) and isinstance(now, list):
        before, after = _keyed(published), _keyed(now)
        if before is not None and after is not None:
            found = []
            for key in [*before, *(k for k in after if k not in before)]:
                found += differences(before.get(key), after.get(key), f"{path}[{key}]")
            return found
        if len(published) == len(now):
            found = []
            for index, (old, new) in enumerate(zip(published, now, strict=True)):
                found += differences(old, new, f"{path}[{index}]")
            return found
    return [] if published == now else [(path, published, now)]


def _keyed(items: list[Any]) -> dict[str, Any] | None:
    for key in IDENTITY_KEYS:
        if items and all(isinstance(item, dict) and item.get(key) is not None for item in items):
            keyed = {str(item[key]): item for item in items}
            if len(keyed) == len(items):
                return keyed
    return None if items else {}


@strawberry.type(description="One value of a report that Izlek now knows differently.")
class ReportDifference:
    path: str = strawberry.field(description="Where in the contents, e.g. criteria[DI1-C1].value")
    published: JSON | None
    now: JSON | None


@strawberry.type(description="A published report of a plan: its dashboard as Izlek knew it when it was "
                 "published, valid at the report's date, and what is known differently since.")
class Report:
    plan_id: strawberry.ID
    code: str
    title: str
    note: str | None
    published_at: datetime = strawberry.field(description="When it was published: the report's asOf.")
    valid_at: datetime = strawberry.field(description="The report's date: the dashboard shows what was true then.")
    published_by: str
    published_by_role: str
    published_by_organisation: str | None

    @strawberry.field(description="The plan's dashboard as published (reproduced from the events).")
    async def contents(self, info: strawberry.Info) -> JSON | None:
        return await _dashboard(info, str(self.plan_id), as_of=self.published_at, valid_at=self.valid_at)

    @strawberry.field(description="SHA-256 of the contents as canonical JSON (sorted keys, compact, UTF-8).")
    async def contents_hash(self, info: strawberry.Info) -> str:
        return contents_hash(await self.contents(info))

    @strawberry.field(description="The plan's dashboard valid at the report's date, as Izlek knows it now.")
    async def contents_now(self, info: strawberry.Info) -> JSON | None:
        return await _dashboard(info, str(self.plan_id), as_of=None, valid_at=self.valid_at)

    @strawberry.field(description="Each value of the contents that is known differently now (corrections, "
                      "backfilled changes), with its published and current value.")
    async def differences(self, info: strawberry.Info) -> list[ReportDifference]:
        published = await self.contents(info)
        now = await self.contents_now(info)
        return [ReportDifference(path=path, published=old, now=new)
                for path, old, new in differences(published, now)]

    @strawberry.field(description="The changes recorded after publication that are valid by the report's date, "
                      "and corrections (which fix the record at every date): what makes the differences.")
    async def later_changes(self, info: strawberry.Info) -> list[HistoryEntry]:
        view = info.context.present
        rows = await view.rows(
            select(entity_events).where(
                entity_events.c.recorded_at > self.published_at,
                or_(entity_events.c.valid_at <= self.valid_at, corrects_every_valid_time()),
                or_(entity_events.c.plan_id == str(self.plan_id), entity_events.c.service != "plans"),
            ).order_by(entity_events.c.recorded_at, entity_events.c.service, entity_events.c.notification_id)
        )
        return [HistoryEntry.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: Row[Any]) -> Report:
        return cls(
            plan_id=strawberry.ID(row.plan_id), code=row.code, title=row.title, note=row.note,
            published_at=aware(row.recorded_at), valid_at=aware(row.valid_at), published_by=row.published_by,
            published_by_role=row.published_by_role, published_by_organisation=row.published_by_organisation,
        )


async def _dashboard(info: strawberry.Info, plan_id: str, *, as_of: datetime | None,
                     valid_at: datetime | None) -> Any:
    from izlek_gateway.dashboards import plan_dashboard
    from izlek_gateway.temporal import open_temporal_view

    context = info.context
    view = await open_temporal_view(context, as_of=as_of, valid_at=valid_at)
    dashboard = await view.run(plan_dashboard, plan_id, view.today)
    return None if dashboard is None else plain(dashboard)
