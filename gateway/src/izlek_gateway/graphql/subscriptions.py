"""Live changes: subscriptions to every change of one entity or of one plan's dashboard, resumable from a cursor.

The read models are the truth. A subscription reads the ``entity_events`` rows after its position, service by
service in stream order (``stream_seq``), hands each out with a cursor that holds the position in every service's
stream, and then waits: the projector of this process wakes it after each commit (`CommitSignal`), and it reads
again every ``poll_interval`` seconds anyway, for a projector that runs in another process.

The projector applies each stream in order, one transaction after the other, so the rows of one stream that a
reader sees are always a prefix of that stream: a position per stream leaves no gap, and resuming after a cursor
repeats nothing. Messages that were set aside (dead letters) have no row and are simply passed over.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import heapq
import json
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import strawberry
import structlog
from sqlalchemy import ColumnElement, Engine, Executable, Row, func, or_, select
from strawberry.fastapi import BaseContext
from strawberry.types import Info

from izlek_common.auth import Principal
from izlek_common.consumer import is_transient_error
from izlek_gateway.graphql.history import HistoryEntry
from izlek_gateway.graphql.scalars import aware
from izlek_gateway.graphql.scope import PlanScope
from izlek_gateway.projector import SERVICES
from izlek_gateway.read_models.tables import entity_events, plans

__all__ = [
    "ChangeFeed",
    "CommitSignal",
    "InvalidLiveCursor",
    "LiveChange",
    "NotVisible",
    "Selection",
    "Subscription",
    "SubscriptionContext",
    "decode_live_cursor",
    "encode_live_cursor",
]

logger = structlog.get_logger(__name__)

Position = Mapping[str, int]
"""The stream sequence of the last change delivered, per service (``{"plans": 12, "partners": 7}``)."""


class InvalidLiveCursor(ValueError):
    """An ``after`` cursor that no subscription of this gateway handed out."""


class NotVisible(LookupError):
    """The caller's token does not cover the plan (or the entity's plan) a subscription asks for."""


def encode_live_cursor(position: Position) -> str:
    """The opaque cursor of `position`: base64 (URL-safe) of ``{"plans": 12, "partners": 7}``."""
    text = json.dumps({service: int(position.get(service, 0)) for service in SERVICES}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode()


def decode_live_cursor(cursor: str) -> dict[str, int]:
    """The position a cursor of `encode_live_cursor` holds; a service it does not name is at 0."""
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidLiveCursor(f"not a cursor of a subscription: {cursor!r}") from exc
    if (not isinstance(position, dict) or not set(position) <= set(SERVICES)
            or not all(type(seq) is int and seq >= 0 for seq in position.values())):
        raise InvalidLiveCursor(f"not a cursor of a subscription: {cursor!r}")
    return {service: position.get(service, 0) for service in SERVICES}


class CommitSignal:
    """Wakes the subscriptions of this process when the projector has committed: `notify` is its
    ``on_committed``. Call `next_commit` before reading, then wait on the event it returns, so that a commit
    between the read and the wait is not missed."""

    def __init__(self) -> None:
        self._next = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def next_commit(self) -> asyncio.Event:
        """An event set at the next `notify`."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # an app served again, on a new loop: its events cannot be awaited there
            self._loop, self._next = loop, asyncio.Event()
        return self._next

    def notify(self, *_: object) -> None:
        """Something was committed (called on the event loop, with whatever the caller reports)."""
        committed, self._next = self._next, asyncio.Event()
        committed.set()


@strawberry.type(description="One change delivered by a subscription, with the cursor to resume after it.")
class LiveChange:
    cursor: str = strawberry.field(description="Pass it as `after` when subscribing again to receive every "
                                   "change after this one, once each.")
    entity_id: strawberry.ID
    plan_id: strawberry.ID | None = strawberry.field(description="The plan of a change of the plans service.")
    notification_id: int = strawberry.field(description="The event's number in its service (`change.service`).")
    stream_seq: int = strawberry.field(description="The event's position in its service's stream.")
    change: HistoryEntry

    @classmethod
    def from_row(cls, row: Row[Any], position: Position) -> LiveChange:
        return cls(cursor=encode_live_cursor(position), entity_id=strawberry.ID(row.entity_id),
                   plan_id=None if row.plan_id is None else strawberry.ID(row.plan_id),
                   notification_id=row.notification_id, stream_seq=row.stream_seq, change=HistoryEntry.from_row(row))


@dataclass(frozen=True)
class Selection:
    """Which ``entity_events`` rows a subscription delivers: the conditions per service (a service that is not
    named has none to deliver) and, for a restricted caller, only rows of no plan or of a plan they may see."""

    conditions: Mapping[str, Sequence[ColumnElement[bool]]]
    scope: PlanScope = field(default_factory=PlanScope)


class ChangeFeed:
    """Reads the changes that subscriptions deliver from the read models on `engine`, in worker threads."""

    def __init__(self, engine: Engine, signal: CommitSignal | None = None, *, poll_interval: float = 1.0,
                 batch_size: int = 200) -> None:
        if poll_interval <= 0 or batch_size < 1:
            raise ValueError("poll_interval must be positive and batch_size at least 1")
        self.engine = engine
        self.signal = signal or CommitSignal()
        self.poll_interval = poll_interval
        self.batch_size = batch_size

    async def rows(self, statement: Executable) -> list[Row[Any]]:
        """Every row `statement` returns, read in a worker thread."""
        def read() -> list[Row[Any]]:
            with self.engine.connect() as connection:
                return list(connection.execute(statement))

        return await asyncio.to_thread(read)

    async def position_now(self) -> dict[str, int]:
        """The position of the last change projected so far, per service."""
        def read() -> dict[str, int]:
            with self.engine.connect() as connection:
                # One lookup per service in ix_entity_events_service_stream_seq.
                return {service: int(connection.execute(
                    select(func.max(entity_events.c.stream_seq)).where(entity_events.c.service == service)
                ).scalar() or 0) for service in SERVICES}

        return await asyncio.to_thread(read)

    async def follow(self, selection: Selection, after: Position) -> AsyncGenerator[LiveChange, None]:
        """Every selected change after `after`, then each one as it is projected, until the caller stops."""
        position = {service: after.get(service, 0) for service in SERVICES}
        failures = 0
        while True:
            woken = self.signal.next_commit()
            try:
                batches = await asyncio.to_thread(self._read, selection, position)
                failures = 0
            except Exception as exc:
                if not is_transient_error(exc):
                    raise
                failures += 1
                logger.warning("subscription.read_failed", error=str(exc) or type(exc).__name__, failures=failures)
                await asyncio.sleep(min(self.poll_interval * failures, 30.0))
                continue
            # Each service's rows stay in stream order; between services, the earlier recorded comes first.
            for row in heapq.merge(*batches, key=_recorded_first):
                position[row.service] = row.stream_seq
                yield LiveChange.from_row(row, position)
            if any(len(batch) == self.batch_size for batch in batches):
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), self.poll_interval)

    def _read(self, selection: Selection, position: Position) -> list[list[Row[Any]]]:
        with self.engine.connect() as connection:
            scope: list[ColumnElement[bool]] = []
            if not selection.scope.is_unrestricted:
                visible = [r.id for r in connection.execute(select(plans.c.id, plans.c.code, plans.c.region))
                           if selection.scope.allows(r.code, r.region)]
                scope.append(or_(entity_events.c.plan_id.is_(None), entity_events.c.plan_id.in_(visible)))
            return [
                list(connection.execute(
                    select(entity_events)
                    .where(entity_events.c.service == service, entity_events.c.stream_seq > position[service],
                           *conditions, *scope)
                    .order_by(entity_events.c.stream_seq)
                    .limit(self.batch_size)
                ))
                for service, conditions in selection.conditions.items()
            ]


def _recorded_first(row: Row[Any]) -> tuple[datetime, str]:
    return aware(row.recorded_at), row.service


@dataclass
class SubscriptionContext(BaseContext):
    """The context of one websocket: where changes are read, and the caller, authenticated by the socket's
    ``connection_init`` message (`izlek_gateway.graphql.router.GatewayGraphQLRouter.on_ws_connect`)."""

    feed: ChangeFeed
    principal: Principal | None = None
    _ending: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        super().__init__()

    def end_at(self, moment: datetime, end: Callable[[], Awaitable[object]]) -> None:
        """Call `end` at `moment` (when the socket's token expires), unless the socket is closed first."""
        async def wait_then_end() -> None:
            await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))
            await end()

        self.close()
        self._ending = asyncio.create_task(wait_then_end(), name="subscriptions-token-expiry")

    def close(self) -> None:
        """The socket is closed: nothing is left to end."""
        if self._ending is not None:
            self._ending.cancel()
            self._ending = None


def _feed_and_scope(info: Info[Any, Any]) -> tuple[ChangeFeed, PlanScope]:
    context = info.context
    if not isinstance(context, SubscriptionContext):
        raise RuntimeError("subscriptions are served over graphql-transport-ws at /graphql")
    if context.principal is None:
        raise PermissionError("the websocket was not authenticated: send the bearer token in connection_init")
    return context.feed, PlanScope.of(context.principal)


async def _start(feed: ChangeFeed, after: str | None) -> Position:
    return decode_live_cursor(after) if after is not None else await feed.position_now()


After = Annotated[str | None, strawberry.argument(
    description="The cursor of the last change received: every later change follows, once each. Omitted, only "
    "the changes projected from now on.")]


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Every change of one entity (of any service), in stream order.")
    async def entity_changes(self, info: Info[Any, Any], id: strawberry.ID,
                             after: After = None) -> AsyncGenerator[LiveChange, None]:
        feed, scope = _feed_and_scope(info)
        entity_id = str(id)
        if not scope.is_unrestricted:
            rows = await feed.rows(
                select(plans.c.code, plans.c.region, entity_events.c.plan_id).distinct()
                .select_from(entity_events.outerjoin(plans, plans.c.id == entity_events.c.plan_id))
                .where(entity_events.c.entity_id == entity_id, entity_events.c.plan_id.is_not(None))
            )
            if any(row.code is None or not scope.allows(row.code, row.region) for row in rows):
                raise NotVisible(f"entity {entity_id} belongs to a plan that this token's scopes do not cover")
        start = await _start(feed, after)
        selection = Selection({service: [entity_events.c.entity_id == entity_id] for service in SERVICES}, scope)
        return feed.follow(selection, start)

    @strawberry.subscription(description="Every change that can move one plan's dashboard: the plan's own "
                             "(its goals, targets, commitments, criteria, indicators) and every change of the "
                             "partners service (organisations, protocols, purchases: coverage and quotas).")
    async def plan_changes(self, info: Info[Any, Any], plan_id: strawberry.ID,
                           after: After = None) -> AsyncGenerator[LiveChange, None]:
        feed, scope = _feed_and_scope(info)
        plan = str(plan_id)
        found = await feed.rows(select(plans.c.code, plans.c.region).where(plans.c.id == plan))
        if not found or not scope.allows(found[0].code, found[0].region):
            raise NotVisible(f"no plan {plan}" if scope.is_unrestricted
                             else f"no plan {plan} among the plans this token's scopes cover")
        start = await _start(feed, after)
        selection = Selection({"plans": [entity_events.c.plan_id == plan], "partners": []})
        return feed.follow(selection, start)
