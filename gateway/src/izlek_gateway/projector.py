"""The projector: every event of the service streams, applied once to the read models.

`project` is the pure, synchronous part: one CloudEvent, one handler, one audit row, in the caller's
transaction. The consumers gather a batch's rows in memory and write them in bulk at its end (`begin_batch`,
`end_batch`, `izlek_gateway.projections.rows`). `Projector` runs one `TrackedConsumer` per stream, so each message's effects commit with the
consumer's position; a message that cannot be projected (not JSON, no contract, no handler, a change to an entity
never seen) raises and is set aside in ``consumer_dead_letters`` while the rest goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError
from sqlalchemy import Engine, Table
from sqlalchemy.orm import Session

from izlek_common.cloudevents import CloudEvent
from izlek_common.consumer import TrackedConsumer
from izlek_common.jetstream import durable_name_for, stream_name_for
from izlek_gateway.projections import HANDLERS, UnknownEventType
from izlek_gateway.projections.registry import insert_rows, value_of
from izlek_gateway.projections.rows import batched_rows
from izlek_gateway.read_models.database import drop_database, upgrade_database
from izlek_gateway.read_models.tables import (
    commitments,
    criteria,
    entity_events,
    indicators,
    organisations,
    people,
    plans,
    protocols,
    purchases,
)

__all__ = ["CONSUMER", "LEASE", "SERVICES", "Projector", "RebuildProgress", "project", "project_message"]

logger = structlog.get_logger(__name__)

CONSUMER = "gateway"
SERVICES = ("plans", "partners")
"""The services whose streams the gateway projects, in the order a rebuild replays them."""

LEASE = "gateway-projector"
"""The lease (`izlek_common.lease`) that keeps one projector active among the gateway's processes."""

RebuildProgress = Callable[[int, int, str], None]
"""Called with (messages applied, messages in the streams, stream being replayed)."""


def project(session: Session, event: CloudEvent, *, stream_seq: int | None = None) -> None:
    """Apply `event` to the read models and record it in ``entity_events``; does not commit.

    Raises `UnknownEventType` when no handler knows its type and pydantic's ``ValidationError`` when its data
    does not fit the contract.
    """
    projection = HANDLERS.get(event.type)
    if projection is None:
        raise UnknownEventType(f"the gateway projects no event of type {event.type!r}")
    data = projection.contract.model_validate(event.data)
    projection.handler(session, event, data)
    service, aggregate = event.type.split(".")[1:3]
    insert_rows(session, entity_events, [dict(
        service=service,
        notification_id=event.notificationid,
        stream_seq=stream_seq,
        entity_type=aggregate,
        entity_id=event.subject,
        plan_id=_plan_of(session, service, aggregate, event.subject, data),
        version=event.aggregateversion,
        event_type=event.type,
        kind=event.kind,
        actor=event.actor,
        actor_role=event.actorrole,
        actor_org=event.actororg,
        actor_name=event.actorname,
        recorded_at=event.time,
        valid_at=event.validtime,
        valid_precision=event.validprecision,
        reason=event.reason,
        correlation_id=event.correlationid,
        data=data.model_dump(mode="json"),
    )])


PLAN_BOUND_TABLES = {"commitment": commitments, "criterion": criteria, "indicator": indicators}


def _plan_of(session: Session, service: str, aggregate: str, subject: str, data: Any) -> str | None:
    """The plan an event of the plans service belongs to; None for other services."""
    if service != "plans":
        return None
    if aggregate == "plan":
        return subject
    if (plan_id := getattr(data, "plan_id", None)) is not None:
        return str(plan_id)
    table = PLAN_BOUND_TABLES.get(aggregate)
    if table is None:
        return None
    return value_of(session, table, {"id": subject}, "plan_id")


def project_message(session: Session, message: Msg) -> None:
    """The consumers' message handler: parse the CloudEvent and project it."""
    project(session, CloudEvent.from_json_bytes(message.data), stream_seq=message.metadata.sequence.stream)


ENTITY_TABLES = {"plan": plans, "commitment": commitments, "criterion": criteria, "indicator": indicators,
                 "organisation": organisations, "person": people, "protocol": protocols, "purchase": purchases}
"""The row of each kind of entity, named by the events' subject."""


def begin_batch(session: Session, messages: Sequence[Msg]) -> None:
    """The consumers' first step in a batch's transaction: gather its writes in memory (`BatchedRows`), and read
    the rows of the entities its events are about, one query per table."""
    rows = batched_rows(session)
    ids: dict[Table, set[str]] = defaultdict(set)
    for message in messages:
        headers = message.headers or {}
        kind = headers.get("Ce-Type", "").split(".")[2:3]
        table = ENTITY_TABLES.get(kind[0]) if kind else None
        if table is not None and headers.get("Ce-Subject"):
            ids[table].add(headers["Ce-Subject"])
    for table, entity_ids in ids.items():
        rows.load(table, entity_ids)


def end_batch(session: Session, messages: Sequence[Msg]) -> None:
    """The consumers' last step in a batch's transaction: write what its events changed, in bulk."""
    batched_rows(session).flush()


class Projector:
    """Keeps the read models in step with the streams of `services`, one durable consumer each
    (``gateway-from-plans``, ``gateway-from-partners``). One projector per read-model database at a time.
    `on_committed(stream, position)` is called on the event loop after each commit (it wakes the subscriptions)."""

    REBUILD_BATCH_SIZE = 2000
    """Messages per transaction in a rebuild: nobody waits for any one of them, so batches are large."""

    def __init__(self, nats_client: Client, engine: Engine, *, services: Sequence[str] = SERVICES,
                 batch_size: int = 200, fetch_timeout: float = 1.0,
                 on_committed: Callable[[str, int], object] | None = None) -> None:
        self.nats_client = nats_client
        self.engine = engine
        self.services = services
        self.fetch_timeout = fetch_timeout
        self.on_committed = on_committed
        self.consumers = self._consumers(batch_size)

    def _consumers(self, batch_size: int) -> list[TrackedConsumer]:
        return [
            TrackedConsumer(self.nats_client, self.engine, stream=stream_name_for(service),
                            durable=durable_name_for(CONSUMER, service), handler=project_message,
                            before_batch=begin_batch, after_batch=end_batch,
                            batch_size=batch_size, fetch_timeout=self.fetch_timeout,
                            on_committed=self.on_committed and partial(self.on_committed, stream_name_for(service)))
            for service in self.services
        ]

    async def run(self, stop: asyncio.Event) -> None:
        """Project every stream until `stop` is set."""
        await asyncio.gather(*(consumer.run(stop) for consumer in self.consumers))

    async def wait_caught_up(self, timeout: float = 60.0) -> dict[str, int]:
        """Wait until every consumer has applied its stream up to its last message (as of the call); return
        the position per stream. The projector must be running (`run`)."""
        positions = await asyncio.gather(*(consumer.wait_caught_up(timeout) for consumer in self.consumers))
        return {consumer.stream: position for consumer, position in zip(self.consumers, positions, strict=True)}

    async def run_until_caught_up(self, timeout: float = 60.0) -> dict[str, int]:
        """Run until every stream is applied up to its last message (as of the call); return the positions."""
        stop = asyncio.Event()
        running = asyncio.create_task(self.run(stop))
        try:
            return await self.wait_caught_up(timeout)
        finally:
            stop.set()
            await running

    async def rebuild(self, progress: RebuildProgress | None = None, timeout: float = 600.0) -> dict[str, int]:
        """Drop every read model, the consumers' positions and dead letters and their durables, then replay
        the streams from their first message. The projector must not be running elsewhere meanwhile."""
        js = self.nats_client.jetstream()
        for consumer in self.consumers:
            with contextlib.suppress(NotFoundError):
                await js.delete_consumer(consumer.stream, consumer.durable)
        await asyncio.to_thread(drop_database, self.engine)
        await asyncio.to_thread(upgrade_database, self.engine)
        totals = {consumer.stream: await self._stream_length(consumer.stream) for consumer in self.consumers}
        logger.info("projector.rebuilding", streams=totals)
        live_consumers, self.consumers = self.consumers, self._consumers(
            max(self.REBUILD_BATCH_SIZE, max(consumer.batch_size for consumer in self.consumers)))
        stop = asyncio.Event()
        running = asyncio.create_task(self.run(stop))
        try:
            async with asyncio.timeout(timeout):
                await self._report_until_done(totals, progress)
        finally:
            stop.set()
            await running
            self.consumers = live_consumers
        positions = {consumer.stream: consumer.position() for consumer in self.consumers}
        logger.info("projector.rebuilt", positions=positions)
        return positions

    async def _report_until_done(self, totals: dict[str, int], progress: RebuildProgress | None) -> None:
        total = sum(totals.values())
        while True:
            positions = await asyncio.to_thread(
                lambda: {consumer.stream: consumer.position() for consumer in self.consumers}
            )
            applied = sum(min(positions[stream], totals[stream]) for stream in totals)
            current = next((s for s in totals if positions[s] < totals[s]), next(reversed(totals), ""))
            if progress is not None:
                progress(applied, total, current)
            if applied >= total:
                return
            await asyncio.sleep(0.1)

    async def _stream_length(self, stream: str) -> int:
        try:
            info = await self.nats_client.jetstream().stream_info(stream)
        except NotFoundError:
            return 0
        return int(info.state.last_seq)
