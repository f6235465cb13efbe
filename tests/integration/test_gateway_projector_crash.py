"""End to end: `izlek gateway project` (a real process) SIGKILLed three times while projecting a backlog of
thousands of events into PostgreSQL read models, messages delivered twice, and a rebuild from scratch to compare.

The backlog is the İzmir import (`izlek import-plan`, `import-partners`, `import-protocols`) plus thousands of
commitment status changes and purchases written to the SQLite event stores, published by `izlek relay plans` and
`izlek relay partners` to a real nats-server.

And a projector asked to stop (SIGTERM) while NATS is down ends cleanly, as when NATS is up.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from conftest import EXAMPLES, IZLEK, ServiceProcess
from gateway_testing import snapshot
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import Engine, ScalarSelect, func, select
from streams import stream_message_count

from izlek_common.consumer import Disposition, TrackedConsumer, consumer_positions, dead_letters
from izlek_common.domain.stamp import Author, Stamp
from izlek_common.eventstore import eventsourcing_env
from izlek_common.jetstream import connect
from izlek_common.testing.fixtures import PostgresDatabase, throwaway_database
from izlek_gateway.projector import project_message
from izlek_gateway.read_models.database import create_read_model_engine, upgrade_database
from izlek_gateway.read_models.tables import entity_events
from izlek_partners.application import PartnersApplication
from izlek_partners.domain.protocol import Protocol
from izlek_plans.application import PlansApplication

pytestmark = [pytest.mark.postgres, pytest.mark.nats, pytest.mark.timeout(300)]

STATUS_CHANGES = 3000
PURCHASES = 400  # each recorded and confirmed
PLANS_EVENTS = 238 + STATUS_CHANGES
PARTNERS_EVENTS = 52 + 8 + 2 * PURCHASES
TOTAL = PLANS_EVENTS + PARTNERS_EVENTS
KILLS = 3
PROGRESS_BEFORE_KILL = 300
"""Events a restarted projector applies before it is killed again (its batches hold 20)."""
IBB = "izmir-buyuksehir-belediyesi"
URLA = "ss-urla-kadin-girisimi-uretim-ve-isletme-kooperatifi"


@pytest.fixture
def env(service_env: dict[str, str], postgres_database: PostgresDatabase, tmp_path: Path) -> dict[str, str]:
    return {
        **service_env,
        "IZLEK_PLANS_EVENT_STORE_URL": f"sqlite:///{tmp_path / 'plans.sqlite'}",
        "IZLEK_PARTNERS_EVENT_STORE_URL": f"sqlite:///{tmp_path / 'partners.sqlite'}",
        "IZLEK_GATEWAY_DATABASE_URL": postgres_database.sqlalchemy_url,
        "IZLEK_GATEWAY_PROJECTOR_BATCH_SIZE": "20",
        "COLUMNS": "200",
    }


@pytest.fixture
def read_models(postgres_database: PostgresDatabase) -> Iterator[Engine]:
    engine = create_read_model_engine(postgres_database.sqlalchemy_url)
    upgrade_database(engine)  # as the projector does on start, so that the test can count rows from the first
    yield engine
    engine.dispose()


@pytest.fixture
def rebuilt(postgres_admin_url: str) -> Iterator[PostgresDatabase]:
    """A second throwaway database, for the rebuild from scratch."""
    with throwaway_database(postgres_admin_url) as database:
        yield database


@pytest_asyncio.fixture
async def nc(nats_server) -> AsyncIterator[Client]:
    client = await connect(nats_server.url, "projector-crash-test", initial_connect_timeout=10)
    yield client
    await client.close()


def izlek(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([IZLEK, *args], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def write_backlog(env: dict[str, str]) -> None:
    """The İzmir import, then status changes and purchases written straight to the stores."""
    izlek(env, "import-plan", str(EXAMPLES / "plan.yaml"), "--author", "ayse@kedv.org.tr")
    izlek(env, "import-partners", str(EXAMPLES / "partners.yaml"), "--author", "ayse@kedv.org.tr")
    izlek(env, "import-protocols", str(EXAMPLES / "protocols.yaml"), "--author", "ayse@kedv.org.tr")
    plans = PlansApplication(env=eventsourcing_env(env["IZLEK_PLANS_EVENT_STORE_URL"]))
    try:
        commitment_ids = plans.list_plans()[0].commitment_ids
        coordinator = Stamp(Author("ayse@kedv.org.tr", "coordinator", "kedv"), reason="haftalık izleme")
        for n in range(STATUS_CHANGES):
            status = ("in_progress", "done", "in_progress", "planned")[(n // len(commitment_ids)) % 4]
            plans.change_commitment_status(commitment_ids[n % len(commitment_ids)], status, coordinator)
        assert plans.recorder.max_notification_id() == PLANS_EVENTS
    finally:
        plans.close()
    partners = PartnersApplication(env=eventsourcing_env(env["IZLEK_PARTNERS_EVENT_STORE_URL"]))
    try:
        liaison = Stamp(Author("elif@izmir.bel.tr", "liaison", IBB))
        member = Stamp(Author("fatma@urla.coop", "member", URLA))
        protocol_id = Protocol.create_id("prot-2019-kedv-izmir-buyuksehir-belediyesi")
        for n in range(PURCHASES):
            purchase_id = partners.record_purchase(
                liaison, municipality_code=IBB, cooperative_code=URLA, protocol_id=protocol_id,
                amount=f"{100 + n}.{n % 100:02d}", category="catering", purchased_on=date(2024, 1 + n % 12, 1),
                invoice_reference=f"İBB-2024-{n:05d}")
            partners.confirm_purchase(purchase_id, member)
        assert partners.recorder.max_notification_id() == PARTNERS_EVENTS
    finally:
        partners.close()


async def until(condition: Callable[[], bool], process: ServiceProcess | None = None, timeout: float = 120,
                poll: float = 0.005) -> None:
    """Poll `condition` (a guard against hangs only: nothing is asserted about how long it took)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None:
            assert process.process is not None and process.process.poll() is None, process.log_tail()
        assert time.monotonic() < deadline, process.log_tail() if process else "timed out"
        await asyncio.sleep(poll)


async def wait_for_streams(nats_url: str) -> None:
    deadline = time.monotonic() + 120
    while (await stream_message_count(nats_url, "PLANS"), await stream_message_count(nats_url, "PARTNERS")) != (
            PLANS_EVENTS, PARTNERS_EVENTS):
        assert time.monotonic() < deadline, "the relays did not publish the backlog"
        await asyncio.sleep(0.1)


def projected(engine: Engine) -> tuple[int, int, int]:
    """(audit rows, position in PLANS, position in PARTNERS), read in one statement so from one snapshot: every
    applied message adds one audit row."""

    def position(durable: str) -> ScalarSelect[int]:
        return select(func.coalesce(func.max(consumer_positions.c.last_stream_seq), 0)).where(
            consumer_positions.c.consumer == durable).scalar_subquery()

    query = select(select(func.count()).select_from(entity_events).scalar_subquery(),
                   position("gateway-from-plans"), position("gateway-from-partners"))
    with engine.connect() as connection:
        rows, plans, partners = connection.execute(query).one()
    return int(rows), int(plans), int(partners)


def positions(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(select(consumer_positions.c.consumer, consumer_positions.c.last_stream_seq))
        return {consumer: seq for consumer, seq in rows}


def tracked(nc: Client, engine: Engine, service: str, **options: Any) -> TrackedConsumer:
    """The projector's own tracking of `service`'s stream (same durable, same read models), driven by the test."""
    return TrackedConsumer(nc, engine, stream=service.upper(), durable=f"gateway-from-{service}",
                           handler=project_message, **options)


async def fetch_exactly(subscription, count: int) -> list[Msg]:
    messages: list[Msg] = []
    while len(messages) < count:
        messages += await subscription.fetch(count - len(messages), timeout=30)
    return messages


async def test_a_projector_killed_mid_stream_and_restarted_with_messages_delivered_twice_equals_a_rebuild(
    env, spawn, nats_server, nc, read_models, rebuilt
):
    write_backlog(env)
    spawn(["relay", "plans"], env, "relay-plans")
    spawn(["relay", "partners"], env, "relay-partners")
    await wait_for_streams(nats_server.url)

    # Killed three times, each time after it applied some more of the backlog, never all of it.
    at_kill: list[tuple[int, int, int]] = []
    for attempt in range(KILLS):
        before = at_kill[-1][0] if at_kill else 0
        projector = spawn(["gateway", "project"], env, f"projector-{attempt}")
        await until(lambda until_rows=before + PROGRESS_BEFORE_KILL: projected(read_models)[0] >= until_rows,
                    projector)
        projector.kill()
        at_kill.append(projected(read_models))
    print("at each kill (audit rows, PLANS position, PARTNERS position):", at_kill)
    rows = [audit_rows for audit_rows, _, _ in at_kill]
    assert rows == sorted(set(rows)) and rows[-1] < TOTAL, at_kill
    assert all(audit_rows == plans + partners for audit_rows, plans, partners in at_kill), (
        "at every kill the read models hold exactly the messages the positions say were applied", at_kill)

    # A lost acknowledgement: 50 messages applied and committed, never acknowledged; JetStream delivers them again
    # to the same durable, and the positions make the second delivery a no-op.
    plans = tracked(nc, read_models, "plans", batch_size=25, max_ack_pending=50, ack_wait=1.0)
    subscription = await plans.bind()
    first = await fetch_exactly(subscription, 50)
    assert await plans.apply(first) == [Disposition.APPLIED] * 50
    applied_once = snapshot(read_models)
    again = await fetch_exactly(subscription, 50)
    assert [m.metadata.sequence.stream for m in again] == [m.metadata.sequence.stream for m in first]
    assert {m.metadata.num_delivered for m in again} == {2}
    assert await plans.apply(again) == [Disposition.SKIPPED] * 50
    for message in again:
        await message.ack()
    await subscription.unsubscribe()
    assert snapshot(read_models) == applied_once

    # Every message applied so far, delivered again from the start of both streams by a second consumer.
    for service in ("plans", "partners"):
        consumer = tracked(nc, read_models, service)
        applied = consumer.position()
        js, replay_durable = nc.jetstream(), f"replay-from-{service}"
        await js.add_consumer(service.upper(), ConsumerConfig(
            durable_name=replay_durable, deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE))
        replay = await js.pull_subscribe_bind(durable=replay_durable, stream=service.upper())
        redelivered = await fetch_exactly(replay, applied)
        await replay.unsubscribe()
        await js.delete_consumer(service.upper(), replay_durable)
        assert [m.metadata.sequence.stream for m in redelivered] == list(range(1, applied + 1))
        assert set(await consumer.apply(redelivered)) == {Disposition.SKIPPED}, service
    assert snapshot(read_models) == applied_once

    # The last restart runs to the end of both streams and stops cleanly on SIGTERM.
    projector = spawn(["gateway", "project"], env, "projector-final")
    await until(lambda: projected(read_models) == (TOTAL, PLANS_EVENTS, PARTNERS_EVENTS), projector, poll=0.1)
    projector.stop()
    assert projector.process.returncode == 0, projector.log_tail()
    assert '"event": "projector.stopped"' in projector.log_tail(20)
    assert dead_letters(read_models) == []

    rebuild_env = {**env, "IZLEK_GATEWAY_DATABASE_URL": rebuilt.sqlalchemy_url,
                   "IZLEK_GATEWAY_PROJECTOR_BATCH_SIZE": "200"}
    izlek(rebuild_env, "gateway", "rebuild")
    from_scratch = create_read_model_engine(rebuilt.sqlalchemy_url)
    try:
        expected = snapshot(from_scratch)
        assert positions(from_scratch) == positions(read_models) == {
            "gateway-from-plans": PLANS_EVENTS, "gateway-from-partners": PARTNERS_EVENTS}
        assert dead_letters(from_scratch) == []
    finally:
        from_scratch.dispose()
    actual = snapshot(read_models)
    assert actual.keys() == expected.keys()
    for table in expected:  # every column of every row, the audit trail (entity_events) included
        assert actual[table] == expected[table], table
    assert len(actual["entity_events"]) == TOTAL
    assert (len(actual["commitments"]), len(actual["purchases"]), len(actual["protocols"])) == (104, PURCHASES, 5)


async def test_a_projector_stopped_while_nats_is_down_ends_cleanly(env, spawn, nats_server, read_models):
    projector = spawn(["gateway", "project"], env, "projector")
    await until(lambda: '"event": "consumer.started"' in projector.log_path.read_text(errors="replace"), projector)
    nats_server.kill()
    await until(lambda: '"event": "nats.disconnected"' in projector.log_path.read_text(errors="replace"), projector)
    projector.stop()
    assert projector.process.returncode == 0, projector.log_tail()
    assert '"event": "projector.stopped"' in projector.log_tail(20)
