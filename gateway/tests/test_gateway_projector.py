"""The projection of every event type into the read models, on SQLite in memory, from the İzmir import."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

import pytest
from gateway_testing import IZMIR_COUNTS, IzmirServices, izmir_services, row_counts
from nats.aio.client import Client
from nats.aio.msg import Msg
from pydantic import ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import izlek_common.contracts.partners
import izlek_common.contracts.plans  # noqa: F401  (both register their contracts)
from izlek_common.cloudevents import CloudEvent, all_contracts
from izlek_common.consumer import Disposition, TrackedConsumer
from izlek_common.domain.stamp import Author, Stamp
from izlek_gateway.projections import HANDLERS, UnknownEventType, UnprojectableEvent
from izlek_gateway.projector import SERVICES, project, project_message
from izlek_gateway.read_models.database import create_read_model_engine, upgrade_database
from izlek_gateway.read_models.tables import commitments, entity_events, protocols, purchases
from izlek_partners.domain.protocol import Protocol

IBB = "izmir-buyuksehir-belediyesi"
URLA = "ss-urla-kadin-girisimi-uretim-ve-isletme-kooperatifi"
COORDINATOR = Author(subject="ayse@kedv.org.tr", role="coordinator", organisation_id="kedv")


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = create_read_model_engine("sqlite://")
    upgrade_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def izmir() -> Iterator[IzmirServices]:
    with izmir_services() as services:
        yield services


def project_all(engine: Engine, events: list[CloudEvent]) -> None:
    with Session(engine) as session, session.begin():
        for event in events:
            project(session, event)


def project_izmir(engine: Engine, izmir: IzmirServices) -> None:
    project_all(engine, izmir.events(izmir.plans) + izmir.events(izmir.partners))


def test_every_registered_contract_has_a_handler_of_its_own_contract() -> None:
    # The published contracts of the services the gateway projects (tests elsewhere may register contracts of
    # their own, and the notifications service's subscriptions are no read model of the gateway's).
    contracts = {t: c for t, c in all_contracts().items()
                 if c.__module__.startswith("izlek_common.contracts.") and t.split(".")[1] in SERVICES}
    assert set(contracts) - set(HANDLERS) == set()
    assert set(HANDLERS) - set(contracts) == set()
    assert all(HANDLERS[event_type].contract is contract for event_type, contract in contracts.items())


def test_the_izmir_import_projects_into_every_read_model(engine: Engine, izmir: IzmirServices) -> None:
    project_izmir(engine, izmir)

    assert row_counts(engine, IZMIR_COUNTS) == IZMIR_COUNTS
    with engine.connect() as connection:
        statuses = set(connection.execute(select(commitments.c.status)).scalars())
        kinds = sorted(connection.execute(select(protocols.c.kind)).scalars())
    assert statuses == {"planned"}
    assert kinds.count("cooperation_protocol") == 3


def test_a_protocol_signed_in_2019_keeps_its_year_precision(engine: Engine, izmir: IzmirServices) -> None:
    project_izmir(engine, izmir)

    protocol_id = str(Protocol.create_id("prot-2019-kedv-izmir-buyuksehir-belediyesi"))
    with engine.connect() as connection:
        protocol = connection.execute(select(protocols).where(protocols.c.id == protocol_id)).one()
        events = connection.execute(
            select(entity_events).where(entity_events.c.entity_id == protocol_id).order_by(entity_events.c.version)
        ).all()
    assert (protocol.status, protocol.term_start, protocol.status_valid_precision) == ("signed", "2019", "year")
    assert protocol.status_valid_at.date() == date(2019, 1, 1)
    assert [(e.event_type, e.valid_precision) for e in events] == [
        ("izlek.partners.protocol.drafted.v1", "year"),
        ("izlek.partners.protocol.status_changed.v1", "year"),
    ]


def test_a_status_change_is_projected_with_its_author(engine: Engine, izmir: IzmirServices) -> None:
    project_izmir(engine, izmir)
    seen = izmir.plans.recorder.max_notification_id()
    [plan] = izmir.plans.list_plans()
    commitment = next(c for c in izmir.plans.list_commitments(plan.id) if c.actor_group == "AG-KS")
    author = Author(subject="zeynep@kedv.org.tr", role="member", organisation_id="kedv", name="Zeynep")
    izmir.plans.change_commitment_status(commitment.id, "in_progress",
                                         Stamp(author, reason="the working groups met", correlation_id="c-1"))

    project_all(engine, izmir.events(izmir.plans, after=seen))

    with engine.connect() as connection:
        row = connection.execute(select(commitments).where(commitments.c.id == str(commitment.id))).one()
        change = connection.execute(
            select(entity_events).where(entity_events.c.entity_id == str(commitment.id),
                                        entity_events.c.version == 2)
        ).one()
    assert (row.status, row.version) == ("in_progress", 2)
    assert (change.actor, change.actor_role, change.actor_org) == ("zeynep@kedv.org.tr", "member", "kedv")
    assert (change.event_type, change.kind) == ("izlek.plans.commitment.status_changed.v1", "change")
    assert (change.reason, change.correlation_id) == ("the working groups met", "c-1")
    assert change.data == {"commitment_id": str(commitment.id), "status": "in_progress"}


def test_a_correction_is_projected_and_audited_as_a_correction(engine: Engine, izmir: IzmirServices) -> None:
    project_izmir(engine, izmir)
    seen = izmir.plans.recorder.max_notification_id()
    [plan] = izmir.plans.list_plans()
    commitment = izmir.plans.list_commitments(plan.id)[0]
    izmir.plans.correct_commitment(commitment.id, {"due_date": date(2022, 6, 30)},
                                   Stamp(COORDINATOR, reason="the plan file has the date"))

    project_all(engine, izmir.events(izmir.plans, after=seen))

    with engine.connect() as connection:
        due_date = connection.execute(
            select(commitments.c.due_date).where(commitments.c.id == str(commitment.id))
        ).scalar_one()
        kinds = connection.execute(
            select(entity_events.c.kind).where(entity_events.c.entity_id == str(commitment.id))
            .order_by(entity_events.c.version)
        ).scalars().all()
    assert due_date == date(2022, 6, 30)
    assert kinds == ["change", "correction"]


def test_purchase_amounts_stay_exact_to_the_kurus(engine: Engine, izmir: IzmirServices) -> None:
    liaison = Stamp(Author("elif@izmir.bel.tr", "liaison", IBB))
    protocol_id = Protocol.create_id("prot-2019-kedv-izmir-buyuksehir-belediyesi")
    izmir.partners.record_purchase(liaison, municipality_code=IBB, cooperative_code=URLA, protocol_id=protocol_id,
                                   amount="999999999999.9", category="catering",
                                   purchased_on=date(2024, 3, 1), invoice_reference="İBB-2024-00001")

    project_izmir(engine, izmir)

    with engine.connect() as connection:
        purchase = connection.execute(select(purchases)).one()
    assert str(purchase.amount) == "999999999999.90"
    assert isinstance(purchase.amount, Decimal)
    assert (purchase.status, purchase.purchased_on) == ("recorded", date(2024, 3, 1))


def test_an_unknown_event_type_raises_and_changes_nothing(engine: Engine, izmir: IzmirServices) -> None:
    started = izmir.events(izmir.plans)[0]
    unknown = started.model_copy(update={"type": "izlek.plans.plan.renamed.v9"})

    with pytest.raises(UnknownEventType), Session(engine) as session, session.begin():
        project(session, unknown)

    assert row_counts(engine, {"plans", "entity_events"}) == {"plans": 0, "entity_events": 0}


def test_data_that_does_not_fit_its_contract_raises(engine: Engine, izmir: IzmirServices) -> None:
    started = izmir.events(izmir.plans)[0]
    malformed = started.model_copy(update={"data": {**started.data, "region": None}})

    with pytest.raises(ValidationError), Session(engine) as session, session.begin():
        project(session, malformed)


def test_a_change_to_an_entity_never_seen_raises(engine: Engine, izmir: IzmirServices) -> None:
    [plan] = izmir.plans.list_plans()
    commitment = izmir.plans.list_commitments(plan.id)[0]
    izmir.plans.change_commitment_status(commitment.id, "done", Stamp(COORDINATOR))
    [status_changed] = [e for e in izmir.events(izmir.plans) if e.type.endswith("status_changed.v1")]

    with pytest.raises(UnprojectableEvent, match="commitments has no row"), Session(engine) as session:
        project(session, status_changed)


def delivered(event: CloudEvent, stream_seq: int, times: int = 1) -> Msg:
    """The message JetStream delivers for `event` at `stream_seq` (for the `times`-th time)."""
    reply = f"$JS.ACK.PLANS.gateway-from-plans.{times}.{stream_seq}.{stream_seq}.{datetime.now().timestamp():.0f}.0"
    return Msg(_client=Client(), subject=event.type, reply=reply, data=event.to_json_bytes(),
               headers=event.nats_headers())


async def test_a_message_delivered_twice_through_the_consumer_has_no_second_effect(
    engine: Engine, izmir: IzmirServices
) -> None:
    consumer = TrackedConsumer(Client(), engine, stream="PLANS", durable="gateway-from-plans",
                               handler=project_message)
    first, second = izmir.events(izmir.plans)[:2]

    assert await consumer.apply([delivered(first, 1), delivered(second, 2)]) == [Disposition.APPLIED] * 2
    assert await consumer.apply([delivered(second, 2, times=2)]) == [Disposition.SKIPPED]
    assert await consumer.apply([delivered(first, 1, times=3), delivered(second, 2, times=3)]) == [
        Disposition.SKIPPED] * 2

    assert row_counts(engine, {"plans", "actor_groups", "entity_events"}) == {
        "plans": 1, "actor_groups": 1, "entity_events": 2}
    assert consumer.position() == 2
