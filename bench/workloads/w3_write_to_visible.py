"""Workload 3: write-to-visible latency at 500 commands/s, from a command's 2xx to the moment a GraphQL client sees
its change.

`izlek serve plans` (event store on PostgreSQL, its relay inside, woken by every save) takes commands paced at 500
a second: a coordinator retitling the İzmir plan's 104 commitments in turn (PATCH, 32 connections, httpx). `izlek
serve gateway` (projector inside, read models on PostgreSQL) serves a `planChanges(planId)` subscription over
graphql-transport-ws; the client records when each change (commitment id and version) arrives. The latency of a
command is that arrival minus the arrival of its 2xx (0 when the change arrived first).

The baseline, in one process at the same pace: append an event to an eventsourcing application on PostgreSQL,
publish it to JetStream (awaiting the ack), consume it with a pull consumer and upsert a row into PostgreSQL;
latency from the append's return to the upsert's commit.

    python -m bench.workloads.w3_write_to_visible [--quick]
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from websockets.asyncio.client import connect as connect_websocket
from websockets.typing import Subprotocol

from bench.deployment import deployment, token_headers
from bench.harness import BenchEnvironment, Figure, WorkloadResult, percentile

NUMBER = 3
TITLE = "write-to-visible latency at 500 commands/s"
TARGET = "p50 ≤ 10 ms, p99 ≤ 50 ms"
RATE = 500.0
CONNECTIONS = 32
TARGET_P50_MS = 10.0
TARGET_P99_MS = 50.0

PLAN_CHANGES = """subscription Changes($planId: ID!) {
  planChanges(planId: $planId) { change { data } }
}"""


async def watch_changes(gateway_url: str, plan_id: str, seen: dict[str, float],
                        ready: asyncio.Event, stop: asyncio.Event) -> None:
    """Record when each change of the plan reaches a subscriber: the title it set -> perf_counter."""
    url = gateway_url.replace("http://", "ws://") + "/graphql"
    async with connect_websocket(url, subprotocols=[Subprotocol("graphql-transport-ws")], max_size=None) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": token_headers()}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "1", "type": "subscribe",
                                      "payload": {"query": PLAN_CHANGES, "variables": {"planId": plan_id}}}))
        ready.set()
        while not stop.is_set():
            try:
                message = json.loads(await asyncio.wait_for(socket.recv(), 0.5))
            except TimeoutError:
                continue
            arrived = time.perf_counter()
            if message.get("type") == "next":
                data = message["payload"]["data"]["planChanges"]["change"]["data"]
                title = (data.get("changes") or {}).get("title")
                if title:
                    seen.setdefault(title, arrived)
            elif message.get("type") in ("error", "complete"):
                raise RuntimeError(f"the subscription ended: {message}")


async def paced_commands(plans_url: str, plan_id: str, seconds: float, first: int) -> tuple[dict[str, float], int]:
    """Retitle the plan's commitments in turn at RATE a second for `seconds`, each with a title of its own
    (numbered from `first`); title -> the perf_counter of its 2xx, and the number of failed commands."""
    headers = token_headers("coordinator", "zeynep@kedv.org.tr")
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    accepted: dict[str, float] = {}
    failed = 0
    async with httpx.AsyncClient(base_url=plans_url, headers=headers, limits=limits, timeout=30) as client:
        commitment_ids = [c["id"] for c in (await client.get(f"/plans/{plan_id}/commitments")).json()]

        async def command(number: int) -> None:
            nonlocal failed
            commitment_id = commitment_ids[number % len(commitment_ids)]
            title = f"Faaliyet {first + number}"
            response = await client.patch(f"/commitments/{commitment_id}", json={"title": title})
            done = time.perf_counter()
            if response.status_code != 200:
                failed += 1
                return
            accepted[title] = done

        started = time.perf_counter()
        tasks = []
        for number in range(int(RATE * seconds)):
            await asyncio.sleep(max(0.0, started + number / RATE - time.perf_counter()))
            tasks.append(asyncio.create_task(command(number)))
        await asyncio.gather(*tasks)
    return accepted, failed


async def measure(gateway_url: str, plans_url: str, plan_id: str, seconds: float, first: int) -> dict[str, Any]:
    seen: dict[str, float] = {}
    ready, stop = asyncio.Event(), asyncio.Event()
    watching = asyncio.create_task(watch_changes(gateway_url, plan_id, seen, ready, stop))
    try:
        await asyncio.wait_for(ready.wait(), 30)
        started = time.perf_counter()
        accepted, failed = await paced_commands(plans_url, plan_id, seconds, first)
        took = time.perf_counter() - started
        deadline = time.perf_counter() + 60
        while not set(accepted) <= set(seen) and time.perf_counter() < deadline:  # noqa: ASYNC110 (a dict fills)
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await watching
    latencies = [max(0.0, seen[key] - done) * 1000 for key, done in accepted.items() if key in seen]
    return {"latencies": latencies, "accepted": len(accepted), "failed": failed, "rate": len(accepted) / took,
            "missing": len(set(accepted) - set(seen))}


def run(environment: BenchEnvironment) -> WorkloadResult:
    seconds = 3.0 if environment.quick else 8.0
    runs: list[dict[str, Any]] = []
    with deployment(environment, "w3") as running:
        running.import_izmir(partners=False)
        plans = running.serve("plans")
        gateway = running.serve("gateway")
        plan_id = httpx.get(f"{plans.base_url}/plans", headers=token_headers(), timeout=30).json()[0]["id"]
        asyncio.run(measure(gateway.base_url, plans.base_url, plan_id, 1.0, 0))  # warm-up: the import projected
        for run_number in range(environment.runs):
            first = (run_number + 1) * 100_000
            runs.append(asyncio.run(measure(gateway.base_url, plans.base_url, plan_id, seconds, first)))
    from bench.baselines.raw_pipeline import run_baseline

    baseline_runs = [run_baseline(environment, RATE, seconds) for _ in range(environment.runs)]
    measured = {
        "p50": Figure.of_runs([percentile(r["latencies"], 50) for r in runs], "ms"),
        "p99": Figure.of_runs([percentile(r["latencies"], 99) for r in runs], "ms"),
        "commands_per_second": Figure.of_runs([r["rate"] for r in runs], "commands/s"),
    }
    baseline = {
        "p50": Figure.of_runs([percentile(r["latencies"], 50) for r in baseline_runs], "ms"),
        "p99": Figure.of_runs([percentile(r["latencies"], 99) for r in baseline_runs], "ms"),
    }
    checks = {
        "commands accepted": sum(r["accepted"] for r in runs),
        "commands refused": sum(r["failed"] for r in runs),
        "changes never seen": sum(r["missing"] for r in runs),
        "baseline events upserted": sum(len(r["latencies"]) for r in baseline_runs),
    }
    met = (measured["p50"].value <= TARGET_P50_MS and measured["p99"].value <= TARGET_P99_MS
           and checks["changes never seen"] == 0 and checks["commands refused"] == 0)
    return WorkloadResult(
        number=NUMBER, title=TITLE, target=TARGET, measured=measured,
        baseline_name="raw append + publish + consume + upsert in one process", baseline=baseline, met=met,
        checks=checks,
        notes=(f"{RATE:g} PATCH commands/s for {seconds:g} s per run, paced open loop over {CONNECTIONS} httpx "
               "connections in this process, with the planChanges subscriber (websockets) in the same event "
               "loop; plans API, relay, gateway and projector are two `izlek serve` processes sharing the two "
               "cores with PostgreSQL and nats-server. commands_per_second is the rate the plans service "
               "accepted (below 500 when it cannot keep the pace)."),
    )


if __name__ == "__main__":
    from bench.deployment import run_standalone

    run_standalone(run)
