"""Helpers shared by the gateway's tests: the İzmir data in in-memory services, and read-model counts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from izlek_common.auth import Principal, Role
from izlek_common.cloudevents import CloudEvent
from izlek_common.domain.stamp import Author
from izlek_common.eventsourced.application import TrackedApplication
from izlek_common.eventsourced.publishing import cloudevent_translator
from izlek_common.eventstore import eventsourcing_env
from izlek_gateway.graphql.context import GatewayContext
from izlek_gateway.graphql.schema import schema
from izlek_gateway.projector import project
from izlek_gateway.read_models.tables import READ_MODEL_TABLES
from izlek_gateway.temporal import Replicas
from izlek_partners.application import PartnersApplication
from izlek_partners.importer import import_partners_file, import_protocols_file
from izlek_plans.application import PlansApplication
from izlek_plans.importer import import_plan_file

IZMIR = Path(__file__).resolve().parents[2] / "examples" / "izmir"
IMPORTER = Author(subject="ayse@kedv.org.tr", role="coordinator", organisation_id="kedv", name="Ayşe")
AUDITOR = Principal("denetci@kedv.org.tr", Role.auditor, None)
TODAY = date(2026, 6, 15)
"""The "today" of the tests' queries, so that what is overdue does not depend on the day the tests run."""

IZMIR_COUNTS = {
    "plans": 1, "goals": 2, "targets": 5, "actor_groups": 5, "priorities": 3, "commitments": 104,
    "criteria": 7, "organisations": 52, "protocols": 5, "entity_events": 238 + 60,
}
"""What the İzmir import projects to (examples/izmir: 238 events of plans, 60 of partners)."""


@dataclass
class IzmirServices:
    plans: PlansApplication
    partners: PartnersApplication

    def events(self, app: TrackedApplication, after: int = 0) -> list[CloudEvent]:
        """The CloudEvents the relay would publish for `app`'s notifications after `after`."""
        translate = cloudevent_translator(app)
        return [translate(n) for n in app.recorder.select_notifications(after + 1, 100_000)]


@contextmanager
def izmir_services() -> Iterator[IzmirServices]:
    """The plans and partners applications, in memory, with the İzmir plan, partners and protocols imported."""
    plans = PlansApplication(env=eventsourcing_env("memory://"))
    partners = PartnersApplication(env=eventsourcing_env("memory://"))
    try:
        import_plan_file(plans, IZMIR / "plan.yaml", IMPORTER)
        import_partners_file(partners, IZMIR / "partners.yaml", IMPORTER)
        import_protocols_file(partners, IZMIR / "protocols.yaml", IMPORTER)
        yield IzmirServices(plans, partners)
    finally:
        plans.close()
        partners.close()


def row_counts(engine: Engine, names: Any = None) -> dict[str, int]:
    """Rows per read-model table (those of `names`, or every one)."""
    tables = [t for t in READ_MODEL_TABLES if names is None or t.name in names]
    with engine.connect() as connection:
        return {t.name: connection.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model row, in primary-key order: two projections are equal when their snapshots are."""
    with engine.connect() as connection:
        return {
            table.name: [tuple(row) for row in connection.execute(select(table).order_by(*table.primary_key))]
            for table in READ_MODEL_TABLES
        }


def projected_izmir_engine() -> Engine:
    """A migrated in-memory SQLite read-model database holding the projected İzmir import (dispose it after)."""
    from izlek_gateway.read_models.database import create_read_model_engine, upgrade_database

    engine = create_read_model_engine("sqlite://")
    upgrade_database(engine)
    with izmir_services() as services, Session(engine) as session, session.begin():
        for event in services.events(services.plans) + services.events(services.partners):
            project(session, event)
    return engine


class Timeline:
    """The İzmir data in memory, projected, with the moments between its steps."""

    def __init__(self, services: IzmirServices, engine: Engine) -> None:
        self.services = services
        self.engine = engine
        self.projected = {"plans": 0, "partners": 0}
        self.replicas = Replicas()

    def project_new_events(self) -> None:
        with Session(self.engine) as session, session.begin():
            for name, app in (("plans", self.services.plans), ("partners", self.services.partners)):
                events = self.services.events(app, after=self.projected[name])
                for event in events:
                    project(session, event)
                self.projected[name] += len(events)

    async def query(self, document: str, **variables: Any) -> dict[str, Any]:
        with self.engine.connect() as connection:
            context = GatewayContext(connection=connection, principal=AUDITOR, today=TODAY, temporal=self.replicas)
            try:
                result = await schema.execute(document, variable_values=variables, context_value=context)
            finally:
                context.close()
        assert result.errors is None, result.errors
        assert result.data is not None
        return result.data


def moment() -> datetime:
    """A time strictly between what was recorded before and what is recorded after the call."""
    time.sleep(0.002)
    now = datetime.now(UTC)
    time.sleep(0.002)
    return now
