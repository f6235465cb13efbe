"""Achievement and success bands (design, section 3): pure functions, no application."""

from __future__ import annotations

from decimal import Decimal

import pytest

from izlek_plans.domain.bands import Band, Direction, achievement, band_for


def test_an_increasing_indicator_achieves_actual_divided_by_target() -> None:
    ratio = achievement(direction=Direction.INCREASE, target=Decimal(40), actual=Decimal(30))

    assert ratio == Decimal("0.75")


def test_a_decreasing_indicator_achieves_the_share_of_the_planned_decrease_it_made() -> None:
    # From 100 down towards 50: reaching 60 is 40 of the planned 50, i.e. 80 %.
    ratio = achievement(
        direction=Direction.DECREASE, baseline=Decimal(100), target=Decimal(50), actual=Decimal(60)
    )

    assert ratio == Decimal("0.8")
    assert band_for(ratio) is Band.SUCCESSFUL


def test_a_decreasing_indicator_that_got_worse_than_its_baseline_needs_improvement() -> None:
    ratio = achievement(
        direction=Direction.DECREASE, baseline=Decimal(100), target=Decimal(50), actual=Decimal(120)
    )

    assert ratio is not None and ratio < 0
    assert band_for(ratio) is Band.NEEDS_IMPROVEMENT


def test_an_increasing_indicator_beyond_its_target_has_met_it() -> None:
    ratio = achievement(direction=Direction.INCREASE, target=Decimal(6), actual=Decimal(9))

    assert band_for(ratio) is Band.TARGET_MET  # type: ignore[arg-type]


def test_achievement_is_undefined_for_a_zero_target() -> None:
    assert achievement(direction=Direction.INCREASE, target=Decimal(0), actual=Decimal(5)) is None


def test_achievement_of_a_decrease_is_undefined_without_a_baseline() -> None:
    assert achievement(direction=Direction.DECREASE, target=Decimal(10), actual=Decimal(5)) is None


def test_achievement_of_a_decrease_is_undefined_when_the_baseline_is_the_target() -> None:
    ratio = achievement(
        direction=Direction.DECREASE, baseline=Decimal(10), target=Decimal(10), actual=Decimal(5)
    )

    assert ratio is None


@pytest.mark.parametrize(
    ("ratio", "band"),
    [
        ("1.5", Band.TARGET_MET),
        ("1.00", Band.TARGET_MET),
        ("0.9999", Band.SUCCESSFUL),
        ("0.80", Band.SUCCESSFUL),
        ("0.7999", Band.GOOD),
        ("0.60", Band.GOOD),
        ("0.5999", Band.IN_PROGRESS),
        ("0.40", Band.IN_PROGRESS),
        ("0.3999", Band.NEEDS_IMPROVEMENT),
        ("0", Band.NEEDS_IMPROVEMENT),
        ("-0.5", Band.NEEDS_IMPROVEMENT),
    ],
)
def test_bands_start_at_100_80_60_and_40_percent(ratio: str, band: Band) -> None:
    assert band_for(Decimal(ratio)) is band


def test_every_band_has_its_turkish_label() -> None:
    assert [band.turkish_label for band in Band] == [
        "Hedef ve Üstü", "Başarılı", "İyi", "İlerlemede", "Geliştirilmeli",
    ]


def test_the_band_rule_is_the_one_every_service_shares() -> None:
    from izlek_common.domain import bands as shared

    assert (Band, Direction, achievement, band_for) == (shared.Band, shared.Direction, shared.achievement,
                                                       shared.band_for)
