"""``GET /plans/{id}/export.xlsx|.csv``, ``/plans/{id}/report.xlsx`` and ``/plans/{id}/reports/{code}.xlsx``.

Bearer tokens as for ``/graphql``; every role may download what it may query. Each file is read through the view
a GraphQL root field would read (`GatewayContext.view_at`): ``asOf`` and ``validAt`` as in GraphQL (a date is the
end of that day in Turkey), and a partner app outside its scopes gets 404 as if the plan did not exist.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlalchemy import Engine

from izlek_common.auth import Principal, PrincipalDep
from izlek_common.problems import InvalidInput, NotFound
from izlek_common.turkish_time import TURKEY
from izlek_gateway.dashboards import plan_dashboard
from izlek_gateway.files.history import commitment_history
from izlek_gateway.files.report_workbook import PublishedReport, ReportFile, report_workbook
from izlek_gateway.files.tracking_table import TrackingTable, csv_of, read_tracking_table, xlsx_bytes
from izlek_gateway.graphql.context import GatewayContext, View
from izlek_gateway.graphql.report import plain
from izlek_gateway.graphql.scalars import point_in_time
from izlek_gateway.graphql.schema import schema

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"

AsOf = Annotated[str | None, Query(alias="asOf", max_length=64, description=(
    "What Izlek knew then (recorded time): a date (the end of that day in Turkey) or a date-time."))]
ValidAt = Annotated[str | None, Query(alias="validAt", max_length=64, description=(
    "What was true then (valid time): a date (the end of that day in Turkey) or a date-time."))]
Lang = Annotated[Literal["tr", "en"], Query(description="Headers and words in Turkish (tr) or English (en).")]

PUBLISHED_REPORT = """
query PublishedReport($planId: ID!, $code: String!) {
  report(planId: $planId, code: $code) {
    code title note publishedAt validAt publishedBy publishedByRole publishedByOrganisation
    contents contentsHash
    differences { path published now }
    laterChanges { entityType name kind author role organisation recordedAt validAt reason data }
  }
}
"""


def files_router(engine: Engine) -> APIRouter:
    """The routes of the files, reading the read models on `engine`."""
    router = APIRouter(tags=["files"])

    @asynccontextmanager
    async def plan_view(principal: Principal, plan_id: UUID, as_of: datetime | None,
                        valid_at: datetime | None) -> AsyncIterator[tuple[GatewayContext, View]]:
        with engine.connect() as connection:
            context = GatewayContext(connection=connection, principal=principal)
            try:
                view = await context.view_at(as_of, valid_at)
                visible = await view.visible_plan_ids()
                if visible is not None and str(plan_id) not in visible:
                    raise NotFound(_no_plan(plan_id, as_of, valid_at))
                yield context, view
            finally:
                context.close()

    async def tracking_table(principal: Principal, plan_id: UUID, as_of: str | None, valid_at: str | None,
                             lang: Literal["tr", "en"]) -> tuple[TrackingTable, str]:
        moments = _moments(as_of, valid_at)
        async with plan_view(principal, plan_id, *moments) as (_, view):
            table = await view.run(read_tracking_table, str(plan_id), lang)
        if table is None:
            raise NotFound(_no_plan(plan_id, *moments))
        name = "takip-tablosu" if lang == "tr" else "tracking-table"
        return table, _file_name(table.plan_code, name, *moments)

    @router.get("/plans/{plan_id}/export.xlsx", response_class=Response,
                responses={200: {"content": {XLSX: {}}, "description": "The tracking table as a workbook."}})
    async def export_xlsx(plan_id: UUID, principal: PrincipalDep, as_of: AsOf = None, valid_at: ValidAt = None,
                          lang: Lang = "tr") -> Response:
        """The plan's action-plan tracking table as an Excel workbook (activities, then indicators with their
        target and actual per period), numbers and dates as cells with Turkish display formats; importing it into
        the plans service changes nothing. See docs/spreadsheets.md."""
        table, name = await tracking_table(principal, plan_id, as_of, valid_at, lang)
        return _download(await asyncio.to_thread(xlsx_bytes, table), XLSX, f"{name}.xlsx")

    @router.get("/plans/{plan_id}/export.csv", response_class=Response,
                responses={200: {"content": {"text/csv": {}}, "description": "The tracking table as CSV."}})
    async def export_csv(plan_id: UUID, principal: PrincipalDep, as_of: AsOf = None, valid_at: ValidAt = None,
                         lang: Lang = "tr") -> Response:
        """The plan's action-plan tracking table as CSV the way Turkish Excel writes it: ``;`` separated, UTF-8
        with a byte-order mark, numbers as ``1.156,75`` and dates as ``31.12.2020``."""
        table, name = await tracking_table(principal, plan_id, as_of, valid_at, lang)
        return _download(await asyncio.to_thread(csv_of, table), CSV, f"{name}.csv")

    @router.get("/plans/{plan_id}/report.xlsx", response_class=Response,
                responses={200: {"content": {XLSX: {}}, "description": "The auditor's report workbook."}})
    async def report_xlsx(plan_id: UUID, principal: PrincipalDep, as_of: AsOf = None, valid_at: ValidAt = None,
                          lang: Lang = "tr") -> Response:
        """The auditor's report of a plan as of a recorded time and valid at a valid time: a cover sheet, the
        success-criteria dashboard (bands, overrides, coverage, quota compliance, commitments by actor group and
        status) and the history of its commitments (who, role, organisation, when recorded and valid, why,
        change or correction, fields changed)."""
        moments = _moments(as_of, valid_at)
        async with plan_view(principal, plan_id, *moments) as (_, view):
            dashboard = await view.run(plan_dashboard, str(plan_id), view.today)
            if dashboard is None:
                raise NotFound(_no_plan(plan_id, *moments))
            history = await view.run(commitment_history, str(plan_id))
        report = ReportFile(language=lang, plan_id=str(plan_id), dashboard=plain(dashboard), history=history,
                            produced_by=principal, produced_at=datetime.now(UTC), as_of=moments[0],
                            valid_at=moments[1])
        name = _file_name(dashboard.plan_code, "rapor" if lang == "tr" else "report", *moments)
        return _download(await asyncio.to_thread(report_workbook, report), XLSX, f"{name}.xlsx")

    @router.get("/plans/{plan_id}/reports/{code}.xlsx", response_class=Response,
                responses={200: {"content": {XLSX: {}}, "description": "A published report as a workbook."}})
    async def published_report_xlsx(plan_id: UUID, principal: PrincipalDep,
                                    code: Annotated[str, Path(max_length=64)], lang: Lang = "tr") -> Response:
        """A published report as a workbook: its contents as published (the dashboard Izlek knew at publication,
        valid at the report's date, with the SHA-256 of its contents), the differences known since and the later
        changes that make them, and the history of the plan's commitments at that point."""
        async with plan_view(principal, plan_id, None, None) as (context, _):
            result = await schema.execute(PUBLISHED_REPORT, variable_values={"planId": str(plan_id), "code": code},
                                          context_value=context)
            if result.errors:
                raise RuntimeError(f"the published report could not be read: {result.errors}")
            found = (result.data or {}).get("report")
            if found is None or found.get("contents") is None:
                raise NotFound(f"plan {plan_id} has no published report {code!r}")
            published = _published(found)
            view = await context.view_at(published.published_at, published.valid_at)
            history = await view.run(commitment_history, str(plan_id))
        report = ReportFile(language=lang, plan_id=str(plan_id), dashboard=found["contents"], history=history,
                            produced_by=principal, produced_at=datetime.now(UTC), as_of=published.published_at,
                            valid_at=published.valid_at, published=published)
        name = _file_name(found["contents"].get("plan_code") or str(plan_id), f"rapor-{code}" if lang == "tr"
                          else f"report-{code}", None, None)
        return _download(await asyncio.to_thread(report_workbook, report), XLSX, f"{name}.xlsx")

    return router


def _moments(as_of: str | None, valid_at: str | None) -> tuple[datetime | None, datetime | None]:
    moments = []
    for name, text in (("asOf", as_of), ("validAt", valid_at)):
        if text is None or not text.strip():
            moments.append(None)
            continue
        try:
            moments.append(point_in_time(text))
        except (ValueError, OverflowError) as exc:
            raise InvalidInput(f"{name}: {exc}", errors=[{"loc": ["query", name], "msg": str(exc),
                                                         "type": "value_error"}]) from None
    return moments[0], moments[1]


def _published(report: dict[str, Any]) -> PublishedReport:
    return PublishedReport(
        code=report["code"], title=report["title"], note=report.get("note"),
        published_at=datetime.fromisoformat(report["publishedAt"]), valid_at=datetime.fromisoformat(report["validAt"]),
        published_by=report["publishedBy"], published_by_role=report["publishedByRole"],
        published_by_organisation=report.get("publishedByOrganisation"), contents_hash=report["contentsHash"],
        differences=list(report.get("differences") or []), later_changes=list(report.get("laterChanges") or []),
    )


def _no_plan(plan_id: UUID, as_of: datetime | None, valid_at: datetime | None) -> str:
    when = [f"as of {as_of.isoformat()}" if as_of else "", f"valid at {valid_at.isoformat()}" if valid_at else ""]
    return " ".join(["no plan", str(plan_id), *(w for w in when if w)])


def _file_name(plan_code: str, what: str, as_of: datetime | None, valid_at: datetime | None) -> str:
    parts = [plan_code, what]
    if as_of is not None:
        parts.append(f"asof-{as_of.astimezone(TURKEY).date().isoformat()}")
    if valid_at is not None:
        parts.append(f"validat-{valid_at.astimezone(TURKEY).date().isoformat()}")
    return "-".join(parts)


def _download(body: bytes, media_type: str, file_name: str) -> Response:
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "-", unicodedata.normalize("NFKD", file_name.replace("ı", "i"))
                        .encode("ascii", "ignore").decode()) or "izlek"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})
