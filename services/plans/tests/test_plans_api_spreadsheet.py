"""``POST /plans/{id}/spreadsheet``: the tracking table uploaded as XLSX or CSV, with a dry run, refused whole with
every row error (422), by coordinators and admins only."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl import Workbook
from plans_testing import Service, running_service

from izlek_plans.domain.commitment import Commitment

PROBLEM = "application/problem+json"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def service() -> Iterator[Service]:
    """The API with the İzmir plan, on a store in memory."""
    with running_service("memory://") as running:
        yield running


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest) -> Iterator[Service]:
    """The API with the İzmir plan, on a store in memory and on PostgreSQL."""
    url = "memory://" if request.param == "memory" else request.getfixturevalue("postgres_database").url
    with running_service(url) as running:
        yield running


def tracking_xlsx(*rows: list[Any]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["Hedef", "Faaliyet Kodu", "Faaliyet", "Bitiş Tarihi", "Durum", "Gösterge", "Birim",
                  "Başlangıç Değeri", "Hedef 2021"])
    for row in rows:
        sheet.append(row)
    sheet["H3"].number_format = "#.##0,00"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


TABLE = tracking_xlsx(["T1.1", "T1.1-A03", None, "31.12.2021", "Devam Ediyor"],
                      [None, None, None, None, None, "Ortak satış noktası", "Adet", 1156.5, "1.500"])


def upload(service: Service, data: bytes, *, name: str = "takip.xlsx", role: str = "coordinator",
           organisation_id: str | None = None, params: dict[str, Any] | None = None,
           form: dict[str, str] | None = None) -> Any:
    return service.client.post(f"/plans/{service.plan_id}/spreadsheet", params=params or {}, data=form or {},
                               files={"file": (name, data, XLSX if name.endswith("xlsx") else "text/csv")},
                               headers=service.headers(role, organisation_id))


def test_a_dry_run_answers_what_would_change_and_writes_nothing(any_store: Service) -> None:
    before = any_store.stored()

    response = upload(any_store, TABLE, params={"dry_run": "true"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dry_run"] is True
    assert body["summary"]["changed"] == 1 and body["summary"]["created"] == 1
    activity = body["rows"][0]["entities"][0]
    assert (body["rows"][0]["row"], activity["code"], activity["outcome"]) == (2, "T1.1-A03", "changed")
    assert {"field": "status", "column": "Durum", "before": "planned", "after": "in_progress"} in activity["changes"]
    assert any_store.stored() == before


def test_an_import_changes_the_plan_through_its_commands_with_the_caller_as_author(any_store: Service) -> None:
    response = upload(any_store, TABLE, form={"reason": "haziran toplantısı", "valid_at": "2021-06-30"})

    assert response.status_code == 200, response.text
    assert response.json()["dry_run"] is False
    commitment_id = Commitment.create_id(any_store.plan_id, "T1.1-A03")
    history = any_store.client.get(f"/history/{commitment_id}", headers=any_store.headers()).json()["events"]
    status = history[-1]
    assert (status["event_type"], status["data"]["status"]) == ("StatusChanged", "in_progress")
    assert status["author"]["subject"] == "coordinator@izlek.test"
    assert status["valid_at"].startswith("2021-06-30")
    assert status["reason"].startswith("haziran toplantısı (takip.xlsx (sha256 ")
    [indicator] = any_store.client.get(f"/plans/{any_store.plan_id}/indicators", headers=any_store.headers()).json()
    assert (indicator["baseline"], indicator["targets"]) == ("1156.5", {"2021": "1500"})
    again = upload(any_store, TABLE)
    assert again.json()["summary"]["unchanged"] == 2


def test_a_file_with_row_errors_answers_422_listing_each_row_and_column(any_store: Service) -> None:
    before = any_store.stored()
    data = tracking_xlsx(["T1.1", "T1.1-A03", None, "31.02.2021", "Devam Ediyor"],
                         ["T1.1", "T1.1-A04", None, None, "Gecikmiş"])

    response = upload(any_store, data)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["file"] == "takip.xlsx"
    assert [(e["row"], e["column"], e["header"]) for e in problem["errors"]] == [
        (2, "D", "Bitiş Tarihi"), (3, "E", "Durum")]
    assert "2 rows of takip.xlsx have errors; nothing was imported" in problem["detail"]
    assert any_store.stored() == before


@pytest.mark.parametrize(("role", "organisation_id"), [
    ("member", "izmir-kadin-kooperatifleri-koordinasyonu-yurutme-komitesi"), ("liaison", "cigli-belediyesi"),
    ("partner_app", None), ("auditor", None),
])
def test_only_coordinators_and_admins_may_import(service: Service, role: str, organisation_id: str | None) -> None:
    before = service.stored()

    response = upload(service, TABLE, role=role, organisation_id=organisation_id)

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert "may not import a spreadsheet" in response.json()["detail"]
    assert service.stored() == before


def test_an_admin_may_import(service: Service) -> None:
    assert upload(service, TABLE, role="admin", params={"dry_run": "true"}).status_code == 200


def test_an_import_without_a_token_is_unauthenticated(service: Service) -> None:
    response = service.client.post(f"/plans/{service.plan_id}/spreadsheet", files={"file": ("t.xlsx", TABLE)})

    assert response.status_code == 401


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "takip.png", "neither an Excel workbook"),
    (b"", "takip.csv", "the file is empty"),
    (b"PK\x03\x04broken", "takip.xlsx", "not a readable Excel workbook"),
    ("Ad;Soyad\nAyşe;Yılmaz\n".encode(), "takip.csv", "no column of the action-plan tracking table was found"),
    ("Faaliyet;Durum\nAtölye;Planlandı\n".encode(), "takip.csv", "the table misses the column Hedef (Target)"),
    ("Hedef;Faaliyet Kodu;Durum\nT1.1;T1.1-A03;Bitmek üzere\n".encode(), "takip.csv",
     "row 2, column C (Durum): 'Bitmek üzere' is not a status; write one of Planlandı, Devam Ediyor"),
])
def test_a_bad_file_answers_422_saying_what_is_wrong(service: Service, data: bytes, name: str, message: str) -> None:
    before = service.stored()

    response = upload(service, data, name=name)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert message in response.json()["detail"]
    assert service.stored() == before


def test_an_upload_without_a_file_or_to_an_unknown_plan_is_refused(service: Service) -> None:
    no_file = service.client.post(f"/plans/{service.plan_id}/spreadsheet", headers=service.headers(),
                                  data={"reason": "dosyasız"})
    unknown = service.client.post("/plans/00000000-0000-0000-0000-000000000000/spreadsheet",
                                  headers=service.headers(), files={"file": ("t.xlsx", TABLE)})

    assert no_file.status_code == 422
    assert no_file.json()["errors"][0]["loc"] == ["body", "file"]
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM
