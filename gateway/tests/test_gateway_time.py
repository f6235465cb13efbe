"""``asOf`` and ``validAt``: a backfilled change and a correction, seen from before and after they were recorded.

The İzmir import is projected; then a protocol is backfilled into 2019 (recorded today), a change is scheduled and a
protocol's recorded status is corrected. Each query is answered from the read models alone: the present tables,
or the audit trail replayed to the point in time asked for.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from gateway_testing import AUDITOR, IMPORTER, Timeline, moment

from izlek_common.domain.stamp import Stamp
from izlek_gateway.graphql.context import GatewayContext
from izlek_gateway.graphql.schema import schema

COMMITMENT = """
query Commitments($asOf: PointInTime, $validAt: PointInTime) {
  commitments(first: 200, asOf: $asOf, validAt: $validAt) { edges { node { id code status } } }
}
"""


async def status_of(timeline: Timeline, code: str, **times: Any) -> str | None:
    edges = (await timeline.query(COMMITMENT, **times))["commitments"]["edges"]
    return next((edge["node"]["status"] for edge in edges if edge["node"]["code"] == code), None)


PROTOCOLS = """
query Protocols($asOf: PointInTime, $validAt: PointInTime) {
  protocols(asOf: $asOf, validAt: $validAt) { code status kind }
}
"""


async def protocol_statuses(timeline: Timeline, **times: Any) -> dict[str, str]:
    protocols = (await timeline.query(PROTOCOLS, **times))["protocols"]
    return {p["code"]: p["status"] for p in protocols}


async def test_before_the_import_nothing_was_known(timeline: Timeline) -> None:
    before = "2020-01-01T00:00:00+03:00"

    data = await timeline.query("query($t: PointInTime) { plans(asOf: $t) { code } protocols(asOf: $t) { code } }",
                                t=before)

    assert data == {"plans": [], "protocols": []}


async def test_protocols_signed_in_2019_and_2020_as_valid_then(timeline: Timeline) -> None:
    # The report says İBB and Çiğli signed in 2019, Konak in 2020; the import recorded them today, valid then.
    end_of_2018 = await protocol_statuses(timeline, validAt="2018-12-31")
    end_of_2019 = await protocol_statuses(timeline, validAt="2019-12-31")
    present = await protocol_statuses(timeline)

    signed = {code for code, status in present.items() if status == "signed"}
    assert len(signed) == 3
    assert not any(status == "signed" for status in end_of_2018.values())
    signed_2019 = {code for code, status in end_of_2019.items() if status == "signed"}
    assert len(signed_2019) == 2
    assert all("konak" not in code for code in signed_2019)


async def test_a_backfilled_protocol_is_valid_in_2019_but_unknown_as_of_before_it_was_recorded(
        timeline: Timeline) -> None:
    partners = timeline.services.partners
    before_backfill = moment()
    in_2019 = Stamp(IMPORTER, valid_at=datetime(2019, 3, 1, tzinfo=UTC), valid_precision="month",
                    reason="found in the 2019 council minutes")
    protocol_id = partners.draft_protocol(in_2019, code="prot-2019-kedv-ibb-pazar-alani", title="Pazar alanı protokolü – İBB",
                                          parties=[{"organisation_code": "kedv", "role": "party"},
                                                   {"organisation_code": "izmir-buyuksehir-belediyesi", "role": "party"}])
    partners.change_protocol_status(protocol_id, "signed", Stamp(
        IMPORTER, valid_at=datetime(2019, 5, 1, tzinfo=UTC), valid_precision="month", reason="signed in May 2019"))
    timeline.project_new_events()

    assert (await protocol_statuses(timeline))["prot-2019-kedv-ibb-pazar-alani"] == "signed"
    assert (await protocol_statuses(timeline, validAt="2019-12-31"))["prot-2019-kedv-ibb-pazar-alani"] == "signed"
    assert (await protocol_statuses(timeline, validAt="2019-04-30"))["prot-2019-kedv-ibb-pazar-alani"] == "draft"
    assert "prot-2019-kedv-ibb-pazar-alani" not in await protocol_statuses(timeline, validAt="2019-02-28")
    assert "prot-2019-kedv-ibb-pazar-alani" not in await protocol_statuses(timeline, asOf=before_backfill.isoformat())
    assert "prot-2019-kedv-ibb-pazar-alani" not in await protocol_statuses(timeline, asOf=before_backfill.isoformat(),
                                                                    validAt="2019-12-31")


async def test_a_commitment_does_not_exist_before_the_valid_time_of_its_registration(timeline: Timeline) -> None:
    plans = timeline.services.plans
    [plan] = plans.list_plans()
    commitment = plans.list_commitments(plan.id)[0]
    plans.change_commitment_status(commitment.id, "in_progress", Stamp(
        IMPORTER, valid_at=datetime(2019, 6, 1, tzinfo=UTC), reason="said to have started in 2019"))
    timeline.project_new_events()

    # The plan and its commitments took effect when they were imported: nothing of them is valid in 2019,
    # so the backfilled status change has nothing to apply to then.
    assert await status_of(timeline, commitment.code) == "in_progress"
    assert await status_of(timeline, commitment.code, validAt="2019-12-31") is None


async def test_a_correction_changes_the_present_and_leaves_the_earlier_as_of_view(timeline: Timeline) -> None:
    partners = timeline.services.partners
    konak = next(p for p in partners.list_protocols() if "konak" in p.code)
    before_correction = moment()
    partners.correct_protocol(konak.id, {"status": "proposed"}, Stamp(
        IMPORTER, reason="the 2020 protocol with Konak was proposed, never signed: the report was misread"))
    timeline.project_new_events()

    assert (await protocol_statuses(timeline))[konak.code] == "proposed"
    assert (await protocol_statuses(timeline, asOf=before_correction.isoformat()))[konak.code] == "signed"

    history = (await timeline.query(
        "query($id: ID!) { history(id: $id) { kind reason author changes { field before after } } }",
        id=str(konak.id)))["history"]
    correction = history[-1]
    assert correction["kind"] == "correction"
    assert correction["author"] == IMPORTER.subject
    assert {"field": "status", "before": "signed", "after": "proposed"} in correction["changes"]


async def test_one_query_reads_each_root_field_at_its_own_point_in_time(timeline: Timeline) -> None:
    data = await timeline.query("""
      { now: protocols { code parties { organisationCode } }
        then: protocols(validAt: "2019-12-31") { code parties { organisationCode } }
        before: plans(asOf: "2020-01-01") { code goals { code } } }
    """)

    assert len(data["now"]) == 5
    assert len(data["then"]) < len(data["now"])
    assert all(p["parties"] for p in data["then"])
    assert data["before"] == []


async def test_changes_lists_an_authors_changes_in_a_span_of_time(timeline: Timeline) -> None:
    plans = timeline.services.plans
    [plan] = plans.list_plans()
    since = moment()
    for commitment in plans.list_commitments(plan.id)[:3]:
        plans.change_commitment_status(commitment.id, "in_progress", Stamp(IMPORTER, reason="started"))
    timeline.project_new_events()

    query = """query($by: String, $from: PointInTime, $first: Int!, $after: String) {
      changes(by: $by, from: $from, first: $first, after: $after) {
        edges { cursor node { author name reason recordedAt } } pageInfo { hasNextPage endCursor } } }"""
    page = (await timeline.query(query, by=IMPORTER.subject, **{"from": since.isoformat()}, first=2))["changes"]
    rest = (await timeline.query(query, by=IMPORTER.subject, **{"from": since.isoformat()}, first=2,
                                 after=page["pageInfo"]["endCursor"]))["changes"]
    nobody = (await timeline.query(query, by="nobody@example.org", first=10))["changes"]

    names = [edge["node"]["name"] for edge in page["edges"] + rest["edges"]]
    assert names == ["StatusChanged"] * 3
    assert page["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]
    assert nobody["edges"] == []


@pytest.mark.parametrize("value", ["yesterday", "2019-13-01", "31.12.2019"])
async def test_a_point_in_time_that_is_not_iso_8601_is_refused(timeline: Timeline, value: str) -> None:
    with timeline.engine.connect() as connection:
        result = await schema.execute("query($t: PointInTime) { plans(asOf: $t) { code } }",
                                      variable_values={"t": value},
                                      context_value=GatewayContext(connection=connection, principal=AUDITOR))
    assert result.errors
    assert "ISO 8601" in result.errors[0].message


def test_a_date_means_the_end_of_that_day_in_turkey() -> None:
    from izlek_gateway.graphql.scalars import point_in_time

    assert point_in_time("2019-12-31") == datetime(2019, 12, 31, 20, 59, 59, 999999, tzinfo=UTC)
    assert point_in_time("2019-12-31T09:30:00") == datetime(2019, 12, 31, 6, 30, tzinfo=UTC)
    assert point_in_time("2019-12-31T09:30:00Z") - point_in_time("2019-12-31T09:30:00+03:00") == timedelta(hours=3)


async def test_a_change_scheduled_for_later_shows_from_its_date(timeline: Timeline) -> None:
    partners = timeline.services.partners
    konak = next(p for p in partners.list_protocols() if "konak" in p.code)
    next_month = datetime.now(UTC) + timedelta(days=30)
    partners.change_protocol_status(konak.id, "terminated", Stamp(
        IMPORTER, valid_at=next_month, reason="the council ends it from next month"))
    timeline.project_new_events()

    assert (await protocol_statuses(timeline))[konak.code] == "signed"
    assert (await protocol_statuses(timeline, validAt=(next_month + timedelta(days=1)).isoformat()))[
        konak.code] == "terminated"
    history = (await timeline.query("query($id: ID!) { history(id: $id) { name validAt } }",
                                    id=str(konak.id)))["history"]
    assert history[-1]["name"] == "StatusChanged"
