"""The plans service's FastAPI application (one per process, built by ``create_app``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from izlek_common.auth import TokenVerifier, install_auth
from izlek_common.http import CorrelationIdMiddleware, add_health_routes
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

from izlek_plans.api.routes import commitments, criteria, history, indicators
from izlek_plans.api.routes import plans as plans_routes
from izlek_plans.application import PlansApplication
from izlek_plans.bootstrap import build_application, build_relay
from izlek_plans.domain.errors import (
    DuplicateCode,
    InvalidValue,
    StatusTransitionNotAllowed,
    UnknownPart,
)
from izlek_plans.errors import EntityAlreadyExists, EntityNotFound, NotPermitted, VersionMismatch
from izlek_plans.settings import PlansSettings

log = structlog.get_logger(__name__)


def _version_problem(error: VersionMismatch) -> Problem:
    if error.expected is not None and error.actual is not None:
        return VersionConflict(str(error), expected_version=error.expected, actual_version=error.actual)
    return Conflict(str(error))


ERROR_PROBLEMS = {
    EntityNotFound: lambda e: NotFound(str(e)),
    UnknownPart: lambda e: InvalidInput(str(e)),
    InvalidValue: lambda e: InvalidInput(str(e)),
    DuplicateCode: lambda e: AlreadyExists(str(e)),
    EntityAlreadyExists: lambda e: AlreadyExists(str(e)),
    VersionMismatch: _version_problem,
    NotPermitted: lambda e: Forbidden(str(e)),
    StatusTransitionNotAllowed: lambda e: TransitionNotAllowed(
        str(e), current=e.current, requested=e.requested, allowed=e.allowed
    ),
}
"""Each service error answers with one problem type; this is the only place they meet HTTP."""


def create_app(settings: PlansSettings, application: PlansApplication | None = None,
               nats_url: str | None = None) -> FastAPI:
    """Build the plans API. ``nats_url`` (or ``settings.nats_url``) enables the in-process relay."""
    plans = application or build_application(settings)
    relay_url = nats_url or settings.nats_url

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = None
        if settings.plans_relay_enabled and relay_url:
            relay = build_relay(plans, settings, relay_url)
            app.state.relay = relay
            task = asyncio.create_task(relay.run(stop), name="plans-relay")
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task
            if application is None:
                plans.close()

    app = FastAPI(
        title="Izlek plans service",
        version="1.0",
        description="Action plans, goals, targets, commitments, success criteria and indicators, "
        "recorded as events. Every write names its author; every read can look back in time.",
        lifespan=lifespan,
    )
    app.state.plans = plans
    app.state.relay = None
    app.add_middleware(CorrelationIdMiddleware)
    install_problem_handlers(app, ERROR_PROBLEMS)
    install_auth(app, TokenVerifier(settings))
    add_health_routes(app, ready_check=lambda: _store_answers(plans))
    for module in (plans_routes, commitments, criteria, indicators, history):
        app.include_router(module.router)
    return app


async def _store_answers(plans: PlansApplication) -> bool:
    try:
        await asyncio.to_thread(plans.recorder.max_notification_id)
    except Exception as exc:
        log.warning("plans.store_unreachable", error=str(exc))
        return False
    return True
