"""PlansApplication: the plans service's use cases. Each command is one ``save()``."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any
from uuid import UUID

import izlek_common.contracts.plans  # noqa: F401 - registers the contracts its events are published as
from izlek_common.domain.base import TrackedAggregate
from izlek_common.domain.stamp import Stamp
from izlek_common.eventsourced.application import TrackedApplication
from izlek_common.eventsourced.errors import EntityAlreadyExists, EntityNotFound
from izlek_plans.domain.commitment import Commitment
from izlek_plans.domain.criterion import SuccessCriterion
from izlek_plans.domain.errors import UnknownPart
from izlek_plans.domain.indicator import Indicator
from izlek_plans.domain.plan import ActionPlan
from izlek_plans.policy import (
    require_commitment_role,
    require_commitment_updater,
    require_plan_editor,
    require_report_publisher,
)
from izlek_plans.transcodings import PLANS_VALUE_TYPES

ENTITY_KINDS: dict[type[TrackedAggregate], str] = {
    ActionPlan: "plan",
    Commitment: "commitment",
    SuccessCriterion: "criterion",
    Indicator: "indicator",
}


class PlansApplication(TrackedApplication):
    """Action plans, commitments, success criteria and indicators, recorded as events."""

    name = "plans"
    entity_kinds = ENTITY_KINDS
    value_types = PLANS_VALUE_TYPES

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

    def publish_report(self, plan_id: UUID, stamp: Stamp, expected_version: int | None = None,
                       **fields: Any) -> int:
        """Publish a report of the plan (coordinator, admin or auditor); the stamp's valid time is its date."""
        require_report_publisher(stamp.author, "publish a report")
        plan = self._get(ActionPlan, plan_id, expected_version)
        plan.publish_report(stamp=stamp, **fields)
        return self._save(plan)

    def get_plan(self, plan_id: UUID, *, as_of: datetime | None = None,
                 valid_at: datetime | None = None) -> ActionPlan:
        return self._read(ActionPlan, plan_id, as_of=as_of, valid_at=valid_at)

    def list_plans(self) -> list[ActionPlan]:
        """Every plan, in the order they were started."""
        return [self._read(ActionPlan, plan_id) for plan_id in self.ids_created_by(ActionPlan.Started)]

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
        require_commitment_updater(stamp.author, commitment, lambda: self._get(ActionPlan, commitment.plan_id),
                                   "change the status of this commitment")
        commitment.change_status(status, stamp)
        return self._save(commitment)

    def add_commitment_evidence(self, commitment_id: UUID, stamp: Stamp, expected_version: int | None = None,
                                **fields: Any) -> int:
        require_commitment_role(stamp.author, "add evidence to a commitment")
        commitment = self._get(Commitment, commitment_id, expected_version)
        require_commitment_updater(stamp.author, commitment, lambda: self._get(ActionPlan, commitment.plan_id),
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

