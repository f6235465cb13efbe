"""Writes from the pages: sent to the plans and partners APIs with the user's own token, so every event names
the person; a refusal (problem+json) comes back as a `Refusal` that the page shows in the user's language.

After an accepted write the page waits, briefly, until the gateway's read models hold the version the service
answered with (`ReadModelWaiter`), so the page it redirects to shows the change.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import Engine, Table, select

from izlek_common.logging import CORRELATION_ID_HEADER, get_correlation_id
from izlek_gateway.settings import GatewaySettings
from izlek_gateway.web.i18n import Translator


class Refusal(Exception):
    """A service refused a write (or could not be reached); `problem` is its problem+json body."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status}: {problem.get('detail')}")
        self.status = status
        self.problem = problem


class Services:
    """The plans and partners APIs as the pages call them."""

    def __init__(self, settings: GatewaySettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.urls = {"plans": settings.gateway_plans_url.rstrip("/"),
                     "partners": settings.gateway_partners_url.rstrip("/")}
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=5.0), transport=transport)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def post(self, service: str, path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST `body` as the user; the service's answer, or `Refusal`."""
        return await self._call("POST", service, path, token, json=body)

    async def get(self, service: str, path: str, token: str, **params: str) -> Any:
        return await self._call("GET", service, path, token, params=params)

    async def _call(self, method: str, service: str, path: str, token: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}", CORRELATION_ID_HEADER: get_correlation_id() or ""}
        try:
            response = await self._client.request(method, self.urls[service] + path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise Refusal(503, {"status": 503, "detail": f"the {service} service does not answer: {exc!r}"}) from exc
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {}
            if not isinstance(problem, dict):
                problem = {}
            raise Refusal(response.status_code, {"status": response.status_code, **problem})
        return response.json()


@dataclass
class Message:
    """What a page says about a refusal: a sentence in the user's language, details (field errors), and the
    service's own words when nothing more specific could be said (in English, marked as such)."""

    text: str
    details: list[str] = field(default_factory=list)
    service_detail: str | None = None
    status: int = 400


def describe(refusal: Refusal, t: Translator, status_names: str = "protocol_status") -> Message:
    """The refusal in the user's language; `status_names` names the statuses of a forbidden transition."""
    problem = refusal.problem
    status = refusal.status
    detail = problem.get("detail") if isinstance(problem.get("detail"), str) else None
    if status == 409 and "allowed" in problem:
        allowed = [str(s) for s in problem.get("allowed") or []]
        current = t.name(status_names, str(problem.get("current")))
        requested = t.name(status_names, str(problem.get("requested")))
        text = (t("problem.409.transition", current=current, requested=requested,
                  allowed=t.names(status_names, allowed)) if allowed
                else t("problem.409.transition_none", current=current))
        return Message(text, status=status)
    if status == 409 and "expected_version" in problem:
        return Message(t("problem.409.version"), status=status)
    if status == 409 and str(problem.get("type", "")).endswith("already-exists"):
        return Message(t("problem.409.exists"), status=status)
    if status == 422:
        if detail and _REASON_REQUIRED.search(detail):
            return Message(t("problem.422.reason"), status=status)
        if detail and _INACTIVE_PROTOCOL.search(detail):
            return Message(t("problem.422.inactive_protocol"), status=status)
        details = [_field_error(error, t) for error in problem.get("errors") or [] if isinstance(error, dict)]
        return Message(t("problem.422"), details=details, service_detail=None if details else detail,
                       status=status)
    key = f"problem.{status}" if status in (400, 401, 403, 404, 409, 503) else "problem.generic"
    known = status in (401, 403, 404, 503)
    return Message(t(key), service_detail=None if known else detail, status=status)


_REASON_REQUIRED = re.compile(r"\ba reason is required\b|\breason\b.*\brequired\b")
_INACTIVE_PROTOCOL = re.compile(r"purchases are recorded under a signed")


def _field_error(error: dict[str, Any], t: Translator) -> str:
    location = [str(part) for part in error.get("loc") or [] if str(part) not in ("body", "query", "path")]
    name = location[-1] if location else "?"
    message = t("problem.field.missing") if error.get("type") == "missing" else t("problem.field.invalid")
    return t("problem.422.field", field=t.field(name), message=message)


class ReadModelWaiter:
    """Waits until the gateway's read models hold an entity at (at least) a version."""

    def __init__(self, engine: Engine, patience: float) -> None:
        self.engine = engine
        self.patience = patience

    async def until(self, table: Table, entity_id: str, version: int) -> bool:
        """True once the row of `entity_id` in `table` has `version` or later; False when patience runs out."""
        deadline = time.monotonic() + self.patience
        while True:
            current = await asyncio.to_thread(self._version, table, entity_id)
            if current is not None and current >= version:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.05)

    def _version(self, table: Table, entity_id: str) -> int | None:
        with self.engine.connect() as connection:
            return connection.execute(select(table.c.version).where(table.c.id == entity_id)).scalar()
