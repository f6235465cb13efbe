"""Achievement and success bands, as in Turkish public performance programmes (design, section 3).

A shared domain rule: the plans service computes an indicator's bands with it, the gateway's dashboards a criterion's.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum


class Direction(StrEnum):
    """Which way an indicator improves."""

    INCREASE = "increase"
    DECREASE = "decrease"


class Band(StrEnum):
    """Başarı Durumu: the success band of an achievement."""

    TARGET_MET = "target_met"
    SUCCESSFUL = "successful"
    GOOD = "good"
    IN_PROGRESS = "in_progress"
    NEEDS_IMPROVEMENT = "needs_improvement"

    @property
    def turkish_label(self) -> str:
        return TURKISH_LABELS[self]


TURKISH_LABELS = {
    Band.TARGET_MET: "Hedef ve Üstü",
    Band.SUCCESSFUL: "Başarılı",
    Band.GOOD: "İyi",
    Band.IN_PROGRESS: "İlerlemede",
    Band.NEEDS_IMPROVEMENT: "Geliştirilmeli",
}

_LOWER_BOUNDS = (
    (Decimal("1.00"), Band.TARGET_MET),
    (Decimal("0.80"), Band.SUCCESSFUL),
    (Decimal("0.60"), Band.GOOD),
    (Decimal("0.40"), Band.IN_PROGRESS),
)


def achievement(
    *, direction: Direction, target: Decimal, actual: Decimal, baseline: Decimal | None = None
) -> Decimal | None:
    """Share of the target reached, as a ratio (1 = 100 %).

    Increase: actual ÷ target. Decrease: (baseline − actual) ÷ (baseline − target), which needs a baseline.
    Returns ``None`` when the ratio is undefined (no baseline for a decrease, or a zero denominator).
    """
    if direction is Direction.INCREASE:
        if target == 0:
            return None
        return actual / target
    if baseline is None or baseline == target:
        return None
    return (baseline - actual) / (baseline - target)


def band_for(ratio: Decimal) -> Band:
    """The band of an achievement ratio: ≥100 % target met, 80–99 % successful, 60–79 % good,
    40–59 % in progress, below 40 % needs improvement."""
    for lower_bound, band in _LOWER_BOUNDS:
        if ratio >= lower_bound:
            return band
    return Band.NEEDS_IMPROVEMENT
