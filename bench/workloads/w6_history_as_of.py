"""Workload 6: `history` and `asOf` of an entity with 1,000 events.

One commitment of the İzmir plan gets 999 more events through the plans API (a coordinator changing its title
and adding evidence, in turn), each projected by `izlek serve gateway` (read models on PostgreSQL). Then, in
each run, one more change is made and, once the gateway shows it:
- `history(id)` with every entry's field changes, asked for 50 times one after the other: the first answer is
  computed (only the new event is replayed: the entity's earlier replay is kept), the others come from the
  response cache until the next change;
- `commitments(planId, asOf: T)` at ten moments T spread over the entity's life, each asked for 5 times: the first
  at each moment builds the read models of that moment (replayed from the audit trail), the others are cached.
The baseline reads the same 1,000 events from the plans service's event store (`recorder.select_events`, in
this process, PostgreSQL).

    python -m bench.workloads.w6_history_as_of [--quick]
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx

from bench.deployment import deployment, token_headers, wait_until
from bench.harness import BenchEnvironment, Figure, WorkloadResult, percentile

NUMBER = 6
TITLE = "history and asOf of an entity with 1,000 events"
TARGET = "p99 ≤ 20 ms"
TARGET_P99_MS = 20.0
HISTORY_REPEATS = 50
MOMENTS = 10
AS_OF_REPEATS = 5

HISTORY = """query History($id: ID!) {
  history(id: $id) { version name kind author recordedAt validAt reason changes { field before after } }
}"""
AS_OF = """query Then($planId: ID!, $asOf: PointInTime) {
  commitments(planId: $planId, asOf: $asOf, first: 200) { totalCount edges { node { id title status version } } }
}"""
VERSIONS = """query Versions($planId: ID!) {
  commitments(planId: $planId, first: 200) { edges { node { id version } } }
}"""


class GraphQL:
    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, headers=token_headers(), timeout=120)

    def timed(self, query: str, **variables: Any) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        response = self.client.post("/graphql", json={"query": query, "variables": variables})
        took = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        return took, body["data"]

    def version_of(self, plan_id: str, commitment_id: str) -> int:
        edges = self.timed(VERSIONS, planId=plan_id)[1]["commitments"]["edges"]
        return next(edge["node"]["version"] for edge in edges if edge["node"]["id"] == commitment_id)


class Coordinator:
    """Changes one commitment through the plans API."""

    def __init__(self, plans_url: str) -> None:
        self.client = httpx.Client(base_url=plans_url, headers=token_headers("coordinator", "zeynep@kedv.org.tr"),
                                   timeout=30)

    def first_commitment(self) -> tuple[str, str]:
        plan_id = self.client.get("/plans").json()[0]["id"]
        commitment = self.client.get(f"/plans/{plan_id}/commitments").json()[0]
        return str(plan_id), str(commitment["id"])

    def change(self, commitment_id: str, number: int) -> None:
        if number % 2:
            response = self.client.post(f"/commitments/{commitment_id}/evidence",
                                        json={"reference": f"kanit-{number}", "description": f"Kanıt {number}"})
        else:
            response = self.client.patch(f"/commitments/{commitment_id}", json={"title": f"Faaliyet, sürüm {number}"})
        response.raise_for_status()


def read_from_store(plans_database_url: str, commitment_id: str, repeats: int) -> tuple[list[float], int]:
    """Latencies (ms) of reading the commitment's stored events, and how many there are."""
    from izlek_plans.bootstrap import build_application
    from izlek_plans.settings import PlansSettings

    application = build_application(PlansSettings(plans_event_store_url=plans_database_url))
    try:
        latencies = []
        count = 0
        for _ in range(repeats):
            started = time.perf_counter()
            count = len(application.recorder.select_events(UUID(commitment_id)))
            latencies.append((time.perf_counter() - started) * 1000)
        return latencies, count
    finally:
        application.close()


def run(environment: BenchEnvironment) -> WorkloadResult:
    events = 300 if environment.quick else 1000
    measured_runs: dict[str, list[float]] = {key: [] for key in (
        "history_first", "history_p50", "history_p99", "history_after_change", "as_of_p50", "as_of_p99", "as_of_first_p50",
        "as_of_first_p99")}
    baseline_runs: dict[str, list[float]] = {"p50": [], "p99": []}
    checks: dict[str, Any] = {}
    with deployment(environment, "w6") as running:
        running.import_izmir(partners=False)
        plans = running.serve("plans")
        gateway = running.serve("gateway")
        coordinator = Coordinator(plans.base_url)
        graphql = GraphQL(gateway.base_url)
        plan_id, commitment_id = coordinator.first_commitment()
        moments = []
        for number in range(1, events):
            coordinator.change(commitment_id, number)
            if number % (events // MOMENTS) == 0:
                moments.append(datetime.now(UTC).isoformat())
        changed = events - 1
        wait_until(lambda: graphql.version_of(plan_id, commitment_id) >= events, timeout=120, interval=0.2,
                   what="the gateway projecting the commitment's changes")
        first_history = graphql.timed(HISTORY, id=commitment_id)[0]  # the whole replay, kept from now on
        for run_number in range(environment.runs):
            changed += 1
            coordinator.change(commitment_id, changed)
            wait_until(lambda v=changed + 1: graphql.version_of(plan_id, commitment_id) >= v, timeout=120,
                       interval=0.2, what="the gateway projecting the commitment's changes")
            history = [graphql.timed(HISTORY, id=commitment_id) for _ in range(HISTORY_REPEATS)]
            latencies = [took for took, _ in history]
            measured_runs["history_after_change"].append(latencies[0])
            measured_runs["history_p50"].append(percentile(latencies, 50))
            measured_runs["history_p99"].append(percentile(latencies, 99))
            checks[f"history entries, run {run_number + 1}"] = len(history[-1][1]["history"])
            firsts, all_as_of = [], []
            for moment in moments:
                answers = [graphql.timed(AS_OF, planId=plan_id, asOf=moment)[0] for _ in range(AS_OF_REPEATS)]
                firsts.append(answers[0])
                all_as_of += answers
            measured_runs["as_of_first_p50"].append(percentile(firsts, 50))
            measured_runs["as_of_first_p99"].append(percentile(firsts, 99))
            measured_runs["as_of_p50"].append(percentile(all_as_of, 50))
            measured_runs["as_of_p99"].append(percentile(all_as_of, 99))
            store, stored = read_from_store(running.plans_database_url, commitment_id, HISTORY_REPEATS)
            baseline_runs["p50"].append(percentile(store, 50))
            baseline_runs["p99"].append(percentile(store, 99))
            checks[f"events in the store, run {run_number + 1}"] = stored
        checks["history shows every stored event"] = all(
            checks[f"history entries, run {n + 1}"] == checks[f"events in the store, run {n + 1}"]
            for n in range(environment.runs))
    measured_runs["history_first"] = [first_history]
    measured = {key: Figure.of_runs(values, "ms") for key, values in measured_runs.items()}
    baseline = {key: Figure.of_runs(values, "ms") for key, values in baseline_runs.items()}
    met = (measured["history_p99"].value <= TARGET_P99_MS and measured["as_of_p99"].value <= TARGET_P99_MS
           and checks["history shows every stored event"])
    return WorkloadResult(
        number=NUMBER, title=TITLE, target=TARGET, measured=measured,
        baseline_name="reading the entity's stored events from the plans event store (PostgreSQL, in process)",
        baseline=baseline, met=met, checks=checks,
        notes=(f"An İzmir commitment with {events} events and more (one more per run), made through the plans API; "
               "one client, one request at a time over HTTP (httpx). history_first: the first history ever asked "
               "of the entity, which replays all its events (once, before the runs). history_p50/p99: {HISTORY_REPEATS} requests "
               "after a change, the first computed (history_after_change: the entity's kept replay extended by the "
               "new event, and the answer serialised), the rest answered from the response cache. as_of_*: "
               f"{MOMENTS} moments × {AS_OF_REPEATS} requests; as_of_first_*: the first request at each moment, which "
               "replays the audit trail up to that moment into an in-memory replica. The target is met only when "
               "both p99s are."),
    )


if __name__ == "__main__":
    from bench.deployment import run_standalone

    run_standalone(run)
