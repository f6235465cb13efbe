"""Views of the past: the read models as of a recorded time and valid at a valid time.

The audit trail (``entity_events``) keeps every projected event with its recorded and valid times, so any point
in time can be rebuilt: the events recorded by ``as_of`` and in effect by ``valid_at`` are replayed, in the order
they were recorded, through the same projections as the live read models, into an in-memory SQLite database
(a *replica*). An event whose entity does not exist at that point (its creation is valid later) is skipped with
it. A correction that is not backdated applies at every valid time: it fixes what was recorded, not the world. Replicas are kept, a few at a time, under the point in time and the trail's head, so repeated queries of the
same moment (a report, a page of a dashboard) replay once.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Hashable
from datetime import datetime
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import ColumnElement, Connection, Engine, and_, create_engine, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from izlek_common.turkish_time import today_in_turkey
from izlek_gateway.audit import event_of
from izlek_gateway.projections import HANDLERS, UnprojectableEvent
from izlek_gateway.read_models.tables import entity_events, metadata

if TYPE_CHECKING:
    from izlek_gateway.graphql.context import GatewayContext, View

log = structlog.get_logger(__name__)


def corrects_every_valid_time() -> ColumnElement[bool]:
    """A correction recorded without a valid time in the past says what should have been recorded all along:
    it applies at every valid time (where its entity exists). A backdated correction applies from its date."""
    return and_(entity_events.c.kind == "correction", entity_events.c.valid_at >= entity_events.c.recorded_at)


def replay(source: Connection, as_of: datetime | None, valid_at: datetime | None) -> Engine:
    """A new in-memory read-model database holding what `source`'s audit trail says at that point in time."""
    conditions = []
    if as_of is not None:
        conditions.append(entity_events.c.recorded_at <= as_of)
    if valid_at is not None:
        conditions.append(or_(entity_events.c.valid_at <= valid_at, corrects_every_valid_time()))
    rows = source.execute(select(entity_events).where(*conditions)
                          .order_by(entity_events.c.recorded_at, entity_events.c.service,
                                    entity_events.c.notification_id)).all()
    replica = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    metadata.create_all(replica)
    skipped = 0
    with Session(replica) as session, session.begin():
        for row in rows:
            projection = HANDLERS.get(row.event_type)
            if projection is None:
                skipped += 1
                continue
            try:
                with session.begin_nested():
                    projection.handler(session, event_of(row), projection.contract.model_validate(row.data))
            except (UnprojectableEvent, IntegrityError):
                skipped += 1  # its entity does not exist at this point in time
                continue
            session.execute(insert(entity_events).values(**row._mapping))
    log.debug("temporal.replayed", as_of=as_of, valid_at=valid_at, events=len(rows), skipped=skipped)
    return replica


class Replicas:
    """The replicas built lately, at most `capacity`, keyed by point in time and the audit trail's head."""

    def __init__(self, capacity: int = 8) -> None:
        self.capacity = capacity
        self._built: OrderedDict[Hashable, Engine] = OrderedDict()
        self._lock = threading.Lock()

    def connection(self, source: Connection, as_of: datetime | None, valid_at: datetime | None) -> Connection:
        """A read connection of the replica for that point in time (built now, or kept from before)."""
        head = source.execute(select(entity_events.c.service, func.max(entity_events.c.notification_id),
                                     func.count()).group_by(entity_events.c.service)).all()
        key = (str(source.engine.url), id(source.engine), as_of, valid_at, tuple(map(tuple, head)))
        with self._lock:
            replica = self._built.get(key)
            if replica is not None:
                self._built.move_to_end(key)
                return replica.connect()
        replica = replay(source, as_of, valid_at)
        with self._lock:
            self._built[key] = replica
            while len(self._built) > self.capacity:
                _, oldest = self._built.popitem(last=False)
                oldest.dispose()
        return replica.connect()


SHARED_REPLICAS = Replicas()
"""The replicas of every request that brings none of its own (``GatewayContext.temporal``)."""


async def open_temporal_view(context: GatewayContext, *, as_of: datetime | None,
                             valid_at: datetime | None) -> View:
    """The view of `context`'s caller at that point in time; "today" (for overdue) is the day of that time."""
    from izlek_gateway.graphql.context import View

    for name, moment in (("asOf", as_of), ("validAt", valid_at)):
        if moment is not None and moment.tzinfo is None:
            raise ValueError(f"{name} needs a time zone")
    replicas: Replicas = context.temporal or SHARED_REPLICAS
    async with context.present._lock:
        connection = await asyncio.to_thread(replicas.connection, context.connection, as_of, valid_at)
    context.on_close(connection.close)
    moment = valid_at or as_of
    today = min(context.today, today_in_turkey(moment)) if moment is not None else context.today
    return View(connection, today, context.scope, as_of=as_of, valid_at=valid_at)
