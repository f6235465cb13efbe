"""Partner apps see the plans their token's scopes grant, and nothing of any other plan: not the plan, its
dashboard or its commitments, not the history of its entities, not its changes, in the present or in the past.
Regions match in any letter case, Turkish İ and ı included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from gateway_testing import IZMIR_COUNTS, projected_izmir_engine
from sqlalchemy import Engine

from izlek_common.auth import Principal, Role, issue_token
from izlek_gateway.api import create_app
from izlek_gateway.graphql.scope import PlanScope, region_key
from izlek_gateway.settings import GatewaySettings

IZMIR_PLAN = "izmir-eylem-plani"
PARTNER_EVENTS = 60
"""Events of organisations and protocols in the İzmir import: the shared directory, bound to no plan."""

EVERYTHING_OF_A_PLAN = """
query Everything($planId: ID!, $commitmentId: ID!) {
  plans { code region }
  plan(id: $planId) { code }
  dashboard(planId: $planId) { __typename }
  commitments { totalCount edges { node { code } } }
  ofPlan: commitments(planId: $planId) { totalCount }
  planHistory: history(id: $planId) { name }
  commitmentHistory: history(id: $commitmentId) { name }
  planChanges: changes(planId: $planId) { edges { node { service } } }
  allChanges: changes(first: 200) { edges { node { service entityType } } }
  recordedPlans: plans(asOf: "2100-01-01") { code }
  pastPlans: plans(validAt: "2100-01-01") { code commitments { code } }
  organisations { code }
}
"""


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    engine = projected_izmir_engine()
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> GatewaySettings:
    return GatewaySettings(environment="test", var_dir=tmp_path_factory.mktemp("var"))


@pytest.fixture(scope="module")
def client(settings: GatewaySettings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine=engine)) as client:
        yield client


def ask(client: TestClient, settings: GatewaySettings, query: str, variables: dict[str, Any] | None = None, *,
        role: str = "partner_app", scopes: list[str] | None = None) -> dict[str, Any]:
    token = issue_token(settings, subject=f"{role}@example.org", role=role, scopes=scopes or [])
    response = client.post("/graphql", json={"query": query, "variables": variables or {}},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


@pytest.fixture(scope="module")
def ids(client: TestClient, settings: GatewaySettings) -> dict[str, str]:
    """The İzmir plan's id and one of its commitments' ids, as an auditor sees them."""
    data = ask(client, settings, "{ plans { id code region } commitments(first: 1) { edges { node { id } } } }",
               role="auditor")
    [plan] = data["plans"]
    assert (plan["code"], plan["region"]) == (IZMIR_PLAN, "İzmir")
    return {"planId": plan["id"], "commitmentId": data["commitments"]["edges"][0]["node"]["id"]}


@pytest.mark.parametrize("scopes", [
    ["plan:ankara-eylem-plani"],
    ["region:Ankara"],
    [],
    ["region:"],
    ["plans:izmir-eylem-plani", "izmir"],
    ["plan:IZMIR-EYLEM-PLANI"],
], ids=["another-plan", "another-region", "no-scope", "empty-region", "other-kinds", "code-in-capitals"])
def test_a_partner_app_outside_its_scope_sees_nothing_of_the_plan(
    client: TestClient, settings: GatewaySettings, ids: dict[str, str], scopes: list[str]
) -> None:
    data = ask(client, settings, EVERYTHING_OF_A_PLAN, ids, scopes=scopes)

    assert data["plans"] == []
    assert data["plan"] is None
    assert data["dashboard"] is None
    assert data["commitments"] == {"totalCount": 0, "edges": []}
    assert data["ofPlan"] == {"totalCount": 0}
    assert data["planHistory"] == []
    assert data["commitmentHistory"] == []
    assert data["planChanges"] == {"edges": []}
    assert data["recordedPlans"] == []
    assert data["pastPlans"] == []
    # Only the shared directory's changes remain, and the directory itself.
    services = [edge["node"]["service"] for edge in data["allChanges"]["edges"]]
    assert services == ["partners"] * PARTNER_EVENTS
    assert len(data["organisations"]) == IZMIR_COUNTS["organisations"]


@pytest.mark.parametrize("scopes", [
    ["plan:izmir-eylem-plani"],
    ["region:İzmir"],
    ["region:izmir"],
    ["region:IZMIR"],
    ["region:Izmir"],
    ["region:İZMİR"],
    ["plan:*"],
    ["plan:ankara-eylem-plani", "region:izmir"],
], ids=["plan-code", "region-as-stored", "region-lower", "region-ascii-capitals", "region-ascii-title",
        "region-turkish-capitals", "every-plan", "one-scope-of-several"])
def test_a_partner_app_sees_the_plan_its_scopes_grant(
    client: TestClient, settings: GatewaySettings, ids: dict[str, str], scopes: list[str]
) -> None:
    data = ask(client, settings, EVERYTHING_OF_A_PLAN, ids, scopes=scopes)

    assert data["plans"] == [{"code": IZMIR_PLAN, "region": "İzmir"}]
    assert data["plan"] == {"code": IZMIR_PLAN}
    assert data["dashboard"] == {"__typename": "PlanDashboard"}
    assert data["commitments"]["totalCount"] == data["ofPlan"]["totalCount"] == IZMIR_COUNTS["commitments"]
    assert data["planHistory"] and data["commitmentHistory"]
    assert {edge["node"]["service"] for edge in data["planChanges"]["edges"]} == {"plans"}
    services = [edge["node"]["service"] for edge in data["allChanges"]["edges"]]
    assert len(services) == 200 and "plans" in services
    assert data["recordedPlans"] == [{"code": IZMIR_PLAN}]
    assert len(data["pastPlans"][0]["commitments"]) == IZMIR_COUNTS["commitments"]


@pytest.mark.parametrize("role", ["auditor", "coordinator", "admin"])
def test_other_roles_see_every_plan_without_scopes(
    client: TestClient, settings: GatewaySettings, ids: dict[str, str], role: str
) -> None:
    data = ask(client, settings, EVERYTHING_OF_A_PLAN, ids, role=role)

    assert data["plans"] == [{"code": IZMIR_PLAN, "region": "İzmir"}]
    assert data["commitments"]["totalCount"] == IZMIR_COUNTS["commitments"]


def test_the_gateway_offers_partner_apps_no_way_to_write(client: TestClient, settings: GatewaySettings) -> None:
    token = issue_token(settings, subject="pano@example.org", role="partner_app", scopes=["plan:*"])

    response = client.post("/graphql", json={"query": 'mutation { startPlan(code: "x") { id } }'},
                           headers={"Authorization": f"Bearer {token}"})

    assert response.json()["data"] is None
    assert response.json()["errors"][0]["message"] == "The mutation operation is not supported by the schema."


@pytest.mark.parametrize("spelling", ["İzmir", "izmir", "IZMIR", "Izmir", "İZMİR", "ızmır", " izmir "])
def test_every_spelling_of_izmir_is_one_region(spelling: str) -> None:
    scope = PlanScope.of(Principal("pano", Role.partner_app, None, scopes=(f"region:{spelling}",)))

    assert scope.allows("izmir-eylem-plani", "İzmir")
    assert not scope.allows("ankara-eylem-plani", "Ankara")


def test_plain_casefolding_would_not_match_the_turkish_capital_i() -> None:
    # The reason for region_key: casefold keeps İ's dot as a combining mark.
    assert "İzmir".casefold() != "izmir".casefold()
    assert region_key("İzmir") == region_key("izmir") == "izmir"


def test_a_region_with_a_space_is_named_with_an_underscore() -> None:
    scope = PlanScope.of(Principal("pano", Role.partner_app, None, scopes=("region:Batı_Karadeniz",)))

    assert scope.allows("bk-eylem-plani", "Batı Karadeniz")
    assert not scope.allows("bk-eylem-plani", "Batı")


def test_a_plan_without_a_region_is_not_granted_by_an_empty_region_scope() -> None:
    scope = PlanScope.of(Principal("pano", Role.partner_app, None, scopes=("region:",)))

    assert not scope.allows("bolgesiz-plan", "")
    assert not scope.allows("bolgesiz-plan", None)


def test_roles_other_than_partner_app_are_never_restricted_by_scopes() -> None:
    scope = PlanScope.of(Principal("denetci", Role.auditor, None, scopes=("region:Ankara",)))

    assert scope.is_unrestricted
