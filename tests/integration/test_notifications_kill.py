"""End to end: `izlek serve notifications` (a real process, its event store and state on PostgreSQL) SIGKILLed three times while it takes in a
backlog of partner events relayed by `izlek relay partners` to a real nats-server and sends them to a real HTTP
receiver; messages delivered again by NATS in between. The receiver counts: every event arrives once.

Each kill lands while the receiver holds a request unanswered (so no 2xx is lost between the receiver and the
service's record of it, the one window where a resend is possible and documented), after every earlier 2xx was
recorded as delivered.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from conftest import EXAMPLES, IZLEK
from nats.aio.client import Client
from sqlalchemy import Engine, func, select

from izlek_common.consumer import TrackedConsumer, dead_letters, stored_position
from izlek_common.domain.stamp import Author, Stamp
from izlek_common.eventstore import eventsourcing_env
from izlek_common.jetstream import connect
from izlek_notifications.intake.handler import Intake
from izlek_notifications.settings import NotificationsSettings
from izlek_notifications.state.database import create_state_engine
from izlek_notifications.state.tables import deliveries
from izlek_partners.application import PartnersApplication
from izlek_partners.domain.protocol import Protocol

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "services" / "notifications" / "tests"))
from notifications_testing import (
    HoldingReceiver,
    bearer,
    smtp_server,
    until,
    verify_standard_webhook,
)

from izlek_notifications.bootstrap import build_application

pytestmark = [pytest.mark.postgres, pytest.mark.nats, pytest.mark.timeout(300)]

PURCHASES = 200  # each recorded and confirmed
WEBHOOK_EVENTS = 2 * PURCHASES
HOLD_AT = (60, 170, 280)
"""After this many 2xx answers the receiver holds the next request unanswered and the service is killed."""
DURABLE = "notifications-from-partners"
IBB = "izmir-buyuksehir-belediyesi"
URLA = "ss-urla-kadin-girisimi-uretim-ve-isletme-kooperatifi"


@pytest.fixture
def smtp() -> Iterator[tuple[int, list]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def env(service_env: dict[str, str], postgres_database, tmp_path: Path, free_port: int,
        smtp: tuple[int, list]) -> dict[str, str]:
    env = {k: v for k, v in service_env.items() if k != "IZLEK_PLANS_EVENT_STORE_URL"}
    env.update({
        "IZLEK_PARTNERS_EVENT_STORE_URL": f"sqlite:///{tmp_path / 'partners.sqlite'}",
        "IZLEK_NOTIFICATIONS_EVENT_STORE_URL": postgres_database.url,  # the subscriptions' events, beside the state
        "IZLEK_NOTIFICATIONS_DATABASE_URL": postgres_database.sqlalchemy_url,
        "IZLEK_NOTIFICATIONS_PORT": str(free_port),
        "IZLEK_NOTIFICATIONS_WEBHOOK_ALLOW": "127.0.0.1",
        "IZLEK_NOTIFICATIONS_CONSUMER_BATCH_SIZE": "10",
        "IZLEK_NOTIFICATIONS_DELIVERY_CONCURRENCY": "4",
        "IZLEK_NOTIFICATIONS_RETRY_BASE_SECONDS": "0.05",
        "IZLEK_NOTIFICATIONS_RETRY_CAP_SECONDS": "0.5",
        "IZLEK_NOTIFICATIONS_RETRY_ATTEMPTS": "20",
        "IZLEK_NOTIFICATIONS_WEBHOOK_TIMEOUT_SECONDS": "2",
        "IZLEK_NOTIFICATIONS_DELIVERY_POLL_SECONDS": "0.1",
        "IZLEK_NOTIFICATIONS_SCHEDULER_ENABLED": "false",
        "IZLEK_NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
        "IZLEK_NOTIFICATIONS_SMTP_PORT": str(smtp[0]),
        "IZLEK_NOTIFICATIONS_SMTP_SECURITY": "none",
        "COLUMNS": "200",
    })
    return env


@pytest.fixture
def state(postgres_database) -> Iterator[Engine]:
    engine = create_state_engine(postgres_database.sqlalchemy_url)
    yield engine
    engine.dispose()


@pytest_asyncio.fixture
async def nc(nats_server) -> AsyncIterator[Client]:
    client = await connect(nats_server.url, "notifications-kill-test", initial_connect_timeout=10)
    yield client
    await client.close()


def izlek(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([IZLEK, *args], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def write_backlog(env: dict[str, str]) -> None:
    """The İzmir partners and protocols, then purchases İBB records and the cooperative confirms."""
    izlek(env, "import-partners", str(EXAMPLES / "partners.yaml"), "--author", "ayse@kedv.org.tr")
    izlek(env, "import-protocols", str(EXAMPLES / "protocols.yaml"), "--author", "ayse@kedv.org.tr")
    partners = PartnersApplication(env=eventsourcing_env(env["IZLEK_PARTNERS_EVENT_STORE_URL"]))
    try:
        liaison = Stamp(Author("elif@izmir.bel.tr", "liaison", IBB))
        member = Stamp(Author("fatma@urla.coop", "member", URLA))
        protocol_id = Protocol.create_id("prot-2019-kedv-izmir-buyuksehir-belediyesi")
        for n in range(PURCHASES):
            purchase_id = partners.record_purchase(
                liaison, municipality_code=IBB, cooperative_code=URLA, protocol_id=protocol_id,
                amount=f"{100 + n}.50", category="catering", purchased_on=date(2024, 1 + n % 12, 1),
                invoice_reference=f"İBB-2024-{n:05d}")
            partners.confirm_purchase(purchase_id, member)
    finally:
        partners.close()


def counts(state: Engine) -> dict[str, int]:
    with state.connect() as connection:
        rows = connection.execute(select(deliveries.c.channel, deliveries.c.state, func.count()).group_by(
            deliveries.c.channel, deliveries.c.state)).all()
    return {f"{channel}:{status}": n for channel, status, n in rows}


async def test_the_service_killed_and_restarted_while_nats_redelivers_sends_every_event_once(
    env, spawn, nats_server, state, nc, smtp, tmp_path
):
    receiver = await HoldingReceiver().start()
    try:
        port = int(env["IZLEK_NOTIFICATIONS_PORT"])
        service = spawn(["serve", "notifications"], env, "notifications-0", port)
        headers = bearer(NotificationsSettings(environment="test"), "coordinator", subject="ayse@kedv.org.tr")
        response = httpx.post(f"{service.base_url}/subscriptions", headers=headers, json={
            "channel": {"type": "webhook", "url": receiver.url},
            "filter": {"event_types": ["izlek.partners.purchase.*"]}, "language": "tr"})
        assert response.status_code == 201, response.text
        secret = response.json()["secret"]

        write_backlog(env)
        spawn(["relay", "partners"], env, "relay-partners")

        positions_at_kill = []
        for attempt, threshold in enumerate(HOLD_AT):
            receiver.hold(after=threshold)
            await until(lambda: receiver.holding.is_set(), timeout=120, what=f"{threshold} webhooks")
            # Every 2xx so far is recorded, and no e-mail is under way: nothing can be sent twice by this kill.
            await until(lambda: counts(state).get("webhook:delivered", 0) == sum(receiver.accepted.values())
                        and counts(state).get("email:pending", 0) == 0,
                        what=lambda: f"the answers recorded: {counts(state)}, {sum(receiver.accepted.values())}")
            service.kill()
            positions_at_kill.append(stored_position(state, DURABLE))
            # Requests the killed process sent in its last moments are read (and held) before anything answers.
            await asyncio.sleep(0.5)
            if attempt == 1:
                await redeliver_applied_messages(nc, state, env)
            service = spawn(["serve", "notifications"], env, f"notifications-{attempt + 1}", port)
            receiver.release()
        print("intake position at each kill:", positions_at_kill)

        await until(lambda: counts(state).get("webhook:delivered", 0) == WEBHOOK_EVENTS, timeout=180,
                    what="every webhook delivered")
        assert sum(receiver.accepted.values()) == len(receiver.accepted) == WEBHOOK_EVENTS
        assert set(receiver.accepted.values()) == {1}, "no event reached the receiver twice"
        answered = [r for r in receiver.requests if r.status == 200]
        assert all(verify_standard_webhook(secret, r.headers, r.body) for r in answered)
        events = [json.loads(r.body) for r in answered]
        assert len({e["id"] for e in events}) == WEBHOOK_EVENTS
        assert {e["type"] for e in events} == {"izlek.partners.purchase.recorded.v1",
                                               "izlek.partners.purchase.confirmed.v1"}
        assert len(receiver.requests) > len(answered), "the held requests were sent again after the restarts"

        # KEDV, party to the three signed protocols, heard of each drafting and signing once, by e-mail.
        _, mails = smtp
        assert counts(state).get("email:delivered") == 6
        message_ids = [m.message["Message-ID"] for m in mails]
        assert len(message_ids) == len(set(message_ids)) == 6
        assert {m.rcpt_tos[0] for m in mails} == {"kedv@kedv.org.tr"}

        assert dead_letters(state) == []
        assert stored_position(state, DURABLE) == 52 + 8 + WEBHOOK_EVENTS
        service.stop()
        assert service.process.returncode == 0, service.log_tail()
    finally:
        await receiver.stop()


async def redeliver_applied_messages(nc: Client, state: Engine, env: dict[str, str]) -> None:
    """A lost acknowledgement, as after a crash between commit and ack: the service's own durable and handler
    apply 20 messages without acknowledging them; JetStream delivers them again, and they change nothing."""
    settings = NotificationsSettings(_env_file=None, **{  # type: ignore[call-arg]
        "notifications_event_store_url": env["IZLEK_NOTIFICATIONS_EVENT_STORE_URL"],
        "notifications_database_url": env["IZLEK_NOTIFICATIONS_DATABASE_URL"], "environment": "test"})
    application = build_application(settings, state)
    try:
        consumer = TrackedConsumer(nc, state, stream="PARTNERS", durable=DURABLE,
                                   handler=Intake(application).handle_message, batch_size=10, max_ack_pending=20,
                                   ack_wait=1.0)
        subscription = await consumer.bind()
        first = await subscription.fetch(20, timeout=30)
        before = counts(state)
        await consumer.apply(first)
        created = counts(state)
        again = await subscription.fetch(20, timeout=30)
        assert [m.metadata.sequence.stream for m in again] == [m.metadata.sequence.stream for m in first]
        assert {m.metadata.num_delivered for m in again} == {2}
        await consumer.apply(again)
        assert counts(state) == created, "the redelivered messages created no second delivery"
        assert sum(created.values()) - sum(before.values()) == len(first)
        for message in again:
            await message.ack()
        await subscription.unsubscribe()
    finally:
        application.close()
