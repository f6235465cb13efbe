"""End to end across services: a coordinator's command to plans and a liaison's to partners, each through its own
API process, event store, relay process and a real nats-server, become visible in the gateway's GraphQL, with
their authors in `history(id)` and `changes(by: ...)`.

Processes: `izlek serve plans` (event store on PostgreSQL) and `izlek relay plans`, `izlek serve partners` (event
store on SQLite) and `izlek relay partners`, `izlek serve gateway` with its projector (read models on PostgreSQL),
and a second `izlek serve gateway` on the same read models with `IZLEK_GATEWAY_PROJECTOR_ENABLED=false`.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import EXAMPLES, IZLEK, ServiceProcess

from izlek_common.auth import issue_token
from izlek_common.nats_server import find_free_port
from izlek_common.settings import CommonSettings
from izlek_common.testing.fixtures import PostgresDatabase, throwaway_database

pytestmark = [pytest.mark.postgres, pytest.mark.nats, pytest.mark.timeout(180)]

IMPORTER = "import@kedv.org.tr"
COORDINATOR = ("zeynep@kedv.org.tr", "coordinator", "kedv")
KONAK_LIAISON = ("mehmet@konak.bel.tr", "liaison", "konak-belediyesi")
KONAK_PROTOCOL = "prot-2020-kedv-konak-belediyesi"

HISTORY = """query History($id: ID!) {
  history(id: $id) { name kind author role organisation reason correlationId changes { field before after } }
}"""
CHANGES_BY = """query ChangesBy($by: String!) {
  changes(by: $by) { edges { node { entityType name kind author role organisation reason } } }
}"""


@pytest.fixture
def gateway_database(postgres_admin_url: str) -> Iterator[PostgresDatabase]:
    with throwaway_database(postgres_admin_url) as database:
        yield database


@pytest.fixture
def env(service_env: dict[str, str], gateway_database: PostgresDatabase, tmp_path: Path) -> dict[str, str]:
    """Plans on PostgreSQL, partners on SQLite, the read models on PostgreSQL; relays in processes of their own."""
    return {
        **service_env,
        "IZLEK_PARTNERS_EVENT_STORE_URL": f"sqlite:///{tmp_path / 'partners.sqlite'}",
        "IZLEK_GATEWAY_DATABASE_URL": gateway_database.sqlalchemy_url,
        "IZLEK_PLANS_RELAY_ENABLED": "false",
        "IZLEK_PARTNERS_RELAY_ENABLED": "false",
        "COLUMNS": "200",
    }


def izlek(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([IZLEK, *args], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def bearer(subject: str, role: str, organisation: str) -> dict[str, str]:
    token = issue_token(CommonSettings(environment="test"), subject=subject, role=role, organisation_id=organisation)
    return {"Authorization": f"Bearer {token}"}


class GraphQL:
    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        self.client = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10)

    async def query(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        body = response.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def until(self, query: str, condition: Callable[[dict[str, Any]], bool], timeout: float = 60,
                    **variables: Any) -> dict[str, Any]:
        """Poll until the gateway's answer meets `condition` (the deadline only guards against a hang)."""
        deadline = time.monotonic() + timeout
        while not condition(data := await self.query(query, **variables)):
            assert time.monotonic() < deadline, f"the gateway never showed it; last answer: {data}"
            await asyncio.sleep(0.2)
        return data


async def test_a_coordinators_and_a_liaisons_commands_reach_graphql_with_their_authors_in_history(
    env, spawn
):
    izlek(env, "import-plan", str(EXAMPLES / "plan.yaml"), "--author", IMPORTER)
    izlek(env, "import-partners", str(EXAMPLES / "partners.yaml"), "--author", IMPORTER)
    izlek(env, "import-protocols", str(EXAMPLES / "protocols.yaml"), "--author", IMPORTER)

    def serve(service: str, name: str | None = None, **settings: str) -> ServiceProcess:
        port = find_free_port()  # each API listens before the next port is chosen
        return spawn(["serve", service, "--port", str(port)], {**env, **settings}, name or service, port=port)

    plans = serve("plans")
    spawn(["relay", "plans"], env, "relay-plans")
    partners = serve("partners")
    spawn(["relay", "partners"], env, "relay-partners")
    gateway = serve("gateway")
    # A second API replica on the same read models, without a projector of its own.
    replica = serve("gateway", "gateway-replica", IZLEK_GATEWAY_PROJECTOR_ENABLED="false")
    auditor = bearer("denetci@kedv.org.tr", "auditor", "kedv")
    graphql = GraphQL(gateway.base_url, auditor)
    try:
        imported = await graphql.until(
            "{ commitments(first: 1) { totalCount } protocols(party: \"konak-belediyesi\") { id code status } }",
            lambda data: data["commitments"]["totalCount"] == 104 and len(data["protocols"]) == 1)
        [konak] = imported["protocols"]
        assert (konak["code"], konak["status"]) == (KONAK_PROTOCOL, "signed")

        coordinator = bearer(*COORDINATOR)
        plan_id = httpx.get(f"{plans.base_url}/plans", headers=coordinator).json()[0]["id"]
        commitment = httpx.get(f"{plans.base_url}/plans/{plan_id}/commitments?target=T2.2",
                               headers=coordinator).json()[0]
        assert commitment["status"] == "planned"
        started = httpx.post(f"{plans.base_url}/commitments/{commitment['id']}/status",
                             json={"status": "in_progress", "reason": "ilk toplantı yapıldı"},
                             headers={**coordinator, "X-Correlation-ID": "e2e-commitment-started"})
        assert started.status_code == 200, started.text

        liaison = bearer(*KONAK_LIAISON)
        for status, reason in (("in_force", "protokol yürürlüğe girdi"),
                               ("suspended", "belediye bütçesi yeniden düzenleniyor")):
            moved = httpx.post(f"{partners.base_url}/protocols/{konak['id']}/status",
                               json={"status": status, "reason": reason}, headers=liaison)
            assert moved.status_code == 200, moved.text

        await graphql.until(
            'query($plan: ID!) { commitments(planId: $plan, status: "in_progress") { edges { node { id } } } '
            'protocols(party: "konak-belediyesi") { status } }',
            lambda data: [e["node"]["id"] for e in data["commitments"]["edges"]] == [commitment["id"]]
            and data["protocols"][0]["status"] == "suspended",
            plan=plan_id)

        commitment_history = (await graphql.query(HISTORY, id=commitment["id"]))["history"]
        assert commitment_history[0]["author"] == IMPORTER
        *_, status_changed = commitment_history
        # `before` is left out: the registration event does not carry the status a commitment starts in.
        assert [(c["field"], c["after"]) for c in status_changed.pop("changes")] == [("status", "in_progress")]
        assert status_changed == {
            "name": "StatusChanged", "kind": "change", "author": COORDINATOR[0], "role": "coordinator",
            "organisation": "kedv", "reason": "ilk toplantı yapıldı", "correlationId": "e2e-commitment-started",
        }

        protocol_history = (await graphql.query(HISTORY, id=konak["id"]))["history"]
        assert [entry["name"] for entry in protocol_history] == ["Drafted", "StatusChanged", "StatusChanged",
                                                                 "StatusChanged"]
        by_liaison = protocol_history[-2:]
        assert [(e["author"], e["role"], e["organisation"], e["kind"]) for e in by_liaison] == [
            (*KONAK_LIAISON, "change")] * 2
        assert [e["reason"] for e in by_liaison] == ["protokol yürürlüğe girdi",
                                                     "belediye bütçesi yeniden düzenleniyor"]
        assert [[c for c in e["changes"] if c["field"] == "status"] for e in by_liaison] == [
            [{"field": "status", "before": "signed", "after": "in_force"}],
            [{"field": "status", "before": "in_force", "after": "suspended"}],
        ]

        by_coordinator = (await graphql.query(CHANGES_BY, by=COORDINATOR[0]))["changes"]["edges"]
        assert [edge["node"] for edge in by_coordinator] == [{
            "entityType": "commitment", "name": "StatusChanged", "kind": "change", "author": COORDINATOR[0],
            "role": "coordinator", "organisation": "kedv", "reason": "ilk toplantı yapıldı"}]
        by_konak = (await graphql.query(CHANGES_BY, by=KONAK_LIAISON[0]))["changes"]["edges"]
        assert [(e["node"]["entityType"], e["node"]["name"], e["node"]["reason"]) for e in by_konak] == [
            ("protocol", "StatusChanged", "protokol yürürlüğe girdi"),
            ("protocol", "StatusChanged", "belediye bütçesi yeniden düzenleniyor"),
        ]

        from_replica = GraphQL(replica.base_url, auditor)
        try:
            assert (await from_replica.query(HISTORY, id=konak["id"]))["history"] == protocol_history
        finally:
            await from_replica.client.aclose()
        assert '"event": "consumer.started"' in gateway.log_path.read_text()
        assert '"event": "consumer.started"' not in replica.log_path.read_text(), "the replica projects nothing"
    finally:
        await graphql.client.aclose()
