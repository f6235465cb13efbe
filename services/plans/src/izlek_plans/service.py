"""The plans service as the ``izlek`` command sees it (entry point ``izlek.services: plans``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from fastapi import FastAPI
from rich.console import Console

from izlek_common.domain.stamp import Author, Stamp
from izlek_common.importing import cli_author, progress_bar
from izlek_plans.bootstrap import build_application, build_relay
from izlek_plans.domain.plan import ActionPlan
from izlek_plans.importer import ImportReport, PlanFileError, import_plan_file
from izlek_plans.settings import PlansSettings
from izlek_plans.spreadsheet_import import TrackingTableRejected, import_spreadsheet


class PlansService:
    name = "plans"
    default_port = 8001

    def settings(self) -> PlansSettings:
        return PlansSettings()

    def create_app(self, settings: PlansSettings, nats_url: str | None) -> FastAPI:  # type: ignore[override]
        from izlek_plans.api.app import create_app

        return create_app(settings, nats_url=nats_url)

    async def run_relay(self, settings: PlansSettings, nats_url: str, stop: asyncio.Event) -> None:  # type: ignore[override]
        application = build_application(settings)
        try:
            await build_relay(application, settings, nats_url).run(stop)
        finally:
            application.close()

    def load_demo_data(self, settings: PlansSettings, data_dir: Path, console: Console) -> None:  # type: ignore[override]
        plan_file = data_dir / "plan.yaml"
        if plan_file.exists():
            report = _import_with_progress(settings, plan_file, cli_author("demo-data", "izlek run"), console)
            console.print(_summary(report))

    def register_commands(self, cli: typer.Typer) -> None:
        cli.command("import-plan")(import_plan)
        cli.command("import-spreadsheet")(import_tracking_table)


def import_plan(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A plan file, e.g. examples/izmir/plan.yaml")],
    author: Annotated[str | None, typer.Option(help="Who is importing (default: the OS user)")] = None,
) -> None:
    """Load an action plan through the plans service's own commands; running it twice changes nothing."""
    console = Console(stderr=True)
    try:
        report = _import_with_progress(PlansSettings(), path, cli_author(author, "izlek import-plan"), console)
    except PlanFileError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    console.print(_summary(report))


def import_tracking_table(
    plan: Annotated[str, typer.Argument(help="The plan's code (e.g. izmir-eylem-plani) or id")],
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The tracking table: .xlsx or .csv")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would change; write nothing")] = False,
    sheet: Annotated[str | None, typer.Option(help="The workbook's sheet (default: the first)")] = None,
    author: Annotated[str | None, typer.Option(help="Who is importing (default: the OS user)")] = None,
    reason: Annotated[str | None, typer.Option(help="Why (the file's name and SHA-256 are added)")] = None,
) -> None:
    """Import the action-plan tracking table (XLSX or CSV) into a plan through its commands: every row is checked
    first, and a file with an error in any row changes nothing. Importing it twice changes nothing."""
    console = Console(stderr=True)
    application = build_application(PlansSettings())
    try:
        plan_id = _plan_id(plan)
        if not application.exists(plan_id):
            console.print(f"[red]no plan {plan}[/red]")
            raise typer.Exit(2)
        stamp = Stamp(author=cli_author(author, "izlek import-spreadsheet"), reason=reason)
        with progress_bar(console, f"{'checking' if dry_run else 'importing'} {path.name}") as advance:
            report = import_spreadsheet(application, plan_id, path.read_bytes(), path.name, stamp,
                                        dry_run=dry_run, sheet=sheet, progress=advance)
    except TrackingTableRejected as exc:
        console.print(f"[red]{path.name}: nothing was imported[/red]", soft_wrap=True)
        for error in exc.errors:
            console.print(f"  {error}", markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
    finally:
        application.close()
    for line in report.lines():
        console.print(line, markup=False, soft_wrap=True)


def _plan_id(plan: str) -> UUID:
    try:
        return UUID(plan)
    except ValueError:
        return ActionPlan.create_id(plan)


def _import_with_progress(settings: PlansSettings, path: Path, author: Author, console: Console) -> ImportReport:
    application = build_application(settings)
    try:
        with progress_bar(console, f"importing {path.name}") as advance:
            return import_plan_file(application, path, author, advance)
    finally:
        application.close()


def _summary(report: ImportReport) -> str:
    if not report.events_written:
        return f"plan {report.plan_id}: already up to date, nothing written"
    created = ", ".join(f"{n} {kind}" for kind, n in report.created.items()) or "nothing"
    changed = ", ".join(f"{n} {kind}" for kind, n in report.changed.items()) or "nothing"
    return f"plan {report.plan_id}: created {created}; changed {changed}; {report.unchanged} unchanged"


SERVICE = PlansService()
