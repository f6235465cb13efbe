"""Events from the real partners application, relayed to a real nats-server, reach a real HTTP receiver and a real
SMTP server: signed webhooks, e-mails in the subscriber's language, retries with backoff, dead letters, redrive."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from notifications_testing import (
    CIGLI_PROTOCOL,
    KEDV_EMAIL,
    Izmir,
    Notifications,
    WebhookReceiver,
    izmir,
    relaying,
    running_notifications,
    settings,
    smtp_server,
    stamp,
    until,
    verify_standard_webhook,
)
from sqlalchemy import Engine, select

from izlek_common.nats_server import EmbeddedNatsServer
from izlek_notifications.state.database import create_state_engine
from izlek_notifications.state.tables import subscriptions
from izlek_partners.domain.protocol import Protocol

pytestmark = [pytest.mark.nats, pytest.mark.timeout(120)]

STATUS_CHANGED = "izlek.partners.protocol.status_changed.v1"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_database").sqlalchemy_url
    engine = create_state_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def world() -> Iterator[Izmir]:
    with izmir() as services:
        yield services


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    server = await WebhookReceiver().start()
    yield server
    await server.stop()


@pytest.fixture
def smtp() -> Iterator[tuple[int, list]]:
    with smtp_server() as server:
        yield server


@pytest_asyncio.fixture
async def service(engine: Engine, world: Izmir, nats_server: EmbeddedNatsServer,
                  smtp: tuple[int, list]) -> AsyncIterator[Notifications]:
    """The İzmir plans and partners relayed to NATS; the notifications service consuming them, sending e-mail to
    the test's SMTP server."""
    config = settings(nats_url=nats_server.url, notifications_smtp_host="127.0.0.1",
                      notifications_smtp_port=smtp[0], notifications_smtp_security="none")
    async with relaying(world.plans, nats_server.url), relaying(world.partners, nats_server.url), \
            running_notifications(config, engine) as notifications:
        await until(lambda: notifications.runtime.consumers, what="the consumers")
        for consumer in notifications.runtime.consumers:
            await consumer.wait_caught_up(timeout=60)
        yield notifications


async def subscribe_webhook(service: Notifications, url: str, **filter_: object) -> dict:
    response = await service.client.post("/subscriptions", headers=service.headers(), json={
        "channel": {"type": "webhook", "url": url}, "filter": filter_ or {"event_types": [STATUS_CHANGED]},
        "language": "en"})
    assert response.status_code == 201, response.text
    return response.json()


def move_cigli_protocol(world: Izmir, status: str = "in_force") -> None:
    world.partners.change_protocol_status(Protocol.create_id(CIGLI_PROTOCOL), status,
                                          stamp("liaison", "cigli-belediyesi", subject="elif@cigli.bel.tr",
                                                reason="protokol yürürlüğe girdi"))


async def test_a_protocol_status_change_reaches_a_signed_webhook_and_e_mails_in_each_recipients_language(
    service: Notifications, world: Izmir, receiver: WebhookReceiver, smtp: tuple[int, list]
) -> None:
    _, mails = smtp
    webhook = await subscribe_webhook(service, receiver.url)
    mail = await service.client.post("/subscriptions", headers=service.headers("coordinator", subject="jane@kedv.org"),
                                     json={"channel": {"type": "email", "address": "jane@example.org"},
                                           "filter": {"event_types": ["izlek.partners.protocol.*"]},
                                           "language": "en"})
    assert mail.status_code == 201, mail.text
    assert "secret" not in mail.json()

    move_cigli_protocol(world)

    await until(lambda: receiver.accepted and len(mails) == 2, what="the webhook and both e-mails")
    await until(lambda: {d["state"] for d in service.delivery_rows()} == {"delivered"}, what="deliveries recorded")
    [request] = receiver.requests
    assert request.method == "POST" and request.path == "/hooks/izlek"
    assert verify_standard_webhook(webhook["secret"], request.headers, request.body)
    assert not verify_standard_webhook(webhook["secret"].replace("whsec_", "whsec_A"), request.headers, request.body)
    assert request.headers["content-type"].startswith("application/cloudevents+json")
    event = json.loads(request.body)
    assert event["type"] == STATUS_CHANGED and event["data"]["status"] == "in_force"
    assert event["actor"] == "elif@cigli.bel.tr" and event["reason"] == "protokol yürürlüğe girdi"
    [delivery] = service.delivery_rows(event_type=STATUS_CHANGED, channel="webhook")
    assert request.headers["webhook-id"] == delivery["id"] and delivery["state"] == "delivered"

    by_address = {m.rcpt_tos[0]: m for m in mails}
    english, turkish = by_address["jane@example.org"], by_address[KEDV_EMAIL]
    assert english.subject == "Protocol status changed: İş birliği protokolü – Çiğli Belediyesi (in force)"
    assert "The status of the protocol “İş birliği protokolü – Çiğli Belediyesi” changed:\nsigned → in force" \
        in english.text
    assert "Reason: protokol yürürlüğe girdi" in english.text
    assert english.message["Content-Language"] == "en"
    # KEDV is a party: its contact hears of it without subscribing, in Turkish.
    assert turkish.subject == "Protokolün durumu değişti: İş birliği protokolü – Çiğli Belediyesi (yürürlükte)"
    assert "imzalandı → yürürlükte" in turkish.text
    assert "Taraflar: Kadın Emeğini Değerlendirme Vakfı, Çiğli Belediyesi" in turkish.text
    assert "Kaydeden: elif@cigli.bel.tr (belediye muhatabı, Çiğli Belediyesi)" in turkish.text
    assert "Kadın Emeğini Değerlendirme Vakfı kurumunun iletişim adresi olduğunuz için" in turkish.text
    assert turkish.message["Content-Language"] == "tr"
    assert english.message["Message-ID"] != turkish.message["Message-ID"]


async def test_a_receiver_that_fails_three_times_gets_the_event_once_after_backing_off(
    service: Notifications, world: Izmir, receiver: WebhookReceiver
) -> None:
    receiver.respond = lambda request: 503 if len(receiver.requests) <= 3 else 204
    await subscribe_webhook(service, receiver.url)

    move_cigli_protocol(world)

    await until(lambda: service.delivery_rows(state="delivered", channel="webhook"), what="the delivery")
    assert [r.status for r in receiver.requests] == [503, 503, 503, 204]
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert list(receiver.accepted.values()) == [1]
    [row] = service.delivery_rows(channel="webhook")
    response = await service.client.get(f"/deliveries/{row['id']}", headers=service.headers())
    delivery = response.json()
    assert (delivery["state"], delivery["attempts"], delivery["last_status"]) == ("delivered", 4, 204)
    log = delivery["attempt_log"]
    assert [(a["number"], a["outcome"], a["status_code"]) for a in log] == [
        (1, "failed", 503), (2, "failed", 503), (3, "failed", 503), (4, "delivered", 204)]
    for earlier, later in itertools.pairwise(log):
        assert later["started_at"] >= earlier["retry_at"] >= earlier["finished_at"], "each retry waited its turn"
    ceilings = [min(0.2, 0.05 * 2 ** n) for n in range(3)]  # base 0.05 s doubling, capped at 0.2 s
    for attempt, ceiling in zip(log[:3], ceilings, strict=True):
        waited = datetime.fromisoformat(attempt["retry_at"]) - datetime.fromisoformat(attempt["finished_at"])
        assert timedelta(0) <= waited <= timedelta(seconds=ceiling), "full jitter: between zero and the ceiling"
    assert all(a["error"] == "HTTP 503" for a in log[:3])


async def test_a_receiver_that_always_fails_ends_dead_and_a_redrive_delivers_once_it_recovers(
    service: Notifications, world: Izmir, receiver: WebhookReceiver
) -> None:
    healthy = False
    receiver.respond = lambda request: 200 if healthy else 500
    webhook = await subscribe_webhook(service, receiver.url)

    move_cigli_protocol(world)
    await until(lambda: service.delivery_rows(state="dead", channel="webhook"), what="a dead delivery")
    assert len(receiver.requests) == service.settings.notifications_retry_attempts == 4
    [dead] = service.delivery_rows(state="dead", channel="webhook")
    assert dead["next_attempt_at"] is None and dead["last_error"] == "HTTP 500"

    early = await service.client.post(f"/deliveries/{dead['id']}/redrive", headers=service.headers("auditor"))
    assert early.status_code == 403

    healthy = True
    redriven = await service.client.post(f"/deliveries/{dead['id']}/redrive", headers=service.headers())
    assert redriven.status_code == 200, redriven.text
    assert redriven.json()["redriven_by"] == "coordinator@izlek.test" and redriven.json()["redrives"] == 1
    await until(lambda: service.delivery_rows(state="delivered", channel="webhook"), what="the redriven delivery")
    assert receiver.accepted[dead["id"]] == 1
    assert verify_standard_webhook(webhook["secret"], receiver.requests[-1].headers, receiver.requests[-1].body)
    [delivered] = service.delivery_rows(id=dead["id"])
    assert (delivered["state"], delivered["attempts"]) == ("delivered", 1)

    again = await service.client.post(f"/deliveries/{dead['id']}/redrive", headers=service.headers())
    assert again.status_code == 409
    assert again.json()["current"] == "delivered" and again.json()["allowed"] == []


async def test_redriving_a_subscription_sends_all_its_dead_deliveries_again(
    service: Notifications, world: Izmir, receiver: WebhookReceiver
) -> None:
    healthy = False
    receiver.respond = lambda request: 200 if healthy else 500
    webhook = await subscribe_webhook(service, receiver.url, event_types=["izlek.partners.protocol.*"])

    move_cigli_protocol(world, "in_force")
    move_cigli_protocol(world, "suspended")
    await until(lambda: len(service.delivery_rows(state="dead", channel="webhook")) == 2, what="two dead deliveries")

    healthy = True
    response = await service.client.post(f"/subscriptions/{webhook['id']}/redrive", headers=service.headers())
    assert response.status_code == 200 and response.json()["redriven"] == 2
    await until(lambda: len(service.delivery_rows(state="delivered", channel="webhook")) == 2, what="both redriven deliveries")
    assert sorted(json.loads(r.body)["data"]["status"] for r in receiver.requests if r.status == 200) == [
        "in_force", "suspended"]
    listed = await service.client.get(f"/subscriptions/{webhook['id']}/deliveries?state=delivered",
                                      headers=service.headers())
    assert len(listed.json()) == 2


async def test_redirects_are_not_followed(service: Notifications, world: Izmir, receiver: WebhookReceiver) -> None:
    elsewhere = await WebhookReceiver().start()
    try:
        receiver.respond = lambda request: 302
        await subscribe_webhook(service, receiver.url)
        move_cigli_protocol(world)
        await until(lambda: service.delivery_rows(state="dead", channel="webhook"), what="a dead delivery")
        assert elsewhere.requests == []
        assert service.delivery_rows(state="dead", channel="webhook")[0]["last_error"].startswith("HTTP 302")
    finally:
        await elsewhere.stop()


async def test_a_paused_subscription_holds_its_waiting_deliveries_until_resumed(
    service: Notifications, world: Izmir, receiver: WebhookReceiver
) -> None:
    answer, healthy = asyncio.Event(), False

    async def respond(request: object) -> int:
        await answer.wait()
        return 200 if healthy else 500

    receiver.respond = respond
    webhook = await subscribe_webhook(service, receiver.url)
    move_cigli_protocol(world)
    await until(lambda: receiver.requests, what="a first attempt, kept waiting by the receiver")
    paused = await service.client.post(f"/subscriptions/{webhook['id']}/pause", headers=service.headers())
    assert paused.json()["state"] == "paused"
    await until(lambda: subscription_state(service, webhook["id"]) == "paused", what="the pause to reach the worker")
    answer.set()  # the attempt under way fails; its retry is held while the subscription is paused
    await until(lambda: service.delivery_rows(channel="webhook")[0]["state"] == "failed", what="the failed attempt")
    move_cigli_protocol(world, "suspended")  # recorded while paused: not delivered
    for consumer in service.runtime.consumers:
        await consumer.wait_caught_up()
    await asyncio.sleep(0.5)  # many polls of the worker, none of which may pick the held delivery
    [held] = service.delivery_rows(channel="webhook")
    assert (held["state"], held["attempts"]) == ("failed", 1) and len(receiver.requests) == 1
    assert service.runtime.store.next_due_at() is None, "nothing is due while the subscription is paused"

    healthy = True
    resumed = await service.client.post(f"/subscriptions/{webhook['id']}/resume", headers=service.headers())
    assert resumed.json()["state"] == "active"
    await until(lambda: service.delivery_rows(state="delivered", channel="webhook"), what="the held delivery")
    [delivered] = service.delivery_rows(channel="webhook")
    assert delivered["attempts"] == 2 and sum(receiver.accepted.values()) == 1
    assert json.loads(receiver.requests[-1].body)["data"]["status"] == "in_force"


def subscription_state(service: Notifications, subscription_id: str) -> str | None:
    with service.engine.connect() as connection:
        return connection.execute(select(subscriptions.c.state).where(
            subscriptions.c.id == subscription_id)).scalar_one_or_none()


async def test_of_two_replicas_only_the_lease_holder_consumes_and_sends_and_the_other_takes_over_when_it_stops(
    engine: Engine, world: Izmir, nats_server: EmbeddedNatsServer, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    config = settings(nats_url=nats_server.url, lease_ttl_seconds=1.0,
                      notifications_event_store_url=f"sqlite:///{tmp_path / 'subscriptions.sqlite'}")
    async with contextlib.AsyncExitStack() as outer, relaying(world.partners, nats_server.url):
        first = await outer.enter_async_context(running_notifications(config, engine))
        await until(lambda: first.runtime.consumers, what="the first replica's consumers")
        async with contextlib.AsyncExitStack() as inner:
            second = await inner.enter_async_context(running_notifications(config, engine))
            await subscribe_webhook(second, receiver.url)
            move_cigli_protocol(world)
            await until(lambda: sum(receiver.accepted.values()) == 1, what="the first change delivered")
            assert second.runtime.lease is not None and not second.runtime.lease.held
            assert not second.runtime.consumers

            await outer.aclose()  # the holder stops and releases its lease
            await until(lambda: second.runtime.consumers, what="the second replica taking over")
            move_cigli_protocol(world, "suspended")
            await until(lambda: sum(receiver.accepted.values()) == 2, what="the second change delivered")
            await until(lambda: [d["state"] for d in second.delivery_rows(channel="webhook")] == ["delivered"] * 2,
                        what="the webhook deliveries recorded")
            statuses = [json.loads(r.body)["data"]["status"] for r in receiver.requests]
            assert statuses == ["in_force", "suspended"]
            assert set(receiver.accepted.values()) == {1}
