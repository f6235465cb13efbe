"""SuccessCriterion (Başarı Kriteri) and the measure that says when it is met."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from izlek_common.domain import values
from izlek_common.domain.base import TrackedAggregate
from izlek_common.domain.stamp import Stamp
from izlek_plans.domain.bands import Band
from izlek_plans.domain.errors import InvalidValue
from izlek_plans.domain.plan import PLAN_NAMESPACE


class MeasureKind(StrEnum):
    """How a criterion is measured.

    count: how many entities are in a state (e.g. 6 signed protocols); percent: a share; periodic: a check
    repeated every period; boolean: done or not; indicators: one or more indicators; composite: all of the
    criterion's parts must be met.
    """

    COUNT = "count"
    PERCENT = "percent"
    PERIODIC = "periodic"
    BOOLEAN = "boolean"
    INDICATORS = "indicators"
    COMPOSITE = "composite"


@dataclass(frozen=True)
class Measure:
    kind: str
    target: Decimal | None = None
    unit: str | None = None
    note: str | None = None
    breakdown: dict[str, int] = field(default_factory=dict)
    """For counts: how the target splits, e.g. {"municipality_metropolitan": 1, "municipality_district": 5}."""
    counts: dict[str, str] = field(default_factory=dict)
    """For counts: what is counted, e.g. {"entity": "protocol", "kind": "standard_protocol",
    "statuses": "signed,in_force,renewed"} (read with ``izlek_common.domain.counts.Counted``)."""
    indicator_codes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "indicator_codes", tuple(self.indicator_codes))

    @classmethod
    def of(cls, data: dict[str, Any]) -> Measure:
        """Validate a measure given as plain data."""
        data = dict(data)
        unknown = set(data) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise InvalidValue(f"a measure has no field(s) {', '.join(sorted(unknown))}")
        try:
            kind = MeasureKind(data.get("kind"))
        except ValueError:
            kinds = ", ".join(k.value for k in MeasureKind)
            raise InvalidValue(f"measure kind must be one of {kinds}") from None
        target = None if data.get("target") is None else values.decimal(data["target"], "measure target")
        if target is not None and target < 0:
            raise InvalidValue("a measure target cannot be negative")
        if kind is MeasureKind.PERCENT and target is not None and target > 100:
            raise InvalidValue("a percent target cannot exceed 100")
        breakdown = data.get("breakdown") or {}
        if not isinstance(breakdown, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in breakdown.values()
        ):
            raise InvalidValue("a measure breakdown maps names to non-negative whole numbers")
        if breakdown and target is not None and sum(breakdown.values()) != target:
            raise InvalidValue(f"the breakdown adds up to {sum(breakdown.values())}, not the target {target}")
        counts = data.get("counts") or {}
        if not isinstance(counts, dict) or not all(isinstance(v, str) for v in counts.values()):
            raise InvalidValue("what a count measure counts is given as names to texts")
        indicator_codes = tuple(values.code(c, "indicator code") for c in data.get("indicator_codes") or ())
        if kind is MeasureKind.INDICATORS and not indicator_codes:
            raise InvalidValue("a measure of kind 'indicators' names at least one indicator")
        return cls(
            kind=kind.value, target=target, unit=values.optional_text(data.get("unit"), "unit"),
            note=values.optional_text(data.get("note"), "note"), breakdown=dict(breakdown), counts=dict(counts),
            indicator_codes=indicator_codes,
        )


@dataclass(frozen=True)
class CriterionPart:
    """One condition of a composite criterion, with its own measure."""

    text: str
    measure: Measure


@dataclass(frozen=True)
class BandOverride:
    """A band set by hand, with its reason; shown beside the computed band, never instead of it."""

    band: str
    reason: str
    period: str | None = None


class SuccessCriterion(TrackedAggregate):
    """A success criterion of a plan, e.g. "standard protocol with İBB and 5 district municipalities"."""

    VIEW_FIELDS = ("plan_id", "code", "text", "goal_code", "priority_code", "group", "measure", "parts",
                   "band_overrides")

    @staticmethod
    def create_id(plan_id: UUID, code: str) -> UUID:
        return uuid5(PLAN_NAMESPACE, f"criterion:{plan_id}:{code}")

    @classmethod
    def define(
        cls,
        *,
        plan_id: UUID,
        code: str,
        text: str,
        measure: dict[str, Any],
        stamp: Stamp,
        goal_code: str | None = None,
        priority_code: str | None = None,
        group: str | None = None,
        parts: list[dict[str, Any]] | None = None,
    ) -> SuccessCriterion:
        """Define a criterion with its measure; a composite measure needs parts."""
        checked_measure = Measure.of(measure)
        checked_parts = tuple(_part(p) for p in parts or ())
        _check_parts(checked_measure, checked_parts)
        return cls(
            plan_id=plan_id, code=values.code(code, "criterion code"), text=values.text(text, "criterion text"),
            goal_code=goal_code, priority_code=priority_code, group=group, measure=checked_measure,
            parts=checked_parts, stamp=stamp,
        )

    @event("Defined")
    def __init__(
        self,
        plan_id: UUID,
        code: str,
        text: str,
        goal_code: str | None,
        priority_code: str | None,
        group: str | None,
        measure: Measure,
        parts: tuple[CriterionPart, ...],
        stamp: Stamp,
    ) -> None:
        self.plan_id = plan_id
        self.code = code
        self.text = text
        self.goal_code = goal_code
        self.priority_code = priority_code
        self.group = group
        self.measure = measure
        self.parts = tuple(parts)
        self.band_overrides: dict[str, BandOverride] = {}

    def change_text(self, text: str, stamp: Stamp, *, correction: bool = False) -> bool:
        """Reword the criterion (or correct its wording); False when it is the same."""
        text = values.text(text, "criterion text")
        if text == self.text:
            return False
        if correction:
            stamp.requiring_reason("correct a criterion")
            self._text_corrected(text=text, stamp=stamp)
        else:
            self._text_changed(text=text, stamp=stamp)
        return True

    @event("TextChanged")
    def _text_changed(self, text: str, stamp: Stamp) -> None:
        self.text = text

    @event("TextCorrected")
    def _text_corrected(self, text: str, stamp: Stamp) -> None:
        self.text = text

    def change_measure(self, measure: dict[str, Any], stamp: Stamp, *, parts: list[dict[str, Any]] | None = None,
                       correction: bool = False) -> bool:
        """Change how the criterion is measured (or correct a mistaken measure); False when the same."""
        checked = Measure.of(measure)
        checked_parts = self.parts if parts is None else tuple(_part(p) for p in parts)
        _check_parts(checked, checked_parts)
        if checked == self.measure and checked_parts == self.parts:
            return False
        if correction:
            stamp.requiring_reason("correct a measure")
            self._measure_corrected(measure=checked, parts=checked_parts, stamp=stamp)
        else:
            self._measure_changed(measure=checked, parts=checked_parts, stamp=stamp)
        return True

    @event("MeasureChanged")
    def _measure_changed(self, measure: Measure, parts: tuple[CriterionPart, ...], stamp: Stamp) -> None:
        self.measure = measure
        self.parts = tuple(parts)

    @event("MeasureCorrected")
    def _measure_corrected(self, measure: Measure, parts: tuple[CriterionPart, ...], stamp: Stamp) -> None:
        self.measure = measure
        self.parts = tuple(parts)

    def override_band(self, band: str, stamp: Stamp, *, period: str | None = None) -> None:
        """Set the band by hand, with a reason; the computed band stays visible beside it."""
        stamp.requiring_reason("override a band")
        override = BandOverride(band=_band(band), reason=stamp.reason or "",
                                period=None if period is None else values.period(period))
        self._band_overridden(override=override, stamp=stamp)

    @event("BandOverridden")
    def _band_overridden(self, override: BandOverride, stamp: Stamp) -> None:
        self.band_overrides = {**self.band_overrides, override.period or "": override}

    def withdraw_band_override(self, stamp: Stamp, *, period: str | None = None) -> bool:
        """Go back to the computed band; False when there was no override."""
        key = period or ""
        if key not in self.band_overrides:
            return False
        self._band_override_withdrawn(period=period, stamp=stamp)
        return True

    @event("BandOverrideWithdrawn")
    def _band_override_withdrawn(self, period: str | None, stamp: Stamp) -> None:
        self.band_overrides = {k: v for k, v in self.band_overrides.items() if k != (period or "")}

    def view(self) -> dict[str, Any]:
        result = super().view()
        result["measure"] = _measure_view(self.measure)
        result["parts"] = [{"text": p.text, "measure": _measure_view(p.measure)} for p in self.parts]
        result["band_overrides"] = [asdict(o) for o in self.band_overrides.values()]
        return result


def _measure_view(measure: Measure) -> dict[str, Any]:
    data = asdict(measure)
    data["indicator_codes"] = list(measure.indicator_codes)
    return data


def _part(data: dict[str, Any]) -> CriterionPart:
    if not isinstance(data, dict):
        raise InvalidValue("each criterion part has a text and a measure")
    return CriterionPart(text=values.text(data.get("text"), "part text"), measure=Measure.of(data.get("measure") or {}))


def _check_parts(measure: Measure, parts: tuple[CriterionPart, ...]) -> None:
    if measure.kind == MeasureKind.COMPOSITE and not parts:
        raise InvalidValue("a composite measure needs at least one part")
    if measure.kind != MeasureKind.COMPOSITE and parts:
        raise InvalidValue("only a composite measure has parts")


def _band(value: str) -> str:
    try:
        return Band(value).value
    except ValueError:
        bands = ", ".join(b.value for b in Band)
        raise InvalidValue(f"'{value}' is not a band; use one of {bands}") from None
