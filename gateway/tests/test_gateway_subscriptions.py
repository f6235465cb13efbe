"""Subscriptions over graphql-transport-ws, end to end: commands of the real services, their relays, a real
nats-server, the gateway's projector and the gateway served by uvicorn, spoken to by a websocket client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI
from gateway_testing import IzmirServices, izmir_services
from nats.aio.client import Client
from sqlalchemy import Engine, func, select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from izlek_common.auth import issue_token
from izlek_common.domain.stamp import Author, Stamp
from izlek_common.eventsourced.application import TrackedApplication
from izlek_common.eventsourced.publishing import cloudevent_translator
from izlek_common.jetstream import connect as connect_nats
from izlek_common.nats_server import EmbeddedNatsServer, find_free_port
from izlek_common.relay import Relay
from izlek_gateway.api import create_app
from izlek_gateway.graphql.subscriptions import encode_live_cursor
from izlek_gateway.projector import Projector
from izlek_gateway.read_models.database import create_read_model_engine, upgrade_database
from izlek_gateway.read_models.tables import entity_events
from izlek_gateway.settings import GatewaySettings

pytestmark = [pytest.mark.nats, pytest.mark.timeout(180)]

COORDINATOR = Stamp(Author("ayse@kedv.org.tr", "coordinator", "kedv"))
FROM_THE_START = encode_live_cursor({"plans": 0, "partners": 0})
ITEM = "cursor entityId planId notificationId streamSeq change { service name author kind }"
PLAN_CHANGES = f"subscription($plan: ID!, $after: String) {{ planChanges(planId: $plan, after: $after) {{ {ITEM} }} }}"
ENTITY_CHANGES = f"subscription($id: ID!, $after: String) {{ entityChanges(id: $id, after: $after) {{ {ITEM} }} }}"

Event = tuple[str, int]
"""An event by its service and notification id."""


# -- the pieces: read models, services, relays, the served gateway, a graphql-transport-ws client ---------------


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = (f"sqlite:///{tmp_path / 'read_models.sqlite'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_database").sqlalchemy_url)
    engine = create_read_model_engine(url)
    upgrade_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_read_model_engine(f"sqlite:///{tmp_path / 'read_models.sqlite'}")
    upgrade_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def izmir() -> Iterator[IzmirServices]:
    with izmir_services() as services:
        yield services


@pytest.fixture
def settings(tmp_path: Path) -> GatewaySettings:
    # A long poll: a change that arrives quickly was announced by the projector, not found by polling.
    return GatewaySettings(environment="test", var_dir=tmp_path, gateway_subscription_poll_interval=60)


@pytest_asyncio.fixture
async def nc(nats_server: EmbeddedNatsServer) -> AsyncIterator[Client]:
    client = await connect_nats(nats_server.url, "gateway-subscriptions-test", initial_connect_timeout=10)
    yield client
    await client.close()


async def relay(app: TrackedApplication, service: str, nats_url: str) -> None:
    """Run the service's relay until every stored event is in its stream."""
    relayer = Relay(service=service, recorder=app.recorder, translate=cloudevent_translator(app),
                    nats_url=nats_url, poll_interval=0.05, retry_interval=0.1)
    stop = asyncio.Event()
    running = asyncio.create_task(relayer.run(stop))
    try:
        async with asyncio.timeout(30):
            while relayer.stats.position != app.recorder.max_notification_id():
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await running


async def relayed(izmir: IzmirServices, nats_url: str) -> None:
    """Relay everything both services stored."""
    await relay(izmir.plans, "plans", nats_url)
    await relay(izmir.partners, "partners", nats_url)


def made_by(app: TrackedApplication, service: str, command: Callable[[], object]) -> list[Event]:
    """Run `command` on `app`; the events it stored."""
    before = app.recorder.max_notification_id() or 0
    command()
    return [(service, n) for n in range(before + 1, (app.recorder.max_notification_id() or 0) + 1)]


async def projected(engine: Engine, izmir: IzmirServices) -> None:
    """Wait until the read models hold every event both services stored."""
    def latest() -> dict[str, int]:
        with engine.connect() as connection:
            rows = connection.execute(select(entity_events.c.service, func.max(entity_events.c.notification_id))
                                      .group_by(entity_events.c.service))
            return {service: int(n) for service, n in rows}

    wanted = {"plans": izmir.plans.recorder.max_notification_id(),
              "partners": izmir.partners.recorder.max_notification_id()}
    async with asyncio.timeout(60):
        while await asyncio.to_thread(latest) != wanted:
            await asyncio.sleep(0.05)


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free port; yield the websocket URL of /graphql."""
    port = find_free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(30):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.02)
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task


@dataclass
class GraphQLSocket:
    """A client of graphql-transport-ws: connection_init, subscribe, next, error, complete."""

    ws: ClientConnection

    async def subscribe(self, operation_id: str, query: str, **variables: Any) -> None:
        await self.send({"id": operation_id, "type": "subscribe", "payload": {"query": query, "variables": variables}})

    async def complete(self, operation_id: str) -> None:
        await self.send({"id": operation_id, "type": "complete"})

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, timeout: float = 15) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            message: dict[str, Any] = json.loads(await self.ws.recv())
            return message

    async def changes(self, count: int, timeout: float = 15) -> list[dict[str, Any]]:
        """The next `count` items of ``next`` messages, failing on anything else."""
        items = []
        while len(items) < count:
            message = await self.receive(timeout)
            assert message["type"] == "next" and not message["payload"].get("errors"), message
            [item] = message["payload"]["data"].values()
            items.append(item)
        return items

    async def nothing_more(self, within: float = 1.0) -> None:
        with pytest.raises(TimeoutError):
            await self.receive(timeout=within)


@asynccontextmanager
async def graphql_socket(url: str, token: str | None = None, *, in_header: bool = False) -> AsyncIterator[GraphQLSocket]:
    """A socket acknowledged by the gateway, with the bearer token in connection_init (or the handshake)."""
    authorization = {"Authorization": f"Bearer {token}"} if token else {}
    headers = authorization if in_header else None
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")], additional_headers=headers) as ws:
        socket = GraphQLSocket(ws)
        await socket.send({"type": "connection_init", "payload": {} if in_header else authorization})
        assert await socket.receive() == {"type": "connection_ack"}
        yield socket


def planned_commitments(izmir: IzmirServices, plan_id: Any) -> list[Any]:
    return [c for c in izmir.plans.list_commitments(plan_id) if c.status == "planned"]


def stream_positions(engine: Engine) -> dict[str, int]:
    """The last stream sequence projected, per service."""
    with engine.connect() as connection:
        return {service: int(seq) for service, seq in connection.execute(
            select(entity_events.c.service, func.max(entity_events.c.stream_seq)).group_by(entity_events.c.service))}


def events_of(items: list[dict[str, Any]]) -> list[Event]:
    return [(item["change"]["service"], item["notificationId"]) for item in items]


def token(settings: GatewaySettings, role: str = "auditor", scopes: tuple[str, ...] = ()) -> str:
    return issue_token(settings, subject=f"{role}@example.org", role=role, scopes=scopes)


@asynccontextmanager
async def izmir_gateway(engine: Engine, izmir: IzmirServices, nats_server: EmbeddedNatsServer,
                        settings: GatewaySettings) -> AsyncIterator[str]:
    """The İzmir import relayed to a real nats-server and the gateway serving it, its projector inside; yields
    the websocket URL once the import is projected."""
    await relayed(izmir, nats_server.url)
    async with serving(create_app(settings, engine=engine, nats_url=nats_server.url)) as url:
        await projected(engine, izmir)
        yield url


# -- the tests ---------------------------------------------------------------------------------------------------


async def test_a_client_that_resumes_from_its_cursor_receives_every_change_it_missed_once_then_the_live_ones(
    engine: Engine, izmir: IzmirServices, nats_server: EmbeddedNatsServer, settings: GatewaySettings
) -> None:
    [plan] = izmir.plans.list_plans()
    first, second, third = planned_commitments(izmir, plan.id)[:3]
    bursa = izmir.plans.start_plan(COORDINATOR, code="bursa", title="Bursa eylem planı", region="Bursa")
    cigli = izmir.partners.organisation_by_code("cigli-belediyesi").id
    plans, partners = izmir.plans, izmir.partners

    async with izmir_gateway(engine, izmir, nats_server, settings) as url:
        async with graphql_socket(url, token(settings)) as socket:
            await socket.subscribe("1", PLAN_CHANGES, plan=str(plan.id))
            # Without a cursor, only what is projected from now on: the İzmir import is not replayed. The
            # subscription starts as the server reads its message, so change until one arrives.
            made: list[Event] = []
            while True:
                status = "in_progress" if len(made) % 2 == 0 else "planned"
                made += made_by(plans, "plans", partial(plans.change_commitment_status, first.id, status, COORDINATOR))
                await relayed(izmir, nats_server.url)
                try:
                    [item] = await socket.changes(1, timeout=5)
                except TimeoutError:
                    continue
                break
            [first_received] = events_of([item])
            assert first_received in made
            later = made[made.index(first_received) + 1:]  # made while the first one was on its way
            assert events_of(await socket.changes(len(later))) == later
            live = made_by(partners, "partners", lambda: partners.change_organisation(
                cigli, {"short_name": "Çiğli"}, COORDINATOR))
            live += made_by(plans, "plans", lambda: plans.change_commitment_status(second.id, "done", COORDINATOR))
            await relayed(izmir, nats_server.url)
            received = await socket.changes(len(live))
            assert sorted(events_of(received)) == sorted(live)
            last_cursor = received[-1]["cursor"]
            assert {item["planId"] for item in received} <= {str(plan.id), None}

        # Away: changes of this plan, of the partners, and of another plan (not this dashboard's) are projected.
        missed = made_by(plans, "plans", lambda: plans.change_commitment_status(third.id, "in_progress", COORDINATOR))
        missed += made_by(partners, "partners", lambda: partners.change_organisation(
            cigli, {"short_name": "Çiğli Bld."}, COORDINATOR))
        elsewhere = made_by(plans, "plans", lambda: plans.change_plan(bursa, {"title": "Bursa planı"}, COORDINATOR))
        missed += made_by(plans, "plans", lambda: plans.change_commitment_status(third.id, "done", COORDINATOR))
        await relayed(izmir, nats_server.url)
        await projected(engine, izmir)

        async with graphql_socket(url, token(settings)) as socket:
            await socket.subscribe("1", PLAN_CHANGES, plan=str(plan.id), after=last_cursor)
            resumed = await socket.changes(len(missed))
            assert events_of(resumed) == missed
            assert not set(events_of(resumed)) & set(elsewhere)
            assert [item["change"]["author"] for item in resumed] == ["ayse@kedv.org.tr"] * len(missed)

            then = made_by(plans, "plans", lambda: plans.change_commitment_status(first.id, "done", COORDINATOR))
            await relayed(izmir, nats_server.url)
            assert events_of(await socket.changes(len(then))) == then
            await socket.nothing_more()


async def test_a_subscription_from_the_start_replays_the_dashboards_whole_history_in_stream_order(
    sqlite_engine: Engine, izmir: IzmirServices, nats_server: EmbeddedNatsServer, settings: GatewaySettings
) -> None:
    [plan] = izmir.plans.list_plans()

    async with izmir_gateway(sqlite_engine, izmir, nats_server, settings) as url:
        with sqlite_engine.connect() as connection:
            expected = [(row.service, row.notification_id) for row in connection.execute(
                select(entity_events)
                .where((entity_events.c.plan_id == str(plan.id)) | (entity_events.c.service == "partners"))
                .order_by(entity_events.c.service, entity_events.c.stream_seq))]
        assert len(expected) > 200  # more than one read's worth
        async with graphql_socket(url, token(settings)) as socket:
            await socket.subscribe("1", PLAN_CHANGES, plan=str(plan.id), after=FROM_THE_START)
            replayed = await socket.changes(len(expected))
            await socket.nothing_more()

    assert sorted(events_of(replayed)) == sorted(expected)
    for service in ("plans", "partners"):
        assert [e for e in events_of(replayed) if e[0] == service] == [e for e in expected if e[0] == service]


async def test_a_subscription_to_one_commitment_receives_its_history_after_the_cursor_and_only_its_changes(
    sqlite_engine: Engine, izmir: IzmirServices, nats_server: EmbeddedNatsServer, settings: GatewaySettings
) -> None:
    [plan] = izmir.plans.list_plans()
    watched, other = planned_commitments(izmir, plan.id)[:2]
    plans = izmir.plans

    async with izmir_gateway(sqlite_engine, izmir, nats_server, settings) as url:
        with sqlite_engine.connect() as connection:
            history = [(row.service, row.notification_id) for row in connection.execute(
                select(entity_events).where(entity_events.c.entity_id == str(watched.id))
                .order_by(entity_events.c.stream_seq))]
        assert history
        async with graphql_socket(url, token(settings, "partner_app", ("region:izmir",))) as socket:
            await socket.subscribe("commitment", ENTITY_CHANGES, id=str(watched.id), after=FROM_THE_START)
            before = await socket.changes(len(history))
            assert events_of(before) == history
            assert {item["entityId"] for item in before} == {str(watched.id)}

            made = made_by(plans, "plans", lambda: plans.change_commitment_status(other.id, "done", COORDINATOR))
            made += made_by(plans, "plans", lambda: plans.change_commitment_status(watched.id, "in_progress",
                                                                                    COORDINATOR))
            await relayed(izmir, nats_server.url)
            [item] = await socket.changes(1)
            assert events_of([item]) == made[-1:]
            assert (item["entityId"], item["change"]["name"]) == (str(watched.id), "StatusChanged")
            seqs = [change["streamSeq"] for change in [*before, item]]
            assert seqs == sorted(seqs)

            await socket.complete("commitment")
            plans.change_commitment_status(watched.id, "done", COORDINATOR)
            await relayed(izmir, nats_server.url)
            await socket.nothing_more()


async def test_subscriptions_follow_a_projector_in_another_process_by_polling(
    sqlite_engine: Engine, izmir: IzmirServices, nats_server: EmbeddedNatsServer, nc: Client, tmp_path: Path
) -> None:
    settings = GatewaySettings(environment="test", var_dir=tmp_path, gateway_subscription_poll_interval=0.2)
    [plan] = izmir.plans.list_plans()
    commitment = planned_commitments(izmir, plan.id)[0]
    await relayed(izmir, nats_server.url)
    stop = asyncio.Event()
    # The gateway has no NATS URL: this projector, unknown to it, stands for `izlek gateway project`.
    projecting = asyncio.create_task(Projector(nc, sqlite_engine).run(stop))
    try:
        async with serving(create_app(settings, engine=sqlite_engine)) as url:
            await projected(sqlite_engine, izmir)
            async with graphql_socket(url, token(settings)) as socket:
                await socket.subscribe("1", PLAN_CHANGES, plan=str(plan.id),
                                       after=encode_live_cursor(stream_positions(sqlite_engine)))
                made = made_by(izmir.plans, "plans", lambda: izmir.plans.change_commitment_status(
                    commitment.id, "done", COORDINATOR))
                await relayed(izmir, nats_server.url)
                assert events_of(await socket.changes(1)) == made
    finally:
        stop.set()
        await projecting


async def test_a_partner_app_outside_the_plan_gets_an_error_and_no_change(
    sqlite_engine: Engine, izmir: IzmirServices, nats_server: EmbeddedNatsServer, settings: GatewaySettings
) -> None:
    [plan] = izmir.plans.list_plans()
    commitment = izmir.plans.list_commitments(plan.id)[0]
    outsider = token(settings, "partner_app", ("plan:bursa", "region:Bursa"))

    async with izmir_gateway(sqlite_engine, izmir, nats_server, settings) as url:
        async with graphql_socket(url, outsider) as socket:
            await socket.subscribe("plan", PLAN_CHANGES, plan=str(plan.id), after=FROM_THE_START)
            refused = await socket.receive()
            assert refused["type"] == "error" and refused["id"] == "plan"
            assert "no plan" in refused["payload"][0]["message"]
            assert "scopes" in refused["payload"][0]["message"]

            await socket.subscribe("commitment", ENTITY_CHANGES, id=str(commitment.id), after=FROM_THE_START)
            refused = await socket.receive()
            assert refused["type"] == "error" and refused["id"] == "commitment"
            assert "scopes do not cover" in refused["payload"][0]["message"]

            # The shared directory stays visible: an organisation's changes are not tied to a plan.
            kedv = izmir.partners.organisation_by_code("kedv").id
            await socket.subscribe("organisation", ENTITY_CHANGES, id=str(kedv), after=FROM_THE_START)
            [registered, *_] = await socket.changes(1)
            assert (registered["entityId"], registered["planId"]) == (str(kedv), None)

        async with graphql_socket(url, token(settings, "partner_app", ("plan:izmir-eylem-plani",))) as socket:
            # From just before the last event of the import, which is one of the plan's.
            positions = stream_positions(sqlite_engine)
            before_last = encode_live_cursor({**positions, "plans": positions["plans"] - 1})
            await socket.subscribe("plan", PLAN_CHANGES, plan=str(plan.id), after=before_last)
            [last] = await socket.changes(1)
            assert (last["planId"], last["streamSeq"]) == (str(plan.id), positions["plans"])
            await socket.nothing_more(within=0.5)


async def test_a_socket_without_a_valid_token_is_closed_with_the_reason(
    sqlite_engine: Engine, settings: GatewaySettings
) -> None:
    async with serving(create_app(settings, engine=sqlite_engine)) as url:
        for payload, reason in (({}, "missing bearer token"),
                                ({"Authorization": "Bearer not.a.token"}, "malformed token"),
                                ({"Authorization": f"Basic {token(settings)}"}, "authorization scheme must be Bearer")):
            async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
                await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4403
            assert closed.value.rcvd.reason == f"Forbidden: {reason}"

        async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
            socket = GraphQLSocket(ws)
            await socket.subscribe("early", PLAN_CHANGES, plan="x")
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_a_socket_is_closed_when_its_token_expires(sqlite_engine: Engine, settings: GatewaySettings) -> None:
    short_lived = issue_token(settings, subject="app@example.org", role="auditor", ttl=timedelta(seconds=2))

    async with serving(create_app(settings, engine=sqlite_engine)) as url:
        async with graphql_socket(url, short_lived) as socket:
            await socket.subscribe("1", ENTITY_CHANGES, id="an-entity-yet-to-come")
            with pytest.raises(ConnectionClosed) as closed:
                await socket.receive(timeout=15)

    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4403, "Forbidden: token expired")


async def test_a_token_in_the_handshake_header_authenticates_the_socket_too(
    sqlite_engine: Engine, settings: GatewaySettings
) -> None:
    async with serving(create_app(settings, engine=sqlite_engine)) as url:
        async with graphql_socket(url, token(settings), in_header=True) as socket:
            await socket.subscribe("1", PLAN_CHANGES, plan="no-such-plan")
            refused = await socket.receive()
            assert refused["type"] == "error"
            assert refused["payload"][0]["message"] == "no plan no-such-plan"


async def test_bad_cursors_queries_and_limits_over_the_socket_get_clear_errors(
    sqlite_engine: Engine, izmir: IzmirServices, nats_server: EmbeddedNatsServer, settings: GatewaySettings
) -> None:
    [plan] = izmir.plans.list_plans()
    async with izmir_gateway(sqlite_engine, izmir, nats_server, settings) as url:
        async with graphql_socket(url, token(settings)) as socket:
            await socket.subscribe("cursor", PLAN_CHANGES, plan=str(plan.id), after="not-a-cursor")
            refused = await socket.receive()
            assert refused["type"] == "error"
            assert "not a cursor of a subscription" in refused["payload"][0]["message"]

            await socket.subscribe("query", "{ plans { code } }")
            refused = await socket.receive()
            assert refused["type"] == "error"
            assert "POST /graphql" in refused["payload"][0]["message"]

            aliases = " ".join(f"c{n}: cursor" for n in range(settings.gateway_max_query_aliases + 1))
            await socket.subscribe("aliases", f"subscription($plan: ID!) {{ planChanges(planId: $plan) {{ {aliases} }} }}",
                                   plan=str(plan.id))
            refused = await socket.receive()
            assert refused["type"] == "error"
            assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_ALIASES"
