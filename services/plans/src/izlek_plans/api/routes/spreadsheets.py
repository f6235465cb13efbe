"""The action-plan tracking table, uploaded as a spreadsheet (XLSX or CSV)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile

from izlek_common.auth import Principal, Role, requires
from izlek_common.entity_http import stamp_for
from izlek_common.problems import InvalidInput
from izlek_common.spreadsheets import MAX_FILE_BYTES
from izlek_plans.api.dependencies import AppDep
from izlek_plans.spreadsheet_import import import_spreadsheet

router = APIRouter(tags=["spreadsheets"])

PlanEditor = Annotated[Principal, Depends(requires(Role.coordinator, Role.admin, action="import a spreadsheet"))]


@router.post("/plans/{plan_id}/spreadsheet")
def import_tracking_table(
    plan_id: UUID,
    app: AppDep,
    principal: PlanEditor,
    file: Annotated[UploadFile, File(description="The action-plan tracking table: an Excel workbook (.xlsx) or a "
                                                 "CSV file (; or , separated, UTF-8 or Windows-1254).")],
    dry_run: Annotated[bool, Query(description="Only say what would change; write nothing.")] = False,
    sheet: Annotated[str | None, Query(max_length=200, description="The workbook's sheet to read (default: the "
                                                                   "first).")] = None,
    reason: Annotated[str | None, Form(max_length=2000, description="Why; the file's name and SHA-256 are added.")]
    = None,
    valid_at: Annotated[date | datetime | None, Form(description="When the changes took effect (default: "
                                                                 "now).")] = None,
) -> dict:
    """Import the action-plan tracking table (coordinator, admin): every row is checked first and a file with any
    error is refused whole (422, each error with its row and column); ``dry_run`` reports per row what would be
    created or changed (each field before and after) and writes nothing. Changes are made through the plan's
    commands, with the caller as author. See docs/spreadsheets.md."""
    data = file.file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    report = import_spreadsheet(app, plan_id, data, file.filename or "upload", stamp_for(principal, valid_at, reason),
                                dry_run=dry_run, sheet=sheet)
    return report.as_dict()
