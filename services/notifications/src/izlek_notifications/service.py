"""The notifications service as the ``izlek`` command sees it (entry point ``izlek.services: notifications``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from izlek_notifications.bootstrap import build_application, build_relay, build_state, prepare_state
from izlek_notifications.settings import NotificationsSettings

if TYPE_CHECKING:
    from fastapi import FastAPI


class NotificationsService:
    name = "notifications"
    default_port = 8003

    def settings(self) -> NotificationsSettings:
        return NotificationsSettings()

    def create_app(self, settings: NotificationsSettings, nats_url: str | None) -> FastAPI:  # type: ignore[override]
        from izlek_notifications.api.app import create_app

        return create_app(settings, nats_url=nats_url)

    async def run_relay(self, settings: NotificationsSettings, nats_url: str, stop: asyncio.Event) -> None:  # type: ignore[override]
        engine = build_state(settings)
        application = build_application(settings, engine)
        try:
            await build_relay(application, settings, nats_url).run(stop)
        finally:
            application.close()
            engine.dispose()

    def load_demo_data(self, settings: NotificationsSettings, data_dir: Path, console: Console) -> None:  # type: ignore[override]
        # Subscriptions are people's choices, not demo data; organisations' contacts are notified without them.
        # Only the state database is made ready.
        engine = build_state(settings)
        try:
            prepare_state(engine)
        finally:
            engine.dispose()

    def register_commands(self, cli: typer.Typer) -> None:
        pass


SERVICE = NotificationsService()
