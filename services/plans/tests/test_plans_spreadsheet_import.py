"""Importing the action-plan tracking table from a spreadsheet: Turkish numbers and dates read right, every row
error is named by row and column and nothing is written, a dry run says what would change, a second import
writes nothing, and every change is made through the plan's commands with the importer as its author."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from openpyxl import Workbook
from plans_testing import commitment_of_group, import_izmir, make_izmir_sqlite, sqlite_url, stamp
from typer import Typer
from typer.testing import CliRunner

from izlek_common.eventsourced.errors import NotPermitted
from izlek_common.eventstore import eventsourcing_env
from izlek_plans.application import PlansApplication
from izlek_plans.domain.commitment import Commitment
from izlek_plans.domain.indicator import Indicator
from izlek_plans.service import SERVICE
from izlek_plans.spreadsheet_import import TrackingTableRejected, import_spreadsheet

HEADERS = ["Amaç", "Hedef", "Faaliyet Kodu", "Faaliyet", "Sorumlu Kurum", "Bitiş Tarihi", "Durum", "Gösterge Kodu",
           "Gösterge", "Birim", "Yön", "Başlangıç Değeri", "Hedef 2021", "Gerçekleşen 2021"]
NEW_ACTIVITY = "Kooperatiflerin ortak satış noktası için belediyeyle görüşme yapılması"


@pytest.fixture
def izmir() -> Iterator[tuple[PlansApplication, UUID]]:
    app = PlansApplication(env=eventsourcing_env("memory://"))
    try:
        yield app, import_izmir(app)
    finally:
        app.close()


def workbook(rows: list[list[Any]], formats: dict[str, str] | None = None, *, title_row: bool = True) -> bytes:
    """An XLSX as Turkish Excel saves it: a title above the header, the given rows, cell display formats."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Takip Tablosu"
    if title_row:
        sheet.append(["İzmir Eylem Planı Takip Tablosu (Haziran 2021)"])
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    for cell, number_format in (formats or {}).items():
        sheet[cell].number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def turkish_workbook() -> bytes:
    """Rows 3 to 7: text numbers 1.156 and 95,5, numeric cells formatted #.##0,00, dates as text and as cells."""
    return workbook([
        ["G1", "T1.1", "T1.1-A03", None, None, "31.12.2020", "Devam Ediyor"],
        ["G2", "T2.1", "T2.1-A01", None, None, datetime(2021, 6, 30), "Tamamlandı"],
        ["G1", "T1.2 Kooperatiflerin ekonomik güçlenmesi", None, NEW_ACTIVITY, "Kooperatifler", "15/09/2021",
         "Planlandı"],
        [None, None, None, None, None, None, None, "I-SATIS", "Ortak satış noktası", "Adet", "Artış", "1.156",
         1156.75, "95,5"],
        [None, None, None, None, None, None, None, "I-PAY", "Satın alma payı", "%", "Artış", 1.156, "%12,5",
         1500],
    ], formats={"M6": "#.##0,00", "L7": "#.##0,000", "N7": "#.##0"})


def stored(app: PlansApplication) -> int:
    return app.recorder.max_notification_id() or 0


def code_of(app: PlansApplication, plan_id: UUID, code: str) -> Commitment:
    return app.get_commitment(Commitment.create_id(plan_id, code))


# --- values -------------------------------------------------------------------------------------------------


def test_a_workbook_written_in_turkish_locale_imports_with_the_right_values(
    izmir: tuple[PlansApplication, UUID],
) -> None:
    app, plan_id = izmir
    under_t12 = [c for c in app.list_commitments(plan_id) if c.target_code == "T1.2"]

    report = import_spreadsheet(app, plan_id, turkish_workbook(), "takip.xlsx", stamp(subject="ayse@kedv.org.tr"))

    assert (report.header_row, report.sheet, report.file_format) == (2, "Takip Tablosu", "xlsx")
    started, done = code_of(app, plan_id, "T1.1-A03"), code_of(app, plan_id, "T2.1-A01")
    assert (started.status, started.due_date) == ("in_progress", date(2020, 12, 31))
    assert (done.status, done.due_date) == ("done", date(2021, 6, 30))
    [new] = [c for c in app.list_commitments(plan_id) if c.title == NEW_ACTIVITY]
    assert (new.code, new.target_code, new.actor_group, new.due_date, new.status, new.position) == (
        f"T1.2-A{len(under_t12) + 1:02d}", "T1.2", "AG-KOOP", date(2021, 9, 15), "planned", len(under_t12) + 1)
    sales = app.get_indicator(Indicator.create_id(plan_id, "I-SATIS"))
    assert (sales.name, sales.unit, sales.direction) == ("Ortak satış noktası", "Adet", "increase")
    assert sales.baseline == Decimal("1156")
    assert sales.targets == {"2021": Decimal("1156.75")}
    assert sales.actuals["2021"].value == Decimal("95.5")
    share = app.get_indicator(Indicator.create_id(plan_id, "I-PAY"))
    assert share.baseline == Decimal("1.156")
    assert share.targets == {"2021": Decimal("12.5")}
    assert share.actuals["2021"].value == Decimal(1500)
    assert all(isinstance(v, Decimal) for v in (sales.baseline, share.baseline, *sales.targets.values()))


def test_every_change_is_made_through_the_commands_with_the_importer_as_author(
    izmir: tuple[PlansApplication, UUID],
) -> None:
    app, plan_id = izmir

    import_spreadsheet(app, plan_id, turkish_workbook(), "takip.xlsx",
                       stamp(subject="ayse@kedv.org.tr", reason="Haziran izleme toplantısı"))

    history = app.history(code_of(app, plan_id, "T1.1-A03").id)["events"]
    details, status = history[-2:]
    assert (details["event_type"], details["data"]["changes"]) == ("DetailsChanged", {"due_date": "2020-12-31"})
    assert (status["event_type"], status["data"]["status"]) == ("StatusChanged", "in_progress")
    for event in (details, status):
        assert event["author"]["subject"] == "ayse@kedv.org.tr"
        assert event["author"]["role"] == "coordinator"
        assert event["kind"] == "change"
        assert event["reason"].startswith("Haziran izleme toplantısı (takip.xlsx (sha256 ")


def test_a_csv_with_semicolons_in_windows_1254_imports(izmir: tuple[PlansApplication, UUID]) -> None:
    app, plan_id = izmir
    csv = ("Hedef;Faaliyet Kodu;Faaliyet;Sorumlu Kurum;Bitiş Tarihi;Durum;Gösterge;Birim;Başlangıç Değeri;"
           "Hedef 2021;Gerçekleşen 2021\r\n"
           "T1.1;T1.1-A05;;;31.12.2021;Devam Ediyor;;;;;\r\n"
           ";;;;;;Kooperatiflere katılan kadın sayısı;Kişi;1.156;1.500;95,5\r\n").encode("cp1254")

    report = import_spreadsheet(app, plan_id, csv, "takip.csv", stamp())

    assert report.file_format == "csv"
    commitment = code_of(app, plan_id, "T1.1-A05")
    assert (commitment.status, commitment.due_date) == ("in_progress", date(2021, 12, 31))
    [indicator] = app.list_indicators(plan_id)
    assert (indicator.code, indicator.name, indicator.unit) == ("I1", "Kooperatiflere katılan kadın sayısı", "Kişi")
    assert (indicator.baseline, indicator.targets["2021"], indicator.actuals["2021"].value) == (
        Decimal(1156), Decimal(1500), Decimal("95.5"))


# --- nothing written unless every row is right ---------------------------------------------------------------


def test_a_file_with_one_bad_row_writes_nothing_and_names_the_row(izmir: tuple[PlansApplication, UUID]) -> None:
    app, plan_id = izmir
    before = stored(app)
    data = workbook([
        ["G1", "T1.1", "T1.1-A03", None, None, "31.12.2020", "Devam Ediyor"],
        ["G1", "T1.1", "T1.1-A04", None, None, "31.02.2021", "Devam Ediyor"],
        ["G1", "T1.1", "T1.1-A05", None, None, None, "Tamamlandı"],
    ])

    with pytest.raises(TrackingTableRejected) as refused:
        import_spreadsheet(app, plan_id, data, "takip.xlsx", stamp())

    assert stored(app) == before
    [error] = refused.value.errors
    assert (error.row, error.column, error.header) == (4, "F", "Bitiş Tarihi")
    assert "'31.02.2021' is not a day of the calendar" in error.message
    assert "row 4, column F (Bitiş Tarihi)" in str(refused.value)
    assert "nothing was imported" in str(refused.value)


def test_every_row_error_is_reported_with_its_row_and_column(izmir: tuple[PlansApplication, UUID]) -> None:
    app, plan_id = izmir
    done = commitment_of_group(app, plan_id, "AG-KOOP")
    app.change_commitment_status(done.id, "done", stamp())
    before = stored(app)
    data = workbook([
        ["G1", "T1.1", "T1.1-A03", None, None, "dün", "Bitti gibi"],
        ["G1", done.target_code, done.code, None, None, None, "Planlandı"],
        ["G1", "T9.9", None, "Yeni bir faaliyet", "Kooperatifler"],
        ["G2", "T1.1", "T1.1-A04", None, "AG-KOP"],
        ["G1", "T1.1", None, "Yeni faaliyet", None],
        [None, None, None, None, None, None, None, None, "Ölçüsüz gösterge", None, None, "bir"],
        ["G1", "T1.1", "T1.1-A03"],
    ])

    with pytest.raises(TrackingTableRejected) as refused:
        import_spreadsheet(app, plan_id, data, "takip.xlsx", stamp())

    assert stored(app) == before
    found = {(e.row, e.column): e.message for e in refused.value.errors}
    assert "is not a date" in found[(3, "F")]
    assert "'Bitti gibi' is not a status" in found[(3, "G")]
    assert "cannot go from 'done' to 'planned'; allowed: in_progress" in found[(4, "G")]
    assert "the plan has no target 'T9.9'; its targets are T1.1, T1.2, T1.3, T2.1, T2.2" in found[(5, "B")]
    assert "target T1.1 belongs to goal G1, not G2" in found[(6, "A")]
    assert "needs a responsible organisation or actor group" in found[(7, "E")]
    assert "'bir' is not a number" in found[(8, "L")]
    assert "activity T1.1-A03 is in row 3 already" in found[(9, "C")]
    assert "7 rows of takip.xlsx have errors" in str(refused.value)


def test_a_responsible_cell_names_an_actor_group_and_an_organisation_but_no_mistyped_group(
    izmir: tuple[PlansApplication, UUID],
) -> None:
    app, plan_id = izmir
    data = workbook([["G1", "T1.1", "T1.1-A03", None, "KEDV ve Simurg; kedv"]])

    import_spreadsheet(app, plan_id, data, "takip.xlsx", stamp())

    commitment = code_of(app, plan_id, "T1.1-A03")
    assert (commitment.actor_group, commitment.organisation_id) == ("AG-KS", "kedv")
    with pytest.raises(TrackingTableRejected, match="'AG-KOP' is neither an actor group of the plan"):
        import_spreadsheet(app, plan_id, workbook([["G1", "T1.1", "T1.1-A03", None, "AG-KOP"]]), "t.xlsx",
                           stamp())


def test_an_activity_is_found_by_its_text_when_the_file_has_no_codes(izmir: tuple[PlansApplication, UUID]) -> None:
    app, plan_id = izmir
    commitment = commitment_of_group(app, plan_id, "AG-YK")
    data = workbook([["G1", commitment.target_code, None, commitment.title.upper(), None, None, "Devam Ediyor"]])

    report = import_spreadsheet(app, plan_id, data, "takip.xlsx", stamp())

    assert report.rows[0].entities[0].code == commitment.code
    assert code_of(app, plan_id, commitment.code).status == "in_progress"


# --- dry run and idempotency ---------------------------------------------------------------------------------


def test_a_dry_run_writes_nothing_and_lists_the_changes(izmir: tuple[PlansApplication, UUID]) -> None:
    app, plan_id = izmir
    before = stored(app)

    report = import_spreadsheet(app, plan_id, turkish_workbook(), "takip.xlsx", stamp(), dry_run=True)

    assert stored(app) == before
    assert report.dry_run
    assert [row.outcome for row in report.rows] == ["changed", "changed", "created", "created", "created"]
    first = report.rows[0].as_dict()
    assert first["row"] == 3
    assert first["entities"][0]["code"] == "T1.1-A03"
    assert first["entities"][0]["changes"] == [
        {"field": "due_date", "column": "Bitiş Tarihi", "before": None, "after": "2020-12-31"},
        {"field": "status", "column": "Durum", "before": "planned", "after": "in_progress"},
    ]
    indicator = report.rows[3].as_dict()["entities"][0]
    assert {"field": "actual[2021]", "column": "Gerçekleşen 2021", "before": None, "after": "95.5"} in (
        indicator["changes"])
    assert report.summary()["created"] == 3
    assert any(line.startswith("row 5: created activity T1.2-A") for line in report.lines())
    assert report.lines()[-1].endswith("(dry run: nothing written)")


def test_importing_the_same_file_twice_writes_nothing_the_second_time(izmir: tuple[PlansApplication, UUID]) -> None:
    app, plan_id = izmir
    data = turkish_workbook()
    first = import_spreadsheet(app, plan_id, data, "takip.xlsx", stamp())
    after_first = stored(app)

    second = import_spreadsheet(app, plan_id, data, "takip.xlsx", stamp())
    dry = import_spreadsheet(app, plan_id, data, "takip.xlsx", stamp(), dry_run=True)

    assert first.writes
    assert stored(app) == after_first
    assert not second.writes and not dry.writes
    assert {row.outcome for row in second.rows} == {"unchanged"}


def test_only_a_coordinator_or_an_admin_may_import(izmir: tuple[PlansApplication, UUID]) -> None:
    app, plan_id = izmir

    for role in ("auditor", "partner_app"):
        with pytest.raises(NotPermitted, match="may not import a spreadsheet"):
            import_spreadsheet(app, plan_id, turkish_workbook(), "takip.xlsx", stamp(role))
    with pytest.raises(NotPermitted):
        import_spreadsheet(app, plan_id, turkish_workbook(), "takip.xlsx", stamp("liaison", "kedv"))


@pytest.mark.parametrize(("data", "message"), [
    (b"", "the file is empty"),
    ("Ad;Soyad\nAyşe;Yılmaz\n".encode(), "no column of the action-plan tracking table was found"),
    ("Faaliyet;Durum\nBir şey;Planlandı\n".encode(), "misses the column Hedef (Target)"),
    ("Hedef;Faaliyet;Durum;Durum\nT1.1;x;Planlandı;Planlandı\n".encode(), "appears twice (columns C and D)"),
    (b"Hedef;Faaliyet\n", "no rows below its header"),
])
def test_a_file_that_is_no_tracking_table_is_refused_saying_why(izmir: tuple[PlansApplication, UUID], data: bytes,
                                                               message: str) -> None:
    app, plan_id = izmir

    with pytest.raises(TrackingTableRejected, match=re.escape(message)):
        import_spreadsheet(app, plan_id, data, "takip.csv", stamp())


# --- the izlek command -----------------------------------------------------------------------------------------


def test_izlek_import_spreadsheet_runs_a_dry_run_then_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "store"
    store.mkdir()
    plan_id = make_izmir_sqlite(store)
    monkeypatch.setenv("IZLEK_PLANS_EVENT_STORE_URL", sqlite_url(store))
    monkeypatch.setenv("IZLEK_ENVIRONMENT", "test")
    file = tmp_path / "takip.xlsx"
    file.write_bytes(turkish_workbook())
    cli = Typer()
    SERVICE.register_commands(cli)

    dry = CliRunner().invoke(cli, ["import-spreadsheet", "izmir-eylem-plani", str(file), "--dry-run"])
    real = CliRunner().invoke(cli, ["import-spreadsheet", str(plan_id), str(file), "--author", "ayse@kedv.org.tr"])
    again = CliRunner().invoke(cli, ["import-spreadsheet", "izmir-eylem-plani", str(file)])
    unknown = CliRunner().invoke(cli, ["import-spreadsheet", "yok-boyle-plan", str(file)])

    assert dry.exit_code == 0, dry.output
    assert "row 3: changed activity T1.1-A03" in dry.output
    assert "status: planned → in_progress" in dry.output
    assert "5 rows of takip.xlsx: 3 would be created, 2 changed, 0 unchanged (dry run: nothing written)" in dry.output
    assert real.exit_code == 0, real.output
    assert "3 were created, 2 changed" in real.output
    assert again.exit_code == 0 and "0 were created, 0 changed, 5 unchanged" in again.output
    assert unknown.exit_code == 2 and "no plan yok-boyle-plan" in unknown.output
    app = PlansApplication(env=eventsourcing_env(sqlite_url(store)))
    try:
        status = app.history(code_of(app, plan_id, "T1.1-A03").id)["events"][-1]
        assert status["author"]["subject"] == "ayse@kedv.org.tr"
    finally:
        app.close()


def test_izlek_import_spreadsheet_lists_every_row_error_and_exits_2(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "store"
    store.mkdir()
    make_izmir_sqlite(store)
    monkeypatch.setenv("IZLEK_PLANS_EVENT_STORE_URL", sqlite_url(store))
    file = tmp_path / "takip.xlsx"
    file.write_bytes(workbook([["G1", "T1.1", "T1.1-A03", None, None, "31.02.2021"],
                               ["G1", "T1.1", "T1.1-A04", None, None, None, "Gecikmiş"]]))
    cli = Typer()
    SERVICE.register_commands(cli)

    result = CliRunner().invoke(cli, ["import-spreadsheet", "izmir-eylem-plani", str(file)])

    assert result.exit_code == 2
    assert "takip.xlsx: nothing was imported" in result.output
    assert "row 3, column F (Bitiş Tarihi)" in result.output
    assert "row 4, column G (Durum)" in result.output
