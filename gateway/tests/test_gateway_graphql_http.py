"""The gateway's HTTP face: /graphql behind bearer auth, health routes, the committed SDL and the service spec."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from gateway_testing import projected_izmir_engine
from sqlalchemy import Engine

from izlek_common.auth import issue_token
from izlek_gateway.api import create_app
from izlek_gateway.graphql.schema import sdl
from izlek_gateway.service import SERVICE, GatewayHasNoRelay
from izlek_gateway.settings import GatewaySettings

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema.graphql"
PLANS = {"query": "{ plans { code commitments { code } } }"}


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    engine = projected_izmir_engine()
    yield engine
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> GatewaySettings:
    return GatewaySettings(environment="test", var_dir=tmp_path)


@pytest.fixture
def client(settings: GatewaySettings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine=engine)) as client:
        yield client


def test_a_query_without_a_token_is_refused_with_a_401_problem(client: TestClient) -> None:
    response = client.post("/graphql", json=PLANS)

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 401


def test_a_query_with_a_forged_token_is_refused(client: TestClient) -> None:
    response = client.post("/graphql", json=PLANS, headers={"Authorization": "Bearer not.a.token"})

    assert response.status_code == 401


@pytest.mark.parametrize("role", ["auditor", "coordinator", "admin", "partner_app"])
def test_every_role_may_read_the_plans(client: TestClient, settings: GatewaySettings, role: str) -> None:
    scopes = ["plan:izmir-eylem-plani"] if role == "partner_app" else []
    token = issue_token(settings, subject=f"{role}@example.org", role=role, scopes=scopes)

    response = client.post("/graphql", json=PLANS, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    [plan] = response.json()["data"]["plans"]
    assert plan["code"] == "izmir-eylem-plani"
    assert len(plan["commitments"]) == 104
    assert "X-Correlation-ID" in response.headers


def test_a_liaison_reads_with_a_token_of_its_organisation(client: TestClient, settings: GatewaySettings) -> None:
    token = issue_token(settings, subject="liaison@konak.bel.tr", role="liaison", organisation_id="konak-belediyesi")

    response = client.post("/graphql", json={"query": '{ organisations(type: "COOPERATIVE") { code } }'},
                           headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert len(response.json()["data"]["organisations"]) == 9


def test_the_health_routes_answer_without_a_token(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_graphiql_is_served_only_in_development(engine: Engine, tmp_path: Path) -> None:
    for environment, served in (("development", True), ("test", False)):
        settings = GatewaySettings(environment=environment, var_dir=tmp_path)
        token = issue_token(settings, subject="ayse@kedv.org.tr", role="coordinator")
        with TestClient(create_app(settings, engine=engine)) as client:
            page = client.get("/graphql", headers={"Accept": "text/html", "Authorization": f"Bearer {token}"})
        assert ("graphiql" in page.text.lower()) is served, environment


def test_the_committed_schema_matches_the_current_schema() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == sdl() + "\n", (
        "gateway/schema.graphql is out of date; regenerate it from the repository root with:\n"
        '  python -c "from izlek_gateway.graphql.schema import sdl; print(sdl())" > gateway/schema.graphql'
    )


def test_the_gateway_service_has_no_relay_to_run(settings: GatewaySettings) -> None:
    assert (SERVICE.name, SERVICE.default_port) == ("gateway", 8000)
    with pytest.raises(GatewayHasNoRelay, match="no relay"):
        asyncio.run(SERVICE.run_relay(settings, "nats://127.0.0.1:4222", asyncio.Event()))


def test_loading_demo_data_only_migrates_the_gateway_database(settings: GatewaySettings) -> None:
    SERVICE.load_demo_data(settings, Path("examples/izmir"), console=None)  # type: ignore[arg-type]

    assert (settings.var_dir / "gateway" / "read_models.sqlite").exists()
