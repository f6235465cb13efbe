"""The gateway as the ``izlek`` command sees it (entry point ``izlek.services: gateway``)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

import structlog
import typer
import yaml
from fastapi import FastAPI
from nats.aio.client import Client
from nats.js.errors import NotFoundError
from rich.console import Console

from izlek_common.consumer import Disposition, is_transient_error
from izlek_common.importing import progress_bar
from izlek_common.jetstream import connect
from izlek_common.lease import Lease, lease_for
from izlek_common.logging import configure_logging
from izlek_gateway.projector import LEASE, Projector
from izlek_gateway.projector_health import projector_health_routes
from izlek_gateway.read_models.database import create_read_model_engine, upgrade_database
from izlek_gateway.settings import GatewaySettings

logger = structlog.get_logger(__name__)

PROGRESS_INTERVAL = 5.0
"""Seconds between two progress lines of ``izlek gateway project`` (written only when a position moved)."""


class GatewayHasNoRelay(RuntimeError):
    """The gateway publishes nothing: it only reads the services' streams."""


class GatewayService:
    name = "gateway"
    default_port = 8000

    def __init__(self) -> None:
        self._demo_region: str | None = None

    def settings(self) -> GatewaySettings:
        return GatewaySettings()

    def create_app(self, settings: GatewaySettings, nats_url: str | None) -> FastAPI:  # type: ignore[override]
        from izlek_gateway.api import create_app

        return create_app(settings, nats_url=nats_url)

    async def run_relay(self, settings: GatewaySettings, nats_url: str, stop: asyncio.Event) -> None:  # type: ignore[override]
        raise GatewayHasNoRelay(
            "the gateway has no relay: it has no event store and publishes nothing; its projector runs inside "
            "`izlek serve gateway` (or `izlek run`), or on its own as `izlek gateway project`"
        )

    def load_demo_data(self, settings: GatewaySettings, data_dir: Path, console: Console) -> None:  # type: ignore[override]
        # The demo data reaches the gateway through the streams; only the database must be ready for it.
        upgrade_database(settings.database_url)
        self._demo_region = _region_of(data_dir / "plan.yaml")

    def announce_pages(self, base_url: str) -> list[str]:
        """What ``izlek run`` prints about the web pages: ``/`` opens the first plan's dashboard."""
        if self._demo_region:
            return [f"[bold]{self._demo_region} dashboard[/bold] on {base_url}/"]
        return [f"[bold]dashboard[/bold] (web pages) on {base_url}/"]

    def register_commands(self, cli: typer.Typer) -> None:
        commands = typer.Typer(help="The gateway's projector and read models.", no_args_is_help=True)
        commands.command("rebuild")(gateway_rebuild)
        commands.command("project")(gateway_project)
        cli.add_typer(commands, name="gateway")


def _region_of(plan_file: Path) -> str | None:
    """The region of a demo plan file (``plan.region``), for the announcement; None when it names none."""
    try:
        plan = yaml.safe_load(plan_file.read_text(encoding="utf-8")).get("plan") or {}
    except (OSError, yaml.YAMLError, AttributeError):
        return None
    region = plan.get("region") if isinstance(plan, dict) else None
    return region if isinstance(region, str) and region.strip() else None


def gateway_project() -> None:
    """Run only the projector (no HTTP API) until SIGTERM or SIGINT, beside API replicas started with
    IZLEK_GATEWAY_PROJECTOR_ENABLED=false. It projects while it holds the lease gateway-projector: a second
    one waits, and takes over within IZLEK_LEASE_TTL_SECONDS when the first dies. With
    IZLEK_GATEWAY_PROJECTOR_PORT set it answers /healthz and /readyz there (container probes)."""
    settings = GatewaySettings()
    configure_logging(settings.log_level, json=settings.log_json)
    if not settings.nats_url:
        Console(stderr=True).print("[red]set IZLEK_NATS_URL[/red] to the NATS server holding the services' streams")
        raise typer.Exit(2)
    nats_url = settings.nats_url

    async def main() -> bool:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, _stopping, stop, sig)
        async with projector_health_routes(settings):
            return await run_projector(settings, nats_url, stop)

    if not asyncio.run(main()):
        raise typer.Exit(1)


def _stopping(stop: asyncio.Event, sig: signal.Signals) -> None:
    if not stop.is_set():
        logger.info("projector.stopping", signal=sig.name)
    stop.set()


async def run_projector(settings: GatewaySettings, nats_url: str, stop: asyncio.Event) -> bool:
    """Project the streams into the read models of ``settings`` while this process holds the projector's
    lease, until `stop` is set; then finish the batch in hand, release the lease and drain the NATS connection.
    False when the projector ended without being asked to (NATS closed)."""
    engine = create_read_model_engine(settings.database_url)
    try:
        await asyncio.to_thread(upgrade_database, engine)
        client = await _connect_unless_stopped(nats_url, stop)
        if client is None:
            return True
        try:
            projector = Projector(client, engine, batch_size=settings.gateway_projector_batch_size)
            lease = lease_for(settings, nats_url, LEASE)
            logger.info("projector.started", streams=[c.stream for c in projector.consumers],
                        batch_size=settings.gateway_projector_batch_size, lease=LEASE)
            reporting = asyncio.create_task(_report_progress(projector, lease, stop), name="projector-progress")
            try:
                await lease.run(projector.run, stop)
            finally:
                reporting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reporting
            stopped = stop.is_set()
            positions = await asyncio.to_thread(
                lambda: {consumer.stream: consumer.position() for consumer in projector.consumers})
            logger.info("projector.stopped", asked=stopped, positions=positions, **_tally(projector))
            return stopped
        finally:
            # While NATS is unreachable nats-py refuses to drain (and to flush on close): there is nothing left to
            # send, and a projector stopped during an outage must still end cleanly.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.drain(), timeout=5)
    finally:
        engine.dispose()


async def _connect_unless_stopped(nats_url: str, stop: asyncio.Event) -> Client | None:
    """Connect (retrying while NATS is unreachable); None when `stop` is set first."""
    connecting = asyncio.ensure_future(connect(nats_url, "izlek-gateway-projector"))
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({connecting, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if connecting.done():
        return connecting.result()
    connecting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await connecting
    return None


async def _report_progress(projector: Projector, lease: Lease, stop: asyncio.Event) -> None:
    """Log each stream's position and length every few seconds while messages are being applied, and once
    when every stream is caught up; nothing while another process holds the lease (it reports its own)."""
    reported: dict[str, dict[str, int]] | None = None
    caught_up = False
    while not stop.is_set():
        if not lease.held:
            reported, caught_up = None, False
            await _wait(stop, 0.5)
            continue
        try:
            streams = await _positions(projector)
        except Exception as exc:
            if not is_transient_error(exc):
                raise
            logger.warning("projector.progress_unknown", error=str(exc) or type(exc).__name__)
        else:
            if streams != reported:
                logger.info("projector.progress", streams=streams, **_tally(projector))
                reported = streams
            lagging = any(s["position"] < s["last"] for s in streams.values())
            if not lagging and not caught_up:
                logger.info("projector.caught_up", positions={name: s["position"] for name, s in streams.items()})
            caught_up = not lagging
        await _wait(stop, PROGRESS_INTERVAL)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _positions(projector: Projector) -> dict[str, dict[str, int]]:
    """Per stream: the last message applied and the stream's last message."""
    js = projector.nats_client.jetstream()
    result = {}
    for consumer in projector.consumers:
        position = await asyncio.to_thread(consumer.position)
        try:
            last = int((await js.stream_info(consumer.stream)).state.last_seq)
        except NotFoundError:  # no event published yet
            last = 0
        result[consumer.stream] = {"position": position, "last": last}
    return result


def _tally(projector: Projector) -> dict[str, int]:
    """What this process did with the messages it handled, over every stream."""
    return {disposition.value: sum(c.counts[disposition] for c in projector.consumers) for disposition in Disposition}


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
            return await Projector(client, engine, batch_size=settings.gateway_projector_batch_size).rebuild(advance)
    finally:
        await client.drain()
        engine.dispose()


SERVICE = GatewayService()
