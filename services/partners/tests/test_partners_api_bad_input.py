"""Bad input gets a clear problem+json answer and changes nothing (design, section 6); no input gives a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import pytest
from partners_testing import (
    CIGLI,
    COOP_A,
    COOP_B,
    IBB,
    KEDV,
    KONAK,
    PROBLEM,
    Service,
    World,
    api_settings,
    bearer,
    copy_store,
    make_world_sqlite,
    refused,
    running_service,
)

from izlek_common.testing.fixtures import throwaway_database


@pytest.fixture(scope="module")
def world_sqlite(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World]:
    directory = tmp_path_factory.mktemp("partners-world")
    return directory, make_world_sqlite(directory)


@pytest.fixture(scope="class", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def service(request: pytest.FixtureRequest, world_sqlite: tuple[Path, World],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The API on the seeded world, Çiğli's protocol put in force (version 3); shared by the class because
    every request in it must leave the store unchanged (which each test checks)."""
    if request.param == "sqlite":
        template, world = world_sqlite
        with running_service(copy_store(template, tmp_path_factory.mktemp("bad-input")), world) as running:
            _prepare(running)
            yield running
    else:
        # postgres_database is per test; this class shares one database, made by the same plugin.
        with (throwaway_database(request.getfixturevalue("postgres_admin_url")) as database,
              running_service(database.url) as running):
            _prepare(running)
            yield running


def _prepare(service: Service) -> None:
    response = service.client.post(f"/protocols/{service.world.signed_protocol}/status",
                                   headers=service.headers(), json={"status": "in_force"})
    assert response.status_code == 200, response.text


def _purchase(service: Service, **overrides: Any) -> dict[str, Any]:
    return {"municipality_code": CIGLI, "cooperative_code": COOP_A, "protocol_id": str(service.world.signed_protocol),
            "amount": "100.00", "category": "catering", "purchased_on": "2024-06-01",
            "invoice_reference": "CGL-2024-9999", **overrides}


class TestBadInputIsRefusedAndChangesNothing:
    def status_url(self, service: Service) -> str:
        return f"/protocols/{service.world.signed_protocol}/status"

    def test_a_malformed_json_body_is_invalid_input(self, service: Service) -> None:
        problem = refused(service, "POST", self.status_url(service), 422, content=b'{"status": "suspended",',
                          headers={**service.headers(), "Content-Type": "application/json"})

        assert problem["errors"][0]["type"] == "json_invalid"

    @pytest.mark.parametrize("body", [
        {"status": 5},
        {"status": ["suspended"]},
        {"status": "askıda"},
        {"status": "suspended", "reason": "neden", "expected_version": "three"},
        {"status": "suspended", "reason": "neden", "expected_version": True},
        {"status": "suspended", "reason": "neden", "valid_at": "geçen yıl"},
        {"status": "suspended", "reason": "neden", "valid_precision": "decade", "valid_at": "2019-01-01"},
        {"status": "suspended", "reason": 42},
    ])
    def test_a_field_of_the_wrong_type_is_invalid_input(self, service: Service, body: dict[str, Any]) -> None:
        refused(service, "POST", self.status_url(service), 422, json=body)

    def test_an_unknown_field_is_invalid_input(self, service: Service) -> None:
        problem = refused(service, "POST", self.status_url(service), 422,
                          json={"status": "suspended", "reason": "neden", "colour": "mor"})

        assert problem["errors"][0]["loc"] == ["body", "colour"]

    def test_an_unknown_field_of_a_nested_body_is_invalid_input(self, service: Service) -> None:
        problem = refused(service, "PATCH", f"/protocols/{service.world.draft_protocol}", 422,
                          json={"purchase_commitment": {"quota_percent": 5, "kota": 5}})

        assert problem["errors"][0]["loc"] == ["body", "purchase_commitment", "kota"]

    def test_a_missing_body_is_invalid_input(self, service: Service) -> None:
        refused(service, "POST", self.status_url(service), 422)
        refused(service, "POST", "/purchases", 422)

    def test_unknown_ids_and_codes_are_not_found(self, service: Service) -> None:
        refused(service, "POST", f"/protocols/{uuid4()}/status", 404, json={"status": "in_force"})
        refused(service, "GET", f"/protocols/{uuid4()}", 404)
        refused(service, "GET", f"/protocols/{uuid4()}/compliance", 404, params={"period": "2024"})
        refused(service, "GET", f"/purchases/{uuid4()}", 404)
        refused(service, "POST", f"/purchases/{uuid4()}/confirm", 404, headers=service.headers("member", COOP_A))
        refused(service, "GET", f"/people/{uuid4()}", 404)
        refused(service, "GET", f"/history/{uuid4()}", 404)
        refused(service, "GET", "/organisations/bornova-belediyesi", 404)
        refused(service, "PATCH", "/organisations/bornova-belediyesi", 404, json={"short_name": "Bornova"})
        refused(service, "PUT", "/organisations/bornova-belediyesi/purchase-volumes", 404,
                json={"period": "2024", "category": "catering", "amount": "1.00"})

    def test_an_id_of_another_kind_is_not_found(self, service: Service) -> None:
        refused(service, "GET", f"/purchases/{service.world.signed_protocol}", 404)
        refused(service, "POST", f"/protocols/{service.world.purchase}/status", 404, json={"status": "in_force"})

    @pytest.mark.parametrize("path", ["/protocols/kedv-cigli-2019/status", "/protocols/42/status"])
    def test_an_id_that_is_no_uuid_is_invalid_input(self, service: Service, path: str) -> None:
        problem = refused(service, "POST", path, 422, json={"status": "in_force"})

        assert problem["errors"][0]["loc"] == ["path", "protocol_id"]

    def test_references_to_organisations_that_are_not_registered_are_invalid_input(self, service: Service) -> None:
        refused(service, "POST", "/protocols", 422, json={
            "code": "kedv-bornova", "title": "Bornova", "parties": [
                {"organisation_code": KEDV, "role": "foundation"},
                {"organisation_code": "bornova-belediyesi", "role": "municipality"}]})
        refused(service, "POST", "/people", 422, json={"organisation_code": "bornova-belediyesi", "name": "Ali"})
        refused(service, "POST", "/purchases", 422, json=_purchase(service, cooperative_code="yok-kooperatif"))

    def test_a_stale_version_in_if_match_is_a_version_conflict(self, service: Service) -> None:
        problem = refused(service, "POST", self.status_url(service), 409,
                          json={"status": "suspended", "reason": "neden"},
                          headers={**service.headers(), "If-Match": '"2"'})

        assert (problem["expected_version"], problem["actual_version"]) == (2, 3)

    def test_a_stale_expected_version_in_the_body_is_a_version_conflict(self, service: Service) -> None:
        problem = refused(service, "PATCH", f"/organisations/{CIGLI}", 409,
                          json={"short_name": "Çiğli", "expected_version": 1})

        assert (problem["expected_version"], problem["actual_version"]) == (1, 4)

    @pytest.mark.parametrize("if_match", ["soon", '"1", "2"', "*", '"1' + "0" * 5000 + '"'])
    def test_an_if_match_that_holds_no_version_is_invalid_input(self, service: Service, if_match: str) -> None:
        refused(service, "POST", self.status_url(service), 422, json={"status": "suspended", "reason": "neden"},
                headers={**service.headers(), "If-Match": if_match})

    def test_if_match_and_body_naming_different_versions_is_invalid_input(self, service: Service) -> None:
        refused(service, "POST", self.status_url(service), 422,
                json={"status": "suspended", "reason": "neden", "expected_version": 3},
                headers={**service.headers(), "If-Match": '"2"'})

    def test_a_forbidden_transition_is_a_conflict_listing_the_allowed_ones(self, service: Service) -> None:
        problem = refused(service, "POST", self.status_url(service), 409, json={"status": "draft"})

        assert problem["type"].endswith("/transition-not-allowed")
        assert (problem["current"], problem["requested"], problem["allowed"]) == (
            "in_force", "draft", ["suspended", "terminated", "expired", "renewed"])

    @pytest.mark.parametrize("status", ["suspended", "terminated"])
    def test_suspending_or_terminating_without_a_reason_is_invalid_input(self, service: Service,
                                                                         status: str) -> None:
        problem = refused(service, "POST", self.status_url(service), 422, json={"status": status})

        assert "reason" in problem["detail"]
        refused(service, "POST", self.status_url(service), 422, json={"status": status, "reason": "   "})

    def test_leaving_the_draft_with_one_party_is_invalid_input(self, service: Service) -> None:
        created = service.client.post("/protocols", headers=service.headers(), json={
            "code": "tek-tarafli", "title": "Tek taraflı", "parties": [{"organisation_code": KEDV, "role": "x"}]})
        assert created.status_code == 201

        refused(service, "POST", f"/protocols/{created.json()['id']}/status", 422, json={"status": "proposed"})

    def test_a_status_in_an_amendment_is_invalid_input(self, service: Service) -> None:
        refused(service, "PATCH", f"/protocols/{service.world.signed_protocol}", 422,
                json={"status": "terminated", "reason": "neden"})

    def test_a_correction_without_a_reason_is_invalid_input(self, service: Service) -> None:
        refused(service, "PATCH", f"/protocols/{service.world.signed_protocol}", 422,
                json={"kind": "correction", "status": "signed"})
        refused(service, "PATCH", f"/organisations/{CIGLI}", 422, json={"kind": "correction", "name": "Çiğli"})
        refused(service, "PATCH", f"/purchases/{service.world.purchase}", 422, json={"amount": "1.00"})

    @pytest.mark.parametrize("sha256", ["not-hex-" * 8, "ab" * 31, "ab" * 32 + "c", "", "zz" * 32])
    def test_a_sha256_that_is_not_64_hex_digits_is_invalid_input(self, service: Service, sha256: str) -> None:
        refused(service, "POST", f"/protocols/{service.world.signed_protocol}/documents", 422,
                json={"reference": "DMS-1", "sha256": sha256})

    def test_the_same_file_twice_is_invalid_input(self, service: Service) -> None:
        # The draft, so that the signed protocol stays at the version the conflict tests expect.
        url = f"/protocols/{service.world.draft_protocol}/documents"
        first = service.client.post(url, headers=service.headers(), json={"reference": "DMS-1", "sha256": "12" * 32})
        assert first.status_code == 201

        refused(service, "POST", url, 422, json={"reference": "DMS-2", "sha256": "12" * 32})

    @pytest.mark.parametrize("amount", [
        "100.001", 100.001, "0.005", 0.1 + 0.2, "-5.00", -5, 0, "0.00", "1e12", "1.000,50", "1.156", True, False,
        "NaN", "Infinity", "yüz lira", None, [100], {"amount": 100}, "1" + "0" * 40,
    ])
    def test_an_amount_that_is_no_positive_sum_of_whole_kurus_is_invalid_input(self, service: Service,
                                                                               amount: Any) -> None:
        problem = refused(service, "POST", "/purchases", 422, json=_purchase(service, amount=amount))

        assert problem["errors"][0]["loc"] == ["body", "amount"]

    @pytest.mark.parametrize("amount", ["100.001", -1, True, "0"])
    def test_a_purchase_volume_or_correction_with_a_bad_amount_is_invalid_input(self, service: Service,
                                                                                amount: Any) -> None:
        refused(service, "PUT", f"/organisations/{CIGLI}/purchase-volumes", 422,
                json={"period": "2024", "category": "catering", "amount": amount})
        refused(service, "PATCH", f"/purchases/{service.world.purchase}", 422,
                json={"amount": amount, "reason": "düzeltme"})

    def test_an_amount_given_as_a_json_number_keeps_its_kurus(self, service: Service) -> None:
        before = service.stored()
        response = service.client.post("/purchases", headers=service.headers(),
                                       json=_purchase(service, amount=1234.56, invoice_reference="CGL-NUM-1"))

        assert response.status_code == 201, response.text
        assert response.json()["amount"] == "1234.56"
        assert service.stored() == before + 1

    @pytest.mark.parametrize("quota", [0, -1, "100.5", True, "yüzde beş"])
    def test_a_quota_that_is_no_share_is_invalid_input(self, service: Service, quota: Any) -> None:
        refused(service, "PATCH", f"/protocols/{service.world.draft_protocol}", 422,
                json={"purchase_commitment": {"quota_percent": quota, "categories": ["catering"]}})

    @pytest.mark.parametrize(("start", "end"), [("2019", "2023"), ("2019-09", "2020"), (2019, "2021-06-30"),
                                                ("2020-02-29", None)])
    def test_term_dates_known_to_the_year_month_or_day_are_kept_as_given(self, service: Service, start: Any,
                                                                          end: Any) -> None:
        before = service.stored()
        response = service.client.patch(f"/protocols/{service.world.draft_protocol}", headers=service.headers(),
                                        json={"term_start": start, "term_end": end})

        assert response.status_code == 200, response.text
        assert (response.json()["term_start"], response.json()["term_end"]) == (str(start), end)
        assert service.stored() == before + 1

    @pytest.mark.parametrize(("start", "end"), [
        ("2019-13", None), ("2019-02-30", None), ("19", None), ("2019/09", None), ("Eylül 2019", None),
        (True, None), (2019.5, None), ("2021", "2019"), ("2019-09", "2019-08"), ("2019-09-10", "2019-09-09"),
    ])
    def test_term_dates_that_are_no_partial_dates_or_run_backwards_are_invalid_input(
            self, service: Service, start: Any, end: Any) -> None:
        refused(service, "PATCH", f"/protocols/{service.world.draft_protocol}", 422,
                json={"term_start": start, "term_end": end})

    @pytest.mark.parametrize(("valid_at", "precision"), [
        ("2019-06-15", "year"), ("2019-09-04", "month"), ("2019-01-01T10:30:00Z", "year"), (None, "year"),
    ])
    def test_a_valid_precision_that_does_not_fit_the_valid_time_is_invalid_input(
            self, service: Service, valid_at: str | None, precision: str) -> None:
        refused(service, "POST", self.status_url(service), 422,
                json={"status": "expired", "valid_at": valid_at, "valid_precision": precision})

    @pytest.mark.parametrize("period", ["2024-Q5", "24", "2024-13", "bu yıl", "2024-H3"])
    def test_a_period_that_is_no_year_half_quarter_or_month_is_invalid_input(self, service: Service,
                                                                             period: str) -> None:
        refused(service, "GET", f"/protocols/{service.world.signed_protocol}/compliance", 422,
                params={"period": period})
        refused(service, "PUT", f"/organisations/{CIGLI}/purchase-volumes", 422,
                json={"period": period, "category": "catering", "amount": "1.00"})

    def test_compliance_needs_a_period(self, service: Service) -> None:
        refused(service, "GET", f"/protocols/{service.world.signed_protocol}/compliance", 422)

    def test_a_purchase_under_a_protocol_that_is_not_active_is_invalid_input(self, service: Service) -> None:
        refused(service, "POST", "/purchases", 422,
                json=_purchase(service, protocol_id=str(service.world.draft_protocol)))

    def test_a_purchase_of_a_municipality_that_is_not_party_is_invalid_input(self, service: Service) -> None:
        refused(service, "POST", "/purchases", 422, json=_purchase(service, municipality_code=KONAK))

    def test_a_purchase_from_an_organisation_that_is_no_cooperative_is_invalid_input(self,
                                                                                     service: Service) -> None:
        refused(service, "POST", "/purchases", 422, json=_purchase(service, cooperative_code=KEDV))

    def test_an_invoice_recorded_twice_is_a_conflict(self, service: Service) -> None:
        refused(service, "POST", "/purchases", 409, json=_purchase(service, invoice_reference="CGL-2024-0001"))

    def test_an_organisation_registered_twice_is_a_conflict(self, service: Service) -> None:
        refused(service, "POST", "/organisations", 409,
                json={"code": KONAK, "name": "Konak Belediyesi", "type": "municipality_district"})

    @pytest.mark.parametrize("code", ["bornova/belediyesi", "bornova belediyesi", "x" * 201, ""])
    def test_an_organisation_code_that_cannot_address_it_in_a_url_is_invalid_input(self, service: Service,
                                                                                   code: str) -> None:
        refused(service, "POST", "/organisations", 422,
                json={"code": code, "name": "Bornova Belediyesi", "type": "municipality_district"})

    def test_an_organisation_of_an_unknown_type_is_invalid_input(self, service: Service) -> None:
        refused(service, "POST", "/organisations", 422,
                json={"code": "bornova-belediyesi", "name": "Bornova", "type": "belediye"})

    def test_only_a_municipality_declares_volumes_or_designates_liaisons(self, service: Service) -> None:
        problem = refused(service, "PUT", f"/organisations/{COOP_B}/purchase-volumes", 422,
                          json={"period": "2024", "category": "catering", "amount": "1.00"})

        assert "municipalit" in problem["detail"]
        refused(service, "POST", f"/organisations/{KEDV}/liaisons", 422,
                json={"person_id": str(service.world.cigli_liaison), "start": "2024-01-01"})

    def test_a_liaison_of_another_organisation_is_invalid_input(self, service: Service) -> None:
        refused(service, "POST", f"/organisations/{KONAK}/liaisons", 422,
                json={"person_id": str(service.world.cigli_liaison), "start": "2024-01-01"})

    def test_a_liaison_term_that_ends_before_it_starts_is_invalid_input(self, service: Service) -> None:
        refused(service, "POST", f"/organisations/{CIGLI}/liaisons/{service.world.cigli_liaison}/end", 422,
                json={"end": "2020-12-31"})

    def test_an_email_that_is_no_address_is_invalid_input(self, service: Service) -> None:
        refused(service, "PATCH", f"/people/{service.world.cigli_liaison}", 422, json={"email": "ayse at cigli"})

    def test_a_dispute_or_void_without_a_reason_is_invalid_input(self, service: Service) -> None:
        member = service.headers("member", COOP_A)
        refused(service, "POST", f"/purchases/{service.world.purchase}/dispute", 422, json={}, headers=member)
        refused(service, "POST", f"/purchases/{service.world.purchase}/dispute", 422, json={"reason": " "},
                headers=member)
        refused(service, "POST", f"/purchases/{service.world.purchase}/void", 422, json={})

    def test_removing_an_organisation_that_is_no_party_is_invalid_input(self, service: Service) -> None:
        refused(service, "DELETE", f"/protocols/{service.world.draft_protocol}/parties/{KONAK}", 422)

    def test_a_missing_token_is_unauthenticated_with_a_challenge(self, service: Service) -> None:
        problem = refused(service, "POST", self.status_url(service), 401, json={"status": "expired"}, headers={})

        assert problem["_headers"]["www-authenticate"].startswith("Bearer")

    def test_an_expired_token_is_unauthenticated(self, service: Service) -> None:
        expired = bearer(service.settings, issued_at=datetime.now(UTC) - timedelta(hours=9))

        problem = refused(service, "POST", self.status_url(service), 401, json={"status": "expired"},
                          headers=expired)

        assert problem["detail"] == "token expired"

    def test_a_token_signed_with_another_secret_is_unauthenticated(self, service: Service) -> None:
        forged = bearer(api_settings(jwt_secret="someone-else's-secret-of-at-least-32-bytes"))

        refused(service, "POST", self.status_url(service), 401, json={"status": "expired"}, headers=forged)

    def test_an_unknown_as_of_time_is_invalid_input(self, service: Service) -> None:
        refused(service, "GET", f"/protocols/{service.world.signed_protocol}", 422, params={"as_of": "dün"})

    def test_a_time_before_the_protocol_existed_is_not_found(self, service: Service) -> None:
        refused(service, "GET", f"/protocols/{service.world.signed_protocol}", 404, params={"as_of": "2000-01-01"})

    def test_an_unknown_filter_value_is_invalid_input(self, service: Service) -> None:
        refused(service, "GET", "/protocols", 422, params={"status": "askıda"})
        refused(service, "GET", "/organisations", 422, params={"type": "belediye"})
        refused(service, "GET", "/purchases", 422, params={"protocol": "kedv-cigli-2019"})


# --- no input gives a 500 -------------------------------------------------------------------------------------

WRITES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/organisations"): {"code": "bayrakli-belediyesi", "name": "Bayraklı Belediyesi",
                                 "type": "municipality_district", "parent_code": IBB, "aliases": ["Bayraklı"],
                                 "contact": {"phone": "0232", "email": "b@b.test"}},
    ("PATCH", "/organisations/{code}"): {"short_name": "Çiğli", "contact": {"address": "Çiğli"}},
    ("POST", "/organisations/{code}/liaisons"): {"person_id": "{person_id}", "start": "2024-01-01"},
    ("POST", "/organisations/{code}/liaisons/{person_id}/end"): {"end": "2024-12-31"},
    ("PUT", "/organisations/{code}/purchase-volumes"): {"period": "2025", "category": "catering",
                                                        "amount": "10.00"},
    ("POST", "/people"): {"organisation_code": CIGLI, "name": "Zeynep Kaya", "email": "z@cigli.test"},
    ("PATCH", "/people/{person_id}"): {"title": "Müdür"},
    ("POST", "/protocols"): {"code": "sweep", "title": "Tarama", "term_start": "2020",
                             "parties": [{"organisation_code": KEDV, "role": "foundation"},
                                         {"organisation_code": CIGLI, "role": "municipality"}],
                             "purchase_commitment": {"quota_percent": "5", "categories": ["catering"]}},
    ("POST", "/protocols/{protocol_id}/status"): {"status": "in_force", "valid_at": "2019-01-01",
                                                  "valid_precision": "year"},
    ("PATCH", "/protocols/{protocol_id}"): {"title": "Yeni başlık", "reason": "ek protokol",
                                           "purchase_commitment": {"quota_percent": 7}},
    ("POST", "/protocols/{protocol_id}/parties"): {"organisation_code": KONAK, "role": "municipality"},
    ("DELETE", "/protocols/{protocol_id}/parties/{organisation_code}"): {"reason": "ayrıldı"},
    ("POST", "/protocols/{protocol_id}/documents"): {"reference": "DMS-1", "sha256": "ab" * 32},
    ("POST", "/purchases"): {"municipality_code": CIGLI, "cooperative_code": COOP_A,
                             "protocol_id": "{signed_protocol}", "amount": "10.00", "category": "catering",
                             "purchased_on": "2024-01-02", "invoice_reference": "SWEEP"},
    ("POST", "/purchases/{purchase_id}/confirm"): {"reason": "tamam"},
    ("POST", "/purchases/{purchase_id}/dispute"): {"reason": "eksik"},
    ("POST", "/purchases/{purchase_id}/void"): {"reason": "hata"},
    ("PATCH", "/purchases/{purchase_id}"): {"amount": "11.00", "reason": "düzeltme"},
}
"""Every write route of the API, with a body it accepts."""

UNIQUE = {"/organisations": "code", "/protocols": "code", "/people": "name", "/purchases": "invoice_reference"}
"""The field that names a new entity, made unique so that a create is not refused as a duplicate first."""

HUGE_INTEGER = "1" + "0" * 5000
ODD_VALUES: list[Any] = [
    None, True, -1, 0.001, 10**30, 1.7e308, HUGE_INTEGER, "1e999999999", "-1e-999999999", "NaN", "   ",
    "ğüşİı Ç – 😀 \u0000 \u202e", "x" * 100_001, [], {"a": 1}, [{"organisation_code": 1}], "2019-02-30",
    "0001-01-01T00:00:00+23:59", "9999-12-31", "9999-12-31T23:59:59-23:59", "../../etc", str(uuid4()),
]
ODD_BODIES = [b"", b"[]", b"null", b"{}", b'"text"', b"{", b"\xff\xfe\x00", b"[" * 100_000, b'{"a":' * 10_000]


def _json(body: Any) -> bytes:
    """JSON text, with the huge integer written as a bare numeral (Python will not print it)."""
    return json.dumps(body, ensure_ascii=False).replace(f'"{HUGE_INTEGER}"', HUGE_INTEGER).encode()


def _bodies(route: str, base: dict[str, Any], fields: list[str]) -> Iterator[bytes]:
    """Odd bodies, then the accepted body with one field (or one field of a nested object) made odd."""
    yield from ODD_BODIES
    unique_field = UNIQUE.get(route)
    count = 0
    for name in fields:
        for value in ODD_VALUES:
            count += 1
            unique = dict(base)
            if unique_field and name != unique_field:
                unique[unique_field] = f"{base[unique_field]}-{count}"
            yield _json({**unique, name: value})
            if isinstance(base.get(name), dict):
                for inner in base[name]:
                    yield _json({**unique, name: {**base[name], inner: value}})
            if isinstance(base.get(name), list) and base[name] and isinstance(base[name][0], dict):
                for inner in base[name][0]:
                    yield _json({**unique, name: [{**base[name][0], inner: value}, *base[name][1:]]})
    for value in ODD_VALUES:
        yield _json(dict.fromkeys(base, value))


@pytest.fixture(scope="module")
def sweep_service(world_sqlite: tuple[Path, World], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    template, world = world_sqlite
    with running_service(copy_store(template, tmp_path_factory.mktemp("sweep")), world) as service:
        yield service


def _path_values(service: Service, route: str) -> dict[str, str]:
    world = service.world
    editable = "/parties" in route  # parties change only while the protocol is prepared
    return {"code": CIGLI, "person_id": str(world.cigli_liaison), "organisation_code": IBB,
            "protocol_id": str(world.draft_protocol if editable else world.signed_protocol),
            "purchase_id": str(world.purchase), "signed_protocol": str(world.signed_protocol)}


def _request_fields(service: Service, method: str, route: str) -> list[str]:
    openapi = service.api.openapi()
    schema = openapi["paths"][route][method.lower()]["requestBody"]["content"]["application/json"]["schema"]
    reference = schema["$ref"] if "$ref" in schema else next(s["$ref"] for s in schema["anyOf"] if "$ref" in s)
    return sorted(openapi["components"]["schemas"][reference.rsplit("/", 1)[1]]["properties"])


def test_the_sweep_covers_every_write_route(sweep_service: Service) -> None:
    routes = {(method.upper(), path) for path, operations in sweep_service.api.openapi()["paths"].items()
              for method in operations if method in {"post", "put", "patch", "delete"}}

    assert routes == set(WRITES)


@pytest.mark.parametrize(("method", "route"), list(WRITES), ids=[f"{m} {r}" for m, r in WRITES])
def test_no_body_gives_a_server_error(sweep_service: Service, method: str, route: str) -> None:
    path_values = _path_values(sweep_service, route)
    url = route.format(**path_values)
    base = json.loads(json.dumps(WRITES[(method, route)]).replace("{person_id}", path_values["person_id"])
                      .replace("{signed_protocol}", path_values["signed_protocol"]))
    member = "/confirm" in route or "/dispute" in route
    headers = {**(sweep_service.headers("member", COOP_A) if member else sweep_service.headers()),
               "Content-Type": "application/json"}

    answers: dict[int, int] = {}
    for body in _bodies(route, base, _request_fields(sweep_service, method, route)):
        response = sweep_service.client.request(method, url, content=body, headers=headers)
        assert response.status_code < 500, (body[:300], response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"] == PROBLEM, (body[:300], response.text)
        answers[response.status_code] = answers.get(response.status_code, 0) + 1

    assert answers.get(422, 0) > 0


@pytest.mark.parametrize("value", ["dün", "", "2021-02-30", "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59",
                                   HUGE_INTEGER, "2021-06-10T00:00:00+99:00", "1e999999999"])
@pytest.mark.parametrize("parameter", ["as_of", "valid_at"])
def test_no_time_query_gives_a_server_error(sweep_service: Service, parameter: str, value: str) -> None:
    world = sweep_service.world
    urls = ["/organisations", f"/organisations/{CIGLI}", f"/people/{world.cigli_liaison}", "/protocols",
            f"/protocols/{world.signed_protocol}", f"/protocols/{world.signed_protocol}/compliance", "/purchases",
            f"/purchases/{world.purchase}"]

    for url in urls:
        response = sweep_service.client.get(url, params={parameter: value, "period": "2024"},
                                            headers=sweep_service.headers("auditor"))
        assert response.status_code < 500, (url, response.text)


@pytest.mark.parametrize("value", ["", "x" * 5000, "2024-Q0", "../2024", "\u0000", "2024-06-31", HUGE_INTEGER])
def test_no_query_filter_gives_a_server_error(sweep_service: Service, value: str) -> None:
    world = sweep_service.world
    headers = sweep_service.headers("auditor")
    for url, params in [("/organisations", {"type": value}), ("/people", {"organisation": value}),
                        ("/protocols", {"party": value, "status": value}),
                        ("/purchases", {"municipality": value, "cooperative": value, "protocol": value}),
                        (f"/protocols/{world.signed_protocol}/compliance", {"period": value}),
                        (f"/organisations/{quote(value or '-', safe='')}", {})]:
        response = sweep_service.client.get(url, params=params, headers=headers)
        assert response.status_code < 500, (url, response.text)


def test_an_unknown_route_or_method_is_a_problem_too(sweep_service: Service) -> None:
    headers = sweep_service.headers()
    for response in (sweep_service.client.get("/nowhere", headers=headers),
                     sweep_service.client.delete(f"/purchases/{sweep_service.world.purchase}", headers=headers)):
        assert response.status_code in (404, 405)
        assert response.headers["content-type"] == PROBLEM
