"""The plans domain's value objects, by the names they are stored under (never rename one)."""

from __future__ import annotations

from izlek_plans.domain.commitment import Evidence
from izlek_plans.domain.criterion import BandOverride, CriterionPart, Measure
from izlek_plans.domain.indicator import Actual
from izlek_plans.domain.plan import ActorGroup, Goal, Priority, Report, Target

PLANS_VALUE_TYPES: dict[str, type] = {
    "plans_goal": Goal,
    "plans_target": Target,
    "plans_actor_group": ActorGroup,
    "plans_priority": Priority,
    "plans_evidence": Evidence,
    "plans_measure": Measure,
    "plans_criterion_part": CriterionPart,
    "plans_band_override": BandOverride,
    "plans_actual": Actual,
    "plans_report": Report,
}
