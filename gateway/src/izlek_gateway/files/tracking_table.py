"""The action-plan tracking table of a plan, read from the read models and written as XLSX or CSV.

The table is the one the plans service imports (``POST /plans/{id}/spreadsheet``), with the same columns
(`izlek_common.tracking_table`): one row per activity (commitment) in plan order, then one row per indicator
with its baseline and its target and actual values per period. Exporting and importing again changes nothing.

XLSX: numbers are numeric cells and dates date cells, with display formats (thousands grouped, exactly the
figure's decimals, ``dd.mm.yyyy``) that Turkish Excel shows as ``1.156,75`` and ``31.12.2020``. A figure of more
than 15 significant digits, which Excel would round, is written as Turkish text instead. CSV: ``;`` separated,
UTF-8 with a byte-order mark, numbers as ``1.156,75`` and dates as ``31.12.2020``, whatever the language of the
headers, because that is how the import reads numbers without ambiguity.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import Connection, select

from izlek_common.spreadsheets import csv_bytes, csv_safe, turkish_date_text, turkish_decimal_text
from izlek_common.tracking_table import (
    HEADERS,
    Column,
    Field,
    Language,
    PeriodField,
    direction_label,
    header,
    status_label,
)
from izlek_gateway.dashboards import indicator_bands
from izlek_gateway.files.cells import style_header_row, write_cell
from izlek_gateway.read_models.tables import actor_groups, commitments, goals, plans, targets

SHEET_TITLES = {"tr": "Takip Tablosu", "en": "Tracking table"}


@dataclass(frozen=True)
class TrackingTable:
    """The table of one plan in one language: its columns and its rows of text, dates and decimals."""

    plan_code: str
    plan_title: str
    language: Language
    columns: list[Column]
    rows: list[list[Any]]

    @property
    def headers(self) -> list[str]:
        return [header(column, self.language) for column in self.columns]


def read_tracking_table(connection: Connection, plan_id: str, language: Language = "tr") -> TrackingTable | None:
    """The plan's tracking table from the read models on `connection` (the present, or a view of the past);
    None when there is no such plan there."""
    plan = connection.execute(select(plans).where(plans.c.id == plan_id)).first()
    if plan is None:
        return None
    english = language == "en"
    goal_rows = {r.code: r for r in connection.execute(select(goals).where(goals.c.plan_id == plan_id))}
    target_rows = {r.code: r for r in connection.execute(select(targets).where(targets.c.plan_id == plan_id))}
    group_rows = {r.code: r for r in connection.execute(select(actor_groups).where(actor_groups.c.plan_id == plan_id))}
    commitment_rows = connection.execute(select(commitments).where(commitments.c.plan_id == plan_id)).all()
    indicators = indicator_bands(connection, plan_id)

    def titled(row: Any) -> str:
        title = row.title_en if english and row.title_en else row.title
        return f"{row.code} {title}"

    def goal_order(target_code: str) -> tuple[Any, ...]:
        target = target_rows.get(target_code)
        goal = goal_rows.get(target.goal_code) if target is not None else None
        number = goal.number if goal is not None and goal.number is not None else 10**9
        return (number, _natural(target.goal_code if target else ""), _natural(target_code))

    periods = sorted({p.period for i in indicators for p in i.periods if p.target is not None or p.actual is not None})
    columns: list[Column] = [*HEADERS]
    for period in periods:
        columns += [PeriodField(period, "target_value"), PeriodField(period, "actual")]
    rows = []
    ordered = sorted(commitment_rows, key=lambda c: (*goal_order(c.target_code), c.position or 0, _natural(c.code)))
    for commitment in ordered:
        target = target_rows.get(commitment.target_code)
        goal = goal_rows.get(target.goal_code) if target is not None else None
        group = group_rows.get(commitment.actor_group or "")
        group_name = (group.name_en or group.name) if group is not None and english else (
            group.name if group is not None else commitment.actor_group)
        values: dict[Column, Any] = {
            Field.PLAN: plan.code,
            Field.GOAL: titled(goal) if goal is not None else None,
            Field.TARGET: titled(target) if target is not None else commitment.target_code,
            Field.ACTIVITY_CODE: commitment.code,
            Field.ACTIVITY: commitment.title,
            Field.RESPONSIBLE: "; ".join(p for p in (group_name, commitment.organisation_id) if p) or None,
            Field.DUE_DATE: commitment.due_date,
            Field.STATUS: status_label(commitment.status, language),
        }
        rows.append([values.get(column) for column in columns])
    for indicator in indicators:
        values = {
            Field.PLAN: plan.code,
            Field.INDICATOR_CODE: indicator.code,
            Field.INDICATOR: indicator.name,
            Field.UNIT: indicator.unit,
            Field.DIRECTION: direction_label(indicator.direction, language),
            Field.BASELINE: indicator.baseline,
        }
        for value in indicator.periods:
            values[PeriodField(value.period, "target_value")] = value.target
            values[PeriodField(value.period, "actual")] = value.actual
        rows.append([values.get(column) for column in columns])
    return TrackingTable(plan_code=plan.code, plan_title=plan.title, language=language, columns=columns, rows=rows)


def _natural(code: str) -> tuple[Any, ...]:
    """``T1.10`` after ``T1.9``."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", code))


# --- writing ---------------------------------------------------------------------------------------------


def xlsx_bytes(table: TrackingTable) -> bytes:
    """The table as an Excel workbook: one sheet, a bold header row that stays in view, numeric and date cells."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLES[table.language]
    workbook.properties.creator = "Izlek"
    workbook.properties.title = f"{table.plan_title}: {SHEET_TITLES[table.language]}"
    sheet.append(table.headers)
    style_header_row(sheet, 1)
    for values in table.rows:
        sheet.append([None] * len(values))
        for index, value in enumerate(values, start=1):
            write_cell(sheet.cell(sheet.max_row, index), value)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    widths = {Field.GOAL: 30, Field.TARGET: 30, Field.ACTIVITY: 60, Field.RESPONSIBLE: 30, Field.INDICATOR: 40}
    for index, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = widths.get(column, 16)  # type: ignore[call-overload]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_of(table: TrackingTable) -> bytes:
    """The table as a Turkish CSV: ``;`` separated, ``1.156,75``, ``31.12.2020``, UTF-8 with a byte-order mark."""
    return csv_bytes([table.headers, *([text_of(value) for value in row] for row in table.rows)])


def text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return turkish_decimal_text(value)
    if isinstance(value, date):
        return turkish_date_text(value)
    return csv_safe(str(value))
