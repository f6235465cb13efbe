from typing import Annotated

import pytest
from fastapi import Body, FastAPI, HTTPException
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field, ValidationError, field_validator

from izlek_common.logging import correlation_scope
from izlek_common.problems import (
    PROBLEM_BASE,
    AlreadyExists,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Problem,
    TransitionNotAllowed,
    Unauthenticated,
    VersionConflict,
    install_problem_handlers,
    problem_response,
)

PROBLEM_JSON = "application/problem+json"


class CommitmentNotFound(Exception):
    pass


class ArchivedCommitmentNotFound(CommitmentNotFound):
    pass


class ProtocolTransitionNotAllowed(Exception):
    pass


class NewCommitment(BaseModel):
    title: str = Field(min_length=1)
    quota_percent: float = Field(ge=0, le=100)

    @field_validator("title")
    @classmethod
    def title_is_not_shouting(cls, title: str) -> str:
        if title.isupper():
            raise ValueError("title must not be all capitals")
        return title


def make_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(
        app,
        {
            CommitmentNotFound: lambda e: NotFound(str(e)),
            ProtocolTransitionNotAllowed: lambda e: TransitionNotAllowed(
                current="draft", requested="in_force", allowed=["proposed"]
            ),
        },
    )

    @app.post("/commitments")
    def create_commitment(commitment: NewCommitment) -> dict:
        return commitment.model_dump()

    @app.get("/commitments/{commitment_id}")
    def get_commitment(commitment_id: str) -> dict:
        if commitment_id == "archived":
            raise ArchivedCommitmentNotFound(f"commitment '{commitment_id}' is archived")
        raise CommitmentNotFound(f"no commitment '{commitment_id}'")

    @app.post("/protocols/{protocol_id}/status")
    def change_protocol_status(protocol_id: str) -> dict:
        raise ProtocolTransitionNotAllowed()

    @app.put("/plans/{plan_id}")
    def update_plan(plan_id: str) -> dict:
        raise VersionConflict(expected_version=3, actual_version=5)

    @app.get("/teapot")
    def teapot() -> dict:
        raise HTTPException(status_code=418, detail="short and stout")

    @app.get("/boom")
    def boom() -> dict:
        raise RuntimeError("password=hunter2 at postgresql://izlek@db/plans")

    @app.post("/raw")
    def raw(payload: Annotated[bytes, Body(max_length=2)]) -> dict:
        return {}

    @app.post("/parse")
    def parse_inside_route() -> dict:
        try:
            NewCommitment.model_validate({"title": "", "quota_percent": 120})
        except ValidationError as exc:
            raise InvalidInput.from_pydantic(exc) from exc
        return {}

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(make_app(), raise_server_exceptions=False)


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert {"type", "title", "status", "detail", "instance", "correlation_id"} <= body.keys()
    assert body["status"] == status
    return body


def test_a_mapped_domain_error_answers_as_its_problem(client: TestClient) -> None:
    body = assert_problem(client.get("/commitments/c-7"), 404)

    assert body["type"] == PROBLEM_BASE + "not-found"
    assert body["title"] == "Not found"
    assert body["detail"] == "no commitment 'c-7'"
    assert body["instance"] == "/commitments/c-7"


def test_a_subclass_of_a_mapped_error_is_mapped_through_its_mro(client: TestClient) -> None:
    body = assert_problem(client.get("/commitments/archived"), 404)

    assert body["detail"] == "commitment 'archived' is archived"


def test_transition_not_allowed_lists_the_allowed_states(client: TestClient) -> None:
    body = assert_problem(client.post("/protocols/p-1/status"), 409)

    assert body["type"] == PROBLEM_BASE + "transition-not-allowed"
    assert (body["current"], body["requested"], body["allowed"]) == ("draft", "in_force", ["proposed"])
    assert "allowed from 'draft': proposed" in body["detail"]


def test_a_version_conflict_names_both_versions(client: TestClient) -> None:
    body = assert_problem(client.put("/plans/p-1"), 409)

    assert body["type"] == PROBLEM_BASE + "version-conflict"
    assert (body["expected_version"], body["actual_version"]) == (3, 5)


def test_malformed_json_body_answers_422_problem_json(client: TestClient) -> None:
    response = client.post(
        "/commitments", content=b'{"title": "Kooperatif', headers={"content-type": "application/json"}
    )

    body = assert_problem(response, 422)
    assert body["type"] == PROBLEM_BASE + "invalid-input"
    [error] = body["errors"]
    assert error["type"] == "json_invalid"
    assert error["msg"].startswith("JSON decode error")


def test_invalid_fields_answer_422_listing_each_error(client: TestClient) -> None:
    body = assert_problem(client.post("/commitments", json={"title": "", "quota_percent": 120}), 422)

    assert {(tuple(error["loc"]), error["type"]) for error in body["errors"]} == {
        (("body", "title"), "string_too_short"),
        (("body", "quota_percent"), "less_than_equal"),
    }
    assert "body.title" in body["detail"]
    assert all(error.keys() == {"loc", "msg", "type"} for error in body["errors"])


def test_a_validator_raising_an_exception_still_gives_a_json_error_list(client: TestClient) -> None:
    body = assert_problem(client.post("/commitments", json={"title": "ACİL", "quota_percent": 5}), 422)

    [error] = body["errors"]
    assert error == {
        "loc": ["body", "title"],
        "msg": "Value error, title must not be all capitals",
        "type": "value_error",
    }


def test_an_error_about_bytes_input_is_still_json(client: TestClient) -> None:
    response = client.post(
        "/raw", content=b"\xff\xfe\xfd", headers={"content-type": "application/octet-stream"}
    )

    body = assert_problem(response, 422)
    assert body["errors"]


def test_pydantic_errors_raised_inside_a_route_can_become_invalid_input(client: TestClient) -> None:
    body = assert_problem(client.post("/parse"), 422)

    assert [error["loc"] for error in body["errors"]] == [["title"], ["quota_percent"]]


def test_unknown_route_answers_404_problem_json(client: TestClient) -> None:
    body = assert_problem(client.get("/no/such/thing"), 404)

    assert body["type"] == "about:blank"
    assert body["title"] == "Not Found"
    assert body["instance"] == "/no/such/thing"


def test_wrong_method_answers_405_problem_json_with_the_allowed_methods(client: TestClient) -> None:
    response = client.delete("/commitments")

    assert_problem(response, 405)
    assert response.headers["allow"] == "POST"


def test_an_http_exception_from_a_route_keeps_its_status_and_detail(client: TestClient) -> None:
    body = assert_problem(client.get("/teapot"), 418)

    assert body["title"] == "I'm a Teapot"
    assert body["detail"] == "short and stout"


def test_an_unexpected_error_answers_500_without_internals(client: TestClient) -> None:
    response = client.get("/boom")

    body = assert_problem(response, 500)
    assert body["type"] == PROBLEM_BASE + "internal-error"
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text


def test_a_problem_body_carries_the_current_correlation_id() -> None:
    with correlation_scope("corr-1"):
        response = NotFound("no plan 'p-9'").to_response("/plans/p-9")

    assert response.media_type == PROBLEM_JSON
    assert b'"correlation_id":"corr-1"' in response.body


def test_problem_response_includes_extension_members_and_headers() -> None:
    response = problem_response(
        429, "Too Many Requests", "slow down", "about:blank", "/x", headers={"Retry-After": "3"}, limit=10
    )

    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert b'"limit":10' in response.body


def test_extension_members_may_not_reuse_standard_member_names() -> None:
    with pytest.raises(ValueError, match="standard member names"):
        Conflict("clash", status=200)


def test_each_problem_has_its_status_and_its_own_type() -> None:
    problems = [
        InvalidInput("x"),
        NotFound("x"),
        Conflict("x"),
        VersionConflict(expected_version=1, actual_version=2),
        TransitionNotAllowed(current="a", requested="b", allowed=[]),
        AlreadyExists("x"),
        Unauthenticated("x"),
        Forbidden("x"),
    ]

    assert [p.status for p in problems] == [422, 404, 409, 409, 409, 409, 401, 403]
    assert len({p.type_uri for p in problems}) == len(problems)
    assert all(p.type_uri.startswith(PROBLEM_BASE) for p in problems)
    assert all(isinstance(p, Conflict) for p in problems[2:6])


def test_a_problem_without_detail_uses_its_title() -> None:
    assert NotFound().detail == "Not found"
    assert str(AlreadyExists("organisation 'kedv' exists")) == "organisation 'kedv' exists"


def test_a_missing_token_challenges_without_an_error_code() -> None:
    assert Unauthenticated("missing bearer token").headers == {"WWW-Authenticate": 'Bearer realm="izlek"'}


def test_a_rejected_token_challenges_with_invalid_token() -> None:
    challenge = Unauthenticated("token expired", token_given=True).headers["WWW-Authenticate"]

    assert challenge == 'Bearer realm="izlek", error="invalid_token", error_description="token expired"'


def test_a_problem_subclass_is_handled_without_a_mapping() -> None:
    class PlanArchived(Problem):
        status = 410
        title = "Plan archived"
        type_uri = PROBLEM_BASE + "plan-archived"

    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/plans/{plan_id}")
    def get_plan(plan_id: str) -> dict:
        raise PlanArchived(f"plan '{plan_id}' was archived", archived_on="2023-12-31")

    body = assert_problem(TestClient(app).get("/plans/p-1"), 410)
    assert body["archived_on"] == "2023-12-31"
