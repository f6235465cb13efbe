"""The subscriptions API: who may subscribe to what, bad input answered with problem+json and nothing stored,
versions, history, secrets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from notifications_testing import (
    PROBLEM,
    Izmir,
    Notifications,
    WebhookReceiver,
    feed,
    izmir,
    running_notifications,
    settings,
    until,
    verify_standard_webhook,
)

from izlek_notifications.state.database import create_state_engine

CIGLI = "cigli-belediyesi"
KONAK = "konak-belediyesi"
URLA = "ss-urla-kadin-girisimi-uretim-ve-isletme-kooperatifi"
HOOK = "http://127.0.0.1:9/hooks/izlek"


@pytest.fixture(scope="module")
def world() -> Iterator[Izmir]:
    with izmir() as services:
        yield services


@pytest_asyncio.fixture
async def service(world: Izmir, tmp_path: Path) -> AsyncIterator[Notifications]:
    engine = create_state_engine(f"sqlite:///{tmp_path / 'state.sqlite'}")
    try:
        async with running_notifications(settings(), engine) as notifications:
            feed(notifications, world.plans)
            feed(notifications, world.partners)
            yield notifications
    finally:
        engine.dispose()


def webhook(url: str = HOOK, **filter_: Any) -> dict[str, Any]:
    return {"channel": {"type": "webhook", "url": url}, "filter": filter_}


def email(address: str = "ayse@example.org", **filter_: Any) -> dict[str, Any]:
    return {"channel": {"type": "email", "address": address}, "filter": filter_}


async def refused(service: Notifications, method: str, url: str, status: int, *,
                  headers: dict[str, str] | None = None, **request: Any) -> dict[str, Any]:
    """A request that must be refused with ``status`` and a problem body, storing nothing."""
    events, secrets = service.stored(), service.application.secrets.count()
    response = await service.client.request(method, url, headers=service.headers() if headers is None else headers,
                                            **request)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    assert (service.stored(), service.application.secrets.count()) == (events, secrets)
    return problem


async def created(service: Notifications, body: dict[str, Any], **who: Any) -> dict[str, Any]:
    response = await service.client.post("/subscriptions", headers=service.headers(**who), json=body)
    assert response.status_code == 201, response.text
    return response.json()


# --- the lifecycle ------------------------------------------------------------------------------------------


async def test_a_subscription_is_made_changed_paused_resumed_and_deleted_and_every_step_names_its_author(
    service: Notifications
) -> None:
    made = await created(service, {**webhook(event_types=["izlek.partners.protocol.*"]), "language": "en",
                                   "reason": "pano entegrasyonu"}, subject="ayse@kedv.org.tr")
    assert made["version"] == 1 and made["state"] == "active" and made["language"] == "en"
    assert made["secret"].startswith("whsec_")
    assert made["owner"] == {"subject": "ayse@kedv.org.tr", "role": "coordinator", "organisation_id": None,
                             "name": None}
    path = f"/subscriptions/{made['id']}"
    read = await service.client.get(path, headers=service.headers())
    assert read.headers["etag"] == '"1"' and "secret" not in read.json()

    changed = await service.client.patch(path, headers={**service.headers(), "If-Match": '"1"'}, json={
        "filter": {"event_types": ["izlek.partners.protocol.status_changed.v1"], "organisation_code": CIGLI},
        "language": "tr"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["filter"]["organisation_code"] == CIGLI and changed.json()["version"] == 2
    unchanged = await service.client.patch(path, headers=service.headers(), json={"language": "tr"})
    assert unchanged.json()["version"] == 2, "a change that changes nothing records nothing"

    assert (await service.client.post(f"{path}/pause", headers=service.headers())).json()["state"] == "paused"
    assert (await service.client.post(f"{path}/pause", headers=service.headers())).json()["version"] == 3
    assert (await service.client.post(f"{path}/resume", headers=service.headers())).json()["state"] == "active"
    rotated = await service.client.post(f"{path}/secret", headers=service.headers())
    assert rotated.status_code == 200 and rotated.json()["secret"] not in (made["secret"], None)
    assert rotated.headers["cache-control"] == "no-store"
    deleted = await service.client.request("DELETE", path, headers=service.headers("admin", subject="root@kedv"),
                                           json={"reason": "pano kapandı"})
    assert deleted.json() == {"id": made["id"], "version": 6, "state": "deleted"}

    gone = await service.client.get(path, headers=service.headers())
    assert gone.status_code == 404 and "was deleted" in gone.json()["detail"]
    history = (await service.client.get(f"/history/{made['id']}", headers=service.headers())).json()
    assert [(e["event_type"], e["author"]["subject"], e["reason"]) for e in history["events"]] == [
        ("Subscribed", "ayse@kedv.org.tr", "pano entegrasyonu"), ("Changed", "coordinator@izlek.test", None),
        ("Paused", "coordinator@izlek.test", None), ("Resumed", "coordinator@izlek.test", None),
        ("SecretRotated", "coordinator@izlek.test", None), ("Deleted", "root@kedv", "pano kapandı")]
    assert "whsec_" not in str(history), "secrets stay out of the event log"
    listed = await service.client.get("/subscriptions?state=deleted", headers=service.headers())
    assert [s["id"] for s in listed.json()] == [made["id"]]


async def test_a_rotated_secret_signs_beside_the_old_one_during_the_grace_period(service: Notifications,
                                                                               world: Izmir) -> None:
    receiver = await WebhookReceiver().start()
    try:
        made = await created(service, webhook(receiver.url, event_types=["izlek.partners.protocol.*"]))
        rotated = (await service.client.post(f"/subscriptions/{made['id']}/secret",
                                             headers=service.headers())).json()
        position = world.partners.recorder.max_notification_id()
        from notifications_testing import CIGLI_PROTOCOL, stamp

        from izlek_partners.domain.protocol import Protocol
        world.partners.change_protocol_status(Protocol.create_id(CIGLI_PROTOCOL), "in_force", stamp())
        try:
            feed(service, world.partners, after=position)
            await until(lambda: receiver.accepted, what="the webhook")
        finally:
            world.partners.correct_protocol(Protocol.create_id(CIGLI_PROTOCOL), {"status": "signed"},
                                            stamp(reason="test içindi"))
        [request] = receiver.requests
        assert len(request.headers["webhook-signature"].split()) == 2
        assert verify_standard_webhook(rotated["secret"], request.headers, request.body)
        assert verify_standard_webhook(made["secret"], request.headers, request.body)
    finally:
        await receiver.stop()


# --- who may subscribe to what -----------------------------------------------------------------------------


async def test_a_liaison_subscribes_to_its_own_organisations_events_only(service: Notifications) -> None:
    mine = await created(service, email("elif@cigli.bel.tr"), role="liaison", organisation_id=CIGLI)
    assert mine["filter"]["organisation_code"] == CIGLI, "an omitted organisation is the liaison's own"
    also_mine = await created(service, email("elif@cigli.bel.tr", organisation_code=CIGLI,
                                             event_types=["izlek.plans.commitment.*"]),
                              role="liaison", organisation_id=CIGLI)
    assert also_mine["filter"]["event_types"] == ["izlek.plans.commitment.*"]
    problem = await refused(service, "POST", "/subscriptions", 403, json=email(organisation_code=KONAK),
                            headers=service.headers("liaison", CIGLI))
    assert problem["detail"] == ("a liaison of cigli-belediyesi subscribes to events of cigli-belediyesi only, "
                                 "not of konak-belediyesi")
    await refused(service, "POST", "/subscriptions", 403, json=webhook(organisation_code=CIGLI),
                  headers=service.headers("member", URLA))
    changed = await service.client.patch(f"/subscriptions/{mine['id']}", json={"filter": {"organisation_code": KONAK}},
                                         headers=service.headers("liaison", CIGLI))
    assert changed.status_code == 403


async def test_a_partner_app_subscribes_webhooks_to_what_it_may_read(service: Notifications, world: Izmir) -> None:
    plan = world.plans.list_plans()[0]
    scoped = {"role": "partner_app", "subject": "pano@example.org", "scopes": ("region:izmir",)}
    ok = await created(service, webhook(plan_id=str(plan.id)), **scoped)
    assert ok["scopes"] == ["region:izmir"]
    await created(service, webhook(event_types=["izlek.partners.*"]), role="partner_app",
                  subject="pano@example.org")
    problem = await refused(service, "POST", "/subscriptions", 403, json=webhook(plan_id=str(plan.id)),
                            headers=service.headers("partner_app", scopes=("region:ankara",)))
    assert "outside this partner app's scopes" in problem["detail"]
    problem = await refused(service, "POST", "/subscriptions", 403, json=email(),
                            headers=service.headers("partner_app", scopes=("plan:*",)))
    assert "webhook only" in problem["detail"]
    await refused(service, "POST", "/subscriptions", 422,
                  json=webhook(plan_id="5d0c4a0e-2b9f-4e3a-9a43-3c1b1f0a0c0e"),
                  headers=service.headers("partner_app", scopes=("plan:*",)))


async def test_auditors_read_every_subscription_and_change_none(service: Notifications) -> None:
    made = await created(service, webhook(), subject="ayse@kedv.org.tr")
    path = f"/subscriptions/{made['id']}"
    auditor = service.headers("auditor", subject="denetci@kedv.org.tr")
    assert (await service.client.get(path, headers=auditor)).status_code == 200
    assert made["id"] in [s["id"] for s in (await service.client.get("/subscriptions", headers=auditor)).json()]
    assert (await service.client.get(f"/history/{made['id']}", headers=auditor)).status_code == 200
    await refused(service, "POST", "/subscriptions", 403, json=email(), headers=auditor)
    for method, suffix in (("PATCH", ""), ("POST", "/pause"), ("POST", "/secret"), ("DELETE", "")):
        await refused(service, method, f"{path}{suffix}", 403, headers=auditor,
                      **({"json": {"language": "en"}} if method == "PATCH" else {}))
    await refused(service, "POST", f"{path}/redrive", 403, headers=auditor)


async def test_somebody_elses_subscription_is_as_if_it_did_not_exist(service: Notifications) -> None:
    theirs = await created(service, email(), role="liaison", organisation_id=CIGLI, subject="elif@cigli.bel.tr")
    path = f"/subscriptions/{theirs['id']}"
    stranger = service.headers("member", URLA, subject="fatma@urla.coop")
    for method, suffix in (("GET", ""), ("PATCH", ""), ("POST", "/pause"), ("POST", "/resume"), ("DELETE", ""),
                           ("GET", "/deliveries"), ("POST", "/redrive")):
        problem = await refused(service, method, f"{path}{suffix}", 404, headers=stranger,
                                **({"json": {"language": "en"}} if method == "PATCH" else {}))
        assert problem["detail"] == f"no subscription {theirs['id']}"
    await refused(service, "GET", f"/history/{theirs['id']}", 404, headers=stranger)
    assert (await service.client.get("/subscriptions", headers=stranger)).json() == []
    coordinator = await service.client.post(f"{path}/pause", headers=service.headers())
    assert coordinator.status_code == 200, "coordinators manage everyone's subscriptions"


# --- bad input ------------------------------------------------------------------------------------------------

BAD_BODIES = {
    "unknown field": {**email(), "colour": "blue"},
    "no channel": {"filter": {}},
    "unknown channel": {"channel": {"type": "sms", "number": "+90"}},
    "webhook without url": {"channel": {"type": "webhook"}},
    "webhook with an address": {"channel": {"type": "webhook", "url": HOOK, "address": "a@b.org"}},
    "not a URL scheme": webhook("ftp://example.org/x"),
    "credentials in the URL": webhook("https://user:secret@example.org/hook"),
    "URL too long": webhook("https://example.org/" + "a" * 2000),
    "not an address": email("ayse at example"),
    "language": {**email(), "language": "de"},
    "event type shape": email(event_types=["IZLEK.*"]),
    "no such event type": email(event_types=["izlek.partners.protocol.signed.v1"]),
    "pattern matching nothing": email(event_types=["izlek.budget.*"]),
    "too many event types": email(event_types=["izlek.plans.*"] * 51),
    "plan id": email(plan_id="plan-1"),
    "protocol id": email(protocol_id=42),
    "filter field": email(status="signed"),
    "empty organisation": email(organisation_code=""),
    "expected version": {**email(), "expected_version": True},
    "not json": None,
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
async def test_a_bad_subscription_is_refused_with_422_and_nothing_stored(service: Notifications, case: str) -> None:
    body = BAD_BODIES[case]
    request = {"content": b"{not json", "headers": {**service.headers(), "content-type": "application/json"}} \
        if body is None else {"json": body}
    problem = await refused(service, "POST", "/subscriptions", 422, **request)
    assert problem["type"] == "https://izlek.dev/problems/invalid-input"


async def test_unknown_ids_answer_404_and_stale_versions_409(service: Notifications) -> None:
    unknown = "0b8d5a3e-77c5-4d1e-9c3f-2b9a6e1f4d70"
    for method, path in (("GET", f"/subscriptions/{unknown}"), ("PATCH", f"/subscriptions/{unknown}"),
                         ("POST", f"/subscriptions/{unknown}/pause"), ("DELETE", f"/subscriptions/{unknown}"),
                         ("GET", f"/deliveries/{unknown}"), ("POST", f"/deliveries/{unknown}/redrive"),
                         ("GET", f"/history/{unknown}")):
        await refused(service, method, path, 404, **({"json": {}} if method == "PATCH" else {}))
    await refused(service, "GET", "/subscriptions/not-a-uuid", 422)

    made = await created(service, webhook())
    path = f"/subscriptions/{made['id']}"
    problem = await refused(service, "PATCH", path, 409, json={"language": "en"},
                            headers={**service.headers(), "If-Match": '"7"'})
    assert (problem["expected_version"], problem["actual_version"]) == (7, 1)
    await refused(service, "POST", f"{path}/pause", 409, json={"expected_version": 3})
    await refused(service, "PATCH", path, 422, json={"channel": {"type": "email", "address": "a@b.org"}})
    await refused(service, "PATCH", path, 422, json={"language": None})
    await refused(service, "POST", "/subscriptions", 401, json=email(), headers={})


async def test_an_email_subscription_has_no_secret_to_rotate(service: Notifications) -> None:
    made = await created(service, email())
    assert "secret" not in made
    problem = await refused(service, "POST", f"/subscriptions/{made['id']}/secret", 422)
    assert problem["detail"] == "only webhook subscriptions have a signing secret"
