"""What a service contributes to the ``izlek`` command: found through the ``izlek.services`` entry points."""

from __future__ import annotations

import asyncio
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol

import typer
from fastapi import FastAPI

from izlek_common.settings import CommonSettings


class ServiceSpec(Protocol):
    """A service as the launcher sees it. Each service package exposes one under ``izlek.services``."""

    name: str
    default_port: int

    def settings(self) -> CommonSettings:
        """The service's settings, read from the environment."""

    def create_app(self, settings: CommonSettings, nats_url: str | None) -> FastAPI:
        """The service's HTTP API; with a NATS URL it also runs the service's relay in-process."""

    async def run_relay(self, settings: CommonSettings, nats_url: str, stop: asyncio.Event) -> None:
        """Only the relay, until ``stop`` is set (``izlek relay <service>``)."""

    def load_demo_data(self, settings: CommonSettings, data_dir: Path, console: object) -> None:
        """Load the demo data set (e.g. ``examples/izmir``) through the service's own commands."""

    def register_commands(self, cli: typer.Typer) -> None:
        """Add the service's own subcommands (e.g. ``izlek import-plan``)."""


def discover_services() -> dict[str, ServiceSpec]:
    """Every installed service, by name."""
    services: dict[str, ServiceSpec] = {}
    for entry_point in entry_points(group="izlek.services"):
        spec = entry_point.load()
        services[spec.name] = spec
    return dict(sorted(services.items()))
