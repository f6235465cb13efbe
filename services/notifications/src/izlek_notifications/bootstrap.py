"""Composition root of the notifications service: the state database, the application, its relay, and the
runtime that works beside the API (the subscription index, the intake consumers, the delivery worker, the
scheduler, and in development the mail sink)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import structlog
from nats.aio.client import Client
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from izlek_common.consumer import TrackedConsumer, is_transient_error
from izlek_common.eventsourced.publishing import cloudevent_translator
from izlek_common.eventstore import eventsourcing_env
from izlek_common.jetstream import connect, durable_name_for, stream_name_for
from izlek_common.lease import Lease, lease_for
from izlek_common.relay import Relay
from izlek_notifications.application import NotificationsApplication
from izlek_notifications.clock import Clock, SystemClock
from izlek_notifications.delivery.backoff import Backoff
from izlek_notifications.delivery.store import DeliveryStore
from izlek_notifications.delivery.worker import DeliveryWorker
from izlek_notifications.intake.handler import Intake, contacts_since
from izlek_notifications.mail.dev_sink import DevMailSink
from izlek_notifications.mail.rendering import MailRenderer
from izlek_notifications.mail.sender import MailSender, SmtpServer
from izlek_notifications.reminders.scheduler import ReminderSettings, Scheduler
from izlek_notifications.settings import NotificationsSettings
from izlek_notifications.state.database import create_state_engine, upgrade_database
from izlek_notifications.state.directory import PlanDirectory
from izlek_notifications.state.secrets import SecretStore
from izlek_notifications.state.subscription_index import follow_log_now
from izlek_notifications.webhooks.addresses import WebhookGuard
from izlek_notifications.webhooks.sender import WebhookSender

log = structlog.get_logger(__name__)

CONSUMER = "notifications"
SOURCES = ("plans", "partners")
"""The services whose streams the intake reads (durables ``notifications-from-plans``, ``-from-partners``)."""
LEASE = "notifications-runtime"
"""The lease held by the one replica that consumes, delivers and schedules (see :meth:`NotificationsRuntime.run`)."""


def build_state(settings: NotificationsSettings) -> Engine:
    """The engine of the state database (``IZLEK_NOTIFICATIONS_DATABASE_URL``); no I/O until used."""
    return create_state_engine(settings.database_url)


def build_application(settings: NotificationsSettings, engine: Engine) -> NotificationsApplication:
    """The application on the event store that ``IZLEK_NOTIFICATIONS_EVENT_STORE_URL`` names."""
    return NotificationsApplication(
        env=eventsourcing_env(settings.event_store_url),
        secrets=SecretStore(engine),
        guard=build_guard(settings),
        plans=PlanDirectory(engine),
        secret_grace=timedelta(seconds=settings.notifications_secret_rotation_grace_seconds),
    )


def build_guard(settings: NotificationsSettings) -> WebhookGuard:
    return WebhookGuard(settings.notifications_webhook_allow, https_only=settings.notifications_webhook_https_only)


def build_relay(application: NotificationsApplication, settings: NotificationsSettings, nats_url: str) -> Relay:
    """A relay from the subscriptions' notification log to the NOTIFICATIONS stream, woken by every save; it
    publishes while it holds the lease ``relay-notifications`` (one active relay among the replicas)."""
    relay = Relay(service=application.name, recorder=application.recorder,
                  translate=cloudevent_translator(application), nats_url=nats_url,
                  stream_replicas=settings.nats_stream_replicas, lease_ttl=settings.lease_ttl_seconds)
    application.on_new_events(relay.wake)
    return relay


def configured_smtp(settings: NotificationsSettings) -> SmtpServer | None:
    if settings.notifications_smtp_host is None:
        return None
    password = settings.notifications_smtp_password
    return SmtpServer(host=settings.notifications_smtp_host, port=settings.notifications_smtp_port,
                      security=settings.notifications_smtp_security, username=settings.notifications_smtp_username,
                      password=password.get_secret_value() if password else None,
                      timeout=settings.notifications_smtp_timeout_seconds)


class NotificationsRuntime:
    """Everything the service does besides answering HTTP, until ``stop`` is set."""

    def __init__(self, application: NotificationsApplication, engine: Engine, settings: NotificationsSettings, *,
                 nats_url: str | None = None, clock: Clock | None = None, console: Console | None = None) -> None:
        self.application = application
        self.engine = engine
        self.settings = settings
        self.nats_url = nats_url
        self.clock = clock or SystemClock()
        self.console = console or Console(stderr=True)
        self.store = DeliveryStore(engine)
        self.intake = Intake(application, contact_language=settings.notifications_contact_language,
                             clock=self.clock)
        self.webhooks = WebhookSender(build_guard(settings), SecretStore(engine),
                                      timeout=settings.notifications_webhook_timeout_seconds)
        self.mail = MailSender(configured_smtp(settings), MailRenderer(), sender=settings.notifications_mail_from)
        self.worker = DeliveryWorker(
            self.store, webhooks=self.webhooks, mail=self.mail, clock=self.clock,
            backoff=Backoff(attempts=settings.notifications_retry_attempts,
                            base=settings.notifications_retry_base_seconds,
                            cap=settings.notifications_retry_cap_seconds),
            concurrency=settings.notifications_delivery_concurrency,
            poll_interval=settings.notifications_delivery_poll_seconds)
        self.scheduler = Scheduler(
            engine, self.clock, ReminderSettings(
                due_soon_days=settings.notifications_due_soon_days,
                term_ending_days=settings.notifications_term_ending_days,
                digest_weekday=settings.notifications_digest_weekday,
                digest_hour=settings.notifications_digest_hour,
                contact_language=settings.notifications_contact_language),
            interval=settings.notifications_scheduler_interval_seconds, on_created=self.worker.wake)
        self.consumers: list[TrackedConsumer] = []
        self.lease: Lease | None = None
        self.mail_sink: DevMailSink | None = None
        self._index_wakeup: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set, then finish what is under way and close. With NATS, the work is done only
        while this process holds the lease ``notifications-runtime``, so that replicas of the service never
        consume, send or schedule twice; the others answer HTTP and take over within the lease's TTL."""
        self._loop = asyncio.get_running_loop()
        self._index_wakeup = asyncio.Event()
        self.application.on_new_events(self._wake_index)
        await asyncio.to_thread(self._mark_start)
        if self.settings.runs_dev_mail_sink and self.mail.server is None:
            await self._start_mail_sink()
        try:
            if self.nats_url:
                self.lease = lease_for(self.settings, self.nats_url, LEASE)
                await self.lease.run(self._work, stop)
            else:
                await self._work(stop)
        finally:
            await self.webhooks.close()
            if self.mail_sink is not None:
                await self.mail_sink.stop()

    async def _work(self, stop: asyncio.Event) -> None:
        client: Client | None = None
        tasks = [asyncio.create_task(self._follow_index(stop), name="notifications-index"),
                 asyncio.create_task(self.worker.run(stop), name="notifications-worker")]
        if self.settings.notifications_scheduler_enabled:
            tasks.append(asyncio.create_task(self.scheduler.run(stop), name="notifications-scheduler"))
        try:
            if self.nats_url:
                client = await _connect_unless_stopped(self.nats_url, stop)
                if client is not None:
                    self.consumers = [self._consumer(client, service) for service in SOURCES]
                    tasks += [asyncio.create_task(c.run(stop), name=f"notifications-{c.durable}")
                              for c in self.consumers]
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if client is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.drain(), timeout=5)

    def _consumer(self, client: Client, service: str) -> TrackedConsumer:
        return TrackedConsumer(client, self.engine, stream=stream_name_for(service),
                               durable=durable_name_for(CONSUMER, service), handler=self.intake.handle_message,
                               batch_size=self.settings.notifications_consumer_batch_size,
                               on_committed=self.worker.wake)

    def _mark_start(self) -> None:
        with Session(self.engine) as session, session.begin():
            since = contacts_since(session, self.clock.now())
        log.info("notifications.contacts_notified_since", since=since.isoformat())

    async def _start_mail_sink(self) -> None:
        self.mail_sink = DevMailSink(self.settings.mail_dir)
        port = await self.mail_sink.start()
        self.mail.server = SmtpServer(host="127.0.0.1", port=port, security="none")
        where = self.settings.mail_dir.resolve()
        log.info("dev_mail_sink.started", port=port, directory=str(where))
        self.console.print(f"[bold]notifications[/bold] e-mails are written to {where}/ as .eml files "
                           f"(development SMTP sink on 127.0.0.1:{port})")

    def _wake_index(self) -> None:
        loop, wakeup = self._loop, self._index_wakeup
        if loop is not None and wakeup is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wakeup.set)

    async def _follow_index(self, stop: asyncio.Event) -> None:
        """Keep the subscription index in step with the notification log (pauses reach the worker at once)."""
        assert self._index_wakeup is not None
        while not stop.is_set():
            self._index_wakeup.clear()
            try:
                await asyncio.to_thread(follow_log_now, self.engine, self.application)
            except Exception as exc:
                if not is_transient_error(exc):
                    log.exception("subscription_index.failed")
            self.worker.wake()
            await _wait_any(self._index_wakeup, stop, timeout=1.0)


async def _wait_any(event: asyncio.Event, stop: asyncio.Event, timeout: float) -> None:
    waits = {asyncio.ensure_future(event.wait()), asyncio.ensure_future(stop.wait())}
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()


async def _connect_unless_stopped(nats_url: str, stop: asyncio.Event) -> Client | None:
    connecting = asyncio.ensure_future(connect(nats_url, "izlek-notifications"))
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({connecting, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if connecting.done():
        return connecting.result()
    connecting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await connecting
    return None


def prepare_state(engine: Engine) -> None:
    """Bring the state database's schema up to date (blocking)."""
    upgrade_database(engine)


__all__ = ["NotificationsRuntime", "build_application", "build_relay", "build_state", "prepare_state"]
