"""HTTP plumbing shared by the services: correlation ids with access logs, and health routes."""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Collection

import structlog
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from izlek_common.logging import (
    CORRELATION_ID_HEADER,
    REQUEST_ID_HEADER,
    correlation_scope,
    parse_correlation_id,
)
from izlek_common.problems import ServiceUnavailable, internal_error_response

HEALTH_PATHS = ("/healthz", "/readyz")

access_log = structlog.get_logger("izlek.access")
log = structlog.get_logger(__name__)


class CorrelationIdMiddleware:
    """Gives every request a correlation id, echoes it in `X-Correlation-ID` and logs one access line.

    The id comes from `X-Correlation-ID` or `X-Request-ID` when the client sent an acceptable one; otherwise
    a new one is made. It is bound for the whole request, so problem bodies, log lines and published events
    carry it. An error nothing else handled is logged here and answered with a 500 problem that still
    carries the id. Health probes are logged at debug level so that they do not drown the access log.
    """

    def __init__(self, app: ASGIApp, *, quiet_paths: Collection[str] = HEALTH_PATHS) -> None:
        self.app = app
        self.quiet_paths = frozenset(quiet_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        incoming = parse_correlation_id(headers.get(CORRELATION_ID_HEADER)) or parse_correlation_id(
            headers.get(REQUEST_ID_HEADER)
        )
        with correlation_scope(incoming) as cid:
            if scope["type"] == "websocket":
                await self.app(scope, receive, send)
                return
            await self._handle_http(scope, receive, send, cid)

    async def _handle_http(self, scope: Scope, receive: Receive, send: Send, cid: str) -> None:
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_correlation_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)[CORRELATION_ID_HEADER] = cid
            await send(message)

        path = scope.get("path", "")
        try:
            await self.app(scope, receive, send_with_correlation_id)
        except Exception as exc:
            log.error("unhandled_exception", method=scope.get("method"), path=path, exc_info=exc)
            if response_started:
                raise
            # Answered here rather than re-raised: the server's own handler would log it a second time,
            # without the correlation id, and send a 500 without the header.
            await internal_error_response(path)(scope, receive, send_with_correlation_id)
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            emit = access_log.debug if path in self.quiet_paths else access_log.info
            emit(
                "http_request", method=scope.get("method"), path=path, status=status, duration_ms=duration_ms
            )


ReadyCheck = Callable[[], bool | Awaitable[bool]]


def add_health_routes(app: FastAPI, ready_check: ReadyCheck | None = None) -> None:
    """Add `GET /healthz` (the process is alive) and `GET /readyz` (it can serve: `ready_check()` is true).

    A synchronous `ready_check` runs in a worker thread, so it may block (e.g. ping a database).
    """

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        responses={503: {"description": "Not ready", "content": {"application/problem+json": {}}}},
    )
    async def readyz() -> Response:
        """Readiness: the service and what it depends on can take requests."""
        if ready_check is None or await _is_ready(ready_check):
            return JSONResponse({"status": "ready"})
        return ServiceUnavailable("the service is not ready").to_response("/readyz")


async def _is_ready(check: ReadyCheck) -> bool:
    try:
        if inspect.iscoroutinefunction(check):
            result = await check()
        else:
            result = await run_in_threadpool(check)
            if inspect.isawaitable(result):
                result = await result
        return bool(result)
    except Exception as exc:
        log.warning("readiness_check_failed", exc_info=exc)
        return False
