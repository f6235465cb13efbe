"""The partners service as the ``izlek`` command sees it (entry point ``izlek.services: partners``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from izlek_common.domain.stamp import Author
from izlek_common.importing import cli_author, progress_bar
from izlek_partners.bootstrap import build_application, build_relay
from izlek_partners.importer import (
    ImportReport,
    PartnersFileError,
    import_partners_file,
    import_protocols_file,
)
from izlek_partners.settings import PartnersSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

Importer = Callable[..., ImportReport]
"""``import_partners_file`` or ``import_protocols_file``."""


class PartnersService:
    name = "partners"
    default_port = 8002

    def settings(self) -> PartnersSettings:
        return PartnersSettings()

    def create_app(self, settings: PartnersSettings, nats_url: str | None) -> FastAPI:  # type: ignore[override]
        from izlek_partners.api.app import create_app

        return create_app(settings, nats_url=nats_url)

    async def run_relay(self, settings: PartnersSettings, nats_url: str, stop: asyncio.Event) -> None:  # type: ignore[override]
        application = build_application(settings)
        try:
            await build_relay(application, settings, nats_url).run(stop)
        finally:
            application.close()

    def load_demo_data(self, settings: PartnersSettings, data_dir: Path, console: Console) -> None:  # type: ignore[override]
        """Organisations first, then the protocols between them."""
        author = cli_author("demo-data", "izlek run")
        for file_name, importer in (("partners.yaml", import_partners_file),
                                    ("protocols.yaml", import_protocols_file)):
            path = data_dir / file_name
            if path.exists():
                report = _import_with_progress(settings, path, importer, author, console)
                console.print(report.summary(), markup=False)

    def register_commands(self, cli: typer.Typer) -> None:
        cli.command("import-partners")(import_partners)
        cli.command("import-protocols")(import_protocols)


def import_partners(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                         help="A partners file, e.g. examples/izmir/partners.yaml")],
    author: Annotated[str | None, typer.Option(help="Who is importing (default: the OS user)")] = None,
) -> None:
    """Load organisations through the partners service's own commands; running it twice changes nothing."""
    _run_import(path, import_partners_file, author, "izlek import-partners")


def import_protocols(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                         help="A protocols file, e.g. examples/izmir/protocols.yaml")],
    author: Annotated[str | None, typer.Option(help="Who is importing (default: the OS user)")] = None,
) -> None:
    """Load protocols (after their organisations: izlek import-partners); running it twice changes nothing.
    Dates known only to the year stay year-precision (see docs/partners.md)."""
    _run_import(path, import_protocols_file, author, "izlek import-protocols")


def _run_import(path: Path, importer: Importer, author: str | None, command: str) -> None:
    console = Console(stderr=True)
    try:
        report = _import_with_progress(PartnersSettings(), path, importer, cli_author(author, command), console)
    except PartnersFileError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    console.print(report.summary(), markup=False)


def _import_with_progress(settings: PartnersSettings, path: Path, importer: Importer, author: Author,
                          console: Console) -> ImportReport:
    application = build_application(settings)
    try:
        with progress_bar(console, f"importing {path.name}") as advance:
            return importer(application, path, author, advance)
    finally:
        application.close()


SERVICE = PartnersService()
