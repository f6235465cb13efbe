"""The ``izlek`` command: run Izlek, run one service or relay, issue development tokens.

Services add their own subcommands through the ``izlek.services`` entry points (see ``service.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI
from rich.console import Console

from izlek_common.auth import Role, issue_token
from izlek_common.logging import configure_logging
from izlek_common.nats_server import EmbeddedNatsServer, find_free_port
from izlek_common.service import ServiceSpec, discover_services
from izlek_common.settings import CommonSettings

cli = typer.Typer(name="izlek", help="Izlek: who committed to what, and what became of it.", no_args_is_help=True,
                  pretty_exceptions_show_locals=False)
console = Console(stderr=True)

DEFAULT_EMBEDDED_NATS_PORT = 14222


@cli.command()
def token(
    subject: Annotated[str, typer.Option("--subject", "--sub", help="Who the token is for, e.g. ayse@kedv.org.tr")],
    role: Annotated[Role, typer.Option(help="auditor, coordinator, liaison, member, partner_app or admin")],
    org: Annotated[str | None, typer.Option(help="The organisation id (required for liaison and member)")] = None,
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    hours: Annotated[float, typer.Option(help="Validity in hours")] = 8.0,
    scope: Annotated[list[str] | None, typer.Option(
        help="A scope of the token, repeatable; a partner app sees the plans of its plan:<code>, region:<name> "
        "(a space written _) or plan:* scopes")] = None,
) -> None:
    """Issue a development token signed with IZLEK_JWT_SECRET (HS256) and print it."""
    settings = CommonSettings()
    scopes = scope or []
    if any(not s or any(c.isspace() for c in s) for s in scopes):
        # The token's scope claim is one space-separated string: a space would split a scope in two.
        console.print("[red]cannot issue the token:[/red] a scope may not be empty or contain spaces "
                      "(write a space in a region's name as _, e.g. region:Batı_Karadeniz)")
        raise typer.Exit(2)
    try:
        print(issue_token(settings, subject=subject, role=role, organisation_id=org, name=name,
                          ttl=timedelta(hours=hours), scopes=scopes))
    except (ValueError, RuntimeError) as exc:
        console.print(f"[red]cannot issue the token:[/red] {exc}")
        raise typer.Exit(2) from None


@cli.command()
def run(
    demo_data: Annotated[Path | None, typer.Option(help="Load this demo data set on start (e.g. examples/izmir)")]
    = None,
) -> None:
    """Run Izlek on one machine: every installed service, an embedded nats-server unless IZLEK_NATS_URL is set,
    event stores under IZLEK_VAR_DIR (./var), and the demo data loaded through the services' own commands."""
    settings = CommonSettings()
    configure_logging(settings.log_level, json=settings.log_json)
    services = discover_services()
    nats_server = None
    nats_url = settings.nats_url
    if nats_url is None:
        nats_server = EmbeddedNatsServer(
            settings.var_dir / "nats", port=find_free_port(DEFAULT_EMBEDDED_NATS_PORT),
            log_file=settings.var_dir / "nats" / "nats-server.log",
        )
        nats_server.start()
        nats_url = nats_server.url
    try:
        if demo_data is not None:
            for spec in services.values():
                spec.load_demo_data(spec.settings(), demo_data, console)
        asyncio.run(_serve_all(services, nats_url))
    finally:
        if nats_server is not None:
            nats_server.stop()


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to ``_serve``, so several run in one process and a SIGTERM ends
    the process normally (its ``finally`` blocks run: the embedded nats-server is stopped)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve(servers: list[uvicorn.Server], on_started: Callable[[], None] | None = None) -> None:
    """Run the servers until SIGINT or SIGTERM; `on_started` is called once every one of them listens."""
    loop = asyncio.get_running_loop()

    def shut_down() -> None:
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, shut_down)
    serving = asyncio.gather(*(server.serve() for server in servers))
    if on_started is not None:
        while not serving.done() and not all(server.started for server in servers):  # noqa: ASYNC110 (uvicorn offers a flag, no event)
            await asyncio.sleep(0.05)
        if not serving.done():
            on_started()
    await serving


def _server(app: FastAPI, host: str, port: int) -> uvicorn.Server:
    return _Server(uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False))


async def _serve_all(services: dict[str, ServiceSpec], nats_url: str) -> None:
    # Every port is chosen first, so that a service that calls others (the gateway's pages write through the
    # plans and partners APIs) learns where they listen: settings that offer `with_service_urls` get them.
    addresses = {}
    for spec in services.values():
        settings = spec.settings()
        host = getattr(settings, f"{spec.name}_host", "127.0.0.1")
        taken = {port for _, _, port in addresses.values()}
        port = find_free_port(int(getattr(settings, f"{spec.name}_port", spec.default_port)))
        while port in taken:  # nothing listens yet on the ports chosen before
            port = find_free_port()
        addresses[spec.name] = (settings, host, port)
    urls = {name: f"http://{host}:{port}" for name, (_, host, port) in addresses.items()}
    servers = []
    lines = []
    pages = []
    for spec in services.values():
        settings, host, port = addresses[spec.name]
        if hasattr(settings, "with_service_urls"):
            settings = settings.with_service_urls(urls)
        servers.append(_server(spec.create_app(settings, nats_url), host, port))
        lines.append(f"[bold]{spec.name}[/bold] API on {urls[spec.name]} (docs: /docs)")
        # A service with pages for people (the gateway) says where they open.
        announce_pages = getattr(spec, "announce_pages", None)
        if announce_pages is not None:
            pages.extend(announce_pages(urls[spec.name]))
    lines[:0] = pages
    lines.append(f"NATS (JetStream) at {nats_url}")
    lines.append("Get a token:  [bold]make token ROLE=coordinator[/bold]   "
                 "or  .venv/bin/izlek token --sub you --role coordinator")

    def announce() -> None:
        # Only once every API listens, so that what is printed can be called at once.
        for line in lines:
            console.print(line)

    await _serve(servers, on_started=announce)


SERVED_SERVICE_ENV_VAR = "IZLEK_SERVED_SERVICE"
"""Names the service that each worker process of ``izlek serve --workers N`` builds its app for."""


@cli.command()
def serve(service: Annotated[str, typer.Argument(help="Which service, e.g. plans")],
          port: Annotated[int | None, typer.Option(help="HTTP port (default: the service's setting)")] = None,
          workers: Annotated[int, typer.Option(
              min=1, help="Worker processes answering on the port, to use more than one core; each runs the "
              "service's relay, and one of them (the lease's holder) publishes")] = 1,
          ) -> None:
    """Run one service's API (and its relay when IZLEK_NATS_URL is set)."""
    spec = _service(service)
    settings = spec.settings()
    configure_logging(settings.log_level, json=settings.log_json)
    host = getattr(settings, f"{spec.name}_host", "127.0.0.1")
    port = port or int(getattr(settings, f"{spec.name}_port", spec.default_port))
    if workers > 1:
        os.environ[SERVED_SERVICE_ENV_VAR] = spec.name
        uvicorn.run(f"{__name__}:served_service_app", factory=True, host=host, port=port, workers=workers,
                    log_config=None, access_log=False)
        return
    app = spec.create_app(settings, settings.nats_url)
    asyncio.run(_serve([_server(app, host, port)]))


def served_service_app() -> FastAPI:
    """The app of one worker process of ``izlek serve --workers N``: the service named by IZLEK_SERVED_SERVICE."""
    spec = _service(os.environ[SERVED_SERVICE_ENV_VAR])
    settings = spec.settings()
    configure_logging(settings.log_level, json=settings.log_json)
    return spec.create_app(settings, settings.nats_url)


@cli.command()
def relay(service: Annotated[str, typer.Argument(help="Which service's store to relay, e.g. plans")]) -> None:
    """Run only a service's relay from its event store to JetStream (needs IZLEK_NATS_URL)."""
    spec = _service(service)
    settings = spec.settings()
    configure_logging(settings.log_level, json=settings.log_json)
    if not settings.nats_url:
        console.print("[red]set IZLEK_NATS_URL[/red] to the NATS server the relay publishes to")
        raise typer.Exit(2)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await spec.run_relay(settings, settings.nats_url, stop)

    asyncio.run(main())


def _service(name: str) -> ServiceSpec:
    services = discover_services()
    if name not in services:
        console.print(f"[red]no service {name!r}[/red]; installed: {', '.join(services) or 'none'}")
        raise typer.Exit(2)
    return services[name]


def main() -> None:
    for spec in discover_services().values():
        spec.register_commands(cli)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    cli()
