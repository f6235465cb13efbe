"""Query limits, for every caller, through the gateway's HTTP face: over-deep, over-long and alias-bomb queries are
refused before any resolver runs, each with an error that names the limit and the allowed value; a request body
over its limit answers 413; nothing answers 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from gateway_testing import projected_izmir_engine
from graphql import get_introspection_query
from sqlalchemy import Engine

from izlek_common.auth import issue_token
from izlek_gateway.api import create_app
from izlek_gateway.settings import GatewaySettings

SMALL_LIMITS = {
    "gateway_max_query_depth": 3,
    "gateway_max_query_tokens": 60,
    "gateway_max_query_aliases": 2,
    "gateway_max_query_length": 400,
    "gateway_max_request_bytes": 2_000,
}

DEPTH_4 = "{ plans { goals { targets { commitments { code } } } } }"
DEPTH_3 = "{ plans { goals { targets { code } } } }"


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    engine = projected_izmir_engine()
    yield engine
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> GatewaySettings:
    return GatewaySettings(environment="test", var_dir=tmp_path, **SMALL_LIMITS)


@pytest.fixture
def client(settings: GatewaySettings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine=engine)) as client:
        yield client


@pytest.fixture
def auth(settings: GatewaySettings) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, subject='denetci@kedv.org.tr', role='auditor')}"}


def refused(client: TestClient, auth: dict[str, str], query: str, *, code: str) -> dict[str, Any]:
    """POST `query` and return its one error, after checking that the query was refused by the limit `code`."""
    response = client.post("/graphql", json={"query": query}, headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == code, error
    return error


def test_a_query_deeper_than_the_limit_is_refused_naming_the_maximum_depth(
    client: TestClient, auth: dict[str, str]
) -> None:
    error = refused(client, auth, DEPTH_4, code="QUERY_TOO_DEEP")

    assert error["message"] == "'anonymous' exceeds maximum operation depth of 3"
    assert error["extensions"]["limit"] == 3


def test_a_query_as_deep_as_the_limit_is_answered(client: TestClient, auth: dict[str, str]) -> None:
    response = client.post("/graphql", json={"query": DEPTH_3}, headers=auth)

    assert "errors" not in response.json()
    [plan] = response.json()["data"]["plans"]
    assert len(plan["goals"]) == 2


def test_depth_hidden_in_fragments_is_counted(client: TestClient, auth: dict[str, str]) -> None:
    query = ("query Deep { plans { ...Goals } } fragment Goals on Plan { goals { ...Targets } } "
             "fragment Targets on Goal { targets { commitments { code } } }")

    error = refused(client, auth, query, code="QUERY_TOO_DEEP")

    assert error["message"] == "'Deep' exceeds maximum operation depth of 3"


def test_a_spread_of_an_unknown_fragment_is_reported_as_such_and_not_as_a_crash_of_the_depth_limit(
    client: TestClient, auth: dict[str, str]
) -> None:
    response = client.post("/graphql", json={"query": "{ plans { ...Missing } }"}, headers=auth)

    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["message"] == "Unknown fragment 'Missing'."


def test_a_query_of_more_tokens_than_the_limit_is_refused_naming_the_maximum(
    client: TestClient, auth: dict[str, str]
) -> None:
    # Short enough for the length limit, long enough in tokens: 60 names and 4 braces.
    query = "{ plans { " + " ".join("code title" for _ in range(30)) + " } }"
    assert len(query) < SMALL_LIMITS["gateway_max_query_length"]

    error = refused(client, auth, query, code="TOO_MANY_TOKENS")

    assert error["message"] == "Syntax Error: Document contains more than 60 tokens. Parsing aborted."
    assert error["extensions"]["limit"] == 60


def test_comments_count_as_tokens(client: TestClient, auth: dict[str, str]) -> None:
    query = "{ plans { code } }" + "\n#" * 60

    refused(client, auth, query, code="TOO_MANY_TOKENS")


def test_a_query_longer_than_the_limit_is_refused_before_it_is_read(client: TestClient, auth: dict[str, str]) -> None:
    # Few tokens, one long string: the length limit catches what the token limit cannot.
    query = '{ organisation(code: "' + "k" * 500 + '") { code } }'

    error = refused(client, auth, query, code="QUERY_TOO_LONG")

    assert error["message"] == "Syntax Error: Source contains more than 400 code points. Parsing aborted."
    assert error["extensions"]["limit"] == 400


def test_an_alias_bomb_is_refused_naming_the_maximum_number_of_aliases(
    client: TestClient, auth: dict[str, str]
) -> None:
    query = "{ a: plans { code } b: plans { code } c: plans { code } }"

    error = refused(client, auth, query, code="TOO_MANY_ALIASES")

    assert error["message"] == "3 aliases found. Allowed: 2"
    assert error["extensions"]["limit"] == 2


def test_aliases_inside_fragments_are_counted(client: TestClient, auth: dict[str, str]) -> None:
    query = "{ plans { ...Names } } fragment Names on Plan { a: code b: title c: region }"

    refused(client, auth, query, code="TOO_MANY_ALIASES")


def test_as_many_aliases_as_allowed_are_answered(client: TestClient, auth: dict[str, str]) -> None:
    response = client.post("/graphql", json={"query": "{ now: plans { code } also: plans { code } }"}, headers=auth)

    assert response.json()["data"] == {"now": [{"code": "izmir-eylem-plani"}], "also": [{"code": "izmir-eylem-plani"}]}


def test_the_limits_hold_for_queries_sent_with_get(client: TestClient, auth: dict[str, str]) -> None:
    response = client.get("/graphql", params={"query": DEPTH_4}, headers=auth)

    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_DEEP"


def test_the_limits_hold_for_partner_apps_as_for_everyone(client: TestClient, settings: GatewaySettings) -> None:
    token = issue_token(settings, subject="pano@example.org", role="partner_app", scopes=["plan:*"])

    refused(client, {"Authorization": f"Bearer {token}"}, DEPTH_4, code="QUERY_TOO_DEEP")


def test_a_request_body_over_the_limit_answers_413_with_a_problem(client: TestClient, auth: dict[str, str]) -> None:
    # The query itself is short; the variables make the body too large.
    response = client.post("/graphql", headers={**auth, "X-Correlation-ID": "buyuk-istek"},
                           json={"query": "{ plans { code } }", "variables": {"x": "y" * 3_000}})

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 413
    assert problem["max_bytes"] == 2_000
    assert "2000 bytes" in problem["detail"]
    assert problem["correlation_id"] == response.headers["X-Correlation-ID"] == "buyuk-istek"


def test_a_body_without_a_length_is_refused_once_it_grows_over_the_limit(
    client: TestClient, auth: dict[str, str]
) -> None:
    chunks = (b" " * 1_000 for _ in range(5))

    response = client.post("/graphql", content=chunks, headers={**auth, "Content-Type": "application/json"})

    assert response.status_code == 413
    assert response.json()["max_bytes"] == 2_000


def test_a_body_within_the_limit_without_a_length_is_read_whole(client: TestClient, auth: dict[str, str]) -> None:
    body = b'{"query": "{ plans { code } }"}'
    chunks = (body[i:i + 8] for i in range(0, len(body), 8))

    response = client.post("/graphql", content=chunks, headers={**auth, "Content-Type": "application/json"})

    assert response.status_code == 200
    assert response.json()["data"] == {"plans": [{"code": "izmir-eylem-plani"}]}


@pytest.mark.parametrize(("body", "status"), [
    (b"{not json", 400),
    (b'{"query": 5}', 400),
    (b"{}", 400),
    (b'{"query": "{ plans { code } }", "variables": [1]}', 400),
    (b'{"query": "mutation { x }"}', 200),
    (b'{"query": "{ plans { code } "}', 200),
    (b'{"query": "{ plans { ...F } } fragment F on Plan { goals { ...F } }"}', 200),
])
def test_malformed_requests_are_client_errors_never_500(
    client: TestClient, auth: dict[str, str], body: bytes, status: int
) -> None:
    response = client.post("/graphql", content=body, headers={**auth, "Content-Type": "application/json"})

    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["data"] is None
        assert response.json()["errors"]


def test_the_default_limits_let_introspection_and_graphiql_through_in_development(
    engine: Engine, tmp_path: Path
) -> None:
    settings = GatewaySettings(environment="development", var_dir=tmp_path)
    auth = {"Authorization": f"Bearer {issue_token(settings, subject='gelistirici@kedv.org.tr', role='auditor')}"}
    introspection = get_introspection_query(descriptions=True, specified_by_url=True, directive_is_repeatable=True,
                                            schema_description=True, input_value_deprecation=True)

    with TestClient(create_app(settings, engine=engine)) as client:
        response = client.post("/graphql", json={"query": introspection}, headers=auth)
        page = client.get("/graphql", headers={**auth, "Accept": "text/html"})

    assert "errors" not in response.json()
    types = {t["name"] for t in response.json()["data"]["__schema"]["types"]}
    assert {"Plan", "Commitment", "HistoryEntry"} <= types
    assert "graphiql" in page.text.lower()


def test_the_default_limits_answer_a_deep_everyday_query(engine: Engine, tmp_path: Path) -> None:
    settings = GatewaySettings(environment="test", var_dir=tmp_path)
    auth = {"Authorization": f"Bearer {issue_token(settings, subject='denetci@kedv.org.tr', role='auditor')}"}
    query = ("{ plans { goals { targets { commitments { code } } } } "
             "protocols { parties { organisation { code } } } "
             "changes(first: 1) { edges { node { changes { field } } } } }")

    with TestClient(create_app(settings, engine=engine)) as client:
        response = client.post("/graphql", json={"query": query}, headers=auth)

    assert "errors" not in response.json()
    assert response.json()["data"]["plans"][0]["goals"]


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="gateway_max_query_depth"):
        GatewaySettings(gateway_max_query_depth=0)
