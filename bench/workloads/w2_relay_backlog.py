"""Workload 2: the relay publishing a backlog of stored events to JetStream.

The plans store holds the İzmir plan and a history of changes to a thousand commitments (200,000 events); a
relay that has published none of it (an empty stream on a fresh nats-server) publishes it all, as
``izlek relay plans`` would after an outage. The baseline publishes the very same messages (subject, CloudEvent,
headers; made beforehand, untimed) with nats-py's ``publish_async`` and nothing else: no store to read, nothing
to translate. Checked: the stream holds every stored event once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable

import nats

from bench.harness import BenchEnvironment, Figure, WorkloadResult
from bench.jetstream_check import notification_ids
from bench.plans_history import append_history, seed_plan
from bench.processes import usage_of
from izlek_common.eventsourced.publishing import cloudevent_translator
from izlek_common.eventstore import eventsourcing_env
from izlek_common.jetstream import ensure_stream, stream_name_for, stream_subjects_for
from izlek_plans.application import PlansApplication
from izlek_plans.bootstrap import build_relay
from izlek_plans.settings import PlansSettings

NUMBER = 2
TARGET_EVENTS_PER_SECOND = 30_000
STREAM = stream_name_for("plans")


def run(environment: BenchEnvironment) -> WorkloadResult:
    backlog = 20_000 if environment.quick else 200_000
    relay_runs: list[Measurement] = []
    baseline_runs: list[Measurement] = []
    checks = []
    with environment.database() as database:
        application = PlansApplication(env=eventsourcing_env(database.url))
        try:
            seeded = seed_plan(application, 1000)
            stored = append_history(application, seeded, backlog - (application.recorder.max_notification_id() or 0))
            messages = _messages(application, stored)
            for _ in range(environment.runs):
                with environment.nats_server() as server:
                    relay_runs.append(_measured(server.pid, lambda url=server.url: _relay_run(application, url, stored)))
                    checks.append(Counter(asyncio.run(notification_ids(server.url, STREAM))))
                with environment.nats_server() as server:
                    baseline_runs.append(_measured(server.pid, lambda url=server.url: _baseline_run(url, messages)))
        finally:
            application.close()
    every_event_once = all(set(published) == set(range(1, stored + 1)) and max(published.values()) == 1
                           for published in checks)
    rate = Figure.of_runs([m.rate for m in relay_runs], "events/s")
    met = every_event_once and rate.value >= TARGET_EVENTS_PER_SECOND
    relay_cpu = statistics.median(m.publisher_cpu_us for m in relay_runs)
    baseline_cpu = statistics.median(m.publisher_cpu_us for m in baseline_runs)
    return WorkloadResult(
        number=NUMBER,
        title=f"Relay publishing a backlog of {stored:,} stored events to JetStream",
        target=f"≥ {TARGET_EVENTS_PER_SECOND:,} events/s",
        measured={"throughput": rate, **_cpu_figures(relay_runs)},
        baseline_name="nats-py publish_async of the same messages, made beforehand, with no store",
        baseline={"throughput": Figure.of_runs([m.rate for m in baseline_runs], "events/s"),
                  **_cpu_figures(baseline_runs)},
        met=met,
        checks={"every stored event in the stream once": every_event_once,
                "stored": stored, "in the stream": [sum(published.values()) for published in checks]},
        notes=("The relay is the plans service's, built as `izlek relay plans` builds it (its lease only decides "
               "which relay works, and is not taken here): it reads the notification log from PostgreSQL, turns each stored event into its "
               "CloudEvent (contract checked) and publishes it with Nats-Msg-Id, counting a batch only once "
               "JetStream acknowledged all of it; from an empty stream until the last acknowledgement."
               + ("" if met else
                  f" Why the target is not met: the relay is bound by one core's Python, {relay_cpu:.0f} µs of CPU "
                  f"per event against the baseline's {baseline_cpu:.0f} µs for publishing alone. Publishing costs "
                  "less than the baseline's (one acknowledgement per batch rather than one per message), but "
                  "each event must also be read from PostgreSQL, decoded from its stored JSON, checked against "
                  "its contract and written as a CloudEvent with its headers, and nats-py frames each message's "
                  "headers in Python.")),
    )


@dataclasses.dataclass(frozen=True)
class Measurement:
    rate: float
    publisher_cpu_us: float
    """CPU time of the publishing process per event, in microseconds."""
    nats_cpu_us: float


def _measured(nats_pid: int, publish: Callable[[], Awaitable[tuple[int, float]]]) -> Measurement:
    nats_before, cpu_before = usage_of(nats_pid), time.process_time()
    count, elapsed = asyncio.run(publish())
    cpu, nats = time.process_time() - cpu_before, usage_of(nats_pid) - nats_before
    return Measurement(count / elapsed, cpu / count * 1e6, nats.cpu_seconds / count * 1e6)


def _cpu_figures(runs: list[Measurement]) -> dict[str, Figure]:
    return {"CPU of the publisher per event": Figure.of_runs([m.publisher_cpu_us for m in runs], "µs"),
            "CPU of the nats-server per event": Figure.of_runs([m.nats_cpu_us for m in runs], "µs")}


def _messages(application: PlansApplication, last: int) -> list[tuple[str, bytes, dict[str, str]]]:
    translate = cloudevent_translator(application)
    messages = []
    position = 0
    while position < last:
        for notification in application.recorder.select_notifications(position + 1, 5000):
            event = translate(notification)
            messages.append((event.type, event.to_json_bytes(), event.nats_headers()))
            position = notification.id
    return messages


async def _relay_run(application: PlansApplication, nats_url: str, last: int) -> tuple[int, float]:
    relay = build_relay(application, PlansSettings(), nats_url)
    try:
        js = await relay._jetstream()  # the stream exists before the clock starts, as it does after an outage
        started = time.perf_counter()
        sent = await relay.publish_pending(js)
        elapsed = time.perf_counter() - started
    finally:
        await relay.close()
    if sent != last:
        raise RuntimeError(f"the relay published {sent} events, not {last}")
    return sent, elapsed


async def _baseline_run(nats_url: str, messages: list[tuple[str, bytes, dict[str, str]]]) -> tuple[int, float]:
    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        await ensure_stream(js, STREAM, stream_subjects_for("plans"))
        started = time.perf_counter()
        for subject, payload, headers in messages:
            await js.publish_async(subject, payload, headers=headers)
        await js.publish_async_completed()
        elapsed = time.perf_counter() - started
    finally:
        await client.close()
    return len(messages), elapsed
