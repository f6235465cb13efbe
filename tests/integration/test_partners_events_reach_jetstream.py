"""End to end: the İzmir partners and protocols imported by `izlek import-partners` / `izlek import-protocols` on
PostgreSQL, then `izlek relay partners` (a real process, killed mid-backlog and restarted) to a real nats-server.

The PARTNERS stream must end as an exact mirror of the store: every stored event once, in store order.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from datetime import date

import pytest
from conftest import EXAMPLES, IZLEK
from streams import StreamWatcher, read_stream, stream_message_count

from izlek_common.domain.stamp import Author, Stamp
from izlek_common.eventstore import eventsourcing_env
from izlek_partners.application import PartnersApplication
from izlek_partners.domain.protocol import Protocol

pytestmark = [pytest.mark.postgres, pytest.mark.nats, pytest.mark.timeout(240)]

IMPORTED = 52 + 8  # 52 organisations; 5 protocols drafted, 3 of them signed
PURCHASES = 600  # each recorded and confirmed: 1 200 events of backlog
IBB = "izmir-buyuksehir-belediyesi"
URLA = "ss-urla-kadin-girisimi-uretim-ve-isletme-kooperatifi"


@pytest.fixture
def partners_env(service_env, postgres_database) -> dict[str, str]:
    env = {k: v for k, v in service_env.items() if k != "IZLEK_PLANS_EVENT_STORE_URL"}
    env["IZLEK_PARTNERS_EVENT_STORE_URL"] = postgres_database.url
    env["COLUMNS"] = "200"
    return env


def izlek(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([IZLEK, *args], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def stored_notification_ids(postgres_url: str) -> list[int]:
    app = PartnersApplication(env=eventsourcing_env(postgres_url))
    try:
        ids, start = [], 1
        while batch := app.recorder.select_notifications(start, 5000):
            ids.extend(n.id for n in batch)
            start = batch[-1].id + 1
        return ids
    finally:
        app.close()


def record_purchases(postgres_url: str, count: int) -> None:
    """İBB's liaison records purchases from a cooperative under the 2019 protocol; the cooperative confirms."""
    app = PartnersApplication(env=eventsourcing_env(postgres_url))
    try:
        liaison = Stamp(Author("elif@izmir.bel.tr", "liaison", IBB))
        member = Stamp(Author("fatma@urla.coop", "member", URLA))
        protocol_id = Protocol.create_id("prot-2019-kedv-izmir-buyuksehir-belediyesi")
        for n in range(count):
            purchase_id = app.record_purchase(liaison, municipality_code=IBB, cooperative_code=URLA,
                                              protocol_id=protocol_id, amount=f"{100 + n}.{n % 100:02d}",
                                              category="catering", purchased_on=date(2024, 1 + n % 12, 1),
                                              invoice_reference=f"İBB-2024-{n:05d}")
            app.confirm_purchase(purchase_id, member)
    finally:
        app.close()


async def assert_stream_mirrors_store(nats_url: str, postgres_url: str, timeout: float = 90) -> int:
    stored = stored_notification_ids(postgres_url)
    deadline = time.monotonic() + timeout
    while (count := await stream_message_count(nats_url, "PARTNERS")) < len(stored):
        assert time.monotonic() < deadline, f"the stream holds {count} messages, expected {len(stored)}"
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # a late duplicate would show up now
    contents = await read_stream(nats_url, "PARTNERS")
    assert contents.notification_ids == stored, "every stored event once, in store order"
    assert len(set(contents.msg_ids)) == len(contents.msg_ids)
    assert contents.msg_ids == [f"partners:{n}" for n in stored]
    assert [e.id for e in contents.events] == contents.msg_ids
    return len(stored)


async def test_imported_partners_and_protocols_reach_the_stream_once_through_a_killed_and_restarted_relay(
    partners_env, spawn, nats_server, postgres_database
):
    first = izlek(partners_env, "import-partners", str(EXAMPLES / "partners.yaml"), "--author", "ayse@kedv.org.tr")
    assert "52 organisations; created 52 organisations" in first
    protocols = izlek(partners_env, "import-protocols", str(EXAMPLES / "protocols.yaml"))
    assert "5 protocols; created 5 protocols" in protocols and "8 events written" in protocols
    again = izlek(partners_env, "import-partners", str(EXAMPLES / "partners.yaml"))
    assert "already up to date, nothing written" in again
    assert stored_notification_ids(postgres_database.url) == list(range(1, IMPORTED + 1))

    record_purchases(postgres_database.url, PURCHASES)
    total = IMPORTED + 2 * PURCHASES
    relay_env = {**partners_env, "IZLEK_PARTNERS_RELAY_BATCH_SIZE": "5"}

    counts_at_kill = []
    async with StreamWatcher(nats_server.url, "PARTNERS") as stream:
        for attempt in range(3):
            relay = spawn(["relay", "partners"], relay_env, f"partners-relay-{attempt}")
            before = await stream.count()
            deadline = time.monotonic() + 30
            while await stream.count() < before + 100:
                assert time.monotonic() < deadline, relay.log_tail()
                await asyncio.sleep(0.001)
            relay.kill()
            counts_at_kill.append(await stream.count())
    assert counts_at_kill == sorted(counts_at_kill) and counts_at_kill[-1] < total, counts_at_kill

    spawn(["relay", "partners"], relay_env, "partners-relay-final")
    assert await assert_stream_mirrors_store(nats_server.url, postgres_database.url) == total

    events = (await read_stream(nats_server.url, "PARTNERS")).events
    assert events[0].type == "izlek.partners.organisation.registered.v1" and events[0].data["code"] == "kedv"
    assert events[0].actor == "ayse@kedv.org.tr" and events[0].actorrole == "coordinator"
    signed = [e for e in events if e.type == "izlek.partners.protocol.status_changed.v1"]
    assert [e.validtime.year for e in signed] == [2019, 2019, 2020]
    assert sum(e.type == "izlek.partners.purchase.confirmed.v1" for e in events) == PURCHASES
    assert {e.actororg for e in events if e.type == "izlek.partners.purchase.recorded.v1"} == {IBB}
