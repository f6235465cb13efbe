"""Projections of the plans service's events: plans with their goals, targets, actor groups and priorities;
commitments; success criteria; indicators and their values per period."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from izlek_common.cloudevents import CloudEvent
from izlek_common.contracts import plans as contracts
from izlek_gateway.projections.registry import (
    column_values,
    handles,
    last_change,
    update_one,
    upsert,
    value_of,
)
from izlek_gateway.read_models.tables import (
    actor_groups,
    commitments,
    criteria,
    goals,
    indicator_values,
    indicators,
    plans,
    priorities,
    reports,
    targets,
)

# --- plan, and the parts that live inside it ------------------------------------------------------------


def _plan_changed(session: Session, event: CloudEvent, plan_id: Any) -> None:
    update_one(session, plans, {"id": str(plan_id)}, last_change(event))


@handles(contracts.PlanStartedV1)
def plan_started(session: Session, event: CloudEvent, data: contracts.PlanStartedV1) -> None:
    upsert(session, plans, {**data.model_dump(exclude={"plan_id"}), "id": str(data.plan_id), **last_change(event)})


@handles(contracts.PlanDetailsChangedV1)
@handles(contracts.PlanCorrectedV1)
def plan_details_changed(session: Session, event: CloudEvent,
                         data: contracts.PlanDetailsChangedV1 | contracts.PlanCorrectedV1) -> None:
    update_one(session, plans, {"id": str(data.plan_id)},
               {**column_values(plans, data.changes), **last_change(event)})


@handles(contracts.GoalAddedV1)
def goal_added(session: Session, event: CloudEvent, data: contracts.GoalAddedV1) -> None:
    _plan_changed(session, event, data.plan_id)
    upsert(session, goals, {"plan_id": str(data.plan_id), **data.goal.model_dump(), **last_change(event)})


@handles(contracts.GoalChangedV1)
@handles(contracts.GoalCorrectedV1)
def goal_changed(session: Session, event: CloudEvent,
                 data: contracts.GoalChangedV1 | contracts.GoalCorrectedV1) -> None:
    _plan_changed(session, event, data.plan_id)
    update_one(session, goals, {"plan_id": str(data.plan_id), "code": data.code},
               {**column_values(goals, data.changes), **last_change(event)})


@handles(contracts.TargetAddedV1)
def target_added(session: Session, event: CloudEvent, data: contracts.TargetAddedV1) -> None:
    _plan_changed(session, event, data.plan_id)
    upsert(session, targets, {"plan_id": str(data.plan_id), **data.target.model_dump(), **last_change(event)})


@handles(contracts.TargetChangedV1)
@handles(contracts.TargetCorrectedV1)
def target_changed(session: Session, event: CloudEvent,
                   data: contracts.TargetChangedV1 | contracts.TargetCorrectedV1) -> None:
    _plan_changed(session, event, data.plan_id)
    update_one(session, targets, {"plan_id": str(data.plan_id), "code": data.code},
               {**column_values(targets, data.changes), **last_change(event)})


@handles(contracts.ActorGroupDefinedV1)
def actor_group_defined(session: Session, event: CloudEvent, data: contracts.ActorGroupDefinedV1) -> None:
    _plan_changed(session, event, data.plan_id)
    upsert(session, actor_groups, {"plan_id": str(data.plan_id), **data.group.model_dump(), **last_change(event)})


@handles(contracts.PriorityDefinedV1)
def priority_defined(session: Session, event: CloudEvent, data: contracts.PriorityDefinedV1) -> None:
    _plan_changed(session, event, data.plan_id)
    upsert(session, priorities, {"plan_id": str(data.plan_id), **data.priority.model_dump(), **last_change(event)})


@handles(contracts.ReportPublishedV1)
def report_published(session: Session, event: CloudEvent, data: contracts.ReportPublishedV1) -> None:
    _plan_changed(session, event, data.plan_id)
    upsert(session, reports, {
        "plan_id": str(data.plan_id), **data.report.model_dump(), "published_by": event.actor,
        "published_by_role": event.actorrole, "published_by_organisation": event.actororg, **last_change(event),
    })


# Commitments, criteria and indicators carry their plan id; attaching them only moves the plan's version.
@handles(contracts.CommitmentAttachedV1)
@handles(contracts.CriterionAttachedV1)
@handles(contracts.IndicatorAttachedV1)
def attached_to_plan(session: Session, event: CloudEvent,
                     data: contracts.CommitmentAttachedV1 | contracts.CriterionAttachedV1
                     | contracts.IndicatorAttachedV1) -> None:
    _plan_changed(session, event, data.plan_id)


# --- commitment -----------------------------------------------------------------------------------------


def _change_commitment(session: Session, event: CloudEvent, commitment_id: Any, values: dict[str, Any]) -> None:
    update_one(session, commitments, {"id": str(commitment_id)}, {**values, **last_change(event)})


@handles(contracts.CommitmentRegisteredV1)
def commitment_registered(session: Session, event: CloudEvent, data: contracts.CommitmentRegisteredV1) -> None:
    row = data.model_dump(exclude={"commitment_id", "plan_id"})
    upsert(session, commitments, {**row, "id": str(data.commitment_id), "plan_id": str(data.plan_id),
                                  "status": "planned", "evidence": [], **last_change(event)})


@handles(contracts.CommitmentStatusChangedV1)
def commitment_status_changed(session: Session, event: CloudEvent,
                              data: contracts.CommitmentStatusChangedV1) -> None:
    _change_commitment(session, event, data.commitment_id, {"status": data.status})


@handles(contracts.CommitmentDetailsChangedV1)
@handles(contracts.CommitmentCorrectedV1)
def commitment_details_changed(session: Session, event: CloudEvent,
                               data: contracts.CommitmentDetailsChangedV1 | contracts.CommitmentCorrectedV1) -> None:
    _change_commitment(session, event, data.commitment_id, column_values(commitments, data.changes))


@handles(contracts.CommitmentAssignedV1)
def commitment_assigned(session: Session, event: CloudEvent, data: contracts.CommitmentAssignedV1) -> None:
    _change_commitment(session, event, data.commitment_id,
                       {"actor_group": data.actor_group, "organisation_id": data.organisation_id})


@handles(contracts.CommitmentEvidenceAddedV1)
def commitment_evidence_added(session: Session, event: CloudEvent,
                              data: contracts.CommitmentEvidenceAddedV1) -> None:
    evidence = value_of(session, commitments, {"id": str(data.commitment_id)}, "evidence") or []
    _change_commitment(session, event, data.commitment_id,
                       {"evidence": [*evidence, data.evidence.model_dump()]})


# --- success criterion ----------------------------------------------------------------------------------


def _change_criterion(session: Session, event: CloudEvent, criterion_id: Any, values: dict[str, Any]) -> None:
    update_one(session, criteria, {"id": str(criterion_id)}, {**values, **last_change(event)})


def _band_overrides(session: Session, criterion_id: Any) -> dict[str, Any]:
    overrides = value_of(session, criteria, {"id": str(criterion_id)}, "band_overrides")
    return dict(overrides or {})


@handles(contracts.CriterionDefinedV1)
def criterion_defined(session: Session, event: CloudEvent, data: contracts.CriterionDefinedV1) -> None:
    row = data.model_dump(mode="json", exclude={"criterion_id", "plan_id", "group"})
    upsert(session, criteria, {**row, "id": str(data.criterion_id), "plan_id": str(data.plan_id),
                               "group_code": data.group, "band_overrides": {}, **last_change(event)})


@handles(contracts.CriterionTextChangedV1)
@handles(contracts.CriterionTextCorrectedV1)
def criterion_text_changed(session: Session, event: CloudEvent,
                           data: contracts.CriterionTextChangedV1 | contracts.CriterionTextCorrectedV1) -> None:
    _change_criterion(session, event, data.criterion_id, {"text": data.text})


@handles(contracts.CriterionMeasureChangedV1)
@handles(contracts.CriterionMeasureCorrectedV1)
def criterion_measure_changed(
    session: Session, event: CloudEvent,
    data: contracts.CriterionMeasureChangedV1 | contracts.CriterionMeasureCorrectedV1,
) -> None:
    measure = data.model_dump(mode="json", include={"measure", "parts"})
    _change_criterion(session, event, data.criterion_id, measure)


@handles(contracts.CriterionBandOverriddenV1)
def criterion_band_overridden(session: Session, event: CloudEvent,
                              data: contracts.CriterionBandOverriddenV1) -> None:
    overrides = _band_overrides(session, data.criterion_id)
    overrides[data.override.period or ""] = {"band": data.override.band, "reason": data.override.reason}
    _change_criterion(session, event, data.criterion_id, {"band_overrides": overrides})


@handles(contracts.CriterionBandOverrideWithdrawnV1)
def criterion_band_override_withdrawn(session: Session, event: CloudEvent,
                                      data: contracts.CriterionBandOverrideWithdrawnV1) -> None:
    overrides = _band_overrides(session, data.criterion_id)
    overrides.pop(data.period or "", None)
    _change_criterion(session, event, data.criterion_id, {"band_overrides": overrides})


# --- indicator ------------------------------------------------------------------------------------------


def _change_indicator(session: Session, event: CloudEvent, indicator_id: Any, values: dict[str, Any]) -> None:
    update_one(session, indicators, {"id": str(indicator_id)}, {**values, **last_change(event)})


def _set_period_values(session: Session, event: CloudEvent, indicator_id: Any, period: str,
                       values: dict[str, Any]) -> None:
    _change_indicator(session, event, indicator_id, {})
    upsert(session, indicator_values,
           {"indicator_id": str(indicator_id), "period": period, **values, **last_change(event)})


@handles(contracts.IndicatorDefinedV1)
def indicator_defined(session: Session, event: CloudEvent, data: contracts.IndicatorDefinedV1) -> None:
    row = data.model_dump(exclude={"indicator_id", "plan_id", "criterion_id"})
    upsert(session, indicators, {
        **row,
        "id": str(data.indicator_id),
        "plan_id": str(data.plan_id),
        "criterion_id": None if data.criterion_id is None else str(data.criterion_id),
        **last_change(event),
    })


@handles(contracts.IndicatorDetailsChangedV1)
def indicator_details_changed(session: Session, event: CloudEvent,
                              data: contracts.IndicatorDetailsChangedV1) -> None:
    _change_indicator(session, event, data.indicator_id, column_values(indicators, data.changes))


@handles(contracts.IndicatorBaselineSetV1)
@handles(contracts.IndicatorBaselineCorrectedV1)
def indicator_baseline_set(session: Session, event: CloudEvent,
                           data: contracts.IndicatorBaselineSetV1 | contracts.IndicatorBaselineCorrectedV1) -> None:
    _change_indicator(session, event, data.indicator_id, {"baseline": data.value, "baseline_period": data.period})


@handles(contracts.IndicatorTargetSetV1)
@handles(contracts.IndicatorTargetCorrectedV1)
def indicator_target_set(session: Session, event: CloudEvent,
                         data: contracts.IndicatorTargetSetV1 | contracts.IndicatorTargetCorrectedV1) -> None:
    _set_period_values(session, event, data.indicator_id, data.period, {"target": data.value})


@handles(contracts.IndicatorActualRecordedV1)
@handles(contracts.IndicatorActualCorrectedV1)
def indicator_actual_recorded(
    session: Session, event: CloudEvent,
    data: contracts.IndicatorActualRecordedV1 | contracts.IndicatorActualCorrectedV1,
) -> None:
    actual = data.actual
    _set_period_values(session, event, data.indicator_id, data.period, {
        "actual": actual.value, "actual_evidence": list(actual.evidence), "actual_comment": actual.comment,
    })


@handles(contracts.IndicatorBandOverriddenV1)
def indicator_band_overridden(session: Session, event: CloudEvent,
                              data: contracts.IndicatorBandOverriddenV1) -> None:
    override = data.override
    _set_period_values(session, event, data.indicator_id, override.period or "",
                       {"band_override": override.band, "band_override_reason": override.reason})


@handles(contracts.IndicatorBandOverrideWithdrawnV1)
def indicator_band_override_withdrawn(session: Session, event: CloudEvent,
                                      data: contracts.IndicatorBandOverrideWithdrawnV1) -> None:
    _set_period_values(session, event, data.indicator_id, data.period,
                       {"band_override": None, "band_override_reason": None})
