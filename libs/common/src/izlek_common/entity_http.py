"""HTTP for event-sourced entities, shared by the services' APIs.

The caller's stamp (author, valid time, reason, correlation id), expected versions from ``If-Match``, entity
responses with their version as ETag, ``as_of``/``valid_at`` query parameters, the mapping of the use-case
errors to problem+json, and the factory of a service's FastAPI application.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from uuid import UUID

import structlog
from fastapi import APIRouter, Depends, FastAPI, Header, Query
from fastapi.responses import JSONResponse

from izlek_common.auth import Principal, PrincipalDep, TokenVerifier, install_auth
from izlek_common.domain.base import TrackedAggregate
from izlek_common.domain.errors import InvalidValue, TransitionRefused
from izlek_common.domain.stamp import Author, Stamp
from izlek_common.eventsourced.application import TrackedApplication
from izlek_common.eventsourced.errors import (
    EntityAlreadyExists,
    EntityNotFound,
    NotPermitted,
    VersionMismatch,
)
from izlek_common.eventsourced.views import jsonable
from izlek_common.http import CorrelationIdMiddleware, add_health_routes
from izlek_common.logging import get_correlation_id
from izlek_common.problems import (
    AlreadyExists,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Problem,
    TransitionNotAllowed,
    VersionConflict,
    install_problem_handlers,
)
from izlek_common.relay import Relay

log = structlog.get_logger(__name__)

# At most 18 digits: a version fits in 64 bits, and int() refuses texts of over 4300 digits.
_ETAG = re.compile(r'^\s*(W/)?"?(\d{1,18})"?\s*$')


async def if_match_version(if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> int | None:
    """The version a client last read, from ``If-Match: "3"`` (the ETag of a GET). Asynchronous, as it never
    blocks: a synchronous dependency would cost every request a trip through the thread pool."""
    if if_match is None:
        return None
    match = _ETAG.match(if_match)
    if match is None:
        raise InvalidInput(f"If-Match must hold an entity version such as \"3\", got {if_match!r}")
    return int(match.group(2))


IfMatchDep = Annotated[int | None, Depends(if_match_version)]


def expected_version(header: int | None, body: int | None) -> int | None:
    if header is not None and body is not None and header != body:
        raise InvalidInput(f"If-Match says version {header} but the body says {body}")
    return header if header is not None else body


def author_of(principal: Principal) -> Author:
    return Author(subject=principal.subject, role=str(principal.role),
                  organisation_id=principal.organisation_id, name=principal.name)


def stamp_for(principal: Principal, valid_at: datetime | date | None = None, reason: str | None = None,
              valid_precision: str | None = None) -> Stamp:
    """The stamp of an accepted write: its author, valid time and reason, and the request's correlation id.
    ``valid_precision`` (``year``, ``month``, ``day``) says the valid time is only known that well."""
    return Stamp(author=author_of(principal), valid_at=as_instant(valid_at), reason=reason,
                 correlation_id=get_correlation_id(), valid_precision=valid_precision)


def as_instant(value: datetime | date | None) -> datetime | None:
    """Dates mean the start of that day in UTC; naive times are taken as UTC."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        return datetime.combine(value, time.min, tzinfo=UTC)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def entity_body(aggregate: TrackedAggregate, **extra: Any) -> dict[str, Any]:
    return jsonable({
        "id": aggregate.id,
        "version": aggregate.version,
        "created_on": aggregate.created_on,
        "modified_on": aggregate.modified_on,
        **aggregate.view(),
        **extra,
    })


def entity_response(aggregate: TrackedAggregate, status_code: int = 200, location: str | None = None,
                    **extra: Any) -> JSONResponse:
    headers = {"ETag": f'"{aggregate.version}"'}
    if location:
        headers["Location"] = location
    return JSONResponse(entity_body(aggregate, **extra), status_code=status_code, headers=headers)


class TimeQuery:
    """``as_of`` (what the system knew then, recorded time) and ``valid_at`` (what was true then)."""

    def __init__(
        self,
        as_of: Annotated[datetime | date | None, Query(description="Recorded time: what Izlek knew then.")] = None,
        valid_at: Annotated[datetime | date | None, Query(description="Valid time: what was true then.")] = None,
    ) -> None:
        self.as_of = as_instant(as_of)
        self.valid_at = as_instant(valid_at)

    def kwargs(self) -> dict[str, datetime | None]:
        return {"as_of": self.as_of, "valid_at": self.valid_at}


def _version_problem(error: VersionMismatch) -> Problem:
    if error.expected is not None and error.actual is not None:
        return VersionConflict(str(error), expected_version=error.expected, actual_version=error.actual)
    return Conflict(str(error))


ERROR_PROBLEMS: dict[type[Exception], Callable[[Any], Problem]] = {
    EntityNotFound: lambda e: NotFound(str(e)),
    InvalidValue: lambda e: InvalidInput(str(e)),
    EntityAlreadyExists: lambda e: AlreadyExists(str(e)),
    VersionMismatch: _version_problem,
    NotPermitted: lambda e: Forbidden(str(e)),
    TransitionRefused: lambda e: TransitionNotAllowed(str(e), current=e.current, requested=e.requested,
                                                      allowed=e.allowed),
}
"""Each use-case error answers with one problem type; services add their own domain errors."""


def create_service_app(
    *,
    title: str,
    description: str,
    application: TrackedApplication,
    verifier: TokenVerifier,
    routers: list[APIRouter],
    relay: Callable[[], Relay] | None = None,
    error_problems: Mapping[type[Exception], Callable[[Any], Problem]] | None = None,
    close_application: bool = True,
    history_guard: Callable[[Principal, UUID], None] | None = None,
) -> FastAPI:
    """A service's FastAPI app: routes, problem+json, bearer auth, correlation ids, health checks, and (when
    ``relay`` builds one) the service's relay running beside the API until shutdown. ``history_guard(principal,
    entity_id)``, if given, raises when the caller may not read that entity's history (by default anyone
    authenticated may)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = None
        if relay is not None:
            app.state.relay = relay()
            task = asyncio.create_task(app.state.relay.run(stop), name=f"{application.name}-relay")
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task
            if close_application:
                application.close()

    app = FastAPI(title=title, version="1.0", description=description, lifespan=lifespan)
    app.state.application = application
    app.state.relay = None
    app.add_middleware(CorrelationIdMiddleware)
    install_problem_handlers(app, {**ERROR_PROBLEMS, **(error_problems or {})})
    install_auth(app, verifier)
    add_health_routes(app, ready_check=lambda: _store_answers(application))
    for router in routers:
        app.include_router(router)
    app.include_router(_history_router(application, history_guard))
    return app


def _history_router(application: TrackedApplication,
                    guard: Callable[[Principal, UUID], None] | None = None) -> APIRouter:
    """``GET /history/{id}``: the same in every service, over whatever entities it keeps."""
    router = APIRouter(tags=["history"])
    kinds = ", ".join(application.entity_kinds.values())

    @router.get("/history/{entity_id}", summary="History", description=(
        f"Every event of a {kinds}: type, kind (change or correction), author, recorded at, valid at and its "
        "precision, reason, and the fields it changed."))
    def history(entity_id: UUID, principal: PrincipalDep) -> dict[str, Any]:
        if guard is not None:
            guard(principal, entity_id)
        return application.history(entity_id)

    return router


async def _store_answers(application: TrackedApplication) -> bool:
    try:
        await asyncio.to_thread(application.recorder.max_notification_id)
    except Exception as exc:
        log.warning("store_unreachable", application=application.name, error=str(exc))
        return False
    return True
