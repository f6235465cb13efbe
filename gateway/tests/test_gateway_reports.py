"""A published report is reproduced exactly later, and later corrections show as differences against it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gateway_testing import IMPORTER, Timeline

from izlek_common.domain.stamp import Stamp
from izlek_gateway.graphql.report import contents_hash, differences, plain

REPORT = """
query Report($planId: ID!, $code: String!) {
  report(planId: $planId, code: $code) {
    code title publishedBy publishedByRole validAt publishedAt
    contents contentsHash
    differences { path published now }
    laterChanges { name kind reason author }
  }
}
"""


def auditor_stamp(**fields: Any) -> Stamp:
    return Stamp(IMPORTER.__class__(subject="denetci@kedv.org.tr", role="auditor", organisation_id="kedv",
                                    name="Denetçi"), **fields)


async def report(timeline: Timeline, plan_id: str, code: str) -> dict[str, Any]:
    return (await timeline.query(REPORT, planId=plan_id, code=code))["report"]


async def test_a_report_is_reproduced_and_a_later_correction_shows_as_a_difference(timeline: Timeline) -> None:
    plans = timeline.services.plans
    [plan] = plans.list_plans()
    commitment = plans.list_commitments(plan.id)[0]
    plans.publish_report(plan.id, auditor_stamp(reason="to the coordination committee"), code="R-1",
                         title="İzleme raporu")
    timeline.project_new_events()
    published = await report(timeline, str(plan.id), "R-1")

    plans.correct_commitment(commitment.id, {"status": "done"}, Stamp(
        IMPORTER, reason="it was done before the report; recorded by mistake as planned"))
    timeline.project_new_events()
    later = await report(timeline, str(plan.id), "R-1")

    assert published["publishedBy"] == "denetci@kedv.org.tr"
    assert published["publishedByRole"] == "auditor"
    assert published["contents"] is not None
    assert published["differences"] == [] and published["laterChanges"] == []
    assert later["contents"] == published["contents"]
    assert later["contentsHash"] == published["contentsHash"] == contents_hash(published["contents"])
    differences_now = {d["path"]: (d["published"], d["now"]) for d in later["differences"]}
    assert differences_now["commitments.by_status[done].count"] == (0, 1)
    assert differences_now["commitments.by_status[planned].count"] == (104, 103)
    assert differences_now[f"commitments.groups[{commitment.actor_group}].commitments[{commitment.code}].status"] == (
        "planned", "done")
    [change] = later["laterChanges"]
    assert (change["name"], change["kind"], change["author"]) == ("Corrected", "correction", IMPORTER.subject)


async def test_a_change_valid_after_the_report_date_is_not_a_difference(timeline: Timeline) -> None:
    plans = timeline.services.plans
    [plan] = plans.list_plans()
    plans.publish_report(plan.id, auditor_stamp(), code="R-2", title="Rapor")
    timeline.project_new_events()
    published = await report(timeline, str(plan.id), "R-2")

    commitment = plans.list_commitments(plan.id)[1]
    plans.change_commitment_status(commitment.id, "in_progress", Stamp(IMPORTER, reason="started after the report"))
    timeline.project_new_events()
    later = await report(timeline, str(plan.id), "R-2")

    assert later["contentsHash"] == published["contentsHash"]
    assert later["differences"] == []
    assert later["laterChanges"] == []


async def test_an_unknown_report_is_null(timeline: Timeline) -> None:
    [plan] = timeline.services.plans.list_plans()

    assert await report(timeline, str(plan.id), "R-404") is None


def test_differences_match_list_items_by_their_code() -> None:
    published = {"criteria": [{"code": "A", "value": "1"}, {"code": "B", "value": "2"}], "title": "x"}
    now = {"criteria": [{"code": "B", "value": "3"}, {"code": "C", "value": "0"}, {"code": "A", "value": "1"}],
           "title": "x"}

    assert differences(published, now) == [
        ("criteria[B].value", "2", "3"),
        ("criteria[C]", None, {"code": "C", "value": "0"}),
    ]


def test_plain_keeps_decimals_exact_and_dates_iso() -> None:
    from dataclasses import dataclass
    from decimal import Decimal

    @dataclass(frozen=True)
    class Row:
        amount: Decimal
        on: datetime

    assert plain([Row(Decimal("1250.50"), datetime(2021, 6, 30, tzinfo=UTC))]) == [
        {"amount": "1250.50", "on": "2021-06-30T00:00:00+00:00"}]

