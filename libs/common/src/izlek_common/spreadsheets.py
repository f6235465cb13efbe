"""Spreadsheets as Turkish users write them: XLSX and CSV files, Turkish numbers and dates, header names.

Reading. `read_spreadsheet` takes the bytes of an upload and returns its rows with their row numbers as the
user sees them (Excel's row numbers; a CSV's record numbers). XLSX: the first sheet or a named one, cell values
as stored (numbers stay numbers, dates stay dates, formulas give their cached value). CSV: UTF-8 with or
without a byte-order mark, UTF-16 with one (Excel's "Unicode text"), else Windows-1254 (Turkish Excel's
"CSV (virgülle ayrılmış)"); the delimiter is the first of ``;``, tab and ``,`` found in the first line that holds
any of them, since Turkish Excel writes ``;`` and its numbers hold commas.

Numbers (`parse_decimal`) are exact `Decimal`s, never floats:

- text is read the Turkish way: ``.`` groups thousands and ``,`` is the decimal mark, so ``1.156`` is one
  thousand one hundred fifty-six, ``1.156,75`` is 1156.75, ``95,5`` is 95.5 and ``-1.234`` is -1234.
  ``%95,5`` and ``95,5%`` are 95.5 (percent figures stay in percent). Where both marks appear, the last one is
  the decimal mark (``1,156.75`` is 1156.75 too). A single ``.`` that is not followed by exactly three digits
  cannot be a thousands separator and is read as a decimal point (``95.5``, ``0.156``, ``1156.75``);
  thousands groups must have three digits (``1.15.6`` is refused). Spaces may group thousands (``1 156``);
  a trailing ``TL`` or ``₺`` is dropped.
- a numeric cell of an XLSX already holds a number: it is never read again as text, so a cell holding 1.156
  stays 1.156 whatever its display format (``#.##0,00`` in Turkish Excel). A cell formatted as a percentage
  holds a fraction (0.955 shown as %95,5) and is read as 95.5.

Dates (`parse_date`): ``31.12.2020``, ``31/12/2020``, ``31-12-2020`` (day first, always), ISO ``2020-12-31``,
``31 Aralık 2020``, and date cells. Two-digit years are refused rather than guessed.

Headers (`header_key`) are compared without case, accents or Turkish dotted and dotless i: ``Bitiş Tarihi``,
``BITIS TARIHI`` and ``bitis tarihi`` are one header.

Writing (`turkish_decimal_text`, `turkish_date_text`, `xlsx_number_format`, `csv_bytes`) is the inverse, so a file
Izlek writes reads back to the same values.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_FILE_BYTES = 10 * 1024 * 1024
"""The largest file read (10 MB); an action-plan tracking table is a few hundred kilobytes."""
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
"""The most an XLSX may unpack to, so that a small crafted archive cannot fill the memory."""
MAX_ROWS = 20_000
MAX_COLUMNS = 500
MAX_MERGED_CELLS = 200_000

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""The old binary Excel format (.xls)."""
CSV_DELIMITERS = (";", "\t", ",")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these is a formula to a spreadsheet program (CSV injection)."""


class SpreadsheetError(ValueError):
    """The file as a whole cannot be read as a spreadsheet (not XLSX or CSV, empty, too large, no such sheet)."""


class CellError(ValueError):
    """A cell's value is not what its column expects (not a number, not a date, an unknown status...)."""


@dataclass(frozen=True)
class Cell:
    """One cell: its value as stored (text, int, float, datetime, bool or None) and, in an XLSX, its display
    format (``#,##0.00``, ``0.0%``, ``dd.mm.yyyy``)."""

    value: Any
    number_format: str | None = None

    @property
    def is_blank(self) -> bool:
        return self.value is None or (isinstance(self.value, str) and not self.value.strip())


@dataclass(frozen=True)
class SheetRow:
    number: int
    """The row's number as the user sees it: Excel's row number, or the CSV record's number (from 1)."""
    cells: tuple[Cell, ...]

    def cell(self, index: int) -> Cell:
        return self.cells[index] if index < len(self.cells) else Cell(None)

    @property
    def is_blank(self) -> bool:
        return all(cell.is_blank for cell in self.cells)


@dataclass(frozen=True)
class Sheet:
    """The rows of one sheet (blank rows included, so numbers stay those of the file)."""

    name: str | None
    rows: tuple[SheetRow, ...]
    file_format: str
    """``xlsx`` or ``csv``."""


# --- reading files ----------------------------------------------------------------------------------------


def read_spreadsheet(data: bytes, filename: str | None = None, sheet: str | None = None) -> Sheet:
    """The rows of an XLSX (its first sheet, or `sheet`) or of a CSV, told apart by their content."""
    if not data or not data.strip():
        raise SpreadsheetError("the file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise SpreadsheetError(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    if data.startswith(OLE_MAGIC):
        raise SpreadsheetError("this is the old Excel format (.xls); save it as an Excel workbook (.xlsx) or as CSV")
    if data.startswith(XLSX_MAGIC):
        return read_xlsx(data, sheet)
    if filename and filename.lower().endswith((".xlsx", ".xlsm")):
        raise SpreadsheetError(f"{filename} is not an Excel workbook (.xlsx); it may be damaged or renamed")
    if sheet is not None:
        raise SpreadsheetError("a CSV file has no sheets; leave out the sheet name")
    return read_csv(data)


def read_xlsx(data: bytes, sheet: str | None = None) -> Sheet:
    """The rows of an XLSX workbook's first sheet, or of the sheet called `sheet`."""
    from openpyxl import load_workbook

    _check_unpacked_size(data)
    try:
        workbook = load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises anything from KeyError to zipfile errors for a broken file
        raise SpreadsheetError(f"the file is not a readable Excel workbook (.xlsx): {_short(exc)}") from None
    try:
        if sheet is None:
            worksheet = workbook.worksheets[0]
        else:
            names = {header_key(name): name for name in workbook.sheetnames}
            found = names.get(header_key(sheet))
            if found is None:
                raise SpreadsheetError(f"the workbook has no sheet {sheet!r}; its sheets: "
                                       f"{', '.join(workbook.sheetnames)}")
            worksheet = workbook[found]
        if worksheet.max_row > MAX_ROWS + 50:
            raise SpreadsheetError(f"the sheet has {worksheet.max_row} rows; at most {MAX_ROWS} are read")
        if worksheet.max_column > MAX_COLUMNS:
            raise SpreadsheetError(f"the sheet has {worksheet.max_column} columns; at most {MAX_COLUMNS} are read")
        merged = _merged_values(worksheet)
        rows = tuple(
            SheetRow(number, tuple(merged.get((number, column), Cell(c.value, c.number_format))
                                   for column, c in enumerate(row, start=1)))
            for number, row in enumerate(worksheet.iter_rows(), start=1)
        )
        return Sheet(name=worksheet.title, rows=rows, file_format="xlsx")
    finally:
        workbook.close()


def _merged_values(worksheet: Any) -> dict[tuple[int, int], Cell]:
    """Merged cells read as the value of their top-left cell in every cell they cover (a target merged over
    the rows of its activities belongs to each of them)."""
    values: dict[tuple[int, int], Cell] = {}
    last_row, last_column = worksheet.max_row, worksheet.max_column
    for merged in worksheet.merged_cells.ranges:
        first = worksheet.cell(merged.min_row, merged.min_col)
        for row in range(merged.min_row, min(merged.max_row, last_row) + 1):
            for column in range(merged.min_col, min(merged.max_col, last_column) + 1):
                values[(row, column)] = Cell(first.value, first.number_format)
        if len(values) > MAX_MERGED_CELLS:
            raise SpreadsheetError(f"the sheet merges more than {MAX_MERGED_CELLS} cells")
    return values


def _check_unpacked_size(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise SpreadsheetError("the file is not a readable Excel workbook (.xlsx): a damaged archive") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise SpreadsheetError("the workbook unpacks to more than 200 MB; it is not an action-plan table")


def read_csv(data: bytes) -> Sheet:
    """The records of a CSV file; numbered from 1 as a spreadsheet program shows them."""
    text = decode_text(data)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        for number, record in enumerate(reader, start=1):
            if number > MAX_ROWS + 50:
                raise SpreadsheetError(f"the file has more than {MAX_ROWS} rows")
            if len(record) > MAX_COLUMNS:
                raise SpreadsheetError(f"row {number} has {len(record)} columns; at most {MAX_COLUMNS} are read")
            rows.append(SheetRow(number, tuple(Cell(_unescaped(value)) for value in record)))
    except csv.Error as exc:
        raise SpreadsheetError(f"the file is not a readable CSV: {exc}") from None
    return Sheet(name=None, rows=tuple(rows), file_format="csv")


def decode_text(data: bytes) -> str:
    """The text of a CSV: UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1254 (Turkish)."""
    if data.startswith(codecs.BOM_UTF8):
        encoding, body = "utf-8", data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, body = "utf-16", data
    else:
        encoding, body = "utf-8", data
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError:
        if encoding != "utf-8" or data.startswith(codecs.BOM_UTF8):
            raise SpreadsheetError(f"the file is not valid {encoding.upper()} text") from None
        try:
            text = body.decode("cp1254")
        except UnicodeDecodeError:
            raise SpreadsheetError("the file is neither an Excel workbook nor a CSV in UTF-8 or Windows-1254 "
                                   "(Turkish) encoding") from None
    controls = sum(1 for c in text[:20_000] if unicodedata.category(c) == "Cc" and c not in "\r\n\t")
    if "\x00" in text or controls > len(text[:20_000]) // 100:
        raise SpreadsheetError("the file is neither an Excel workbook (.xlsx) nor a CSV text file")
    return text


def sniff_delimiter(text: str) -> str:
    """``;``, tab or ``,``: the first of them found, outside quotes, in the first line that holds any."""
    for line in text.splitlines()[:50]:
        outside = re.sub(r'"[^"]*"', "", line)
        for delimiter in CSV_DELIMITERS:
            if delimiter in outside:
                return delimiter
    return ";"


def _unescaped(value: str) -> str:
    """A CSV text that Izlek wrote as ``'=…`` so that no spreadsheet program runs it as a formula."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "…"


# --- reading cells -----------------------------------------------------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
_NUMBER_BODY = re.compile(r"^\d[\d.,]*$")
_GROUPED = re.compile(r"^[1-9]\d{0,2}(?:\.\d{3})+$|^[1-9]\d{0,2}(?:,\d{3})+$")
_EXAMPLES = "e.g. 1.156 (one thousand one hundred fifty-six), 1.156,75 or 95,5"


def parse_decimal(cell: Cell | Any, what: str = "the value") -> Decimal | None:
    """A cell as an exact number (see the module's notes); None for a blank cell."""
    value, number_format = (cell.value, cell.number_format) if isinstance(cell, Cell) else (cell, None)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CellError(f"{what} must be a number, not {'TRUE' if value else 'FALSE'}")
    if isinstance(value, datetime | date | time):
        raise CellError(f"{what} must be a number; the cell holds a date")
    if isinstance(value, int | float | Decimal):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            raise CellError(f"{what} must be a finite number")
        if number_format and "%" in number_format.replace('"%"', ""):
            number = number.scaleb(2)  # a percentage cell holds the fraction: 0.955 shown as %95,5
        return _without_exponent(number)
    return _turkish_number(str(value), what)


def _without_exponent(number: Decimal) -> Decimal:
    """100, not 1E+2 (what 1.0 scaled to percent or a float such as 1e20 would print as)."""
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0 and number.adjusted() < 28:
        return number.quantize(Decimal(1))
    return number


def _turkish_number(text: str, what: str) -> Decimal:
    original = text.strip()
    body = _SPACES.sub("", original)
    body = re.sub(r"(TL|₺)$", "", body, flags=re.IGNORECASE).removeprefix("₺")
    body = body.removeprefix("%").removesuffix("%")
    sign = ""
    if body[:1] in ("-", "+", "\u2212"):
        sign, body = ("-" if body[0] != "+" else ""), body[1:]
    body = body.removeprefix("%")
    if not _NUMBER_BODY.match(body) or body[-1] in ".,":
        raise CellError(f"{what}: {original!r} is not a number; write {_EXAMPLES}")
    dots, commas = body.count("."), body.count(",")
    if dots and commas:
        decimal_mark = "." if body.rfind(".") > body.rfind(",") else ","
        grouping = "," if decimal_mark == "." else "."
        whole, _, fraction = body.rpartition(decimal_mark)
        if decimal_mark in whole or not _GROUPED.match(whole) or grouping not in whole:
            raise CellError(f"{what}: {original!r} is not a number; write {_EXAMPLES}")
        digits = whole.replace(grouping, "") + "." + fraction
    elif commas == 1:
        digits = body.replace(",", ".")
    elif commas > 1 or dots > 1:
        if not _GROUPED.match(body):
            raise CellError(f"{what}: {original!r} is not a number; thousands are grouped by three "
                            f"({_EXAMPLES})")
        digits = body.replace(",", "").replace(".", "")
    elif dots == 1:
        whole, _, fraction = body.partition(".")
        # Turkish: a dot groups thousands. "1.156" is 1156; "95.5" or "0.156" cannot be grouped thousands.
        digits = whole + fraction if _GROUPED.match(body) else body
    else:
        digits = body
    try:
        return Decimal(sign + digits)
    except InvalidOperation:
        raise CellError(f"{what}: {original!r} is not a number; write {_EXAMPLES}") from None


MONTHS = {
    "ocak": 1, "subat": 2, "mart": 3, "nisan": 4, "mayis": 5, "haziran": 6, "temmuz": 7, "agustos": 8,
    "eylul": 9, "ekim": 10, "kasim": 11, "aralik": 12,
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
}
_DAY_FIRST = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_NAMED_MONTH = re.compile(r"^(\d{1,2})\.?\s+([^\W\d_]+)\s+(\d{4})$")


def parse_date(cell: Cell | Any, what: str = "the date") -> date | None:
    """A cell as a calendar date (see the module's notes); None for a blank cell."""
    value = cell.value if isinstance(cell, Cell) else cell
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool | int | float | Decimal):
        raise CellError(f"{what} must be a date such as 31.12.2020; the cell holds the number {value} "
                        "(format the cell as a date)")
    text = " ".join(str(value).split())
    if match := _DAY_FIRST.match(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO.match(text):
        year, month, day = (int(part) for part in match.groups())
    elif (match := _NAMED_MONTH.match(text)) and header_key(match.group(2)) in MONTHS:
        day, month, year = int(match.group(1)), MONTHS[header_key(match.group(2))], int(match.group(3))
    else:
        raise CellError(f"{what}: {text!r} is not a date; write it as 31.12.2020 (day.month.year) or 2020-12-31")
    try:
        return date(year, month, day)
    except ValueError:
        raise CellError(f"{what}: {text!r} is not a day of the calendar (the day comes first: 31.12.2020)") from None


def parse_text(cell: Cell | Any) -> str | None:
    """A cell as text, stripped; None for a blank cell. Whole numbers print without a decimal point."""
    value = cell.value if isinstance(cell, Cell) else cell
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == time.min else value
    if isinstance(value, date):
        value = value.isoformat()
    text = str(value).strip()
    return text or None


def header_key(text: Any) -> str:
    """How headers and words are compared: without case, accents, the dotted/dotless i distinction, and with
    runs of spaces, underscores and line breaks as one space (``Bitiş\\nTarihi`` is ``bitis tarihi``)."""
    letters = unicodedata.normalize("NFKD", str(text).replace("ı", "i").replace("İ", "I"))
    plain = "".join(c for c in letters if not unicodedata.combining(c)).casefold()
    plain = re.sub(r"[_\s]+", " ", plain)
    return plain.strip(" :*.-–")


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index: 0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


# --- writing -------------------------------------------------------------------------------------------------


def turkish_decimal_text(value: Decimal) -> str:
    """A decimal as Turkish text: ``1.156,75``, ``95,5``, ``-1.234``, ``1,156`` (one point one five six)."""
    text = format(value, "f")
    sign = "-" if text.startswith("-") else ""
    whole, _, fraction = text.lstrip("-").partition(".")
    groups = []
    while len(whole) > 3:
        whole, group = whole[:-3], whole[-3:]
        groups.insert(0, group)
    grouped = ".".join([whole, *groups])
    return sign + grouped + ("," + fraction if fraction else "")


def turkish_date_text(value: date) -> str:
    return value.strftime("%d.%m.%Y")


XLSX_DATE_FORMAT = "dd.mm.yyyy"
"""Shown as 31.12.2020 in every locale."""
MAX_XLSX_DIGITS = 15
"""Excel keeps 15 significant digits; a figure with more is written as text so that it stays exact."""


def xlsx_number_format(value: Decimal) -> str:
    """The display format of a numeric cell holding `value`: thousands grouped and exactly its decimals.
    Formats are stored in Excel's invariant notation; Turkish Excel shows ``#,##0.00`` as ``#.##0,00``."""
    exponent = value.as_tuple().exponent
    decimals = max(0, -exponent) if isinstance(exponent, int) else 0
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def fits_xlsx_number(value: Decimal) -> bool:
    return len(value.as_tuple().digits) <= MAX_XLSX_DIGITS


def csv_safe(text: str) -> str:
    """Text that no spreadsheet program runs as a formula: ``=1+1`` is written ``'=1+1`` (read back as was)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(rows: Iterable[Sequence[str]], delimiter: str = ";") -> bytes:
    """A CSV in UTF-8 with a byte-order mark (so that Excel reads Turkish letters right), quoted as needed."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
