"""End to end: two relays of one stream, and two gateway projectors on one read-model database, as real processes
beside a real nats-server. One of each works while the other waits; SIGKILL the one at work and the other takes
over once its lease has expired (IZLEK_LEASE_TTL_SECONDS=2 here), and every event is still in the stream once and
in the read models once."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from conftest import EXAMPLES, IZLEK, ServiceProcess
from sqlalchemy import Engine, distinct, func, select, tuple_
from streams import StreamWatcher, read_stream, stream_message_count

from izlek_common.consumer import consumer_positions
from izlek_common.domain.stamp import Author, Stamp
from izlek_common.eventstore import eventsourcing_env
from izlek_common.nats_server import find_free_port
from izlek_common.testing.fixtures import PostgresDatabase
from izlek_gateway.read_models.database import create_read_model_engine, upgrade_database
from izlek_gateway.read_models.tables import entity_events
from izlek_plans.application import PlansApplication

pytestmark = [pytest.mark.postgres, pytest.mark.nats, pytest.mark.timeout(240)]

IZMIR_PLAN_EVENTS = 238
IZMIR_PARTNERS_EVENTS = 52 + 8


def izlek(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([IZLEK, *args], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def change_statuses(store_url: str, count: int) -> int:
    """`count` commitment status changes written straight to the plans store; returns the events it holds."""
    app = PlansApplication(env=eventsourcing_env(store_url))
    try:
        commitment_ids = app.list_plans()[0].commitment_ids
        stamp = Stamp(Author("ayse@kedv.org.tr", "coordinator", "kedv"))
        for n in range(count):
            status = "in_progress" if (n // len(commitment_ids)) % 2 == 0 else "planned"
            app.change_commitment_status(commitment_ids[n % len(commitment_ids)], status, stamp)
        return app.recorder.max_notification_id()
    finally:
        app.close()


def stored_notification_ids(store_url: str) -> list[int]:
    app = PlansApplication(env=eventsourcing_env(store_url))
    try:
        ids, start = [], 1
        while batch := app.recorder.select_notifications(start, 5000):
            ids.extend(n.id for n in batch)
            start = batch[-1].id + 1
        return ids
    finally:
        app.close()


def log_events(process: ServiceProcess) -> list[dict]:
    """The structured log lines the process wrote so far."""
    lines = []
    for line in process.log_path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


def logged(process: ServiceProcess, event: str) -> list[dict]:
    return [line for line in log_events(process) if line.get("event") == event]


async def until(condition: Callable[[], bool], process: ServiceProcess | None = None, timeout: float = 90,
                poll: float = 0.01) -> None:
    """Poll `condition` (a guard against hangs only: nothing is asserted about how long it took)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None:
            assert process.process is not None and process.process.poll() is None, process.log_tail()
        assert time.monotonic() < deadline, process.log_tail() if process else "timed out"
        await asyncio.sleep(poll)


async def holder_and_waiter(a: ServiceProcess, b: ServiceProcess) -> tuple[ServiceProcess, ServiceProcess]:
    """Of two processes contending for one lease, the one that holds it and the one that waits for it."""
    def settled() -> bool:
        return bool((logged(a, "lease.acquired") and logged(b, "lease.waiting"))
                    or (logged(b, "lease.acquired") and logged(a, "lease.waiting")))

    await until(settled, a)
    holder, waiter = (a, b) if logged(a, "lease.acquired") else (b, a)
    assert logged(waiter, "lease.waiting")[0]["held_by"] == logged(holder, "lease.acquired")[0]["holder"]
    return holder, waiter


async def test_of_two_relays_one_publishes_and_when_it_is_killed_the_other_publishes_every_event_once(
    service_env, spawn, nats_server, postgres_database
):
    izlek(service_env, "import-plan", str(EXAMPLES / "plan.yaml"))
    relay_env = {**service_env, "IZLEK_PLANS_RELAY_BATCH_SIZE": "5"}
    holder, waiter = await holder_and_waiter(spawn(["relay", "plans"], relay_env, "relay-a"),
                                             spawn(["relay", "plans"], relay_env, "relay-b"))

    async with StreamWatcher(nats_server.url, "PLANS") as stream:
        # Commands keep being stored while the relay at work is killed.
        writing = asyncio.create_task(asyncio.to_thread(change_statuses, postgres_database.url, 1200))
        deadline = time.monotonic() + 60
        while await stream.count() < IZMIR_PLAN_EVENTS + 200:
            assert time.monotonic() < deadline, holder.log_tail()
            await asyncio.sleep(0.002)
        assert not logged(waiter, "relay.started"), "the waiting relay published nothing meanwhile"
        holder.kill()
        at_kill = await stream.count()
        total = await writing

    assert at_kill < total, "killed mid-backlog"
    await until(lambda: logged(waiter, "relay.started"), waiter)
    stored = stored_notification_ids(postgres_database.url)
    deadline = time.monotonic() + 60
    while await stream_message_count(nats_server.url, "PLANS") < len(stored):
        assert time.monotonic() < deadline, waiter.log_tail()
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # a late duplicate would show up now
    contents = await read_stream(nats_server.url, "PLANS")
    print(f"stored {len(stored)}, in the stream when the relay at work was killed {at_kill}, "
          f"in the stream at the end {len(contents.events)}")
    assert len(stored) == total == IZMIR_PLAN_EVENTS + 1200
    assert contents.notification_ids == stored, "every stored event once, in store order"
    assert contents.msg_ids == [f"plans:{n}" for n in stored]
    assert [line["event"] for line in log_events(waiter) if line.get("event", "").startswith("lease.")][:2] == [
        "lease.waiting", "lease.acquired"]


@pytest.fixture
def read_models(postgres_database: PostgresDatabase) -> Iterator[Engine]:
    engine = create_read_model_engine(postgres_database.sqlalchemy_url)
    upgrade_database(engine)
    yield engine
    engine.dispose()


def projected(engine: Engine) -> tuple[int, int, int]:
    """(audit rows, distinct events among them, sum of the consumers' positions), from one snapshot."""
    query = select(
        select(func.count()).select_from(entity_events).scalar_subquery(),
        select(func.count(distinct(tuple_(entity_events.c.service, entity_events.c.notification_id))))
        .scalar_subquery(),
        select(func.coalesce(func.sum(consumer_positions.c.last_stream_seq), 0)).scalar_subquery(),
    )
    with engine.connect() as connection:
        rows, distinct_events, positions = connection.execute(query).one()
    return int(rows), int(distinct_events), int(positions)


async def test_of_two_gateway_projectors_one_projects_and_when_it_is_killed_the_other_applies_every_event_once(
    service_env, spawn, nats_server, postgres_database, read_models, tmp_path: Path
):
    env = {
        **service_env,
        "IZLEK_PLANS_EVENT_STORE_URL": f"sqlite:///{tmp_path / 'plans.sqlite'}",
        "IZLEK_PARTNERS_EVENT_STORE_URL": f"sqlite:///{tmp_path / 'partners.sqlite'}",
        "IZLEK_GATEWAY_DATABASE_URL": postgres_database.sqlalchemy_url,
        "IZLEK_GATEWAY_PROJECTOR_BATCH_SIZE": "10",
    }
    izlek(env, "import-plan", str(EXAMPLES / "plan.yaml"))
    izlek(env, "import-partners", str(EXAMPLES / "partners.yaml"))
    izlek(env, "import-protocols", str(EXAMPLES / "protocols.yaml"))
    spawn(["relay", "plans"], env, "relay-plans")
    spawn(["relay", "partners"], env, "relay-partners")
    ports = {"projector-a": find_free_port(), "projector-b": find_free_port()}
    projectors = [spawn(["gateway", "project"], {**env, "IZLEK_GATEWAY_PROJECTOR_PORT": str(port)}, name)
                  for name, port in ports.items()]
    holder, waiter = await holder_and_waiter(*projectors)
    for projector in projectors:
        # Both answer their probes, the one waiting for the lease as well as the one at work.
        port = ports[projector.log_path.stem]
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).json() == {"status": "ready"}

    # Commands keep being stored and relayed while the projector at work is killed.
    writing = asyncio.create_task(asyncio.to_thread(change_statuses, env["IZLEK_PLANS_EVENT_STORE_URL"], 1500))
    await until(lambda: projected(read_models)[0] >= IZMIR_PLAN_EVENTS + IZMIR_PARTNERS_EVENTS + 200, holder,
                poll=0.002)
    assert not logged(waiter, "consumer.started"), "the waiting projector applied nothing meanwhile"
    holder.kill()
    at_kill = projected(read_models)
    total = await writing + IZMIR_PARTNERS_EVENTS
    assert at_kill[0] < total, "killed mid-backlog"

    await until(lambda: projected(read_models)[2] >= total, waiter)
    rows, distinct_events, positions = projected(read_models)
    print(f"events {total}; audit rows when the projector at work was killed {at_kill[0]}, at the end {rows}")
    assert (rows, distinct_events, positions) == (total, total, total), "every event applied once"
    assert logged(waiter, "lease.acquired") and logged(waiter, "consumer.started")
