"""Leases: one process at a time does a job that must not run twice at once, while API replicas scale out.

A relay per service stream, the gateway's projector and the notifications' workers must each be active in
one process at a time, wherever they run (inside API replicas, or in processes of their own). A `Lease` is
that right, kept in a NATS JetStream key-value bucket (``izlek_leases``), so it needs nothing NATS does not
already provide:

- **Taken** by creating the lease's key if it is absent (``create``: JetStream's expected last sequence of the
  subject is 0). The bucket's maximum age is the lease's time to live, so a key that is not renewed disappears
  after the TTL, by the NATS server's clock alone.
- **Renewed** every third of the TTL by an update that names the revision this holder last wrote
  (``update(last=revision)``). It fails when the key changed or expired meanwhile: the holder has lost the
  lease and stops its work. When NATS does not answer, the holder keeps working only until two thirds of
  the TTL have passed since its last successful renewal was sent, before the server can let another take it.
- **Released** when the holder stops (a delete naming its revision), so another replica takes over at once;
  a holder that dies (SIGKILL, a lost node) leaves the key to expire, and another takes over within the TTL.
- **Waited for** by every other process: it keeps serving its API and tries to take the lease again every
  second (or a third of the TTL when that is shorter).

The lease is not a fencing token: a holder paused for longer than the TTL may still finish the batch in
hand after another took over. Correctness never rests on it: JetStream drops re-published events by their
``Nats-Msg-Id`` and the consumers skip messages at or below their committed position. The lease keeps the
work in one place, in order, without the waste and the interleaving of two active workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from nats.aio.client import Client
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BadRequestError, BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from izlek_common.jetstream import connect
from izlek_common.settings import CommonSettings

__all__ = ["LEASE_BUCKET", "Lease", "Work", "lease_for"]

logger = structlog.get_logger(__name__)

LEASE_BUCKET = "izlek_leases"
"""The key-value bucket holding every lease (stream ``KV_izlek_leases``); one key per lease."""

_STREAM_NAME_IN_USE = 10058

Work = Callable[[asyncio.Event], Awaitable[Any]]
"""The job done while the lease is held: runs until the event it is given is set (or returns on its own)."""


class Lease:
    """The right to do the job `name` (e.g. ``relay-plans``, ``gateway-projector``), held by one process at a
    time among every process connected to the NATS of `nats_url`.

    :meth:`run` is the whole protocol: wait for the lease, do the work while it is held, stop the work when
    it is lost, take it again when possible, and release it on stop. A task running it that is cancelled
    releases nothing, as after a crash: the lease expires after `ttl` seconds.
    """

    def __init__(
        self,
        nats_url: str,
        name: str,
        *,
        ttl: float = 10.0,
        replicas: int = 1,
        holder: str | None = None,
        retry_interval: float | None = None,
        stop_grace: float | None = None,
        bucket: str = LEASE_BUCKET,
    ) -> None:
        if ttl < 0.5:
            raise ValueError("a lease's ttl must be at least 0.5 seconds")
        self.nats_url = nats_url
        self.name = name
        self.ttl = ttl
        self.replicas = replicas
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.renew_interval = ttl / 3
        self.retry_interval = retry_interval if retry_interval is not None else min(1.0, ttl / 3)
        self.stop_grace = stop_grace if stop_grace is not None else max(ttl, 10.0)
        """How long the work may take to finish after its stop event is set before it is cancelled."""
        self.bucket = bucket
        self.acquisitions = 0
        """How many times this process took the lease."""
        self._client: Client | None = None
        self._kv: KeyValue | None = None
        self._revision: int | None = None
        self._valid_until = 0.0
        self._log = logger.bind(lease=name, holder=self.holder)

    # --- public API -----------------------------------------------------------------------------------------

    @property
    def held(self) -> bool:
        """Whether this process holds the lease now (as far as it knows)."""
        return self._revision is not None

    async def run(self, work: Work, stop: asyncio.Event) -> None:
        """Do `work` whenever this process holds the lease, until `stop` is set or the work returns by itself.

        The work is given an event that is set when `stop` is set or the lease is lost; it should then finish
        what it has in hand and return (it is cancelled after ``stop_grace`` seconds). After a loss the lease
        is sought again. An exception of the work is raised here, after the lease is released.
        """
        try:
            while not stop.is_set():
                if not await self._acquire(stop):
                    return
                if not await self._work_while_held(work, stop):
                    return
        finally:
            self._revision = None  # released, lost, or (cancelled) left to expire
            await self._close()

    async def current_holder(self) -> str | None:
        """The holder of the lease according to NATS (None when nobody holds it); for tests and operators."""
        kv = await self._bucket()
        try:
            entry = await kv.get(self.name)
        except KeyNotFoundError:  # KeyDeletedError is one too
            return None
        return _holder_of(entry.value)

    # --- taking, keeping and releasing ----------------------------------------------------------------------

    async def _acquire(self, stop: asyncio.Event) -> bool:
        """Take the lease, retrying until it is free; False when `stop` is set first."""
        loop = asyncio.get_running_loop()
        reported: str | None = None
        while not stop.is_set():
            try:
                kv = await self._bucket()
                sent = loop.time()
                async with asyncio.timeout(self.renew_interval):
                    revision = await kv.create(self.name, self._value())
            except KeyNotFoundError:
                continue  # it expired between the attempt and the look at its holder: try again at once
            except KeyWrongLastSequenceError:
                holder = await self._holder_or_none()
                if holder != reported:
                    self._log.info("lease.waiting", held_by=holder, ttl=self.ttl)
                    reported = holder
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._forget_connection()
                if reported != "":
                    self._log.warning("lease.unavailable", error=str(exc) or type(exc).__name__,
                                      error_type=type(exc).__name__)
                    reported = ""
            else:
                self._revision, self._valid_until = revision, sent + self.ttl
                self.acquisitions += 1
                self._log.info("lease.acquired", revision=revision, ttl=self.ttl)
                return True
            await _wait(stop, self.retry_interval)
        return False

    async def _work_while_held(self, work: Work, stop: asyncio.Event) -> bool:
        """Run the work until `stop`, the loss of the lease, or the work's own end; True when the lease was
        lost and should be sought again."""
        lost = asyncio.Event()
        work_stop = asyncio.Event()
        working = asyncio.create_task(work(work_stop), name=f"lease-{self.name}-work")
        keeping = asyncio.create_task(self._keep(lost), name=f"lease-{self.name}-renewal")
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({working, keeping, stopping}, return_when=asyncio.FIRST_COMPLETED)
            work_stop.set()
            # The lease is still renewed while the work finishes what it has in hand.
            finished, _ = await asyncio.wait({working}, timeout=self.stop_grace)
            if not finished:
                self._log.warning("lease.work_cancelled", grace=self.stop_grace)
                working.cancel()
                await asyncio.wait({working})
        except asyncio.CancelledError:
            # Asked too, in case the work swallows its cancellation (Python 3.11's wait_for can).
            work_stop.set()
            working.cancel()
            await asyncio.wait({working})
            raise
        finally:
            for task in (keeping, stopping):
                task.cancel()
            await asyncio.wait({keeping})
        if keeping.done() and not keeping.cancelled() and keeping.exception() is not None and not lost.is_set():
            self._lost(lost, f"renewal failed: {keeping.exception()!r}")
        error = None if working.cancelled() else working.exception()
        if not lost.is_set():
            await self._release()
        if error is not None:
            raise error
        return lost.is_set() and not stop.is_set()

    async def _keep(self, lost: asyncio.Event) -> None:
        """Renew the lease every third of its TTL until it is lost (then set `lost`)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.renew_interval)
            assert self._revision is not None
            sent = loop.time()
            try:
                kv = await self._bucket()
                async with asyncio.timeout(self.renew_interval):
                    self._revision = await kv.update(self.name, self._value(), last=self._revision)
                self._valid_until = sent + self.ttl
            except KeyWrongLastSequenceError:
                self._lost(lost, "taken or expired")
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._forget_connection()
                # Stop before the server may hand the lease to another: two renewals' time ahead of expiry.
                if loop.time() >= self._valid_until - self.renew_interval:
                    self._lost(lost, f"NATS unreachable: {exc or type(exc).__name__}")
                    return
                self._log.warning("lease.renewal_failed", error=str(exc) or type(exc).__name__)

    def _lost(self, lost: asyncio.Event, reason: str) -> None:
        self._log.warning("lease.lost", reason=reason, revision=self._revision)
        self._revision = None
        lost.set()

    async def _release(self) -> None:
        revision, self._revision = self._revision, None
        if revision is None:
            return
        try:
            kv = await self._bucket()
            async with asyncio.timeout(self.renew_interval):
                await kv.delete(self.name, last=revision)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._log.warning("lease.release_failed", error=str(exc) or type(exc).__name__,
                              note=f"it expires after {self.ttl}s")
            return
        self._log.info("lease.released", revision=revision)

    def _value(self) -> bytes:
        return json.dumps({"holder": self.holder, "at": datetime.now(UTC).isoformat()}).encode()

    async def _holder_or_none(self) -> str | None:
        try:
            return await self.current_holder()
        except Exception:
            return None

    # --- NATS ------------------------------------------------------------------------------------------------

    async def _bucket(self) -> KeyValue:
        if self._kv is not None:
            return self._kv
        if self._client is None or self._client.is_closed:
            # Bounded, so that a lease sought while NATS is down still notices its stop event.
            self._client = await connect(self.nats_url, f"lease-{self.name}", initial_connect_timeout=2.0)
        js = self._client.jetstream()
        wanted = KeyValueConfig(bucket=self.bucket, history=1, ttl=self.ttl, replicas=self.replicas,
                                storage=StorageType.FILE,
                                description="Izlek leases: which process does each single-active job")
        try:
            kv = await js.key_value(self.bucket)
        except BucketNotFoundError:
            try:
                kv = await js.create_key_value(wanted)
            except BadRequestError as exc:
                if exc.err_code != _STREAM_NAME_IN_USE:  # created meanwhile by another process
                    raise
                kv = await js.key_value(self.bucket)
        else:
            await self._align(js)
        self._kv = kv
        return kv

    async def _align(self, js: Any) -> None:
        """Raise an existing bucket's TTL and replicas to this lease's, never lower them: every lease shares the
        bucket, and one configured with less (an older process, another service's defaults) must not flip it back.
        A longer TTL than its own only makes this holder renew and give up sooner than it needs to."""
        info = await js.stream_info(f"KV_{self.bucket}")
        config = info.config
        ttl, replicas = max(config.max_age or 0, self.ttl), max(config.num_replicas or 1, self.replicas)
        if (config.max_age or 0) == ttl and (config.num_replicas or 1) == replicas:
            return
        await js.update_stream(config.evolve(max_age=ttl, num_replicas=replicas))
        self._log.info("lease.bucket_updated", ttl=ttl, replicas=replicas)

    def _forget_connection(self) -> None:
        # The bucket may be gone (a NATS server with a new store): look it up again next time.
        self._kv = None

    async def _close(self) -> None:
        client, self._client, self._kv = self._client, None, None
        if client is not None and not client.is_closed:
            with contextlib.suppress(Exception):
                await client.close()


def lease_for(settings: CommonSettings, nats_url: str, name: str) -> Lease:
    """The lease `name` with the TTL (``IZLEK_LEASE_TTL_SECONDS``) and replicas (``IZLEK_NATS_STREAM_REPLICAS``)
    of `settings`."""
    return Lease(nats_url, name, ttl=settings.lease_ttl_seconds, replicas=settings.nats_stream_replicas)


def _holder_of(value: bytes | None) -> str | None:
    if not value:
        return None
    try:
        return str(json.loads(value)["holder"])
    except (ValueError, KeyError, TypeError):
        return value.decode(errors="replace")


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation that races its end.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()
