"""The relay: follows an application's notification log and publishes every stored event to JetStream.

Nothing is published before it is stored, and every stored event is published once:

- The stream is the relay's position. On start, and after any error, the relay reads the last message of
  the stream and takes its ``Izlek-Notification-Id`` header as the last event published; it continues
  from the next notification. There is no separate position to lose or to disagree with the stream.
- Every message carries ``Nats-Msg-Id: <app>:<notification id>``, so a batch re-published after a lost
  acknowledgement (a NATS restart, a relay killed mid-batch) is dropped by JetStream's duplicate window.
- Publishing is pipelined, in notification order on one connection, one acknowledgement per batch: every
  message of a batch but the last is sent without asking for one, the last asks for JetStream's. JetStream
  stores a connection's messages in order, so when the last one's acknowledgement carries the stream sequence
  the batch should end at (the sequence before it plus its length), the whole batch is in; any other answer
  (a duplicate, a gap) sends the relay back to the stream to learn where it stands, and it goes on from there.
  Meanwhile the next batch is already being read from the store.
- One relay per stream is active at a time: a relay publishes only while it holds the lease
  ``relay-<service>`` (`izlek_common.lease`), so every API replica may run one and the others wait, ready to
  take over within the lease's TTL when the holder dies.

Commands never wait for the relay: while NATS is down they keep being stored, and the relay catches up.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog
from eventsourcing.persistence import ApplicationRecorder, Notification
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from izlek_common.cloudevents import NATS_NOTIFICATION_ID_HEADER, CloudEvent
from izlek_common.jetstream import connect, ensure_stream, stream_name_for, stream_subjects_for
from izlek_common.lease import Lease

log = structlog.get_logger(__name__)

Translate = Callable[[Notification], CloudEvent]

DEFAULT_LEASE_TTL = 10.0
"""Seconds after which a dead relay's lease expires and another relay of the same stream takes over."""


@dataclass
class RelayStats:
    published: int = 0
    batches: int = 0
    errors: int = 0
    position: int | None = None
    """Last notification id known to be in the stream (None until the stream was first read)."""
    stream_seq: int | None = None
    """The stream's last sequence as the relay last learnt it (None until the stream was first read)."""
    resyncs: int = 0
    """Batches whose acknowledgement did not add up, after which the stream was asked where it stands."""


class Relay:
    """Publishes the notifications of one application recorder to the service's JetStream stream.

    ``translate`` turns a stored notification into its CloudEvent (the service's contract mapping).
    Call :meth:`wake` (thread-safe) after events are stored to publish them at once; otherwise the relay
    polls every ``poll_interval`` seconds, which also covers events stored by other processes.

    The relay publishes only while it holds the lease ``relay-<service>`` (TTL ``lease_ttl`` seconds, in a
    bucket of ``stream_replicas`` replicas); ``lease_ttl=None`` publishes without one (safe, as JetStream
    drops duplicates, but two relays then do the work twice).
    """

    def __init__(
        self,
        *,
        service: str,
        recorder: ApplicationRecorder,
        translate: Translate,
        nats_url: str,
        batch_size: int = 500,
        poll_interval: float = 0.5,
        ack_timeout: float = 10.0,
        retry_interval: float = 0.5,
        stream_replicas: int = 1,
        lease_ttl: float | None = DEFAULT_LEASE_TTL,
    ) -> None:
        self.service = service
        self.stream = stream_name_for(service)
        self.recorder = recorder
        self.translate = translate
        self.nats_url = nats_url
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.ack_timeout = ack_timeout
        self.retry_interval = retry_interval
        self.stream_replicas = stream_replicas
        self.lease = (Lease(nats_url, f"relay-{service}", ttl=lease_ttl, replicas=stream_replicas)
                      if lease_ttl is not None else None)
        self.stats = RelayStats()
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self._woken_early = threading.Event()
        self.log = log.bind(relay=service, stream=self.stream)

    # --- control ------------------------------------------------------------------------------------

    def wake(self) -> None:
        """Ask the relay to look for new events now; safe to call from any thread."""
        loop, wakeup = self._loop, self._wakeup
        if loop is None or wakeup is None:
            self._woken_early.set()
            return
        try:
            loop.call_soon_threadsafe(wakeup.set)
        except RuntimeError:
            pass  # the loop has closed: the relay is stopping

    async def run(self, stop: asyncio.Event) -> None:
        """Publish while this relay holds its lease, until ``stop`` is set; survives NATS outages and store
        errors by retrying. Without the lease it waits, and takes it over when its holder stops or dies."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        if self._woken_early.is_set():
            self._wakeup.set()
        if self.lease is None:
            await self._publish_until(stop)
        else:
            await self.lease.run(self._publish_until, stop)

    async def _publish_until(self, stop: asyncio.Event) -> None:
        # Another relay may have published since this one last did: the stream says where to go on.
        self.stats.position = self.stats.stream_seq = None
        self.log.info("relay.started", nats_url=self.nats_url)
        try:
            while not stop.is_set():
                self._wakeup.clear()
                try:
                    js = await self._jetstream()
                    await self.publish_pending(js, stop)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self.stats.errors += 1
                    self.stats.position = self.stats.stream_seq = None
                    self._js = None  # the stream may be gone (a NATS server with a new store): ensure it again
                    self.log.warning("relay.retrying", error=str(exc) or type(exc).__name__,
                                     error_type=type(exc).__name__)
                    await _wait(stop, self.retry_interval)
                    continue
                await self._wait_for_news(stop)
        finally:
            await self.close()
            self.log.info("relay.stopped", published=self.stats.published)

    async def close(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            try:
                await asyncio.wait_for(nc.drain(), timeout=5)
            except Exception:
                await nc.close()

    # --- publishing -----------------------------------------------------------------------------------

    async def publish_pending(self, js: JetStreamContext | None = None, stop: asyncio.Event | None = None) -> int:
        """Publish every stored event that the stream does not hold yet, batch by batch until `stop` is set (a
        relay that lost its lease stops after the batch in hand); returns how many were sent."""
        js = js or await self._jetstream()
        if self.stats.position is None:
            await self._learn_position(js)
            self.log.info("relay.position", position=self.stats.position)
        sent = 0
        reading = self._read_after(self.stats.position)
        try:
            while stop is None or not stop.is_set():
                notifications = await reading
                if not notifications:
                    return sent
                # The next batch is read from the store while this one is published.
                reading = self._read_after(notifications[-1].id)
                expected_position = notifications[-1].id
                await self._publish_batch(js, notifications)
                sent += len(notifications)
                if self.stats.position != expected_position:
                    reading.cancel()
                    reading = self._read_after(self.stats.position)
            return sent
        finally:
            if not reading.done():
                reading.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reading

    def _read_after(self, position: int) -> asyncio.Future[Sequence[Notification]]:
        return asyncio.ensure_future(asyncio.to_thread(self.recorder.select_notifications, position + 1,
                                                       self.batch_size))

    async def _publish_batch(self, js: JetStreamContext, notifications: Sequence[Notification]) -> None:
        nc = self._nc
        assert nc is not None
        *leading, last = [self.translate(notification) for notification in notifications]
        for event in leading:
            await nc.publish(event.type, event.to_json_bytes(), headers=event.nats_headers())
        ack = await js.publish(last.type, last.to_json_bytes(), headers=last.nats_headers(), timeout=self.ack_timeout)
        if ack.duplicate or self.stats.stream_seq is None or ack.seq != self.stats.stream_seq + len(notifications):
            # Not simply this batch appended (some of it was in the stream already, or a message went missing):
            # the stream's last message says where the relay stands.
            self.stats.resyncs += 1
            await self._learn_position(js)
            self.log.info("relay.resynchronised", position=self.stats.position, stream_seq=self.stats.stream_seq)
        else:
            self.stats.position = notifications[-1].id
            self.stats.stream_seq = ack.seq
        self.stats.published += len(notifications)
        self.stats.batches += 1
        self.log.debug("relay.published", count=len(notifications), position=self.stats.position)

    async def _learn_position(self, js: JetStreamContext) -> None:
        self.stats.position, self.stats.stream_seq = await self._stream_state(js)

    async def stream_position(self, js: JetStreamContext) -> int:
        """The notification id of the last message in the stream (0 when the stream is empty)."""
        position, _ = await self._stream_state(js)
        return position

    async def _stream_state(self, js: JetStreamContext) -> tuple[int, int]:
        """The notification id of the stream's last message and its sequence (0 and 0 when empty)."""
        info = await js.stream_info(self.stream)
        last_seq = info.state.last_seq
        if not last_seq or not info.state.messages:
            return 0, last_seq or 0
        try:
            message = await js.get_msg(self.stream, seq=last_seq)
        except NotFoundError:
            return 0, last_seq
        header = (message.headers or {}).get(NATS_NOTIFICATION_ID_HEADER)
        if header is None:
            raise RuntimeError(
                f"the last message of stream {self.stream} (seq {last_seq}) has no {NATS_NOTIFICATION_ID_HEADER} "
                "header: something other than the relay publishes to it"
            )
        return int(header), last_seq

    async def _jetstream(self) -> JetStreamContext:
        if self._nc is None or self._nc.is_closed:
            # Bounded, so that a relay started while NATS is down still notices its stop event.
            self._nc = await connect(self.nats_url, f"relay-{self.service}", initial_connect_timeout=2.0)
            self._js = None
        if self._js is None:
            js = self._nc.jetstream()
            await ensure_stream(js, self.stream, stream_subjects_for(self.service), replicas=self.stream_replicas,
                                description=f"Every stored event of the {self.service} service")
            self._js = js
        return self._js

    async def _wait_for_news(self, stop: asyncio.Event) -> None:
        assert self._wakeup is not None
        wakeup = asyncio.ensure_future(self._wakeup.wait())
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({wakeup, stopping}, timeout=self.poll_interval,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            wakeup.cancel()
            stopping.cancel()


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        pass


__all__ = ["DEFAULT_LEASE_TTL", "Relay", "RelayStats", "Translate"]
