"""Izlek deployed as in production for fault tests, and the accounts of what became of each command.

- `Stores`: a PostgreSQL database per store, on whichever server the test chooses (the machine's, through
  `throwaway_database`, or a cluster of the test's own that it kills).
- `deploy(...)`: the İzmir data imported with ``izlek import-plan``, ``import-partners`` and ``import-protocols``,
  then every part as a real ``izlek`` process: the plans and partners APIs, their relays, the gateway projector,
  and the notifications service with a webhook subscription to the commands' events, received by a
  `HoldingReceiver`.
- `Fault` and `endure(...)`: commands flow, the fault strikes, commands flow, the repair, and commands flow until
  a command accepted after the repair is seen in the read models and at the webhook; `RELAY`, `PROJECTOR`,
  `NOTIFICATIONS`, `NATS`, and `postgres_crash(cluster)` for a PostgreSQL cluster holding every store.
- `settle(...)`: poll until the relays, the projector and the notifications service have caught up.
- `observe(...)` and `Tally`: every command of the ledger looked for in the event stores, the JetStream streams,
  the gateway's audit table and the webhooks received, with the count of each place printed by the tests;
  `survive(...)` is the whole round: the stream through a fault, settling, and the tally.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import eventsourcing.persistence
import httpx
import nats
import nats.errors
import nats.js.errors
from command_stream import STATUS_CHANGED, CommandStream, Ledger, bearer
from conftest import EXAMPLES, IZLEK, ServiceProcess
from notifications_testing import HoldingReceiver, ReceivedRequest, smtp_server, verify_standard_webhook
from sqlalchemy import Engine, create_engine, func, select
from streams import StreamContents, read_stream

from izlek_common.cloudevents import NATS_NOTIFICATION_ID_HEADER, CloudEvent
from izlek_common.consumer import consumer_positions, dead_letters, is_transient_error
from izlek_common.eventsourced.application import TrackedApplication
from izlek_common.eventsourced.publishing import cloudevent_translator
from izlek_common.eventstore import eventsourcing_env
from izlek_common.nats_server import EmbeddedNatsServer, find_free_port
from izlek_common.testing.fixtures import PostgresDatabase
from izlek_gateway.read_models.database import create_read_model_engine, upgrade_database
from izlek_gateway.read_models.tables import entity_events
from izlek_notifications.state.tables import deliveries
from izlek_partners.application import PartnersApplication
from izlek_plans.application import PlansApplication

SERVICES = ("plans", "partners")
"""The services whose commands the stream sends, each with its event store, relay and stream."""
APPLICATIONS: dict[str, type[TrackedApplication]] = {"plans": PlansApplication, "partners": PartnersApplication}
WEBHOOK_EVENT_TYPES = [STATUS_CHANGED, "izlek.partners.purchase.*"]
"""The subscription's filter: every event an accepted command records (status changes, purchases recorded and
confirmed), none of the imported data's."""
PLACES = ("stored", "streamed", "projected", "delivered")
PHASE = 80
"""Commands accepted before a fault and after the system is seen to work again; commands answered during it."""
SETTLE_TIMEOUT = 240


# --- the stores and the processes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stores:
    """A database of its own for each store: the two event stores, the read models, the notifications'."""

    plans: PostgresDatabase
    partners: PostgresDatabase
    gateway: PostgresDatabase
    notifications: PostgresDatabase
    """The subscriptions' events and the service's state (deliveries, positions) side by side, as deployed."""


def deployment_env(stores: Stores, nats_url: str, var_dir: Path, smtp_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IZLEK_")}
    env.update({
        "IZLEK_ENVIRONMENT": "test",
        "IZLEK_NATS_URL": nats_url,
        "IZLEK_VAR_DIR": str(var_dir),
        "IZLEK_LOG_LEVEL": "INFO",
        # A killed relay or projector leaves its lease to expire: a short TTL lets the restarted one in soon.
        "IZLEK_LEASE_TTL_SECONDS": "2",
        "IZLEK_PLANS_EVENT_STORE_URL": stores.plans.url,
        "IZLEK_PARTNERS_EVENT_STORE_URL": stores.partners.url,
        "IZLEK_PLANS_RELAY_ENABLED": "false",
        "IZLEK_PARTNERS_RELAY_ENABLED": "false",
        "IZLEK_GATEWAY_DATABASE_URL": stores.gateway.sqlalchemy_url,
        "IZLEK_NOTIFICATIONS_EVENT_STORE_URL": stores.notifications.url,
        "IZLEK_NOTIFICATIONS_DATABASE_URL": stores.notifications.sqlalchemy_url,
        "IZLEK_NOTIFICATIONS_WEBHOOK_ALLOW": "127.0.0.1",
        "IZLEK_NOTIFICATIONS_WEBHOOK_TIMEOUT_SECONDS": "5",
        "IZLEK_NOTIFICATIONS_RETRY_BASE_SECONDS": "0.05",
        "IZLEK_NOTIFICATIONS_RETRY_CAP_SECONDS": "0.5",
        "IZLEK_NOTIFICATIONS_RETRY_ATTEMPTS": "100",
        "IZLEK_NOTIFICATIONS_DELIVERY_POLL_SECONDS": "0.2",
        "IZLEK_NOTIFICATIONS_SCHEDULER_ENABLED": "false",
        "IZLEK_NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
        "IZLEK_NOTIFICATIONS_SMTP_PORT": str(smtp_port),
        "IZLEK_NOTIFICATIONS_SMTP_SECURITY": "none",
        "COLUMNS": "200",
    })
    return env


class EventStore:
    """One service's event store, read through the service's own application and its CloudEvent mapping (what
    the relay publishes)."""

    def __init__(self, service: str, url: str) -> None:
        self.service = service
        self.url = url
        self._application: TrackedApplication | None = None

    def last_notification_id(self) -> int:
        return self._reading(lambda app: app.recorder.max_notification_id() or 0)

    def events(self) -> list[CloudEvent]:
        """Every stored event, in notification order."""

        def read(app: TrackedApplication) -> list[CloudEvent]:
            translate = cloudevent_translator(app)
            events, start = [], 1
            while batch := app.recorder.select_notifications(start, 1000):
                events += [translate(notification) for notification in batch]
                start = batch[-1].id + 1
            return events

        return self._reading(read)

    def close(self) -> None:
        if self._application is not None:
            self._application.close()
            self._application = None

    def _reading(self, read: Callable[[TrackedApplication], Any]) -> Any:
        if self._application is None:
            self._application = APPLICATIONS[self.service](env=eventsourcing_env(self.url))
        try:
            return read(self._application)
        except Exception:
            self.close()  # opened afresh next time, after a restart of the database
            raise


@dataclass
class Deployment:
    env: dict[str, str]
    stores: Stores
    nats: EmbeddedNatsServer
    processes: dict[str, ServiceProcess]
    receiver: HoldingReceiver
    webhook_secret: str
    event_stores: dict[str, EventStore]
    read_models: Engine
    notifications_state: Engine
    down: set[str] = field(default_factory=set)
    """What a fault took down and its repair has not brought back yet."""

    def url(self, name: str) -> str:
        return self.processes[name].base_url

    def command_stream(self, ledger: Ledger) -> CommandStream:
        return CommandStream(self.url("plans"), self.url("partners"), ledger)

    async def kill(self, *names: str) -> None:
        """SIGKILL the processes."""
        for name in names:
            await asyncio.to_thread(self.processes[name].kill)
            self.down.add(name)

    async def restart(self, *names: str) -> None:
        """Start the processes again (an API or a projector: until it answers /readyz); the event loop, and so the
        command stream and the receiver, keep running meanwhile."""
        await asyncio.gather(*(asyncio.to_thread(self.processes[name].start) for name in names))
        self.down -= set(names)

    def assert_running(self) -> None:
        """Every process a fault did not take down is alive: none exits on a fault of another part."""
        for name, process in self.processes.items():
            if name not in self.down:
                assert process.process is not None and process.process.poll() is None, (
                    f"{name} exited with {process.process and process.process.returncode}:\n{process.log_tail()}")

    def log_tails(self, lines: int = 15) -> str:
        return "\n".join(f"--- {name}\n{process.log_tail(lines)}" for name, process in self.processes.items())

    async def quiet_webhooks(self) -> None:
        """Hold every further webhook unanswered, and wait until one is held (a kill now lands with a webhook in
        flight) and each one answered so far is recorded as delivered (a kill now cannot make the service send any
        of them again; see `HoldingReceiver`)."""
        self.receiver.hold(after=sum(self.receiver.accepted.values()))

        def quiet() -> bool:
            answered = sum(self.receiver.accepted.values())
            return self.receiver.holding.is_set() and self.webhook_states().get("delivered", 0) == answered

        await eventually(self, lambda: asyncio.to_thread(quiet),
                         "a webhook held, and every one answered so far recorded as delivered")

    def webhook_states(self) -> dict[str, int]:
        """The webhook deliveries by state (pending, failed, delivered, dead)."""
        query = (select(deliveries.c.state, func.count()).where(deliveries.c.channel == "webhook")
                 .group_by(deliveries.c.state))
        with self.notifications_state.connect() as connection:
            return {state: count for state, count in connection.execute(query)}


def _distinct_free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:  # nothing listens on them yet, so the system could offer one twice
        if (port := find_free_port()) not in ports:
            ports.append(port)
    return ports


async def izlek(env: dict[str, str], *args: str) -> None:
    process = await asyncio.create_subprocess_exec(IZLEK, *args, env=env, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode(errors="replace")


async def import_izmir(env: dict[str, str]) -> None:
    """The İzmir plan, partners and protocols, through the services' import commands."""
    author = ("--author", "ayse@kedv.org.tr")

    async def partners_then_protocols() -> None:
        await izlek(env, "import-partners", str(EXAMPLES / "partners.yaml"), *author)
        await izlek(env, "import-protocols", str(EXAMPLES / "protocols.yaml"), *author)

    await asyncio.gather(izlek(env, "import-plan", str(EXAMPLES / "plan.yaml"), *author), partners_then_protocols())


async def start_processes(spawn: Callable[..., ServiceProcess], env: dict[str, str]) -> dict[str, ServiceProcess]:
    plans, partners, projector, notifications = _distinct_free_ports(4)
    commands: dict[str, tuple[list[str], dict[str, str], int | None]] = {
        "plans": (["serve", "plans", "--port", str(plans)], env, plans),
        "partners": (["serve", "partners", "--port", str(partners)], env, partners),
        "relay-plans": (["relay", "plans"], env, None),
        "relay-partners": (["relay", "partners"], env, None),
        "projector": (["gateway", "project"], {**env, "IZLEK_GATEWAY_PROJECTOR_PORT": str(projector)}, projector),
        "notifications": (["serve", "notifications", "--port", str(notifications)], env, notifications),
    }
    started = await asyncio.gather(*(asyncio.to_thread(spawn, args, process_env, name, port)
                                     for name, (args, process_env, port) in commands.items()))
    return dict(zip(commands, started, strict=True))


async def subscribe(notifications_url: str, receiver_url: str) -> str:
    """A coordinator's webhook subscription to the commands' events; returns its signing secret."""
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{notifications_url}/subscriptions",
            headers={"Authorization": f"Bearer {bearer('ayse@kedv.org.tr', 'coordinator', 'kedv')}"},
            json={"channel": {"type": "webhook", "url": receiver_url},
                  "filter": {"event_types": WEBHOOK_EVENT_TYPES}, "language": "tr"})
    assert response.status_code == 201, response.text
    return str(response.json()["secret"])


@contextlib.asynccontextmanager
async def deploy(spawn: Callable[..., ServiceProcess], nats_server: EmbeddedNatsServer, stores: Stores,
                 var_dir: Path) -> AsyncIterator[Deployment]:
    """Everything imported, started, subscribed, and settled on the imported data."""
    receiver = await HoldingReceiver().start()
    read_models = create_read_model_engine(stores.gateway.sqlalchemy_url, pool_pre_ping=True)
    notifications_state = create_engine(stores.notifications.sqlalchemy_url, pool_pre_ping=True)
    event_stores = {service: EventStore(service, getattr(stores, service).url) for service in SERVICES}
    try:
        with smtp_server() as (smtp_port, _):
            env = deployment_env(stores, nats_server.url, var_dir, smtp_port)
            await import_izmir(env)
            # Created here rather than by the projector, so that the read models can be counted from the start.
            await asyncio.to_thread(upgrade_database, read_models)
            processes = await start_processes(spawn, env)
            secret = await subscribe(processes["notifications"].base_url, receiver.url)
            deployment = Deployment(env, stores, nats_server, processes, receiver, secret, event_stores,
                                    read_models, notifications_state)
            try:
                await settle(deployment)
                yield deployment
            finally:  # all at once, rather than one after another by the `spawn` fixture
                await asyncio.gather(*(asyncio.to_thread(process.stop) for process in processes.values()))
    finally:
        receiver.release()
        await receiver.stop()
        for store in event_stores.values():
            store.close()
        read_models.dispose()
        notifications_state.dispose()


# --- faults ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    name: str
    strike: Callable[[Deployment], Awaitable[None]]
    repair: Callable[[Deployment], Awaitable[None]]
    outage: bool = False
    """The APIs cannot store commands meanwhile (a database outage): they may answer 503 or lose answers."""
    answers_during: int = PHASE
    """Commands answered between the strike and the repair."""


async def _kill_relays(deployment: Deployment) -> None:
    await deployment.kill("relay-plans", "relay-partners")


async def _restart_relays(deployment: Deployment) -> None:
    await deployment.restart("relay-plans", "relay-partners")


async def _kill_projector(deployment: Deployment) -> None:
    await deployment.kill("projector")


async def _restart_projector(deployment: Deployment) -> None:
    await deployment.restart("projector")


async def _kill_notifications(deployment: Deployment) -> None:
    await deployment.quiet_webhooks()
    await deployment.kill("notifications")


async def _restart_notifications(deployment: Deployment) -> None:
    await deployment.restart("notifications")
    # Requests the killed process sent in its last moments were read and held while the new one started; they
    # are closed unanswered, and the new process sends them again.
    deployment.receiver.release()


async def _kill_nats(deployment: Deployment) -> None:
    await asyncio.to_thread(deployment.nats.kill)
    deployment.down.add("nats")


async def _restart_nats(deployment: Deployment) -> None:
    await asyncio.to_thread(deployment.nats.start)  # the same port and store directory
    deployment.down.discard("nats")


RELAY = Fault("relay", _kill_relays, _restart_relays)
PROJECTOR = Fault("projector", _kill_projector, _restart_projector)
NOTIFICATIONS = Fault("notifications", _kill_notifications, _restart_notifications)
NATS = Fault("nats", _kill_nats, _restart_nats)


def postgres_crash(cluster: Any) -> Fault:
    """SIGKILL the postmaster of the cluster holding every store (a `postgres_cluster.PostgresCluster`), and start
    it again: it recovers from its WAL. Webhooks are quieted first, as for a kill of the notifications service,
    since the service cannot record a delivery while its database is away."""

    async def strike(deployment: Deployment) -> None:
        await deployment.quiet_webhooks()
        await asyncio.to_thread(cluster.kill)
        deployment.down.add("postgres")

    async def repair(deployment: Deployment) -> None:
        await asyncio.to_thread(cluster.start)
        deployment.down.discard("postgres")
        deployment.receiver.release()

    # Commands are refused within seconds while the database is away: a few answers make an outage.
    return Fault("postgres", strike, repair, outage=True, answers_during=20)


async def endure(deployment: Deployment, stream: CommandStream, fault: Fault, phase: int = PHASE) -> None:
    """While `stream` flows: `phase` commands accepted, the fault, the fault's `answers_during`, the repair, then
    commands until one accepted after the repair reaches the read models and the webhook, and `phase` more."""
    await stream.until_accepted(phase)
    await fault.strike(deployment)
    await stream.until_answered(fault.answers_during)
    await fault.repair(deployment)
    command = await stream.next_accepted()
    await eventually(deployment, lambda: reached_everywhere(deployment, command.correlation_id),
                     f"{command.correlation_id}, accepted after the repair, to be projected and delivered")
    await stream.until_accepted(phase)


async def reached_everywhere(deployment: Deployment, correlation_id: str) -> bool:
    delivered = any(200 <= (r.status or 0) < 300 and correlation_id.encode() in r.body
                    for r in deployment.receiver.requests)

    def projected() -> bool:
        query = select(func.count()).select_from(entity_events).where(entity_events.c.correlation_id == correlation_id)
        with deployment.read_models.connect() as connection:
            return bool(connection.execute(query).scalar_one())

    return delivered and await asyncio.to_thread(projected)


def _transient(exc: BaseException) -> bool:
    """A failure of something a fault took down, not of the system's accounts."""
    return is_transient_error(exc) or isinstance(exc, eventsourcing.persistence.OperationalError
                                                 | eventsourcing.persistence.InterfaceError
                                                 | nats.errors.Error | OSError)


async def eventually(deployment: Deployment, probe: Callable[[], Awaitable[bool]], what: str | Callable[[], str],
                     timeout: float = SETTLE_TIMEOUT, interval: float = 0.2) -> None:
    """Poll `probe` until it holds; the deadline only guards against a hang, nothing is asserted about the time
    taken. Every process must stay alive meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        deployment.assert_running()
        try:
            if await probe():
                return
        except Exception as exc:
            if not _transient(exc):
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what if isinstance(what, str) else what()}\n"
                                 f"{deployment.log_tails()}")
        await asyncio.sleep(interval)


async def survive(deployment: Deployment, ledger: Ledger, fault: Fault) -> Tally:
    """A stream of commands through `fault`, then settling, then the tally of every command in `ledger` so far."""
    started = time.monotonic()
    async with deployment.command_stream(ledger) as stream:
        await endure(deployment, stream, fault)
    await settle(deployment)
    result = tally(fault, ledger, await observe(deployment), deployment.webhook_secret)
    result.seconds = time.monotonic() - started
    return result


# --- settling --------------------------------------------------------------------------------------------------


@dataclass
class Progress:
    """How far each part has come, per service: its store, its stream, the projector and the notifications."""

    stored: dict[str, int]
    """The last notification id in the event store."""
    streamed: dict[str, tuple[int, int]]
    """The stream's last sequence, and the notification id of its last message."""
    projected: dict[str, int]
    taken_in: dict[str, int]
    """The stream sequence the notifications service applied last."""
    webhooks: dict[str, int]
    answered: int
    """Webhooks the receiver answered 2xx."""

    @property
    def settled(self) -> bool:
        return all(
            self.streamed[s][1] == self.stored[s] and self.projected[s] == self.streamed[s][0] == self.taken_in[s]
            for s in SERVICES
        ) and set(self.webhooks) <= {"delivered"} and self.webhooks.get("delivered", 0) == self.answered


async def stream_ends(nats_url: str) -> dict[str, tuple[int, int]]:
    nc = await nats.connect(nats_url, allow_reconnect=False, connect_timeout=2)
    try:
        js, ends = nc.jetstream(), {}
        for service in SERVICES:
            try:
                last_seq = (await js.stream_info(service.upper())).state.last_seq
            except nats.js.errors.NotFoundError:
                last_seq = 0
            last = await js.get_msg(service.upper(), seq=last_seq) if last_seq else None
            ends[service] = (last_seq, int(last.headers[NATS_NOTIFICATION_ID_HEADER]) if last else 0)
        return ends
    finally:
        await nc.close()


def positions(engine: Engine, consumer: str) -> dict[str, int]:
    query = select(consumer_positions.c.consumer, consumer_positions.c.last_stream_seq)
    with engine.connect() as connection:
        found = {consumer: seq for consumer, seq in connection.execute(query)}
    return {service: int(found.get(f"{consumer}-from-{service}", 0)) for service in SERVICES}


async def progress(deployment: Deployment) -> Progress:
    stored = {service: await asyncio.to_thread(store.last_notification_id)
              for service, store in deployment.event_stores.items()}
    return Progress(
        stored=stored,
        streamed=await stream_ends(deployment.nats.url),
        projected=await asyncio.to_thread(positions, deployment.read_models, "gateway"),
        taken_in=await asyncio.to_thread(positions, deployment.notifications_state, "notifications"),
        webhooks=await asyncio.to_thread(deployment.webhook_states),
        answered=sum(deployment.receiver.accepted.values()),
    )


async def settle(deployment: Deployment) -> Progress:
    """Wait until every stored event is in its stream, projected, taken in by the notifications service, and every
    webhook is delivered."""
    latest: Progress | None = None

    async def settled() -> bool:
        nonlocal latest
        latest = await progress(deployment)
        return latest.settled

    await eventually(deployment, settled, lambda: f"the system to settle; last seen {latest}")
    assert latest is not None
    return latest


# --- the accounts ----------------------------------------------------------------------------------------------


@dataclass
class Observation:
    """Everything there is to count, read once the system has settled."""

    stored: dict[str, list[CloudEvent]]
    streamed: dict[str, StreamContents]
    projected: list[tuple[str, int, str | None]]
    """(service, notification id, correlation id) of each audit row."""
    webhooks: list[ReceivedRequest]
    """The requests the receiver answered 2xx."""
    webhook_answers: Counter[str]
    """2xx answers per webhook-id."""
    unanswered_webhooks: int
    """Requests the receiver closed without an answer (held across a kill), which the service sent again."""
    dead_letters: list[str]

    def found(self) -> dict[str, Counter[str]]:
        """Per place, how many events each correlation id has there."""
        return {
            "stored": Counter(e.correlationid for events in self.stored.values() for e in events),
            "streamed": Counter(e.correlationid for contents in self.streamed.values() for e in contents.events),
            "projected": Counter(correlation_id for _, _, correlation_id in self.projected),
            "delivered": Counter(CloudEvent.from_json_bytes(r.body).correlationid for r in self.webhooks),
        }


async def observe(deployment: Deployment) -> Observation:
    def audit_rows() -> list[tuple[str, int, str | None]]:
        query = select(entity_events.c.service, entity_events.c.notification_id, entity_events.c.correlation_id)
        with deployment.read_models.connect() as connection:
            return [(s, int(n), c) for s, n, c in connection.execute(query)]

    def set_aside() -> list[str]:
        return [f"{d.consumer} seq {d.stream_seq}: {d.error.splitlines()[-1]}"
                for engine in (deployment.read_models, deployment.notifications_state) for d in dead_letters(engine)]

    return Observation(
        stored={s: await asyncio.to_thread(store.events) for s, store in deployment.event_stores.items()},
        streamed={s: await read_stream(deployment.nats.url, s.upper()) for s in SERVICES},
        projected=await asyncio.to_thread(audit_rows),
        webhooks=[r for r in deployment.receiver.requests if r.status is not None and 200 <= r.status < 300],
        webhook_answers=Counter(deployment.receiver.accepted),
        unanswered_webhooks=sum(1 for r in deployment.receiver.requests if r.status is None),
        dead_letters=await asyncio.to_thread(set_aside),
    )


@dataclass
class Tally:
    """Where each command of the ledger left its event, and every way in which that is not exactly once."""

    fault: str
    ledger: Ledger
    found: dict[str, Counter[str]]
    problems: list[str]
    unanswered_webhooks: int
    seconds: float = 0.0
    """How long the round took (printed, never asserted)."""

    def exactly_once(self, place: str) -> int:
        return sum(1 for c in self.ledger.accepted if self.found[place][c.correlation_id] == 1)

    def line(self) -> str:
        counts = " ".join(f"{place}={self.exactly_once(place)}" for place in PLACES)
        refusals = ", ".join(f"{status}: {n}" for status, n in sorted(self.ledger.rejections().items()))
        unknown = self.ledger.unknown
        present = sum(1 for c in unknown if self.found["stored"][c.correlation_id])
        lost = f" unknown={len(unknown)} (present={present}, absent={len(unknown) - present})" if unknown else ""
        return (f"faults[{self.fault}]: accepted={len(self.ledger.accepted)} rejected={len(self.ledger.rejected)}"
                f"{lost} {counts} (rejections {refusals}; webhooks unanswered and sent again "
                f"{self.unanswered_webhooks}; {self.seconds:.0f}s)")


def tally(fault: Fault, ledger: Ledger, observation: Observation, webhook_secret: str) -> Tally:
    found = observation.found()
    problems = [f"answered otherwise than expected: {c}" for c in ledger.unexpected(outage=fault.outage)]
    stored_types = {e.correlationid: e.type for events in observation.stored.values() for e in events}
    for command in ledger.accepted:
        counts = {place: found[place][command.correlation_id] for place in PLACES}
        if set(counts.values()) != {1}:
            problems.append(f"accepted {command}, but found {counts}")
        elif stored_types[command.correlation_id] != command.event_type:
            problems.append(f"accepted {command}, but stored as {stored_types[command.correlation_id]}")
    for command in ledger.rejected:
        counts = {place: found[place][command.correlation_id] for place in PLACES}
        if any(counts.values()):
            problems.append(f"rejected {command}, but found {counts}")
    for command in ledger.unknown:  # either wholly there or wholly absent
        counts = {place: found[place][command.correlation_id] for place in PLACES}
        if set(counts.values()) not in ({0}, {1}):
            problems.append(f"answer lost for {command}, and found {counts}")

    stored_ids = {s: [e.notificationid for e in events] for s, events in observation.stored.items()}
    for service, contents in observation.streamed.items():
        if contents.notification_ids != stored_ids[service]:
            differences = _differences(contents.notification_ids, stored_ids[service])
            problems.append(f"stream {service.upper()} holds notifications {differences}")
        if contents.msg_ids != [f"{service}:{n}" for n in contents.notification_ids]:
            problems.append(f"stream {service.upper()} has messages with other Nats-Msg-Ids than their events")
    projected = sorted((s, n) for s, n, _ in observation.projected)
    expected = sorted((s, n) for s, ids in stored_ids.items() for n in ids)
    if projected != expected:
        problems.append(f"audit rows differ from the stored events: {_differences(projected, expected)}")

    delivered = [CloudEvent.from_json_bytes(r.body) for r in observation.webhooks]
    if unsigned := [r.headers.get("webhook-id") for r in observation.webhooks
                    if not verify_standard_webhook(webhook_secret, r.headers, r.body)]:
        problems.append(f"webhooks without a valid signature: {unsigned[:10]}")
    if twice := {webhook_id: n for webhook_id, n in observation.webhook_answers.items() if n != 1}:
        problems.append(f"webhook-ids answered 2xx more than once: {twice}")
    if repeated := {i: n for i, n in Counter(e.id for e in delivered).items() if n != 1}:
        problems.append(f"events delivered more than once: {repeated}")
    stored_event_ids = {e.id for events in observation.stored.values() for e in events}
    if strangers := [e.id for e in delivered if e.id not in stored_event_ids]:
        problems.append(f"delivered events that were never stored: {strangers[:10]}")
    if observation.dead_letters:
        problems.append(f"messages set aside: {observation.dead_letters[:10]}")
    return Tally(fault.name, ledger, found, problems, observation.unanswered_webhooks)


def _differences(actual: list[Any], expected: list[Any]) -> str:
    missing = Counter(expected) - Counter(actual)
    extra = Counter(actual) - Counter(expected)
    return (f"{len(actual)} against {len(expected)} stored; missing {sorted(missing)[:10]}, extra or repeated "
            f"{sorted(extra)[:10]}, {'same' if not missing and not extra else 'different'} order")
