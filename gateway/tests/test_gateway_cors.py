"""Cross-origin calls from partner apps' browser pages: allowed for the origins of IZLEK_GATEWAY_CORS_ORIGINS, with
the Authorization and correlation-id headers, and no CORS headers at all for any other origin or when none is
configured."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from gateway_testing import projected_izmir_engine
from httpx import Response
from sqlalchemy import Engine

from izlek_common.auth import issue_token
from izlek_gateway.api import create_app
from izlek_gateway.settings import GatewaySettings

PANO = "https://pano.example.org"
ELSEWHERE = "https://baska.example.com"
PLANS = {"query": "{ plans { code } }"}


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    engine = projected_izmir_engine()
    yield engine
    engine.dispose()


def gateway(engine: Engine, tmp_path: Path, **settings: object) -> tuple[TestClient, dict[str, str]]:
    config = GatewaySettings(environment="test", var_dir=tmp_path, **settings)  # type: ignore[arg-type]
    token = issue_token(config, subject="pano@example.org", role="partner_app", scopes=["plan:*"])
    return TestClient(create_app(config, engine=engine)), {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(engine: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    client, auth = gateway(engine, tmp_path, gateway_cors_origins=[PANO])
    with client:
        yield client, auth


def preflight(client: TestClient, origin: str) -> Response:
    """The browser's question before a cross-origin POST with a bearer token and a correlation id."""
    return client.options("/graphql", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, x-correlation-id",
    })


def test_a_configured_origin_may_send_the_authorization_and_correlation_headers(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    response = preflight(client[0], PANO)

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == PANO
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "x-correlation-id", "x-request-id"} <= allowed
    assert "POST" in response.headers["access-control-allow-methods"]


def test_a_configured_origin_reads_the_answer_and_its_correlation_id(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    http, auth = client

    response = http.post("/graphql", json=PLANS, headers={**auth, "Origin": PANO})

    assert response.json()["data"] == {"plans": [{"code": "izmir-eylem-plani"}]}
    assert response.headers["access-control-allow-origin"] == PANO
    assert "x-correlation-id" in response.headers["access-control-expose-headers"].lower()


def test_a_refusal_carries_the_cors_headers_so_that_the_page_can_read_it(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    response = client[0].post("/graphql", json=PLANS, headers={"Origin": PANO})

    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == PANO


def test_another_origin_gets_no_cors_headers(client: tuple[TestClient, dict[str, str]]) -> None:
    http, auth = client

    asked = preflight(http, ELSEWHERE)
    response = http.post("/graphql", json=PLANS, headers={**auth, "Origin": ELSEWHERE})

    assert asked.status_code == 400
    assert "access-control-allow-origin" not in asked.headers
    assert "access-control-allow-origin" not in response.headers
    assert response.json()["data"] == {"plans": [{"code": "izmir-eylem-plani"}]}


def test_without_configured_origins_no_cors_headers_are_sent(engine: Engine, tmp_path: Path) -> None:
    http, auth = gateway(engine, tmp_path)

    with http:
        response = http.post("/graphql", json=PLANS, headers={**auth, "Origin": PANO})
        asked = preflight(http, PANO)

    assert response.status_code == 200
    for answer in (response, asked):
        assert not any(name.lower().startswith("access-control-") for name in answer.headers)


def test_origins_are_read_from_the_environment_comma_separated_or_as_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IZLEK_GATEWAY_CORS_ORIGINS", f"{PANO}/, {ELSEWHERE}")
    assert GatewaySettings().gateway_cors_origins == [PANO, ELSEWHERE]

    monkeypatch.setenv("IZLEK_GATEWAY_CORS_ORIGINS", f'["{PANO}"]')
    assert GatewaySettings().gateway_cors_origins == [PANO]

    monkeypatch.setenv("IZLEK_GATEWAY_CORS_ORIGINS", "")
    assert GatewaySettings().gateway_cors_origins == []
