"""The partners HTTP API on a SQLite event store: organisations, the protocol lifecycle, purchases and quota
compliance to the kuruş, and looking back in time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

import pytest
from partners_testing import (
    CIGLI,
    COOP_A,
    COOP_B,
    IBB,
    KEDV,
    KONAK,
    PROBLEM,
    SIGNED_PROTOCOL,
    Service,
    World,
    copy_store,
    make_world_sqlite,
    refused,
    running_service,
)

from izlek_partners.api.schemas import OrganisationTypeName, ProtocolStatusName
from izlek_partners.domain.organisation import OrganisationType
from izlek_partners.domain.protocol import TRANSITIONS, ProtocolStatus


@pytest.fixture(scope="module")
def world_sqlite(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World]:
    directory = tmp_path_factory.mktemp("partners-world")
    return directory, make_world_sqlite(directory)


@pytest.fixture
def service(world_sqlite: tuple[Path, World], tmp_path: Path) -> Iterator[Service]:
    template, world = world_sqlite
    with running_service(copy_store(template, tmp_path), world) as running:
        yield running


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()


# --- organisations and people ----------------------------------------------------------------------------------


def test_an_organisation_is_read_by_its_code_with_its_version_as_etag(service: Service) -> None:
    response = service.client.get(f"/organisations/{CIGLI}", headers=service.headers("auditor"))

    body = ok(response)
    assert response.headers["etag"] == f'"{body["version"]}"'
    assert (body["code"], body["type"], body["parent_code"]) == (CIGLI, "municipality_district", IBB)
    assert body["declared_volumes"] == [{"period": "2024", "category": "catering", "amount": "12345.67"},
                                        {"period": "2024", "category": "textile", "amount": "7654.33"}]
    assert [liaison["person_id"] for liaison in body["liaisons"]] == [str(service.world.cigli_liaison)]


def test_organisations_are_listed_by_type(service: Service) -> None:
    headers = service.headers("auditor")

    districts = ok(service.client.get("/organisations", params={"type": "municipality_district"}, headers=headers))
    everyone = ok(service.client.get("/organisations", headers=headers))

    assert sorted(o["code"] for o in districts) == [CIGLI, KONAK]
    assert {o["code"] for o in everyone} == {KEDV, IBB, CIGLI, KONAK, COOP_A, COOP_B}


def test_a_coordinator_registers_an_organisation_and_gets_its_location(service: Service) -> None:
    response = service.client.post("/organisations", headers=service.headers(), json={
        "code": "ss-gumuldur-gumoz-mandarin-kadin-girisimci-uretim-ve-isletme-kooperatifi",
        "name": "S.S. Gümüldür Gümoz Mandarin Kadın Girişimci Üretim ve İşletme Kooperatifi",
        "type": "cooperative", "aliases": ["Gümoz Kooperatifi"],
        "contact": {"phone": "0232 000 00 00"}})

    body = ok(response, 201)
    assert response.headers["location"] == f"/organisations/{body['code']}"
    assert body["aliases"] == ["Gümoz Kooperatifi"]
    assert body["contact"] == {"address": None, "phone": "0232 000 00 00", "email": None}
    again = service.client.get(response.headers["location"], headers=service.headers("auditor"))
    assert again.json()["id"] == body["id"]


def test_a_scheduled_registration_reads_as_recorded_and_did_not_exist_before_its_valid_time(
        service: Service) -> None:
    response = service.client.post("/organisations", headers=service.headers(), json={
        "code": "bayrakli-kent-konseyi", "name": "Bayraklı Kent Konseyi", "type": "city_council",
        "valid_at": "2030-01-01"})

    assert ok(response, 201)["code"] == "bayrakli-kent-konseyi"
    headers = service.headers("auditor")
    assert ok(service.client.get(response.headers["location"], headers=headers))["code"] == "bayrakli-kent-konseyi"
    before = service.client.get(response.headers["location"], params={"valid_at": "2029-12-31"}, headers=headers)
    assert before.status_code == 404
    later = service.client.get(response.headers["location"], params={"valid_at": "2030-01-02"}, headers=headers)
    assert ok(later)["name"] == "Bayraklı Kent Konseyi"


def test_a_change_and_a_correction_of_an_organisation_are_told_apart_in_its_history(service: Service) -> None:
    headers = {**service.headers(), "If-Match": '"1"'}
    changed = ok(service.client.patch(f"/organisations/{KONAK}", headers=headers, json={"short_name": "Konak Bld."}))
    corrected = ok(service.client.patch(f"/organisations/{KONAK}", headers=service.headers(), json={
        "kind": "correction", "short_name": "Konak", "reason": "kısaltma yanlış yazılmış",
        "expected_version": changed["version"]}))

    assert corrected["short_name"] == "Konak"
    events = ok(service.client.get(f"/history/{corrected['id']}", headers=service.headers("auditor")))["events"]
    assert [(e["event_type"], e["kind"]) for e in events[-2:]] == [("DetailsChanged", "change"),
                                                                  ("Corrected", "correction")]
    assert events[-1]["reason"] == "kısaltma yanlış yazılmış"


def test_a_liaison_is_designated_and_their_term_ended(service: Service) -> None:
    person = ok(service.client.post("/people", headers=service.headers(), json={
        "organisation_code": KONAK, "name": "Elif Şahin", "email": "elif.sahin@konak.test"}), 201)

    designated = service.client.post(f"/organisations/{KONAK}/liaisons", headers=service.headers(),
                                      json={"person_id": person["id"], "start": "2020-03-01"})
    ended = service.client.post(f"/organisations/{KONAK}/liaisons/{person['id']}/end", headers=service.headers(),
                                json={"end": "2023-12-31", "reason": "görev değişikliği"})

    assert ok(designated, 201)["liaisons"] == [{"person_id": person["id"], "start": "2020-03-01", "end": None}]
    assert ok(ended)["liaisons"] == [{"person_id": person["id"], "start": "2020-03-01", "end": "2023-12-31"}]


def test_people_are_listed_by_organisation_and_changed(service: Service) -> None:
    people = ok(service.client.get("/people", params={"organisation": CIGLI}, headers=service.headers("auditor")))
    assert [p["name"] for p in people] == ["Ayşe Yılmaz"]

    changed = service.client.patch(f"/people/{people[0]['id']}", headers=service.headers(),
                                   json={"title": "Kadın ve Aile Hizmetleri Müdürü"})

    assert ok(changed)["title"] == "Kadın ve Aile Hizmetleri Müdürü"
    assert changed.headers["etag"] == '"2"'


# --- the protocol lifecycle ------------------------------------------------------------------------------------

WALK: list[tuple[str, str | None]] = [
    ("proposed", None), ("council_approved", None), ("signed", None), ("in_force", None),
    ("suspended", "belediye meclisi kararıyla askıya alındı"), ("in_force", None), ("expired", None),
    ("renewed", None), ("terminated", "taraflarca feshedildi"),
]
"""draft → proposed → council_approved → signed → in_force → suspended → in_force → expired → renewed →
terminated: every status of the lifecycle but council_rejected, which has a test of its own."""


def _draft(service: Service, code: str = "kedv-konak-2020", **fields: Any) -> dict[str, Any]:
    return ok(service.client.post("/protocols", headers=service.headers(), json={
        "code": code, "title": "KEDV ile Konak Belediyesi arasında iş birliği protokolü",
        "parties": [{"organisation_code": KEDV, "role": "foundation"},
                    {"organisation_code": KONAK, "role": "municipality"}], **fields}), 201)


def _refuse_every_forbidden_move(service: Service, protocol: dict[str, Any]) -> None:
    current = ProtocolStatus(protocol["status"])
    allowed = [s.value for s in TRANSITIONS[current]]
    assert protocol["allowed_transitions"] == allowed
    for status in ProtocolStatus:
        if status is current or status.value in allowed:
            continue
        problem = refused(service, "POST", f"/protocols/{protocol['id']}/status", 409,
                          json={"status": status.value, "reason": "deneme", "evidence_reference": "yok"})
        assert problem["type"].endswith("/transition-not-allowed")
        assert (problem["current"], problem["requested"], problem["allowed"]) == (current.value, status.value,
                                                                                  allowed)


def test_the_whole_lifecycle_is_walked_and_every_forbidden_move_is_refused_on_the_way(service: Service) -> None:
    protocol = _draft(service)
    headers = service.headers("liaison", KONAK)  # a party's liaison walks it

    for status, reason in WALK:
        _refuse_every_forbidden_move(service, protocol)
        response = service.client.post(f"/protocols/{protocol['id']}/status", headers=headers, json={
            "status": status, "reason": reason, "evidence_reference": f"belge/{status}",
            "expected_version": protocol["version"]})
        protocol = ok(response)
        assert (protocol["status"], response.headers["etag"]) == (status, f'"{protocol["version"]}"')
    _refuse_every_forbidden_move(service, protocol)

    assert protocol["allowed_transitions"] == []
    events = ok(service.client.get(f"/history/{protocol['id']}", headers=service.headers("auditor")))["events"]
    moves = [e for e in events if e["event_type"] == "StatusChanged"]
    assert [e["changes"]["status"]["to"] for e in moves] == [status for status, _ in WALK]
    assert [e["data"]["evidence_reference"] for e in moves] == [f"belge/{status}" for status, _ in WALK]
    assert moves[4]["reason"] == "belediye meclisi kararıyla askıya alındı"
    assert {(e["author"]["role"], e["author"]["organisation_id"]) for e in moves} == {("liaison", KONAK)}


def test_a_council_rejection_needs_a_reason_and_the_protocol_may_be_proposed_again(service: Service) -> None:
    protocol = _draft(service)
    url = f"/protocols/{protocol['id']}/status"
    ok(service.client.post(url, headers=service.headers(), json={"status": "proposed"}))

    problem = refused(service, "POST", url, 422, json={"status": "council_rejected"})
    rejected = ok(service.client.post(url, headers=service.headers(), json={
        "status": "council_rejected", "reason": "meclis gündeminden düştü"}))

    assert "reason" in problem["detail"]
    _refuse_every_forbidden_move(service, rejected)
    assert ok(service.client.post(url, headers=service.headers(), json={"status": "proposed"}))["status"] == "proposed"


def test_asking_for_the_status_a_protocol_has_changes_nothing(service: Service) -> None:
    before = service.stored()

    response = service.client.post(f"/protocols/{service.world.signed_protocol}/status", headers=service.headers(),
                                   json={"status": "signed"})

    assert (ok(response)["version"], service.stored()) == (2, before)


def test_a_protocol_signed_in_2019_is_recorded_with_year_precision(service: Service) -> None:
    protocol = _draft(service, valid_at="2018-11-01", term_start="2019")

    signed = service.client.post(f"/protocols/{protocol['id']}/status", headers=service.headers(), json={
        "status": "signed", "valid_at": "2019-01-01", "valid_precision": "year",
        "evidence_reference": "KEDV raporu 2021, satır 79", "reason": "2019'da imzalandı; günü bilinmiyor"})

    assert ok(signed)["status"] == "signed"
    last = ok(service.client.get(f"/history/{protocol['id']}", headers=service.headers("auditor")))["events"][-1]
    assert (last["valid_at"], last["valid_precision"], last["backfilled"]) == (
        "2019-01-01T00:00:00+00:00", "year", True)
    headers = service.headers("auditor")
    then = ok(service.client.get(f"/protocols/{protocol['id']}", params={"valid_at": "2018-12-31"}, headers=headers))
    later = ok(service.client.get(f"/protocols/{protocol['id']}", params={"valid_at": "2019-06-01"}, headers=headers))
    assert (then["status"], later["status"], later["term_start"]) == ("draft", "signed", "2019")


def test_a_draft_is_revised_and_a_signed_protocol_amended_with_numbers(service: Service) -> None:
    protocol = _draft(service)
    url = f"/protocols/{protocol['id']}"
    revised = ok(service.client.patch(url, headers=service.headers(), json={"term_start": "2020", "term_end": "2023"}))
    ok(service.client.post(f"{url}/status", headers=service.headers(), json={"status": "signed"}))

    refused(service, "PATCH", url, 422, json={"scope": "Tekstil"})  # an amendment needs a reason
    first = ok(service.client.patch(url, headers=service.headers(), json={
        "scope": "Tekstil", "reason": "ek protokol 1",
        "purchase_commitment": {"quota_percent": "2.5", "categories": ["textile"]}}))
    second = ok(service.client.patch(url, headers=service.headers(), json={
        "kind": "change", "term_end": "2025-06", "reason": "süre uzatımı"}))

    assert (revised["amendment"], revised["term_end"]) == (0, "2023")
    assert (first["amendment"], first["purchase_commitment"]) == (
        1, {"quota_percent": "2.5", "categories": ["textile"], "note": None})
    assert (second["amendment"], second["term_end"]) == (2, "2025-06")
    events = ok(service.client.get(f"/history/{protocol['id']}", headers=service.headers()))["events"]
    assert [e["event_type"] for e in events] == ["Drafted", "Revised", "StatusChanged", "Amended", "Amended"]


def test_a_correction_fixes_the_status_outside_the_lifecycle(service: Service) -> None:
    url = f"/protocols/{service.world.signed_protocol}"

    corrected = ok(service.client.patch(url, headers=service.headers(), json={
        "kind": "correction", "status": "in_force", "reason": "yürürlüğe girişi kaydedilmemişti"}))

    assert corrected["status"] == "in_force"
    last = ok(service.client.get(f"/history/{corrected['id']}", headers=service.headers()))["events"][-1]
    assert (last["event_type"], last["kind"]) == ("Corrected", "correction")


def test_parties_change_while_the_protocol_is_prepared_and_documents_are_attached(service: Service) -> None:
    draft = service.world.draft_protocol
    added = ok(service.client.post(f"/protocols/{draft}/parties", headers=service.headers("liaison", CIGLI),
                                   json={"organisation_code": KONAK, "role": "municipality"}), 201)
    removed = ok(service.client.request("DELETE", f"/protocols/{draft}/parties/{IBB}",
                                        headers={**service.headers(), "If-Match": f'"{added["version"]}"'},
                                        json={"reason": "İBB ayrı protokol imzalayacak"}))
    document = ok(service.client.post(f"/protocols/{service.world.signed_protocol}/documents",
                                      headers=service.headers(), json={
                                          "reference": "DMS-2019-114", "sha256": "AB" * 32,
                                          "title": "İmzalı protokol"}), 201)

    assert [p["organisation_code"] for p in added["parties"]] == [KEDV, CIGLI, IBB, KONAK]
    assert [p["organisation_code"] for p in removed["parties"]] == [KEDV, CIGLI, KONAK]
    assert document["documents"] == [{"reference": "DMS-2019-114", "sha256": "ab" * 32, "title": "İmzalı protokol"}]
    refused(service, "POST", f"/protocols/{service.world.signed_protocol}/parties", 422,
            json={"organisation_code": KONAK, "role": "municipality"})


def test_protocols_are_listed_by_party_and_status(service: Service) -> None:
    headers = service.headers("auditor")

    of_cigli = ok(service.client.get("/protocols", params={"party": CIGLI}, headers=headers))
    signed = ok(service.client.get("/protocols", params={"status": "signed"}, headers=headers))
    of_konak = ok(service.client.get("/protocols", params={"party": KONAK}, headers=headers))

    assert sorted(p["code"] for p in of_cigli) == ["kedv-cigli-2019", "kedv-cigli-ibb-taslak"]
    assert [(p["code"], p["allowed_transitions"]) for p in signed] == [(SIGNED_PROTOCOL, ["in_force", "terminated"])]
    assert of_konak == []


def test_as_of_returns_what_was_known_then(service: Service) -> None:
    url = f"/protocols/{service.world.signed_protocol}"
    ok(service.client.post(f"{url}/status", headers=service.headers(), json={"status": "in_force"}))
    recorded = ok(service.client.get(f"/history/{service.world.signed_protocol}", headers=service.headers()))
    just_before = datetime.fromisoformat(recorded["events"][-1]["recorded_at"]) - timedelta(microseconds=1)

    earlier = service.client.get(url, params={"as_of": just_before.isoformat()}, headers=service.headers("auditor"))

    assert (ok(earlier)["status"], earlier.headers["etag"]) == ("signed", '"2"')
    assert earlier.json()["allowed_transitions"] == ["in_force", "terminated"]


# --- purchases and quota compliance ----------------------------------------------------------------------------


def _record(service: Service, invoice: str, amount: Any, cooperative: str = COOP_A, category: str = "catering",
            purchased_on: str = "2024-05-10") -> dict[str, Any]:
    response = service.client.post("/purchases", headers=service.headers("liaison", CIGLI), json={
        "municipality_code": CIGLI, "cooperative_code": cooperative, "protocol_id": str(service.world.signed_protocol),
        "amount": amount, "category": category, "purchased_on": purchased_on, "invoice_reference": invoice})
    body = ok(response, 201)
    assert response.headers["location"] == f"/purchases/{body['id']}"
    return body


def _as_member(service: Service, purchase: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
    member = service.headers("member", purchase["cooperative_code"])
    return ok(service.client.post(f"/purchases/{purchase['id']}/{action}", headers=member, json=body))


def _compliance(service: Service, period: str = "2024") -> dict[str, Any]:
    answer = ok(service.client.get(f"/protocols/{service.world.signed_protocol}/compliance",
                                   params={"period": period}, headers=service.headers("auditor")))
    assert len(answer) == 1  # KEDV is a party but not a municipality
    return answer[0]


def test_quota_compliance_is_exact_to_the_kurus_and_counts_only_confirmed_purchases(service: Service) -> None:
    # Declared: 12,345.67 (catering) + 7,654.33 (textile) = 20,000.00; the quota is 10 % (seeded).
    seeded = ok(service.client.get(f"/purchases/{service.world.purchase}", headers=service.headers()))  # 1,000.00
    small = [_record(service, "CGL-2024-0101", "333.33"),
             _record(service, "CGL-2024-0102", 666.67, cooperative=COOP_B, category="textile"),  # a JSON number
             _record(service, "CGL-2024-0103", "0.01")]
    outside = [_record(service, "CGL-2024-0104", "500.00", category="cleaning"),  # not a protocol category
               _record(service, "CGL-2023-0105", "700.00", purchased_on="2023-12-31")]  # another period
    for purchase in [*small, *outside]:
        assert _as_member(service, purchase, "confirm")["counts_towards_quota"] is True
    disputed = _as_member(service, seeded, "dispute", reason="teslim edilmedi")

    compliance = _compliance(service)

    assert (disputed["status"], disputed["dispute_reason"]) == ("disputed", "teslim edilmedi")
    assert [p["amount"] for p in small] == ["333.33", "666.67", "0.01"]
    assert compliance == {
        "protocol_code": SIGNED_PROTOCOL, "municipality_code": CIGLI, "period": "2024",
        "categories": ["catering", "textile"], "quota_percent": "10",
        "confirmed_total": "1000.01", "awaiting_confirmation_total": "0", "disputed_total": "1000",
        "declared_volume": "20000", "undeclared_categories": [],
        "share_percent": "5.00005", "met": False,
    }
    assert Decimal(compliance["share_percent"]) == Decimal("1000.01") * 100 / Decimal("20000.00")

    # The cooperative confirms the disputed purchase after all: now it counts, and the quota is met.
    _as_member(service, disputed, "confirm", reason="teslimat tamamlandı")
    after = _compliance(service)

    assert (after["confirmed_total"], after["disputed_total"], after["share_percent"], after["met"]) == (
        "2000.01", "0", "10.00005", True)


def test_a_recorded_purchase_waits_for_the_cooperative_before_it_counts(service: Service) -> None:
    compliance = _compliance(service)

    assert (compliance["confirmed_total"], compliance["awaiting_confirmation_total"]) == ("0", "1000")
    assert (compliance["share_percent"], compliance["met"]) == ("0", False)
    assert _compliance(service, "2023")["awaiting_confirmation_total"] == "0"


def test_a_corrected_purchase_goes_back_to_recorded_and_stops_counting(service: Service) -> None:
    purchase = _as_member(service, ok(service.client.get(f"/purchases/{service.world.purchase}",
                                                         headers=service.headers())), "confirm")
    assert _compliance(service)["confirmed_total"] == "1000"

    corrected = service.client.patch(f"/purchases/{purchase['id']}", headers=service.headers("liaison", CIGLI),
                                     json={"amount": "1000.50", "category": "textile",
                                           "reason": "fatura 1.000,50 TL, tekstil"})

    body = ok(corrected)
    assert (body["status"], body["amount"], body["category"], body["counts_towards_quota"]) == (
        "recorded", "1000.5", "textile", False)
    assert (_compliance(service)["confirmed_total"], _compliance(service)["awaiting_confirmation_total"]) == (
        "0", "1000.5")
    last = ok(service.client.get(f"/history/{purchase['id']}", headers=service.headers()))["events"][-1]
    assert (last["event_type"], last["kind"], last["changes"]["status"]) == (
        "Corrected", "correction", {"from": "confirmed", "to": "recorded"})
    assert _as_member(service, body, "confirm")["status"] == "confirmed"


def test_a_voided_purchase_cannot_be_confirmed(service: Service) -> None:
    voided = ok(service.client.post(f"/purchases/{service.world.purchase}/void",
                                    headers=service.headers("liaison", CIGLI), json={"reason": "mükerrer"}))

    problem = refused(service, "POST", f"/purchases/{voided['id']}/confirm", 409,
                      headers=service.headers("member", COOP_A))

    assert (problem["current"], problem["requested"], problem["allowed"]) == ("voided", "confirm", [])


def test_purchases_are_listed_by_municipality_cooperative_and_protocol(service: Service) -> None:
    _record(service, "CGL-2024-0201", "45.90", cooperative=COOP_B)
    headers = service.headers("auditor")

    def codes(**params: str) -> list[str]:
        return sorted(p["invoice_reference"] for p in ok(service.client.get("/purchases", params=params,
                                                                             headers=headers)))

    assert codes() == ["CGL-2024-0001", "CGL-2024-0201"]
    assert codes(cooperative=COOP_B) == ["CGL-2024-0201"]
    assert codes(municipality=CIGLI, protocol=str(service.world.signed_protocol)) == ["CGL-2024-0001",
                                                                                    "CGL-2024-0201"]
    assert codes(municipality=KONAK) == []


def test_a_liaison_declares_their_municipality_s_volume_and_a_correction_needs_a_reason(service: Service) -> None:
    url = f"/organisations/{CIGLI}/purchase-volumes"
    liaison = service.headers("liaison", CIGLI)

    declared = ok(service.client.put(url, headers=liaison, json={"period": "2025", "category": "catering",
                                                                 "amount": 15000}))
    refused(service, "PUT", url, 422, headers=liaison, json={"period": "2025", "category": "catering",
                                                             "amount": "15500.00", "kind": "correction"})
    corrected = ok(service.client.put(url, headers=liaison, json={
        "period": "2025", "category": "catering", "amount": "15500.00", "kind": "correction",
        "reason": "bütçe kesinleşti"}))

    assert {"period": "2025", "category": "catering", "amount": "15000"} in declared["declared_volumes"]
    assert {"period": "2025", "category": "catering", "amount": "15500"} in corrected["declared_volumes"]


def test_the_api_offers_exactly_the_domain_s_organisation_types_and_protocol_statuses() -> None:
    assert list(get_args(OrganisationTypeName)) == [t.value for t in OrganisationType]
    assert list(get_args(ProtocolStatusName)) == [s.value for s in ProtocolStatus]


def test_problems_name_their_media_type(service: Service) -> None:
    response = service.client.get("/organisations/yok-boyle-bir-belediye", headers=service.headers())

    assert (response.status_code, response.headers["content-type"]) == (404, PROBLEM)
