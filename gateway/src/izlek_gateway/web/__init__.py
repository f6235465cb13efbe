"""The gateway's web pages for people: sign-in, plan dashboards, the liaison's and the cooperative's pages,
and the audit page of any entity; server-rendered (Jinja2), in Turkish with English available.

Pages read the read models through the gateway's own GraphQL schema as the signed-in person, and write
through the plans and partners APIs with that person's token (see `site`, `reads`, `writes`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from izlek_gateway.settings import GatewaySettings
from izlek_gateway.web.downloads import SessionDownloads
from izlek_gateway.web.reads import ReadFailed
from izlek_gateway.web.routes import audit, cooperative, dashboard, liaison, signin
from izlek_gateway.web.site import PageError, SignInRequired, WebSite, install_static
from izlek_gateway.web.writes import Message


def install_web_pages(app: FastAPI, settings: GatewaySettings, engine: Any,
                      service_transport: httpx.AsyncBaseTransport | None = None) -> WebSite:
    """Add the pages to the gateway `app` (close the returned site's clients when the app stops)."""
    site = WebSite(settings, engine, service_transport=service_transport)
    app.state.web_site = site
    for module in (signin, dashboard, liaison, cooperative, audit):
        app.include_router(module.router)
    install_static(app)
    app.add_middleware(SessionDownloads, settings=settings)

    async def page_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, PageError)
        visitor = await site.visitor(request)
        return site.error_page(request, visitor, error.message)

    async def read_failed(request: Request, error: Exception) -> Response:
        visitor = await site.visitor(request)
        return site.error_page(request, visitor, Message(visitor.t("problem.400"), status=400,
                                                         service_detail=str(error)))

    async def sign_in_first(request: Request, error: Exception) -> Response:
        assert isinstance(error, SignInRequired)
        visitor = await site.visitor(request)
        return site.redirect(visitor, f"/signin?next={quote(error.next_path, safe='')}")

    app.add_exception_handler(PageError, page_error)
    app.add_exception_handler(ReadFailed, read_failed)
    app.add_exception_handler(SignInRequired, sign_in_first)
    return site


__all__ = ["WebSite", "install_web_pages"]
