"""Which webhook URLs Izlek calls: public addresses only, unless allow-listed; checked at subscription and again
before every attempt (DNS rebinding)."""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from notifications_testing import (
    PROBLEM,
    Notifications,
    WebhookReceiver,
    running_notifications,
    settings,
    until,
)
from sqlalchemy.orm import Session

from izlek_notifications.domain.errors import UnsafeWebhookURL
from izlek_notifications.intake.handler import Intake
from izlek_notifications.state.database import create_state_engine
from izlek_notifications.webhooks.addresses import WebhookGuard, non_public_category

REFUSED = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "10.0.0.1": "private",
    "10.255.255.254": "private",
    "172.16.5.4": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "link-local",
    "169.254.0.1": "link-local",
    "100.64.0.1": "shared (carrier-grade NAT)",
    "0.0.0.0": "unspecified",
    "224.0.0.1": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "reserved",
    "192.0.2.10": "private",
    "::1": "loopback",
    "::": "unspecified",
    "fe80::1": "link-local",
    "fd12:3456::1": "unique-local",
    "fc00::1": "unique-local",
    "ff02::1": "multicast",
    "::ffff:127.0.0.1": "loopback (IPv4 127.0.0.1 inside IPv6)",
    "::ffff:169.254.169.254": "link-local (IPv4 169.254.169.254 inside IPv6)",
    "::ffff:10.1.2.3": "private (IPv4 10.1.2.3 inside IPv6)",
    "64:ff9b::a9fe:a9fe": "link-local (IPv4 169.254.169.254 inside IPv6)",
    "2002:7f00:1::": "loopback (IPv4 127.0.0.1 inside IPv6)",
}


@pytest.mark.parametrize(("address", "category"), sorted(REFUSED.items()))
def test_non_public_addresses_are_named_by_what_they_are(address: str, category: str) -> None:
    assert non_public_category(ipaddress.ip_address(address)) == category


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2001:4860:4860::8888",
                                     "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert non_public_category(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("url", ["http://127.0.0.1/hook", "http://10.0.0.8:8080/x", "http://10.200.0.1/",
                                 "http://169.254.169.254/latest/meta-data/", "http://[::1]:8000/",
                                 "http://[::ffff:127.0.0.1]/", "http://localhost:9000/hook",
                                 "http://0x7f000001/", "http://2130706433/"])
def test_the_guard_refuses_urls_that_reach_the_machine_or_its_networks(url: str) -> None:
    with pytest.raises(UnsafeWebhookURL) as refused:
        WebhookGuard().check(url)
    assert refused.value.category is not None
    assert "webhooks may only reach public addresses" in str(refused.value)


@pytest.mark.parametrize(("url", "reason"), [
    ("ftp://example.org/x", "https:// or http://"),
    ("file:///etc/passwd", "https:// or http://"),
    ("https://user:pass@example.org/x", "user name or password"),
    ("https://example.org/x#frag", "fragment"),
    ("https:///nohost", "names no host"),
    ("https://example.org:99999/x", "cannot be read"),
    ("https://no-such-host.invalid/x", "cannot be resolved"),
])
def test_the_guard_says_why_it_refuses_a_url(url: str, reason: str) -> None:
    with pytest.raises(UnsafeWebhookURL, match=reason):
        WebhookGuard().check(url)


def test_an_allow_list_admits_networks_and_host_names() -> None:
    by_network = WebhookGuard(["10.0.0.0/8", "127.0.0.1/32"])
    assert str(by_network.check("http://10.20.30.40:8080/hook").address) == "10.20.30.40"
    assert str(by_network.check("http://127.0.0.1/hook").address) == "127.0.0.1"
    with pytest.raises(UnsafeWebhookURL):
        by_network.check("http://169.254.169.254/")
    by_name = WebhookGuard(["localhost"])
    assert by_name.check("http://localhost:8000/hook").address.is_loopback
    with pytest.raises(UnsafeWebhookURL):
        by_name.check("http://127.0.0.1:8000/hook")


def test_https_only_refuses_plain_http() -> None:
    with pytest.raises(UnsafeWebhookURL, match="must be https"):
        WebhookGuard(https_only=True).check("http://example.org/hook")


@pytest_asyncio.fixture
async def service(tmp_path: Path) -> AsyncIterator[Notifications]:
    engine = create_state_engine(f"sqlite:///{tmp_path / 'state.sqlite'}")
    try:
        async with running_notifications(settings(notifications_webhook_allow=[]), engine) as notifications:
            yield notifications
    finally:
        engine.dispose()


@pytest.mark.parametrize(("url", "address", "category"), [
    ("http://127.0.0.1:8080/hook", "127.0.0.1", "loopback"),
    ("https://10.1.2.3/hook", "10.1.2.3", "private"),
    ("http://10.0.0.0/hook", "10.0.0.0", "private"),
    ("http://169.254.169.254/latest/meta-data/iam/", "169.254.169.254", "link-local"),
    ("http://[::ffff:169.254.169.254]/", "::ffff:a9fe:a9fe", "link-local (IPv4 169.254.169.254 inside IPv6)"),
])
async def test_subscribing_a_webhook_to_a_non_public_address_is_refused_with_a_clear_422(
    service: Notifications, url: str, address: str, category: str
) -> None:
    response = await service.client.post("/subscriptions", headers=service.headers(), json={
        "channel": {"type": "webhook", "url": url}})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["url"] == url and problem["address"] == address and problem["category"] == category
    assert f"is a {category} address; webhooks may only reach public addresses" in problem["detail"]
    assert "IZLEK_NOTIFICATIONS_WEBHOOK_ALLOW" in problem["detail"]
    assert problem["errors"][0]["loc"] == ["body", "channel", "url"]
    assert service.stored() == 0 and await _secrets(service) == 0


async def test_changing_a_webhook_to_a_non_public_address_is_refused_too(tmp_path: Path) -> None:
    allowed = settings(notifications_webhook_allow=["10.0.0.0/8", "127.0.0.1"])
    engine = create_state_engine(f"sqlite:///{tmp_path / 'state.sqlite'}")
    try:
        async with running_notifications(allowed, engine) as permissive:
            made = await permissive.client.post("/subscriptions", headers=permissive.headers(), json={
                "channel": {"type": "webhook", "url": "http://10.9.8.7/hook"}})
            assert made.status_code == 201, made.text
            moved = await permissive.client.patch(f"/subscriptions/{made.json()['id']}", headers=permissive.headers(),
                                                  json={"channel": {"type": "webhook",
                                                                    "url": "http://169.254.169.254/"}})
            assert moved.status_code == 422 and moved.json()["category"] == "link-local"
            assert permissive.stored() == 1
    finally:
        engine.dispose()


async def test_a_host_that_turns_non_public_after_subscribing_is_refused_at_delivery_time(tmp_path: Path) -> None:
    """The allow-list admitted the receiver when the subscription was made; without it, the worker's own check
    before the attempt refuses it (as when a name's DNS answer changes to a private address), and nothing is sent."""
    receiver = await WebhookReceiver().start()
    engine = create_state_engine(f"sqlite:///{tmp_path / 'state.sqlite'}")
    try:
        store = f"sqlite:///{tmp_path / 'events.sqlite'}"
        async with running_notifications(settings(notifications_event_store_url=store), engine) as first:
            made = await first.client.post("/subscriptions", headers=first.headers(), json={
                "channel": {"type": "webhook", "url": receiver.url},
                "filter": {"event_types": ["izlek.partners.protocol.status_changed.v1"]}})
            assert made.status_code == 201
        strict = settings(notifications_webhook_allow=[], notifications_event_store_url=store)
        async with running_notifications(strict, engine) as second:
            with Session(engine) as session, session.begin():
                assert Intake(second.application).handle(session, _status_changed_event()) == 1
            second.runtime.worker.wake()
            await until(lambda: second.delivery_rows(state="dead"), what="the refused delivery")
            [dead] = second.delivery_rows(state="dead")
            assert dead["last_error"].startswith("refused: 127.0.0.1 is a loopback address")
            assert receiver.requests == []
    finally:
        await receiver.stop()
        engine.dispose()


async def _secrets(service: Notifications) -> int:
    return service.application.secrets.count() if service.application.secrets else 0


def _status_changed_event() -> bytes:
    now = datetime.now(UTC).isoformat()
    protocol_id = str(uuid.uuid4())
    return json.dumps({
        "specversion": "1.0", "id": "partners:9001", "source": "urn:izlek:service:partners",
        "type": "izlek.partners.protocol.status_changed.v1", "subject": protocol_id, "time": now,
        "datacontenttype": "application/json",
        "data": {"protocol_id": protocol_id, "status": "in_force", "evidence_reference": None},
        "notificationid": 9001, "aggregateversion": 3, "actor": "ayse@kedv.org.tr", "actorrole": "coordinator",
        "validtime": now, "kind": "change"}).encode()
