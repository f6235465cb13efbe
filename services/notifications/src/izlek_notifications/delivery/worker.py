"""The delivery worker: sends the deliveries that are due, a few at a time, and records what came of each.

Each attempt is counted before it is made (``start_attempt``) and its outcome recorded the moment the answer's
status line is in: delivered, failed with the time of the next attempt (exponential backoff, full jitter), or dead
after the last one. A process killed after the receiver answered 2xx but before ``delivered`` was committed sends
that delivery again after its restart; the window is one short UPDATE, and the retry carries the same
``webhook-id`` (the same e-mail ``Message-ID``), so receivers can drop it.

Deliveries of a paused subscription wait; those of a deleted one die. One worker per state database.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

import structlog

from izlek_common.consumer import is_transient_error
from izlek_common.logging import correlation_scope
from izlek_notifications.clock import Clock
from izlek_notifications.delivery.backoff import Backoff
from izlek_notifications.delivery.store import DeliveryStore, DueDelivery
from izlek_notifications.domain.subscription import WEBHOOK, SubscriptionState
from izlek_notifications.mail.sender import MailSender
from izlek_notifications.webhooks.sender import Outcome, WebhookSender

log = structlog.get_logger(__name__)


class DeliveryWorker:
    def __init__(self, store: DeliveryStore, *, webhooks: WebhookSender, mail: MailSender, backoff: Backoff,
                 clock: Clock, concurrency: int = 8, poll_interval: float = 1.0) -> None:
        self.store = store
        self.webhooks = webhooks
        self.mail = mail
        self.backoff = backoff
        self.clock = clock
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.sent = 0
        self.failed = 0
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None

    @property
    def in_flight(self) -> int:
        """Attempts under way now."""
        return len(self._in_flight)

    def wake(self, *_: object) -> None:
        """Look for due deliveries now (e.g. after the intake created some); safe from any thread."""
        loop, wakeup = self._loop, self._wakeup
        if loop is None or wakeup is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed
            loop.call_soon_threadsafe(wakeup.set)

    async def run(self, stop: asyncio.Event) -> None:
        """Send due deliveries until ``stop`` is set; then let the attempts under way finish."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        log.info("delivery_worker.started", concurrency=self.concurrency)
        delay = self.poll_interval
        try:
            while not stop.is_set():
                self._wakeup.clear()
                try:
                    await self._start_due()
                    delay = await self._until_next_due()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if not is_transient_error(exc):
                        log.exception("delivery_worker.failed")
                    else:
                        log.warning("delivery_worker.retrying", error=str(exc) or type(exc).__name__)
                    delay = self.poll_interval
                await self._wait(stop, delay)
        finally:
            if self._in_flight:
                await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
            log.info("delivery_worker.stopped", sent=self.sent, failed=self.failed)

    async def _start_due(self) -> None:
        free = self.concurrency - len(self._in_flight)
        if free <= 0:
            return
        due = await asyncio.to_thread(self.store.due, self.clock.now(), free, list(self._in_flight))
        for delivery in due:
            task = asyncio.create_task(self._deliver(delivery), name=f"delivery-{delivery.id}")
            self._in_flight[delivery.id] = task
            task.add_done_callback(lambda _t, key=delivery.id: self._done(key))

    def _done(self, delivery_id: str) -> None:
        self._in_flight.pop(delivery_id, None)
        if self._wakeup is not None:
            self._wakeup.set()

    async def _until_next_due(self) -> float:
        next_due = await asyncio.to_thread(self.store.next_due_at, list(self._in_flight))
        if next_due is None:
            return self.poll_interval
        return max(0.0, min(self.poll_interval, (next_due - self.clock.now()).total_seconds()))

    async def _wait(self, stop: asyncio.Event, seconds: float) -> None:
        assert self._wakeup is not None
        if seconds <= 0 and len(self._in_flight) < self.concurrency:
            return
        waits = {asyncio.ensure_future(self._wakeup.wait()), asyncio.ensure_future(stop.wait())}
        try:
            await asyncio.wait(waits, timeout=seconds if seconds > 0 else None, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    async def _deliver(self, delivery: DueDelivery) -> None:
        # The command's correlation id follows its event to the receiver, in every log line of the attempt.
        with correlation_scope((delivery.context.get("event") or {}).get("correlation_id")):
            await self._deliver_in_scope(delivery)

    async def _deliver_in_scope(self, delivery: DueDelivery) -> None:
        bound = log.bind(delivery_id=delivery.id, event_id=delivery.event_id, channel=delivery.channel)
        try:
            now = self.clock.now()
            if delivery.subscription_id is not None and delivery.subscription_state == SubscriptionState.DELETED:
                await asyncio.to_thread(self.store.abandon, delivery.id, "the subscription was deleted", now)
                bound.info("delivery.abandoned", reason="subscription deleted")
                return
            number, logged = await asyncio.to_thread(self.store.start_attempt, delivery, now)
            outcome = await self._attempt(delivery)
            finished = self.clock.now()
            if outcome.delivered:
                await asyncio.to_thread(self.store.delivered, delivery.id, logged, outcome.status_code, finished)
                self.sent += 1
                bound.info("delivery.delivered", attempt=number, status=outcome.status_code)
                return
            wait = None if outcome.final else self.backoff.wait_after(number)
            retry_at: datetime | None = None if wait is None else finished + wait
            await asyncio.to_thread(self.store.failed, delivery.id, logged, outcome.status_code,
                                    outcome.error or "failed", finished, retry_at)
            self.failed += 1
            bound.warning("delivery.failed", attempt=number, status=outcome.status_code, error=outcome.error,
                          retry_at=retry_at.isoformat() if retry_at else None, dead=retry_at is None)
        except Exception:
            # The database is unreachable: the delivery stays due and is tried again.
            bound.exception("delivery.not_recorded")

    async def _attempt(self, delivery: DueDelivery) -> Outcome:
        target = delivery.subscription_target or delivery.target
        language = delivery.subscription_language or delivery.language
        if delivery.channel == WEBHOOK:
            return await self.webhooks.send(delivery_id=delivery.id, subscription_id=delivery.subscription_id or "",
                                            url=target, payload=delivery.payload, now=self.clock.now())
        try:
            message = self.mail.message(delivery_id=delivery.id, event_id=delivery.event_id,
                                        event_type=delivery.event_type, template=delivery.template,
                                        language=language, to=target, context=delivery.context,
                                        now=self.clock.now())
        except Exception as exc:
            return Outcome(False, error=f"the message could not be written: {type(exc).__name__}: {exc}", final=True)
        try:
            await self.mail.send(message)
        except Exception as exc:
            return Outcome(False, error=f"{type(exc).__name__}: {exc}")
        return Outcome(True)
