"""PostgreSQL crashes (SIGKILL of its postmaster) under running services, and comes back.

Proven against real `izlek serve` processes whose databases are on a PostgreSQL cluster of the test's own:

- plans and partners, under a steady stream of commands from concurrent clients: every command is answered within
  `ANSWER_BOUND_SECONDS` (a bound that only a hang can break, not a performance figure), either accepted or, while
  the database is down, refused 503 problem+json with ``Retry-After`` saying the database is unavailable (and
  nothing of its connection settings); ``/readyz`` says not ready; once PostgreSQL has restarted (replaying its
  WAL) the same processes accept commands again by themselves; and the event store holds the event of every
  accepted command exactly once, nothing of a refused one, and of a command whose answer was lost all or nothing;
- the gateway's GraphQL reads and the notifications API (its subscriptions' events and its state on PostgreSQL)
  answer 503 problem+json while their database is down and recover by themselves; no refused subscription is kept.

Each test prints a line of counts (``postgres-outage: accepted=… refused_503=…``) that shows in CI's output.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest
from conftest import EXAMPLES, IZLEK, ServiceProcess
from postgres_cluster import PostgresCluster

from izlek_common.auth import issue_token
from izlek_common.nats_server import find_free_port
from izlek_common.settings import CommonSettings
from izlek_common.testing.fixtures import PostgresDatabase
from izlek_partners.domain.protocol import Protocol
from izlek_plans.domain.plan import ActionPlan

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

ANSWER_BOUND_SECONDS = 10.0
"""The longest a request may wait for its answer, outage or not. A request waits at most 2 s for a connection
(twice when a command's read succeeded before its write failed); the rest is margin for a loaded 2-core machine."""
RECOVERY_BOUND_SECONDS = 30.0
"""How soon after PostgreSQL accepts connections again a service must accept commands again."""
OUTAGE_SECONDS = 6.0
STEADY_SECONDS = 3.0
"""How long the stream runs before the crash, and at least after the restart."""
CLIENTS_PER_SERVICE = 3
PAUSE_SECONDS = 0.05
"""Between two commands of one client: a steady stream that leaves the machine's other work some room."""
ACCEPTED_AFTER_RESTART = 15
"""Commands each service must accept after the restart before the stream stops."""
PASSWORD = "izlek-outage-secret"
"""Given in every URL (trust authentication ignores it); a 503 must never show it."""

IMPORTER = "import@kedv.org.tr"
PLAN = ActionPlan.create_id("izmir-eylem-plani")
IBB = "izmir-buyuksehir-belediyesi"
URLA = "ss-urla-kadin-girisimi-uretim-ve-isletme-kooperatifi"
IBB_PROTOCOL = Protocol.create_id("prot-2019-kedv-izmir-buyuksehir-belediyesi")


def bearer(subject: str, role: str, organisation: str = "kedv") -> dict[str, str]:
    token = issue_token(CommonSettings(environment="test"), subject=subject, role=role, organisation_id=organisation)
    return {"Authorization": f"Bearer {token}"}


COORDINATOR = bearer("zeynep@kedv.org.tr", "coordinator")
AUDITOR = bearer("denetci@kedv.org.tr", "auditor")


def libpq_url(database: PostgresDatabase) -> str:
    return f"postgresql://{database.user}:{PASSWORD}@{database.host}:{database.port}/{database.dbname}"


def sqlalchemy_url(database: PostgresDatabase) -> str:
    return libpq_url(database).replace("postgresql://", "postgresql+psycopg://")


def environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The services' environment: the test's own settings only (no NATS: the relays are not what is tested)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IZLEK_")}
    env.update({"IZLEK_ENVIRONMENT": "test", "IZLEK_VAR_DIR": str(tmp_path / "var"), "IZLEK_LOG_LEVEL": "INFO",
                "COLUMNS": "200", **settings})
    return env


def izlek(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([IZLEK, *args], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def serve(spawn: Callable[..., ServiceProcess], env: dict[str, str], service: str) -> ServiceProcess:
    port = find_free_port()
    return spawn(["serve", service, "--port", str(port)], env, service, port=port)


# --- clients and what they were answered ---------------------------------------------------------------------


@dataclass
class Outcome:
    """One command: the token it stored, when it was sent and answered, and the answer (None: none came)."""

    service: str
    token: str
    sent_at: float
    answered_at: float
    status: int | None = None
    content_type: str = ""
    retry_after: str | None = None
    body: Any = None
    text: str = ""
    timed_out: bool = False

    @property
    def seconds(self) -> float:
        return self.answered_at - self.sent_at

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def refused(self) -> bool:
        return self.status == 503

    @property
    def unknown(self) -> bool:
        return self.status is None


Send = Callable[[httpx.AsyncClient, str], Awaitable[httpx.Response]]


class CommandStream:
    """Clients that send commands, each carrying a token of its own, until stopped; every answer is kept."""

    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, service: str, name: str, send: Send) -> None:
        self._tasks.append(asyncio.create_task(self._client(service, name, send), name=name))

    async def _client(self, service: str, name: str, send: Send) -> None:
        # The client's own timeout lies far beyond the bound, so that a hang is measured rather than cut short.
        async with httpx.AsyncClient(timeout=3 * ANSWER_BOUND_SECONDS) as http:
            number = 0
            while not self._stop.is_set():
                number += 1
                token = f"{name}-{number:05d}"
                outcome = Outcome(service, token, sent_at=time.monotonic(), answered_at=0.0)
                try:
                    response = await send(http, token)
                except httpx.TimeoutException:
                    outcome.timed_out = True
                except httpx.TransportError:
                    pass
                else:
                    outcome.status = response.status_code
                    outcome.content_type = response.headers.get("content-type", "")
                    outcome.retry_after = response.headers.get("retry-after")
                    outcome.text = response.text
                    if "json" in outcome.content_type:
                        outcome.body = response.json()
                outcome.answered_at = time.monotonic()
                self.outcomes.append(outcome)
                await asyncio.sleep(PAUSE_SECONDS)

    def accepted_since(self, service: str, moment: float) -> int:
        return sum(1 for o in self.outcomes if o.service == service and o.accepted and o.sent_at >= moment)

    async def until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s; {self.summary()}"
            assert all(not task.done() for task in self._tasks), [t.exception() for t in self._tasks if t.done()]
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    def summary(self) -> dict[str, int]:
        return dict(Counter(f"{o.service}:{o.status}" for o in self.outcomes))


def assert_refused_as_database_unavailable(outcome: Outcome) -> None:
    assert outcome.content_type == "application/problem+json", outcome
    assert outcome.retry_after is not None and int(outcome.retry_after) > 0, outcome
    assert outcome.body["status"] == 503 and outcome.body["title"] == "Service unavailable", outcome
    assert "database is unavailable" in outcome.body["detail"], outcome
    for secret in (PASSWORD, "Traceback", "postgresql://"):
        assert secret not in outcome.text, outcome


async def readiness(client: httpx.AsyncClient, service: ServiceProcess) -> tuple[int, float]:
    started = time.monotonic()
    response = await client.get(f"{service.base_url}/readyz")
    return response.status_code, time.monotonic() - started


# --- what the stores hold ----------------------------------------------------------------------------------


def stored_counts(database: PostgresDatabase, table: str, tokens: list[str]) -> Counter[str]:
    """How many stored events carry each token (a token is a JSON string in the event's state)."""
    with psycopg.connect(database.url) as connection:
        states = [row[0] for row in connection.execute(
            f"SELECT convert_from(state, 'UTF8') FROM {table} WHERE position('outage-' in convert_from(state, 'UTF8')) > 0")]
    wanted = {f'"{token}"': token for token in tokens}
    counts: Counter[str] = Counter()
    for state in states:
        for quoted, token in wanted.items():
            if quoted in state:
                counts[token] += 1
    return counts


# --- the tests ---------------------------------------------------------------------------------------------


async def test_commands_during_a_postgres_crash_are_refused_fast_and_the_services_recover_by_themselves(
        postgres_cluster: PostgresCluster, spawn, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plans_store, partners_store = postgres_cluster.database(), postgres_cluster.database()
    env = environment(tmp_path, IZLEK_PLANS_EVENT_STORE_URL=libpq_url(plans_store),
                      IZLEK_PARTNERS_EVENT_STORE_URL=libpq_url(partners_store))
    izlek(env, "import-plan", str(EXAMPLES / "plan.yaml"), "--author", IMPORTER)
    izlek(env, "import-partners", str(EXAMPLES / "partners.yaml"), "--author", IMPORTER)
    izlek(env, "import-protocols", str(EXAMPLES / "protocols.yaml"), "--author", IMPORTER)
    plans, partners = serve(spawn, env, "plans"), serve(spawn, env, "partners")
    pids = {plans.process.pid, partners.process.pid}

    async with httpx.AsyncClient(timeout=30, headers=COORDINATOR) as http:
        listed = await http.get(f"{plans.base_url}/plans/{PLAN}/commitments")
        assert listed.status_code == 200, listed.text
        commitments = [UUID(c["id"]) for c in listed.json()[:CLIENTS_PER_SERVICE]]

        stream = CommandStream()
        for n, commitment_id in enumerate(commitments):
            # One commitment per client: no client's command conflicts with another's.
            async def add_evidence(client: httpx.AsyncClient, token: str, commitment_id: UUID = commitment_id):
                return await client.post(f"{plans.base_url}/commitments/{commitment_id}/evidence",
                                         json={"reference": token}, headers=COORDINATOR)

            stream.start("plans", f"outage-plans-{n}", add_evidence)
        for n in range(CLIENTS_PER_SERVICE):
            async def record_purchase(client: httpx.AsyncClient, token: str) -> httpx.Response:
                return await client.post(f"{partners.base_url}/purchases", headers=COORDINATOR, json={
                    "municipality_code": IBB, "cooperative_code": URLA, "protocol_id": str(IBB_PROTOCOL),
                    "amount": "1156.50", "category": "catering", "purchased_on": "2024-03-01",
                    "invoice_reference": token})

            stream.start("partners", f"outage-partners-{n}", record_purchase)

        started = time.monotonic()
        await stream.until(lambda: time.monotonic() - started > STEADY_SECONDS and min(
            stream.accepted_since(s, started) for s in ("plans", "partners")) >= 10, 60, "accepting commands")

        postgres_cluster.kill()
        killed_at = time.monotonic()
        ready_during = await asyncio.gather(readiness(http, plans), readiness(http, partners))
        await asyncio.sleep(OUTAGE_SECONDS)
        restarting_at = time.monotonic()
        await asyncio.to_thread(postgres_cluster.start)
        restarted_at = time.monotonic()
        await stream.until(lambda: time.monotonic() - restarted_at > STEADY_SECONDS and min(
            stream.accepted_since(s, restarted_at) for s in ("plans", "partners")) >= ACCEPTED_AFTER_RESTART,
            60 + RECOVERY_BOUND_SECONDS, "accepting commands again")
        await stream.stop()
        ready_after = await asyncio.gather(readiness(http, plans), readiness(http, partners))

    outcomes = stream.outcomes
    assert not [o for o in outcomes if o.timed_out], "a command was never answered"
    slow = [o for o in outcomes if o.seconds > ANSWER_BOUND_SECONDS]
    assert not slow, f"{len(slow)} commands waited longer than {ANSWER_BOUND_SECONDS} s, e.g. {slow[:3]}"
    assert not [o for o in outcomes if not (o.accepted or o.refused or o.unknown)], stream.summary()
    refused = [o for o in outcomes if o.refused]
    for outcome in refused:
        assert_refused_as_database_unavailable(outcome)
    # Sent once the server was gone and answered before it was started again: only refusals.
    during = [o for o in outcomes if o.sent_at > killed_at + 0.2 and o.answered_at < restarting_at]
    assert during and all(o.refused for o in during), Counter(o.status for o in during)
    for service in ("plans", "partners"):
        assert any(o.service == service for o in during), f"no command reached {service} during the outage"
    assert [status for status, _ in ready_during] == [503, 503], ready_during
    assert [status for status, _ in ready_after] == [200, 200], ready_after
    recovered_after = max(
        min(o.answered_at for o in outcomes if o.service == service and o.accepted and o.sent_at >= restarted_at)
        - restarted_at for service in ("plans", "partners"))
    assert recovered_after < RECOVERY_BOUND_SECONDS
    # The same processes throughout: nothing was restarted but PostgreSQL.
    assert all(p.process.poll() is None for p in (plans, partners))
    assert {p.process.pid for p in (plans, partners)} == pids

    stored: Counter[str] = Counter()
    for service, database, table in (("plans", plans_store, "plans_events"),
                                     ("partners", partners_store, "partners_events")):
        stored += stored_counts(database, table, [o.token for o in outcomes if o.service == service])
    accepted = [o for o in outcomes if o.accepted]
    unknown = [o for o in outcomes if o.unknown]
    assert [o.token for o in accepted if stored[o.token] != 1] == [], "an accepted command is not stored once"
    assert [o.token for o in refused if stored[o.token] != 0] == [], "a refused command left an event"
    assert [o.token for o in unknown if stored[o.token] > 1] == [], "a command whose answer was lost is stored twice"

    with capsys.disabled():
        print(f"\npostgres-outage: accepted={len(accepted)} refused_503={len(refused)} unknown={len(unknown)} "
              f"stored={sum(stored.values())} max_refusal_seconds={max(o.seconds for o in refused):.2f} "
              f"max_answer_seconds={max(o.seconds for o in outcomes):.2f} "
              f"readyz_during_outage_seconds={max(s for _, s in ready_during):.2f} "
              f"recovered_after_seconds={recovered_after:.2f}")


async def test_the_gateway_and_notifications_answer_503_while_their_database_is_down_and_recover(
        postgres_cluster: PostgresCluster, spawn, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    read_models, notifications_store = postgres_cluster.database(), postgres_cluster.database()
    env = environment(tmp_path, IZLEK_GATEWAY_DATABASE_URL=sqlalchemy_url(read_models),
                      IZLEK_NOTIFICATIONS_EVENT_STORE_URL=libpq_url(notifications_store),
                      IZLEK_NOTIFICATIONS_DATABASE_URL=sqlalchemy_url(notifications_store))
    gateway, notifications = serve(spawn, env, "gateway"), serve(spawn, env, "notifications")
    subscription_number = 0

    async def query(http: httpx.AsyncClient) -> httpx.Response:
        return await http.post(f"{gateway.base_url}/graphql", headers=AUDITOR,
                               json={"query": "{ commitments(first: 1) { totalCount } }"})

    async def subscribe(http: httpx.AsyncClient) -> httpx.Response:
        nonlocal subscription_number
        subscription_number += 1
        return await http.post(f"{notifications.base_url}/subscriptions", headers=COORDINATOR, json={
            "channel": {"type": "email", "address": f"izleme-{subscription_number}@kedv.org.tr"}})

    async def deliveries(http: httpx.AsyncClient) -> httpx.Response:
        return await http.get(f"{notifications.base_url}/deliveries", headers=COORDINATOR)

    requests = {"graphql": query, "subscribe": subscribe, "deliveries": deliveries}
    refusals: list[tuple[str, Outcome]] = []
    accepted_subscriptions = 0

    async def ask(http: httpx.AsyncClient, name: str) -> Outcome:
        nonlocal accepted_subscriptions
        outcome = Outcome(name, name, sent_at=time.monotonic(), answered_at=0.0)
        response = await requests[name](http)
        outcome.answered_at = time.monotonic()
        outcome.status, outcome.content_type = response.status_code, response.headers.get("content-type", "")
        outcome.retry_after, outcome.text = response.headers.get("retry-after"), response.text
        outcome.body = response.json() if "json" in outcome.content_type else None
        if name == "subscribe" and outcome.accepted:
            accepted_subscriptions += 1
        return outcome

    async with httpx.AsyncClient(timeout=3 * ANSWER_BOUND_SECONDS) as http:
        for name in requests:
            before = await ask(http, name)
            assert before.accepted, before

        postgres_cluster.kill()
        for _ in range(3):
            for name in requests:
                outcome = await ask(http, name)
                assert outcome.refused, outcome
                assert_refused_as_database_unavailable(outcome)
                refusals.append((name, outcome))
        ready_during = await asyncio.gather(readiness(http, gateway), readiness(http, notifications))
        assert [status for status, _ in ready_during] == [503, 503], ready_during

        await asyncio.to_thread(postgres_cluster.start)
        restarted_at = time.monotonic()
        recovered: dict[str, float] = {}
        while len(recovered) < len(requests):
            assert time.monotonic() - restarted_at < RECOVERY_BOUND_SECONDS, f"recovered only {recovered}"
            for name in requests:
                if name not in recovered and (outcome := await ask(http, name)).accepted:
                    recovered[name] = outcome.answered_at - restarted_at
                elif name not in recovered:
                    assert outcome.refused, outcome
            await asyncio.sleep(0.2)
        ready_after = await asyncio.gather(readiness(http, gateway), readiness(http, notifications))
        assert [status for status, _ in ready_after] == [200, 200], ready_after
        kept = await http.get(f"{notifications.base_url}/subscriptions", headers=COORDINATOR)
        assert kept.status_code == 200, kept.text
        assert len(kept.json()) == accepted_subscriptions, "a refused subscription was kept"

    slowest = {name: max(o.seconds for n, o in refusals if n == name) for name in requests}
    assert max(slowest.values()) < ANSWER_BOUND_SECONDS, slowest
    assert all(p.process.poll() is None for p in (gateway, notifications))
    counts = Counter(name for name, _ in refusals)
    with capsys.disabled():
        print("\npostgres-outage-read-side: "
              + " ".join(f"{name}_refused_503={counts[name]}" for name in requests)
              + " " + " ".join(f"{name}_max_refusal_seconds={slowest[name]:.2f}" for name in requests)
              + f" readyz_during_outage_seconds={max(s for _, s in ready_during):.2f}"
              f" recovered_after_seconds={max(recovered.values()):.2f}")
