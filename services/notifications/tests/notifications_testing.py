"""Helpers of the notifications tests: real receivers (an HTTP server, an SMTP server), a clock the tests move,
the İzmir data in real applications, and the service itself with its runtime."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import Engine, func, select

from izlek_common.auth import issue_token
from izlek_common.domain.stamp import Author, Stamp
from izlek_common.eventsourced.application import TrackedApplication
from izlek_common.eventsourced.publishing import cloudevent_translator
from izlek_common.eventstore import eventsourcing_env
from izlek_common.nats_server import find_free_port
from izlek_common.relay import Relay
from izlek_notifications.api.app import create_app
from izlek_notifications.application import NotificationsApplication
from izlek_notifications.bootstrap import NotificationsRuntime
from izlek_notifications.settings import NotificationsSettings
from izlek_notifications.state.tables import deliveries
from izlek_partners.application import PartnersApplication
from izlek_partners.importer import import_partners_file, import_protocols_file
from izlek_plans.application import PlansApplication
from izlek_plans.importer import import_plan_file

IZMIR = Path(__file__).resolve().parents[3] / "examples" / "izmir"
IMPORTER = Author(subject="ayse@kedv.org.tr", role="coordinator", organisation_id="kedv", name="Ayşe")
PROBLEM = "application/problem+json"
KEDV = "kedv"
KEDV_EMAIL = "kedv@kedv.org.tr"
CIGLI = "cigli-belediyesi"
CIGLI_PROTOCOL = "prot-2019-kedv-cigli-belediyesi"


def stamp(role: str = "coordinator", organisation_id: str | None = None, *, subject: str | None = None,
          reason: str | None = None) -> Stamp:
    return Stamp(Author(subject or f"{role}@izlek.test", role, organisation_id), reason=reason)


def settings(**overrides: Any) -> NotificationsSettings:
    """Settings of a service under test: a throwaway store, no NATS unless given, quick retries."""
    values: dict[str, Any] = {
        "environment": "test", "nats_url": None, "notifications_event_store_url": "memory://",
        "notifications_webhook_allow": ["127.0.0.1"],
        "notifications_retry_attempts": 4, "notifications_retry_base_seconds": 0.05,
        "notifications_retry_cap_seconds": 0.2, "notifications_delivery_poll_seconds": 0.05,
        "notifications_scheduler_enabled": False, "notifications_webhook_timeout_seconds": 5,
        "notifications_dev_mail_sink": False,
    }
    return NotificationsSettings(**{**values, **overrides})


def bearer(config: NotificationsSettings, role: str = "coordinator", organisation_id: str | None = None,
           subject: str | None = None, scopes: tuple[str, ...] = ()) -> dict[str, str]:
    token = issue_token(config, subject=subject or f"{role}@izlek.test", role=role, organisation_id=organisation_id,
                        scopes=scopes)
    return {"Authorization": f"Bearer {token}"}


# --- the HTTP receiver ---------------------------------------------------------------------------------------


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None


Responder = Callable[[ReceivedRequest], Awaitable[int] | int]


@dataclass
class WebhookReceiver:
    """A real HTTP/1.1 server on loopback (asyncio streams): records every request and answers with the status
    ``respond`` chooses (200 by default). ``accepted`` counts the 2xx answers per webhook-id."""

    respond: Responder = lambda request: 200
    requests: list[ReceivedRequest] = field(default_factory=list)
    accepted: Counter[str] = field(default_factory=Counter)
    port: int = 0
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/izlek"

    async def start(self) -> WebhookReceiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            request = ReceivedRequest(method, path, headers, body)
            self.requests.append(request)
            status = self.respond(request)
            if not isinstance(status, int):
                status = await status
            if status <= 0:  # close without answering
                return
            # Counted when the answer is decided, before it is written: whatever is counted reaches the sender.
            request.status = status
            if 200 <= status < 300:
                self.accepted[headers.get("webhook-id", "")] += 1
            writer.write(f"HTTP/1.1 {status} Answer\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode())
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


class HoldingReceiver(WebhookReceiver):
    """Answers 200 until told to hold: then it keeps every further request unanswered until released, and closes
    them without an answer. A test holds it before killing the sender, so that no 2xx is lost between the
    receiver and the sender's record of it (the one window in which a webhook may be sent again)."""

    def __init__(self) -> None:
        super().__init__(respond=self._answer)
        self.hold_after: int | None = None
        self.holding = asyncio.Event()
        self.released = asyncio.Event()

    async def _answer(self, request: ReceivedRequest) -> int:
        if self.hold_after is not None and sum(self.accepted.values()) >= self.hold_after:
            self.holding.set()
            await self.released.wait()
            return 0
        return 200

    def hold(self, after: int) -> None:
        self.hold_after = after
        self.holding.clear()
        self.released.clear()

    def release(self) -> None:
        self.hold_after = None
        self.released.set()


def verify_standard_webhook(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """A receiver's own check of the Standard Webhooks signature (written from the specification, not from the
    service's code): HMAC-SHA256 with the base64-decoded secret over ``id.timestamp.body``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [s.split(",", 1)[1] for s in headers["webhook-signature"].split() if s.startswith("v1,")]
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)


# --- the SMTP server -------------------------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return part.get_content().replace("\r\n", "\n")


class _Collect:
    def __init__(self, mails: list[ReceivedMail]) -> None:
        self.mails = mails

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=default_policy)
        self.mails.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[tuple[int, list[ReceivedMail]]]:
    """A real SMTP server (aiosmtpd) on loopback; yields its port and the messages it receives."""
    mails: list[ReceivedMail] = []
    controller = Controller(_Collect(mails), hostname="127.0.0.1", port=find_free_port())
    controller.start()
    try:
        yield controller.port, mails
    finally:
        controller.stop()


# --- a clock the tests move ------------------------------------------------------------------------------------


class ManualClock:
    """Time stands still until the test moves it; sleepers wake when it has moved far enough."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._moved = asyncio.Condition()

    def now(self) -> datetime:
        return self._now

    def sleep(self, seconds: float) -> Coroutine[Any, Any, None]:
        # The deadline is taken when the sleep is asked for, not when its task first runs: a move in between
        # must wake it.
        until = self._now.timestamp() + seconds
        return self._sleep_until(until)

    async def _sleep_until(self, until: float) -> None:
        async with self._moved:
            await self._moved.wait_for(lambda: self._now.timestamp() >= until)

    async def move_to(self, moment: datetime) -> None:
        async with self._moved:
            self._now = moment
            self._moved.notify_all()


# --- the other services, for real -----------------------------------------------------------------------------


@dataclass
class Izmir:
    plans: PlansApplication
    partners: PartnersApplication


@contextmanager
def izmir(*, plans: bool = True) -> Iterator[Izmir]:
    """The İzmir plan, partners and protocols imported into in-memory applications."""
    plans_app = PlansApplication(env=eventsourcing_env("memory://"))
    partners_app = PartnersApplication(env=eventsourcing_env("memory://"))
    try:
        if plans:
            import_plan_file(plans_app, IZMIR / "plan.yaml", IMPORTER)
        import_partners_file(partners_app, IZMIR / "partners.yaml", IMPORTER)
        import_protocols_file(partners_app, IZMIR / "protocols.yaml", IMPORTER)
        yield Izmir(plans_app, partners_app)
    finally:
        plans_app.close()
        partners_app.close()


@asynccontextmanager
async def relaying(app: TrackedApplication, nats_url: str) -> AsyncIterator[Relay]:
    """The service's real relay to JetStream, running (and woken by saves) while the block runs."""
    relay = Relay(service=app.name, recorder=app.recorder, translate=cloudevent_translator(app), nats_url=nats_url,
                  poll_interval=0.05, retry_interval=0.1)
    app.on_new_events(relay.wake)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        yield relay
    finally:
        stop.set()
        await task


# --- the notifications service ----------------------------------------------------------------------------


@dataclass
class Notifications:
    api: FastAPI
    client: httpx.AsyncClient
    settings: NotificationsSettings
    application: NotificationsApplication
    engine: Engine

    @property
    def runtime(self) -> NotificationsRuntime:
        return self.api.state.runtime

    def headers(self, role: str = "coordinator", organisation_id: str | None = None, subject: str | None = None,
                scopes: tuple[str, ...] = ()) -> dict[str, str]:
        return bearer(self.settings, role, organisation_id, subject, scopes)

    def stored(self) -> int:
        return self.application.recorder.max_notification_id() or 0

    def delivery_rows(self, **where: Any) -> list[dict[str, Any]]:
        query = select(deliveries).order_by(deliveries.c.created_at, deliveries.c.id)
        for name, value in where.items():
            query = query.where(deliveries.c[name] == value)
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def delivery_count(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(deliveries)).scalar_one()


@asynccontextmanager
async def running_notifications(config: NotificationsSettings, engine: Engine,
                                clock: Any = None) -> AsyncIterator[Notifications]:
    """The service's API on ``engine``, its lifespan (and so its runtime) running in this event loop."""
    api = create_app(config, engine=engine, nats_url=config.nats_url, clock=clock)
    async with api.router.lifespan_context(api):
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://notifications.test") as client:
            yield Notifications(api, client, config, api.state.application, engine)


async def until(condition: Callable[[], Any], timeout: float = 30, poll: float = 0.02,
                what: str | Callable[[], str] = "") -> Any:
    """Poll ``condition`` until it is truthy (a guard against hangs: nothing is asserted about the time taken)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {(what() if callable(what) else what) or condition}"
        await asyncio.sleep(poll)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def feed(service: Notifications, app: TrackedApplication, after: int = 0) -> int:
    """Take the application's events after ``after`` in through the intake's own handler, in one transaction, as
    the consumers would from its stream; returns the last notification id taken in."""
    from sqlalchemy.orm import Session

    from izlek_notifications.intake.handler import Intake

    translate = cloudevent_translator(app)
    notifications = app.recorder.select_notifications(after + 1, 100_000)
    intake = Intake(service.application, clock=service.runtime.clock if service.api.state.runtime else None)
    with Session(service.engine) as session, session.begin():
        for notification in notifications:
            intake.handle(session, translate(notification).to_json_bytes())
    if service.api.state.runtime is not None:
        service.runtime.worker.wake()
    return notifications[-1].id if notifications else after
