import asyncio

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient

from izlek_common.http import CorrelationIdMiddleware, add_health_routes
from izlek_common.logging import get_correlation_id
from izlek_common.problems import NotFound, install_problem_handlers


def make_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(CorrelationIdMiddleware)
    install_problem_handlers(app)
    add_health_routes(app)

    @app.get("/plans/{plan_id}")
    def get_plan(plan_id: str) -> dict:
        if plan_id == "missing":
            raise NotFound(f"no plan '{plan_id}'")
        structlog.get_logger("izlek.test").info("plan_read", plan_id=plan_id)
        return {"plan_id": plan_id, "correlation_id": get_correlation_id()}

    @app.get("/boom")
    async def boom() -> dict:
        raise RuntimeError("secret connection string postgresql://izlek:hunter2@db")

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(make_app())


def capture():
    return structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars])


def access_lines(logs: list[dict]) -> list[dict]:
    return [line for line in logs if line["event"] == "http_request"]


def test_correlation_id_from_request_is_echoed_and_logged(client: TestClient) -> None:
    with capture() as logs:
        response = client.get("/plans/p-1", headers={"X-Correlation-ID": "req-4711"})

    assert response.headers["X-Correlation-ID"] == "req-4711"
    assert response.json()["correlation_id"] == "req-4711"
    [route_line] = [line for line in logs if line["event"] == "plan_read"]
    assert route_line["correlation_id"] == "req-4711"
    [access] = access_lines(logs)
    assert access["correlation_id"] == "req-4711"
    assert (access["method"], access["path"], access["status"]) == ("GET", "/plans/p-1", 200)
    assert access["duration_ms"] >= 0
    assert access["log_level"] == "info"


def test_x_request_id_is_accepted_as_the_correlation_id(client: TestClient) -> None:
    response = client.get("/plans/p-1", headers={"X-Request-ID": "from-the-proxy"})

    assert response.headers["X-Correlation-ID"] == "from-the-proxy"


def test_a_correlation_id_is_made_when_the_request_has_none(client: TestClient) -> None:
    first = client.get("/plans/p-1").headers["X-Correlation-ID"]
    second = client.get("/plans/p-1").headers["X-Correlation-ID"]

    assert len(first) == 32
    assert first != second


def test_an_unacceptable_correlation_id_is_replaced(client: TestClient) -> None:
    response = client.get("/plans/p-1", headers={"X-Correlation-ID": "x" * 500})

    assert response.headers["X-Correlation-ID"] != "x" * 500
    assert len(response.headers["X-Correlation-ID"]) == 32


def test_a_problem_body_carries_the_requests_correlation_id(client: TestClient) -> None:
    response = client.get("/plans/missing", headers={"X-Correlation-ID": "req-404"})

    assert response.status_code == 404
    assert response.json()["correlation_id"] == "req-404"
    assert response.headers["X-Correlation-ID"] == "req-404"


def test_an_unknown_route_is_logged_with_its_status(client: TestClient) -> None:
    with capture() as logs:
        client.get("/nowhere")

    [access] = access_lines(logs)
    assert access["status"] == 404


def test_an_unexpected_error_answers_500_with_the_correlation_id_and_no_internals(client: TestClient) -> None:
    with capture() as logs:
        response = client.get("/boom", headers={"X-Correlation-ID": "req-500"})

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["X-Correlation-ID"] == "req-500"
    assert response.json()["correlation_id"] == "req-500"
    assert "hunter2" not in response.text
    [error] = [line for line in logs if line["event"] == "unhandled_exception"]
    assert error["correlation_id"] == "req-500"
    assert isinstance(error["exc_info"], RuntimeError)
    assert access_lines(logs)[0]["status"] == 500


def test_the_correlation_id_does_not_outlive_its_request(client: TestClient) -> None:
    client.get("/plans/p-1", headers={"X-Correlation-ID": "req-1"})

    assert client.get("/plans/p-2").json()["correlation_id"] != "req-1"
    assert get_correlation_id() is None


def test_health_probes_are_logged_at_debug_level(client: TestClient) -> None:
    with capture() as logs:
        client.get("/healthz")

    assert access_lines(logs)[0]["log_level"] == "debug"


def test_healthz_answers_ok(client: TestClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_answers_ready_without_a_check(client: TestClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def ready_app(check) -> TestClient:
    app = FastAPI()
    app.add_middleware(CorrelationIdMiddleware)
    add_health_routes(app, check)
    return TestClient(app)


async def async_not_ready() -> bool:
    await asyncio.sleep(0)
    return False


async def async_ready() -> bool:
    return True


def failing_check() -> bool:
    raise ConnectionError("database unreachable")


@pytest.mark.parametrize(
    "check", [lambda: False, async_not_ready, failing_check], ids=["sync", "async", "raises"]
)
def test_readyz_answers_503_problem_json_when_not_ready(check) -> None:
    response = ready_app(check).get("/readyz", headers={"X-Correlation-ID": "probe-1"})

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "https://izlek.dev/problems/service-unavailable"
    assert body["correlation_id"] == "probe-1"
    assert "unreachable" not in response.text


@pytest.mark.parametrize("check", [lambda: True, async_ready], ids=["sync", "async"])
def test_readyz_answers_200_when_the_check_passes(check) -> None:
    assert ready_app(check).get("/readyz").status_code == 200
