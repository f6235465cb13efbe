"""The relay against a real nats-server, on a small application of its own (SQLite store)."""

from __future__ import annotations

import asyncio

import pytest
from relay_testing import CounterApp, make_relay, record, stream_ids, translate_with

from izlek_common.relay import Relay

pytestmark = [pytest.mark.nats, pytest.mark.timeout(60)]


@pytest.fixture
def app(tmp_path):
    application = CounterApp(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                  "SQLITE_DBNAME": str(tmp_path / "counters.sqlite")})
    yield application
    application.close()


async def run_until_published(relay: Relay, app: CounterApp, timeout: float = 20) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        async with asyncio.timeout(timeout):
            while relay.stats.position != app.recorder.max_notification_id():
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task


async def test_a_restarted_relay_continues_where_the_stream_ends(app, nats_server):
    record(app, 99)
    await run_until_published(make_relay(app, nats_server.url), app)
    record(app, 49)
    await run_until_published(make_relay(app, nats_server.url), app)
    assert await stream_ids(nats_server.url) == list(range(1, 151))


async def test_two_relays_without_a_lease_at_once_still_publish_each_event_once(app, nats_server):
    record(app, 1999)
    # Without the lease (`lease_ttl=None`) both publish at once: JetStream still keeps each event once.
    first, second = (make_relay(app, nats_server.url, batch_size=50, lease_ttl=None),
                     make_relay(app, nats_server.url, batch_size=50, lease_ttl=None))
    await asyncio.gather(run_until_published(first, app), run_until_published(second, app))
    assert await stream_ids(nats_server.url) == list(range(1, 2001))


async def test_the_relay_rides_out_a_killed_nats_server_and_catches_up(app, nats_server):
    stop = asyncio.Event()
    relay = make_relay(app, nats_server.url, ack_timeout=1.0)
    task = asyncio.create_task(relay.run(stop))
    try:
        record(app, 9)
        relay.wake()
        async with asyncio.timeout(10):
            while relay.stats.position != 10:
                await asyncio.sleep(0.02)
        nats_server.kill()
        await asyncio.to_thread(record, app, 19)  # stored while NATS is down
        relay.wake()
        await asyncio.sleep(1.0)
        nats_server.start()
        async with asyncio.timeout(20):
            while relay.stats.position != 30:
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
    assert relay.stats.errors >= 1
    assert await stream_ids(nats_server.url) == list(range(1, 31))


async def test_a_wake_publishes_without_waiting_for_the_poll(app, nats_server):
    stop = asyncio.Event()
    relay = Relay(service="counters", recorder=app.recorder, translate=translate_with(app),
                  nats_url=nats_server.url, poll_interval=30)
    task = asyncio.create_task(relay.run(stop))
    try:
        async with asyncio.timeout(10):
            while relay.stats.position is None:
                await asyncio.sleep(0.02)
        record(app, 4)
        relay.wake()
        async with asyncio.timeout(5):
            while relay.stats.position != 5:
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task


async def test_a_relay_started_while_nats_is_down_publishes_once_nats_is_up_and_stops_when_asked(app, nats_server):
    nats_server.stop()
    record(app, 2)
    stop = asyncio.Event()
    relay = make_relay(app, nats_server.url)
    task = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(2.5)
    assert relay.stats.position is None
    nats_server.start()
    async with asyncio.timeout(20):
        while relay.stats.position != 3:
            await asyncio.sleep(0.05)
    nats_server.stop()
    stop.set()
    async with asyncio.timeout(15):
        await task


async def test_a_batch_acknowledged_as_one_lands_whole_in_the_stream(app, nats_server):
    record(app, 249)
    relay = make_relay(app, nats_server.url, batch_size=100, lease_ttl=None)
    try:
        assert await relay.publish_pending() == 250
    finally:
        await relay.close()
    assert relay.stats.batches == 3 and relay.stats.resyncs == 0
    assert await stream_ids(nats_server.url) == list(range(1, 251))


async def test_a_relay_that_republishes_what_the_stream_holds_learns_where_it_stands(app, nats_server):
    record(app, 149)
    relay = make_relay(app, nats_server.url, batch_size=100, lease_ttl=None)
    try:
        await relay.publish_pending()
        # The relay believes events 101-150 unpublished, but the stream holds them (another relay sent them):
        # the acknowledgement of its next batch does not add up.
        relay.stats.position = 100
        record(app, 30)
        await relay.publish_pending()
    finally:
        await relay.close()
    stored = app.recorder.max_notification_id()
    assert relay.stats.resyncs == 1
    assert relay.stats.position == stored
    assert await stream_ids(nats_server.url) == list(range(1, stored + 1))
