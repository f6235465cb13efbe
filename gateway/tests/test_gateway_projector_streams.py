"""The projector against a real nats-server, fed by the real relay, on SQLite and PostgreSQL read models."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from gateway_testing import IZMIR_COUNTS, IzmirServices, izmir_services, row_counts, snapshot
from nats.aio.client import Client
from sqlalchemy import Engine, select

from izlek_common.consumer import dead_letters
from izlek_common.domain.stamp import Author, Stamp
from izlek_common.eventsourced.application import TrackedApplication
from izlek_common.eventsourced.publishing import cloudevent_translator
from izlek_common.jetstream import connect
from izlek_common.nats_server import EmbeddedNatsServer
from izlek_common.relay import Relay
from izlek_gateway.projector import Projector
from izlek_gateway.read_models.database import create_read_model_engine, upgrade_database
from izlek_gateway.read_models.tables import commitments

pytestmark = [pytest.mark.nats, pytest.mark.timeout(120)]


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'read_models.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_database").sqlalchemy_url
    engine = create_read_model_engine(url)
    upgrade_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def izmir() -> Iterator[IzmirServices]:
    with izmir_services() as services:
        yield services


@pytest_asyncio.fixture
async def nc(nats_server: EmbeddedNatsServer) -> AsyncIterator[Client]:
    client = await connect(nats_server.url, "gateway-test", initial_connect_timeout=10)
    yield client
    await client.close()


async def relay_everything(app: TrackedApplication, service: str, nats_url: str) -> None:
    """Run the service's relay until every stored event is in its stream."""
    relay = Relay(service=service, recorder=app.recorder, translate=cloudevent_translator(app), nats_url=nats_url,
                  poll_interval=0.05, retry_interval=0.1)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        async with asyncio.timeout(30):
            while relay.stats.position != app.recorder.max_notification_id():
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await running


async def relay_izmir(izmir: IzmirServices, nats_url: str) -> None:
    await relay_everything(izmir.plans, "plans", nats_url)
    await relay_everything(izmir.partners, "partners", nats_url)


async def test_the_projector_catches_up_with_the_relayed_izmir_streams(
    engine: Engine, izmir: IzmirServices, nats_server: EmbeddedNatsServer, nc: Client
) -> None:
    await relay_izmir(izmir, nats_server.url)

    positions = await Projector(nc, engine).run_until_caught_up(timeout=60)

    assert positions == {"PLANS": 238, "PARTNERS": 60}
    assert row_counts(engine, IZMIR_COUNTS) == IZMIR_COUNTS
    assert dead_letters(engine) == []


async def test_a_malformed_message_is_set_aside_and_the_events_after_it_are_projected(
    engine: Engine, izmir: IzmirServices, nats_server: EmbeddedNatsServer, nc: Client
) -> None:
    await relay_izmir(izmir, nats_server.url)
    [plan] = izmir.plans.list_plans()
    commitment = izmir.plans.list_commitments(plan.id)[0]
    izmir.plans.change_commitment_status(
        commitment.id, "done", Stamp(Author("ayse@kedv.org.tr", "coordinator", "kedv"))
    )
    [status_changed] = izmir.events(izmir.plans, after=238)
    renamed = status_changed.model_copy(update={"id": "bad:2", "type": "izlek.plans.plan.renamed.v1"})
    js = nc.jetstream()
    await js.publish("izlek.plans.plan.started.v1", b"{not json", headers={"Nats-Msg-Id": "bad:1"})
    await js.publish(renamed.type, renamed.to_json_bytes(), headers={"Nats-Msg-Id": renamed.id})
    # The relay takes its position from the stream's last message, which is now not its own: publish as it would.
    await js.publish(status_changed.type, status_changed.to_json_bytes(), headers=status_changed.nats_headers())

    projector = Projector(nc, engine)
    positions = await projector.run_until_caught_up(timeout=60)

    assert positions == {"PLANS": 241, "PARTNERS": 60}
    set_aside = dead_letters(engine, "gateway-from-plans")
    assert [(letter.stream_seq, letter.subject) for letter in set_aside] == [
        (239, "izlek.plans.plan.started.v1"), (240, "izlek.plans.plan.renamed.v1")]
    assert "ValidationError" in set_aside[0].error
    assert "UnknownEventType" in set_aside[1].error
    with engine.connect() as connection:
        status = connection.execute(
            select(commitments.c.status).where(commitments.c.id == str(commitment.id))
        ).scalar_one()
    assert status == "done"
    assert row_counts(engine, {"entity_events"}) == {"entity_events": 238 + 60 + 1}


async def test_a_rebuild_replays_the_streams_into_the_same_read_models(
    engine: Engine, izmir: IzmirServices, nats_server: EmbeddedNatsServer, nc: Client
) -> None:
    await relay_izmir(izmir, nats_server.url)
    await nc.jetstream().publish("izlek.partners.protocol.drafted.v1", b"[]", headers={"Nats-Msg-Id": "bad:1"})
    projector = Projector(nc, engine, batch_size=50)
    await projector.run_until_caught_up(timeout=60)
    before = snapshot(engine)
    reports: list[tuple[int, int, str]] = []

    positions = await Projector(nc, engine, batch_size=50).rebuild(
        progress=lambda done, total, stream: reports.append((done, total, stream)), timeout=60
    )

    assert positions == {"PLANS": 238, "PARTNERS": 61}
    assert snapshot(engine) == before
    assert row_counts(engine, IZMIR_COUNTS) == IZMIR_COUNTS
    assert [letter.stream_seq for letter in dead_letters(engine)] == [61]
    assert reports[-1][:2] == (299, 299)
    assert [done for done, _, _ in reports] == sorted(done for done, _, _ in reports)
