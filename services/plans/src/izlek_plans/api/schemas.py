"""Request bodies of the plans API. Unknown fields are refused, so a typo never goes unnoticed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

Code = Field(min_length=1, max_length=64)
Text = Field(min_length=1, max_length=4000)


def _not_a_boolean(value: Any) -> Any:
    # Pydantic's lax mode would read JSON true and false as the numbers 1 and 0.
    if isinstance(value, bool):
        raise PydanticCustomError("number_type", "Input should be a number, not true or false")
    return value


Whole = Annotated[int, BeforeValidator(_not_a_boolean)]
Number = Annotated[Decimal | int, BeforeValidator(_not_a_boolean)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def given(self, *exclude: str) -> dict[str, Any]:
        """The fields the client actually sent, minus the envelope fields."""
        skipped = {"valid_at", "reason", "expected_version", "kind", *exclude}
        return {name: getattr(self, name) for name in self.model_fields_set if name not in skipped}


class Stamped(Body):
    """Fields every write may carry: when it took effect, why, and the version it was based on."""

    valid_at: date | datetime | None = Field(
        None, description="When the change took effect in the world (default: when it is recorded). "
        "A date means the start of that day, UTC.")
    reason: str | None = Field(None, max_length=2000, description="Why; required for corrections and drops.")
    expected_version: Whole | None = Field(
        None, ge=1, description="The version you read (or send If-Match); 409 if the entity has moved on.")


class ChangeOrCorrection(Stamped):
    kind: Literal["change", "correction"] = Field(
        "change", description="'correction' fixes a recording mistake (needs a reason); 'change' is a real change.")


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
