"""The per-request context: the caller, what they may see, and the views of the read models they query.

A *view* is the read models at one point in time: the present, or as of a recorded time (`asOf`) and valid at
a valid time (`validAt`). Each root field of a query chooses its view (`open_view`; a nested field may choose
another for its own subtree, as a report's contents do), and every field under it reads through the same view
(`view(info)`), so ``{ now: plan(id: …) { … } then: plan(id: …, asOf: …) { … } }``
answers each half from its own point in time.

Loaders batch the nested fields of one view into one query per kind (goals, targets and commitments by plan,
organisations by code, parties by protocol), so a list of plans costs a fixed number of queries. SQL runs in a
worker thread, one statement at a time per view, never on the event loop.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from graphql.pyutils import Path
from sqlalchemy import ColumnElement, Connection, Executable, Row, Table, or_, select, true
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext
from strawberry.types import Info

from izlek_common.auth import Principal
from izlek_common.turkish_time import today_in_turkey
from izlek_gateway.graphql.commitment import Commitment
from izlek_gateway.graphql.organisation import Organisation
from izlek_gateway.graphql.plan import Goal, Target
from izlek_gateway.graphql.protocol import ProtocolParty
from izlek_gateway.graphql.scope import PlanScope
from izlek_gateway.read_models.tables import (
    commitments,
    entity_events,
    goals,
    organisations,
    plans,
    protocol_parties,
    targets,
)

T = TypeVar("T")


@dataclass
class View:
    """The read models at one point in time. ``as_of`` and ``valid_at`` are None for the present."""

    connection: Connection
    today: date
    scope: PlanScope
    as_of: datetime | None = None
    valid_at: datetime | None = None
    loaders: Loaders = field(init=False)
    _lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)
    _visible_plan_ids: frozenset[str] | None = field(init=False, default=None)
    _loaders: dict[str, DataLoader[Any, Any]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.loaders = Loaders.for_view(self)

    @property
    def is_present(self) -> bool:
        return self.as_of is None and self.valid_at is None

    def loader(self, name: str, batch: Callable[[View, list[Any]], Awaitable[list[Any]]]) -> DataLoader[Any, Any]:
        """This view's DataLoader called `name`, made on first use from `batch(view, keys)`."""
        made = self._loaders.get(name)
        if made is None:
            made = self._loaders[name] = DataLoader(lambda keys: batch(self, list(keys)))
        return made

    async def rows(self, statement: Executable) -> list[Row[Any]]:
        """Every row `statement` returns, read in a worker thread."""
        async with self._lock:
            return await asyncio.to_thread(lambda: list(self.connection.execute(statement)))

    async def first(self, statement: Executable) -> Row[Any] | None:
        rows = await self.rows(statement)
        return rows[0] if rows else None

    async def visible_plan_ids(self) -> frozenset[str] | None:
        """The ids of the plans the caller may see, or None when they may see every plan."""
        if self.scope.is_unrestricted:
            return None
        if self._visible_plan_ids is None:
            rows = await self.rows(select(plans.c.id, plans.c.code, plans.c.region))
            self._visible_plan_ids = frozenset(r.id for r in rows if self.scope.allows(r.code, r.region))
        return self._visible_plan_ids

    async def plan_filter(self, plan_id: ColumnElement[Any]) -> ColumnElement[bool]:
        """A condition on a ``plan_id`` column: rows of visible plans, and rows of no plan."""
        visible = await self.visible_plan_ids()
        if visible is None:
            return true()
        return or_(plan_id.is_(None), plan_id.in_(sorted(visible)))

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """``function(connection, *args)`` in a worker thread: synchronous code over this view's read models."""
        async with self._lock:
            return await asyncio.to_thread(function, self.connection, *args)

    async def scalar(self, statement: Executable) -> Any:
        async with self._lock:
            return await asyncio.to_thread(lambda: self.connection.execute(statement).scalar())


def _grouped(view: View, table: Table, key: str, order: Sequence[Any],
             convert: Callable[[Any], T]) -> Callable[[list[str]], Any]:
    async def load(keys: list[str]) -> list[list[T]]:
        rows = await view.rows(select(table).where(table.c[key].in_(keys)).order_by(*order))
        groups: dict[str, list[T]] = defaultdict(list)
        for row in rows:
            groups[row._mapping[key]].append(convert(row))
        return [groups.get(k, []) for k in keys]

    return load


@dataclass
class Loaders:
    """The DataLoaders of one view, keyed by plan id, organisation code or protocol id."""

    goals_by_plan: DataLoader[str, list[Goal]]
    targets_by_plan: DataLoader[str, list[Target]]
    commitments_by_plan: DataLoader[str, list[Commitment]]
    parties_by_protocol: DataLoader[str, list[ProtocolParty]]
    organisation_by_code: DataLoader[str, Organisation | None]

    @classmethod
    def for_view(cls, view: View) -> Loaders:
        async def organisations_by_code(codes: list[str]) -> list[Organisation | None]:
            rows = await view.rows(select(organisations).where(organisations.c.code.in_(codes)))
            found = {row.code: Organisation.from_row(row) for row in rows}
            return [found.get(code) for code in codes]

        return cls(
            goals_by_plan=DataLoader(_grouped(view, goals, "plan_id", [goals.c.number, goals.c.code],
                                              Goal.from_row)),
            targets_by_plan=DataLoader(_grouped(view, targets, "plan_id", [targets.c.code], Target.from_row)),
            commitments_by_plan=DataLoader(_grouped(
                view, commitments, "plan_id",
                [commitments.c.target_code, commitments.c.position, commitments.c.code],
                lambda row: Commitment.from_row(row, view.today),
            )),
            parties_by_protocol=DataLoader(_grouped(
                view, protocol_parties, "protocol_id",
                [protocol_parties.c.role, protocol_parties.c.organisation_code], ProtocolParty.from_row,
            )),
            organisation_by_code=DataLoader(organisations_by_code),
        )


@dataclass
class GatewayContext(BaseContext):
    """What every resolver of one request sees. The connection is only read from and never committed.

    ``temporal`` opens views of the past (see `izlek_gateway.temporal`); without one, this context builds its
    own from the connection's audit trail.
    """

    connection: Connection
    principal: Principal
    today: date = field(default_factory=today_in_turkey)
    temporal: Any = None
    scope: PlanScope = field(init=False)
    present: View = field(init=False)
    _views_by_path: dict[tuple[str | int, ...], View] = field(init=False, default_factory=dict)
    _on_close: list[Callable[[], object]] = field(init=False, default_factory=list)
    _scheduled: View | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        super().__init__()
        self.scope = PlanScope.of(self.principal)
        self.present = View(self.connection, self.today, self.scope)

    def on_close(self, callback: Callable[[], object]) -> None:
        """Call `callback` when the request ends (`close`)."""
        self._on_close.append(callback)

    def close(self) -> None:
        while self._on_close:
            self._on_close.pop()()

    @property
    def loaders(self) -> Loaders:
        """The present view's loaders."""
        return self.present.loaders

    def view(self, info: Info[Any, Any]) -> View:
        """The view that the nearest field above `info` chose (the present unless one asked for another)."""
        path: Path | None = info.path
        while path is not None:
            view = self._views_by_path.get(_keys(path))
            if view is not None:
                return view
            path = path.prev
        return self.present

    async def open_view(self, info: Info[Any, Any], as_of: datetime | None = None,
                        valid_at: datetime | None = None) -> View:
        """Choose the view of the field of `info` (a root field, or e.g. a report's contents) for every field
        under it, and return it."""
        view = await self.view_at(as_of, valid_at)
        self._views_by_path[_keys(info.path)] = view
        return view

    async def view_at(self, as_of: datetime | None = None, valid_at: datetime | None = None) -> View:
        """The view of that point in time (the present when both are None), as a root field would read it;
        for readers outside GraphQL, such as the file exports."""
        if as_of is None and valid_at is None:
            return await self._present_or_before_scheduled_changes()
        from izlek_gateway.temporal import open_temporal_view

        return await open_temporal_view(self, as_of=as_of, valid_at=valid_at)


    async def _present_or_before_scheduled_changes(self) -> View:
        """The present tables, unless changes scheduled for later are recorded: those take effect on their
        date, so the present is then the view valid now (to the minute, so that it is replayed once a minute)."""
        if self._scheduled is None:
            now = datetime.now(UTC)
            later = await self.present.scalar(select(entity_events.c.valid_at)
                                              .where(entity_events.c.valid_at > now).limit(1))
            if later is None:
                self._scheduled = self.present
            else:
                from izlek_gateway.temporal import open_temporal_view

                self._scheduled = await open_temporal_view(
                    self, as_of=None, valid_at=now.replace(second=0, microsecond=0) + timedelta(minutes=1))
        return self._scheduled


def _keys(path: Path) -> tuple[str | int, ...]:
    keys: list[str | int] = []
    node: Path | None = path
    while node is not None:
        keys.append(node.key)
        node = node.prev
    return tuple(reversed(keys))


GatewayInfo = Info[GatewayContext, None]
