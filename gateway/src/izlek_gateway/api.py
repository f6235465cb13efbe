"""The gateway's FastAPI application: GraphQL over the read models at ``/graphql``, and the projector beside it.

The gateway has no event store, so it is built here rather than with ``create_service_app``; it shares the
services' bearer auth, problem+json, correlation ids and health routes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import Engine, text
from starlette.requests import HTTPConnection
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from izlek_common.auth import TokenVerifier, authenticate, install_auth
from izlek_common.http import CorrelationIdMiddleware, add_health_routes
from izlek_common.jetstream import connect
from izlek_common.lease import lease_for
from izlek_common.logging import CORRELATION_ID_HEADER, REQUEST_ID_HEADER
from izlek_common.problems import install_problem_handlers
from izlek_gateway.files import files_router
from izlek_gateway.graphql.context import GatewayContext
from izlek_gateway.graphql.limits import RequestBodyLimit, query_limit_extensions
from izlek_gateway.graphql.response_cache import CachedQueryResponses, ResponseCache
from izlek_gateway.graphql.router import GatewayGraphQLRouter
from izlek_gateway.graphql.schema import build_schema
from izlek_gateway.graphql.subscriptions import ChangeFeed, CommitSignal, SubscriptionContext
from izlek_gateway.projector import LEASE, Projector
from izlek_gateway.read_models.database import create_read_model_engine, upgrade_database
from izlek_gateway.read_models.version import ReadModelVersion
from izlek_gateway.settings import GatewaySettings
from izlek_gateway.web import install_web_pages

log = structlog.get_logger(__name__)


def create_app(settings: GatewaySettings, engine: Engine | None = None, nats_url: str | None = None,
               service_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """Build the gateway API and its web pages on `engine` (default: the database of ``settings.database_url``).
    With a NATS URL (and ``settings.gateway_projector_enabled``) the projector runs in the same process and keeps
    the read models in step with the streams; otherwise ``izlek gateway project`` must run beside the API. The
    pages write through the plans and partners APIs (``service_transport`` carries those calls, e.g. to apps in
    the same process in tests)."""
    owns_engine = engine is None
    read_models = engine if engine is not None else create_read_model_engine(settings.database_url)
    committed = CommitSignal()
    version = ReadModelVersion(read_models)

    def on_committed(stream: str, position: int) -> None:
        version.committed()
        committed.notify(stream, position)
    feed = ChangeFeed(read_models, committed, poll_interval=settings.gateway_subscription_poll_interval)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(upgrade_database, read_models)
        stop = asyncio.Event()
        client = None
        task = None
        if nats_url and settings.gateway_projector_enabled:
            client = await connect(nats_url, "izlek-gateway")
            projector = Projector(client, read_models, batch_size=settings.gateway_projector_batch_size,
                                  on_committed=on_committed)
            # Projects only while this process holds the projector's lease: replicas wait, ready to take over.
            task = asyncio.create_task(
                lease_for(settings, nats_url, LEASE).run(version.while_projecting(projector.run), stop),
                name="gateway-projector")
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task
            if client is not None:
                await client.drain()
            await pages.aclose()
            if owns_engine:
                read_models.dispose()

    async def request_context(caller: HTTPConnection) -> AsyncIterator[GatewayContext | SubscriptionContext]:
        if caller.scope["type"] == "websocket":
            # Authenticated by its connection_init message (GatewayGraphQLRouter); subscriptions read on their own.
            yield SubscriptionContext(feed=feed)
            return
        principal = await authenticate(caller, caller.headers.get("Authorization"))
        # Every role may read; the connection is never committed, so the request cannot write.
        with read_models.connect() as connection:
            context = GatewayContext(connection=connection, principal=principal)
            try:
                yield context
            finally:
                context.close()

    app = FastAPI(
        title="Izlek gateway",
        version="1.0",
        description="GraphQL over the read models projected from every service's stream: plans, commitments, "
        "organisations, protocols, purchases and the history of every entity.",
        lifespan=lifespan,
    )
    if settings.gateway_response_cache_bytes:
        app.add_middleware(CachedQueryResponses, path="/graphql", version=version,
                           cache=ResponseCache(settings.gateway_response_cache_bytes))
    app.add_middleware(RequestBodyLimit, max_bytes=settings.gateway_max_request_bytes)
    if settings.gateway_cors_origins:
        # Bearer tokens, not cookies: no credentials, so an origin may be "*".
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.gateway_cors_origins, allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", CORRELATION_ID_HEADER, REQUEST_ID_HEADER],
            expose_headers=[CORRELATION_ID_HEADER, "WWW-Authenticate"], max_age=600,
        )
    app.add_middleware(CorrelationIdMiddleware)
    install_problem_handlers(app)
    install_auth(app, TokenVerifier(settings))
    add_health_routes(app, ready_check=lambda: _database_answers(read_models))
    pages = install_web_pages(app, settings, read_models, service_transport=service_transport)
    app.include_router(
        GatewayGraphQLRouter(build_schema(query_limit_extensions(settings)), context_getter=request_context,
                             graphql_ide="graphiql" if settings.environment == "development" else None,
                             subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
                             allowed_origins=settings.gateway_cors_origins),
        prefix="/graphql",
    )
    app.include_router(files_router(read_models))
    return app


async def _database_answers(engine: Engine) -> bool:
    def ping() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    try:
        await asyncio.to_thread(ping)
    except Exception as exc:
        log.warning("read_models_unreachable", error=str(exc))
        return False
    return True
