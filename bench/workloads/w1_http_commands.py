"""Workload 1: commands over HTTP to the plans service, 32 concurrent clients, each answered once its event is
stored in PostgreSQL; the service's relay publishes them to JetStream meanwhile.

Each client changes the title of commitments of its own (``PATCH /commitments/{id}``), one command after the
other. The baseline runs the same commands in one process, 32 threads calling the plans application directly
with the stock ``eventsourcing`` PostgreSQL recorder: one ``save()``, one transaction, per command.
Checked: every accepted command's event is in the store once and in the stream once, and nothing else is.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

import psycopg

from bench.harness import BenchEnvironment, Figure, WorkloadResult, percentile
from bench.http_load import Request, run_load
from bench.jetstream_check import notification_ids, wait_until_published
from bench.plans_history import BENCH_AUTHOR, seed_plan
from bench.processes import running
from izlek_common.auth import issue_token
from izlek_common.domain.stamp import Stamp
from izlek_common.eventstore import eventsourcing_env
from izlek_common.nats_server import find_free_port
from izlek_common.settings import CommonSettings
from izlek_plans.application import PlansApplication

NUMBER = 1
CLIENTS = 32
COMMITMENTS_PER_CLIENT = 4
TARGET_COMMANDS_PER_SECOND = 3000
WHY_NOT_MET = (
    " Why the target is not met: the database is no longer the limit (group commit writes the commands that "
    "arrive together in one transaction, where the stock recorder spends a transaction and a flush on each), "
    "the plans service's CPU is. A command costs it about 2 ms of CPU (workload 7): the HTTP stack (routing, "
    "dependencies, validation, the JSON answer), reading the commitment from PostgreSQL before the change and "
    "again for the answer (each with a connection check and a deep copy of the cached aggregate), and its relay; "
    "one process holds one core, and the machine's two cores are shared with PostgreSQL, the nats-server and "
    "the load generator. `izlek serve plans --workers 2` lets the API use both cores, which on this machine "
    "takes them from PostgreSQL and the load generator instead."
)


def run(environment: BenchEnvironment) -> WorkloadResult:
    commands_per_client = 60 if environment.quick else 200
    measured_rates, latencies_p50, latencies_p99, checks = [], [], [], []
    baseline_rates = []
    for _ in range(environment.runs):
        outcome = _http_run(environment, commands_per_client)
        measured_rates.append(outcome["rate"])
        latencies_p50.append(outcome["p50"])
        latencies_p99.append(outcome["p99"])
        checks.append(outcome["checks"])
        baseline_rates.append(_baseline_run(environment, commands_per_client))
    rate = Figure.of_runs(measured_rates, "commands/s")
    passed = all(c.pop("ok") for c in checks)
    met = passed and rate.value >= TARGET_COMMANDS_PER_SECOND
    all_checks = {key: [c[key] for c in checks] for key in checks[0]}
    return WorkloadResult(
        number=NUMBER,
        title="Commands over HTTP to the plans service (32 concurrent clients), each stored in PostgreSQL",
        target=f"≥ {TARGET_COMMANDS_PER_SECOND:,} commands/s",
        measured={
            "throughput": rate,
            "latency p50": Figure.of_runs(latencies_p50, "ms"),
            "latency p99": Figure.of_runs(latencies_p99, "ms"),
        },
        baseline_name="one save() per command, stock eventsourcing PostgreSQL recorder, 32 threads in one process",
        baseline={"throughput": Figure.of_runs(baseline_rates, "commands/s")},
        met=met,
        checks={"every accepted command stored once and published once": passed, **all_checks},
        notes=(f"{CLIENTS} clients × {commands_per_client} commands per run (PATCH /commitments/{{id}}, a new "
               f"title: one event each), {COMMITMENTS_PER_CLIENT} commitments per client; the plans service "
               "runs as `izlek serve plans` with its relay publishing to the nats-server meanwhile; a command "
               "counts once its 2xx answer is in, which is sent after its transaction committed."
               + ("" if met else WHY_NOT_MET)),
    )


def _commands(seeded_ids: list[UUID], token: str, commands_per_client: int) -> list[list[Request]]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    per_client = []
    for client in range(CLIENTS):
        own = seeded_ids[client * COMMITMENTS_PER_CLIENT:(client + 1) * COMMITMENTS_PER_CLIENT]
        per_client.append([
            Request("PATCH", f"/commitments/{own[n % len(own)]}",
                    json.dumps({"title": f"client {client} command {n}"}).encode(), headers)
            for n in range(commands_per_client)
        ])
    return per_client


def _http_run(environment: BenchEnvironment, commands_per_client: int) -> dict:
    with environment.database() as database, environment.nats_server() as nats_server:
        store_url = database.url
        application = PlansApplication(env=eventsourcing_env(store_url))
        try:
            seeded = seed_plan(application, CLIENTS * COMMITMENTS_PER_CLIENT)
            seeded_ids = [c.id for c in seeded.commitments]
            stored_before = application.recorder.max_notification_id() or 0
        finally:
            application.close()
        port = find_free_port()
        service_environment = {
            "IZLEK_PLANS_EVENT_STORE_URL": store_url, "IZLEK_NATS_URL": nats_server.url,
            "IZLEK_LOG_LEVEL": "WARNING", "IZLEK_VAR_DIR": str(environment.work_dir / "var"),
        }
        token = issue_token(CommonSettings(), subject=BENCH_AUTHOR.subject, role="coordinator")
        with running("plans API", ["serve", "plans", "--port", str(port)], service_environment,
                     environment.work_dir / "logs" / "w1-plans.log") as service:
            service.wait_until_answers(f"http://127.0.0.1:{port}/readyz")
            outcome = run_load("127.0.0.1", port, _commands(seeded_ids, token, commands_per_client))
            stored_after = _max_notification_id(store_url)
            asyncio.run(wait_until_published(nats_server.url, "PLANS", stored_after, timeout=120))
        checks = _check(store_url, nats_server.url, seeded_ids, outcome, stored_before, stored_after)
    latencies_ms = [seconds * 1000 for seconds in outcome.latencies]
    return {"rate": outcome.succeeded / outcome.elapsed, "p50": percentile(latencies_ms, 50),
            "p99": percentile(latencies_ms, 99), "checks": checks}


def _max_notification_id(store_url: str) -> int:
    with psycopg.connect(store_url) as connection:
        return connection.execute("select coalesce(max(notification_id), 0) from plans_events").fetchone()[0]


def _check(store_url: str, nats_url: str, seeded_ids: list[UUID], outcome, stored_before: int,
           stored_after: int) -> dict:
    accepted = Counter()
    for client in outcome.responses:
        for response in client:
            if 200 <= response.status < 300:
                body = json.loads(response.body)
                accepted[(UUID(body["id"]), int(body["version"]))] += 1
    with psycopg.connect(store_url) as connection:
        rows = connection.execute(
            "select originator_id, originator_version from plans_events"
            " where originator_id = any(%s) and notification_id > %s",
            (seeded_ids, stored_before),
        ).fetchall()
    stored = Counter((row[0], row[1]) for row in rows)
    published = Counter(asyncio.run(notification_ids(nats_url, "PLANS")))
    ok = (
        set(accepted) == set(stored)
        and all(count == 1 for count in accepted.values())
        and sum(stored.values()) == stored_after - stored_before
        and all(count == 1 for count in published.values())
        and set(published) == set(range(1, stored_after + 1))
    )
    return {
        "ok": ok,
        "accepted": outcome.succeeded,
        "refused": sum(n for status, n in outcome.statuses.items() if status >= 300),
        "stored": sum(stored.values()),
        "published": sum(published.values()),
        "published more than once": sum(1 for count in published.values() if count > 1),
    }


def _baseline_run(environment: BenchEnvironment, commands_per_client: int) -> float:
    """The same commands through the application with the stock recorder (no HTTP), 32 threads at once."""
    with environment.database() as database:
        application = PlansApplication(env={**database.eventsourcing_env(), "CREATE_TABLE": "y",
                                             "POSTGRES_POOL_SIZE": str(CLIENTS)})
        try:
            seeded = seed_plan(application, CLIENTS * COMMITMENTS_PER_CLIENT)
            ids = [c.id for c in seeded.commitments]
            stamp = Stamp(author=BENCH_AUTHOR)
            start = threading.Barrier(CLIENTS + 1)

            def client(number: int) -> int:
                own = ids[number * COMMITMENTS_PER_CLIENT:(number + 1) * COMMITMENTS_PER_CLIENT]
                start.wait()
                for n in range(commands_per_client):
                    application.change_commitment(own[n % len(own)], {"title": f"client {number} command {n}"},
                                                  stamp)
                return commands_per_client

            with ThreadPoolExecutor(CLIENTS) as pool:
                futures = [pool.submit(client, number) for number in range(CLIENTS)]
                start.wait()
                started = time.perf_counter()
                done = sum(future.result() for future in futures)
                elapsed = time.perf_counter() - started
        finally:
            application.close()
    return done / elapsed
