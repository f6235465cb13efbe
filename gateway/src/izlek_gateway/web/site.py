"""The web pages' composition root: templates, the reader of the read models, the services' client, the
session's verifier; and what every page shares (rendering, the visitor, refusals as pages)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import httpx
from fastapi import Depends, FastAPI
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Match
from starlette.staticfiles import StaticFiles

from izlek_common.auth import Role, TokenVerifier
from izlek_gateway.settings import GatewaySettings
from izlek_gateway.web import charts
from izlek_gateway.web.formats import (
    format_date,
    format_moment,
    format_money,
    format_number,
    format_percent,
    format_valid,
)
from izlek_gateway.web.i18n import Translator
from izlek_gateway.web.oidc import OidcClient
from izlek_gateway.web.reads import ORGANISATION_NAME, Reader
from izlek_gateway.web.session import CSRF_FIELD, Visitor, finish, visitor_of
from izlek_gateway.web.writes import Message, ReadModelWaiter, Services

HERE = Path(__file__).parent
COMMITMENT_STATUSES = ("planned", "in_progress", "done", "dropped")
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

DOWNLOADS = (
    ("/plans/{}/export.xlsx", "dashboard.download.xlsx"),
    ("/plans/{}/export.csv", "dashboard.download.csv"),
    ("/plans/{}/report.xlsx", "dashboard.download.report"),
)
"""Downloads of a plan that other parts of the gateway offer (spreadsheets, the auditor's report); the
dashboard links those whose routes exist."""


_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class PageError(Exception):
    """A page that cannot be shown or a form that cannot be accepted; rendered as an error page."""

    def __init__(self, status: int, message: str, details: list[str] | None = None,
                 service_detail: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = Message(message, details or [], service_detail, status)


class SignInRequired(Exception):
    """No session (outside development): the visitor goes to the sign-in page and comes back."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class Formats:
    """The formatting helpers of one language, for the templates (``fmt.date(…)``)."""

    def __init__(self, language: str) -> None:
        self.language = language

    def date(self, value: Any) -> str:
        return format_date(value, self.language)

    def moment(self, value: Any) -> str:
        return format_moment(value, self.language)

    def valid(self, value: Any, precision: str | None = None) -> str:
        return format_valid(value, precision, self.language)

    def number(self, value: Any, places: int | None = None) -> str:
        return format_number(value, self.language, places)

    def percent(self, value: Any) -> str:
        return format_percent(value, self.language)

    def money(self, value: Any) -> str:
        return format_money(value, self.language)

    def value(self, value: Any) -> str:
        """A value of a history's field diff: ISO times and dates as dates, anything else as it is."""
        if isinstance(value, str) and _ISO_MOMENT.fullmatch(value):
            return format_moment(value, self.language)
        if isinstance(value, str) and _ISO_DATE.fullmatch(value):
            return format_date(value, self.language)
        return "—" if value is None else str(value)


class WebSite:
    """Everything the pages need, built once per gateway app."""

    def __init__(self, settings: GatewaySettings, engine: Any,
                 service_transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.development = settings.environment == "development"
        self.secure_cookies = not self.development
        self.verifier = TokenVerifier(settings)
        self.read = Reader(engine)
        self.services = Services(settings, transport=service_transport)
        self.waiter = ReadModelWaiter(engine, settings.gateway_web_write_wait)
        self.oidc = (OidcClient(settings, httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=5.0)))
                     if settings.gateway_oidc_issuer and settings.gateway_oidc_client_id else None)
        self.templates = Jinja2Templates(directory=TEMPLATES)
        self.templates.env.globals["charts"] = charts
        self.templates.env.trim_blocks = True
        self.templates.env.lstrip_blocks = True

    @property
    def oidc_configured(self) -> bool:
        return self.oidc is not None

    async def aclose(self) -> None:
        await self.services.aclose()
        if self.oidc is not None:
            await self.oidc.aclose()

    async def visitor(self, request: Request) -> Visitor:
        visitor = await visitor_of(request, self.verifier, development=self.development)
        principal = visitor.principal
        if principal is not None and principal.organisation_id:
            found = await self.read(principal, ORGANISATION_NAME, code=principal.organisation_id)
            if found["organisation"] is not None:
                visitor.organisation_name = found["organisation"]["name"]
        return visitor

    def render(self, request: Request, visitor: Visitor, template: str, context: dict[str, Any] | None = None,
               status_code: int = 200) -> Response:
        """A page in the visitor's language, with the cookies the visitor needs."""
        t = visitor.t
        values = {
            "t": t, "lang": visitor.language, "fmt": Formats(visitor.language), "visitor": visitor,
            "csrf_field": CSRF_FIELD, "csrf_token": visitor.csrf, "nav": self.navigation(request, visitor, t),
            "path": _path_with_query(request), "quote": quote, "oidc": self.oidc_configured,
            "development": self.development,
            "status_names": lambda kind, values: [(value, t.name(kind, value)) for value in values or []],
            "status_options": lambda current: [(status, t.name("commitment_status", status))
                                               for status in COMMITMENT_STATUSES if status != current],
            **(context or {}),
        }
        response = self.templates.TemplateResponse(request, template, values, status_code=status_code)
        response.headers["Cache-Control"] = "no-store"
        return finish(response, visitor, secure=self.secure_cookies)

    def navigation(self, request: Request, visitor: Visitor, t: Translator) -> list[tuple[str, str, bool]]:
        path = request.url.path
        items = [("/", t("nav.dashboard"), path == "/" or path.startswith("/plans/"))]
        role = visitor.role
        if role in (Role.liaison, Role.coordinator, Role.admin):
            items.append(("/liaison", t("nav.liaison"), path.startswith("/liaison")))
        if role in (Role.member, Role.coordinator, Role.admin):
            items.append(("/cooperative", t("nav.cooperative"), path.startswith("/cooperative")))
        return items

    def error_page(self, request: Request, visitor: Visitor, message: Message) -> Response:
        return self.render(request, visitor, "error.html", {"message": message}, status_code=message.status)

    def redirect(self, visitor: Visitor, location: str) -> Response:
        return finish(RedirectResponse(location, status_code=303), visitor, secure=self.secure_cookies)

    def downloads(self, app: FastAPI, plan_id: str, language: str, as_of: str | None,
                  valid_at: str | None) -> list[tuple[str, str]]:
        """The plan's downloads whose routes the gateway has (see `DOWNLOADS`), in the visitor's language and
        at the dashboard's point in time."""
        query = urlencode({"lang": language, **({"asOf": as_of} if as_of else {}),
                           **({"validAt": valid_at} if valid_at else {})})
        found = []
        for pattern, key in DOWNLOADS:
            path = pattern.format(quote(plan_id, safe=""))
            scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "headers": []}
            if any(route.matches(scope)[0] is Match.FULL for route in app.router.routes):
                found.append((f"{path}?{query}", key))
        return found


def site_of(request: Request) -> WebSite:
    return request.app.state.web_site


SiteDep = Annotated[WebSite, Depends(site_of)]


async def visitor_dep(request: Request, site: SiteDep) -> Visitor:
    """The visitor; outside development, one without a session is sent to sign in first."""
    visitor = await site.visitor(request)
    if visitor.principal is None:
        raise SignInRequired(_path_with_query(request))
    return visitor


async def any_visitor(request: Request, site: SiteDep) -> Visitor:
    """The visitor, signed in or not (the sign-in pages)."""
    return await site.visitor(request)


VisitorDep = Annotated[Visitor, Depends(visitor_dep)]
AnyVisitorDep = Annotated[Visitor, Depends(any_visitor)]


async def checked_form(request: Request, visitor: Visitor) -> FormData:
    """The posted form, provided it carries the visitor's CSRF value; otherwise a 403 page."""
    form = await request.form()
    if not visitor.csrf_matches(form.get(CSRF_FIELD)):
        raise PageError(403, visitor.t("problem.csrf"))
    return form


def local_path(value: object, default: str = "/") -> str:
    """`value` when it is a path on this site (``/liaison``), else `default`: never an open redirect."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def _path_with_query(request: Request) -> str:
    """The page's path and query, to come back to (after signing in, switching the language); without the
    one-time "saved" notice."""
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "saved"])
    return request.url.path + (f"?{query}" if query else "")


def install_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
