"""Spreadsheets as Turkish users write them: numbers such as 1.156 and 95,5, dates such as 31.12.2020, XLSX saved
in Turkish locale, CSV from Turkish Excel (; and Windows-1254), and the tracking table's header names."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook

from izlek_common.spreadsheets import (
    Cell,
    CellError,
    SpreadsheetError,
    column_letter,
    csv_bytes,
    csv_safe,
    header_key,
    parse_date,
    parse_decimal,
    parse_text,
    read_spreadsheet,
    turkish_date_text,
    turkish_decimal_text,
    xlsx_number_format,
)
from izlek_common.tracking_table import (
    Field,
    PeriodField,
    direction_label,
    header,
    read_direction,
    read_status,
    recognise,
    status_label,
)


@pytest.mark.parametrize(("text", "number"), [
    ("1.156", "1156"),
    ("1.156,75", "1156.75"),
    ("95,5", "95.5"),
    ("%95,5", "95.5"),
    ("95,5 %", "95.5"),
    ("-1.234", "-1234"),
    ("−1.234", "-1234"),
    ("1.156.000", "1156000"),
    ("1.000.000,50", "1000000.50"),
    ("1,156", "1.156"),
    ("0,5", "0.5"),
    ("1 156", "1156"),
    ("1.156 TL", "1156"),
    ("₺1.156,75", "1156.75"),
    ("1,156.75", "1156.75"),
    ("95.5", "95.5"),
    ("0.156", "0.156"),
    ("1156.75", "1156.75"),
    ("42", "42"),
])
def test_a_number_written_as_turkish_text_reads_exactly(text: str, number: str) -> None:
    value = parse_decimal(text)

    assert isinstance(value, Decimal)
    assert value == Decimal(number)
    assert str(value) == number


@pytest.mark.parametrize("text", ["1.15.6", "12.34.567", "abc", "1.", "1,", "1e5", "1,2.3", "--5", "1.156,75,2"])
def test_text_that_is_no_number_is_refused_with_examples(text: str) -> None:
    with pytest.raises(CellError, match="is not a number"):
        parse_decimal(text, "the baseline")


def test_a_numeric_cell_is_never_read_again_as_text() -> None:
    # Turkish Excel shows 1.156 as "1,156" and 1156.75 as "1.156,75"; the stored value is the number.
    assert parse_decimal(Cell(1.156, "#.##0,000")) == Decimal("1.156")
    assert parse_decimal(Cell(1156.75, "#,##0.00")) == Decimal("1156.75")
    assert parse_decimal(Cell(1156, "#.##0")) == Decimal(1156)
    assert str(parse_decimal(Cell(95.5, "General"))) == "95.5"


def test_a_percentage_cell_holds_the_fraction_and_reads_in_percent() -> None:
    assert str(parse_decimal(Cell(0.955, "0.0%"))) == "95.5"
    assert str(parse_decimal(Cell(1, "0%"))) == "100"


@pytest.mark.parametrize("value", [True, datetime(2020, 12, 31), float("nan")])
def test_a_boolean_a_date_or_a_nan_is_no_number(value: object) -> None:
    with pytest.raises(CellError):
        parse_decimal(value)


def test_a_blank_cell_is_no_value() -> None:
    assert parse_decimal(Cell(None)) is None
    assert parse_decimal("   ") is None
    assert parse_date(Cell("")) is None
    assert parse_text(Cell("  ")) is None


@pytest.mark.parametrize(("value", "day"), [
    ("31.12.2020", date(2020, 12, 31)),
    ("31/12/2020", date(2020, 12, 31)),
    ("31-12-2020", date(2020, 12, 31)),
    ("1.2.2021", date(2021, 2, 1)),
    ("2020-12-31", date(2020, 12, 31)),
    ("2020-12-31T00:00:00", date(2020, 12, 31)),
    ("31 Aralık 2020", date(2020, 12, 31)),
    ("31 ARALIK 2020", date(2020, 12, 31)),
    (datetime(2020, 12, 31, 0, 0), date(2020, 12, 31)),
    (date(2020, 12, 31), date(2020, 12, 31)),
])
def test_a_date_reads_day_first_or_iso_or_from_a_date_cell(value: object, day: date) -> None:
    assert parse_date(Cell(value)) == day


@pytest.mark.parametrize(("value", "why"), [
    ("31.02.2021", "not a day of the calendar"),
    ("12/31/2020", "the day comes first"),
    ("31.12.20", "is not a date"),
    ("dün", "is not a date"),
    (44196, "format the cell as a date"),
])
def test_a_date_that_is_none_is_refused_saying_how_to_write_it(value: object, why: str) -> None:
    with pytest.raises(CellError, match=why):
        parse_date(value)


# --- files ------------------------------------------------------------------------------------------------


def xlsx(rows: list[list[object]], *, title: str = "Takip", formats: dict[str, str] | None = None,
         merge: str | None = None, second_sheet: bool = False) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for cell, number_format in (formats or {}).items():
        sheet[cell].number_format = number_format
    if merge:
        sheet.merge_cells(merge)
    if second_sheet:
        workbook.create_sheet("Göstergeler").append(["Gösterge", "Birim"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_keeps_numbers_dates_and_row_numbers() -> None:
    data = xlsx([["Faaliyet", "Hedef 2021", "Bitiş Tarihi"], [None, None, None],
                 ["Atölye", 1156.75, datetime(2020, 12, 31)]], formats={"B3": "#.##0,00", "C3": "dd.mm.yyyy"})

    sheet = read_spreadsheet(data, "takip.xlsx")

    assert (sheet.file_format, sheet.name) == ("xlsx", "Takip")
    assert [row.number for row in sheet.rows] == [1, 2, 3]
    assert sheet.rows[1].is_blank
    third = sheet.rows[2]
    assert parse_decimal(third.cell(1)) == Decimal("1156.75")
    assert parse_date(third.cell(2)) == date(2020, 12, 31)


def test_a_named_sheet_is_read_in_any_letter_case_and_an_unknown_one_is_refused() -> None:
    data = xlsx([["Faaliyet"]], second_sheet=True)

    assert read_spreadsheet(data, sheet="GÖSTERGELER").name == "Göstergeler"
    with pytest.raises(SpreadsheetError, match="no sheet 'Özet'; its sheets: Takip, Göstergeler"):
        read_spreadsheet(data, sheet="Özet")


def test_a_merged_cell_reads_as_its_value_in_every_cell_it_covers() -> None:
    data = xlsx([["Hedef", "Faaliyet"], ["T1.1", "Birinci"], [None, "İkinci"]], merge="A2:A3")

    rows = read_spreadsheet(data).rows

    assert [parse_text(row.cell(0)) for row in rows[1:]] == ["T1.1", "T1.1"]


def test_a_csv_from_turkish_excel_in_windows_1254_with_semicolons_reads() -> None:
    data = "Faaliyet;Gerçekleşen 2021;Durum\r\nİl içi gezi;1.156,75;Devam Ediyor\r\n".encode("cp1254")

    sheet = read_spreadsheet(data, "takip.csv")

    assert sheet.file_format == "csv"
    assert [parse_text(c) for c in sheet.rows[0].cells] == ["Faaliyet", "Gerçekleşen 2021", "Durum"]
    assert parse_text(sheet.rows[1].cell(0)) == "İl içi gezi"
    assert parse_decimal(sheet.rows[1].cell(1)) == Decimal("1156.75")


@pytest.mark.parametrize("data", [
    "\ufeffFaaliyet;Birim\nŞenlik;Kişi\n".encode(),
    "Faaliyet;Birim\nŞenlik;Kişi\n".encode(),
    "Faaliyet,Birim\nŞenlik,Kişi\n".encode(),
    "Faaliyet\tBirim\nŞenlik\tKişi\n".encode("utf-16"),
    "\"Faaliyet; uzun\",Birim\nŞenlik,Kişi\n".encode(),
])
def test_a_csv_in_utf8_with_or_without_bom_or_utf16_with_any_usual_delimiter_reads(data: bytes) -> None:
    rows = read_spreadsheet(data).rows

    assert len(rows[0].cells) == 2
    assert [parse_text(c) for c in rows[1].cells] == ["Şenlik", "Kişi"]


def test_a_csv_numbers_its_rows_as_records_even_when_a_cell_holds_a_line_break() -> None:
    rows = read_spreadsheet('Faaliyet;Birim\n"iki\nsatır";Kişi\nüç;Adet\n'.encode()).rows

    assert [row.number for row in rows] == [1, 2, 3]
    assert parse_text(rows[2].cell(0)) == "üç"


@pytest.mark.parametrize(("data", "name", "why"), [
    (b"", "a.csv", "empty"),
    (b"   \n ", "a.csv", "empty"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "a.xls", "old Excel format"),
    (b"PK\x03\x04not really a zip", "a.xlsx", "not a readable Excel workbook"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "resim.png", "neither an Excel workbook"),
    (b"just text", "a.xlsx", "not an Excel workbook"),
])
def test_a_file_that_is_no_spreadsheet_is_refused_saying_why(data: bytes, name: str, why: str) -> None:
    with pytest.raises(SpreadsheetError, match=why):
        read_spreadsheet(data, name)


def test_a_zip_that_is_no_workbook_is_refused() -> None:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")

    with pytest.raises(SpreadsheetError, match="not a readable Excel workbook"):
        read_spreadsheet(buffer.getvalue(), "belge.docx")


# --- writing reads back ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["1156.75", "1.156", "95.5", "-1234", "0.5", "1000000", "100", "0.000001"])
def test_a_decimal_written_the_turkish_way_reads_back_the_same(number: str) -> None:
    text = turkish_decimal_text(Decimal(number))

    assert parse_decimal(text) == Decimal(number)


def test_turkish_text_and_display_formats_of_figures_and_dates() -> None:
    assert turkish_decimal_text(Decimal("1156.75")) == "1.156,75"
    assert turkish_decimal_text(Decimal("-1234567")) == "-1.234.567"
    assert turkish_decimal_text(Decimal("1.156")) == "1,156"
    assert turkish_date_text(date(2020, 12, 31)) == "31.12.2020"
    assert xlsx_number_format(Decimal("1156.75")) == "#,##0.00"
    assert xlsx_number_format(Decimal("1156")) == "#,##0"


def test_a_csv_text_that_would_run_as_a_formula_is_written_safely_and_reads_back_as_it_was() -> None:
    data = csv_bytes([["Faaliyet", "Birim"], [csv_safe("=HYPERLINK(\"x\")"), csv_safe("- madde")]])

    assert b"'=HYPERLINK" in data
    row = read_spreadsheet(data).rows[1]
    assert [parse_text(c) for c in row.cells] == ['=HYPERLINK("x")', "- madde"]


def test_column_letters_follow_the_spreadsheet() -> None:
    assert [column_letter(i) for i in (0, 5, 25, 26, 27, 701, 702)] == ["A", "F", "Z", "AA", "AB", "ZZ", "AAA"]


# --- the tracking table's words ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "column"), [
    ("Plan", Field.PLAN),
    ("AMAÇ", Field.GOAL),
    ("Goal", Field.GOAL),
    ("hedef", Field.TARGET),
    ("Faaliyet", Field.ACTIVITY),
    ("Activity", Field.ACTIVITY),
    ("Faaliyet Kodu", Field.ACTIVITY_CODE),
    ("SORUMLU KURUM", Field.RESPONSIBLE),
    ("Responsible organisation", Field.RESPONSIBLE),
    ("BITIŞ TARIHI", Field.DUE_DATE),
    ("Bitiş\nTarihi", Field.DUE_DATE),
    ("Due date", Field.DUE_DATE),
    ("Durum", Field.STATUS),
    ("Gösterge", Field.INDICATOR),
    ("Ölçü Birimi", Field.UNIT),
    ("Birim", Field.UNIT),
    ("Başlangıç Değeri", Field.BASELINE),
    ("baseline", Field.BASELINE),
    ("Hedef 2021", PeriodField("2021", "target_value")),
    ("Target 2021", PeriodField("2021", "target_value")),
    ("Hedef (2021)", PeriodField("2021", "target_value")),
    ("2022 Hedef", PeriodField("2022", "target_value")),
    ("Gerçekleşen 2021", PeriodField("2021", "actual")),
    ("GERÇEKLEŞEN 2021-h1", PeriodField("2021-H1", "actual")),
    ("Actual 2021-06", PeriodField("2021-06", "actual")),
    ("Açıklama", None),
])
def test_headers_are_recognised_in_turkish_and_english_without_case_or_accents(text: str, column: object) -> None:
    assert recognise(text) == column


def test_a_period_header_naming_no_period_is_refused() -> None:
    with pytest.raises(CellError, match="names no period"):
        recognise("Hedef 2021-13")


def test_headers_as_an_export_writes_them() -> None:
    assert header(Field.DUE_DATE) == "Bitiş Tarihi"
    assert header(Field.DUE_DATE, "en") == "Due date"
    assert header(PeriodField("2021", "actual")) == "Gerçekleşen 2021"
    assert header(PeriodField("2021", "target_value"), "en") == "Target 2021"
    assert all(recognise(header(f, language)) == f for f in Field for language in ("tr", "en"))


@pytest.mark.parametrize(("word", "status"), [
    ("Planlandı", "planned"), ("PLANLANDI", "planned"), ("Devam Ediyor", "in_progress"), ("devam ediyor", "in_progress"),
    ("DEVAM EDİYOR", "in_progress"), ("Tamamlandı", "done"), ("İptal", "dropped"), ("iptal edildi", "dropped"),
    ("In progress", "in_progress"), ("done", "done"), ("Cancelled", "dropped"),
])
def test_status_words_in_turkish_and_english(word: str, status: str) -> None:
    assert read_status(word) == status
    assert read_status(status_label(status)) == status
    assert read_status(status_label(status, "en")) == status


def test_overdue_is_not_a_status_one_writes() -> None:
    with pytest.raises(CellError, match="works out from the due date"):
        read_status("Gecikmiş")
    with pytest.raises(CellError, match="not a status; write one of Planlandı, Devam Ediyor, Tamamlandı, İptal"):
        read_status("Bitmek üzere")


def test_directions_in_turkish_and_english() -> None:
    assert read_direction("Artış") == read_direction("increase") == "increase"
    assert read_direction("AZALIŞ") == read_direction(direction_label("decrease", "en")) == "decrease"
    with pytest.raises(CellError, match="Artış or Azalış"):
        read_direction("yana")


def test_header_keys_ignore_case_accents_and_the_turkish_i() -> None:
    assert header_key("BİTİŞ TARİHİ") == header_key("bitis tarihi") == header_key("Bitış  Tarıhı:") == "bitis tarihi"
