"""The tracked JetStream consumer, against a real nats-server and real SQLite and PostgreSQL databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
import pytest_asyncio
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    create_engine,
    delete,
    insert,
    select,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from izlek_common.consumer import (
    Disposition,
    TrackedConsumer,
    consumer_positions,
    dead_letters,
    ensure_tracking_table,
    stored_position,
)
from izlek_common.jetstream import connect, ensure_stream
from izlek_common.logging import get_correlation_id
from izlek_common.nats_server import EmbeddedNatsServer
from izlek_common.testing.fixtures import PostgresDatabase

pytestmark = [pytest.mark.nats, pytest.mark.timeout(60)]

STREAM = "PLANS"
DURABLE = "gateway-from-plans"
CREATED = "izlek.plans.plan.created.v1"

effects_metadata = MetaData()
effects = Table(
    "effects",
    effects_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("stream_seq", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
)


def record_effect(session: Session, msg: Msg) -> None:
    """The handler under test: one row per message, refusing the poison pill."""
    if msg.data == b"poison":
        raise ValueError("poison pill")
    session.execute(insert(effects).values(stream_seq=msg.metadata.sequence.stream, body=msg.data.decode()))


def bodies(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(select(effects.c.body).order_by(effects.c.id)).scalars())


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'read_models.db'}"
    else:
        url = request.getfixturevalue("postgres_database").sqlalchemy_url
    engine = create_engine(url)
    effects_metadata.create_all(engine)
    ensure_tracking_table(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'read_models.db'}")
    effects_metadata.create_all(engine)
    ensure_tracking_table(engine)
    yield engine
    engine.dispose()


@pytest_asyncio.fixture
async def nc(nats_server: EmbeddedNatsServer) -> AsyncIterator[Client]:
    client = await connect(nats_server.url, "consumer-test", initial_connect_timeout=10)
    await ensure_stream(client.jetstream(), STREAM, ["izlek.plans.>"])
    yield client
    await client.close()


async def publish(js: JetStreamContext, *payloads: str, subject: str = CREATED) -> None:
    for payload in payloads:
        await js.publish(subject, payload.encode(), timeout=10)


def numbers(first: int, last: int) -> list[str]:
    return [str(n) for n in range(first, last + 1)]


def consumer_for(nc: Client, engine: Engine, **options: object) -> TrackedConsumer:
    settings: dict[object, object] = {"stream": STREAM, "durable": DURABLE, "handler": record_effect}
    settings.update(options)
    return TrackedConsumer(nc, engine, **settings)  # type: ignore[arg-type]


# -- applying messages --------------------------------------------------------------------------------------


async def test_the_consumer_applies_each_message_once_in_stream_order(nc: Client, engine: Engine) -> None:
    await publish(nc.jetstream(), *numbers(1, 25))
    consumer = consumer_for(nc, engine, batch_size=10)

    position = await consumer.run_until_caught_up(timeout=20)

    assert bodies(engine) == numbers(1, 25)
    assert position == stored_position(engine, DURABLE) == 25
    assert consumer.counts[Disposition.APPLIED] == 25


async def test_a_redelivered_message_has_no_second_effect(nc: Client, engine: Engine) -> None:
    await publish(nc.jetstream(), "only")
    consumer = consumer_for(nc, engine, ack_wait=1.0)
    subscription = await consumer.bind()

    first = await subscription.fetch(1, timeout=5)
    assert await consumer.apply(first) == [Disposition.APPLIED]
    # Committed but never acknowledged: the server delivers it again once ack_wait has passed.
    again = await subscription.fetch(1, timeout=10)

    assert again[0].metadata.sequence.stream == first[0].metadata.sequence.stream
    assert again[0].metadata.num_delivered == 2
    assert await consumer.apply(again) == [Disposition.SKIPPED]
    assert bodies(engine) == ["only"]
    assert stored_position(engine, DURABLE) == 1
    await again[0].ack()


async def test_a_consumer_stopped_between_commit_and_ack_applies_nothing_twice_after_restart(
    nc: Client, engine: Engine
) -> None:
    js = nc.jetstream()
    await publish(js, *numbers(1, 3))
    crashed = consumer_for(nc, engine)
    subscription = await crashed.bind()
    fetched = await subscription.fetch(3, timeout=5)
    assert await crashed.apply(fetched) == [Disposition.APPLIED] * 3
    await publish(js, *numbers(4, 5))

    restarted = consumer_for(nc, engine)
    await restarted.run_until_caught_up(timeout=20)

    assert bodies(engine) == numbers(1, 5)
    assert restarted.counts[Disposition.APPLIED] == 2


async def test_a_handler_failure_sets_the_message_aside_and_the_following_messages_are_applied(
    nc: Client, engine: Engine
) -> None:
    js = nc.jetstream()
    await publish(js, "1", "2")
    await js.publish(CREATED, b"poison", headers={"Nats-Msg-Id": "plans:3"})
    await publish(js, "4", "5")
    consumer = consumer_for(nc, engine, batch_size=10)
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    try:
        await consumer.wait_caught_up(timeout=20)
        await publish(js, "6")
        await consumer.wait_caught_up(timeout=20)
    finally:
        stop.set()
        await running

    assert bodies(engine) == ["1", "2", "4", "5", "6"]
    [set_aside] = dead_letters(engine, DURABLE)
    assert set_aside.stream_seq == 3
    assert set_aside.stream == STREAM
    assert set_aside.subject == CREATED
    assert set_aside.data == b"poison"
    assert set_aside.headers == {"Nats-Msg-Id": "plans:3"}
    assert "ValueError: poison pill" in set_aside.error
    assert stored_position(engine, DURABLE) == 6
    assert consumer.counts[Disposition.DEAD_LETTERED] == 1


async def test_a_filtered_consumer_applies_only_the_subjects_it_asks_for(
    nc: Client, sqlite_engine: Engine
) -> None:
    js = nc.jetstream()
    await publish(js, "plan-1")
    await publish(js, "commitment-2", subject="izlek.plans.commitment.status_changed.v1")
    await publish(js, "plan-3")
    consumer = consumer_for(nc, sqlite_engine, filter_subject="izlek.plans.commitment.>")

    position = await consumer.run_until_caught_up(timeout=20)

    assert bodies(sqlite_engine) == ["commitment-2"]
    assert position == 2


async def test_a_restarted_consumer_keeps_its_durable_when_it_agrees_with_the_database(
    nc: Client, sqlite_engine: Engine
) -> None:
    js = nc.jetstream()
    await publish(js, *numbers(1, 3))
    await consumer_for(nc, sqlite_engine).run_until_caught_up(timeout=20)
    created = (await js.consumer_info(STREAM, DURABLE)).created

    await publish(js, "4")
    await consumer_for(nc, sqlite_engine).run_until_caught_up(timeout=20)

    assert (await js.consumer_info(STREAM, DURABLE)).created == created
    assert bodies(sqlite_engine) == numbers(1, 4)


async def test_a_consumer_whose_database_was_emptied_applies_the_whole_stream_again(
    nc: Client, sqlite_engine: Engine
) -> None:
    await publish(nc.jetstream(), *numbers(1, 4))
    await consumer_for(nc, sqlite_engine).run_until_caught_up(timeout=20)
    with sqlite_engine.begin() as connection:
        connection.execute(delete(effects))
        connection.execute(delete(consumer_positions))

    await consumer_for(nc, sqlite_engine).run_until_caught_up(timeout=20)

    assert bodies(sqlite_engine) == numbers(1, 4)


# -- surviving failures -------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["stop", "kill"])
async def test_the_consumer_survives_a_nats_server_restart_and_catches_up(
    nats_server: EmbeddedNatsServer, nc: Client, engine: Engine, how: str
) -> None:
    js = nc.jetstream()
    consumer = consumer_for(nc, engine, max_backoff=0.5)
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    try:
        await publish(js, *numbers(1, 3))
        await consumer.wait_caught_up(timeout=20)

        await asyncio.to_thread(nats_server.kill if how == "kill" else nats_server.stop)
        await asyncio.sleep(1.0)
        assert not running.done()
        await asyncio.to_thread(nats_server.start)

        await publish(js, *numbers(4, 6))
        await consumer.wait_caught_up(timeout=30)
    finally:
        stop.set()
        await running

    assert bodies(engine) == numbers(1, 6)


@pytest.mark.postgres
async def test_the_consumer_survives_its_database_connections_being_terminated(
    nc: Client, postgres_database: PostgresDatabase, postgres_admin_url: str
) -> None:
    engine = create_engine(postgres_database.sqlalchemy_url)
    effects_metadata.create_all(engine)
    ensure_tracking_table(engine)
    js = nc.jetstream()
    consumer = consumer_for(nc, engine, max_backoff=0.5)
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    try:
        await publish(js, *numbers(1, 3))
        await consumer.wait_caught_up(timeout=20)

        with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
            admin.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s",
                (postgres_database.dbname,),
            )
        await publish(js, *numbers(4, 6))
        await consumer.wait_caught_up(timeout=20)
    finally:
        stop.set()
        await running
        engine.dispose()

    assert bodies(engine) == numbers(1, 6)
    engine.dispose()


async def test_the_consumer_waits_for_a_stream_that_does_not_exist_yet(
    nats_server: EmbeddedNatsServer, sqlite_engine: Engine
) -> None:
    client = await connect(nats_server.url, "early-consumer", initial_connect_timeout=10)
    consumer = TrackedConsumer(
        client, sqlite_engine, stream="PARTNERS", durable="gateway-from-partners",
        handler=record_effect, max_backoff=0.3,
    )  # fmt: skip
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    try:
        await asyncio.sleep(0.5)
        assert not running.done()
        js = client.jetstream()
        await ensure_stream(js, "PARTNERS", ["izlek.partners.>"])
        await publish(js, "partner-1", subject="izlek.partners.organisation.registered.v1")
        await consumer.wait_caught_up(timeout=20)
    finally:
        stop.set()
        await running
        await client.close()

    assert bodies(sqlite_engine) == ["partner-1"]


async def test_waiting_for_a_consumer_that_does_not_run_times_out_with_its_position(
    nc: Client, sqlite_engine: Engine
) -> None:
    await publish(nc.jetstream(), "1")
    consumer = consumer_for(nc, sqlite_engine)

    with pytest.raises(TimeoutError, match=f"consumer {DURABLE} is at 0 but stream {STREAM} is at 1"):
        await consumer.wait_caught_up(timeout=0.3)


# -- tracking tables ----------------------------------------------------------------------------------------


def test_the_tracking_tables_can_be_ensured_repeatedly(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'tracking.db'}")
    ensure_tracking_table(engine)
    ensure_tracking_table(engine)

    tables = set(sa_inspect(engine).get_table_names())
    engine.dispose()

    assert {"consumer_positions", "consumer_dead_letters"} <= tables


def test_an_unknown_consumer_has_applied_nothing(sqlite_engine: Engine) -> None:
    assert stored_position(sqlite_engine, "nobody-from-nowhere") == 0
    assert dead_letters(sqlite_engine, "nobody-from-nowhere") == []


async def test_the_handler_runs_under_the_correlation_id_of_the_command_behind_the_message(
    nc: Client, sqlite_engine: Engine
) -> None:
    def record_correlation(session: Session, msg: Msg) -> None:
        session.execute(insert(effects).values(stream_seq=msg.metadata.sequence.stream,
                                               body=get_correlation_id() or ""))

    await nc.jetstream().publish(CREATED, b"x", headers={"Izlek-Correlation-Id": "req-42"}, timeout=10)
    consumer = consumer_for(nc, sqlite_engine, handler=record_correlation)
    await consumer.run_until_caught_up(timeout=20)
    assert bodies(sqlite_engine) == ["req-42"]
