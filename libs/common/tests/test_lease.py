"""The single-active rule against a real nats-server: one relay per stream publishes, the others wait and take
over when the holder stops or dies; a holder that loses its lease stops its work."""

from __future__ import annotations

import asyncio
import contextlib

import nats
import pytest
from nats.js.errors import KeyNotFoundError
from relay_testing import CounterApp, make_relay, record, stream_ids

from izlek_common.lease import LEASE_BUCKET, Lease, lease_for
from izlek_common.relay import Relay
from izlek_common.settings import CommonSettings

pytestmark = [pytest.mark.nats, pytest.mark.timeout(90)]


@pytest.fixture
def app(tmp_path):
    application = CounterApp(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                  "SQLITE_DBNAME": str(tmp_path / "counters.sqlite")})
    yield application
    application.close()


def leased_relay(app: CounterApp, nats_url: str, ttl: float = 3.0, **options) -> Relay:
    relay = make_relay(app, nats_url, lease_ttl=ttl, **options)
    assert relay.lease is not None
    relay.lease.retry_interval = 0.1
    return relay


async def until(condition, timeout: float = 30.0, what: str = "the condition") -> None:
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"{what} did not happen within {timeout}s") from None


class Running:
    """Relays running as tasks, each with its own stop event."""

    def __init__(self) -> None:
        self.tasks: dict[Relay, tuple[asyncio.Task[None], asyncio.Event]] = {}

    def start(self, relay: Relay) -> None:
        stop = asyncio.Event()
        self.tasks[relay] = (asyncio.create_task(relay.run(stop)), stop)

    async def stop(self, relay: Relay) -> None:
        task, stop = self.tasks.pop(relay)
        stop.set()
        await task

    async def kill(self, relay: Relay) -> None:
        """Cancel the relay's task: like a crash, nothing is released."""
        task, _ = self.tasks.pop(relay)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def stop_all(self) -> None:
        for relay in list(self.tasks):
            await self.stop(relay)


@pytest.fixture
async def running():
    relays = Running()
    yield relays
    await relays.stop_all()


async def test_of_two_relays_started_at_once_one_publishes_and_the_other_waits(app, nats_server, running):
    record(app, 1999)
    first, second = (leased_relay(app, nats_server.url, batch_size=50),
                     leased_relay(app, nats_server.url, batch_size=50))
    running.start(first)
    running.start(second)
    await until(lambda: first.stats.published + second.stats.published >= 2000, what="publishing the backlog")
    record(app, 9)
    first.wake()
    second.wake()
    await until(lambda: first.stats.published + second.stats.published >= 2010, what="publishing the news")

    holder, waiting = (first, second) if first.lease.held else (second, first)
    assert (holder.lease.held, waiting.lease.held) == (True, False)
    assert (holder.stats.published, waiting.stats.published) == (2010, 0)
    assert waiting.stats.position is None, "the waiting relay never even read the stream"
    assert await holder.lease.current_holder() == holder.lease.holder
    assert await stream_ids(nats_server.url) == list(range(1, 2011))


async def test_a_relay_that_stops_releases_its_lease_and_the_waiting_one_takes_over(app, nats_server, running):
    record(app, 99)
    first = leased_relay(app, nats_server.url, ttl=60.0)
    running.start(first)
    await until(lambda: first.stats.position == 100, what="the first relay publishing")
    second = leased_relay(app, nats_server.url, ttl=60.0)
    running.start(second)
    record(app, 9)
    first.wake()
    second.wake()
    await until(lambda: first.stats.position == 110, what="the first relay publishing more")
    assert (second.lease.held, second.stats.published) == (False, 0)

    await running.stop(first)
    record(app, 49)
    second.wake()
    # With a TTL of a minute, only a release lets the second relay in before the test's timeout.

    await until(lambda: second.stats.position == 160, timeout=20, what="the second relay taking over")

    assert (first.stats.published, second.stats.published) == (110, 50)
    assert await stream_ids(nats_server.url) == list(range(1, 161))


async def test_when_the_holder_dies_mid_backlog_another_takes_over_after_the_ttl_and_every_event_is_in_the_stream_once(
    app, nats_server, running
):
    record(app, 2999)
    first = leased_relay(app, nats_server.url, ttl=4.0, batch_size=20)
    running.start(first)
    await until(lambda: (first.stats.position or 0) >= 400, what="the first relay publishing")
    second = leased_relay(app, nats_server.url, ttl=4.0, batch_size=20)
    running.start(second)

    await running.kill(first)
    dead_holder = first.lease.holder
    published_by_the_dead = first.stats.published
    assert published_by_the_dead < 3000, "killed mid-backlog"
    assert await second.lease.current_holder() == dead_holder, "a dead holder's lease stays until it expires"

    await until(lambda: second.stats.position == 3000, what="the second relay taking over after the TTL")
    assert second.lease.acquisitions == 1
    assert await second.lease.current_holder() == second.lease.holder
    assert second.stats.published < 3000, "it went on after the last event the dead relay put in the stream"
    assert await stream_ids(nats_server.url) == list(range(1, 3001)), "every event once, in order"


async def test_a_holder_whose_lease_is_taken_stops_its_work_and_waits_for_the_lease_again(nats_server):
    lease = Lease(nats_server.url, "job", ttl=2.0, retry_interval=0.1)
    runs: list[str] = []
    work_stopped = asyncio.Event()

    async def work(stop: asyncio.Event) -> None:
        runs.append("started")
        await stop.wait()
        runs.append("stopped")
        work_stopped.set()

    stop = asyncio.Event()
    task = asyncio.create_task(lease.run(work, stop))
    try:
        await until(lambda: runs == ["started"], what="the work starting")
        # Someone else takes the key over (as after an expiry the holder did not notice): the renewal fails.
        nc = await nats.connect(nats_server.url)
        try:
            kv = await nc.jetstream().key_value(LEASE_BUCKET)
            await kv.put("job", b'{"holder": "usurper"}')
            async with asyncio.timeout(10):
                await work_stopped.wait()
            assert not lease.held
            assert await lease.current_holder() == "usurper"
            assert runs == ["started", "stopped"]
            await kv.delete("job")
        finally:
            await nc.close()
        await until(lambda: runs == ["started", "stopped", "started"], what="the lease taken again")
        assert lease.acquisitions == 2
    finally:
        stop.set()
        await task
    assert runs == ["started", "stopped", "started", "stopped"]
    assert not lease.held


async def test_a_holder_cut_off_from_nats_for_longer_than_the_ttl_stops_its_work_and_resumes_when_nats_is_back(
    nats_server,
):
    lease = Lease(nats_server.url, "job", ttl=1.5, retry_interval=0.1)
    runs: list[str] = []

    async def work(stop: asyncio.Event) -> None:
        runs.append("started")
        await stop.wait()
        runs.append("stopped")

    stop = asyncio.Event()
    task = asyncio.create_task(lease.run(work, stop))
    try:
        await until(lambda: runs == ["started"], what="the work starting")
        nats_server.stop()
        await until(lambda: runs == ["started", "stopped"], what="the work stopping without NATS")
        assert not lease.held
        nats_server.start()
        await until(lambda: runs == ["started", "stopped", "started"], what="the work resuming with NATS")
    finally:
        stop.set()
        await task
    assert lease.acquisitions == 2


async def test_the_work_returning_by_itself_releases_the_lease_and_its_error_is_raised(nats_server):
    lease = Lease(nats_server.url, "job", ttl=60.0)

    async def failing(stop: asyncio.Event) -> None:
        raise RuntimeError("the store is gone")

    with pytest.raises(RuntimeError, match="the store is gone"):
        await lease.run(failing, asyncio.Event())
    assert lease.acquisitions == 1 and not lease.held
    nc = await nats.connect(nats_server.url)
    try:
        kv = await nc.jetstream().key_value(LEASE_BUCKET)
        with pytest.raises(KeyNotFoundError):  # deleted: released, not left to expire
            await kv.get("job")
    finally:
        await nc.close()


def test_a_lease_takes_its_ttl_and_replicas_from_the_settings():
    settings = CommonSettings(lease_ttl_seconds=7, nats_stream_replicas=3)

    lease = lease_for(settings, "nats://nats:4222", "relay-plans")

    assert (lease.ttl, lease.replicas, lease.name) == (7.0, 3, "relay-plans")
    assert lease.renew_interval < lease.ttl


async def test_the_bucket_keeps_the_longest_ttl_any_lease_asked_for(nats_server):
    async def idle(stop: asyncio.Event) -> None:
        await stop.wait()

    async def hold_once(name: str, ttl: float) -> float:
        lease = Lease(nats_server.url, name, ttl=ttl)
        stop = asyncio.Event()
        task = asyncio.create_task(lease.run(idle, stop))
        try:
            await until(lambda: lease.held, what=f"taking {name}")
        finally:
            stop.set()
            await task
        nc = await nats.connect(nats_server.url)
        try:
            return (await nc.jetstream().stream_info(f"KV_{LEASE_BUCKET}")).config.max_age
        finally:
            await nc.close()

    assert await hold_once("relay-plans", 5.0) == 5.0
    assert await hold_once("relay-notifications", 2.0) == 5.0, "a shorter TTL does not shorten the others'"
    assert await hold_once("gateway-projector", 8.0) == 8.0
