"""Achievement of a value against its target, as an exact percentage, and its band; overrides beside it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

from izlek_common.domain.bands import Band, Direction, achievement, band_for

HUNDRED = Decimal(100)
NO_TARGET = "not measurable: no target"


@dataclass(frozen=True)
class Assessment:
    """Achievement in percent (exact) and the computed band; both None when it cannot be measured, with a note
    saying why."""

    achievement_percent: Decimal | None
    band: Band | None
    note: str | None = None


def assess(*, direction: Direction, target: Decimal | None, actual: Decimal | None,
           baseline: Decimal | None = None) -> Assessment:
    """The design's rule (section 3): actual ÷ target, or (baseline − actual) ÷ (baseline − target) for a
    decreasing indicator, banded at 100, 80, 60 and 40 %."""
    if target is None:
        return Assessment(None, None, NO_TARGET)
    if actual is None:
        return Assessment(None, None, "not measurable: no value recorded")
    ratio = achievement(direction=direction, target=target, actual=actual, baseline=baseline)
    if ratio is None:
        if direction is Direction.INCREASE:
            why = "the target is zero"
        elif baseline is None:
            why = "a decreasing indicator needs a baseline"
        else:
            why = "the target equals the baseline"
        return Assessment(None, None, f"not measurable: {why}")
    return Assessment(without_trailing_zeros(ratio * HUNDRED), band_for(ratio), None)


def without_trailing_zeros(value: Decimal) -> Decimal:
    """The same number without the trailing zeros a division leaves (90, not 90.0), and never in exponent
    notation (90, not 9E+1), so that ``str()`` prints it plainly."""
    normal = value.normalize()
    if not normal:
        return Decimal(0)  # not -0
    if normal != normal.to_integral_value():
        return normal
    return normal.quantize(Decimal(1), context=Context(prec=max(28, normal.adjusted() + 1)))


def band_of_percent(percent: Decimal) -> Band:
    return band_for(percent / HUNDRED)


@dataclass(frozen=True)
class BandOverride:
    """A band set by hand with its reason (for one period, or for the whole criterion when ``period`` is None);
    shown beside the computed band, never instead of it."""

    band: str
    reason: str
    period: str | None = None

    @property
    def label(self) -> str | None:
        """The Turkish label of the band (None for a band this gateway does not know)."""
        try:
            return Band(self.band).turkish_label
        except ValueError:
            return None


def decimal_or_none(value: Any) -> Decimal | None:
    """A figure from a JSON column (exact text) or a decimal column."""
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))
