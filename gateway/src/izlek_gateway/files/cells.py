"""Cells of the workbooks the gateway writes: exact figures as numbers with a display format, dates and times as
date cells in Turkey's time (Excel has no time zones), text always as text."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill

from izlek_common.spreadsheets import (
    XLSX_DATE_FORMAT,
    fits_xlsx_number,
    turkish_decimal_text,
    xlsx_number_format,
)
from izlek_common.turkish_time import TURKEY

XLSX_TIME_FORMAT = "dd.mm.yyyy hh:mm:ss"
HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")


def write_cell(cell: Any, value: Any) -> None:
    """`value` into an XLSX cell: decimals as numbers with a display format (as Turkish text when Excel would
    round them), dates as date cells, times in Turkey's time, text as text (never run as a formula)."""
    if isinstance(value, bool):
        cell.value = value
    elif isinstance(value, Decimal):
        if fits_xlsx_number(value):
            plain = Decimal(format(value, "f"))
            cell.value = plain
            cell.number_format = xlsx_number_format(plain)
        else:
            cell.value = turkish_decimal_text(value)
            cell.data_type = "s"
    elif isinstance(value, datetime):
        cell.value = in_turkey(value)
        cell.number_format = XLSX_TIME_FORMAT
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = XLSX_DATE_FORMAT
    elif isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"
    else:
        cell.value = value


def in_turkey(moment: datetime) -> datetime:
    """A time as Turkey's wall clock, without a zone (Excel cannot hold one); naive times are UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(TURKEY).replace(tzinfo=None)


def figure(value: Any) -> Decimal | None:
    """A figure of a dashboard (exact text such as "16.67") as a decimal; None when there is none."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def style_header_row(sheet: Any, row: int) -> None:
    for cell in sheet[row]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
