"""The gateway as the ``izlek`` command sees it (entry point ``izlek.services: gateway``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from fastapi import FastAPI
from rich.console import Console

from izlek_common.importing import progress_bar
from izlek_common.jetstream import connect
from izlek_gateway.projector import Projector
from izlek_gateway.read_models.database import create_read_model_engine, upgrade_database
from izlek_gateway.settings import GatewaySettings


class GatewayHasNoRelay(RuntimeError):
    """The gateway publishes nothing: it only reads the services' streams."""


class GatewayService:
    name = "gateway"
    default_port = 8000

    def settings(self) -> GatewaySettings:
        return GatewaySettings()

    def create_app(self, settings: GatewaySettings, nats_url: str | None) -> FastAPI:  # type: ignore[override]
        from izlek_gateway.api import create_app

        return create_app(settings, nats_url=nats_url)

    async def run_relay(self, settings: GatewaySettings, nats_url: str, stop: asyncio.Event) -> None:  # type: ignore[override]
        raise GatewayHasNoRelay(
            "the gateway has no relay: it has no event store and publishes nothing; its projector runs inside "
            "`izlek serve gateway` (or `izlek run`)"
        )

    def load_demo_data(self, settings: GatewaySettings, data_dir: Path, console: Console) -> None:  # type: ignore[override]
        # The demo data reaches the gateway through the streams; only the database must be ready for it.
        upgrade_database(settings.database_url)

    def register_commands(self, cli: typer.Typer) -> None:
        cli.command("gateway-rebuild")(gateway_rebuild)


def gateway_rebuild() -> None:
    """Drop every read model and rebuild it from the services' streams (IZLEK_NATS_URL); stop the gateway first."""
    settings = GatewaySettings()
    console = Console(stderr=True)
    if not settings.nats_url:
        console.print("[red]set IZLEK_NATS_URL[/red] to the NATS server holding the services' streams")
        raise typer.Exit(2)
    positions = asyncio.run(_rebuild(settings, settings.nats_url, console))
    console.print("rebuilt: " + ", ".join(f"{stream} up to {seq}" for stream, seq in positions.items()))


async def _rebuild(settings: GatewaySettings, nats_url: str, console: Console) -> dict[str, int]:
    engine = create_read_model_engine(settings.database_url)
    client = await connect(nats_url, "izlek-gateway-rebuild", initial_connect_timeout=10)
    try:
        with progress_bar(console, "rebuilding the read models") as advance:
            return await Projector(client, engine).rebuild(advance)
    finally:
        await client.drain()
        engine.dispose()


SERVICE = GatewayService()
