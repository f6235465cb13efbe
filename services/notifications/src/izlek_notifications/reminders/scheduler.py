"""The scheduler: at every tick, the reminders and digests that are due, each created once.

- a commitment neither done nor dropped, due within ``due_soon_days`` (Turkish calendar): one reminder per due date;
- such a commitment past its due date: one overdue reminder per due date;
- a protocol in effect (signed, in force, renewed) whose term ends within ``term_ending_days``: one per term end;
- per organisation and ISO week, from ``digest_weekday`` at ``digest_hour`` (Turkish time) on: one weekly digest of
  its open commitments, its protocols and the week's changes (organisations with nothing to report get none).

Recipients are the organisations' contacts (commitments' responsible organisations, protocols' parties, the
digest's organisation) and the subscriptions that ask for these types (``izlek.notifications.reminder.*``,
``izlek.notifications.digest.weekly.v1``). Each is a delivery whose event id is the idempotency key (e.g.
``notifications:commitment_due_soon:<commitment id>:<due date>``), unique per recipient, so a tick that runs twice,
or a restart, creates nothing twice. A changed due date or term end is a new key, reminded of again.
"""

from __future__ import annotations

import asyncio
import calendar
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import structlog
from sqlalchemy import Engine, and_, delete, func, or_, select
from sqlalchemy.orm import Session

from izlek_common.cloudevents import IntegrationEvent
from izlek_common.consumer import is_transient_error
from izlek_common.contracts.notifications import (
    CommitmentDueSoonV1,
    CommitmentOverdueV1,
    ProtocolTermEndingV1,
    WeeklyDigestV1,
)
from izlek_common.eventsourced.views import jsonable
from izlek_common.turkish_time import TURKEY, today_in_turkey
from izlek_notifications.clock import Clock
from izlek_notifications.delivery.store import enqueue
from izlek_notifications.intake.facts import Facts
from izlek_notifications.intake.matching import Recipient, contacts, organisation_names, subscribers
from izlek_notifications.mail.templates import template_for
from izlek_notifications.state.tables import (
    activity,
    actor_groups,
    commitments,
    deliveries,
    organisations,
    plans,
    protocols,
)

log = structlog.get_logger(__name__)

OPEN_STATUSES = ("planned", "in_progress")
IN_EFFECT = ("signed", "in_force", "renewed")
SOURCE = "urn:izlek:service:notifications"
DIGEST_ITEMS = 100
DIGEST_CHANGES = 30
ACTIVITY_KEPT = timedelta(weeks=8)
"""How long the organisations' activity (what digests report) is kept."""


@dataclass(frozen=True)
class ReminderSettings:
    due_soon_days: int = 7
    term_ending_days: int = 30
    digest_weekday: int = 0
    digest_hour: int = 8
    contact_language: str = "tr"


class Scheduler:
    """Creates the reminders and digests that are due; `tick` once, or `run` at every interval of the clock."""

    def __init__(self, engine: Engine, clock: Clock, settings: ReminderSettings = ReminderSettings(), *,
                 interval: float = 60.0, on_created: Callable[[], object] | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.settings = settings
        self.interval = interval
        self.on_created = on_created
        self.ticks = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Tick at once, then every ``interval`` seconds of the clock, until ``stop`` is set."""
        log.info("scheduler.started", interval=self.interval)
        while not stop.is_set():
            # The next tick is due an interval after this one began: time that passed during the tick (or a clock
            # moved meanwhile) shortens the wait rather than being lost.
            began = self.clock.now()
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_transient_error(exc):
                    log.warning("scheduler.retrying", error=str(exc) or type(exc).__name__)
                else:
                    log.exception("scheduler.failed")
            sleeping = asyncio.ensure_future(
                self.clock.sleep(self.interval - (self.clock.now() - began).total_seconds()))
            stopping = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({sleeping, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeping.cancel()
                stopping.cancel()
        log.info("scheduler.stopped", ticks=self.ticks)

    async def tick(self) -> Counter[str]:
        """Create what is due at the clock's time; returns how many deliveries of each kind were created."""
        created = await asyncio.to_thread(self.scan, self.clock.now())
        self.ticks += 1
        if sum(created.values()):
            log.info("scheduler.created", **created)
            if self.on_created is not None:
                self.on_created()
        return created

    def scan(self, now: datetime) -> Counter[str]:
        """One transaction: every reminder and digest due at ``now`` that does not exist yet."""
        today = today_in_turkey(now)
        created: Counter[str] = Counter()
        with Session(self.engine) as session, session.begin():
            created["commitment_due_soon"] = self._commitments_due(session, now, today)
            created["commitment_overdue"] = self._commitments_overdue(session, now, today)
            created["protocol_term_ending"] = self._protocols_ending(session, now, today)
            if self._digest_time(now):
                created["weekly_digest"] = self._digests(session, now, today)
            session.execute(delete(activity).where(activity.c.recorded_at < now - ACTIVITY_KEPT))
        return created

    # --- commitments ------------------------------------------------------------------------------------------

    def _commitments_due(self, session: Session, now: datetime, today: date) -> int:
        last = today + timedelta(days=self.settings.due_soon_days)
        rows = session.execute(select(commitments).where(
            commitments.c.status.in_(OPEN_STATUSES), commitments.c.due_date >= today,
            commitments.c.due_date <= last).order_by(commitments.c.due_date, commitments.c.code)).mappings().all()
        created = 0
        for row in rows:
            data = CommitmentDueSoonV1(commitment=_commitment_due(session, row),
                                       days_left=(row["due_date"] - today).days)
            created += self._remind(session, now, data, f"commitment_due_soon:{row['id']}:{row['due_date']}",
                                    subject=row["id"], facts=_commitment_facts(session, row))
        return created

    def _commitments_overdue(self, session: Session, now: datetime, today: date) -> int:
        rows = session.execute(select(commitments).where(
            commitments.c.status.in_(OPEN_STATUSES), commitments.c.due_date < today,
        ).order_by(commitments.c.due_date, commitments.c.code)).mappings().all()
        created = 0
        for row in rows:
            data = CommitmentOverdueV1(commitment=_commitment_due(session, row),
                                       days_overdue=(today - row["due_date"]).days)
            created += self._remind(session, now, data, f"commitment_overdue:{row['id']}:{row['due_date']}",
                                    subject=row["id"], facts=_commitment_facts(session, row))
        return created

    # --- protocols --------------------------------------------------------------------------------------------

    def _protocols_ending(self, session: Session, now: datetime, today: date) -> int:
        last = today + timedelta(days=self.settings.term_ending_days)
        rows = session.execute(select(protocols).where(
            protocols.c.status.in_(IN_EFFECT), protocols.c.term_end.is_not(None)).order_by(protocols.c.code)
        ).mappings().all()
        created = 0
        for row in rows:
            ends_on = term_end_day(row["term_end"])
            if ends_on is None or not today <= ends_on <= last:
                continue
            parties = list(row["party_codes"])
            data = ProtocolTermEndingV1(protocol_id=row["id"], code=row["code"], title=row["title"],
                                        status=row["status"], term_end=row["term_end"], ends_on=ends_on,
                                        days_left=(ends_on - today).days, party_codes=parties)
            facts = Facts(protocol_id=row["id"], organisations=set(parties), contacts=set(parties),
                          entity={"kind": "protocol", "id": row["id"], "code": row["code"], "title": row["title"]})
            created += self._remind(session, now, data, f"protocol_term_ending:{row['id']}:{row['term_end']}",
                                    subject=row["id"], facts=facts)
        return created

    # --- digests ----------------------------------------------------------------------------------------------

    def _digest_time(self, now: datetime) -> bool:
        local = now.astimezone(TURKEY)
        weekday, hour = self.settings.digest_weekday, self.settings.digest_hour
        return local.weekday() > weekday or (local.weekday() == weekday and local.hour >= hour)

    def _digests(self, session: Session, now: datetime, today: date) -> int:
        year, week, _ = today.isocalendar()
        week_name = f"{year}-W{week:02d}"
        created = 0
        names = dict(session.execute(select(organisations.c.code, organisations.c.name)).all())
        for code in sorted(names):
            facts = Facts(organisations={code}, contacts={code})
            key = f"weekly_digest:{code}:{week_name}"
            done = set(session.execute(select(deliveries.c.recipient).where(
                deliveries.c.event_id == f"notifications:{key}")).scalars())
            recipients = [r for r in self._recipients(session, WeeklyDigestV1.event_type, now, facts)
                          if r.key not in done]
            if not recipients:
                continue
            digest = _digest(session, code, names[code], week_name, now, today)
            if not (digest.open_commitments or digest.protocols or digest.changes):
                continue
            created += self._enqueue(session, now, digest, key, subject=code,
                                     recipients=recipients, context={"digest": jsonable(digest.model_dump()),
                                                                     "organisations": {code: names[code]}})
        return created

    # --- shared -----------------------------------------------------------------------------------------------

    def _recipients(self, session: Session, event_type: str, now: datetime, facts: Facts) -> list[Recipient]:
        found = subscribers(session, event_type, now, facts)
        return found + contacts(session, facts.contacts, self.settings.contact_language, besides=found)

    def _remind(self, session: Session, now: datetime, data: IntegrationEvent, key: str, *, subject: str,
                facts: Facts) -> int:
        if facts.plan_id is not None and facts.plan is None:
            facts.plan = _plan(session, facts.plan_id)
        recipients = self._recipients(session, data.event_type, now, facts)
        if not recipients:
            return 0
        context = {"reminder": jsonable(data.model_dump()), "plan": facts.plan,
                   "organisations": organisation_names(session, facts.organisations)}
        return self._enqueue(session, now, data, key, subject=subject, recipients=recipients, context=context)

    def _enqueue(self, session: Session, now: datetime, data: IntegrationEvent, key: str, *, subject: str,
                 recipients: list[Recipient], context: dict[str, Any]) -> int:
        event_id = f"notifications:{key}"
        payload = {"specversion": "1.0", "id": event_id, "source": SOURCE, "type": data.event_type,
                   "subject": subject, "time": now.isoformat(), "datacontenttype": "application/json",
                   "data": data.model_dump(mode="json")}
        context = {**context, "event": {"id": event_id, "type": data.event_type, "time": now.isoformat()}}
        return enqueue(session, recipients, event_id=event_id, event_type=data.event_type, subject=subject,
                       template=template_for(data.event_type),
                       payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                       context=context, now=now)


def term_end_day(term_end: str | None) -> date | None:
    """The last day a partial date covers: ``2024`` → 2024-12-31, ``2024-09`` → 2024-09-30."""
    if not term_end:
        return None
    parts = [int(p) for p in term_end.split("-")]
    if len(parts) == 1:
        return date(parts[0], 12, 31)
    if len(parts) == 2:
        return date(parts[0], parts[1], calendar.monthrange(parts[0], parts[1])[1])
    return date(parts[0], parts[1], parts[2])


def _assignees(session: Session, row: Any) -> list[str]:
    if row["organisation_code"]:
        return [row["organisation_code"]]
    if row["actor_group"]:
        codes = session.execute(select(actor_groups.c.organisation_codes).where(
            actor_groups.c.plan_id == row["plan_id"], actor_groups.c.code == row["actor_group"])).scalar_one_or_none()
        return sorted(codes or ())
    return []


def _commitment_due(session: Session, row: Any) -> dict[str, Any]:
    return {"commitment_id": row["id"], "plan_id": row["plan_id"], "code": row["code"], "title": row["title"],
            "status": row["status"], "due_date": row["due_date"], "organisation_codes": _assignees(session, row)}


def _commitment_facts(session: Session, row: Any) -> Facts:
    codes = set(_assignees(session, row))
    return Facts(plan_id=row["plan_id"], organisations=codes, contacts=codes,
                 entity={"kind": "commitment", "id": row["id"], "code": row["code"], "title": row["title"]})


def _plan(session: Session, plan_id: str) -> dict[str, Any] | None:
    row = session.execute(select(plans.c.id, plans.c.code, plans.c.title, plans.c.region).where(
        plans.c.id == plan_id)).mappings().one_or_none()
    return None if row is None else dict(row)


def _digest(session: Session, code: str, name: str, week: str, now: datetime, today: date) -> WeeklyDigestV1:
    groups = [(plan_id, group) for plan_id, group, members in session.execute(
        select(actor_groups.c.plan_id, actor_groups.c.code, actor_groups.c.organisation_codes)) if code in members]
    assigned = or_(commitments.c.organisation_code == code, *(
        and_(commitments.c.organisation_code.is_(None), commitments.c.plan_id == plan_id,
             commitments.c.actor_group == group) for plan_id, group in groups))
    rows = session.execute(select(commitments).where(assigned, commitments.c.status.in_(OPEN_STATUSES))
                           ).mappings().all()
    rows = sorted(rows, key=lambda r: (not (r["due_date"] and r["due_date"] < today),
                                       r["due_date"] or date.max, r["code"]))[:DIGEST_ITEMS]
    open_commitments = [{"commitment_id": r["id"], "code": r["code"], "title": r["title"], "status": r["status"],
                         "due_date": r["due_date"], "overdue": bool(r["due_date"] and r["due_date"] < today)}
                        for r in rows]
    party_to = [r for r in session.execute(select(protocols).order_by(protocols.c.code)).mappings()
                if code in r["party_codes"]][:DIGEST_ITEMS]
    since = datetime.combine(today - timedelta(days=7), time.min, tzinfo=TURKEY)
    this_week = (activity.c.organisation_code == code, activity.c.recorded_at >= since,
                 activity.c.recorded_at <= now)
    changes = session.execute(select(activity).where(*this_week).order_by(
        activity.c.recorded_at.desc(), activity.c.id.desc()).limit(DIGEST_CHANGES)).mappings().all()
    total = session.execute(select(func.count()).select_from(activity).where(*this_week)).scalar_one()
    return WeeklyDigestV1(
        organisation_code=code, organisation_name=name, week=week, open_commitments=open_commitments,
        protocols=[{"protocol_id": p["id"], "code": p["code"], "title": p["title"], "status": p["status"],
                    "term_end": p["term_end"]} for p in party_to],
        changes=[{"event_id": c["event_id"], "type": c["event_type"], "time": c["recorded_at"], "entity": c["entity"],
                  "summary": c["summary"]} for c in changes],
        changes_total=total,
    )
