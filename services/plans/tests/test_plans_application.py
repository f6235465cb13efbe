"""The plans application's use cases, on every event store it runs on: memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from plans_testing import (
    EXECUTIVE_COMMITTEE,
    IMPORTER,
    IZMIR_PLAN,
    KEDV,
    commitment_of_group,
    import_izmir,
    stamp,
)

from izlek_common.eventsourced.errors import EntityNotFound, NotPermitted, VersionMismatch
from izlek_common.eventstore import eventsourcing_env
from izlek_plans.application import PlansApplication
from izlek_plans.importer import import_plan_file

POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


@dataclass(frozen=True)
class Store:
    kind: str
    url: str

    def open(self) -> PlansApplication:
        return PlansApplication(env=eventsourcing_env(self.url))


def _store(kind: str, request: pytest.FixtureRequest, directory: Path) -> Store:
    if kind == "memory":
        return Store(kind, "memory://")
    if kind == "sqlite":
        return Store(kind, f"sqlite:///{directory / 'plans-events.sqlite'}")
    return Store(kind, request.getfixturevalue("postgres_database").url)


@pytest.fixture(params=["memory", "sqlite", POSTGRES])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return _store(request.param, request, tmp_path)


@pytest.fixture(params=["sqlite", POSTGRES])
def durable_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return _store(request.param, request, tmp_path)


@pytest.fixture
def app(store: Store) -> Iterator[PlansApplication]:
    application = store.open()
    yield application
    application.close()


@pytest.fixture
def plan_id(app: PlansApplication) -> UUID:
    return import_izmir(app)


def stored_events(app: PlansApplication) -> list[tuple[Any, ...]]:
    """Every stored event, as the recorder holds it."""
    return [
        (n.id, n.originator_id, n.originator_version, n.topic, bytes(n.state))
        for n in app.recorder.select_notifications(1, 100_000)
    ]


def test_importing_the_izmir_plan_gives_its_goals_targets_commitments_and_criteria(app: PlansApplication) -> None:
    report = import_plan_file(app, IZMIR_PLAN, IMPORTER)

    assert report.created == {"plan": 1, "actor_group": 5, "goal": 2, "target": 5, "priority": 3,
                              "commitment": 104, "criterion": 7}
    assert report.plan_id is not None
    plan = app.get_plan(report.plan_id)
    assert (len(plan.goals), len(plan.targets), len(plan.actor_groups), len(plan.priorities)) == (2, 5, 5, 3)
    assert len(app.list_commitments(plan.id)) == 104
    assert len(app.list_criteria(plan.id)) == 7
    assert [p.id for p in app.list_plans()] == [plan.id]


def test_importing_the_same_plan_again_writes_no_event(app: PlansApplication, plan_id: UUID) -> None:
    before = app.recorder.max_notification_id()

    report = import_plan_file(app, IZMIR_PLAN, IMPORTER)

    assert report.plan_id == plan_id
    assert not report.events_written
    assert app.recorder.max_notification_id() == before


def test_a_member_of_an_organisation_in_the_actor_group_may_change_the_status(
    app: PlansApplication, plan_id: UUID
) -> None:
    commitment = commitment_of_group(app, plan_id, "AG-KS")  # KEDV ve Simurg

    version = app.change_commitment_status(commitment.id, "in_progress", stamp("member", KEDV))

    changed = app.get_commitment(commitment.id)
    assert (changed.status, changed.version, version) == ("in_progress", 2, 2)


def test_a_member_of_another_organisation_cannot_change_the_status(app: PlansApplication, plan_id: UUID) -> None:
    commitment = commitment_of_group(app, plan_id, "AG-YK")  # the coordination's executive committee
    before = app.recorder.max_notification_id()

    with pytest.raises(NotPermitted, match="kedv may not change the status"):
        app.change_commitment_status(commitment.id, "in_progress", stamp("member", KEDV))

    assert app.recorder.max_notification_id() == before
    assert app.get_commitment(commitment.id).status == "planned"
    app.change_commitment_status(commitment.id, "in_progress", stamp("liaison", EXECUTIVE_COMMITTEE))


def test_an_auditor_cannot_write(app: PlansApplication, plan_id: UUID) -> None:
    commitment = commitment_of_group(app, plan_id, "AG-KS")
    auditor = stamp("auditor", reason="looking")
    before = app.recorder.max_notification_id()

    writes = [
        lambda: app.change_commitment_status(commitment.id, "done", auditor),
        lambda: app.add_commitment_evidence(commitment.id, auditor, reference="tutanak-1"),
        lambda: app.change_commitment(commitment.id, {"title": "Başka"}, auditor),
        lambda: app.correct_commitment(commitment.id, {"status": "done"}, auditor),
        lambda: app.add_goal(plan_id, auditor, code="G9", title="Yeni amaç"),
        lambda: app.start_plan(auditor, code="another", title="Başka plan", region="Bursa"),
    ]
    for write in writes:
        with pytest.raises(NotPermitted, match="auditor"):
            write()

    assert app.recorder.max_notification_id() == before


def test_a_stale_expected_version_is_refused_and_stores_nothing(app: PlansApplication, plan_id: UUID) -> None:
    commitment = commitment_of_group(app, plan_id, "AG-KOOP")
    app.change_commitment_status(commitment.id, "in_progress", stamp(), expected_version=1)
    before = app.recorder.max_notification_id()

    with pytest.raises(VersionMismatch) as refused:
        app.change_commitment_status(commitment.id, "done", stamp(), expected_version=1)

    assert (refused.value.expected, refused.value.actual) == (1, 2)
    assert app.recorder.max_notification_id() == before
    assert app.get_commitment(commitment.id).status == "in_progress"


def test_a_backfilled_change_appears_in_history_with_its_author_and_valid_time(
    app: PlansApplication, plan_id: UUID
) -> None:
    commitment = commitment_of_group(app, plan_id, "AG-KS")
    signed = datetime(2019, 3, 1, tzinfo=UTC)

    app.change_commitment_status(commitment.id, "done", stamp("liaison", KEDV, valid_at=signed,
                                                              reason="protocol signed in 2019"))

    last = app.history(commitment.id)["events"][-1]
    assert last["event_type"] == "StatusChanged"
    assert last["author"] == {"subject": "liaison@izlek.test", "role": "liaison", "organisation_id": KEDV,
                              "name": None}
    assert last["valid_at"] == "2019-03-01T00:00:00+00:00"
    assert last["backfilled"] is True
    assert datetime.fromisoformat(last["recorded_at"]) > datetime.now(UTC) - timedelta(minutes=5)
    assert last["reason"] == "protocol signed in 2019"
    assert last["changes"] == {"status": {"from": "planned", "to": "done"}}


def test_as_of_before_a_change_shows_the_old_state(app: PlansApplication, plan_id: UUID) -> None:
    commitment = commitment_of_group(app, plan_id, "AG-KOOP")
    app.change_commitment_status(commitment.id, "in_progress", stamp())
    recorded_at = datetime.fromisoformat(app.history(commitment.id)["events"][-1]["recorded_at"])

    before = app.get_commitment(commitment.id, as_of=recorded_at - timedelta(microseconds=1))
    at = app.get_commitment(commitment.id, as_of=recorded_at)

    assert (before.status, before.version) == ("planned", 1)
    assert (at.status, at.version) == ("in_progress", 2)
    assert {c.id: c.status for c in app.list_commitments(plan_id, as_of=recorded_at - timedelta(microseconds=1))
            }[commitment.id] == "planned"
    with pytest.raises(EntityNotFound):
        app.get_plan(plan_id, as_of=datetime(2000, 1, 1, tzinfo=UTC))


def test_valid_at_before_a_backfilled_date_shows_the_state_without_it(app: PlansApplication, plan_id: UUID) -> None:
    # The import is valid from the plan's presentation (10 June 2021); the work started in March 2022.
    commitment = commitment_of_group(app, plan_id, "AG-KOOP")
    app.change_commitment_status(commitment.id, "in_progress",
                                 stamp(valid_at=datetime(2022, 3, 1, tzinfo=UTC), reason="started in March"))

    assert app.get_commitment(commitment.id, valid_at=datetime(2022, 2, 28, tzinfo=UTC)).status == "planned"
    assert app.get_commitment(commitment.id, valid_at=datetime(2022, 3, 1, tzinfo=UTC)).status == "in_progress"
    assert app.get_commitment(commitment.id).status == "in_progress"
    with pytest.raises(EntityNotFound):
        app.get_commitment(commitment.id, valid_at=datetime(2021, 6, 9, tzinfo=UTC))


def test_a_change_scheduled_for_a_later_date_shows_from_that_date_on(app: PlansApplication, plan_id: UUID) -> None:
    commitment = commitment_of_group(app, plan_id, "AG-KOOP")
    starts = datetime.now(UTC) + timedelta(days=30)
    version = app.change_commitment_status(commitment.id, "in_progress", stamp(valid_at=starts, reason="planned"))

    now = app.get_commitment(commitment.id)
    assert (now.status, now.version) == ("planned", version), "not yet in effect; the version is the real one"
    assert app.get_commitment(commitment.id, valid_at=starts).status == "in_progress"
    assert [e["event_type"] for e in app.history(commitment.id)["events"]][-1] == "StatusChanged"
    assert app.add_commitment_evidence(commitment.id, stamp(), version, reference="takvim.pdf") == version + 1


def test_a_correction_appears_in_history_as_a_correction_with_its_reason(
    app: PlansApplication, plan_id: UUID
) -> None:
    commitment = commitment_of_group(app, plan_id, "AG-KOOP")
    app.change_commitment_status(commitment.id, "done", stamp())

    app.correct_commitment(commitment.id, {"status": "in_progress"}, stamp(reason="done was entered by mistake"))

    kinds = [(e["event_type"], e["kind"], e["reason"]) for e in app.history(commitment.id)["events"][1:]]
    assert kinds == [("StatusChanged", "change", None),
                     ("Corrected", "correction", "done was entered by mistake")]
    assert app.get_commitment(commitment.id).status == "in_progress"


def test_every_stored_event_survives_a_restart(durable_store: Store) -> None:
    first = durable_store.open()
    try:
        plan_id = import_izmir(first)
        commitment = commitment_of_group(first, plan_id, "AG-KS")
        first.change_commitment_status(commitment.id, "done", stamp("member", KEDV,
                                                                    valid_at=datetime(2019, 3, 1, tzinfo=UTC)))
        first.add_commitment_evidence(commitment.id, stamp(), reference="protokol 2019/14", description="İBB")
        events = stored_events(first)
        plan = first.get_plan(plan_id).view()
        commitments = [(c.id, c.version, c.view()) for c in first.list_commitments(plan_id)]
        criteria = [(c.id, c.version, c.view()) for c in first.list_criteria(plan_id)]
        history = first.history(commitment.id)
    finally:
        first.close()

    again = durable_store.open()
    try:
        assert stored_events(again) == events
        assert again.get_plan(plan_id).view() == plan
        assert [(c.id, c.version, c.view()) for c in again.list_commitments(plan_id)] == commitments
        assert [(c.id, c.version, c.view()) for c in again.list_criteria(plan_id)] == criteria
        assert again.history(commitment.id) == history
        assert [p.id for p in again.list_plans()] == [plan_id]
        assert not import_plan_file(again, IZMIR_PLAN, IMPORTER).events_written
    finally:
        again.close()
