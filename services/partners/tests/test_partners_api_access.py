"""Who may write what, over HTTP: every role × every write endpoint, each on a fresh copy of the seeded world.

A refused request answers 401 or 403 with problem+json and stores nothing; an accepted one stores events that
name their author (design, section 5; issue 3, "Access").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    copy_store,
    make_world_sqlite,
    running_service,
)

ROLES: dict[str, tuple[str, str | None] | None] = {
    "anonymous": None,
    "auditor": ("auditor", None),
    "partner_app": ("partner_app", None),
    "coordinator": ("coordinator", None),
    "admin": ("admin", None),
    "liaison-cigli": ("liaison", CIGLI),
    "liaison-konak": ("liaison", KONAK),
    "member-coop-a": ("member", COOP_A),
    "member-coop-b": ("member", COOP_B),
}
"""Who calls: no token, then each role (liaisons and members bound to their organisation)."""

EDITORS = frozenset({"coordinator", "admin"})


@dataclass(frozen=True)
class Case:
    """One write: its route (as in the OpenAPI schema), the values of its path, its body, the roles that may
    make it and the success status they get. Everyone else gets 403, or 401 without a token."""

    method: str
    route: str
    body: dict[str, Any] | None
    allowed: frozenset[str]
    success: int = 200
    path: dict[str, str] = field(default_factory=dict)


def _case(method: str, route: str, body: dict[str, Any] | None, allowed: set[str] | frozenset[str],
          success: int = 200, **path: str) -> Case:
    return Case(method, route, body, frozenset(allowed), success, path)


# Path values written as {world.<attribute>} are filled from the seeded world.
CASES: dict[str, Case] = {
    # organisations: coordinators and admins manage them
    "register an organisation": _case(
        "POST", "/organisations", {"code": "bayrakli-belediyesi", "name": "Bayraklı Belediyesi",
                                   "type": "municipality_district", "parent_code": IBB}, EDITORS, 201),
    "change Konak's details": _case(
        "PATCH", "/organisations/{code}", {"short_name": "Konak"}, EDITORS, code=KONAK),
    "correct Çiğli's name": _case(
        "PATCH", "/organisations/{code}", {"kind": "correction", "name": "T.C. Çiğli Belediyesi",
                                          "reason": "resmî adı"}, EDITORS, code=CIGLI),
    "designate a liaison of Konak": _case(
        "POST", "/organisations/{code}/liaisons", {"person_id": "{world.konak_person}", "start": "2024-01-01"},
        EDITORS, 201, code=KONAK),
    "end the term of Çiğli's liaison": _case(
        "POST", "/organisations/{code}/liaisons/{person_id}/end", {"end": "2024-12-31"}, EDITORS,
        code=CIGLI, person_id="{world.cigli_liaison}"),
    # purchase volumes: editors and the municipality's own liaison
    "declare Çiğli's purchase volume": _case(
        "PUT", "/organisations/{code}/purchase-volumes", {"period": "2025", "category": "catering",
                                                         "amount": "15000.00"},
        EDITORS | {"liaison-cigli"}, code=CIGLI),
    "declare Konak's purchase volume": _case(
        "PUT", "/organisations/{code}/purchase-volumes", {"period": "2025", "category": "catering",
                                                         "amount": 9000},
        EDITORS | {"liaison-konak"}, code=KONAK),
    # people
    "register a person": _case(
        "POST", "/people", {"organisation_code": CIGLI, "name": "Zeynep Kaya"}, EDITORS, 201),
    "change a person's details": _case(
        "PATCH", "/people/{person_id}", {"phone": "0232 999 00 00"}, EDITORS, person_id="{world.cigli_liaison}"),
    # protocols: editors, and liaisons of a municipality party to the protocol
    "draft a protocol with Çiğli": _case(
        "POST", "/protocols", {"code": "kedv-cigli-2025", "title": "Yeni protokol",
                               "parties": [{"organisation_code": KEDV, "role": "foundation"},
                                           {"organisation_code": CIGLI, "role": "municipality"}]},
        EDITORS | {"liaison-cigli"}, 201),
    "draft a protocol with Konak": _case(
        "POST", "/protocols", {"code": "kedv-konak-2020", "title": "Konak protokolü",
                               "parties": [{"organisation_code": KEDV, "role": "foundation"},
                                           {"organisation_code": KONAK, "role": "municipality"}]},
        EDITORS | {"liaison-konak"}, 201),
    "put Çiğli's protocol in force": _case(
        "POST", "/protocols/{protocol_id}/status", {"status": "in_force", "evidence_reference": "karar 2019/12"},
        EDITORS | {"liaison-cigli"}, protocol_id="{world.signed_protocol}"),
    "amend Çiğli's protocol": _case(
        "PATCH", "/protocols/{protocol_id}", {"scope": "Kent lokantaları ve tekstil alımları",
                                             "reason": "ek protokol 1"},
        EDITORS | {"liaison-cigli"}, protocol_id="{world.signed_protocol}"),
    "correct Çiğli's protocol": _case(
        "PATCH", "/protocols/{protocol_id}", {"kind": "correction", "term_start": "2019-09",
                                             "reason": "imza ayı belgede eylül"},
        EDITORS, protocol_id="{world.signed_protocol}"),
    "add Konak to the draft with Çiğli": _case(
        "POST", "/protocols/{protocol_id}/parties", {"organisation_code": KONAK, "role": "municipality"},
        EDITORS | {"liaison-cigli"}, 201, protocol_id="{world.draft_protocol}"),
    "remove İBB from the draft with Çiğli": _case(
        "DELETE", "/protocols/{protocol_id}/parties/{organisation_code}", None,
        EDITORS | {"liaison-cigli"}, protocol_id="{world.draft_protocol}", organisation_code=IBB),
    "attach the signed file to Çiğli's protocol": _case(
        "POST", "/protocols/{protocol_id}/documents", {"reference": "DMS-2019-114", "sha256": "ab" * 32},
        EDITORS | {"liaison-cigli"}, 201, protocol_id="{world.signed_protocol}"),
    # purchases: recorded, voided and corrected by the municipality; confirmed and disputed by the cooperative
    "record a purchase of Çiğli": _case(
        "POST", "/purchases", {"municipality_code": CIGLI, "cooperative_code": COOP_A,
                               "protocol_id": "{world.signed_protocol}", "amount": "250.50",
                               "category": "catering", "purchased_on": "2024-04-01",
                               "invoice_reference": "CGL-2024-0002"},
        EDITORS | {"liaison-cigli"}, 201),
    "confirm a purchase from cooperative A": _case(
        "POST", "/purchases/{purchase_id}/confirm", {}, {"member-coop-a"}, purchase_id="{world.purchase}"),
    "dispute a purchase from cooperative A": _case(
        "POST", "/purchases/{purchase_id}/dispute", {"reason": "tutar faturayla uyuşmuyor"}, {"member-coop-a"},
        purchase_id="{world.purchase}"),
    "void a purchase of Çiğli": _case(
        "POST", "/purchases/{purchase_id}/void", {"reason": "mükerrer kayıt"}, EDITORS | {"liaison-cigli"},
        purchase_id="{world.purchase}"),
    "correct a purchase of Çiğli": _case(
        "PATCH", "/purchases/{purchase_id}", {"amount": "1100.00", "reason": "fatura 1.100,00 TL"},
        EDITORS | {"liaison-cigli"}, purchase_id="{world.purchase}"),
}


def _fill(value: Any, world: World) -> Any:
    if isinstance(value, str) and value.startswith("{world."):
        return str(getattr(world, value[len("{world."):-1]))
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


def expected_status(case: Case, role: str) -> int:
    if ROLES[role] is None:
        return 401
    return case.success if role in case.allowed else 403


@pytest.fixture(scope="module")
def world_sqlite(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World]:
    """The seeded world in a SQLite event store, made once and copied by each test."""
    directory = tmp_path_factory.mktemp("partners-world")
    return directory, make_world_sqlite(directory)


@pytest.fixture
def service(world_sqlite: tuple[Path, World], tmp_path: Path) -> Iterator[Service]:
    template, world = world_sqlite
    with running_service(copy_store(template, tmp_path), world) as running:
        yield running


MATRIX = [(name, role) for name in CASES for role in ROLES]


@pytest.mark.parametrize(("name", "role"), MATRIX, ids=[f"{role}: {name}" for name, role in MATRIX])
def test_each_role_may_make_exactly_the_writes_the_rules_give_it(service: Service, name: str, role: str) -> None:
    case = CASES[name]
    url = case.route.format(**_fill(case.path, service.world))
    principal = ROLES[role]
    headers = {} if principal is None else service.headers(*principal)
    before = service.stored()

    request: dict[str, Any] = {} if case.body is None else {"json": _fill(case.body, service.world)}
    response = service.client.request(case.method, url, headers=headers, **request)

    expected = expected_status(case, role)
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["status"] == expected
        assert service.stored() == before, "a refused request stored something"
        if expected == 401:
            assert response.headers["www-authenticate"].startswith("Bearer")
    else:
        assert service.stored() > before
        author = service.last_event().stamp.author
        assert (author.subject, author.role, author.organisation_id) == (
            f"{principal[0]}@izlek.test", principal[0], principal[1])
        assert response.headers["etag"] == f'"{response.json()["version"]}"'


def test_the_matrix_covers_every_write_route_of_the_api(service: Service) -> None:
    routes = {(method.upper(), path) for path, operations in service.api.openapi()["paths"].items()
              for method in operations if method in {"post", "put", "patch", "delete"}}

    assert routes == {(case.method, case.route) for case in CASES.values()}


def test_every_write_is_refused_to_someone_and_allowed_to_someone() -> None:
    for name, case in CASES.items():
        statuses = {expected_status(case, role) for role in ROLES}
        assert {401, 403} <= statuses and statuses & {200, 201}, name


# --- the cases the issue names, spelled out ------------------------------------------------------------------


def test_a_liaison_of_konak_cannot_change_cigli_s_protocol_and_nothing_is_stored(service: Service) -> None:
    protocol = service.world.signed_protocol
    konak = service.headers("liaison", KONAK)
    before = service.stored()

    answers = [
        service.client.post(f"/protocols/{protocol}/status", headers=konak, json={"status": "terminated",
                                                                                  "reason": "feshedildi"}),
        service.client.patch(f"/protocols/{protocol}", headers=konak, json={"title": "Başka", "reason": "neden"}),
        service.client.post(f"/protocols/{protocol}/documents", headers=konak,
                            json={"reference": "sahte", "sha256": "cd" * 32}),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403]
    assert all(KONAK in a.json()["detail"] for a in answers)
    assert service.stored() == before
    read = service.client.get(f"/protocols/{protocol}", headers=service.headers("auditor")).json()
    assert (read["status"], read["title"], read["documents"]) == (
        "signed", "KEDV ile Çiğli Belediyesi arasında iş birliği protokolü", [])


def test_a_member_cannot_confirm_a_purchase_of_another_cooperative(service: Service) -> None:
    before = service.stored()

    response = service.client.post(f"/purchases/{service.world.purchase}/confirm",
                                   headers=service.headers("member", COOP_B))

    assert response.status_code == 403
    assert COOP_B in response.json()["detail"]
    assert service.stored() == before


def test_a_coordinator_cannot_confirm_a_purchase_only_the_cooperative_does(service: Service) -> None:
    for role in ("coordinator", "admin"):
        response = service.client.post(f"/purchases/{service.world.purchase}/confirm", headers=service.headers(role))
        assert response.status_code == 403
    confirmed = service.client.post(f"/purchases/{service.world.purchase}/confirm",
                                    headers=service.headers("member", COOP_A))
    assert (confirmed.status_code, confirmed.json()["status"]) == (200, "confirmed")


def test_a_liaison_of_konak_cannot_record_a_purchase_for_cigli(service: Service) -> None:
    before = service.stored()

    response = service.client.post("/purchases", headers=service.headers("liaison", KONAK), json={
        "municipality_code": CIGLI, "cooperative_code": COOP_A, "protocol_id": str(service.world.signed_protocol),
        "amount": "10.00", "category": "catering", "purchased_on": "2024-05-01", "invoice_reference": "X-1"})

    assert response.status_code == 403
    assert service.stored() == before


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
def test_every_role_reads_everything(service: Service, role: str) -> None:
    principal = ROLES[role]
    assert principal is not None
    headers = service.headers(*principal)
    world = service.world
    urls = ["/organisations", f"/organisations/{CIGLI}", "/people", f"/people/{world.cigli_liaison}",
            "/protocols", f"/protocols/{world.signed_protocol}", f"/protocols/{world.signed_protocol}/compliance",
            "/purchases", f"/purchases/{world.purchase}", f"/history/{world.purchase}"]

    for url in urls:
        params = {"period": "2024"} if url.endswith("/compliance") else {}
        assert service.client.get(url, headers=headers, params=params).status_code == 200, url


def test_reading_needs_a_token(service: Service) -> None:
    for url in ("/organisations", f"/protocols/{service.world.signed_protocol}", "/purchases"):
        response = service.client.get(url)
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
