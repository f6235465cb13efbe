"""Indicator bands: each indicator's target, actual, achievement and band per period, with overrides beside."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, select

from izlek_common.domain.bands import Band, Direction
from izlek_gateway.dashboards.achievement import Assessment, BandOverride, assess
from izlek_gateway.read_models.tables import indicator_values, indicators


@dataclass(frozen=True)
class IndicatorPeriod:
    """One period of an indicator: its target, actual, achievement (exact percent) and computed band, and the
    band set by hand beside it. ``note`` says why a period cannot be measured."""

    period: str
    target: Decimal | None
    actual: Decimal | None
    actual_comment: str | None
    actual_evidence: tuple[str, ...]
    assessment: Assessment
    override: BandOverride | None

    @property
    def achievement_percent(self) -> Decimal | None:
        return self.assessment.achievement_percent

    @property
    def band(self) -> Band | None:
        return self.assessment.band

    @property
    def note(self) -> str | None:
        return self.assessment.note


@dataclass(frozen=True)
class IndicatorBands:
    """An indicator of a plan with its periods in order (its trend)."""

    id: str
    plan_id: str
    code: str
    name: str
    unit: str
    direction: str
    baseline: Decimal | None
    baseline_period: str | None
    description: str | None
    criterion_id: str | None
    version: int
    recorded_at: datetime
    valid_at: datetime
    periods: tuple[IndicatorPeriod, ...]

    @property
    def latest(self) -> IndicatorPeriod | None:
        """The last period that can be measured (it has a target and an actual)."""
        measured = [p for p in self.periods if p.band is not None]
        return measured[-1] if measured else None


def indicator_bands(connection: Connection, plan_id: str) -> list[IndicatorBands]:
    """Every indicator of the plan, by code, with the bands of each period that has a target, an actual or an
    override."""
    rows = connection.execute(select(indicators).where(indicators.c.plan_id == plan_id)
                              .order_by(indicators.c.code)).all()
    values: defaultdict[str, list[Row[Any]]] = defaultdict(list)
    if rows:
        for value in connection.execute(
            select(indicator_values).where(indicator_values.c.indicator_id.in_([r.id for r in rows]))
            .order_by(indicator_values.c.indicator_id, indicator_values.c.period)
        ):
            values[value.indicator_id].append(value)
    result = []
    for row in rows:
        direction = Direction(row.direction)
        periods = tuple(
            IndicatorPeriod(
                period=value.period, target=value.target, actual=value.actual,
                actual_comment=value.actual_comment, actual_evidence=tuple(value.actual_evidence or ()),
                assessment=assess(direction=direction, target=value.target, actual=value.actual,
                                  baseline=row.baseline),
                override=None if value.band_override is None else BandOverride(
                    band=value.band_override, reason=value.band_override_reason or "", period=value.period),
            )
            for value in values[row.id]
            if value.target is not None or value.actual is not None or value.band_override is not None
        )
        result.append(IndicatorBands(
            id=row.id, plan_id=row.plan_id, code=row.code, name=row.name, unit=row.unit, direction=row.direction,
            baseline=row.baseline, baseline_period=row.baseline_period, description=row.description,
            criterion_id=row.criterion_id, version=row.version, recorded_at=row.recorded_at,
            valid_at=row.valid_at, periods=periods,
        ))
    return result
