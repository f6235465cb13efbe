"""Import of the action-plan tracking table (Eylem Planı Takip Tablosu) from an XLSX or CSV file.

`import_spreadsheet` reads every row first (`table`), then rehearses the whole import on an in-memory copy of
the plan (`changes`): every problem of every row is found, with its row and column, before anything is written,
and a file with any problem is refused whole (`TrackingTableRejected`). A dry run stops after the rehearsal and
reports what would change. Otherwise the same changes are made through the application's commands, with the
caller's stamp, so they are audited like any other change. See docs/spreadsheets.md.
"""

from __future__ import annotations

import dataclasses
import hashlib
from uuid import UUID

from izlek_common.domain.stamp import Stamp
from izlek_common.eventstore import eventsourcing_env
from izlek_common.importing import ProgressCallback
from izlek_common.tracking_table import Column, PeriodField
from izlek_plans.application import PlansApplication
from izlek_plans.domain.plan import ActionPlan
from izlek_plans.policy import require_plan_editor
from izlek_plans.spreadsheet_import.changes import TableImport
from izlek_plans.spreadsheet_import.report import (
    EntityChange,
    FieldChange,
    RowResult,
    SpreadsheetImportReport,
)
from izlek_plans.spreadsheet_import.table import RowError, TrackingTableRejected, read_tracking_table

__all__ = [
    "EntityChange",
    "FieldChange",
    "RowError",
    "RowResult",
    "SpreadsheetImportInterrupted",
    "SpreadsheetImportReport",
    "TrackingTableRejected",
    "import_spreadsheet",
]


class SpreadsheetImportInterrupted(RuntimeError):
    """The plan changed between the rehearsal and the import, and a row that rehearsed well was refused; the
    rows before it were imported (``report``)."""

    def __init__(self, report: SpreadsheetImportReport, errors: list[RowError]) -> None:
        self.report = report
        self.errors = errors
        super().__init__(f"the plan changed while {report.file_name} was imported: "
                         f"{'; '.join(str(e) for e in errors[:3])}; rows before row {errors[0].row} were imported")


def import_spreadsheet(app: PlansApplication, plan_id: UUID, data: bytes, file_name: str, stamp: Stamp, *,
                       dry_run: bool = False, sheet: str | None = None,
                       progress: ProgressCallback | None = None) -> SpreadsheetImportReport:
    """Bring the plan in line with the tracking table in `data` (an XLSX or CSV file called `file_name`), or with
    ``dry_run`` only say what that would change. Every change is made with `stamp` (its reason says which file,
    with its SHA-256); a file with any problem raises `TrackingTableRejected` naming each row and column, and
    nothing is written."""
    require_plan_editor(stamp.author, "import a spreadsheet")
    plan = app.get_plan(plan_id)
    table = read_tracking_table(data, file_name, sheet)
    digest = hashlib.sha256(data).hexdigest()
    source = f"{file_name} (sha256 {digest[:12]})"
    stamp = dataclasses.replace(stamp, reason=f"{stamp.reason} ({source})" if stamp.reason
                                else f"imported from {source}")
    report = SpreadsheetImportReport(
        plan_id=plan.id, plan_code=plan.code, file_name=file_name, sha256=digest, file_format=table.file_format,
        sheet=table.sheet, header_row=table.header_row, dry_run=dry_run,
        columns=[{"column": position.letter, "header": position.header, "reads": _field_name(column)}
                 for column, position in table.columns.items()],
        ignored_columns=table.ignored_columns,
    )
    rehearsal = _rehearsal_of(app, plan)
    try:
        results, errors = TableImport(rehearsal, plan_id, table, stamp, progress, "checking row").run()
    finally:
        rehearsal.close()
    if table.errors or errors:
        raise TrackingTableRejected(file_name, [*table.errors, *errors])
    if dry_run or not any(row.outcome != "unchanged" for row in results):
        report.rows = results
        return report
    report.rows, errors = TableImport(app, plan_id, table, stamp, progress, "importing row").run()
    if errors:
        raise SpreadsheetImportInterrupted(report, errors)
    return report


def _field_name(column: Column) -> str:
    return f"{column.kind}[{column.period}]" if isinstance(column, PeriodField) else column.value


def _rehearsal_of(app: PlansApplication, plan: ActionPlan) -> PlansApplication:
    """An application in memory holding the plan, its commitments and its indicators as recorded."""
    rehearsal = PlansApplication(env=eventsourcing_env("memory://"))
    events = [event for entity_id in (plan.id, *plan.commitment_ids, *plan.indicator_ids)
              for event in app.events.get(entity_id)]
    rehearsal.save(*events)
    return rehearsal
