"""The GraphQL queries over the projected İzmir read models, executed on the schema directly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from gateway_testing import projected_izmir_engine
from sqlalchemy import Connection, Engine, select, update

from izlek_common.auth import Principal, Role
from izlek_common.turkish_time import today_in_turkey
from izlek_gateway.graphql.context import GatewayContext
from izlek_gateway.graphql.schema import decode_cursor, schema
from izlek_gateway.read_models.tables import commitments, protocols

AUDITOR = Principal("denetci@kedv.org.tr", Role.auditor, None)
TODAY = date(2026, 6, 15)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    engine = projected_izmir_engine()
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    # Whatever a test changes is rolled back when the connection closes.
    with engine.connect() as connection:
        yield connection


async def query(connection: Connection, document: str, **variables: Any) -> dict[str, Any]:
    result = await schema.execute(document, variable_values=variables,
                                  context_value=GatewayContext(connection=connection, principal=AUDITOR, today=TODAY))
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


PAGE = """
query Page($after: String, $first: Int!, $overdue: Boolean, $actorGroup: String, $status: String) {
  commitments(first: $first, after: $after, overdue: $overdue, actorGroup: $actorGroup, status: $status) {
    totalCount
    edges { cursor node { code status overdue dueDate actorGroup } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def walk(connection: Connection, first: int, **filters: Any) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await query(connection, PAGE, first=first, after=after, **filters))["commitments"]
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def test_the_izmir_plan_has_its_goals_targets_and_commitments(connection: Connection) -> None:
    data = await query(connection, """
      { plans { id code goals { code targets { code commitments { code } } } targets { code } commitments { code } } }
    """)

    [plan] = data["plans"]
    assert plan["code"] == "izmir-eylem-plani"
    assert [goal["code"] for goal in plan["goals"]] == ["G1", "G2"]
    assert len(plan["targets"]) == 5
    assert len(plan["commitments"]) == 104
    nested = [c for goal in plan["goals"] for target in goal["targets"] for c in target["commitments"]]
    assert len(nested) == 104


async def test_a_plan_is_found_by_its_id_and_an_unknown_id_finds_nothing(connection: Connection) -> None:
    plan_id = (await query(connection, "{ plans { id } }"))["plans"][0]["id"]

    found = await query(connection, "query($id: ID!) { plan(id: $id) { code } }", id=plan_id)
    missing = await query(connection, "query($id: ID!) { plan(id: $id) { code } }", id="no-such-plan")

    assert found["plan"] == {"code": "izmir-eylem-plani"}
    assert missing["plan"] is None


async def test_paging_with_first_and_after_walks_every_commitment_exactly_once(connection: Connection) -> None:
    nodes = await walk(connection, first=10)

    codes = [node["code"] for node in nodes]
    assert len(codes) == 104
    assert len(set(codes)) == 104


async def test_cursors_are_opaque_base64_of_the_sort_key(connection: Connection) -> None:
    page = (await query(connection, PAGE, first=1))["commitments"]

    rank, due, _plan_id, code = decode_cursor(page["edges"][0]["cursor"])
    assert (rank, due, code) == (1, date(9999, 12, 31), page["edges"][0]["node"]["code"])


async def test_commitments_filter_by_actor_group_and_status(connection: Connection) -> None:
    cooperatives = await walk(connection, first=50, actorGroup="AG-KOOP")
    planned = await walk(connection, first=50, status="PLANNED")
    done = await walk(connection, first=50, status="done")

    assert len(cooperatives) == 25
    assert {node["actorGroup"] for node in cooperatives} == {"AG-KOOP"}
    assert len(planned) == 104
    assert done == []


async def test_overdue_commitments_come_first_and_done_ones_are_never_overdue(connection: Connection) -> None:
    late = ["T1.1-A03", "T1.1-A02"]
    connection.execute(update(commitments).where(commitments.c.code.in_(late)).values(due_date=date(2026, 6, 14)))
    connection.execute(update(commitments).where(commitments.c.code == "T1.1-A01")
                       .values(due_date=date(2026, 1, 1), status="done"))
    connection.execute(update(commitments).where(commitments.c.code == "T1.1-A04").values(due_date=TODAY))

    every = await walk(connection, first=7)
    overdue = await walk(connection, first=7, overdue=True)
    on_time = await walk(connection, first=7, overdue=False)

    assert [node["code"] for node in every[:2]] == ["T1.1-A02", "T1.1-A03"]
    assert [node["overdue"] for node in every[:3]] == [True, True, False]
    assert [node["code"] for node in overdue] == ["T1.1-A02", "T1.1-A03"]
    assert len(on_time) == 102
    assert next(node for node in every if node["code"] == "T1.1-A01")["overdue"] is False


async def test_commitments_due_in_a_span_of_days(connection: Connection) -> None:
    connection.execute(update(commitments).where(commitments.c.code == "T1.1-A01").values(due_date=date(2026, 9, 1)))
    connection.execute(update(commitments).where(commitments.c.code == "T1.1-A02").values(due_date=date(2026, 9, 30)))
    connection.execute(update(commitments).where(commitments.c.code == "T1.1-A03").values(due_date=date(2026, 10, 1)))

    september = await query(connection, """{ commitments(dueAfter: "2026-09-01", dueBefore: "2026-09-30") {
      totalCount edges { node { code dueDate } } } }""")

    assert september["commitments"]["totalCount"] == 2
    assert [e["node"]["code"] for e in september["commitments"]["edges"]] == ["T1.1-A01", "T1.1-A02"]


def test_today_is_taken_in_turkey_three_hours_ahead_of_utc() -> None:
    from datetime import UTC, datetime

    assert today_in_turkey(datetime(2026, 6, 14, 21, 0, tzinfo=UTC)) == date(2026, 6, 15)
    assert today_in_turkey(datetime(2026, 6, 14, 20, 59, tzinfo=UTC)) == date(2026, 6, 14)


@pytest.mark.parametrize("spelling", ["COOPERATIVE", "cooperative"])
async def test_organisations_filter_by_type_in_either_spelling(connection: Connection, spelling: str) -> None:
    data = await query(connection, "query($t: String) { organisations(type: $t) { code type } }", t=spelling)

    assert len(data["organisations"]) == 9
    assert {o["type"] for o in data["organisations"]} == {"cooperative"}


async def test_an_organisation_is_found_by_its_code(connection: Connection) -> None:
    data = await query(connection, '{ organisation(code: "kedv") { shortName type } }')

    assert data["organisation"] == {"shortName": "KEDV", "type": "foundation"}


async def test_the_2019_protocols_keep_their_year_precision_and_term(connection: Connection) -> None:
    data = await query(connection, """
      { protocols { code kind status validPrecision termStart parties { role organisation { code } } } }
    """)

    by_code = {p["code"]: p for p in data["protocols"]}
    assert len(by_code) == 5
    of_2019 = [p for code, p in by_code.items() if code.startswith("prot-2019-")]
    assert len(of_2019) == 2
    assert all(p["validPrecision"] == "year" and p["termStart"] == "2019" for p in of_2019)
    assert [p["kind"] for p in by_code.values()].count("cooperation_protocol") == 3
    ibb = by_code["prot-2019-kedv-izmir-buyuksehir-belediyesi"]
    assert {(party["role"], party["organisation"]["code"]) for party in ibb["parties"]} == {
        ("implementing_organisation", "kedv"), ("municipality", "izmir-buyuksehir-belediyesi"),
    }


async def test_protocols_filter_by_party_and_status(connection: Connection) -> None:
    konak = await query(connection, '{ protocols(party: "konak-belediyesi") { code } }')
    drafts = await query(connection, '{ protocols(status: "DRAFT") { code } }')

    assert konak["protocols"] == [{"code": "prot-2020-kedv-konak-belediyesi"}]
    assert len(drafts["protocols"]) == 2


async def test_purchases_of_the_izmir_data_are_none_yet(connection: Connection) -> None:
    data = await query(connection, '{ purchases(municipality: "konak-belediyesi") { id amount } }')

    assert data["purchases"] == []


async def test_the_history_of_a_protocol_lists_its_drafting_and_status_change_with_author(
    connection: Connection,
) -> None:
    protocol_id = connection.execute(
        select(protocols.c.id).where(protocols.c.code == "prot-2019-kedv-izmir-buyuksehir-belediyesi")
    ).scalar_one()

    data = await query(connection, """
      query($id: ID!) { history(id: $id) {
        name eventType kind author role organisation recordedAt validAt validPrecision reason data } }
    """, id=protocol_id)

    entries = data["history"]
    assert [e["name"] for e in entries] == ["Drafted", "StatusChanged"]
    assert {(e["author"], e["role"], e["organisation"]) for e in entries} == {
        ("ayse@kedv.org.tr", "coordinator", "kedv")
    }
    assert entries[1]["eventType"] == "izlek.partners.protocol.status_changed.v1"
    assert entries[1]["data"]["status"] == "signed"
    assert entries[1]["validPrecision"] == "year"
    assert entries[1]["validAt"].startswith("2019-01-01")
    assert entries[0]["reason"].startswith("imported from protocols.yaml")


async def test_a_cursor_that_was_not_handed_out_is_an_error(connection: Connection) -> None:
    result = await schema.execute(PAGE, variable_values={"first": 5, "after": "bm90LWEtY3Vyc29y"},
                                  context_value=GatewayContext(connection=connection, principal=AUDITOR))

    assert result.errors is not None
    assert "not a cursor" in result.errors[0].message
