"""Downloads of a plan's files (the tracking table, the auditor's report) from the pages, with the session.

The file routes (`izlek_gateway.files`) take bearer tokens, as the API does; a browser following a link from the
dashboard sends its session cookie instead. For GETs of those paths only, and only without an ``Authorization``
header, the session's token is passed on as the bearer token (in development, a visitor without a session gets a
short-lived token of the read-only development auditor, as the pages treat them). The cookie is SameSite=Strict,
so a link on another site cannot download anything in the person's name, and a GET changes nothing.
"""

from __future__ import annotations

import re
from datetime import timedelta

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from izlek_common.auth import issue_token
from izlek_gateway.settings import GatewaySettings
from izlek_gateway.web.session import GUEST, SESSION_COOKIE

DOWNLOAD_PATH = re.compile(r"/plans/[^/]+/(export\.xlsx|export\.csv|report\.xlsx|reports/[^/]+\.xlsx)")
GUEST_TOKEN_LIFETIME = timedelta(minutes=5)


class SessionDownloads:
    """ASGI middleware: the session cookie as the bearer token of a download (see the module's docstring)."""

    def __init__(self, app: ASGIApp, settings: GatewaySettings) -> None:
        self.app = app
        self.settings = settings
        self.development = settings.environment == "development"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["method"] in ("GET", "HEAD")
                and DOWNLOAD_PATH.fullmatch(scope["path"])):
            headers = Headers(scope=scope)
            if "authorization" not in headers:
                token = cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE) or self._guest_token()
                if token:
                    scope = {**scope, "headers": [*scope["headers"], (b"authorization", f"Bearer {token}".encode())]}
        await self.app(scope, receive, send)

    def _guest_token(self) -> str | None:
        if not self.development or self.settings.jwt_algorithm != "HS256":
            return None
        return issue_token(self.settings, subject=GUEST.subject, role=GUEST.role, name=GUEST.name,
                           ttl=GUEST_TOKEN_LIFETIME)
