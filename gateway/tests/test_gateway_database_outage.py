"""The gateway while its read models cannot be reached: GraphQL and the readiness probe answer 503 problem+json
with ``Retry-After`` at once (not a 200 with the failure in ``errors``, not a 500), saying only that the database
is unavailable. The database is a PostgreSQL URL where nothing listens (a real refused connection)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from graphql import GraphQLError
from sqlalchemy import Engine
from strawberry.types import ExecutionResult

from izlek_common.auth import issue_token
from izlek_common.nats_server import find_free_port
from izlek_common.problems import ServiceUnavailable
from izlek_gateway.api import create_app
from izlek_gateway.graphql.limits import query_limit_extensions
from izlek_gateway.graphql.router import GatewayGraphQLRouter
from izlek_gateway.graphql.schema import build_schema
from izlek_gateway.read_models.database import create_read_model_engine
from izlek_gateway.settings import GatewaySettings

PASSWORD = "read-model-secret"


@pytest.fixture(scope="module")
def nowhere() -> str:
    return f"postgresql+psycopg://izlek:{PASSWORD}@127.0.0.1:{find_free_port()}/izlek_gateway?connect_timeout=2"


@pytest.fixture
def settings(tmp_path: Path) -> GatewaySettings:
    return GatewaySettings(environment="test", var_dir=tmp_path)


@pytest.fixture
def unreachable(nowhere: str) -> Iterator[Engine]:
    engine = create_read_model_engine(nowhere)
    yield engine
    engine.dispose()


@pytest.fixture
def client(settings: GatewaySettings, unreachable: Engine) -> Iterator[TestClient]:
    # Not entered: the lifespan would migrate the read models, which cannot be reached.
    client = TestClient(create_app(settings, engine=unreachable))
    yield client
    client.close()


def test_a_query_while_the_read_models_cannot_be_reached_answers_503_problem_json(
        client: TestClient, settings: GatewaySettings) -> None:
    token = issue_token(settings, subject="denetci@kedv.org.tr", role="auditor")
    response = client.post("/graphql", json={"query": "{ plans { code } }"},
                           headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) > 0
    assert "database is unavailable" in response.json()["detail"]
    assert PASSWORD not in response.text and "127.0.0.1" not in response.text


def test_the_gateway_is_not_ready_while_its_read_models_cannot_be_reached(client: TestClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_resolver_that_lost_its_database_makes_the_whole_answer_503(
        settings: GatewaySettings, nowhere: str) -> None:
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(nowhere.replace("postgresql+psycopg://", "postgresql://"))
    router = GatewayGraphQLRouter(build_schema(query_limit_extensions(settings)))
    result = ExecutionResult(data=None, errors=[GraphQLError("lost", original_error=refused.value)])

    with pytest.raises(ServiceUnavailable) as raised:
        await router.process_result(None, result)

    assert "database is unavailable" in raised.value.detail
    assert raised.value.headers["Retry-After"]


async def test_any_other_resolver_error_stays_in_the_answers_errors(settings: GatewaySettings) -> None:
    router = GatewayGraphQLRouter(build_schema(query_limit_extensions(settings)))
    result = ExecutionResult(data={"plan": None}, errors=[GraphQLError("no plan x", original_error=LookupError("x"))])

    answer = await router.process_result(None, result)

    assert answer["errors"][0]["message"] == "no plan x"
