"""PlansApplication: the plans service's use cases. Each command is one ``save()``."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording
from eventsourcing.utils import get_topic

from izlek_plans.domain.base import TrackedAggregate, is_correction
from izlek_plans.domain.commitment import Commitment
from izlek_plans.domain.criterion import SuccessCriterion
from izlek_plans.domain.errors import UnknownPart
from izlek_plans.domain.indicator import Indicator
from izlek_plans.domain.plan import ActionPlan
from izlek_plans.domain.stamp import Stamp
from izlek_plans.errors import EntityAlreadyExists, EntityNotFound, VersionMismatch
from izlek_plans.policy import require_commitment_role, require_commitment_updater, require_plan_editor
from izlek_plans.transcodings import register_plans_transcodings
from izlek_plans.views import diff, jsonable

A = TypeVar("A", bound=TrackedAggregate)

ENTITY_KINDS: dict[type[TrackedAggregate], str] = {
    ActionPlan: "plan",
    Commitment: "commitment",
    SuccessCriterion: "criterion",
    Indicator: "indicator",
}


class PlansApplication(Application[UUID]):
    """Action plans, commitments, success criteria and indicators, recorded as events."""

    name = "plans"
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "5000", "AGGREGATE_CACHE_FASTFORWARD": "y"}
    CREATE_RETRIES = 5

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self._listeners: list[Callable[[], None]] = []
        self._listeners_lock = threading.Lock()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_plans_transcodings(transcoder)

    # --- notification of new events (wakes an in-process relay) ---------------------------------

    def on_new_events(self, listener: Callable[[], None]) -> None:
        with self._listeners_lock:
            self._listeners.append(listener)

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        for listener in list(self._listeners):
            listener()

    # --- plans ------------------------------------------------------------------------------------

    def start_plan(self, stamp: Stamp, **fields: Any) -> UUID:
        """Start an action plan; 409 if a plan with the same code exists."""
        require_plan_editor(stamp.author, "start a plan")
        plan = ActionPlan.start(stamp=stamp, **fields)
        if self.exists(plan.id):
            raise EntityAlreadyExists(f"a plan with code {plan.code} already exists ({plan.id})")
        self._save(plan)
        return plan.id

    def change_plan(self, plan_id: UUID, changes: dict[str, Any], stamp: Stamp,
                    expected_version: int | None = None, *, correction: bool = False) -> int:
        """Change the plan's own fields, or correct them; returns the new version."""
        require_plan_editor(stamp.author, "correct a plan" if correction else "change a plan")
        plan = self._get(ActionPlan, plan_id, expected_version)
        (plan.correct if correction else plan.change_details)(changes, stamp)
        return self._save(plan)

    def add_goal(self, plan_id: UUID, stamp: Stamp, expected_version: int | None = None, **fields: Any) -> int:
        require_plan_editor(stamp.author, "add a goal")
        plan = self._get(ActionPlan, plan_id, expected_version)
        plan.add_goal(stamp=stamp, **fields)
        return self._save(plan)

    def change_goal(self, plan_id: UUID, code: str, changes: dict[str, Any], stamp: Stamp,
                    expected_version: int | None = None, *, correction: bool = False) -> int:
        require_plan_editor(stamp.author, "change a goal")
        plan = self._get(ActionPlan, plan_id, expected_version)
        if code not in plan.goals:
            raise EntityNotFound(f"plan {plan_id} has no goal {code}")
        plan.change_goal(code, changes, stamp, correction=correction)
        return self._save(plan)

    def add_target(self, plan_id: UUID, stamp: Stamp, expected_version: int | None = None, **fields: Any) -> int:
        require_plan_editor(stamp.author, "add a target")
        plan = self._get(ActionPlan, plan_id, expected_version)
        plan.add_target(stamp=stamp, **fields)
        return self._save(plan)

    def change_target(self, plan_id: UUID, code: str, changes: dict[str, Any], stamp: Stamp,
                      expected_version: int | None = None, *, correction: bool = False) -> int:
        require_plan_editor(stamp.author, "change a target")
        plan = self._get(ActionPlan, plan_id, expected_version)
        if code not in plan.targets:
            raise EntityNotFound(f"plan {plan_id} has no target {code}")
        plan.change_target(code, changes, stamp, correction=correction)
        return self._save(plan)

    def define_actor_group(self, plan_id: UUID, stamp: Stamp, expected_version: int | None = None,
                           **fields: Any) -> int:
        require_plan_editor(stamp.author, "define an actor group")
        plan = self._get(ActionPlan, plan_id, expected_version)
        plan.define_actor_group(stamp=stamp, **fields)
        return self._save(plan)

    def define_priority(self, plan_id: UUID, stamp: Stamp, expected_version: int | None = None,
                        **fields: Any) -> int:
        require_plan_editor(stamp.author, "define a priority")
        plan = self._get(ActionPlan, plan_id, expected_version)
        plan.define_priority(stamp=stamp, **fields)
        return self._save(plan)

    def get_plan(self, plan_id: UUID, *, as_of: datetime | None = None,
                 valid_at: datetime | None = None) -> ActionPlan:
        return self._read(ActionPlan, plan_id, as_of=as_of, valid_at=valid_at)

    def list_plans(self) -> list[ActionPlan]:
        """Every plan, in the order they were started (found by the topic of their first event)."""
        topic = get_topic(ActionPlan.Started)
        plan_ids: list[UUID] = []
        start = 1
        while batch := self.recorder.select_notifications(start, 1000, topics=[topic]):
            plan_ids.extend(UUID(str(n.originator_id)) for n in batch)
            start = batch[-1].id + 1
        return [self._read(ActionPlan, plan_id) for plan_id in plan_ids]

    # --- commitments ------------------------------------------------------------------------------

    def register_commitment(self, plan_id: UUID, stamp: Stamp, **fields: Any) -> UUID:
        """Register a commitment under a target of the plan and attach it to the plan, in one save."""
        require_plan_editor(stamp.author, "register a commitment")

        def attempt() -> UUID:
            plan = self._get(ActionPlan, plan_id)
            commitment = Commitment.register(plan_id=plan_id, stamp=stamp, **fields)
            plan.target(commitment.target_code)
            if commitment.actor_group is not None:
                plan.actor_group(commitment.actor_group)
            if self.exists(commitment.id):
                raise EntityAlreadyExists(f"plan already has a commitment {commitment.code} ({commitment.id})")
            plan.attach_commitment(commitment.id, commitment.code, stamp)
            self._save(commitment, plan)
            return commitment.id

        return self._retrying_on_conflict(attempt)

    def change_commitment_status(self, commitment_id: UUID, status: str, stamp: Stamp,
                                 expected_version: int | None = None) -> int:
        """Move a commitment to another status (planned, in_progress, done, dropped)."""
        require_commitment_role(stamp.author, "change the status of a commitment")
        commitment = self._get(Commitment, commitment_id, expected_version)
        require_commitment_updater(stamp.author, commitment, self._get(ActionPlan, commitment.plan_id),
                                   "change the status of this commitment")
        commitment.change_status(status, stamp)
        return self._save(commitment)

    def add_commitment_evidence(self, commitment_id: UUID, stamp: Stamp, expected_version: int | None = None,
                                **fields: Any) -> int:
        require_commitment_role(stamp.author, "add evidence to a commitment")
        commitment = self._get(Commitment, commitment_id, expected_version)
        require_commitment_updater(stamp.author, commitment, self._get(ActionPlan, commitment.plan_id),
                                   "add evidence to this commitment")
        commitment.add_evidence(stamp=stamp, **fields)
        return self._save(commitment)

    def change_commitment(self, commitment_id: UUID, changes: dict[str, Any], stamp: Stamp,
                          expected_version: int | None = None) -> int:
        """Change the title, due date or position of a commitment."""
        require_plan_editor(stamp.author, "change a commitment")
        commitment = self._get(Commitment, commitment_id, expected_version)
        commitment.change_details(changes, stamp)
        return self._save(commitment)

    def assign_commitment(self, commitment_id: UUID, stamp: Stamp, expected_version: int | None = None, *,
                          actor_group: str | None, organisation_id: str | None) -> int:
        require_plan_editor(stamp.author, "assign a commitment")
        commitment = self._get(Commitment, commitment_id, expected_version)
        if actor_group is not None:
            self._get(ActionPlan, commitment.plan_id).actor_group(actor_group)
        commitment.assign(actor_group=actor_group, organisation_id=organisation_id, stamp=stamp)
        return self._save(commitment)

    def correct_commitment(self, commitment_id: UUID, changes: dict[str, Any], stamp: Stamp,
                           expected_version: int | None = None) -> int:
        """Fix a recording mistake in a commitment, with a reason; the mistake stays in its history."""
        require_plan_editor(stamp.author, "correct a commitment")
        commitment = self._get(Commitment, commitment_id, expected_version)
        if "target_code" in changes:
            self._get(ActionPlan, commitment.plan_id).target(changes["target_code"])
        commitment.correct(changes, stamp)
        return self._save(commitment)

    def get_commitment(self, commitment_id: UUID, *, as_of: datetime | None = None,
                       valid_at: datetime | None = None) -> Commitment:
        return self._read(Commitment, commitment_id, as_of=as_of, valid_at=valid_at)

    def list_commitments(self, plan_id: UUID, *, as_of: datetime | None = None,
                         valid_at: datetime | None = None) -> list[Commitment]:
        plan = self.get_plan(plan_id, as_of=as_of, valid_at=valid_at)
        return self._read_many(Commitment, plan.commitment_ids, as_of=as_of, valid_at=valid_at)

    # --- success criteria ---------------------------------------------------------------------------

    def define_criterion(self, plan_id: UUID, stamp: Stamp, **fields: Any) -> UUID:
        """Define a success criterion of the plan, with its measure."""
        require_plan_editor(stamp.author, "define a success criterion")

        def attempt() -> UUID:
            plan = self._get(ActionPlan, plan_id)
            criterion = SuccessCriterion.define(plan_id=plan_id, stamp=stamp, **fields)
            if criterion.goal_code is not None and criterion.goal_code not in plan.goals:
                raise UnknownPart(f"the plan has no goal {criterion.goal_code}")
            if criterion.priority_code is not None and criterion.priority_code not in plan.priorities:
                raise UnknownPart(f"the plan has no priority {criterion.priority_code}")
            if self.exists(criterion.id):
                raise EntityAlreadyExists(f"plan already has a criterion {criterion.code} ({criterion.id})")
            plan.attach_criterion(criterion.id, criterion.code, stamp)
            self._save(criterion, plan)
            return criterion.id

        return self._retrying_on_conflict(attempt)

    def change_criterion(self, criterion_id: UUID, stamp: Stamp, expected_version: int | None = None, *,
                         text: str | None = None, measure: dict[str, Any] | None = None,
                         parts: list[dict[str, Any]] | None = None, correction: bool = False) -> int:
        """Reword a criterion or change its measure (or correct either, with a reason)."""
        require_plan_editor(stamp.author, "change a success criterion")
        criterion = self._get(SuccessCriterion, criterion_id, expected_version)
        if text is not None:
            criterion.change_text(text, stamp, correction=correction)
        if measure is not None or parts is not None:
            criterion.change_measure(
                measure if measure is not None else dataclasses.asdict(criterion.measure), stamp,
                parts=parts, correction=correction,
            )
        return self._save(criterion)

    def override_criterion_band(self, criterion_id: UUID, band: str | None, stamp: Stamp,
                                expected_version: int | None = None, *, period: str | None = None) -> int:
        """Set (or, with ``band=None``, withdraw) a hand-set band with a reason."""
        require_plan_editor(stamp.author, "override a band")
        criterion = self._get(SuccessCriterion, criterion_id, expected_version)
        if band is None:
            criterion.withdraw_band_override(stamp, period=period)
        else:
            criterion.override_band(band, stamp, period=period)
        return self._save(criterion)

    def get_criterion(self, criterion_id: UUID, *, as_of: datetime | None = None,
                      valid_at: datetime | None = None) -> SuccessCriterion:
        return self._read(SuccessCriterion, criterion_id, as_of=as_of, valid_at=valid_at)

    def list_criteria(self, plan_id: UUID, *, as_of: datetime | None = None,
                      valid_at: datetime | None = None) -> list[SuccessCriterion]:
        plan = self.get_plan(plan_id, as_of=as_of, valid_at=valid_at)
        return self._read_many(SuccessCriterion, plan.criterion_ids, as_of=as_of, valid_at=valid_at)

    # --- indicators --------------------------------------------------------------------------------

    def define_indicator(self, plan_id: UUID, stamp: Stamp, **fields: Any) -> UUID:
        """Define an indicator of the plan, optionally measuring one of its criteria."""
        require_plan_editor(stamp.author, "define an indicator")

        def attempt() -> UUID:
            plan = self._get(ActionPlan, plan_id)
            criterion_id = fields.get("criterion_id")
            if criterion_id is not None and criterion_id not in plan.criterion_ids:
                raise UnknownPart(f"the plan has no criterion {criterion_id}")
            indicator = Indicator.define(plan_id=plan_id, stamp=stamp, **fields)
            if self.exists(indicator.id):
                raise EntityAlreadyExists(f"plan already has an indicator {indicator.code} ({indicator.id})")
            plan.attach_indicator(indicator.id, indicator.code, stamp)
            self._save(indicator, plan)
            return indicator.id

        return self._retrying_on_conflict(attempt)

    def change_indicator(self, indicator_id: UUID, changes: dict[str, Any], stamp: Stamp,
                         expected_version: int | None = None) -> int:
        require_plan_editor(stamp.author, "change an indicator")
        indicator = self._get(Indicator, indicator_id, expected_version)
        if changes.get("criterion_id") is not None:
            plan = self._get(ActionPlan, indicator.plan_id)
            if changes["criterion_id"] not in plan.criterion_ids:
                raise UnknownPart(f"the plan has no criterion {changes['criterion_id']}")
        indicator.change_details(changes, stamp)
        return self._save(indicator)

    def set_indicator_baseline(self, indicator_id: UUID, value: Any, stamp: Stamp,
                               expected_version: int | None = None, *, period: str | None = None,
                               correction: bool = False) -> int:
        require_plan_editor(stamp.author, "set a baseline")
        indicator = self._get(Indicator, indicator_id, expected_version)
        indicator.set_baseline(value, period, stamp, correction=correction)
        return self._save(indicator)

    def set_indicator_target(self, indicator_id: UUID, period: str, value: Any, stamp: Stamp,
                             expected_version: int | None = None, *, correction: bool = False) -> int:
        require_plan_editor(stamp.author, "set a target value")
        indicator = self._get(Indicator, indicator_id, expected_version)
        indicator.set_target(period, value, stamp, correction=correction)
        return self._save(indicator)

    def record_indicator_actual(self, indicator_id: UUID, period: str, value: Any, stamp: Stamp,
                                expected_version: int | None = None, *, evidence: tuple[str, ...] = (),
                                comment: str | None = None, correction: bool = False) -> int:
        require_plan_editor(stamp.author, "record an actual value")
        indicator = self._get(Indicator, indicator_id, expected_version)
        indicator.record_actual(period, value, stamp, evidence=evidence, comment=comment, correction=correction)
        return self._save(indicator)

    def override_indicator_band(self, indicator_id: UUID, period: str, band: str | None, stamp: Stamp,
                                expected_version: int | None = None) -> int:
        """Set (or, with ``band=None``, withdraw) a period's hand-set band, with a reason."""
        require_plan_editor(stamp.author, "override a band")
        indicator = self._get(Indicator, indicator_id, expected_version)
        if band is None:
            indicator.withdraw_band_override(period, stamp)
        else:
            indicator.override_band(period, band, stamp)
        return self._save(indicator)

    def get_indicator(self, indicator_id: UUID, *, as_of: datetime | None = None,
                      valid_at: datetime | None = None) -> Indicator:
        return self._read(Indicator, indicator_id, as_of=as_of, valid_at=valid_at)

    def list_indicators(self, plan_id: UUID, *, as_of: datetime | None = None,
                        valid_at: datetime | None = None) -> list[Indicator]:
        plan = self.get_plan(plan_id, as_of=as_of, valid_at=valid_at)
        return self._read_many(Indicator, plan.indicator_ids, as_of=as_of, valid_at=valid_at)

    # --- history --------------------------------------------------------------------------------------

    def history(self, entity_id: UUID) -> dict[str, Any]:
        """Every event of an entity: type, kind (change or correction), author, recorded and valid time,
        reason, the event's data, and the field diffs it made."""
        events = list(self.events.get(entity_id))
        if not events:
            raise EntityNotFound(f"nothing is recorded for {entity_id}")
        aggregate: TrackedAggregate | None = None
        entries = []
        for domain_event in events:
            before = aggregate.view() if aggregate is not None else {}
            aggregate = domain_event.mutate(aggregate)
            assert aggregate is not None
            stamp: Stamp = domain_event.stamp
            entries.append({
                "version": domain_event.originator_version,
                "event_type": type(domain_event).__name__,
                "kind": "correction" if is_correction(type(domain_event).__name__) else "change",
                "recorded_at": domain_event.timestamp,
                "valid_at": stamp.valid_at or domain_event.timestamp,
                "backfilled": stamp.valid_at is not None and stamp.valid_at < domain_event.timestamp,
                "author": stamp.author,
                "reason": stamp.reason,
                "correlation_id": stamp.correlation_id,
                "data": event_data(domain_event),
                "changes": diff(jsonable(before), jsonable(aggregate.view())),
            })
        assert aggregate is not None
        return jsonable({
            "id": entity_id,
            "entity_type": ENTITY_KINDS[type(aggregate)],
            "version": aggregate.version,
            "events": entries,
        })

    def entity_type_of(self, entity_id: UUID) -> str:
        aggregate = self._read_any(entity_id)
        return ENTITY_KINDS[type(aggregate)]

    # --- reading and saving ------------------------------------------------------------------------

    def exists(self, aggregate_id: UUID) -> bool:
        """Whether anything is recorded under this id."""
        return next(iter(self.events.get(aggregate_id, limit=1)), None) is not None

    def _get(self, cls: type[A], aggregate_id: UUID, expected_version: int | None = None) -> A:
        """The whole recorded state, scheduled changes included: what commands act on."""
        aggregate = self._read_any(aggregate_id)
        if not isinstance(aggregate, cls):
            raise EntityNotFound(f"no {ENTITY_KINDS[cls]} {aggregate_id}")
        if expected_version is not None and aggregate.version != expected_version:
            raise VersionMismatch(aggregate_id, expected_version, aggregate.version)
        return aggregate

    def _read_any(self, aggregate_id: UUID) -> TrackedAggregate:
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise EntityNotFound(f"no entity {aggregate_id}") from None
        if not isinstance(aggregate, TrackedAggregate):
            raise EntityNotFound(f"no entity {aggregate_id}")
        return aggregate

    def _read(self, cls: type[A], aggregate_id: UUID, *, as_of: datetime | None = None,
              valid_at: datetime | None = None) -> A:
        """What queries show: by default the state in effect now, so a change scheduled for a later date
        (valid time in the future) shows only from that date on."""
        if as_of is None and valid_at is None:
            aggregate = self._read_any(aggregate_id)
            now = datetime.now(UTC)
            if aggregate.latest_valid_at is not None and aggregate.latest_valid_at > now:
                aggregate = self._read_at(aggregate_id, as_of=None, valid_at=now)
        else:
            aggregate = self._read_at(aggregate_id, as_of=as_of, valid_at=valid_at)
        if not isinstance(aggregate, cls):
            raise EntityNotFound(f"no {ENTITY_KINDS[cls]} {aggregate_id}")
        return aggregate

    def _read_many(self, cls: type[A], ids: Iterable[UUID], *, as_of: datetime | None,
                   valid_at: datetime | None) -> list[A]:
        result = []
        for aggregate_id in ids:
            try:
                result.append(self._read(cls, aggregate_id, as_of=as_of, valid_at=valid_at))
            except EntityNotFound:
                continue  # attached later than (or valid after) the asked time
        return result

    def _read_at(self, aggregate_id: UUID, *, as_of: datetime | None,
                 valid_at: datetime | None) -> TrackedAggregate:
        """State as the store knew it at ``as_of`` (recorded time), counting only the events that had
        taken effect by ``valid_at`` (valid time)."""
        events = list(self.events.get(aggregate_id))
        if as_of is not None:
            events = [e for e in events if e.timestamp <= as_of]
        # The version is what was known (as of), not what was in effect: it stays the concurrency token.
        known = events[-1] if events else None
        if valid_at is not None:
            events = [e for e in events if (e.stamp.valid_at or e.timestamp) <= valid_at]
        if not events or events[0].originator_version != Aggregate.INITIAL_VERSION:
            moments = []
            if as_of is not None:
                moments.append(f"as of {as_of.isoformat()}")
            if valid_at is not None:
                moments.append(f"valid at {valid_at.isoformat()}")
            raise EntityNotFound(f"{aggregate_id} did not exist {' and '.join(moments)}")
        aggregate = None
        for position, domain_event in enumerate(events, start=Aggregate.INITIAL_VERSION):
            # Events skipped for valid time leave gaps; renumber so the sequence check passes.
            aggregate = dataclasses.replace(domain_event, originator_version=position).mutate(aggregate)
        assert isinstance(aggregate, TrackedAggregate) and known is not None
        aggregate.version = known.originator_version
        aggregate.modified_on = known.timestamp
        return aggregate

    def _save(self, *objs: Any) -> int:
        try:
            self.save(*objs)
        except IntegrityError:
            aggregate = next((o for o in objs if isinstance(o, TrackedAggregate)), None)
            raise VersionMismatch(aggregate.id if aggregate else "entity", None, None) from None
        aggregate = next((o for o in objs if isinstance(o, TrackedAggregate)), None)
        return aggregate.version if aggregate is not None else 0

    def _retrying_on_conflict(self, attempt: Callable[[], UUID]) -> UUID:
        for _ in range(self.CREATE_RETRIES - 1):
            try:
                return attempt()
            except VersionMismatch:
                continue
        return attempt()


def event_data(domain_event: Any) -> dict[str, Any]:
    """The event's own fields, without the envelope (id, version, timestamp) and the stamp."""
    skipped = {"originator_id", "originator_version", "timestamp", "stamp"}
    return {k: v for k, v in domain_event.__dict__.items() if k not in skipped}


def today_in_turkey() -> date:
    """Due dates are Turkish calendar dates (UTC+3, no daylight saving since 2016)."""
    return datetime.now(timezone(timedelta(hours=3))).date()
