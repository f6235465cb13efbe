"""End to end: the plans service (a real process) on PostgreSQL, its relay, and a real nats-server.

Every test ends with the same count: events in the store = messages in the stream, ids unique, order kept.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time

import httpx
import nats
import pytest
from conftest import EXAMPLES, IZLEK
from streams import StreamWatcher, read_stream, stream_message_count

from izlek_common.cloudevents import CloudEvent
from izlek_common.domain.stamp import Author, Stamp
from izlek_common.eventstore import eventsourcing_env
from izlek_plans.application import PlansApplication

pytestmark = [pytest.mark.postgres, pytest.mark.nats, pytest.mark.timeout(180)]


def import_izmir(env: dict[str, str]) -> None:
    subprocess.run([IZLEK, "import-plan", str(EXAMPLES / "plan.yaml")], env=env, check=True, capture_output=True)


def stored_notification_ids(postgres_url: str) -> list[int]:
    app = PlansApplication(env=eventsourcing_env(postgres_url))
    try:
        ids, start = [], 1
        while batch := app.recorder.select_notifications(start, 5000):
            ids.extend(n.id for n in batch)
            start = batch[-1].id + 1
        return ids
    finally:
        app.close()


async def wait_for_stream(nats_url: str, expected: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    count = -1
    while time.monotonic() < deadline:
        count = await stream_message_count(nats_url, "PLANS")
        if count >= expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the stream holds {count} messages, expected {expected}")


async def assert_stream_mirrors_store(nats_url: str, postgres_url: str) -> int:
    stored = stored_notification_ids(postgres_url)
    await wait_for_stream(nats_url, len(stored))
    await asyncio.sleep(0.5)  # a late duplicate would show up now
    contents = await read_stream(nats_url, "PLANS")
    assert contents.notification_ids == stored, "every stored event once, in store order"
    assert len(set(contents.msg_ids)) == len(contents.msg_ids)
    assert contents.msg_ids == [f"plans:{n}" for n in stored]
    return len(stored)


async def test_the_izmir_plan_is_listed_and_its_events_are_in_the_stream_as_cloudevents(
    service_env, spawn, free_port, coordinator_headers, nats_server, postgres_database
):
    import_izmir(service_env)
    api = spawn(["serve", "plans", "--port", str(free_port)], service_env, "plans", port=free_port)

    plans = httpx.get(f"{api.base_url}/plans", headers=coordinator_headers).json()
    assert [p["code"] for p in plans] == ["izmir-eylem-plani"]
    plan_id = plans[0]["id"]
    goals = httpx.get(f"{api.base_url}/plans/{plan_id}/goals", headers=coordinator_headers).json()
    targets = httpx.get(f"{api.base_url}/plans/{plan_id}/targets", headers=coordinator_headers).json()
    commitments = httpx.get(f"{api.base_url}/plans/{plan_id}/commitments", headers=coordinator_headers).json()
    assert (len(goals), len(targets), len(commitments)) == (2, 5, 104)

    count = await assert_stream_mirrors_store(nats_server.url, postgres_database.url)
    assert count == 238
    events = (await read_stream(nats_server.url, "PLANS")).events
    first = events[0]
    assert first.type == "izlek.plans.plan.started.v1"
    assert first.specversion == "1.0" and first.subject == plan_id
    assert first.data["title"] == "İZMİR EYLEM PLANI"
    assert first.validtime.date().isoformat() == "2021-06-10", "the plan took effect when it was presented"
    assert first.actorrole == "coordinator"
    assert sum(e.type == "izlek.plans.commitment.registered.v1" for e in events) == 104


async def test_commands_keep_succeeding_while_nats_is_down_and_every_event_arrives_once(
    service_env, spawn, free_port, coordinator_headers, nats_server, postgres_database
):
    import_izmir(service_env)
    api = spawn(["serve", "plans", "--port", str(free_port)], service_env, "plans", port=free_port)
    plan_id = httpx.get(f"{api.base_url}/plans", headers=coordinator_headers).json()[0]["id"]
    commitments = httpx.get(f"{api.base_url}/plans/{plan_id}/commitments", headers=coordinator_headers).json()
    statuses: list[int] = []
    stop = threading.Event()

    def keep_sending() -> None:
        with httpx.Client(base_url=api.base_url, headers=coordinator_headers, timeout=10) as client:
            n = 0
            while not stop.is_set():
                commitment = commitments[n % len(commitments)]
                status = "in_progress" if (n // len(commitments)) % 2 == 0 else "planned"
                statuses.append(client.post(f"/commitments/{commitment['id']}/status",
                                            json={"status": status}).status_code)
                n += 1

    sender = threading.Thread(target=keep_sending)
    sender.start()
    try:
        await asyncio.sleep(1.0)
        nats_server.stop()
        sent_before_outage = len(statuses)
        await asyncio.sleep(2.0)
        assert len(statuses) > sent_before_outage + 10, "commands go on while NATS is down"
        nats_server.start()
        await asyncio.sleep(1.0)
    finally:
        stop.set()
        sender.join()

    assert statuses and set(statuses) == {200}
    count = await assert_stream_mirrors_store(nats_server.url, postgres_database.url)
    assert count == 238 + len(statuses)


async def test_a_relay_killed_while_publishing_a_backlog_publishes_every_event_once_after_restart(
    service_env, spawn, nats_server, postgres_database
):
    import_izmir(service_env)
    app = PlansApplication(env=eventsourcing_env(postgres_database.url))
    try:
        plan = app.list_plans()[0]
        stamp = Stamp(Author("ayse@kedv.org.tr", "coordinator", "kedv"))
        for n in range(1200):
            commitment_id = plan.commitment_ids[n % len(plan.commitment_ids)]
            app.change_commitment_status(commitment_id, "in_progress" if (n // 104) % 2 == 0 else "planned", stamp)
    finally:
        app.close()
    relay_env = {**service_env, "IZLEK_PLANS_RELAY_BATCH_SIZE": "5"}
    total = 238 + 1200

    counts_at_kill = []
    async with StreamWatcher(nats_server.url, "PLANS") as stream:
        for attempt in range(3):
            relay = spawn(["relay", "plans"], relay_env, f"relay-{attempt}")
            before = await stream.count()
            deadline = time.monotonic() + 30
            while await stream.count() < before + 100:
                assert time.monotonic() < deadline, relay.log_tail()
                await asyncio.sleep(0.001)
            relay.kill()
            counts_at_kill.append(await stream.count())
    assert counts_at_kill == sorted(counts_at_kill) and counts_at_kill[-1] < total, counts_at_kill

    spawn(["relay", "plans"], relay_env, "relay-final")
    assert await assert_stream_mirrors_store(nats_server.url, postgres_database.url) == 238 + 1200


async def test_a_correlation_id_follows_a_command_into_its_event_the_nats_headers_and_the_logs(
    service_env, spawn, free_port, coordinator_headers, nats_server, postgres_database
):
    import_izmir(service_env)
    api = spawn(["serve", "plans", "--port", str(free_port)], service_env, "plans", port=free_port)
    plan_id = httpx.get(f"{api.base_url}/plans", headers=coordinator_headers).json()[0]["id"]
    commitment = httpx.get(f"{api.base_url}/plans/{plan_id}/commitments?target=T2.2",
                           headers=coordinator_headers).json()[0]
    response = httpx.post(f"{api.base_url}/commitments/{commitment['id']}/status",
                          json={"status": "in_progress", "reason": "kickoff"},
                          headers={**coordinator_headers, "X-Correlation-ID": "kickoff-2021-09"})
    assert response.status_code == 200
    assert response.headers["X-Correlation-ID"] == "kickoff-2021-09"

    await assert_stream_mirrors_store(nats_server.url, postgres_database.url)
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        last = await js.get_msg("PLANS", seq=(await js.stream_info("PLANS")).state.last_seq)
    finally:
        await nc.close()
    assert last.headers["Izlek-Correlation-Id"] == "kickoff-2021-09"
    event = CloudEvent.from_json_bytes(last.data)
    assert (event.type, event.correlationid, event.reason) == (
        "izlek.plans.commitment.status_changed.v1", "kickoff-2021-09", "kickoff")
    assert event.actor == "ayse@kedv.org.tr" and event.actororg == "kedv"
    assert '"correlation_id": "kickoff-2021-09"' in api.log_tail(200)
