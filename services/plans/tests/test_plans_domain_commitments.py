"""Commitments in memory: status transitions, reasons, corrections and no-op changes."""

from __future__ import annotations

from datetime import date, datetime
from uuid import uuid4

import pytest
from plans_testing import stamp

from izlek_common.domain.base import is_correction
from izlek_common.domain.stamp import Author, Stamp
from izlek_plans.domain.commitment import Commitment
from izlek_plans.domain.errors import InvalidValue, ReasonRequired, StatusTransitionNotAllowed


def a_commitment(status: str = "planned") -> Commitment:
    commitment = Commitment.register(
        plan_id=uuid4(), target_code="T1.1", code="T1.1-A01", title="Alt çalışma grupları oluşturulması",
        actor_group="AG-KOOP", stamp=stamp(),
    )
    path = {"planned": [], "in_progress": ["in_progress"], "done": ["done"], "dropped": ["dropped"]}[status]
    for step in path:
        commitment.change_status(step, stamp(reason="set up"))
    commitment.collect_events()
    return commitment


def event_names(commitment: Commitment) -> list[str]:
    return [type(e).__name__ for e in commitment.collect_events()]


def test_a_new_commitment_is_planned() -> None:
    assert a_commitment().status == "planned"


def test_a_commitment_needs_an_actor_group_or_an_organisation() -> None:
    with pytest.raises(InvalidValue, match="actor group, an organisation"):
        Commitment.register(plan_id=uuid4(), target_code="T1.1", code="A1", title="t", stamp=stamp())


@pytest.mark.parametrize(
    ("start", "to"),
    [
        ("planned", "in_progress"),
        ("planned", "done"),
        ("in_progress", "done"),
        ("in_progress", "planned"),
    ],
)
def test_a_commitment_moves_along_an_allowed_transition(start: str, to: str) -> None:
    commitment = a_commitment(start)

    assert commitment.change_status(to, stamp()) is True

    assert commitment.status == to
    assert event_names(commitment) == ["StatusChanged"]


@pytest.mark.parametrize(
    ("start", "to", "allowed"),
    [
        ("done", "planned", ["in_progress"]),
        ("done", "dropped", ["in_progress"]),
        ("dropped", "done", ["planned", "in_progress"]),
    ],
)
def test_a_forbidden_transition_is_refused_with_the_allowed_ones(start: str, to: str, allowed: list[str]) -> None:
    commitment = a_commitment(start)

    with pytest.raises(StatusTransitionNotAllowed) as refused:
        commitment.change_status(to, stamp(reason="because"))

    assert (refused.value.current, refused.value.requested, refused.value.allowed) == (start, to, allowed)
    assert commitment.status == start
    assert event_names(commitment) == []


def test_an_unknown_status_is_invalid() -> None:
    with pytest.raises(InvalidValue, match="'finished' is not a commitment status"):
        a_commitment().change_status("finished", stamp())


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_dropping_a_commitment_needs_a_reason(reason: str | None) -> None:
    commitment = a_commitment("in_progress")

    with pytest.raises(ReasonRequired, match="drop"):
        commitment.change_status("dropped", stamp(reason=reason))

    assert commitment.status == "in_progress"
    assert event_names(commitment) == []


@pytest.mark.parametrize(("start", "to"), [("done", "in_progress"), ("dropped", "planned")])
def test_reopening_a_done_or_dropped_commitment_needs_a_reason(start: str, to: str) -> None:
    commitment = a_commitment(start)

    with pytest.raises(ReasonRequired, match=f"reopen a {start} commitment"):
        commitment.change_status(to, stamp())
    assert commitment.change_status(to, stamp(reason="the cooperative resumed the work")) is True

    assert commitment.status == to


def test_setting_the_status_it_already_has_records_no_event() -> None:
    commitment = a_commitment("in_progress")

    assert commitment.change_status("in_progress", stamp()) is False

    assert event_names(commitment) == []


def test_unchanged_details_and_assignment_record_no_event() -> None:
    commitment = a_commitment()

    assert commitment.change_details({"title": "  Alt çalışma grupları oluşturulması  "}, stamp()) is False
    assert commitment.assign(actor_group="AG-KOOP", organisation_id=None, stamp=stamp()) is False
    assert commitment.correct({"status": "planned"}, stamp(reason="check")) is False

    assert event_names(commitment) == []


def test_a_change_of_details_records_only_what_differs() -> None:
    commitment = a_commitment()

    commitment.change_details({"title": "Alt çalışma grupları oluşturulması", "due_date": date(2022, 6, 30)},
                              stamp())

    events = commitment.collect_events()
    assert [type(e).__name__ for e in events] == ["DetailsChanged"]
    assert events[0].changes == {"due_date": date(2022, 6, 30)}  # type: ignore[attr-defined]


def test_a_correction_needs_a_reason() -> None:
    commitment = a_commitment()

    with pytest.raises(ReasonRequired, match="correct a commitment"):
        commitment.correct({"title": "Düzeltilmiş başlık"}, stamp())

    assert event_names(commitment) == []


def test_a_correction_is_its_own_event_type_and_follows_no_transition_rule() -> None:
    commitment = a_commitment("done")

    # done -> planned is no allowed transition, but the status was simply recorded by mistake.
    commitment.correct({"status": "planned"}, stamp(reason="entered on the wrong row"))

    names = event_names(commitment)
    assert names == ["Corrected"]
    assert is_correction(names[0]) and not is_correction("StatusChanged")
    assert commitment.status == "planned"


def test_a_change_of_status_is_not_a_detail_change() -> None:
    with pytest.raises(InvalidValue, match="no changeable field"):
        a_commitment().change_details({"status": "done"}, stamp())


def test_a_commitment_past_its_due_date_is_overdue_until_done_or_dropped() -> None:
    commitment = a_commitment()
    commitment.change_details({"due_date": date(2022, 1, 31)}, stamp())

    assert commitment.is_overdue(date(2022, 2, 1)) is True
    assert commitment.is_overdue(date(2022, 1, 31)) is False
    commitment.change_status("done", stamp())
    assert commitment.is_overdue(date(2022, 2, 1)) is False


def test_a_commitment_is_assigned_to_the_organisations_its_actor_group_names() -> None:
    commitment = a_commitment()

    assert commitment.is_assigned_to("kedv", ("kedv", "simurg")) is True
    assert commitment.is_assigned_to("other-coop", ("kedv", "simurg")) is False


def test_a_valid_time_without_a_time_zone_is_refused() -> None:
    with pytest.raises(InvalidValue, match="time zone"):
        Stamp(Author("ayse", "coordinator"), valid_at=datetime(2019, 5, 1))
