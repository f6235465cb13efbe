"""Helpers shared by the plans service's tests: the İzmir plan, stamps of principals, tokens, stores."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from uuid import UUID

from fastapi import FastAPI
from fastapi.testclient import TestClient

from izlek_common.auth import issue_token
from izlek_common.domain.stamp import Author, Stamp
from izlek_common.eventstore import eventsourcing_env
from izlek_plans.api.app import create_app
from izlek_plans.application import PlansApplication
from izlek_plans.domain.commitment import Commitment
from izlek_plans.importer import import_plan_file
from izlek_plans.settings import PlansSettings

IZMIR_PLAN = Path(__file__).resolve().parents[3] / "examples" / "izmir" / "plan.yaml"
IMPORTER = Author(subject="importer@izlek.test", role="coordinator", name="test import")

# Organisations that the İzmir plan's actor groups name (examples/izmir/plan.yaml, actor_groups).
EXECUTIVE_COMMITTEE = "izmir-kadin-kooperatifleri-koordinasyonu-yurutme-komitesi"  # AG-YK
KEDV = "kedv"  # AG-KS, with Simurg


def stamp(role: str = "coordinator", organisation_id: str | None = None, *, subject: str | None = None,
          valid_at: datetime | None = None, reason: str | None = None,
          correlation_id: str | None = None) -> Stamp:
    """The stamp of a write by a principal in ``role`` (of ``organisation_id``)."""
    author = Author(subject=subject or f"{role}@izlek.test", role=role, organisation_id=organisation_id)
    return Stamp(author=author, valid_at=valid_at, reason=reason, correlation_id=correlation_id)


def import_izmir(app: PlansApplication) -> UUID:
    """Import examples/izmir/plan.yaml; returns the plan's id."""
    report = import_plan_file(app, IZMIR_PLAN, IMPORTER)
    assert report.plan_id is not None
    return report.plan_id


def commitment_of_group(app: PlansApplication, plan_id: UUID, actor_group: str, index: int = 0) -> Commitment:
    """The ``index``-th commitment (in plan order) given to ``actor_group``."""
    return [c for c in app.list_commitments(plan_id) if c.actor_group == actor_group][index]


def api_settings(**overrides: object) -> PlansSettings:
    """Settings of an API under test: no NATS, no relay."""
    values: dict[str, object] = {"plans_event_store_url": "memory://", "environment": "test", "nats_url": None,
                                 "plans_relay_enabled": False}
    return PlansSettings(**{**values, **overrides})  # type: ignore[arg-type]


def bearer(settings: PlansSettings, role: str = "coordinator", organisation_id: str | None = None,
           **options: object) -> dict[str, str]:
    """An ``Authorization`` header with a token of ``role`` (of ``organisation_id``)."""
    token = issue_token(settings, subject=f"{role}@izlek.test", role=role, organisation_id=organisation_id,
                        **options)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'plans-events.sqlite'}"



def make_izmir_sqlite(directory: Path) -> UUID:
    """Import the İzmir plan into a SQLite event store in ``directory`` (to be copied by each test)."""
    application = PlansApplication(env=eventsourcing_env(sqlite_url(directory)))
    try:
        return import_izmir(application)
    finally:
        application.close()


def copy_store(template: Path, directory: Path) -> str:
    """Copy a closed SQLite event store; returns the copy's URL."""
    for file in template.iterdir():
        shutil.copy(file, directory / file.name)
    return sqlite_url(directory)


@dataclass
class Service:
    """The plans API under test, the application behind it, and the imported İzmir plan."""

    client: TestClient
    api: FastAPI
    app: PlansApplication
    settings: PlansSettings
    plan_id: UUID

    def headers(self, role: str = "coordinator", organisation_id: str | None = None) -> dict[str, str]:
        return bearer(self.settings, role, organisation_id)

    def commitment_id(self, actor_group: str, index: int = 0) -> UUID:
        return commitment_of_group(self.app, self.plan_id, actor_group, index).id

    def stored(self) -> int:
        """How many events the store holds (the id of the last one)."""
        return self.app.recorder.max_notification_id() or 0


@contextmanager
def running_service(event_store_url: str, plan_id: UUID | None = None) -> Iterator[Service]:
    """The API on ``event_store_url``; imports the İzmir plan unless ``plan_id`` says it is there."""
    settings = api_settings(plans_event_store_url=event_store_url)
    application = PlansApplication(env=eventsourcing_env(event_store_url))
    try:
        if plan_id is None:
            plan_id = import_izmir(application)
        api = create_app(settings, application=application)
        with TestClient(api) as client:
            yield Service(client, api, application, settings, plan_id)
    finally:
        application.close()
