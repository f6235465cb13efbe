"""Organisations' contacts hear of their own commitments and protocols without subscribing: commitments assigned to
them, directly or through an actor group naming them, and protocols they are party to; in Turkish; never about the
history recorded before the service first started, and never twice."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from notifications_testing import (
    KEDV_EMAIL,
    Izmir,
    Notifications,
    feed,
    izmir,
    running_notifications,
    settings,
    smtp_server,
    stamp,
    until,
)

from izlek_notifications.state.database import create_state_engine
from izlek_partners.domain.organisation import Organisation

CIGLI = "cigli-belediyesi"
CIGLI_EMAIL = "kooperatif@cigli.bel.tr"


@pytest.fixture
def world() -> Iterator[Izmir]:
    with izmir() as services:
        yield services


@pytest.fixture
def smtp() -> Iterator[tuple[int, list]]:
    with smtp_server() as server:
        yield server


@pytest_asyncio.fixture
async def service(world: Izmir, smtp: tuple[int, list], tmp_path: Path) -> AsyncIterator[Notifications]:
    engine = create_state_engine(f"sqlite:///{tmp_path / 'state.sqlite'}")
    config = settings(notifications_smtp_host="127.0.0.1", notifications_smtp_port=smtp[0],
                      notifications_smtp_security="none")
    try:
        async with running_notifications(config, engine) as notifications:
            notifications.positions = {"plans": feed(notifications, world.plans),  # type: ignore[attr-defined]
                                       "partners": feed(notifications, world.partners)}
            yield notifications
    finally:
        engine.dispose()


def take_in(service: Notifications, world: Izmir) -> None:
    """Take in what the applications recorded since the last time."""
    positions = service.positions  # type: ignore[attr-defined]
    positions["partners"] = feed(service, world.partners, after=positions["partners"])
    positions["plans"] = feed(service, world.plans, after=positions["plans"])


def commitment_of(world: Izmir, group: str, index: int = 0):
    plan = world.plans.list_plans()[0]
    return [c for c in world.plans.list_commitments(plan.id) if c.actor_group == group][index]


async def delivered(service: Notifications, count: int) -> list:
    await until(lambda: len(service.delivery_rows(state="delivered")) == count, what=f"{count} deliveries")
    return service.delivery_rows()


async def test_the_history_recorded_before_the_service_started_is_not_news(service: Notifications) -> None:
    # The whole İzmir import (KEDV is party to three protocols and in the group of 25 commitments) went by.
    assert service.delivery_rows() == []


async def test_kedv_hears_of_a_commitment_of_its_actor_group_in_turkish(service: Notifications, world: Izmir,
                                                                     smtp: tuple[int, list]) -> None:
    commitment = commitment_of(world, "AG-KS")
    world.plans.change_commitment_status(commitment.id, "in_progress",
                                         stamp(subject="ayse@kedv.org.tr", reason="ilk toplantı yapıldı"))
    take_in(service, world)

    [row] = await delivered(service, 1)
    assert (row["recipient"], row["target"], row["language"]) == ("contact:kedv", KEDV_EMAIL, "tr")
    [mail] = smtp[1]
    assert mail.subject == f"Faaliyetin durumu değişti: {commitment.code} (sürüyor)"
    assert "planlandı → sürüyor" in mail.text and f"Faaliyet: {commitment.title}" in mail.text
    assert "Eylem planı: İZMİR EYLEM PLANI" in mail.text and "Gerekçe: ilk toplantı yapıldı" in mail.text


async def test_nobody_hears_of_commitments_of_groups_naming_no_organisation_with_a_contact(
    service: Notifications, world: Izmir
) -> None:
    world.plans.change_commitment_status(commitment_of(world, "AG-KOOP").id, "in_progress", stamp())
    take_in(service, world)
    assert service.delivery_rows() == []


async def test_a_reassigned_commitment_tells_the_organisation_it_left_and_the_one_it_reached(
    service: Notifications, world: Izmir, smtp: tuple[int, list]
) -> None:
    world.partners.change_organisation(Organisation.create_id(CIGLI), {"contact": {"email": CIGLI_EMAIL}}, stamp())
    commitment = commitment_of(world, "AG-KS")
    world.plans.assign_commitment(commitment.id, stamp(), actor_group=None, organisation_id=CIGLI)
    take_in(service, world)

    rows = await delivered(service, 2)
    assert sorted((r["recipient"], r["target"]) for r in rows) == [("contact:cigli-belediyesi", CIGLI_EMAIL),
                                                                   ("contact:kedv", KEDV_EMAIL)]
    assert {m.subject for m in smtp[1]} == {f"Faaliyet atandı: {commitment.title}"}

    world.plans.change_commitment_status(commitment.id, "done", stamp())
    take_in(service, world)
    rows = await delivered(service, 3)
    assert rows[-1]["recipient"] == "contact:cigli-belediyesi", "KEDV is no longer responsible"


async def test_a_protocols_parties_hear_of_it_and_a_new_party_too(service: Notifications, world: Izmir,
                                                                 smtp: tuple[int, list]) -> None:
    world.partners.change_organisation(Organisation.create_id(CIGLI), {"contact": {"email": CIGLI_EMAIL}}, stamp())
    protocol_id = world.partners.draft_protocol(
        stamp(), code="kent-lokantalari-2027", title="Kent lokantaları protokolü",
        parties=[{"organisation_code": "kedv", "role": "foundation"}])
    world.partners.add_protocol_party(protocol_id, CIGLI, "municipality", stamp())
    take_in(service, world)

    rows = await delivered(service, 3)  # KEDV: drafted and party added; Çiğli: party added (it is party now)
    assert sorted((r["recipient"], r["event_type"].split(".")[3]) for r in rows) == [
        ("contact:cigli-belediyesi", "party_added"), ("contact:kedv", "drafted"), ("contact:kedv", "party_added")]
    assert "Protokole taraf eklendi: Kent lokantaları protokolü" in {m.subject for m in smtp[1]}


async def test_a_contact_subscribed_by_e_mail_gets_one_message_in_the_language_it_chose(
    service: Notifications, world: Izmir, smtp: tuple[int, list]
) -> None:
    made = await service.client.post("/subscriptions", headers=service.headers(subject="ayse@kedv.org.tr"), json={
        "channel": {"type": "email", "address": "KEDV@kedv.org.tr"}, "language": "en",
        "filter": {"organisation_code": "kedv"}})
    assert made.status_code == 201
    world.plans.change_commitment_status(commitment_of(world, "AG-KS").id, "in_progress", stamp())
    take_in(service, world)

    [row] = await delivered(service, 1)
    assert row["recipient"] == f"subscription:{made.json()['id']}"
    [mail] = smtp[1]
    assert mail.subject.startswith("Commitment status changed: ")
