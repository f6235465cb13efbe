"""The notifications service's FastAPI application (one per process, built by ``create_app``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

from fastapi import FastAPI
from sqlalchemy import Engine

from izlek_common.auth import Principal, TokenVerifier
from izlek_common.entity_http import author_of, create_service_app
from izlek_common.problems import InvalidInput, NotFound
from izlek_notifications.api.routes import deliveries, subscriptions
from izlek_notifications.application import NotificationsApplication
from izlek_notifications.bootstrap import (
    NotificationsRuntime,
    build_application,
    build_relay,
    build_state,
    prepare_state,
)
from izlek_notifications.clock import Clock, SystemClock
from izlek_notifications.delivery.store import DeliveryStore
from izlek_notifications.domain.errors import SubscriptionDeleted, UnsafeWebhookURL
from izlek_notifications.settings import NotificationsSettings


def _unsafe_url(error: UnsafeWebhookURL) -> InvalidInput:
    extra = {key: value for key, value in (("url", error.url), ("host", error.host), ("address", error.address),
                                           ("category", error.category)) if value is not None}
    return InvalidInput(str(error), errors=[{"loc": ["body", "channel", "url"], "msg": str(error),
                                             "type": "unsafe_webhook_url"}], **extra)


NOTIFICATIONS_ERROR_PROBLEMS = {
    UnsafeWebhookURL: _unsafe_url,
    SubscriptionDeleted: lambda e: NotFound(str(e)),
}


def create_app(settings: NotificationsSettings, application: NotificationsApplication | None = None,
               engine: Engine | None = None, nats_url: str | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the notifications API. With ``settings.notifications_worker_enabled`` the runtime runs beside it (the
    delivery worker and the scheduler; with a NATS URL also the consumers of PLANS and PARTNERS), and with a NATS
    URL and ``settings.notifications_relay_enabled`` the relay of its own events to NOTIFICATIONS."""
    owns_engine = engine is None
    state = engine if engine is not None else build_state(settings)
    # Here rather than in the lifespan: Alembic keeps its context in module globals, so two migrations must not run
    # at once, and under `izlek run` the gateway migrates its read models in its own lifespan beside this one.
    prepare_state(state)
    app = application or build_application(settings, state)
    relay_url = nats_url or settings.nats_url

    def history_guard(principal: Principal, entity_id: UUID) -> None:
        if not app.may_see(entity_id, author_of(principal)):
            raise NotFound(f"no subscription {entity_id}")

    api = create_service_app(
        title="Izlek notifications service",
        description="Subscriptions to Izlek's events by signed webhook or e-mail (Turkish or English), their "
        "deliveries with retries and redrive, and reminders and weekly digests. Organisations' contacts hear of "
        "their commitments and protocols without subscribing.",
        application=app,
        verifier=TokenVerifier(settings),
        routers=[subscriptions.router, deliveries.router],
        relay=(lambda: build_relay(app, settings, relay_url)) if settings.notifications_relay_enabled and relay_url else None,
        error_problems=NOTIFICATIONS_ERROR_PROBLEMS,
        close_application=application is None,
        history_guard=history_guard,
    )
    clock = clock or SystemClock()
    api.state.clock = clock
    api.state.deliveries = DeliveryStore(state)
    api.state.runtime = None
    api.state.wake_worker = None
    served = api.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        async with served(app_):
            stop = asyncio.Event()
            task = None
            if settings.notifications_worker_enabled:
                runtime = NotificationsRuntime(app, state, settings, nats_url=relay_url, clock=clock)
                api.state.runtime = runtime
                api.state.wake_worker = runtime.worker.wake
                task = asyncio.create_task(runtime.run(stop), name="notifications-runtime")
            try:
                yield
            finally:
                stop.set()
                if task is not None:
                    await task
        if owns_engine:
            state.dispose()

    api.router.lifespan_context = lifespan
    return api
