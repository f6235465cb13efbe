"""Indicator (Gösterge): a unit, a direction, a baseline, and targets and actuals per period."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from izlek_common.domain import values
from izlek_common.domain.base import TrackedAggregate
from izlek_common.domain.stamp import Stamp
from izlek_plans.domain.bands import Band, Direction, achievement, band_for
from izlek_plans.domain.criterion import BandOverride, _band
from izlek_plans.domain.errors import InvalidValue
from izlek_plans.domain.plan import PLAN_NAMESPACE

DETAIL_FIELDS = ("name", "unit", "description", "criterion_id")


@dataclass(frozen=True)
class Actual:
    """A reported value for a period, with its evidence and a comment."""

    value: Decimal
    evidence: tuple[str, ...] = ()
    comment: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "evidence", tuple(self.evidence))


@dataclass(frozen=True)
class PeriodBand:
    """What the dashboard shows for one period: achievement, computed band, and any override beside it."""

    period: str
    target: Decimal | None
    actual: Decimal | None
    achievement: Decimal | None
    computed: Band | None
    override: BandOverride | None


class Indicator(TrackedAggregate):
    """A performance indicator (Performans Göstergesi) of a plan, optionally measuring a criterion."""

    VIEW_FIELDS = ("plan_id", "code", "name", "unit", "direction", "baseline", "baseline_period", "description",
                   "criterion_id", "targets", "actuals", "band_overrides")

    @staticmethod
    def create_id(plan_id: UUID, code: str) -> UUID:
        return uuid5(PLAN_NAMESPACE, f"indicator:{plan_id}:{code}")

    @classmethod
    def define(
        cls,
        *,
        plan_id: UUID,
        code: str,
        name: str,
        unit: str,
        direction: str,
        stamp: Stamp,
        baseline: Any = None,
        baseline_period: str | None = None,
        description: str | None = None,
        criterion_id: UUID | None = None,
    ) -> Indicator:
        """Define an indicator. A decreasing indicator needs a baseline for its achievement to be known."""
        try:
            checked_direction = Direction(direction).value
        except ValueError:
            raise InvalidValue("direction must be 'increase' or 'decrease'") from None
        return cls(
            plan_id=plan_id, code=values.code(code, "indicator code"), name=values.text(name, "indicator name"),
            unit=values.text(unit, "unit", max_length=64), direction=checked_direction,
            baseline=None if baseline is None else values.decimal(baseline, "baseline"),
            baseline_period=None if baseline_period is None else values.period(baseline_period),
            description=values.optional_text(description, "description"), criterion_id=criterion_id, stamp=stamp,
        )

    @event("Defined")
    def __init__(
        self,
        plan_id: UUID,
        code: str,
        name: str,
        unit: str,
        direction: str,
        baseline: Decimal | None,
        baseline_period: str | None,
        description: str | None,
        criterion_id: UUID | None,
        stamp: Stamp,
    ) -> None:
        self.plan_id = plan_id
        self.code = code
        self.name = name
        self.unit = unit
        self.direction = direction
        self.baseline = baseline
        self.baseline_period = baseline_period
        self.description = description
        self.criterion_id = criterion_id
        self.targets: dict[str, Decimal] = {}
        self.actuals: dict[str, Actual] = {}
        self.band_overrides: dict[str, BandOverride] = {}

    def change_details(self, changes: dict[str, Any], stamp: Stamp) -> bool:
        """Rename, change the unit, description or criterion; False when nothing differs."""
        unknown = set(changes) - set(DETAIL_FIELDS)
        if unknown:
            raise InvalidValue(f"indicators have no changeable field(s) {', '.join(sorted(unknown))}")
        checked = dict(changes)
        if "name" in checked:
            checked["name"] = values.text(checked["name"], "indicator name")
        if "unit" in checked:
            checked["unit"] = values.text(checked["unit"], "unit", max_length=64)
        checked = self._only_changed(checked)
        if not checked:
            return False
        self._details_changed(changes=checked, stamp=stamp)
        return True

    @event("DetailsChanged")
    def _details_changed(self, changes: dict[str, Any], stamp: Stamp) -> None:
        for name, value in changes.items():
            setattr(self, name, value)

    def set_baseline(self, value: Any, period: str | None, stamp: Stamp, *, correction: bool = False) -> bool:
        """Set the baseline (Başlangıç değeri), or correct a mistaken one; False when the same."""
        checked = values.decimal(value, "baseline")
        checked_period = None if period is None else values.period(period)
        if checked == self.baseline and checked_period == self.baseline_period:
            return False
        if correction:
            stamp.requiring_reason("correct a baseline")
            self._baseline_corrected(value=checked, period=checked_period, stamp=stamp)
        else:
            self._baseline_set(value=checked, period=checked_period, stamp=stamp)
        return True

    @event("BaselineSet")
    def _baseline_set(self, value: Decimal, period: str | None, stamp: Stamp) -> None:
        self.baseline = value
        self.baseline_period = period

    @event("BaselineCorrected")
    def _baseline_corrected(self, value: Decimal, period: str | None, stamp: Stamp) -> None:
        self.baseline = value
        self.baseline_period = period

    def set_target(self, period: str, value: Any, stamp: Stamp, *, correction: bool = False) -> bool:
        """Set the target value (Hedef) for a period, or correct it; False when the same."""
        checked_period = values.period(period)
        checked = values.decimal(value, "target value")
        if self.targets.get(checked_period) == checked:
            return False
        if correction:
            stamp.requiring_reason("correct a target value")
            self._target_corrected(period=checked_period, value=checked, stamp=stamp)
        else:
            self._target_set(period=checked_period, value=checked, stamp=stamp)
        return True

    @event("TargetSet")
    def _target_set(self, period: str, value: Decimal, stamp: Stamp) -> None:
        self.targets = {**self.targets, period: value}

    @event("TargetCorrected")
    def _target_corrected(self, period: str, value: Decimal, stamp: Stamp) -> None:
        self.targets = {**self.targets, period: value}

    def record_actual(self, period: str, value: Any, stamp: Stamp, *, evidence: tuple[str, ...] = (),
                      comment: str | None = None, correction: bool = False) -> bool:
        """Report the actual value (Gerçekleşen) of a period, or correct a mistaken report."""
        actual = Actual(
            value=values.decimal(value, "actual value"),
            evidence=tuple(values.text(e, "evidence reference", max_length=2000) for e in evidence),
            comment=values.optional_text(comment, "comment"),
        )
        checked_period = values.period(period)
        if self.actuals.get(checked_period) == actual:
            return False
        if correction:
            stamp.requiring_reason("correct an actual value")
            self._actual_corrected(period=checked_period, actual=actual, stamp=stamp)
        else:
            self._actual_recorded(period=checked_period, actual=actual, stamp=stamp)
        return True

    @event("ActualRecorded")
    def _actual_recorded(self, period: str, actual: Actual, stamp: Stamp) -> None:
        self.actuals = {**self.actuals, period: actual}

    @event("ActualCorrected")
    def _actual_corrected(self, period: str, actual: Actual, stamp: Stamp) -> None:
        self.actuals = {**self.actuals, period: actual}

    def override_band(self, period: str, band: str, stamp: Stamp) -> None:
        """Set a period's band by hand, with a reason; the computed band stays visible beside it."""
        stamp.requiring_reason("override a band")
        override = BandOverride(band=_band(band), reason=stamp.reason or "", period=values.period(period))
        self._band_overridden(override=override, stamp=stamp)

    @event("BandOverridden")
    def _band_overridden(self, override: BandOverride, stamp: Stamp) -> None:
        self.band_overrides = {**self.band_overrides, override.period or "": override}

    def withdraw_band_override(self, period: str, stamp: Stamp) -> bool:
        """Go back to the computed band of a period; False when there was no override."""
        if period not in self.band_overrides:
            return False
        self._band_override_withdrawn(period=period, stamp=stamp)
        return True

    @event("BandOverrideWithdrawn")
    def _band_override_withdrawn(self, period: str, stamp: Stamp) -> None:
        self.band_overrides = {k: v for k, v in self.band_overrides.items() if k != period}

    def bands(self) -> list[PeriodBand]:
        """Achievement and band of every period that has a target or an actual, in period order."""
        result = []
        for period in sorted(set(self.targets) | set(self.actuals)):
            target = self.targets.get(period)
            actual = self.actuals[period].value if period in self.actuals else None
            ratio = None
            if target is not None and actual is not None:
                ratio = achievement(direction=Direction(self.direction), target=target, actual=actual,
                                    baseline=self.baseline)
            result.append(PeriodBand(
                period=period, target=target, actual=actual, achievement=ratio,
                computed=None if ratio is None else band_for(ratio), override=self.band_overrides.get(period),
            ))
        return result

    def view(self) -> dict[str, Any]:
        result = super().view()
        result["targets"] = dict(sorted(self.targets.items()))
        result["actuals"] = {
            p: {"value": a.value, "evidence": list(a.evidence), "comment": a.comment}
            for p, a in sorted(self.actuals.items())
        }
        result["band_overrides"] = [asdict(o) for o in self.band_overrides.values()]
        result["bands"] = [
            {"period": b.period, "target": b.target, "actual": b.actual, "achievement": b.achievement,
             "computed_band": None if b.computed is None else b.computed.value,
             "computed_band_tr": None if b.computed is None else b.computed.turkish_label,
             "override": None if b.override is None else asdict(b.override)}
            for b in self.bands()
        ]
        return result
