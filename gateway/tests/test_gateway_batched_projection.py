"""The projector's batches: rows gathered in memory and written in bulk give the read models that projecting
event by event, one statement at a time, gives."""

from __future__ import annotations

from gateway_testing import izmir_services, snapshot
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from izlek_common.cloudevents import CloudEvent
from izlek_gateway.projections.rows import batched_rows
from izlek_gateway.projector import ENTITY_TABLES, project
from izlek_gateway.read_models.database import create_read_model_engine, upgrade_database


def read_models() -> Engine:
    engine = create_read_model_engine("sqlite://")
    upgrade_database(engine)
    return engine


def project_in_batches(engine: Engine, events: list[CloudEvent], size: int) -> None:
    for start in range(0, len(events), size):
        batch = events[start:start + size]
        with Session(engine) as session, session.begin():
            rows = batched_rows(session)
            for kind, table in ENTITY_TABLES.items():
                rows.load(table, {e.subject for e in batch if e.subject and e.type.split(".")[2] == kind})
            for event in batch:
                project(session, event)
            rows.flush()


def test_batches_written_in_bulk_equal_the_events_projected_one_by_one() -> None:
    with izmir_services() as services:
        events = services.events(services.plans) + services.events(services.partners)
    one_by_one, batched = read_models(), read_models()
    try:
        with Session(one_by_one) as session, session.begin():
            for event in events:
                project(session, event)
        project_in_batches(batched, events, size=25)

        assert snapshot(batched) == snapshot(one_by_one)
    finally:
        one_by_one.dispose()
        batched.dispose()


def test_a_batch_sees_the_rows_earlier_batches_wrote() -> None:
    with izmir_services() as services:
        events = services.events(services.plans) + services.events(services.partners)
    in_one, one_at_a_time = read_models(), read_models()
    try:
        project_in_batches(in_one, events, size=len(events))
        project_in_batches(one_at_a_time, events, size=1)

        assert snapshot(one_at_a_time) == snapshot(in_one)
    finally:
        in_one.dispose()
        one_at_a_time.dispose()
