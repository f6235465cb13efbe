"""Reminders and digests for the İzmir plan, with a clock the test moves: commitments due soon and overdue,
protocols whose term ends soon, a weekly digest per organisation; each sent once."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from notifications_testing import (
    CIGLI_PROTOCOL,
    KEDV_EMAIL,
    Izmir,
    ManualClock,
    Notifications,
    WebhookReceiver,
    feed,
    izmir,
    running_notifications,
    settings,
    smtp_server,
    stamp,
    until,
    verify_standard_webhook,
)

from izlek_common.turkish_time import TURKEY
from izlek_notifications.reminders.scheduler import term_end_day
from izlek_notifications.state.database import create_state_engine
from izlek_partners.domain.protocol import Protocol

START = datetime(2027, 6, 11, 8, 0, tzinfo=TURKEY)
"""A Friday morning in Turkey, after everything the test records (so none of it is news to contacts)."""
DUE_SOON = "izlek.notifications.reminder.commitment_due_soon.v1"
OVERDUE = "izlek.notifications.reminder.commitment_overdue.v1"
TERM_ENDING = "izlek.notifications.reminder.protocol_term_ending.v1"
DIGEST = "izlek.notifications.digest.weekly.v1"


@pytest.fixture
def world() -> Iterator[Izmir]:
    with izmir() as services:
        yield services


@pytest.fixture
def smtp() -> Iterator[tuple[int, list]]:
    with smtp_server() as server:
        yield server


def kedv_commitments(world: Izmir) -> list:
    """Commitments of the actor group "KEDV ve Simurg" (AG-KS): KEDV is responsible for them."""
    plan = world.plans.list_plans()[0]
    return [c for c in world.plans.list_commitments(plan.id) if c.actor_group == "AG-KS"]


def test_a_terms_last_day_is_the_end_of_the_period_it_names() -> None:
    assert term_end_day("2027") == date(2027, 12, 31)
    assert term_end_day("2027-02") == date(2027, 2, 28)
    assert term_end_day("2028-02") == date(2028, 2, 29)
    assert term_end_day("2027-07-15") == date(2027, 7, 15)
    assert term_end_day(None) is None


class TestWithAMovedClock:
    @pytest_asyncio.fixture
    async def service(self, world: Izmir, smtp: tuple[int, list], tmp_path: Path) -> AsyncIterator[Notifications]:
        engine = create_state_engine(f"sqlite:///{tmp_path / 'state.sqlite'}")
        config = settings(notifications_scheduler_enabled=True, notifications_scheduler_interval_seconds=60,
                          notifications_due_soon_days=7, notifications_term_ending_days=30,
                          notifications_smtp_host="127.0.0.1", notifications_smtp_port=smtp[0],
                          notifications_smtp_security="none")
        try:
            async with running_notifications(config, engine, clock=ManualClock(START.astimezone(UTC))) as service:
                yield service
        finally:
            engine.dispose()

    async def test_reminders_and_digests_are_sent_once_each_as_the_clock_passes_due_dates(
        self, service: Notifications, world: Izmir, smtp: tuple[int, list]
    ) -> None:
        _, mails = smtp
        scheduler = service.runtime.scheduler
        await until(lambda: scheduler.ticks >= 1, what="the first tick, at start")  # before anything is known
        receiver = await WebhookReceiver().start()
        try:
            hook = (await service.client.post("/subscriptions", headers=service.headers(), json={
                "channel": {"type": "webhook", "url": receiver.url},
                "filter": {"event_types": ["izlek.notifications.reminder.*"], "organisation_code": "kedv"}})).json()
            soon, later, late, *_ = kedv_commitments(world)
            editor = stamp(reason="takvim belirlendi")
            world.plans.change_commitment(soon.id, {"due_date": date(2027, 6, 14)}, editor)  # Monday
            world.plans.change_commitment(later.id, {"due_date": date(2027, 6, 30)}, editor)
            world.plans.change_commitment(late.id, {"due_date": date(2027, 6, 9)}, editor)  # two days ago
            world.plans.change_commitment_status(late.id, "in_progress", editor)
            world.partners.amend_protocol(Protocol.create_id(CIGLI_PROTOCOL), {"term_end": "2027-07"},
                                          stamp(reason="süre uzatıldı"))
            feed(service, world.plans)
            feed(service, world.partners)
            clock: ManualClock = service.runtime.clock  # type: ignore[assignment]

            async def at(moment: datetime) -> Counter[str]:
                """Move the clock (by more than the scheduler's interval); its loop wakes and ticks; wait for what it
                made to be sent."""
                ticks = scheduler.ticks
                await clock.move_to(moment.astimezone(UTC))
                await until(lambda: scheduler.ticks > ticks, what="a tick")
                await until(lambda: all(d["state"] == "delivered" for d in service.delivery_rows()),
                            what="the deliveries")
                return Counter(d["event_type"] for d in service.delivery_rows())

            made = await at(START + timedelta(minutes=1))  # Friday: the week's digest is due too (W23)
            assert made == Counter({DUE_SOON: 2, OVERDUE: 2, DIGEST: 1}), made  # e-mail + webhook each
            assert await at(START + timedelta(hours=1)) == made, "a second tick sends nothing again"

            made = await at(datetime(2027, 6, 14, 8, 30, tzinfo=TURKEY))  # Monday: W24's digest; `soon` due today
            assert made == Counter({DUE_SOON: 2, OVERDUE: 2, DIGEST: 2})
            made = await at(datetime(2027, 6, 15, 9, 0, tzinfo=TURKEY))  # `soon` is overdue now
            assert made == Counter({DUE_SOON: 2, OVERDUE: 4, DIGEST: 2})
            made = await at(datetime(2027, 7, 5, 9, 0, tzinfo=TURKEY))  # `later` overdue, Çiğli's term ends soon
            assert made == Counter({DUE_SOON: 2, OVERDUE: 6, TERM_ENDING: 2, DIGEST: 3})
            assert await at(datetime(2027, 7, 5, 10, 0, tzinfo=TURKEY)) == made

            by_subject = Counter(m.subject for m in mails)
            assert set(by_subject.values()) == {1}, "every message once"
            assert {m.rcpt_tos[0] for m in mails} == {KEDV_EMAIL}
            subjects = set(by_subject)
            assert f"Hatırlatma: {soon.code} faaliyetinin son tarihi 14 Haziran 2027" in subjects
            assert f"Gecikme: {late.code} faaliyetinin son tarihi (9 Haziran 2027) geçti" in subjects
            assert f"Gecikme: {soon.code} faaliyetinin son tarihi (14 Haziran 2027) geçti" in subjects
            assert f"Gecikme: {later.code} faaliyetinin son tarihi (30 Haziran 2027) geçti" in subjects
            assert ("Hatırlatma: “İş birliği protokolü – Çiğli Belediyesi” protokolünün süresi 31 Temmuz 2027 "
                    "tarihinde doluyor") in subjects
            digests = sorted(s for s in subjects if s.startswith("Haftalık özet"))
            assert digests == [f"Haftalık özet: Kadın Emeğini Değerlendirme Vakfı (2027-W{week})"
                               for week in (23, 24, 27)]
            due_mail = next(m for m in mails if m.subject.startswith(f"Hatırlatma: {soon.code}"))
            assert f"{soon.code} faaliyetinin son tarihine 3 gün kaldı." in due_mail.text
            assert "Sorumlu: Kadın Emeğini Değerlendirme Vakfı, Simurg Kadın Kooperatifleri Birliği" in due_mail.text
            assert "Eylem planı: İZMİR EYLEM PLANI" in due_mail.text
            late_mail = next(m for m in mails if m.subject.startswith(f"Gecikme: {late.code}"))
            assert "faaliyet 2 gün gecikti" in late_mail.text and "Durum: sürüyor" in late_mail.text
            w24 = next(m for m in mails if m.subject.endswith("(2027-W24)"))
            assert "Açık faaliyetler (25):\n- " + late.code in w24.text, "overdue first"
            assert "(GECİKMİŞ)" in w24.text and "Bu haftaki değişiklikler (0):\n- yok" in w24.text
            assert "İş birliği protokolü – Çiğli Belediyesi — imzalandı, süre sonu Temmuz 2027" in w24.text

            reminders = [json.loads(r.body) for r in receiver.requests]
            assert Counter(r["type"] for r in reminders) == Counter({DUE_SOON: 1, OVERDUE: 3, TERM_ENDING: 1})
            assert all(verify_standard_webhook(hook["secret"], r.headers, r.body) for r in receiver.requests)
            ending = next(r for r in reminders if r["type"] == TERM_ENDING)
            assert ending["data"]["ends_on"] == "2027-07-31" and ending["data"]["days_left"] == 26
            assert ending["id"] == f"notifications:protocol_term_ending:{Protocol.create_id(CIGLI_PROTOCOL)}:2027-07"
            assert len({r["id"] for r in reminders}) == len(reminders) == sum(receiver.accepted.values())
        finally:
            await receiver.stop()


async def test_a_weekly_digest_reports_the_weeks_changes_in_english_to_a_subscriber(
    world: Izmir, smtp: tuple[int, list], tmp_path: Path
) -> None:
    _, mails = smtp
    now = datetime.now(UTC)
    config = settings(notifications_smtp_host="127.0.0.1", notifications_smtp_port=smtp[0],
                      notifications_smtp_security="none",
                      notifications_digest_weekday=now.astimezone(TURKEY).weekday(), notifications_digest_hour=0)
    engine = create_state_engine(f"sqlite:///{tmp_path / 'state.sqlite'}")
    try:
        async with running_notifications(config, engine) as service:
            made = await service.client.post("/subscriptions", headers=service.headers(subject="jane@kedv.org"), json={
                "channel": {"type": "email", "address": "jane@example.org"}, "language": "en",
                "filter": {"event_types": ["izlek.notifications.digest.weekly.v1"], "organisation_code": "kedv"}})
            assert made.status_code == 201
            feed(service, world.plans)
            feed(service, world.partners)
            commitment = kedv_commitments(world)[0]
            after = world.plans.recorder.max_notification_id()
            world.plans.change_commitment_status(commitment.id, "in_progress", stamp(reason="başladı"))
            feed(service, world.plans, after=after)

            created = service.runtime.scheduler.scan(datetime.now(UTC))
            assert created["weekly_digest"] == 2  # KEDV's contact (Turkish) and the subscriber (English)
            assert service.runtime.scheduler.scan(datetime.now(UTC))["weekly_digest"] == 0
            service.runtime.worker.wake()
            await until(lambda: len([m for m in mails if "digest" in m.subject.lower() or "özet" in m.subject]) == 2,
                        what="both digests")
        english = next(m for m in mails if m.rcpt_tos == ["jane@example.org"])
        week = datetime.now(UTC).astimezone(TURKEY).date().isocalendar()
        assert english.subject == f"Weekly digest: Kadın Emeğini Değerlendirme Vakfı ({week[0]}-W{week[1]:02d})"
        assert "Changes this week (" in english.text
        assert f": Commitment status changed — {commitment.code} {commitment.title}\n" in english.text
        assert f"- {commitment.code} {commitment.title} — in progress" in english.text
        assert "Protocols (3):" in english.text
        turkish = next(m for m in mails if m.rcpt_tos == [KEDV_EMAIL] and "özet" in m.subject)
        assert "Bu haftaki değişiklikler (" in turkish.text
        assert f": Faaliyetin durumu değişti — {commitment.code} {commitment.title}\n" in turkish.text
    finally:
        engine.dispose()
