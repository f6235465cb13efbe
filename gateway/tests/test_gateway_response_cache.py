"""Answers kept until the read models change (`graphql/response_cache.py`), and histories kept with their replay
(`audit.EntityHistories`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from gateway_testing import IMPORTER, Timeline, moment
from sqlalchemy import Connection, Row, insert, select, update
from sqlalchemy.orm import Session

from izlek_common.auth import issue_token
from izlek_common.consumer import consumer_positions
from izlek_common.domain.stamp import Stamp
from izlek_gateway.api import create_app
from izlek_gateway.audit import STATE_TABLES, EntityHistories, compare, entity_state, event_of
from izlek_gateway.projections import HANDLERS, UnprojectableEvent
from izlek_gateway.read_models.tables import commitments, entity_events, metadata
from izlek_gateway.settings import GatewaySettings

STATUS = """query($planId: ID!, $asOf: PointInTime) {
  commitments(planId: $planId, asOf: $asOf, first: 200) { edges { node { id status } } }
}"""


@pytest.fixture
def client(timeline: Timeline, tmp_path: Path) -> Iterator[TestClient]:
    settings = GatewaySettings(environment="test", var_dir=tmp_path)
    token = issue_token(settings, subject="denetci@kedv.org.tr", role="auditor", organisation_id="kedv")
    with TestClient(create_app(settings, engine=timeline.engine),
                    headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def statuses(client: TestClient, plan_id: str, as_of: datetime | None = None) -> dict[str, str]:
    response = client.post("/graphql", json={"query": STATUS, "variables": {
        "planId": plan_id, "asOf": as_of.isoformat() if as_of else None}})
    assert response.status_code == 200, response.text
    return {e["node"]["id"]: e["node"]["status"] for e in response.json()["data"]["commitments"]["edges"]}


def move_position(timeline: Timeline) -> None:
    """What the projector commits with its effects: the consumer's position."""
    with Session(timeline.engine) as session, session.begin():
        moved = session.execute(update(consumer_positions).values(last_stream_seq=consumer_positions.c.last_stream_seq
                                                                  + 1, updated_at=datetime.now(UTC)))
        if not moved.rowcount:
            session.execute(insert(consumer_positions).values(consumer="gateway-from-plans", stream="PLANS",
                                                              last_stream_seq=1, updated_at=datetime.now(UTC)))


def start_a_commitment(timeline: Timeline) -> tuple[str, str]:
    with timeline.engine.connect() as connection:
        commitment_id, plan_id = connection.execute(select(commitments.c.id, commitments.c.plan_id)
                                                    .order_by(commitments.c.code).limit(1)).one()
    timeline.services.plans.change_commitment_status(UUID(commitment_id), "in_progress", Stamp(author=IMPORTER))
    timeline.project_new_events()
    return commitment_id, plan_id


def test_an_answer_is_kept_until_the_projector_commits_and_then_shows_the_change(timeline, client) -> None:
    with timeline.engine.connect() as connection:
        plan_id = connection.execute(select(commitments.c.plan_id).limit(1)).scalar_one()
    move_position(timeline)
    before = statuses(client, plan_id)

    commitment_id, _ = start_a_commitment(timeline)  # effects written, the position not moved yet
    assert statuses(client, plan_id) == before

    move_position(timeline)
    assert statuses(client, plan_id)[commitment_id] == "in_progress"


def test_an_answer_as_of_a_moment_does_not_move_when_later_changes_are_projected(timeline, client) -> None:
    with timeline.engine.connect() as connection:
        plan_id = connection.execute(select(commitments.c.plan_id).limit(1)).scalar_one()
    then = moment()
    before = statuses(client, plan_id, then)

    commitment_id, _ = start_a_commitment(timeline)
    move_position(timeline)

    assert statuses(client, plan_id, then) == before
    assert statuses(client, plan_id)[commitment_id] == "in_progress"


def replayed_alone(rows: list[Row[Any]]) -> list[Any]:
    """The field changes as the history first computed them: every state table read after every event."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    scratch = create_engine("sqlite://", poolclass=StaticPool)
    metadata.create_all(scratch, tables=list(STATE_TABLES))
    changes = []
    with Session(scratch) as session, session.begin():
        before = entity_state(session.connection(), rows[0].entity_id)
        for row in rows:
            projection = HANDLERS[row.event_type]
            try:
                with session.begin_nested():
                    projection.handler(session, event_of(row), projection.contract.model_validate(row.data))
            except (UnprojectableEvent, Exception):
                pass
            after = entity_state(session.connection(), rows[0].entity_id)
            changes.append(compare(before, after))
            before = after
    scratch.dispose()
    return changes


def histories(connection: Connection) -> dict[str, list[Row[Any]]]:
    found: dict[str, list[Row[Any]]] = {}
    for row in connection.execute(select(entity_events).order_by(entity_events.c.version,
                                                                 entity_events.c.recorded_at)):
        found.setdefault(row.entity_id, []).append(row)
    return found


def test_a_kept_history_gives_the_changes_of_a_replay_from_scratch_for_every_entity_whole_grown_or_as_of(
        timeline) -> None:
    start_a_commitment(timeline)
    kept = EntityHistories(capacity=4)
    with timeline.engine.connect() as connection:
        for rows in histories(connection).values():
            expected = replayed_alone(rows)
            assert kept.changes(rows) == expected
            assert kept.changes(rows) == expected  # kept
            assert kept.changes(rows[:-1]) == expected[:-1]  # as of an earlier moment
        grown = max(histories(connection).values(), key=len)
    fresh = EntityHistories()
    fresh.changes(grown[:2])
    assert fresh.changes(grown) == replayed_alone(grown)  # replays only the rows it had not seen


async def test_the_same_question_asked_while_its_answer_is_computed_is_answered_once_for_all(tmp_path: Path) -> None:
    import asyncio

    import httpx
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    from izlek_common.auth import TokenVerifier, install_auth
    from izlek_gateway.graphql.response_cache import CachedQueryResponses, ResponseCache

    settings = GatewaySettings(environment="test", var_dir=tmp_path)
    executions = 0
    app = FastAPI()

    @app.post("/graphql")
    async def graphql() -> JSONResponse:
        nonlocal executions
        executions += 1
        await asyncio.sleep(0.2)  # every other request arrives while this one is being answered
        return JSONResponse({"data": {"plans": [{"code": "izmir"}]}})

    class OneVersion:
        async def current(self) -> int:
            return 1

    install_auth(app, TokenVerifier(settings))
    app.add_middleware(CachedQueryResponses, path="/graphql", cache=ResponseCache(1 << 20), version=OneVersion())
    token = issue_token(settings, subject="denetci@kedv.org.tr", role="auditor", organisation_id="kedv")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test",
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        answers = await asyncio.gather(*(client.post("/graphql", json={"query": "{ plans { code } }"})
                                         for _ in range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    assert {a.content for a in answers} == {b'{"data":{"plans":[{"code":"izmir"}]}}'}
    assert executions == 1
