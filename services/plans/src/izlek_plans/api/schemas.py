"""Request bodies of the plans API. Unknown fields are refused, so a typo never goes unnoticed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from izlek_common.request_bodies import Body, ChangeOrCorrection, Stamped, Whole, not_a_boolean

Code = Field(min_length=1, max_length=64)
Text = Field(min_length=1, max_length=4000)


Number = Annotated[Decimal | int, BeforeValidator(not_a_boolean)]


class PlanStart(Stamped):
    code: str = Code
    title: str = Text
    region: str = Text
    title_en: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    owner_organisation_id: str | None = None
    description: str | None = Field(None, max_length=20000)


class PlanChange(ChangeOrCorrection):
    title: str | None = None
    title_en: str | None = None
    region: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    owner_organisation_id: str | None = None
    description: str | None = Field(None, max_length=20000)


class GoalAdd(Stamped):
    code: str = Code
    title: str = Text
    number: Whole | None = None
    title_en: str | None = None


class GoalChange(ChangeOrCorrection):
    title: str | None = None
    number: Whole | None = None
    title_en: str | None = None


class TargetAdd(Stamped):
    goal_code: str = Code
    code: str = Code
    title: str = Text
    number: str | None = None
    title_en: str | None = None


class TargetChange(ChangeOrCorrection):
    title: str | None = None
    number: str | None = None
    title_en: str | None = None


class ActorGroupDefine(Stamped):
    code: str = Code
    name: str = Text
    name_en: str | None = None
    organisation_ids: list[str] = Field(default_factory=list, max_length=500)


class PriorityDefine(Stamped):
    code: str = Code
    text: str = Text
    number: Whole | None = None
    text_en: str | None = None
    goal_code: str | None = None


class ReportPublish(Stamped):
    """``valid_at`` is the report's date: its dashboard shows what was true then (default: now)."""

    code: str = Code
    title: str = Text
    note: str | None = None


class CommitmentRegister(Stamped):
    target_code: str = Code
    code: str = Code
    title: str = Text
    actor_group: str | None = None
    organisation_id: str | None = None
    due_date: date | None = None
    position: Whole | None = None


class CommitmentChange(ChangeOrCorrection):
    """A change of title, due date or position; a correction may also fix the status, assignment or target."""

    title: str | None = None
    due_date: date | None = None
    position: Whole | None = None
    status: str | None = None
    actor_group: str | None = None
    organisation_id: str | None = None
    target_code: str | None = None


class StatusChange(Stamped):
    status: Literal["planned", "in_progress", "done", "dropped"]


class Assignment(Stamped):
    actor_group: str | None = None
    organisation_id: str | None = None


class EvidenceAdd(Stamped):
    reference: str = Field(min_length=1, max_length=2000)
    description: str | None = Field(None, max_length=4000)


class MeasureBody(Body):
    kind: Literal["count", "percent", "periodic", "boolean", "indicators", "composite"]
    target: Number | None = None
    unit: str | None = None
    note: str | None = None
    breakdown: dict[str, Whole] = Field(default_factory=dict)
    counts: dict[str, str] = Field(default_factory=dict)
    indicator_codes: list[str] = Field(default_factory=list)


class PartBody(Body):
    text: str = Text
    measure: MeasureBody


class CriterionDefine(Stamped):
    code: str = Code
    text: str = Text
    measure: MeasureBody
    parts: list[PartBody] = Field(default_factory=list)
    goal_code: str | None = None
    priority_code: str | None = None
    group: str | None = None


class CriterionChange(ChangeOrCorrection):
    text: str | None = None
    measure: MeasureBody | None = None
    parts: list[PartBody] | None = None


class BandOverrideBody(Stamped):
    band: Literal["target_met", "successful", "good", "in_progress", "needs_improvement"] | None = Field(
        description="The band to show; null withdraws the override.")
    period: str | None = None


class IndicatorDefine(Stamped):
    code: str = Code
    name: str = Text
    unit: str = Field(min_length=1, max_length=64)
    direction: Literal["increase", "decrease"]
    baseline: Number | None = None
    baseline_period: str | None = None
    description: str | None = None
    criterion_id: UUID | None = None


class IndicatorChange(Stamped):
    name: str | None = None
    unit: str | None = None
    description: str | None = None
    criterion_id: UUID | None = None


class BaselineSet(ChangeOrCorrection):
    value: Number
    period: str | None = None


class TargetValueSet(ChangeOrCorrection):
    period: str
    value: Number


class ActualRecord(ChangeOrCorrection):
    period: str
    value: Number
    evidence: list[str] = Field(default_factory=list, max_length=100)
    comment: str | None = Field(None, max_length=4000)


class PeriodBandOverride(Stamped):
    band: Literal["target_met", "successful", "good", "in_progress", "needs_improvement"] | None


class EntityResponse(BaseModel):
    """An entity's current (or as-of) state: its fields, plus id, version and times."""

    model_config = ConfigDict(extra="allow")
    id: UUID
    version: int
    created_on: datetime
    modified_on: datetime
