"""The ``Indicator`` type: a performance indicator with its target, actual, achievement and band per period."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from izlek_common.domain.bands import Band
from izlek_gateway import dashboards
from izlek_gateway.graphql.scalars import aware


def figure(value: Decimal | None) -> str | None:
    """An exact decimal as text, never in exponent notation ("200", not "2E+2")."""
    return None if value is None else format(value, "f")


def band_name(band: Band | None) -> str | None:
    return None if band is None else band.value


def band_label(band: Band | None) -> str | None:
    return None if band is None else band.turkish_label


@strawberry.type(description="A band set by hand, with its reason; shown beside the computed band, never instead "
                 "of it.")
class BandOverride:
    band: str = strawberry.field(description="target_met, successful, good, in_progress or needs_improvement")
    label: str | None = strawberry.field(description="The band's Turkish label, e.g. Başarılı.")
    reason: str
    period: str | None = strawberry.field(description="The period it is set for; null: the whole criterion.")

    @classmethod
    def of(cls, override: dashboards.BandOverride) -> BandOverride:
        return cls(band=override.band, label=override.label, reason=override.reason, period=override.period)

    @classmethod
    def of_optional(cls, override: dashboards.BandOverride | None) -> BandOverride | None:
        return None if override is None else cls.of(override)


@strawberry.type(description="One period of an indicator: target, actual, achievement and computed band, with the "
                 "band set by hand beside it.")
class IndicatorPeriod:
    period: str
    target: str | None = strawberry.field(description="Exact decimal, as text.")
    actual: str | None = strawberry.field(description="Exact decimal, as text.")
    actual_comment: str | None
    actual_evidence: list[str]
    achievement_percent: str | None = strawberry.field(
        description="Actual ÷ target, or (baseline − actual) ÷ (baseline − target) for a decreasing indicator, in "
        "percent, exact; null when it cannot be measured (see note).")
    band: str | None = strawberry.field(description="The computed band; null when it cannot be measured.")
    band_label: str | None = strawberry.field(description="The computed band's Turkish label, e.g. Hedef ve Üstü.")
    override: BandOverride | None
    note: str | None = strawberry.field(description="Why the period cannot be measured, e.g. \"not measurable: no "
                                        "target\".")

    @classmethod
    def from_result(cls, period: dashboards.IndicatorPeriod) -> IndicatorPeriod:
        return cls(period=period.period, target=figure(period.target), actual=figure(period.actual),
                   actual_comment=period.actual_comment, actual_evidence=list(period.actual_evidence),
                   achievement_percent=figure(period.achievement_percent), band=band_name(period.band),
                   band_label=band_label(period.band), override=BandOverride.of_optional(period.override),
                   note=period.note)


@strawberry.type(description="A performance indicator (Performans Göstergesi) of a plan and its bands per period.")
class Indicator:
    id: strawberry.ID
    plan_id: strawberry.ID
    code: str
    name: str
    unit: str
    direction: str = strawberry.field(description="increase or decrease")
    baseline: str | None = strawberry.field(description="Exact decimal, as text.")
    baseline_period: str | None
    description: str | None
    criterion_id: strawberry.ID | None
    periods: list[IndicatorPeriod] = strawberry.field(description="Every period with a target, an actual or an "
                                                      "override, in order: the indicator's trend.")
    version: int
    recorded_at: datetime
    valid_at: datetime

    @classmethod
    def from_result(cls, indicator: dashboards.IndicatorBands) -> Indicator:
        return cls(
            id=strawberry.ID(indicator.id), plan_id=strawberry.ID(indicator.plan_id), code=indicator.code,
            name=indicator.name, unit=indicator.unit, direction=indicator.direction,
            baseline=figure(indicator.baseline), baseline_period=indicator.baseline_period,
            description=indicator.description,
            criterion_id=None if indicator.criterion_id is None else strawberry.ID(indicator.criterion_id),
            periods=[IndicatorPeriod.from_result(p) for p in indicator.periods], version=indicator.version,
            recorded_at=aware(indicator.recorded_at), valid_at=aware(indicator.valid_at),
        )
