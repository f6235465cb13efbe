"""Integration contracts of the plans service: the ``data`` of its CloudEvents on ``izlek.plans.>``.

A published contract never changes; a new shape is a new class ending in the next ``V<N>``. Decimal
figures travel as strings so that no value is rounded through a float.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from izlek_common.cloudevents import IntegrationEvent, register_contract


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GoalV1(_Part):
    code: str
    number: int | None
    title: str
    title_en: str | None


class TargetV1(_Part):
    code: str
    goal_code: str
    number: str | None
    title: str
    title_en: str | None


class ActorGroupV1(_Part):
    code: str
    name: str
    name_en: str | None
    organisation_ids: list[str]


class PriorityV1(_Part):
    code: str
    number: int | None
    text: str
    text_en: str | None
    goal_code: str | None


class EvidenceV1(_Part):
    reference: str
    description: str | None


class MeasureV1(_Part):
    kind: str
    target: str | None
    unit: str | None
    note: str | None
    breakdown: dict[str, int]
    counts: dict[str, str]
    indicator_codes: list[str]


class CriterionPartV1(_Part):
    text: str
    measure: MeasureV1


class BandOverrideV1(_Part):
    band: str
    reason: str
    period: str | None


class ActualV1(_Part):
    value: str
    evidence: list[str]
    comment: str | None


# --- plan ---------------------------------------------------------------------------------------------


@register_contract
class PlanStartedV1(IntegrationEvent):
    """An action plan was started."""

    event_type = "izlek.plans.plan.started.v1"
    version = 1
    plan_id: UUID
    code: str
    title: str
    title_en: str | None
    region: str
    period_start: date | None
    period_end: date | None
    owner_organisation_id: str | None
    description: str | None


@register_contract
class PlanDetailsChangedV1(IntegrationEvent):
    """The plan's own fields changed in the world."""

    event_type = "izlek.plans.plan.details_changed.v1"
    version = 1
    plan_id: UUID
    changes: dict[str, Any]


@register_contract
class PlanCorrectedV1(IntegrationEvent):
    """A recording mistake in the plan's fields was corrected."""

    event_type = "izlek.plans.plan.corrected.v1"
    version = 1
    plan_id: UUID
    changes: dict[str, Any]


@register_contract
class GoalAddedV1(IntegrationEvent):
    event_type = "izlek.plans.plan.goal_added.v1"
    version = 1
    plan_id: UUID
    goal: GoalV1


@register_contract
class GoalChangedV1(IntegrationEvent):
    event_type = "izlek.plans.plan.goal_changed.v1"
    version = 1
    plan_id: UUID
    code: str
    changes: dict[str, Any]


@register_contract
class GoalCorrectedV1(IntegrationEvent):
    event_type = "izlek.plans.plan.goal_corrected.v1"
    version = 1
    plan_id: UUID
    code: str
    changes: dict[str, Any]


@register_contract
class TargetAddedV1(IntegrationEvent):
    event_type = "izlek.plans.plan.target_added.v1"
    version = 1
    plan_id: UUID
    target: TargetV1


@register_contract
class TargetChangedV1(IntegrationEvent):
    event_type = "izlek.plans.plan.target_changed.v1"
    version = 1
    plan_id: UUID
    code: str
    changes: dict[str, Any]


@register_contract
class TargetCorrectedV1(IntegrationEvent):
    event_type = "izlek.plans.plan.target_corrected.v1"
    version = 1
    plan_id: UUID
    code: str
    changes: dict[str, Any]


@register_contract
class ActorGroupDefinedV1(IntegrationEvent):
    event_type = "izlek.plans.plan.actor_group_defined.v1"
    version = 1
    plan_id: UUID
    group: ActorGroupV1


@register_contract
class PriorityDefinedV1(IntegrationEvent):
    event_type = "izlek.plans.plan.priority_defined.v1"
    version = 1
    plan_id: UUID
    priority: PriorityV1


class ReportV1(_Part):
    code: str
    title: str
    note: str | None = None


@register_contract
class ReportPublishedV1(IntegrationEvent):
    """A report of the plan was published: its content is the plan's dashboard as of this event's recorded time,
    valid at its valid time (the report's date)."""

    event_type = "izlek.plans.plan.report_published.v1"
    version = 1
    plan_id: UUID
    report: ReportV1


@register_contract
class CommitmentAttachedV1(IntegrationEvent):
    event_type = "izlek.plans.plan.commitment_attached.v1"
    version = 1
    plan_id: UUID
    commitment_id: UUID
    code: str


@register_contract
class CriterionAttachedV1(IntegrationEvent):
    event_type = "izlek.plans.plan.criterion_attached.v1"
    version = 1
    plan_id: UUID
    criterion_id: UUID
    code: str


@register_contract
class IndicatorAttachedV1(IntegrationEvent):
    event_type = "izlek.plans.plan.indicator_attached.v1"
    version = 1
    plan_id: UUID
    indicator_id: UUID
    code: str


# --- commitment -----------------------------------------------------------------------------------------


@register_contract
class CommitmentRegisteredV1(IntegrationEvent):
    """A commitment (Faaliyet) was registered under a target of a plan."""

    event_type = "izlek.plans.commitment.registered.v1"
    version = 1
    commitment_id: UUID
    plan_id: UUID
    target_code: str
    code: str
    title: str
    actor_group: str | None
    organisation_id: str | None
    due_date: date | None
    position: int | None


@register_contract
class CommitmentStatusChangedV1(IntegrationEvent):
    """A commitment moved to another status (planned, in_progress, done, dropped)."""

    event_type = "izlek.plans.commitment.status_changed.v1"
    version = 1
    commitment_id: UUID
    status: str


@register_contract
class CommitmentDetailsChangedV1(IntegrationEvent):
    event_type = "izlek.plans.commitment.details_changed.v1"
    version = 1
    commitment_id: UUID
    changes: dict[str, Any]


@register_contract
class CommitmentAssignedV1(IntegrationEvent):
    event_type = "izlek.plans.commitment.assigned.v1"
    version = 1
    commitment_id: UUID
    actor_group: str | None
    organisation_id: str | None


@register_contract
class CommitmentEvidenceAddedV1(IntegrationEvent):
    event_type = "izlek.plans.commitment.evidence_added.v1"
    version = 1
    commitment_id: UUID
    evidence: EvidenceV1


@register_contract
class CommitmentCorrectedV1(IntegrationEvent):
    """A recording mistake in a commitment was corrected (any field, the status included)."""

    event_type = "izlek.plans.commitment.corrected.v1"
    version = 1
    commitment_id: UUID
    changes: dict[str, Any]


# --- success criterion ------------------------------------------------------------------------------------


@register_contract
class CriterionDefinedV1(IntegrationEvent):
    """A success criterion (Başarı Kriteri) was defined with its measure."""

    event_type = "izlek.plans.criterion.defined.v1"
    version = 1
    criterion_id: UUID
    plan_id: UUID
    code: str
    text: str
    goal_code: str | None
    priority_code: str | None
    group: str | None
    measure: MeasureV1
    parts: list[CriterionPartV1]


@register_contract
class CriterionTextChangedV1(IntegrationEvent):
    event_type = "izlek.plans.criterion.text_changed.v1"
    version = 1
    criterion_id: UUID
    text: str


@register_contract
class CriterionTextCorrectedV1(IntegrationEvent):
    event_type = "izlek.plans.criterion.text_corrected.v1"
    version = 1
    criterion_id: UUID
    text: str


@register_contract
class CriterionMeasureChangedV1(IntegrationEvent):
    event_type = "izlek.plans.criterion.measure_changed.v1"
    version = 1
    criterion_id: UUID
    measure: MeasureV1
    parts: list[CriterionPartV1]


@register_contract
class CriterionMeasureCorrectedV1(IntegrationEvent):
    event_type = "izlek.plans.criterion.measure_corrected.v1"
    version = 1
    criterion_id: UUID
    measure: MeasureV1
    parts: list[CriterionPartV1]


@register_contract
class CriterionBandOverriddenV1(IntegrationEvent):
    event_type = "izlek.plans.criterion.band_overridden.v1"
    version = 1
    criterion_id: UUID
    override: BandOverrideV1


@register_contract
class CriterionBandOverrideWithdrawnV1(IntegrationEvent):
    event_type = "izlek.plans.criterion.band_override_withdrawn.v1"
    version = 1
    criterion_id: UUID
    period: str | None


# --- indicator ---------------------------------------------------------------------------------------------


@register_contract
class IndicatorDefinedV1(IntegrationEvent):
    """An indicator (Gösterge) was defined."""

    event_type = "izlek.plans.indicator.defined.v1"
    version = 1
    indicator_id: UUID
    plan_id: UUID
    code: str
    name: str
    unit: str
    direction: str
    baseline: str | None
    baseline_period: str | None
    description: str | None
    criterion_id: UUID | None


@register_contract
class IndicatorDetailsChangedV1(IntegrationEvent):
    event_type = "izlek.plans.indicator.details_changed.v1"
    version = 1
    indicator_id: UUID
    changes: dict[str, Any]


@register_contract
class IndicatorBaselineSetV1(IntegrationEvent):
    event_type = "izlek.plans.indicator.baseline_set.v1"
    version = 1
    indicator_id: UUID
    value: str
    period: str | None


@register_contract
class IndicatorBaselineCorrectedV1(IntegrationEvent):
    event_type = "izlek.plans.indicator.baseline_corrected.v1"
    version = 1
    indicator_id: UUID
    value: str
    period: str | None


@register_contract
class IndicatorTargetSetV1(IntegrationEvent):
    event_type = "izlek.plans.indicator.target_set.v1"
    version = 1
    indicator_id: UUID
    period: str
    value: str


@register_contract
class IndicatorTargetCorrectedV1(IntegrationEvent):
    event_type = "izlek.plans.indicator.target_corrected.v1"
    version = 1
    indicator_id: UUID
    period: str
    value: str


@register_contract
class IndicatorActualRecordedV1(IntegrationEvent):
    event_type = "izlek.plans.indicator.actual_recorded.v1"
    version = 1
    indicator_id: UUID
    period: str
    actual: ActualV1


@register_contract
class IndicatorActualCorrectedV1(IntegrationEvent):
    event_type = "izlek.plans.indicator.actual_corrected.v1"
    version = 1
    indicator_id: UUID
    period: str
    actual: ActualV1


@register_contract
class IndicatorBandOverriddenV1(IntegrationEvent):
    event_type = "izlek.plans.indicator.band_overridden.v1"
    version = 1
    indicator_id: UUID
    override: BandOverrideV1


@register_contract
class IndicatorBandOverrideWithdrawnV1(IntegrationEvent):
    event_type = "izlek.plans.indicator.band_override_withdrawn.v1"
    version = 1
    indicator_id: UUID
    period: str
