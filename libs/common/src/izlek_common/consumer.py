"""A durable JetStream pull consumer that applies each message exactly once to a SQL database.

The consumer records, per durable name, the stream sequence of the last message it applied
(`consumer_positions`). That position is written in the same transaction as the handler's effects and the
message is acknowledged only after the commit, so a redelivered message (sequence at or below the position) is
acknowledged without a second effect. The database position, not JetStream's acknowledgement state, is the
truth: whenever the two may disagree (at start, after an error, after a reconnection) the durable consumer is
re-created to deliver from the stored position onwards, which also keeps delivery in stream order.

A message whose handler raises is set aside in `consumer_dead_letters`, in the same transaction that moves the
position past it, and the consumer carries on. Errors that are not the message's fault (NATS timeouts or
disconnections, database `OperationalError`s) are retried with back-off instead.

One durable name must have one running `TrackedConsumer` at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import traceback
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

import nats.errors
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, ConsumerInfo, DeliverPolicy
from nats.js.errors import NotFoundError
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from izlek_common.logging import NATS_CORRELATION_ID_HEADER, correlation_scope

__all__ = [
    "BatchHook",
    "DeadLetter",
    "Disposition",
    "MessageHandler",
    "TrackedConsumer",
    "consumer_dead_letters",
    "consumer_positions",
    "dead_letters",
    "ensure_tracking_table",
    "is_transient_error",
    "stored_position",
    "tracking_metadata",
]

logger = structlog.get_logger(__name__)

WAITING_FOR_MORE = 0.002
"""Seconds a fetch that has its first message waits for the server to say what else is there."""

MessageHandler = Callable[[Session, Msg], None]
"""Applies one message's effects through the given session. Runs in a worker thread; must not commit."""

BatchHook = Callable[[Session, Sequence[Msg]], None]
"""Called in the transaction of a batch of messages, before or after their handler calls (in a worker thread):
lets a handler gather its writes over the batch and make them in bulk at its end. Must not commit."""

tracking_metadata = MetaData()
"""The tables of consumer tracking; include it in the Alembic `target_metadata` of a service."""

consumer_positions = Table(
    "consumer_positions",
    tracking_metadata,
    Column("consumer", String(255), primary_key=True),
    Column("stream", String(255), nullable=False),
    Column("last_stream_seq", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

consumer_dead_letters = Table(
    "consumer_dead_letters",
    tracking_metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("consumer", String(255), nullable=False),
    Column("stream", String(255), nullable=False),
    Column("stream_seq", BigInteger, nullable=False),
    Column("subject", String(1024), nullable=False),
    Column("headers", JSON, nullable=True),
    Column("data", LargeBinary, nullable=False),
    Column("error", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_consumer_dead_letters_consumer_seq", "consumer", "stream_seq"),
)


def ensure_tracking_table(engine: Engine) -> None:
    """Create `consumer_positions` and `consumer_dead_letters` if they do not exist yet."""
    tracking_metadata.create_all(engine, checkfirst=True)


def stored_position(engine: Engine, consumer: str) -> int:
    """The stream sequence of the last message `consumer` applied; 0 if it has applied none."""
    with engine.connect() as connection:
        value = connection.execute(
            select(consumer_positions.c.last_stream_seq).where(consumer_positions.c.consumer == consumer)
        ).scalar_one_or_none()
    return int(value or 0)


@dataclasses.dataclass(frozen=True)
class DeadLetter:
    """A message a consumer set aside because its handler raised."""

    consumer: str
    stream: str
    stream_seq: int
    subject: str
    headers: dict[str, str] | None
    data: bytes
    error: str
    created_at: datetime


def dead_letters(engine: Engine, consumer: str | None = None) -> list[DeadLetter]:
    """The messages set aside (by `consumer`, or by all consumers), oldest first."""
    table = consumer_dead_letters
    query = select(
        table.c.consumer,
        table.c.stream,
        table.c.stream_seq,
        table.c.subject,
        table.c.headers,
        table.c.data,
        table.c.error,
        table.c.created_at,
    ).order_by(table.c.id)
    if consumer is not None:
        query = query.where(table.c.consumer == consumer)
    with engine.connect() as connection:
        return [DeadLetter(**row._asdict()) for row in connection.execute(query)]


def is_transient_error(exc: BaseException) -> bool:
    """Whether `exc` is a failure of the infrastructure rather than of the message (so worth retrying)."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(
        exc,
        sa_exc.OperationalError
        | sa_exc.InterfaceError
        | sa_exc.DisconnectionError
        | sa_exc.TimeoutError
        | nats.errors.Error
        | asyncio.TimeoutError
        | ConnectionError,
    )


class Disposition(enum.Enum):
    """What applying a message did."""

    APPLIED = "applied"
    SKIPPED = "skipped"  # at or below the stored position: applied before, this is a redelivery
    DEAD_LETTERED = "dead_lettered"


class _ConnectionClosed(RuntimeError):
    pass


class TrackedConsumer:
    """A durable pull consumer on `stream` whose handler's effects and position commit together.

    `handler(session, msg)` runs in a worker thread inside a transaction that also records the message's
    stream sequence as this consumer's position; the batch is acknowledged after the commit, with one
    acknowledgement (the durable acknowledges all messages up to the one acknowledged). Messages are applied in
    stream order, a whole fetched batch per transaction when every handler call succeeds; `before_batch` and
    `after_batch`, if given, are called in that transaction before and after the handler's calls.
    `counts` tallies what became of the messages this instance handled. `on_committed(position)`, if given, is
    called on the event loop after each commit that moved the position (e.g. to wake readers of the effects).
    """

    def __init__(
        self,
        nats_client: Client | JetStreamContext,
        engine: Engine,
        *,
        stream: str,
        durable: str,
        handler: MessageHandler,
        filter_subject: str | None = None,
        batch_size: int = 100,
        fetch_timeout: float = 1.0,
        ack_wait: float = 30.0,
        max_ack_pending: int = 1000,
        max_backoff: float = 5.0,
        on_committed: Callable[[int], object] | None = None,
        before_batch: BatchHook | None = None,
        after_batch: BatchHook | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._js = nats_client.jetstream() if isinstance(nats_client, Client) else nats_client
        self._nc: Client = self._js._nc
        self.engine = engine
        self.stream = stream
        self.durable = durable
        self.handler = handler
        self.filter_subject = filter_subject
        self.batch_size = batch_size
        self.fetch_timeout = fetch_timeout
        self.ack_wait = ack_wait
        # Room for the batch being applied and the next one, fetched meanwhile.
        self.max_ack_pending = max(max_ack_pending, 2 * batch_size)
        self.max_backoff = max_backoff
        self.on_committed = on_committed
        self.before_batch = before_batch
        self.after_batch = after_batch
        self.counts: dict[Disposition, int] = {disposition: 0 for disposition in Disposition}
        self._subscription: JetStreamContext.PullSubscription | None = None
        self._reconnects_at_bind = 0
        self._log = logger.bind(consumer=durable, stream=stream)

    # -- public API -----------------------------------------------------------------------------------------

    def position(self) -> int:
        """The stream sequence of the last message this consumer applied (0 if none)."""
        return stored_position(self.engine, self.durable)

    async def run(self, stop_event: asyncio.Event | None = None) -> None:
        """Fetch and apply messages until `stop_event` is set (or the task is cancelled).

        Transient failures are logged and retried with back-off; a message whose handler fails is set aside.
        Returns early only if the NATS connection is closed for good.
        """
        stop = stop_event if stop_event is not None else asyncio.Event()
        delay = 0.1
        next_batch: asyncio.Future[list[Msg]] | None = None
        self._log.info("consumer.started", filter_subject=self.filter_subject)
        try:
            while not stop.is_set():
                try:
                    if self._subscription is None or self._reconnected_since_bind():
                        await _discard(next_batch)
                        next_batch = None
                        await self.bind()
                    messages = await (next_batch if next_batch is not None else self._fetch(stop))
                    next_batch = None
                    if messages:
                        # The next batch is fetched while this one is applied; it waits for this one's commit.
                        next_batch = asyncio.ensure_future(self._fetch(stop))
                        await self._process(messages)
                    delay = 0.1
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # Messages fetched ahead are left unacknowledged: re-binding delivers them again.
                    await _discard(next_batch)
                    next_batch = None
                    if self._nc.is_closed:
                        self._log.error("consumer.connection_closed")
                        return
                    if is_transient_error(exc):
                        self._log.warning(
                            "consumer.retrying", error=str(exc) or type(exc).__name__, retry_in=delay
                        )
                    else:
                        self._log.exception("consumer.failed", retry_in=delay)
                    await self._drop_subscription()
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(stop.wait(), delay)
                    delay = min(delay * 2, self.max_backoff)
        finally:
            await _discard(next_batch)
            await self._drop_subscription()
            self._log.info("consumer.stopped")

    async def run_until_caught_up(self, timeout: float = 30.0) -> int:
        """Run until every message in the stream (at the time of the call) is applied; return the position."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(stop))
        try:
            return await self.wait_caught_up(timeout)
        finally:
            stop.set()
            await task

    async def wait_caught_up(self, timeout: float = 30.0, poll_interval: float = 0.05) -> int:
        """Wait until the stored position reaches the stream's last message (as of this call); return it.

        Only waits: the consumer must be running elsewhere (`run()` in another task or process). Raises
        `TimeoutError` after `timeout` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        target: int | None = None
        position = 0
        while True:
            if target is None:
                try:
                    target = await self._last_sequence()
                except Exception as exc:
                    if not is_transient_error(exc):
                        raise
            if target is not None:
                try:
                    position = await asyncio.to_thread(self.position)
                except Exception as exc:
                    if not is_transient_error(exc):
                        raise
                else:
                    if position >= target:
                        return position
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"consumer {self.durable} is at {position} but stream {self.stream} is at "
                    f"{'unknown (NATS did not answer)' if target is None else target} after {timeout}s"
                )
            await asyncio.sleep(poll_interval)

    async def bind(self) -> JetStreamContext.PullSubscription:
        """Bind a pull subscription to the durable consumer, re-creating it if it disagrees with the database.

        The durable is kept when it has nothing unacknowledged and has delivered exactly up to the stored
        position; otherwise it is re-created to deliver from the stored position + 1 (or from the start of
        the stream when nothing was applied yet).
        """
        await self._drop_subscription()
        position = await asyncio.to_thread(self.position)
        try:
            info: ConsumerInfo | None = await self._js.consumer_info(self.stream, self.durable)
        except NotFoundError:
            info = None
        if info is None or not self._agrees_with(info, position):
            if info is not None:
                with contextlib.suppress(NotFoundError):
                    await self._js.delete_consumer(self.stream, self.durable)
            await self._js.add_consumer(self.stream, self._consumer_config(position))
            self._log.info(
                "consumer.durable_created",
                from_seq=position + 1,
                replaced=info is not None,
            )
        self._reconnects_at_bind = self._nc.stats["reconnects"]
        self._subscription = await self._js.pull_subscribe_bind(durable=self.durable, stream=self.stream)
        return self._subscription

    async def apply(self, messages: Iterable[Msg]) -> list[Disposition]:
        """Commit the effects and position of `messages` without acknowledging them; one disposition each.

        `run()` uses it and then acknowledges; tests use it alone to stand for a consumer that stopped between
        its commit and its acknowledgements.
        """
        ordered = sorted(messages, key=lambda msg: msg.metadata.sequence.stream)
        dispositions = await asyncio.to_thread(self._apply_in_order, ordered)
        for disposition in dispositions:
            self.counts[disposition] += 1
        moved = [m for m, d in zip(ordered, dispositions, strict=True) if d is not Disposition.SKIPPED]
        if moved and self.on_committed is not None:
            self.on_committed(moved[-1].metadata.sequence.stream)
        return dispositions

    # -- NATS side ------------------------------------------------------------------------------------------

    def _consumer_config(self, position: int) -> ConsumerConfig:
        deliver = (
            {"deliver_policy": DeliverPolicy.ALL}
            if position == 0
            else {"deliver_policy": DeliverPolicy.BY_START_SEQUENCE, "opt_start_seq": position + 1}
        )
        return ConsumerConfig(
            name=self.durable,
            durable_name=self.durable,
            ack_policy=AckPolicy.ALL,
            ack_wait=self.ack_wait,
            max_deliver=-1,
            max_ack_pending=self.max_ack_pending,
            filter_subject=self.filter_subject,
            **deliver,
        )

    def _agrees_with(self, info: ConsumerInfo, position: int) -> bool:
        config = info.config
        delivered = info.delivered.stream_seq if info.delivered is not None else 0
        return (
            (info.num_ack_pending or 0) == 0
            and delivered == position
            and config.ack_policy == AckPolicy.ALL
            and (config.filter_subject or None) == self.filter_subject
            and not config.filter_subjects
            and config.max_ack_pending == self.max_ack_pending
            and config.ack_wait is not None
            and abs(config.ack_wait - self.ack_wait) < 0.001
        )

    def _reconnected_since_bind(self) -> bool:
        # Messages in flight when the connection dropped are pending on the server but were never seen here;
        # re-binding re-creates the durable from the stored position so they are not overtaken.
        return bool(self._nc.stats["reconnects"] != self._reconnects_at_bind)

    async def _fetch(self, stop: asyncio.Event) -> list[Msg]:
        assert self._subscription is not None
        fetch = asyncio.ensure_future(self._next_messages(self._subscription))
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            fetch.cancel()
            raise
        finally:
            stopped.cancel()
        if not fetch.done():
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await fetch
            return []
        try:
            return fetch.result()
        except TimeoutError:  # nothing to fetch (nats.errors.TimeoutError is one too)
            if self._nc.is_closed:
                raise _ConnectionClosed("NATS connection closed") from None
            return []

    async def _next_messages(self, subscription: JetStreamContext.PullSubscription) -> list[Msg]:
        # Wait for one message, then take those already there: a pull waiting for a whole batch would hold the
        # first message back until the batch fills or the fetch times out.
        first = await subscription.fetch(1, timeout=self.fetch_timeout)
        if self.batch_size == 1:
            return first
        try:
            return first + await subscription.fetch(self.batch_size - 1, timeout=WAITING_FOR_MORE)
        except TimeoutError:  # none there; any that arrive later are fetched next time, in order
            return first

    async def _process(self, messages: Sequence[Msg]) -> None:
        await self.apply(messages)
        # The durable's ack policy is "all": acknowledging the last message acknowledges the batch.
        last = max(messages, key=lambda message: message.metadata.sequence.stream)
        try:
            await last.ack()
        except nats.errors.MsgAlreadyAckdError:
            pass
        except nats.errors.Error as exc:
            # The position is already committed: a lost ack only means a harmless redelivery.
            self._log.warning("consumer.ack_failed", stream_seq=last.metadata.sequence.stream, error=str(exc))

    async def _last_sequence(self) -> int:
        if self.filter_subject is None:
            info = await self._js.stream_info(self.stream)
            return int(info.state.last_seq)
        try:
            last = await self._js.get_last_msg(self.stream, self.filter_subject)
        except NotFoundError:
            return 0
        return int(last.seq or 0)

    async def _drop_subscription(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is not None and not self._nc.is_closed:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()

    # -- database side (worker thread) ----------------------------------------------------------------------

    def _apply_in_order(self, messages: list[Msg]) -> list[Disposition]:
        if not messages:
            return []
        if len(messages) > 1:
            try:
                return self._apply_batch(messages)
            except Exception as exc:
                if is_transient_error(exc):
                    raise
                # Some handler failed: find which, committing the others one by one.
        return [self._apply_one(message) for message in messages]

    def _apply_batch(self, messages: list[Msg]) -> list[Disposition]:
        dispositions: list[Disposition] = []
        with Session(self.engine) as session, session.begin():
            position = start = self._lock_position(session)
            if self.before_batch is not None:
                self.before_batch(session, messages)
            for message in messages:
                seq = message.metadata.sequence.stream
                if seq <= position:
                    dispositions.append(Disposition.SKIPPED)
                    continue
                self._handle(session, message)
                position = seq
                dispositions.append(Disposition.APPLIED)
            if self.after_batch is not None:
                self.after_batch(session, messages)
            if position != start:
                self._save_position(session, position)
        return dispositions

    def _apply_one(self, message: Msg) -> Disposition:
        seq = message.metadata.sequence.stream
        try:
            with Session(self.engine) as session, session.begin():
                if seq <= self._lock_position(session):
                    return Disposition.SKIPPED
                if self.before_batch is not None:
                    self.before_batch(session, [message])
                self._handle(session, message)
                if self.after_batch is not None:
                    self.after_batch(session, [message])
                self._save_position(session, seq)
            return Disposition.APPLIED
        except Exception as exc:
            if is_transient_error(exc):
                raise
            error = "".join(traceback.format_exception(exc))
            error_summary = f"{type(exc).__name__}: {exc}"
        with Session(self.engine) as session, session.begin():
            if seq <= self._lock_position(session):
                return Disposition.SKIPPED
            session.execute(
                insert(consumer_dead_letters).values(
                    consumer=self.durable,
                    stream=self.stream,
                    stream_seq=seq,
                    subject=message.subject,
                    headers=dict(message.headers) if message.headers else None,
                    data=bytes(message.data),
                    error=error,
                    created_at=datetime.now(UTC),
                )
            )
            self._save_position(session, seq)
        self._log.error(
            "consumer.message_set_aside", stream_seq=seq, subject=message.subject, error=error_summary
        )
        return Disposition.DEAD_LETTERED

    def _handle(self, session: Session, message: Msg) -> None:
        # The command's correlation id follows its event into every log line of the consumer's effects.
        correlation_id = (message.headers or {}).get(NATS_CORRELATION_ID_HEADER)
        with correlation_scope(correlation_id):
            self.handler(session, message)

    def _lock_position(self, session: Session) -> int:
        value = session.execute(
            select(consumer_positions.c.last_stream_seq)
            .where(consumer_positions.c.consumer == self.durable)
            .with_for_update()  # rendered only where the dialect has it (not on SQLite)
        ).scalar_one_or_none()
        if value is None:
            session.execute(
                insert(consumer_positions).values(
                    consumer=self.durable, stream=self.stream, last_stream_seq=0, updated_at=datetime.now(UTC)
                )
            )
            return 0
        return int(value)

    def _save_position(self, session: Session, seq: int) -> None:
        session.execute(
            update(consumer_positions)
            .where(consumer_positions.c.consumer == self.durable)
            .values(last_stream_seq=seq, stream=self.stream, updated_at=datetime.now(UTC))
        )


async def _discard(fetching: asyncio.Future[list[Msg]] | None) -> None:
    if fetching is not None and not fetching.done():
        fetching.cancel()
    if fetching is not None:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await fetching
