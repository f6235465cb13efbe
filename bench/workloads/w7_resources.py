"""Workload 7: memory and CPU. The resident memory of each process after workload 4 (left in the environment by
it), and the CPU-seconds that 1,000 events cost end to end: commands over HTTP to the plans service (which
stores them in PostgreSQL and relays them to the nats-server), projected by the gateway's projector into its
read models; every process's CPU time is counted from the first command until the projector has applied the
last event.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import psycopg
from sqlalchemy import create_engine

from bench.harness import BenchEnvironment, Figure, WorkloadResult
from bench.http_load import run_load
from bench.plans_history import BENCH_AUTHOR, seed_plan
from bench.processes import IzlekProcess, postgres_pids, usage_of, usage_of_all
from bench.workloads.w1_http_commands import CLIENTS, COMMITMENTS_PER_CLIENT, _commands
from bench.workloads.w4_projection_rebuild import _create_partners_stream, _position
from izlek_common.auth import issue_token
from izlek_common.eventstore import eventsourcing_env
from izlek_common.nats_server import find_free_port
from izlek_common.settings import CommonSettings
from izlek_plans.application import PlansApplication

NUMBER = 7


def run(environment: BenchEnvironment) -> WorkloadResult:
    commands_per_client = 60 if environment.quick else 150
    cpu_per_thousand: dict[str, list[float]] = {}
    memory: dict[str, int] = {}
    for _ in range(environment.runs):
        costs, memory = _end_to_end(environment, commands_per_client)
        for name, value in costs.items():
            cpu_per_thousand.setdefault(name, []).append(value)
    ordered = sorted(cpu_per_thousand.items(), key=lambda item: item[0] != "all of them")
    measured = {f"CPU per 1,000 events: {name}": Figure.of_runs(values, "CPU-s") for name, values in ordered}
    after_rebuild = environment.observations.get("after workload 4", {})
    for name, rss in after_rebuild.items():
        measured[f"resident memory after workload 4: {name}"] = Figure(rss / 2**20, "MiB", [rss / 2**20])
    for name, rss in memory.items():
        measured[f"resident memory after the end-to-end run: {name}"] = Figure(rss / 2**20, "MiB", [rss / 2**20])
    return WorkloadResult(
        number=NUMBER,
        title="Memory and CPU: resident memory of each process, CPU-seconds per 1,000 events end to end",
        target="reported",
        measured=measured,
        baseline_name="none",
        baseline={},
        met=None,
        checks={"memory after workload 4 recorded": bool(after_rebuild)},
        notes=(f"End to end: {CLIENTS} clients × {commands_per_client} commands (one event each) over HTTP to "
               "`izlek serve plans` (relay inside), the nats-server, `izlek gateway project` into PostgreSQL read "
               "models; PostgreSQL counts the backends of the two databases and the server's shared writers "
               "(WAL writer, checkpointer, background writer), which also serve whatever else runs on the "
               "server; the load generator is left out. Resident memory of PostgreSQL sums its processes' "
               "RSS, shared buffers counted in each."),
    )


def _end_to_end(environment: BenchEnvironment, commands_per_client: int) -> tuple[dict[str, float], dict[str, int]]:
    with (environment.database() as store, environment.database() as read_models,
          environment.nats_server() as server):
        application = PlansApplication(env=eventsourcing_env(store.url))
        try:
            seeded = seed_plan(application, CLIENTS * COMMITMENTS_PER_CLIENT)
        finally:
            application.close()
        asyncio.run(_create_partners_stream(server.url))
        port = find_free_port()
        common = {"IZLEK_NATS_URL": server.url, "IZLEK_LOG_LEVEL": "WARNING",
                  "IZLEK_VAR_DIR": str(environment.work_dir / "var")}
        api = IzlekProcess("plans API", ["serve", "plans", "--port", str(port)],
                           {**common, "IZLEK_PLANS_EVENT_STORE_URL": store.url},
                           environment.work_dir / "logs" / "w7-plans.log")
        projector = IzlekProcess("projector", ["gateway", "project"],
                                 {**common, "IZLEK_GATEWAY_DATABASE_URL": read_models.sqlalchemy_url},
                                 environment.work_dir / "logs" / "w7-projector.log")
        engine = create_engine(read_models.sqlalchemy_url)
        try:
            with api, projector:
                api.wait_until_answers(f"http://127.0.0.1:{port}/readyz")
                seeded_events = _stored(store.url)
                _wait_for(lambda: _position(engine) >= seeded_events, projector, "the seeded events projected")
                processes = {"plans API and relay": [api.pid], "projector": [projector.pid],
                             "nats-server": [server.pid],
                             "PostgreSQL": postgres_pids(store.dbname) + postgres_pids(read_models.dbname)}
                before = {name: usage_of_all(pids).cpu_seconds for name, pids in processes.items()}
                token = issue_token(CommonSettings(), subject=BENCH_AUTHOR.subject, role="coordinator")
                outcome = run_load("127.0.0.1", port, _commands([c.id for c in seeded.commitments], token,
                                                                commands_per_client))
                stored = _stored(store.url)
                _wait_for(lambda: _position(engine) >= stored, projector, "every event projected")
                processes["PostgreSQL"] = postgres_pids(store.dbname) + postgres_pids(read_models.dbname)
                after = {name: usage_of_all(pids) for name, pids in processes.items()}
                memory = {"plans API and relay": usage_of(api.pid).rss_bytes,
                          "projector": usage_of(projector.pid).rss_bytes,
                          "nats-server": usage_of(server.pid).rss_bytes,
                          "PostgreSQL": after["PostgreSQL"].rss_bytes}
        finally:
            engine.dispose()
    events = stored - seeded_events
    if events != outcome.succeeded:
        raise RuntimeError(f"{outcome.succeeded} commands accepted but {events} events stored")
    costs = {name: (after[name].cpu_seconds - before[name]) / events * 1000 for name in processes}
    costs["all of them"] = sum(costs.values())
    return costs, memory


def _stored(store_url: str) -> int:
    with psycopg.connect(store_url) as connection:
        return connection.execute("select coalesce(max(notification_id), 0) from plans_events").fetchone()[0]


def _wait_for(condition: Callable[[], bool], process: IzlekProcess, what: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.popen is not None and process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited before {what}:\n{process.log_tail()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"not {what} within {timeout}s")
        time.sleep(0.05)

