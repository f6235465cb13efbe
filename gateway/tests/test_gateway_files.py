"""Files from the gateway's read models: the tracking table as XLSX and CSV (exported, it imports back with no
change), and the auditor's report workbook of a plan or of a published report, as of a date."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from gateway_testing import IMPORTER, Timeline, izmir_services, moment
from openpyxl import Workbook, load_workbook

from izlek_common.auth import issue_token
from izlek_common.domain.stamp import Author, Stamp
from izlek_gateway.api import create_app
from izlek_gateway.read_models.database import create_read_model_engine, upgrade_database
from izlek_gateway.settings import GatewaySettings
from izlek_plans.domain.commitment import Commitment
from izlek_plans.spreadsheet_import import import_spreadsheet

EXECUTIVE_COMMITTEE = "izmir-kadin-kooperatifleri-koordinasyonu-yurutme-komitesi"
LIAISON = Author(subject="zeynep@kooperatif.org", role="liaison", organisation_id=EXECUTIVE_COMMITTEE,
                 name="Zeynep")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_timeline(request: pytest.FixtureRequest) -> Iterator[Timeline]:
    """The İzmir data projected into read models on SQLite and on PostgreSQL."""
    url = "sqlite://" if request.param == "sqlite" else request.getfixturevalue("postgres_database").sqlalchemy_url
    engine = create_read_model_engine(url)
    upgrade_database(engine)
    try:
        with izmir_services() as services:
            line = Timeline(services, engine)
            line.project_new_events()
            yield line
    finally:
        engine.dispose()


@pytest.fixture
def settings(tmp_path: Any) -> GatewaySettings:
    return GatewaySettings(environment="test", var_dir=tmp_path)


@pytest.fixture
def client(timeline: Timeline, settings: GatewaySettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine=timeline.engine)) as client:
        yield client


@pytest.fixture
def any_client(any_timeline: Timeline, settings: GatewaySettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine=any_timeline.engine)) as client:
        yield client


def headers(settings: GatewaySettings, role: str = "auditor", scopes: list[str] | None = None) -> dict[str, str]:
    token = issue_token(settings, subject=f"{role}@kedv.org.tr", role=role, name="Denetçi", scopes=scopes or [])
    return {"Authorization": f"Bearer {token}"}


def plan_id(timeline: Timeline) -> str:
    [plan] = timeline.services.plans.list_plans()
    return str(plan.id)


def download(client: TestClient, settings: GatewaySettings, path: str, **params: str) -> bytes:
    response = client.get(path, params=params, headers=headers(settings))
    assert response.status_code == 200, response.text
    return response.content


def dry_run(timeline: Timeline, data: bytes, name: str) -> Any:
    return import_spreadsheet(timeline.services.plans, timeline.services.plans.list_plans()[0].id, data, name,
                              Stamp(IMPORTER), dry_run=True)


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def sheet_rows(data: bytes, sheet: str | None = None) -> list[tuple[Any, ...]]:
    book = load_workbook(io.BytesIO(data))
    return list((book[sheet] if sheet else book.worksheets[0]).iter_rows(values_only=True))


# --- the tracking table -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["tr", "en"])
@pytest.mark.parametrize("extension", ["xlsx", "csv"])
def test_exporting_the_izmir_table_and_importing_it_again_is_a_dry_run_with_no_change(
    any_timeline: Timeline, any_client: TestClient, settings: GatewaySettings, extension: str, lang: str,
) -> None:
    data = download(any_client, settings, f"/plans/{plan_id(any_timeline)}/export.{extension}", lang=lang)

    report = dry_run(any_timeline, data, f"izmir.{extension}")

    assert len(report.rows) == 104
    assert not report.writes
    assert {row.outcome for row in report.rows} == {"unchanged"}


def test_the_export_holds_every_activity_in_plan_order_with_turkish_headers(
    timeline: Timeline, client: TestClient, settings: GatewaySettings,
) -> None:
    response = client.get(f"/plans/{plan_id(timeline)}/export.xlsx", headers=headers(settings))

    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert 'filename="izmir-eylem-plani-takip-tablosu.xlsx"' in response.headers["content-disposition"]
    header, first, *rest = sheet_rows(response.content)
    assert header[:8] == ("Plan", "Amaç", "Hedef", "Faaliyet Kodu", "Faaliyet", "Sorumlu Kurum", "Bitiş Tarihi",
                          "Durum")
    assert first[:4] == ("izmir-eylem-plani", "G1 İzmir'de bulunan kadın kooperatiflerini ve ağlarını güçlendirmek",
                         "T1.1 İzmir Kadın Kooperatifleri İl Koordinasyonu'nu örnek bir ağ modeli geliştirmek",
                         "T1.1-A01")
    assert (first[5], first[7]) == ("İzmir Kadın Kooperatifleri Koordinasyonu Yürütme Komitesi", "Planlandı")
    assert len(rest) == 103
    english = sheet_rows(download(client, settings, f"/plans/{plan_id(timeline)}/export.xlsx", lang="en"))
    assert english[0][:3] == ("Plan", "Goal", "Target")
    assert english[1][7] == "Planned"


def test_turkish_figures_imported_from_a_workbook_are_exported_as_numbers_and_dates(
    any_timeline: Timeline, any_client: TestClient, settings: GatewaySettings,
) -> None:
    plans = any_timeline.services.plans
    book = Workbook()
    sheet = book.active
    sheet.append(["Hedef", "Faaliyet Kodu", "Bitiş Tarihi", "Durum", "Gösterge", "Birim", "Başlangıç Değeri",
                  "Hedef 2021", "Gerçekleşen 2021"])
    sheet.append(["T1.1", "T1.1-A03", "31.12.2020", "Devam Ediyor"])
    sheet.append(["T1.1", "T1.1-A04", datetime(2021, 6, 30), "Tamamlandı"])
    sheet.append([None, None, None, None, "Ortak satış noktası", "Adet", "1.156", 1156.75, "95,5"])
    sheet["H4"].number_format = "#.##0,00"
    buffer = io.BytesIO()
    book.save(buffer)
    import_spreadsheet(plans, plans.list_plans()[0].id, buffer.getvalue(), "takip.xlsx", Stamp(IMPORTER))
    any_timeline.project_new_events()

    exported = download(any_client, settings, f"/plans/{plan_id(any_timeline)}/export.xlsx")
    cells = load_workbook(io.BytesIO(exported)).worksheets[0]
    header = [c.value for c in cells[1]]
    rows = {r[3].value or r[9].value: r for r in cells.iter_rows(min_row=2)}
    due = rows["T1.1-A03"][header.index("Bitiş Tarihi")]
    assert (due.value, due.number_format) == (datetime(2020, 12, 31), "dd.mm.yyyy")
    assert rows["T1.1-A04"][header.index("Durum")].value == "Tamamlandı"
    indicator = rows["Ortak satış noktası"]
    baseline, target, actual = (indicator[header.index(h)] for h in ("Başlangıç Değeri", "Hedef 2021",
                                                                      "Gerçekleşen 2021"))
    assert (baseline.value, baseline.number_format) == (1156, "#,##0")
    assert (target.value, target.number_format) == (1156.75, "#,##0.00")
    assert (actual.value, actual.number_format) == (95.5, "#,##0.0")
    text = download(any_client, settings, f"/plans/{plan_id(any_timeline)}/export.csv").decode("utf-8-sig")
    table = csv_rows(text.encode("utf-8-sig"))
    by_key = {row[3] or row[9]: dict(zip(table[0], row, strict=True)) for row in table[1:]}
    assert by_key["T1.1-A03"]["Bitiş Tarihi"] == "31.12.2020"
    assert [by_key["Ortak satış noktası"][h] for h in ("Başlangıç Değeri", "Hedef 2021", "Gerçekleşen 2021")] == [
        "1.156", "1.156,75", "95,5"]
    for data, name in ((exported, "takip.xlsx"), (text.encode("utf-8-sig"), "takip.csv")):
        assert not dry_run(any_timeline, data, name).writes


def test_an_export_as_of_a_moment_differs_from_the_present_after_a_change(
    timeline: Timeline, client: TestClient, settings: GatewaySettings,
) -> None:
    plans = timeline.services.plans
    commitment = plans.get_commitment(Commitment.create_id(plans.list_plans()[0].id, "T1.1-A01"))
    before = moment()
    plans.change_commitment_status(commitment.id, "in_progress", Stamp(LIAISON, reason="ilk toplantı yapıldı"))
    timeline.project_new_events()
    path = f"/plans/{plan_id(timeline)}/export.csv"

    now = csv_rows(download(client, settings, path))
    then_response = client.get(path, params={"asOf": before.isoformat()}, headers=headers(settings))
    then = csv_rows(then_response.content)

    assert (now[1][3], now[1][7]) == ("T1.1-A01", "Devam Ediyor")
    assert (then[1][3], then[1][7]) == ("T1.1-A01", "Planlandı")
    assert now[2:] == then[2:]
    assert "asof-" in then_response.headers["content-disposition"]
    back = dry_run(timeline, then_response.content, "then.csv")
    [changed] = [row for row in back.rows if row.outcome != "unchanged"]
    assert changed.entities[0].changes[0].as_dict() == {"field": "status", "column": "Durum",
                                                        "before": "in_progress", "after": "planned"}


def test_an_export_valid_at_a_day_before_the_plan_was_presented_has_no_plan(
    timeline: Timeline, client: TestClient, settings: GatewaySettings,
) -> None:
    response = client.get(f"/plans/{plan_id(timeline)}/export.xlsx", params={"validAt": "2021-06-01"},
                          headers=headers(settings))

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "valid at 2021-06-01" in response.json()["detail"]


# --- the report workbook -----------------------------------------------------------------------------------


def test_the_report_workbook_holds_the_dashboard_and_the_history_of_the_commitments(
    any_timeline: Timeline, any_client: TestClient, settings: GatewaySettings,
) -> None:
    plans = any_timeline.services.plans
    commitment = plans.get_commitment(Commitment.create_id(plans.list_plans()[0].id, "T1.1-A01"))
    plans.change_commitment_status(commitment.id, "in_progress", Stamp(LIAISON, reason="ilk toplantı yapıldı"))
    any_timeline.project_new_events()

    response = any_client.get(f"/plans/{plan_id(any_timeline)}/report.xlsx", headers=headers(settings))

    assert response.status_code == 200, response.text
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Kapak", "Başarı Kriterleri", "Taahhütler", "Gecikenler", "Göstergeler",
                               "Kota Uyumu", "Taahhüt Geçmişi"]
    cover = {row[0]: row[1] for row in book["Kapak"].iter_rows(values_only=True)}
    assert cover["Plan"] == "İZMİR EYLEM PLANI"
    assert cover["Plan kodu"] == "izmir-eylem-plani"
    assert cover["Kayıtlara göre (asOf)"] == "şimdi (üretildiği an)"
    assert cover["Hazırlayan"] == "auditor@kedv.org.tr (Denetçi)"
    assert cover["Rol"] == "auditor"
    assert isinstance(cover["Hazırlanma zamanı"], datetime)
    criteria = sheet_rows(response.content, "Başarı Kriterleri")
    columns = criteria[0]
    di1_c1 = dict(zip(columns, next(r for r in criteria if r[0] == "DI1-C1"), strict=True))
    assert di1_c1["Kapsam"] == "0 of 6 (0 of 1 metropolitan, 0 of 5 district)"
    assert (di1_c1["Değer"], di1_c1["Hedef"], di1_c1["Başarı %"]) == (0, 6, 0)
    assert (di1_c1["Hesaplanan bant"], di1_c1["Bant kodu"]) == ("Geliştirilmeli", "needs_improvement")
    groups = {r[0]: r for r in sheet_rows(response.content, "Taahhütler")[1:]}
    assert groups["AG-YK"][2:5] == (groups["AG-YK"][2], groups["AG-YK"][2] - 1, 1)
    assert groups["Tümü"][2] == 104
    history = sheet_rows(response.content, "Taahhüt Geçmişi")
    columns = history[0]
    entries = [dict(zip(columns, row, strict=True)) for row in history[1:]]
    assert len(entries) == 105
    registered = entries[0]
    assert (registered["Faaliyet Kodu"], registered["Olay"], registered["Kim"], registered["Rol"]) == (
        "T1.1-A01", "Registered", IMPORTER.subject, "coordinator")
    assert "title: Kooperatifler arasında" in registered["Değişen alanlar"]
    started = entries[1]
    assert (started["Faaliyet Kodu"], started["Olay"], started["Tür"]) == ("T1.1-A01", "StatusChanged", "Değişiklik")
    assert (started["Kim"], started["Rol"], started["Kurum"]) == (LIAISON.subject, "liaison", EXECUTIVE_COMMITTEE)
    assert started["Gerekçe"] == "ilk toplantı yapıldı"
    assert started["Değişen alanlar"] == "status: planned → in_progress"
    assert isinstance(started["Kayıt zamanı"], datetime) and isinstance(started["Geçerlilik zamanı"], datetime)


def test_a_report_as_of_a_moment_before_a_change_shows_neither_the_change_nor_its_history(
    timeline: Timeline, client: TestClient, settings: GatewaySettings,
) -> None:
    plans = timeline.services.plans
    commitment = plans.get_commitment(Commitment.create_id(plans.list_plans()[0].id, "T1.1-A01"))
    before = moment()
    plans.change_commitment_status(commitment.id, "done", Stamp(IMPORTER, reason="tamamlandı"))
    timeline.project_new_events()

    data = download(client, settings, f"/plans/{plan_id(timeline)}/report.xlsx", asOf=before.isoformat(), lang="en")

    book = load_workbook(io.BytesIO(data))
    cover = {row[0]: row[1] for row in book["Cover"].iter_rows(values_only=True)}
    assert isinstance(cover["As recorded by (asOf)"], datetime)
    groups = {r[0]: r for r in book["Commitments"].iter_rows(values_only=True)}
    assert groups["All"][2:6] == (104, 104, 0, 0)
    events = [r[3] for r in book["Commitment history"].iter_rows(min_row=2, values_only=True)]
    assert events == ["Registered"] * 104


def test_a_published_report_workbook_holds_its_contents_as_published_and_the_differences_since(
    timeline: Timeline, client: TestClient, settings: GatewaySettings,
) -> None:
    plans = timeline.services.plans
    [plan] = plans.list_plans()
    auditor = Author(subject="denetci@kedv.org.tr", role="auditor", organisation_id="kedv", name="Denetçi")
    plans.publish_report(plan.id, Stamp(auditor, reason="koordinasyon kuruluna"), code="R-2021-06",
                         title="Haziran 2021 izleme raporu")
    commitment = plans.get_commitment(Commitment.create_id(plan.id, "T1.1-A01"))
    plans.correct_commitment(commitment.id, {"status": "done"}, Stamp(IMPORTER, reason="yanlış kaydedilmiş"))
    timeline.project_new_events()
    published = (
        client.post("/graphql", headers=headers(settings), json={"query": """
            query($planId: ID!) { report(planId: $planId, code: "R-2021-06") { contentsHash } }""",
                                                                 "variables": {"planId": str(plan.id)}})
        .json()["data"]["report"]
    )

    response = client.get(f"/plans/{plan.id}/reports/R-2021-06.xlsx", headers=headers(settings))

    assert response.status_code == 200, response.text
    assert 'filename="izmir-eylem-plani-rapor-R-2021-06.xlsx"' in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[-2:] == ["Farklar", "Sonraki Değişiklikler"]
    cover = {row[0]: row[1] for row in book["Kapak"].iter_rows(values_only=True)}
    assert cover["Rapor kodu"] == "R-2021-06"
    assert cover["Yayımlayan"] == "denetci@kedv.org.tr (auditor, kedv)"
    assert cover["İçeriğin SHA-256 özeti"] == published["contentsHash"]
    assert cover["Yayımdan sonra bilinen farklar"] >= 3
    groups = {r[0]: r for r in book["Taahhütler"].iter_rows(values_only=True)}
    assert groups["Tümü"][2:6] == (104, 104, 0, 0)
    differences = {r[0]: r[1:] for r in book["Farklar"].iter_rows(min_row=2, values_only=True)}
    assert differences["commitments.by_status[done].count"] == ("0", "1")
    [later] = list(book["Sonraki Değişiklikler"].iter_rows(min_row=2, values_only=True))
    assert later[:4] == ("commitment", "Corrected", "Düzeltme", IMPORTER.subject)
    assert later[8] == "yanlış kaydedilmiş"
    history = [r for r in book["Taahhüt Geçmişi"].iter_rows(min_row=2, values_only=True)]
    assert len(history) == 104


# --- access ------------------------------------------------------------------------------------------------------


ROUTES = ["export.xlsx", "export.csv", "report.xlsx"]


@pytest.mark.parametrize("route", ROUTES)
def test_a_partner_app_gets_the_files_of_its_plans_and_404_outside_its_scopes(
    timeline: Timeline, client: TestClient, settings: GatewaySettings, route: str,
) -> None:
    path = f"/plans/{plan_id(timeline)}/{route}"

    inside = client.get(path, headers=headers(settings, "partner_app", ["plan:izmir-eylem-plani"]))
    outside = client.get(path, headers=headers(settings, "partner_app", ["plan:bursa-eylem-plani"]))

    assert inside.status_code == 200
    assert outside.status_code == 404
    assert outside.headers["content-type"] == "application/problem+json"


def test_a_published_report_outside_a_partner_apps_scopes_is_not_found(
    timeline: Timeline, client: TestClient, settings: GatewaySettings,
) -> None:
    plans = timeline.services.plans
    plans.publish_report(plans.list_plans()[0].id, Stamp(IMPORTER), code="R-1", title="Rapor")
    timeline.project_new_events()
    path = f"/plans/{plan_id(timeline)}/reports/R-1.xlsx"

    assert client.get(path, headers=headers(settings, "partner_app", ["region:İZMİR"])).status_code == 200
    assert client.get(path, headers=headers(settings, "partner_app", ["region:Bursa"])).status_code == 404
    assert client.get(f"/plans/{plan_id(timeline)}/reports/R-404.xlsx", headers=headers(settings)).status_code == 404


@pytest.mark.parametrize("route", [*ROUTES, "reports/R-1.xlsx"])
def test_the_files_need_a_token(timeline: Timeline, client: TestClient, route: str) -> None:
    response = client.get(f"/plans/{plan_id(timeline)}/{route}")

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("params", "status"), [
    ({"asOf": "dün"}, 422), ({"validAt": "2021-02-30"}, 422), ({"lang": "de"}, 422), ({"asOf": "x" * 100}, 422),
])
def test_a_bad_query_is_invalid_input(timeline: Timeline, client: TestClient, settings: GatewaySettings,
                                      params: dict[str, str], status: int) -> None:
    for route in ROUTES:
        response = client.get(f"/plans/{plan_id(timeline)}/{route}", params=params, headers=headers(settings))
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"


def test_an_unknown_plan_is_not_found(client: TestClient, settings: GatewaySettings) -> None:
    for route in ROUTES:
        response = client.get(f"/plans/00000000-0000-0000-0000-000000000000/{route}", headers=headers(settings))
        assert response.status_code == 404
    assert client.get("/plans/izmir/export.csv", headers=headers(settings)).status_code == 422


def test_dates_and_decimals_of_an_export_are_exact(timeline: Timeline) -> None:
    from izlek_gateway.files.tracking_table import read_tracking_table

    plans = timeline.services.plans
    [plan] = plans.list_plans()
    indicator = plans.define_indicator(plan.id, Stamp(IMPORTER), code="I-KESIN", name="Kesin", unit="TRY",
                                       direction="increase", baseline=Decimal("1234567890.123456789"))
    plans.set_indicator_target(indicator, "2021", Decimal("0.000001"), Stamp(IMPORTER))
    commitment = Commitment.create_id(plan.id, "T1.1-A02")
    plans.change_commitment(commitment, {"due_date": date(2021, 12, 31)}, Stamp(IMPORTER))
    timeline.project_new_events()

    with timeline.engine.connect() as connection:
        table = read_tracking_table(connection, str(plan.id))
    assert table is not None
    values = {row[3] or row[9]: row for row in table.rows}
    assert values["T1.1-A02"][6] == date(2021, 12, 31)
    assert values["Kesin"][12] == Decimal("1234567890.123456789")
    assert values["Kesin"][13] == Decimal("0.000001")
