"""Success criteria: each criterion's measure evaluated over the read models, with its band and trend.

A count of protocols is their coverage (`protocols`); a criterion with indicators takes their latest measured
period (the weakest one when there are several) and shows every period as its trend; a composite criterion is
as far as its weakest part. What cannot be measured (no target, a yes/no criterion without data) says so in a
note, with no value or band made up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from izlek_common.domain.bands import Band, Direction
from izlek_common.domain.counts import PROTOCOL, Counted
from izlek_gateway.dashboards.achievement import (
    NO_TARGET,
    BandOverride,
    assess,
    band_of_percent,
    decimal_or_none,
)
from izlek_gateway.dashboards.indicators import IndicatorBands, IndicatorPeriod
from izlek_gateway.dashboards.protocols import ProtocolBook, ProtocolCoverage, protocol_coverage
from izlek_gateway.read_models.tables import criteria

MEASURED = "measured"
NOT_MEASURABLE = "not_measurable"


@dataclass(frozen=True)
class TrendPoint:
    """One period of an indicator that measures the criterion."""

    indicator_code: str
    period: str
    target: Decimal | None
    value: Decimal | None
    achievement_percent: Decimal | None
    band: Band | None
    override: BandOverride | None
    note: str | None


@dataclass(frozen=True)
class Measurement:
    """A measure evaluated: the current value against the target, the achievement (exact percent) and the
    computed band. ``status`` is ``measured``, or ``not_measurable`` with ``note`` saying why."""

    kind: str
    unit: str | None
    value: Decimal | None
    target: Decimal | None
    achievement_percent: Decimal | None
    band: Band | None
    note: str | None = None
    period: str | None = None
    coverage: ProtocolCoverage | None = None
    trend: tuple[TrendPoint, ...] = ()

    @property
    def status(self) -> str:
        return MEASURED if self.band is not None else NOT_MEASURABLE


@dataclass(frozen=True)
class PartProgress:
    """One condition of a composite criterion and its own measurement."""

    text: str
    measurement: Measurement


@dataclass(frozen=True)
class CriterionProgress:
    """A success criterion on the dashboard: its measurement, parts, and the band set by hand beside the computed
    one (``override`` for the whole criterion, ``period_overrides`` for single periods)."""

    id: str
    code: str
    text: str
    group: str | None
    goal_code: str | None
    priority_code: str | None
    measurement: Measurement
    parts: tuple[PartProgress, ...]
    override: BandOverride | None
    period_overrides: tuple[BandOverride, ...]
    version: int
    recorded_at: datetime
    valid_at: datetime


def criteria_progress(connection: Connection, plan_id: str, indicators: Sequence[IndicatorBands],
                      book: ProtocolBook) -> list[CriterionProgress]:
    """Every success criterion of the plan, by group and code."""
    rows = connection.execute(select(criteria).where(criteria.c.plan_id == plan_id)
                              .order_by(criteria.c.group_code, criteria.c.code)).all()
    result = []
    for row in rows:
        parts = tuple(PartProgress(text=part["text"], measurement=measure(part["measure"], indicators, book))
                      for part in row.parts or ())
        overrides = row.band_overrides or {}
        result.append(CriterionProgress(
            id=row.id, code=row.code, text=row.text, group=row.group_code, goal_code=row.goal_code,
            priority_code=row.priority_code,
            measurement=measure(row.measure, indicators, book, criterion_id=row.id, parts=parts),
            parts=parts,
            override=_override(overrides[""], None) if "" in overrides else None,
            period_overrides=tuple(_override(value, period) for period, value in sorted(overrides.items()) if period),
            version=row.version, recorded_at=row.recorded_at, valid_at=row.valid_at,
        ))
    return result


def measure(data: Mapping[str, Any], indicators: Sequence[IndicatorBands], book: ProtocolBook, *,
            criterion_id: str | None = None, parts: Sequence[PartProgress] = ()) -> Measurement:
    """Evaluate one measure (as the read models keep it) over the read models."""
    kind = str(data.get("kind"))
    unit = data.get("unit")
    target = decimal_or_none(data.get("target"))
    codes = set(data.get("indicator_codes") or ())
    linked = [i for i in indicators if i.code in codes or (criterion_id is not None and i.criterion_id == criterion_id)]
    trend = tuple(_trend_point(i, period) for i in linked for period in i.periods)
    counted = Counted.of(data.get("counts"))
    if kind == "count" and counted is not None and counted.entity == PROTOCOL:
        coverage = protocol_coverage(book, counted, target, data.get("breakdown") or {})
        value = Decimal(coverage.covered)
        assessment = assess(direction=Direction.INCREASE, target=target, actual=value)
        return Measurement(kind, unit, value, target, assessment.achievement_percent, assessment.band,
                           assessment.note, coverage=coverage, trend=trend)
    if kind == "composite":
        return _composite(parts, unit, trend)
    if linked:
        return _from_indicators(kind, unit, linked, trend)
    return Measurement(kind, unit, None, target, None, None, _why_not_measurable(kind, target, counted, codes))


def _why_not_measurable(kind: str, target: Decimal | None, counted: Counted | None, codes: set[str]) -> str:
    if kind == "boolean":
        return "not measurable: no data records whether it is met"
    if kind == "indicators":
        return f"not measurable: none of its indicators ({', '.join(sorted(codes))}) is defined"
    if target is None:
        return NO_TARGET
    if kind == "count" and counted is not None:
        return f"not measurable: the dashboards count protocols, not {counted.entity}"
    return "not measurable: no indicator records its value"


def _from_indicators(kind: str, unit: str | None, linked: Sequence[IndicatorBands],
                     trend: tuple[TrendPoint, ...]) -> Measurement:
    latest = [(indicator, indicator.latest) for indicator in linked]
    missing = [indicator.code for indicator, period in latest if period is None]
    if len(linked) == 1:
        indicator, period = latest[0]
        if period is None:
            last = indicator.periods[-1] if indicator.periods else None
            note = last.note if last is not None else None
            return Measurement(kind, unit or indicator.unit, None if last is None else last.actual,
                               None if last is None else last.target, None, None,
                               note or f"not measurable: {indicator.code} has no values yet",
                               period=None if last is None else last.period, trend=trend)
        return Measurement(kind, unit or indicator.unit, period.actual, period.target, period.achievement_percent,
                           period.band, f"{indicator.code}, {period.period}", period=period.period, trend=trend)
    if missing:
        return Measurement(kind, unit, None, None, None, None,
                           f"not measurable: {', '.join(missing)} has no period with a target and an actual",
                           trend=trend)
    indicator, weakest = min(((i, p) for i, p in latest if p is not None),
                             key=lambda pair: pair[1].achievement_percent or Decimal(0))
    return Measurement(kind, unit, None, None, weakest.achievement_percent, weakest.band,
                       f"the weakest of {len(linked)} indicators: {indicator.code}, {weakest.period}",
                       period=weakest.period, trend=trend)


def _composite(parts: Sequence[PartProgress], unit: str | None, trend: tuple[TrendPoint, ...]) -> Measurement:
    if not parts:
        return Measurement("composite", unit, None, None, None, None, "not measurable: it has no parts", trend=trend)
    unmeasured = [str(n) for n, part in enumerate(parts, start=1) if part.measurement.achievement_percent is None]
    if unmeasured:
        which = f"part {unmeasured[0]}" if len(unmeasured) == 1 else f"parts {', '.join(unmeasured)}"
        return Measurement("composite", unit, None, None, None, None,
                           f"not measurable: {which} of {len(parts)} cannot be measured", trend=trend)
    weakest = min(part.measurement.achievement_percent or Decimal(0) for part in parts)
    return Measurement("composite", unit, None, None, weakest, band_of_percent(weakest),
                       f"the weakest of {len(parts)} parts", trend=trend)


def _trend_point(indicator: IndicatorBands, period: IndicatorPeriod) -> TrendPoint:
    assessment = period.assessment
    return TrendPoint(indicator_code=indicator.code, period=period.period, target=period.target,
                      value=period.actual, achievement_percent=assessment.achievement_percent,
                      band=assessment.band, override=period.override, note=assessment.note)


def _override(value: Mapping[str, Any], period: str | None) -> BandOverride:
    return BandOverride(band=value["band"], reason=value.get("reason") or "", period=period)
