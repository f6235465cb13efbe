"""Bad input gets a clear problem+json answer and changes nothing (design, section 6); no input gives a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from plans_testing import (
    EXECUTIVE_COMMITTEE,
    KEDV,
    Service,
    api_settings,
    bearer,
    copy_store,
    make_izmir_sqlite,
    running_service,
)

from izlek_common.testing.fixtures import throwaway_database

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def izmir_sqlite(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, UUID]:
    directory = tmp_path_factory.mktemp("izmir-template")
    return directory, make_izmir_sqlite(directory)


def refused(service: Service, method: str, url: str, status: int, *, headers: dict[str, str] | None = None,
            **request: Any) -> dict[str, Any]:
    """Send a request that must be refused with ``status`` and a problem body, leaving the store as it was."""
    before = service.stored()
    response = service.client.request(method, url, headers=service.headers() if headers is None else headers,
                                      **request)

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert service.stored() == before
    problem = response.json()
    assert problem["status"] == status
    assert problem["title"] and problem["detail"]
    problem["_headers"] = response.headers
    return problem


@pytest.fixture(scope="class", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def service(request: pytest.FixtureRequest, izmir_sqlite: tuple[Path, UUID],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The API with the İzmir plan, one commitment moved on to version 2 and one done; shared by the class
    because every request in it must leave the store unchanged (which each test checks)."""
    if request.param == "sqlite":
        template, plan_id = izmir_sqlite
        with running_service(copy_store(template, tmp_path_factory.mktemp("bad-input")), plan_id) as running:
            _prepare(running)
            yield running
    else:
        # postgres_database is per test; this class shares one database, made by the same plugin.
        with (throwaway_database(request.getfixturevalue("postgres_admin_url")) as database,
              running_service(database.url) as running):
            _prepare(running)
            yield running


def _prepare(service: Service) -> None:
    for actor_group, index, status in (("AG-KOOP", 0, "in_progress"), ("AG-KOOP", 1, "done")):
        response = service.client.post(f"/commitments/{service.commitment_id(actor_group, index)}/status",
                                       headers=service.headers(), json={"status": status})
        assert response.status_code == 200, response.text
    response = service.client.post(f"/plans/{service.plan_id}/indicators", headers=service.headers(), json={
        "code": "I-SATIS", "name": "Ortak satış noktası", "unit": "adet", "direction": "increase"})
    assert response.status_code == 201, response.text


class TestBadInputIsRefusedAndChangesNothing:
    def status_url(self, service: Service, actor_group: str = "AG-KOOP", index: int = 0) -> str:
        return f"/commitments/{service.commitment_id(actor_group, index)}/status"

    def test_a_malformed_json_body_is_invalid_input(self, service: Service) -> None:
        problem = refused(service, "POST", self.status_url(service), 422, content=b'{"status": "done",',
                          headers={**service.headers(), "Content-Type": "application/json"})

        assert problem["errors"][0]["type"] == "json_invalid"

    @pytest.mark.parametrize("body", [
        {"status": 5},
        {"status": "done", "expected_version": "two"},
        {"status": "done", "expected_version": True},
        {"status": "done", "valid_at": "dün"},
        {"status": ["done"]},
        {"status": "finished"},
    ])
    def test_a_field_of_the_wrong_type_is_invalid_input(self, service: Service, body: dict[str, Any]) -> None:
        refused(service, "POST", self.status_url(service), 422, json=body)

    def test_an_unknown_field_is_invalid_input(self, service: Service) -> None:
        problem = refused(service, "POST", self.status_url(service), 422, json={"status": "done", "colour": "mor"})

        assert problem["errors"][0]["loc"] == ["body", "colour"]

    def test_a_missing_body_is_invalid_input(self, service: Service) -> None:
        refused(service, "POST", self.status_url(service), 422)

    def test_an_unknown_commitment_is_not_found(self, service: Service) -> None:
        refused(service, "POST", f"/commitments/{uuid4()}/status", 404, json={"status": "done"})
        refused(service, "GET", f"/commitments/{uuid4()}", 404)
        refused(service, "GET", f"/history/{uuid4()}", 404)

    def test_an_unknown_plan_is_not_found(self, service: Service) -> None:
        plan = f"/plans/{uuid4()}"
        refused(service, "GET", f"{plan}/commitments", 404)
        refused(service, "GET", f"{plan}/goals", 404)
        refused(service, "POST", f"{plan}/goals", 404, json={"code": "G9", "title": "Yeni amaç"})

    def test_a_commitment_id_is_not_a_plan_id(self, service: Service) -> None:
        refused(service, "GET", f"/plans/{service.commitment_id('AG-KS')}/targets", 404)

    @pytest.mark.parametrize("path", ["/commitments/T1.1-A01/status", "/commitments/42/status"])
    def test_an_id_that_is_no_uuid_is_invalid_input(self, service: Service, path: str) -> None:
        problem = refused(service, "POST", path, 422, json={"status": "done"})

        assert problem["errors"][0]["loc"] == ["path", "commitment_id"]

    def test_a_plan_id_that_is_no_uuid_is_invalid_input(self, service: Service) -> None:
        refused(service, "GET", "/plans/izmir-eylem-plani/goals", 422)

    def test_a_stale_version_in_if_match_is_a_version_conflict(self, service: Service) -> None:
        problem = refused(service, "POST", self.status_url(service), 409, json={"status": "done"},
                          headers={**service.headers(), "If-Match": '"1"'})

        assert (problem["expected_version"], problem["actual_version"]) == (1, 2)

    def test_a_stale_expected_version_in_the_body_is_a_version_conflict(self, service: Service) -> None:
        problem = refused(service, "POST", self.status_url(service), 409,
                          json={"status": "done", "expected_version": 1})

        assert (problem["expected_version"], problem["actual_version"]) == (1, 2)

    @pytest.mark.parametrize("if_match", ["soon", '"1", "2"', "*", '"1' + "0" * 5000 + '"'])
    def test_an_if_match_that_holds_no_version_is_invalid_input(self, service: Service, if_match: str) -> None:
        refused(service, "POST", self.status_url(service), 422, json={"status": "done"},
                headers={**service.headers(), "If-Match": if_match})

    def test_if_match_and_body_naming_different_versions_is_invalid_input(self, service: Service) -> None:
        refused(service, "POST", self.status_url(service), 422, json={"status": "done", "expected_version": 2},
                headers={**service.headers(), "If-Match": '"3"'})

    def test_a_forbidden_transition_is_a_conflict_listing_the_allowed_ones(self, service: Service) -> None:
        problem = refused(service, "POST", self.status_url(service, index=1), 409,
                          json={"status": "planned", "reason": "yeniden planlandı"})

        assert problem["type"].endswith("/transition-not-allowed")
        assert (problem["current"], problem["requested"], problem["allowed"]) == ("done", "planned", ["in_progress"])

    def test_dropping_without_a_reason_is_invalid_input(self, service: Service) -> None:
        problem = refused(service, "POST", self.status_url(service), 422, json={"status": "dropped"})

        assert "reason" in problem["detail"]
        refused(service, "POST", self.status_url(service), 422, json={"status": "dropped", "reason": "   "})

    def test_a_missing_token_is_unauthenticated_with_a_challenge(self, service: Service) -> None:
        problem = refused(service, "POST", self.status_url(service), 401, json={"status": "done"}, headers={})

        assert problem["_headers"]["www-authenticate"].startswith("Bearer")

    def test_an_expired_token_is_unauthenticated(self, service: Service) -> None:
        expired = bearer(service.settings, issued_at=datetime.now(UTC) - timedelta(hours=9))

        problem = refused(service, "POST", self.status_url(service), 401, json={"status": "done"}, headers=expired)

        assert problem["detail"] == "token expired"
        assert 'error="invalid_token"' in problem["_headers"]["www-authenticate"]

    def test_a_token_signed_with_another_secret_is_unauthenticated(self, service: Service) -> None:
        forged = bearer(api_settings(jwt_secret="someone-else's-secret-of-at-least-32-bytes"))

        problem = refused(service, "POST", self.status_url(service), 401, json={"status": "done"}, headers=forged)

        assert problem["detail"] == "invalid signature"

    @pytest.mark.parametrize("token", ["Bearer", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 5000])
    def test_a_malformed_authorization_header_is_unauthenticated(self, service: Service, token: str) -> None:
        refused(service, "POST", self.status_url(service), 401, json={"status": "done"},
                headers={"Authorization": token})

    @pytest.mark.parametrize("role", ["auditor", "partner_app"])
    def test_an_auditor_or_a_partner_app_cannot_write(self, service: Service, role: str) -> None:
        headers = service.headers(role)

        refused(service, "POST", self.status_url(service, "AG-KS"), 403, json={"status": "done"}, headers=headers)
        refused(service, "POST", f"/plans/{service.plan_id}/goals", 403, headers=headers,
                json={"code": "G9", "title": "Yeni amaç"})
        refused(service, "PATCH", f"/commitments/{service.commitment_id('AG-KS')}", 403, headers=headers,
                json={"title": "Başka"})

    def test_a_liaison_of_another_organisation_cannot_change_a_commitment(self, service: Service) -> None:
        # AG-YK is the coordination's executive committee; KEDV is not in it.
        problem = refused(service, "POST", self.status_url(service, "AG-YK"), 403, json={"status": "in_progress"},
                          headers=service.headers("liaison", KEDV))

        assert KEDV in problem["detail"]
        refused(service, "POST", f"/commitments/{service.commitment_id('AG-YK')}/evidence", 403,
                json={"reference": "tutanak"}, headers=service.headers("member", KEDV))

    def test_a_liaison_cannot_edit_the_plan_even_for_their_own_commitments(self, service: Service) -> None:
        refused(service, "PATCH", f"/commitments/{service.commitment_id('AG-YK')}", 403, json={"title": "Başka"},
                headers=service.headers("liaison", EXECUTIVE_COMMITTEE))

    def test_a_reason_over_its_limit_is_invalid_input(self, service: Service) -> None:
        refused(service, "POST", self.status_url(service), 422, json={"status": "done", "reason": "ç" * 2001})

    def test_a_correction_without_a_reason_is_invalid_input(self, service: Service) -> None:
        refused(service, "PATCH", f"/commitments/{service.commitment_id('AG-KOOP')}", 422,
                json={"kind": "correction", "status": "planned"})

    def test_a_change_to_a_target_the_plan_does_not_have_is_invalid_input(self, service: Service) -> None:
        refused(service, "POST", f"/plans/{service.plan_id}/commitments", 422,
                json={"target_code": "T9.9", "code": "T9.9-A01", "title": "Yeni", "actor_group": "AG-KOOP"})

    def test_registering_a_commitment_code_twice_is_a_conflict(self, service: Service) -> None:
        refused(service, "POST", f"/plans/{service.plan_id}/commitments", 409,
                json={"target_code": "T1.1", "code": "T1.1-A01", "title": "Yeni", "actor_group": "AG-KOOP"})

    @pytest.mark.parametrize("value", ["1e999999999", "-1e-999999999", 10**40, "NaN", "Infinity", "bir", True])
    def test_a_figure_that_is_no_finite_number_of_sane_size_is_invalid_input(self, service: Service,
                                                                             value: Any) -> None:
        indicator = service.app.list_indicators(service.plan_id)[0].id

        refused(service, "PUT", f"/indicators/{indicator}/targets", 422, json={"period": "2021", "value": value})

    @pytest.mark.parametrize("period", ["2021-Q5", "21", "2021-13", ""])
    def test_a_period_that_is_no_year_half_quarter_or_month_is_invalid_input(self, service: Service,
                                                                             period: str) -> None:
        indicator = service.app.list_indicators(service.plan_id)[0].id

        refused(service, "PUT", f"/indicators/{indicator}/actuals", 422, json={"period": period, "value": 3})

    def test_an_unknown_as_of_time_is_invalid_input(self, service: Service) -> None:
        refused(service, "GET", f"/commitments/{service.commitment_id('AG-KS')}", 422, params={"as_of": "dün"})

    def test_a_time_before_the_commitment_existed_is_not_found(self, service: Service) -> None:
        refused(service, "GET", f"/commitments/{service.commitment_id('AG-KS')}", 404,
                params={"as_of": "2000-01-01"})


# --- no input gives a 500 -------------------------------------------------------------------------------

WRITES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/plans"): {"code": "sweep-plan", "title": "Tarama", "region": "Bursa"},
    ("PATCH", "/plans/{plan_id}"): {"title": "İZMİR EYLEM PLANI"},
    ("POST", "/plans/{plan_id}/goals"): {"code": "G9", "title": "Yeni amaç"},
    ("PATCH", "/plans/{plan_id}/goals/{code}"): {"title_en": "Goal"},
    ("POST", "/plans/{plan_id}/targets"): {"goal_code": "G1", "code": "T9.9", "title": "Yeni hedef"},
    ("PATCH", "/plans/{plan_id}/targets/{code}"): {"title_en": "Target"},
    ("POST", "/plans/{plan_id}/actor-groups"): {"code": "AG-X", "name": "Yeni grup", "organisation_ids": ["kedv"]},
    ("POST", "/plans/{plan_id}/priorities"): {"code": "P9", "text": "Yeni öncelik"},
    ("POST", "/plans/{plan_id}/reports"): {"code": "R-2021-06", "title": "Haziran 2021 raporu"},
    ("POST", "/plans/{plan_id}/commitments"): {"target_code": "T1.1", "code": "T1.1-X", "title": "Yeni",
                                               "actor_group": "AG-KOOP"},
    ("POST", "/commitments/{commitment_id}/status"): {"status": "in_progress"},
    ("POST", "/commitments/{commitment_id}/evidence"): {"reference": "tutanak-1"},
    ("PUT", "/commitments/{commitment_id}/assignment"): {"actor_group": "AG-KS"},
    ("PATCH", "/commitments/{commitment_id}"): {"title": "Yeni başlık"},
    ("POST", "/plans/{plan_id}/criteria"): {"code": "C9", "text": "Yeni kriter",
                                            "measure": {"kind": "count", "target": 6, "breakdown": {"a": 6}}},
    ("PATCH", "/criteria/{criterion_id}"): {"text": "Yeni metin"},
    ("PUT", "/criteria/{criterion_id}/band-override"): {"band": "good", "reason": "neden"},
    ("POST", "/plans/{plan_id}/indicators"): {"code": "I9", "name": "Gösterge", "unit": "adet",
                                              "direction": "increase"},
    ("PATCH", "/indicators/{indicator_id}"): {"name": "Gösterge"},
    ("PUT", "/indicators/{indicator_id}/baseline"): {"value": 1},
    ("PUT", "/indicators/{indicator_id}/targets"): {"period": "2021", "value": 1},
    ("PUT", "/indicators/{indicator_id}/actuals"): {"period": "2021", "value": 1, "evidence": ["e"]},
    ("PUT", "/indicators/{indicator_id}/bands/{period}/override"): {"band": "good", "reason": "neden"},
}
"""Every write route of the API, with a body it accepts."""

UPLOADS = {("POST", "/plans/{plan_id}/spreadsheet")}
"""Every write route that takes a file (multipart) rather than JSON; swept by `test_no_upload_gives_a_server_error`."""

HUGE_INTEGER = "1" + "0" * 5000
ODD_VALUES: list[Any] = [
    None, True, -1, 10**30, 1.7e308, HUGE_INTEGER, "1e999999999", "-1e-999999999", "NaN", "   ",
    "ğüşİı Ç – 😀 \u0000 \u202e", "x" * 100_001, [], {"a": 1}, "2019-02-30", "0001-01-01T00:00:00+23:59",
]
ODD_BODIES = [b"", b"[]", b"null", b"{}", b'"text"', b"{", b"\xff\xfe\x00", b"[" * 100_000, b'{"a":' * 10_000]


def _json(body: Any) -> bytes:
    """JSON text, with the huge integer written as a bare numeral (Python will not print it)."""
    return json.dumps(body, ensure_ascii=False).replace(f'"{HUGE_INTEGER}"', HUGE_INTEGER).encode()


def _bodies(base: dict[str, Any], fields: list[str]) -> Iterator[bytes]:
    """Odd bodies, then the accepted body with one field (or one field of a nested object) made odd.
    Codes are made unique so that a create is not refused as a duplicate before its odd field is read."""
    yield from ODD_BODIES
    count = 0
    for field in fields:
        for value in ODD_VALUES:
            count += 1
            unique = {**base, "code": f"{base['code']}-{count}"} if "code" in base and field != "code" else base
            yield _json({**unique, field: value})
            if isinstance(base.get(field), dict):
                for inner in base[field]:
                    yield _json({**unique, field: {**base[field], inner: value}})
    for value in ODD_VALUES:
        yield _json(dict.fromkeys(base, value))


@pytest.fixture(scope="module")
def sweep_service(izmir_sqlite: tuple[Path, UUID], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    template, plan_id = izmir_sqlite
    with running_service(copy_store(template, tmp_path_factory.mktemp("sweep")), plan_id) as service:
        yield service


@pytest.fixture(scope="module")
def path_values(sweep_service: Service) -> dict[str, str]:
    """Ids to put in the routes' paths: the plan, a commitment, a criterion, a new indicator."""
    service = sweep_service
    headers = service.headers()
    plan = f"/plans/{service.plan_id}"
    criterion = service.client.get(f"{plan}/criteria", headers=headers).json()[0]["id"]
    indicator = service.client.post(f"{plan}/indicators", headers=headers, json={
        "code": "I-SWEEP", "name": "Tarama göstergesi", "unit": "adet", "direction": "decrease", "baseline": 10,
    })
    return {"plan_id": str(service.plan_id), "commitment_id": str(service.commitment_id("AG-KS")),
            "criterion_id": criterion, "indicator_id": indicator.json()["id"], "period": "2021"}


def test_the_sweep_covers_every_write_route(sweep_service: Service) -> None:
    routes = {(method.upper(), path) for path, operations in sweep_service.api.openapi()["paths"].items()
              for method in operations if method in {"post", "put", "patch", "delete"}}

    assert routes == set(WRITES) | UPLOADS


@pytest.mark.parametrize(("method", "route"), list(WRITES), ids=[f"{m} {r}" for m, r in WRITES])
def test_no_body_gives_a_server_error(sweep_service: Service, path_values: dict[str, str], method: str,
                                     route: str) -> None:
    url = route.format(**path_values, code="G1" if "/goals/" in route else "T1.1")
    base = WRITES[(method, route)]
    openapi = sweep_service.api.openapi()
    schema_ref = openapi["paths"][route][method.lower()]["requestBody"]["content"]["application/json"]["schema"]
    fields = sorted(openapi["components"]["schemas"][schema_ref["$ref"].rsplit("/", 1)[1]]["properties"])
    headers = {**sweep_service.headers(), "Content-Type": "application/json"}

    answers: dict[int, int] = {}
    for body in _bodies(base, fields):
        response = sweep_service.client.request(method, url, content=body, headers=headers)
        assert response.status_code < 500, (body[:300], response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"] == PROBLEM, (body[:300], response.text)
        answers[response.status_code] = answers.get(response.status_code, 0) + 1

    assert answers.get(422, 0) > 0


ODD_UPLOADS: list[dict[str, Any]] = [
    {},
    {"data": {"reason": "dosyasız"}},
    {"content": b'{"file": "takip.xlsx"}', "headers": {"Content-Type": "application/json"}},
    {"content": b"--x\r\nbroken", "headers": {"Content-Type": "multipart/form-data; boundary=x"}},
    {"files": {"file": ("takip.xlsx", b"")}},
    {"files": {"file": ("takip.xlsx", b"PK\x03\x04" + b"\x00" * 500)}},
    {"files": {"file": ("takip.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500)}},
    {"files": {"file": ("", b"Hedef;Faaliyet\nT1.1;x\n")}},
    {"files": {"file": ("ğüş😀\u202e.csv", "Hedef;Faaliyet Kodu;Durum\nT1.1;T1.1-A01;Bitmek üzere\n".encode())}},
    {"files": {"file": ("t.csv", b"\xff\xfe\x00\xd8" * 100)}},
    {"files": {"file": ("t.csv", b"Hedef;Faaliyet\nT1.1;" + "ç".encode() * 100_000 + b"\n")}},
    {"files": {"file": ("t.csv", b"Hedef;Faaliyet;" + b";".join(b"Hedef %d" % i for i in range(2000)) + b"\n")}},
    {"files": {"file": ("t.csv", ("Hedef;Faaliyet Kodu;Bitiş Tarihi;Başlangıç Değeri;Gösterge;Hedef 2021\n"
                                  "T1.1;T1.1-A01;0001-01-01;1e999999999;x;NaN\n"
                                  "T1.1;T1.1-A02;31.12.99999;" + "9" * 5000 + ";y;--1\n").encode())}},
    {"files": {"file": ("t.csv", b'Hedef;Faaliyet\n"T1.1;unterminated\n')}},
    {"files": {"file": ("t.csv", b"Faaliyet\n" + b"\n" * 30_000 + b"x\n")}},
    {"files": {"file": ("t.xlsx", b"x")}, "params": {"sheet": "Özet"}},
    {"files": {"file": ("t.csv", b"Hedef;Faaliyet\nT1.1;x\n")}, "params": {"dry_run": "belki"}},
    {"files": {"file": ("t.csv", b"Hedef;Faaliyet\nT1.1;x\n")}, "data": {"valid_at": "dün"}},
    {"files": {"file": ("t.csv", b"Hedef;Faaliyet\nT1.1;x\n")}, "data": {"reason": "ç" * 2001}},
    {"files": {"file": ("t.csv", b"Hedef;Faaliyet\nT1.1;x\n")}, "params": {"sheet": "x" * 300}},
]


@pytest.mark.parametrize("request_parts", ODD_UPLOADS, ids=[str(i) for i in range(len(ODD_UPLOADS))])
def test_no_upload_gives_a_server_error(sweep_service: Service, request_parts: dict[str, Any]) -> None:
    parts = dict(request_parts)
    headers = {**sweep_service.headers(), **parts.pop("headers", {})}
    before = sweep_service.stored()

    response = sweep_service.client.post(f"/plans/{sweep_service.plan_id}/spreadsheet", headers=headers, **parts)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert sweep_service.stored() == before


@pytest.mark.parametrize("if_match", ["", "W/", '"', '"-1"', '"0"', '"1' + "0" * 5000 + '"', "\t", "W/\"2\" junk"])
def test_no_if_match_header_gives_a_server_error(sweep_service: Service, if_match: str) -> None:
    response = sweep_service.client.post(
        f"/commitments/{sweep_service.commitment_id('AG-YY')}/status", json={"status": "in_progress"},
        headers={**sweep_service.headers(), "If-Match": if_match},
    )

    assert response.status_code < 500, response.text


@pytest.mark.parametrize("value", ["dün", "", "2021-02-30", "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59",
                                   HUGE_INTEGER, "2021-06-10T00:00:00+99:00", "1e999999999"])
@pytest.mark.parametrize("parameter", ["as_of", "valid_at"])
def test_no_time_query_gives_a_server_error(sweep_service: Service, parameter: str, value: str) -> None:
    headers = sweep_service.headers("auditor")
    plan = f"/plans/{sweep_service.plan_id}"
    urls = [plan, f"{plan}/goals", f"{plan}/targets", f"{plan}/commitments", f"{plan}/criteria",
            f"{plan}/indicators", f"/commitments/{sweep_service.commitment_id('AG-KS')}"]

    for url in urls:
        response = sweep_service.client.get(url, params={parameter: value}, headers=headers)
        assert response.status_code < 500, (url, response.text)


def test_an_unknown_route_or_method_is_a_problem_too(sweep_service: Service) -> None:
    headers = sweep_service.headers()
    for response in (sweep_service.client.get("/nowhere", headers=headers),
                     sweep_service.client.delete(f"/plans/{sweep_service.plan_id}", headers=headers)):
        assert response.status_code in (404, 405)
        assert response.headers["content-type"] == PROBLEM

