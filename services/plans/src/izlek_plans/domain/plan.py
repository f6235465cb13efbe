"""ActionPlan (Eylem Planı) with its goals (Amaç), targets (Hedef), actor groups and priorities."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from izlek_common.domain import values
from izlek_common.domain.base import TrackedAggregate
from izlek_common.domain.stamp import Stamp
from izlek_plans.domain.errors import DuplicateCode, InvalidValue, UnknownPart

PLAN_NAMESPACE = uuid5(NAMESPACE_URL, "https://izlek.dev/plans")


@dataclass(frozen=True)
class Goal:
    code: str
    number: int | None
    title: str
    title_en: str | None = None


@dataclass(frozen=True)
class Target:
    code: str
    goal_code: str
    number: str | None
    title: str
    title_en: str | None = None


@dataclass(frozen=True)
class ActorGroup:
    """A group of actors a commitment can be given to, e.g. "Kooperatifler"; may name organisations."""

    code: str
    name: str
    name_en: str | None = None
    organisation_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Stored as a JSON list; a tuple keeps equality (and so idempotent redefinition) exact.
        object.__setattr__(self, "organisation_ids", tuple(self.organisation_ids))


@dataclass(frozen=True)
class Priority:
    code: str
    number: int | None
    text: str
    text_en: str | None = None
    goal_code: str | None = None


@dataclass(frozen=True)
class Report:
    """A report published from the plan: its dashboard as Izlek knew it at publication, valid at the report's
    date (the event's valid time), reproducible later from the events alone."""

    code: str
    title: str
    note: str | None = None


GOAL_FIELDS = ("number", "title", "title_en")
TARGET_FIELDS = ("number", "title", "title_en")
PLAN_FIELDS = (
    "title",
    "title_en",
    "region",
    "period_start",
    "period_end",
    "owner_organisation_id",
    "description",
)


class ActionPlan(TrackedAggregate):
    """A local action plan. Goals, targets, actor groups and priorities live inside it; commitments,
    success criteria and indicators are aggregates of their own, attached to the plan by id."""

    VIEW_FIELDS = (
        "code",
        *PLAN_FIELDS,
        "goals",
        "targets",
        "actor_groups",
        "priorities",
        "commitment_ids",
        "criterion_ids",
        "indicator_ids",
        "reports",
    )

    @staticmethod
    def create_id(code: str) -> UUID:
        return uuid5(PLAN_NAMESPACE, f"plan:{code}")

    @classmethod
    def start(
        cls,
        *,
        code: str,
        title: str,
        region: str,
        stamp: Stamp,
        title_en: str | None = None,
        period_start: date | None = None,
        period_end: date | None = None,
        owner_organisation_id: str | None = None,
        description: str | None = None,
    ) -> ActionPlan:
        """Start a plan; the code is the plan's stable name (e.g. ``izmir-eylem-plani``)."""
        values.date_range(period_start, period_end, "the plan period")
        return cls(
            code=values.code(code, "plan code"),
            title=values.text(title, "title"),
            title_en=values.optional_text(title_en, "English title"),
            region=values.text(region, "region"),
            period_start=period_start,
            period_end=period_end,
            owner_organisation_id=values.optional_text(owner_organisation_id, "owner organisation"),
            description=values.optional_text(description, "description", max_length=20000),
            stamp=stamp,
        )

    @event("Started")
    def __init__(
        self,
        code: str,
        title: str,
        title_en: str | None,
        region: str,
        period_start: date | None,
        period_end: date | None,
        owner_organisation_id: str | None,
        description: str | None,
        stamp: Stamp,
    ) -> None:
        self.code = code
        self.title = title
        self.title_en = title_en
        self.region = region
        self.period_start = period_start
        self.period_end = period_end
        self.owner_organisation_id = owner_organisation_id
        self.description = description
        self.goals: dict[str, Goal] = {}
        self.targets: dict[str, Target] = {}
        self.actor_groups: dict[str, ActorGroup] = {}
        self.priorities: dict[str, Priority] = {}
        self.commitment_ids: list[UUID] = []
        self.criterion_ids: list[UUID] = []
        self.indicator_ids: list[UUID] = []
        self.reports: dict[str, Report] = {}

    # --- the plan's own fields -------------------------------------------------------------------

    def change_details(self, changes: dict[str, Any], stamp: Stamp) -> bool:
        """Record a real-world change of the plan's fields; returns False when nothing differs."""
        changes = self._only_changed(self._checked_plan_fields(changes))
        if not changes:
            return False
        self._details_changed(changes=changes, stamp=stamp)
        return True

    def correct(self, changes: dict[str, Any], stamp: Stamp) -> bool:
        """Fix a recording mistake in the plan's fields (needs a reason); the mistake stays in history."""
        stamp.requiring_reason("correct a plan")
        changes = self._only_changed(self._checked_plan_fields(changes))
        if not changes:
            return False
        self._corrected(changes=changes, stamp=stamp)
        return True

    def _checked_plan_fields(self, changes: dict[str, Any]) -> dict[str, Any]:
        unknown = set(changes) - set(PLAN_FIELDS)
        if unknown:
            raise InvalidValue(f"plans have no field(s) {', '.join(sorted(unknown))}")
        checked = dict(changes)
        if "title" in checked:
            checked["title"] = values.text(checked["title"], "title")
        if "region" in checked:
            checked["region"] = values.text(checked["region"], "region")
        values.date_range(
            checked.get("period_start", self.period_start),
            checked.get("period_end", self.period_end),
            "the plan period",
        )
        return checked

    @event("DetailsChanged")
    def _details_changed(self, changes: dict[str, Any], stamp: Stamp) -> None:
        for name, value in changes.items():
            setattr(self, name, value)

    @event("Corrected")
    def _corrected(self, changes: dict[str, Any], stamp: Stamp) -> None:
        for name, value in changes.items():
            setattr(self, name, value)

    # --- goals and targets ------------------------------------------------------------------------

    def add_goal(
        self, *, code: str, title: str, stamp: Stamp, number: int | None = None, title_en: str | None = None
    ) -> None:
        """Add a goal (Amaç) to the plan."""
        code = values.code(code, "goal code")
        if code in self.goals:
            raise DuplicateCode(f"the plan already has a goal {code}")
        self._goal_added(
            goal=Goal(
                code=code,
                number=number,
                title=values.text(title, "goal title"),
                title_en=values.optional_text(title_en, "English goal title"),
            ),
            stamp=stamp,
        )

    @event("GoalAdded")
    def _goal_added(self, goal: Goal, stamp: Stamp) -> None:
        self.goals = {**self.goals, goal.code: goal}

    def change_goal(
        self, code: str, changes: dict[str, Any], stamp: Stamp, *, correction: bool = False
    ) -> bool:
        """Change (or, with ``correction``, correct) a goal's number or titles."""
        goal = self._goal(code)
        changed = _changed_part_fields(goal, changes, GOAL_FIELDS, "goal")
        if not changed:
            return False
        if correction:
            stamp.requiring_reason("correct a goal")
            self._goal_corrected(code=code, changes=changed, stamp=stamp)
        else:
            self._goal_changed(code=code, changes=changed, stamp=stamp)
        return True

    @event("GoalChanged")
    def _goal_changed(self, code: str, changes: dict[str, Any], stamp: Stamp) -> None:
        self.goals = {**self.goals, code: replace(self.goals[code], **changes)}

    @event("GoalCorrected")
    def _goal_corrected(self, code: str, changes: dict[str, Any], stamp: Stamp) -> None:
        self.goals = {**self.goals, code: replace(self.goals[code], **changes)}

    def add_target(
        self,
        *,
        goal_code: str,
        code: str,
        title: str,
        stamp: Stamp,
        number: str | None = None,
        title_en: str | None = None,
    ) -> None:
        """Add a target (Hedef) under one of the plan's goals."""
        self._goal(goal_code)
        code = values.code(code, "target code")
        if code in self.targets:
            raise DuplicateCode(f"the plan already has a target {code}")
        self._target_added(
            target=Target(
                code=code,
                goal_code=goal_code,
                number=number,
                title=values.text(title, "target title"),
                title_en=values.optional_text(title_en, "English target title"),
            ),
            stamp=stamp,
        )

    @event("TargetAdded")
    def _target_added(self, target: Target, stamp: Stamp) -> None:
        self.targets = {**self.targets, target.code: target}

    def change_target(
        self, code: str, changes: dict[str, Any], stamp: Stamp, *, correction: bool = False
    ) -> bool:
        """Change (or, with ``correction``, correct) a target's number or titles."""
        target = self.target(code)
        changed = _changed_part_fields(target, changes, TARGET_FIELDS, "target")
        if not changed:
            return False
        if correction:
            stamp.requiring_reason("correct a target")
            self._target_corrected(code=code, changes=changed, stamp=stamp)
        else:
            self._target_changed(code=code, changes=changed, stamp=stamp)
        return True

    @event("TargetChanged")
    def _target_changed(self, code: str, changes: dict[str, Any], stamp: Stamp) -> None:
        self.targets = {**self.targets, code: replace(self.targets[code], **changes)}

    @event("TargetCorrected")
    def _target_corrected(self, code: str, changes: dict[str, Any], stamp: Stamp) -> None:
        self.targets = {**self.targets, code: replace(self.targets[code], **changes)}

    def _goal(self, code: str) -> Goal:
        try:
            return self.goals[code]
        except KeyError:
            raise UnknownPart(f"the plan has no goal {code}") from None

    def target(self, code: str) -> Target:
        try:
            return self.targets[code]
        except KeyError:
            raise UnknownPart(f"the plan has no target {code}") from None

    # --- actor groups and priorities --------------------------------------------------------------

    def define_actor_group(
        self,
        *,
        code: str,
        name: str,
        stamp: Stamp,
        name_en: str | None = None,
        organisation_ids: tuple[str, ...] = (),
    ) -> bool:
        """Define or redefine a group of actors (e.g. "Kooperatifler"); False when nothing differs."""
        group = ActorGroup(
            code=values.code(code, "actor group code"),
            name=values.text(name, "actor group name"),
            name_en=values.optional_text(name_en, "English actor group name"),
            organisation_ids=tuple(values.code(o, "organisation id") for o in organisation_ids),
        )
        if self.actor_groups.get(group.code) == group:
            return False
        self._actor_group_defined(group=group, stamp=stamp)
        return True

    @event("ActorGroupDefined")
    def _actor_group_defined(self, group: ActorGroup, stamp: Stamp) -> None:
        self.actor_groups = {**self.actor_groups, group.code: group}

    def actor_group(self, code: str) -> ActorGroup:
        try:
            return self.actor_groups[code]
        except KeyError:
            raise UnknownPart(f"the plan has no actor group {code}") from None

    def define_priority(
        self,
        *,
        code: str,
        text: str,
        stamp: Stamp,
        number: int | None = None,
        text_en: str | None = None,
        goal_code: str | None = None,
    ) -> bool:
        """Define or redefine a priority (Öncelik) of the plan; False when nothing differs."""
        if goal_code is not None:
            self._goal(goal_code)
        priority = Priority(
            code=values.code(code, "priority code"),
            number=number,
            text=values.text(text, "priority text"),
            text_en=values.optional_text(text_en, "English priority text"),
            goal_code=goal_code,
        )
        if self.priorities.get(priority.code) == priority:
            return False
        self._priority_defined(priority=priority, stamp=stamp)
        return True

    @event("PriorityDefined")
    def _priority_defined(self, priority: Priority, stamp: Stamp) -> None:
        self.priorities = {**self.priorities, priority.code: priority}

    # --- reports ---------------------------------------------------------------------------------

    def publish_report(self, *, code: str, title: str, stamp: Stamp, note: str | None = None) -> None:
        """Publish a report of the plan; its code names it for good, so a second report needs a new code."""
        report = Report(code=values.code(code, "report code"), title=values.text(title, "report title"),
                        note=values.optional_text(note, "note", max_length=20000))
        if report.code in self.reports:
            raise DuplicateCode(f"a report {report.code} is published already; a new report needs a new code")
        self._report_published(report=report, stamp=stamp)

    @event("ReportPublished")
    def _report_published(self, report: Report, stamp: Stamp) -> None:
        self.reports = {**self.reports, report.code: report}

    # --- what is attached to the plan -------------------------------------------------------------

    def attach_commitment(self, commitment_id: UUID, code: str, stamp: Stamp) -> None:
        """Attach a new commitment (Faaliyet) to the plan; the plan is the index of its commitments."""
        self._commitment_attached(commitment_id=commitment_id, code=code, stamp=stamp)

    @event("CommitmentAttached")
    def _commitment_attached(self, commitment_id: UUID, code: str, stamp: Stamp) -> None:
        self.commitment_ids = [*self.commitment_ids, commitment_id]

    def attach_criterion(self, criterion_id: UUID, code: str, stamp: Stamp) -> None:
        """Attach a new success criterion to the plan."""
        self._criterion_attached(criterion_id=criterion_id, code=code, stamp=stamp)

    @event("CriterionAttached")
    def _criterion_attached(self, criterion_id: UUID, code: str, stamp: Stamp) -> None:
        self.criterion_ids = [*self.criterion_ids, criterion_id]

    def attach_indicator(self, indicator_id: UUID, code: str, stamp: Stamp) -> None:
        """Attach a new indicator to the plan."""
        self._indicator_attached(indicator_id=indicator_id, code=code, stamp=stamp)

    @event("IndicatorAttached")
    def _indicator_attached(self, indicator_id: UUID, code: str, stamp: Stamp) -> None:
        self.indicator_ids = [*self.indicator_ids, indicator_id]

    def view(self) -> dict[str, Any]:
        result = super().view()
        for part in ("goals", "targets", "actor_groups", "priorities"):
            result[part] = {code: asdict(item) for code, item in result[part].items()}
        return result


def _changed_part_fields(
    part: Any, changes: dict[str, Any], allowed: tuple[str, ...], what: str
) -> dict[str, Any]:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise InvalidValue(f"a {what} has no field(s) {', '.join(sorted(unknown))}")
    if "title" in changes:
        changes = {**changes, "title": values.text(changes["title"], f"{what} title")}
    return {name: value for name, value in changes.items() if getattr(part, name) != value}
