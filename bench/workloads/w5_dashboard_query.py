"""Workload 5: the plan dashboard query on one gateway worker, 16 clients.

The plan is İzmir's (104 commitments, 7 criteria) with 14 more success criteria defined through the plans API
(protocol coverage counts, percentages, yes/no), so 21 criteria; its organisations and protocols come from the
partners import. `izlek serve gateway` (one uvicorn worker, its projector inside, read models on PostgreSQL)
answers `dashboard(planId)` with every criterion, the commitments of every actor group, indicators and quotas.

Side by side in each run, with the same query and the same 16 closed-loop clients:
- the gateway (measured);
- the baseline: stock strawberry under uvicorn returning the same dashboard, already in memory, through the
  gateway's own types (`bench.baselines.plain_strawberry`);
- a gateway replica on the same read models with its response cache off (`IZLEK_GATEWAY_RESPONSE_CACHE_BYTES=0`):
  what every request costs when it executes.

    python -m bench.workloads.w5_dashboard_query [--quick]
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from typing import Any

import httpx

from bench.deployment import (
    Deployment,
    ServerProcess,
    deployment,
    graphql,
    token_headers,
    wait_until,
)
from bench.harness import BenchEnvironment, Figure, WorkloadResult, percentile
from bench.load import LoadResult, post_request, run_load
from bench.processes import usage_of
from izlek_common.nats_server import find_free_port

NUMBER = 5
TITLE = "plan dashboard query, one gateway worker, 16 clients"
TARGET = "≥ 2,000 requests/s, p99 ≤ 20 ms"
CLIENTS = 16
LOAD_PROCESSES = 1
TARGET_RATE = 2000.0
TARGET_P99_MS = 20.0

DASHBOARD = """query Dashboard($planId: ID!) {
  dashboard(planId: $planId) {
    planId planCode planTitle today
    criteria {
      criterionId code text group measureKind unit value target achievementPercent band status note period
      override { band reason period }
      parts { text measureKind unit value target achievementPercent band status note }
      coverage { kind covered target breakdown { organisationType label covered found target } }
    }
    commitments {
      total overdue
      byStatus { status count overdue }
      groups {
        actorGroup name total overdue byStatus { status count overdue }
        commitments { id code title targetCode actorGroup organisationId status dueDate overdue }
      }
      overdueCommitments { id code title dueDate status }
    }
    indicators { id code name unit direction baseline periods { period target actual achievementPercent band } }
    quotaCompliance {
      protocolId code title status quotaPercent categories
      compliance { municipalityCode period confirmedTotal declaredVolume sharePercent met }
    }
  }
}"""

EXTRA_CRITERIA = [
    *({"code": f"BENCH-COV{i}", "text": f"{i} ilçe belediyesi ile standart protokol",
       "measure": {"kind": "count", "target": i + 1, "unit": "protocol",
                   "counts": {"entity": "protocol", "statuses": "signed,in_force,renewed"},
                   "breakdown": {"municipality_metropolitan": 1, "municipality_district": i}}}
      for i in range(1, 6)),
    *({"code": f"BENCH-PCT{i}", "text": f"Kooperatif üyelerinin %{10 * i} katılımı",
       "measure": {"kind": "percent", "target": 10 * i, "unit": "%"}} for i in range(1, 6)),
    *({"code": f"BENCH-YN{i}", "text": f"Yıllık değerlendirme toplantısı {i} yapıldı",
       "measure": {"kind": "boolean"}} for i in range(1, 5)),
]


def seed_plan(plans_url: str) -> str:
    """The İzmir plan's id, after defining the extra criteria through the plans API as a coordinator."""
    coordinator = token_headers("coordinator", "zeynep@kedv.org.tr", "kedv")
    with httpx.Client(base_url=plans_url, headers=coordinator, timeout=30) as client:
        plan_id = client.get("/plans").json()[0]["id"]
        for criterion in EXTRA_CRITERIA:
            client.post(f"/plans/{plan_id}/criteria", json=criterion).raise_for_status()
    return str(plan_id)


def dashboard_is_complete(data: dict[str, Any]) -> bool:
    dashboard = data["dashboard"]
    return bool(dashboard) and len(dashboard["criteria"]) >= 7 + len(EXTRA_CRITERIA) and \
        dashboard["commitments"]["total"] >= 104


def start_servers(running: Deployment) -> tuple[str, ServerProcess, ServerProcess, ServerProcess]:
    running.import_izmir()
    plans = running.serve("plans")
    plan_id = seed_plan(plans.base_url)
    gateway = running.serve("gateway")
    auditor = token_headers()
    wait_until(lambda: dashboard_is_complete(graphql(gateway.base_url, DASHBOARD, auditor, planId=plan_id)),
               timeout=120, what="the gateway projecting the plan")
    plans.stop()
    uncached = running.serve("gateway", "gateway-uncached", IZLEK_GATEWAY_PROJECTOR_ENABLED="false",
                             IZLEK_GATEWAY_RESPONSE_CACHE_BYTES="0")
    port = find_free_port()
    baseline = running.spawn_command(
        [sys.executable, "-m", "bench.baselines.plain_strawberry", "--database-url", running.gateway_database_url,
         "--plan-id", plan_id, "--port", str(port)], "baseline-strawberry", port)
    return plan_id, gateway, uncached, baseline


@dataclass
class Measurement:
    load: LoadResult
    server_cpu_ms_per_request: float


def measure(server: ServerProcess, request: bytes, duration: float, warmup: float) -> Measurement:
    assert server.port is not None
    cpu_before = usage_of(server.pid).cpu_seconds
    load = run_load("127.0.0.1", server.port, request, clients=CLIENTS, processes=LOAD_PROCESSES,
                    duration=duration, warmup=warmup)
    cpu = usage_of(server.pid).cpu_seconds - cpu_before
    return Measurement(load, cpu * 1000 / load.answered if load.answered else math.nan)


def run(environment: BenchEnvironment) -> WorkloadResult:
    duration, warmup = (3.0, 1.0) if environment.quick else (8.0, 2.0)
    results: dict[str, list[Measurement]] = {"gateway": [], "uncached": [], "baseline": []}
    with deployment(environment, "w5") as running:
        plan_id, gateway, uncached, baseline = start_servers(running)
        body = json.dumps({"query": DASHBOARD, "variables": {"planId": plan_id}}).encode()
        auditor = token_headers()
        for _ in range(environment.runs):
            for name, server, headers in (("gateway", gateway, auditor), ("uncached", uncached, auditor),
                                          ("baseline", baseline, {})):
                assert server.port is not None
                request = post_request("127.0.0.1", server.port, "/graphql", body, headers)
                results[name].append(measure(server, request, duration, warmup))
        expected = graphql(uncached.base_url, DASHBOARD, auditor, planId=plan_id)["dashboard"]

    def figures(name: str) -> dict[str, Figure]:
        loads = [m.load for m in results[name]]
        return {
            "requests_per_second": Figure.of_runs([r.per_second for r in loads], "requests/s"),
            "p50": Figure.of_runs([percentile(r.latencies_ms, 50) for r in loads], "ms"),
            "p99": Figure.of_runs([percentile(r.latencies_ms, 99) for r in loads], "ms"),
            "server_cpu_per_request": Figure.of_runs([m.server_cpu_ms_per_request for m in results[name]], "ms"),
            "load_generator_cpu": Figure.of_runs([r.client_cpu_seconds / r.seconds for r in loads], "cores"),
        }

    measured = figures("gateway")
    measured.update({f"uncached_{key}": figure for key, figure in figures("uncached").items()})
    baseline_figures = figures("baseline")

    def served(name: str) -> Any:
        return [json.loads(m.load.sample)["data"]["dashboard"] if m.load.sample else None for m in results[name]]

    checks = {
        "criteria": len(expected["criteria"]),
        "commitments": expected["commitments"]["total"],
        "errors": sum(m.load.errors for measurements in results.values() for m in measurements),
        "gateway served the dashboard": all(d == expected for d in served("gateway")),
        "baseline served the same payload": all(d == expected for d in served("baseline")),
    }
    error_samples = {m.load.error_sample for measurements in results.values() for m in measurements} - {""}
    if error_samples:
        checks["an answer that was not 200"] = sorted(error_samples)[0]
    met = (measured["requests_per_second"].value >= TARGET_RATE and measured["p99"].value <= TARGET_P99_MS
           and checks["errors"] == 0 and checks["gateway served the dashboard"])
    return WorkloadResult(
        number=NUMBER, title=TITLE, target=TARGET, measured=measured,
        baseline_name="stock strawberry returning the same dashboard from memory (no database, no auth)",
        baseline=baseline_figures, met=met, checks=checks,
        notes=(f"{CLIENTS} closed-loop keep-alive clients in {LOAD_PROCESSES} load process(es) (raw asyncio HTTP/1.1, "
               "bench.load) on the core the gateway does not use; the gateway is `izlek serve gateway`, one uvicorn "
               "worker with its projector, bearer auth and access log, read models on PostgreSQL. Each figure is "
               f"the median of {environment.runs} run(s) of {duration:g} s after {warmup:g} s of warm-up. "
               "`uncached_*` is a gateway replica with IZLEK_GATEWAY_RESPONSE_CACHE_BYTES=0: every request "
               "executes the query."),
    )


if __name__ == "__main__":
    from bench.deployment import run_standalone

    run_standalone(run)
