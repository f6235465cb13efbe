"""Health routes of ``izlek gateway project``, for container probes: ``/healthz`` answers while the process's event
loop does, ``/readyz`` while the read-model database answers too. Served on ``IZLEK_GATEWAY_PROJECTOR_PORT``
(and ``IZLEK_GATEWAY_HOST``) when it is set; the projector has no other HTTP API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import structlog
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine, text

from izlek_common.http import add_health_routes
from izlek_gateway.read_models.database import create_read_model_engine
from izlek_gateway.settings import GatewaySettings

log = structlog.get_logger(__name__)


class _Server(uvicorn.Server):
    """Leaves SIGTERM and SIGINT to ``izlek gateway project``, which stops the projector cleanly first."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def projector_health_routes(settings: GatewaySettings) -> AsyncIterator[None]:
    """Serve the health routes while the block runs, if ``settings.gateway_projector_port`` is set."""
    if settings.gateway_projector_port is None:
        yield
        return
    engine = create_read_model_engine(settings.database_url)
    app = FastAPI(title="Izlek gateway projector", docs_url=None, redoc_url=None, openapi_url=None)
    add_health_routes(app, ready_check=lambda: _answers(engine))
    server = _Server(uvicorn.Config(app, host=settings.gateway_host, port=settings.gateway_projector_port,
                                    log_config=None, access_log=False, lifespan="off"))
    serving = asyncio.create_task(server.serve(), name="projector-health")
    log.info("projector.health_routes", host=settings.gateway_host, port=settings.gateway_projector_port)
    try:
        yield
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await serving
        engine.dispose()


def _answers(engine: Engine) -> bool:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return True
