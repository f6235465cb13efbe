"""Reading the action-plan tracking table from a spreadsheet: its header row, its columns and every cell of every
row, with each problem named by row and column. Nothing here knows the plan; `changes` compares with it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from izlek_common.domain import values
from izlek_common.domain.errors import InvalidValue
from izlek_common.spreadsheets import (
    CellError,
    Sheet,
    SheetRow,
    SpreadsheetError,
    column_letter,
    parse_date,
    parse_decimal,
    parse_text,
    read_spreadsheet,
)
from izlek_common.tracking_table import (
    Column,
    Field,
    PeriodField,
    header,
    read_direction,
    read_status,
    recognise,
)

HEADER_SEARCH_ROWS = 20
"""The header row is looked for among the first rows: a title or a note may stand above it."""

ACTIVITY_FIELDS = frozenset({Field.ACTIVITY_CODE, Field.ACTIVITY, Field.RESPONSIBLE, Field.DUE_DATE, Field.STATUS})
INDICATOR_FIELDS = frozenset({Field.INDICATOR_CODE, Field.INDICATOR, Field.UNIT, Field.DIRECTION, Field.BASELINE})
SECTION_FIELDS = (Field.PLAN, Field.GOAL, Field.TARGET)
"""Columns that group the rows below them: a blank cell there means "as in the row above"."""


@dataclass(frozen=True)
class RowError:
    """A problem of the file: of one cell (row and column), of one row, or of the whole file (no row)."""

    message: str
    row: int | None = None
    column: str | None = None
    """The column's letter, e.g. ``F``."""
    header: str | None = None
    """The column's header as the file writes it."""

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}" + (f" ({self.header})" if self.header else ""))
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "header": self.header, "message": self.message}


class TrackingTableRejected(ValueError):
    """The file cannot be imported: each error names its row and column (or the file as a whole).
    Nothing was written."""

    def __init__(self, file_name: str, errors: list[RowError]) -> None:
        self.file_name = file_name
        self.errors = sorted(errors, key=lambda e: (e.row or 0, e.column or ""))
        shown = "; ".join(str(e) for e in self.errors[:5])
        more = f"; and {len(self.errors) - 5} more" if len(self.errors) > 5 else ""
        rows = {e.row for e in self.errors if e.row is not None}
        what = f"{len(rows)} row{'s' if len(rows) != 1 else ''} of {file_name} have errors" if rows else file_name
        super().__init__(f"{what}; nothing was imported: {shown}{more}")


@dataclass(frozen=True)
class ColumnPosition:
    index: int
    header: str

    @property
    def letter(self) -> str:
        return column_letter(self.index)


@dataclass
class TableRow:
    """One row of the table: its number in the file and the value of each filled cell, read and checked."""

    number: int
    values: dict[Column, Any] = field(default_factory=dict)
    has_errors: bool = False

    def get(self, column: Column) -> Any:
        return self.values.get(column)

    @property
    def has_activity(self) -> bool:
        return self.get(Field.ACTIVITY) is not None or self.get(Field.ACTIVITY_CODE) is not None

    @property
    def has_indicator(self) -> bool:
        return self.get(Field.INDICATOR) is not None or self.get(Field.INDICATOR_CODE) is not None

    def periods(self) -> list[PeriodField]:
        return sorted(c for c in self.values if isinstance(c, PeriodField))


@dataclass
class TrackingTable:
    """The rows of the tracking table found in a file, and the problems of its cells."""

    file_name: str
    file_format: str
    sheet: str | None
    header_row: int
    columns: dict[Column, ColumnPosition]
    ignored_columns: list[str]
    rows: list[TableRow]
    errors: list[RowError]

    def position(self, column: Column) -> ColumnPosition | None:
        return self.columns.get(column)

    def error(self, row: int, column: Column | None, message: str) -> RowError:
        position = self.columns.get(column) if column is not None else None
        if position is None:
            label = None if column is None else header(column)
            return RowError(message, row, None, label)
        return RowError(message, row, position.letter, position.header)


def read_tracking_table(data: bytes, file_name: str, sheet: str | None = None) -> TrackingTable:
    """The tracking table of an XLSX or CSV file. Problems of the file as a whole raise `TrackingTableRejected`;
    problems of single cells are collected in ``errors`` with their row and column."""
    try:
        sheet_read = read_spreadsheet(data, file_name, sheet)
    except SpreadsheetError as exc:
        raise TrackingTableRejected(file_name, [RowError(str(exc))]) from None
    header_row, columns, ignored, errors = _header(sheet_read, file_name)
    table = TrackingTable(file_name=file_name, file_format=sheet_read.file_format, sheet=sheet_read.name,
                          header_row=header_row.number, columns=columns, ignored_columns=ignored, rows=[],
                          errors=errors)
    above: dict[Column, Any] = {}
    for sheet_row in sheet_read.rows:
        if sheet_row.number <= header_row.number or sheet_row.is_blank:
            continue
        row = _row(table, sheet_row)
        for index, section in enumerate(SECTION_FIELDS):
            if row.get(section) is not None:
                above[section] = row.get(section)
                # A new goal starts new targets: the target above belongs to the goal above.
                for lower in SECTION_FIELDS[index + 1:]:
                    if row.get(lower) is None:
                        above.pop(lower, None)
            elif section in above:
                row.values[section] = above[section]
        if row.has_activity or row.has_indicator or row.has_errors:
            table.rows.append(row)
        elif any(v is not None for c, v in row.values.items() if c not in SECTION_FIELDS):
            table.errors.append(RowError("the row has values but names no activity (Faaliyet) and no indicator "
                                         "(Gösterge)", row.number))
    if not table.rows and not table.errors:
        raise TrackingTableRejected(file_name, [RowError(f"the table has no rows below its header (row "
                                                         f"{header_row.number})")])
    return table


def _header(sheet: Sheet, file_name: str) -> tuple[SheetRow, dict[Column, ColumnPosition], list[str],
                                                    list[RowError]]:
    best: tuple[int, SheetRow] | None = None
    for sheet_row in [r for r in sheet.rows if not r.is_blank][:HEADER_SEARCH_ROWS]:
        found = 0
        for cell in sheet_row.cells:
            try:
                found += recognise(parse_text(cell) or "") is not None
            except CellError:
                found += 1
        if found and (best is None or found > best[0]):
            best = (found, sheet_row)
    if best is None:
        first = next((r for r in sheet.rows if not r.is_blank), None)
        seen = ", ".join(t for t in (parse_text(c) for c in (first.cells if first else ())) if t)[:300]
        raise TrackingTableRejected(file_name, [RowError(
            "no column of the action-plan tracking table was found; the header row needs columns such as "
            "Amaç, Hedef, Faaliyet, Sorumlu Kurum, Bitiş Tarihi, Durum, Gösterge, Birim, Başlangıç Değeri, "
            "Hedef 2021, Gerçekleşen 2021 (or Goal, Target, Activity, Responsible organisation, Due date, "
            "Status, Indicator, Unit, Baseline, Target 2021, Actual 2021)" + (f"; found: {seen}" if seen else ""))])
    header_row = best[1]
    columns: dict[Column, ColumnPosition] = {}
    ignored: list[str] = []
    problems: list[RowError] = []
    for index, cell in enumerate(header_row.cells):
        text = parse_text(cell)
        if text is None:
            continue
        try:
            column = recognise(text)
        except CellError as exc:
            problems.append(RowError(str(exc), header_row.number, column_letter(index), text))
            continue
        if column is None:
            ignored.append(text)
        elif column in columns:
            problems.append(RowError(f"the column {text!r} appears twice (columns {columns[column].letter} and "
                                     f"{column_letter(index)})", header_row.number, column_letter(index), text))
        else:
            columns[column] = ColumnPosition(index, text)
    missing = _missing_columns(columns)
    if missing:
        problems.append(RowError(f"the table misses the column{'s' if len(missing) > 1 else ''} "
                                 f"{', '.join(missing)} (header row {header_row.number})"))
    if problems:
        raise TrackingTableRejected(file_name, problems)
    return header_row, columns, ignored, []


def _missing_columns(columns: dict[Column, ColumnPosition]) -> list[str]:
    def named(field_: Field) -> str:
        return f"{header(field_, 'tr')} ({header(field_, 'en')})"

    has_activity_columns = any(c in ACTIVITY_FIELDS for c in columns)
    has_indicator_columns = any(c in INDICATOR_FIELDS or isinstance(c, PeriodField) for c in columns)
    if not has_activity_columns and not has_indicator_columns:
        return [f"{named(Field.ACTIVITY)} or {named(Field.INDICATOR)}"]
    missing = []
    if has_activity_columns:
        if Field.ACTIVITY not in columns and Field.ACTIVITY_CODE not in columns:
            missing.append(f"{named(Field.ACTIVITY)} or {named(Field.ACTIVITY_CODE)}")
        elif Field.ACTIVITY_CODE not in columns and Field.TARGET not in columns:
            missing.append(named(Field.TARGET))  # activities known by their text are known under their target
    if has_indicator_columns and Field.INDICATOR not in columns and Field.INDICATOR_CODE not in columns:
        missing.append(f"{named(Field.INDICATOR)} or {named(Field.INDICATOR_CODE)}")
    return missing


def _row(table: TrackingTable, sheet_row: SheetRow) -> TableRow:
    row = TableRow(sheet_row.number)
    for column, position in table.columns.items():
        cell = sheet_row.cell(position.index)
        if cell.is_blank:
            continue
        try:
            row.values[column] = _value(column, cell)
        except (CellError, InvalidValue) as exc:
            row.has_errors = True
            table.errors.append(RowError(str(exc), sheet_row.number, position.letter, position.header))
    return row


def _value(column: Column, cell: Any) -> Any:
    if isinstance(column, PeriodField):
        return _figure(cell, "the target value" if column.kind == "target_value" else "the actual value")
    if column is Field.BASELINE:
        return _figure(cell, "the baseline")
    if column is Field.DUE_DATE:
        return parse_date(cell, "the due date")
    text = parse_text(cell)
    if column is Field.STATUS:
        return read_status(text or "")
    if column is Field.DIRECTION:
        return read_direction(text or "")
    if column in (Field.ACTIVITY_CODE, Field.INDICATOR_CODE):
        return values.code(text, "the code")
    return text


def _figure(cell: Any, what: str) -> Decimal | None:
    number = parse_decimal(cell, what)
    return None if number is None else values.decimal(number, what)


