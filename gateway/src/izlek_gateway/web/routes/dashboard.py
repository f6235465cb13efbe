"""The plan dashboard: success criteria and their bands, commitments by actor group and status, overdue
commitments, protocols, quota compliance and indicator trends, now or as of / valid at a date."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from izlek_gateway.graphql.scalars import point_in_time
from izlek_gateway.web.charts import TrendPoint
from izlek_gateway.web.formats import NotADate, parse_day
from izlek_gateway.web.i18n import Translator
from izlek_gateway.web.reads import DASHBOARD, PLANS, last_changes
from izlek_gateway.web.session import Visitor
from izlek_gateway.web.site import PageError, SiteDep, VisitorDep, WebSite

router = APIRouter(include_in_schema=False)

STATUSES = ("planned", "in_progress", "done", "dropped")
DateText = Annotated[str | None, Query()]


@router.get("/")
async def home(request: Request, site: SiteDep, visitor: VisitorDep, plan: str | None = None) -> Response:
    """The dashboard of the chosen plan, or of the first plan the visitor may see."""
    if plan:
        return site.redirect(visitor, f"/plans/{quote(plan, safe='')}")
    plans = (await site.read(visitor.principal, PLANS))["plans"]
    if not plans:
        return site.render(request, visitor, "no_plans.html")
    return site.redirect(visitor, f"/plans/{quote(plans[0]['id'], safe='')}")


@router.get("/plans/{plan_id}")
async def dashboard(request: Request, plan_id: str, site: SiteDep, visitor: VisitorDep,
                    asOf: DateText = None, validAt: DateText = None) -> Response:
    """A plan's dashboard; `asOf` (what Izlek knew then) and `validAt` (what was true then) are dates."""
    t = visitor.t
    as_of, valid_at = day_parameter(asOf, t), day_parameter(validAt, t)
    data = await site.read(visitor.principal, DASHBOARD, planId=plan_id, asOf=as_of, validAt=valid_at)
    if data["plan"] is None and not (as_of or valid_at):
        raise PageError(404, t("plan.not_found"))
    protocols = await with_last_changes(site, visitor, data["protocols"], as_of, valid_at)
    return site.render(request, visitor, "dashboard.html", {
        "plan": data["plan"], "plan_id": plan_id, "plans": data["plans"],
        "plans_options": [(p["id"], p["titleEn"] if visitor.language == "en" and p["titleEn"] else p["title"])
                          for p in data["plans"]],
        "dashboard": data["dashboard"], "protocols": protocols, "as_of": as_of, "valid_at": valid_at,
        "statuses": STATUSES, "statuses_counts": lambda counts: [(counts.get(s, 0), s) for s in STATUSES],
        "trend_points": trend_points, "downloads": site.downloads(request.app, plan_id, visitor.language, as_of, valid_at),
    })


def day_parameter(value: str | None, t: Translator) -> str | None:
    """A date of the query string (``2021-06-30``, as a date input sends it), or a 422 page."""
    try:
        day = parse_day(value)
    except NotADate:
        raise PageError(422, t("problem.bad_date", value=value)) from None
    return None if day is None else day.isoformat()


async def with_last_changes(site: WebSite, visitor: Visitor, protocols: list[dict[str, Any]],
                            as_of: str | None, valid_at: str | None) -> list[dict[str, Any]]:
    """The protocols, each with its latest change recorded by `as_of` and in effect by `valid_at`."""
    if not protocols:
        return []
    ids = {f"e{n}": protocol["id"] for n, protocol in enumerate(protocols)}
    histories = await site.read(visitor.principal, last_changes(len(protocols)), asOf=as_of, **ids)
    limit = point_in_time(valid_at) if valid_at else None
    result = []
    for n, protocol in enumerate(protocols):
        entries = [e for e in histories[f"e{n}"]
                   if limit is None or datetime.fromisoformat(e["validAt"]) <= limit]
        result.append({**protocol, "lastChange": entries[-1] if entries else None})
    return result


def trend_points(periods: list[dict[str, Any]]) -> list[TrendPoint]:
    def number(value: str | None) -> Decimal | None:
        return None if value is None else Decimal(value)

    return [TrendPoint(p["period"], number(p["target"]), number(p["actual"])) for p in periods]
