"""Success criteria, their measures, and indicators in memory: validation, periods, corrections, no-ops."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from plans_testing import stamp

from izlek_common.domain import values
from izlek_common.domain.base import TrackedAggregate, is_correction
from izlek_plans.domain.criterion import Measure, SuccessCriterion
from izlek_plans.domain.errors import InvalidValue, ReasonRequired
from izlek_plans.domain.indicator import Indicator
from izlek_plans.domain.plan import ActionPlan

SIX_PROTOCOLS = {
    "kind": "count", "target": 6, "unit": "protocol",
    "breakdown": {"municipality_metropolitan": 1, "municipality_district": 5},
}


def a_criterion(measure: dict[str, Any] | None = None, parts: list[dict[str, Any]] | None = None
                ) -> SuccessCriterion:
    criterion = SuccessCriterion.define(
        plan_id=uuid4(), code="DI1-C1", text="İBB ve 5 ilçe belediyesi ile standart protokol imzalanması",
        measure=measure or SIX_PROTOCOLS, parts=parts, stamp=stamp(),
    )
    criterion.collect_events()
    return criterion


def an_indicator(direction: str = "increase", baseline: Any = None) -> Indicator:
    indicator = Indicator.define(plan_id=uuid4(), code="I1", name="Ortak satış noktası sayısı", unit="adet",
                                 direction=direction, baseline=baseline, stamp=stamp())
    indicator.collect_events()
    return indicator


def event_names(aggregate: TrackedAggregate) -> list[str]:
    return [type(e).__name__ for e in aggregate.collect_events()]


# --- measures -------------------------------------------------------------------------------------


def test_a_count_measure_keeps_its_breakdown() -> None:
    measure = Measure.of(SIX_PROTOCOLS)

    assert measure.target == Decimal(6)
    assert measure.breakdown == {"municipality_metropolitan": 1, "municipality_district": 5}


def test_a_breakdown_must_add_up_to_the_target() -> None:
    with pytest.raises(InvalidValue, match="breakdown adds up to 5, not the target 6"):
        Measure.of({**SIX_PROTOCOLS, "breakdown": {"municipality_metropolitan": 1, "municipality_district": 4}})


@pytest.mark.parametrize("breakdown", [{"a": -1, "b": 7}, {"a": 1.5, "b": 4.5}, {"a": True, "b": 5}])
def test_a_breakdown_holds_non_negative_whole_numbers(breakdown: dict[str, Any]) -> None:
    with pytest.raises(InvalidValue, match="non-negative whole numbers"):
        Measure.of({**SIX_PROTOCOLS, "breakdown": breakdown})


def test_a_percent_target_cannot_exceed_100() -> None:
    assert Measure.of({"kind": "percent", "target": 100}).target == Decimal(100)
    with pytest.raises(InvalidValue, match="cannot exceed 100"):
        Measure.of({"kind": "percent", "target": "100.5"})


def test_a_target_cannot_be_negative() -> None:
    with pytest.raises(InvalidValue, match="cannot be negative"):
        Measure.of({"kind": "count", "target": -1})


@pytest.mark.parametrize("kind", [None, "ratio", ""])
def test_a_measure_has_a_known_kind(kind: str | None) -> None:
    with pytest.raises(InvalidValue, match="measure kind must be one of"):
        Measure.of({"kind": kind})


def test_a_measure_of_indicators_names_at_least_one() -> None:
    with pytest.raises(InvalidValue, match="at least one indicator"):
        Measure.of({"kind": "indicators"})
    assert Measure.of({"kind": "indicators", "indicator_codes": ["I1"]}).indicator_codes == ("I1",)


def test_a_measure_has_no_unknown_fields() -> None:
    with pytest.raises(InvalidValue, match="no field"):
        Measure.of({"kind": "boolean", "colour": "green"})


def test_a_composite_criterion_needs_parts() -> None:
    with pytest.raises(InvalidValue, match="composite measure needs at least one part"):
        a_criterion({"kind": "composite"})

    criterion = a_criterion({"kind": "composite"}, parts=[
        {"text": "Protokol imzalandı", "measure": {"kind": "boolean"}},
        {"text": "Alımların %10'u", "measure": {"kind": "percent", "target": 10}},
    ])
    assert [part.measure.kind for part in criterion.parts] == ["boolean", "percent"]


def test_only_a_composite_criterion_has_parts() -> None:
    with pytest.raises(InvalidValue, match="only a composite measure has parts"):
        a_criterion({"kind": "boolean"}, parts=[{"text": "x", "measure": {"kind": "boolean"}}])


def test_a_part_measure_is_validated_like_any_measure() -> None:
    with pytest.raises(InvalidValue, match="cannot exceed 100"):
        a_criterion({"kind": "composite"}, parts=[{"text": "x", "measure": {"kind": "percent", "target": 150}}])


def test_the_same_measure_again_records_no_event() -> None:
    criterion = a_criterion()

    assert criterion.change_measure(dict(SIX_PROTOCOLS), stamp()) is False
    assert criterion.change_text("  İBB ve 5 ilçe belediyesi ile standart protokol imzalanması ", stamp()) is False

    assert event_names(criterion) == []


def test_a_criterion_correction_needs_a_reason_and_is_its_own_event_type() -> None:
    criterion = a_criterion()

    with pytest.raises(ReasonRequired):
        criterion.change_text("Düzeltilmiş metin", stamp(), correction=True)
    criterion.change_text("Düzeltilmiş metin", stamp(reason="typo in the transcription"), correction=True)
    criterion.change_measure({**SIX_PROTOCOLS, "target": 7, "breakdown": {"a": 2, "b": 5}},
                             stamp(reason="misread table"), correction=True)
    criterion.change_text("Yeni metin", stamp())

    names = event_names(criterion)
    assert names == ["TextCorrected", "MeasureCorrected", "TextChanged"]
    assert [is_correction(name) for name in names] == [True, True, False]


def test_a_band_override_needs_a_reason_and_keeps_it() -> None:
    criterion = a_criterion()

    with pytest.raises(ReasonRequired):
        criterion.override_band("good", stamp())
    criterion.override_band("good", stamp(reason="two protocols await council approval"), period="2022")

    assert criterion.view()["band_overrides"] == [
        {"band": "good", "reason": "two protocols await council approval", "period": "2022"},
    ]
    assert criterion.withdraw_band_override(stamp(), period="2021") is False


# --- periods ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["2021", "2021-H1", "2021-H2", "2021-Q1", "2021-Q4", "2021-01", "2021-12"])
def test_a_period_is_a_year_a_half_a_quarter_or_a_month(period: str) -> None:
    assert values.period(period) == period


@pytest.mark.parametrize(
    "period", ["21", "2021-H3", "2021-Q5", "2021-13", "2021-00", "2021-1", "2021/06", " 2021", "", None, 2021],
)
def test_anything_else_is_not_a_period(period: Any) -> None:
    with pytest.raises(InvalidValue, match="is not a period"):
        values.period(period)


def test_an_indicator_refuses_a_target_for_a_bad_period() -> None:
    indicator = an_indicator()

    with pytest.raises(InvalidValue, match="is not a period"):
        indicator.set_target("2021-Q5", 10, stamp())

    assert event_names(indicator) == []


# --- numbers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "expected"), [(95.5, "95.5"), ("1156", "1156"), (3, "3"), ("0.1", "0.1")])
def test_numbers_are_read_exactly(given: Any, expected: str) -> None:
    assert values.decimal(given, "value") == Decimal(expected)


@pytest.mark.parametrize("given", ["NaN", "Infinity", "-Infinity", True, "abc", None, [], "1e999999999",
                                   "1e-999999999", 10**400])
def test_numbers_that_are_not_finite_figures_of_a_plan_are_refused(given: Any) -> None:
    with pytest.raises(InvalidValue):
        values.decimal(given, "value")


# --- indicators -------------------------------------------------------------------------------------


def test_an_indicator_computes_the_band_of_each_period_and_shows_an_override_beside_it() -> None:
    indicator = an_indicator()
    indicator.set_target("2021", 10, stamp())
    indicator.record_actual("2021", 7, stamp(), evidence=("tutanak-2021-12",))
    indicator.set_target("2022", 10, stamp())
    indicator.override_band("2021", "successful", stamp(reason="two points await the auditor"))

    bands = {band["period"]: band for band in indicator.view()["bands"]}

    assert bands["2021"]["achievement"] == Decimal("0.7")
    assert (bands["2021"]["computed_band"], bands["2021"]["computed_band_tr"]) == ("good", "İyi")
    assert bands["2021"]["override"]["band"] == "successful"
    assert (bands["2022"]["actual"], bands["2022"]["computed_band"]) == (None, None)


def test_a_decreasing_indicator_without_a_baseline_has_no_band() -> None:
    indicator = an_indicator("decrease")
    indicator.set_target("2021", 5, stamp())
    indicator.record_actual("2021", 4, stamp())

    assert indicator.bands()[0].computed is None


def test_an_indicator_has_a_known_direction() -> None:
    with pytest.raises(InvalidValue, match="direction"):
        an_indicator("sideways")


def test_the_same_indicator_values_again_record_no_event() -> None:
    indicator = an_indicator(baseline="12")
    indicator.set_target("2021", "10.0", stamp())
    indicator.record_actual("2021", 7, stamp(), comment="yıl sonu")
    indicator.collect_events()

    assert indicator.set_target("2021", 10, stamp()) is False
    assert indicator.record_actual("2021", "7", stamp(), comment="yıl sonu") is False
    assert indicator.set_baseline(12, None, stamp()) is False
    assert indicator.change_details({"name": "Ortak satış noktası sayısı"}, stamp()) is False

    assert event_names(indicator) == []


def test_indicator_corrections_need_a_reason_and_are_their_own_event_types() -> None:
    indicator = an_indicator()
    indicator.set_target("2021", 10, stamp())
    indicator.record_actual("2021", 7, stamp())
    indicator.collect_events()

    with pytest.raises(ReasonRequired):
        indicator.record_actual("2021", 8, stamp(), correction=True)
    indicator.record_actual("2021", 8, stamp(reason="typed 7 for 8"), correction=True)
    indicator.set_target("2021", 12, stamp(reason="target misread"), correction=True)
    indicator.set_baseline(3, "2020", stamp(reason="baseline from the 2020 report"), correction=True)
    indicator.record_actual("2021", 9, stamp())

    names = event_names(indicator)
    assert names == ["ActualCorrected", "TargetCorrected", "BaselineCorrected", "ActualRecorded"]
    assert [is_correction(name) for name in names] == [True, True, True, False]


# --- plans -------------------------------------------------------------------------------------------


def test_plan_corrections_need_a_reason_and_unchanged_plan_fields_record_no_event() -> None:
    plan = ActionPlan.start(code="izmir", title="İZMİR EYLEM PLANI", region="İzmir", stamp=stamp())
    plan.add_goal(code="G1", title="Kooperatifleri güçlendirmek", stamp=stamp())
    plan.collect_events()

    assert plan.change_details({"title": "İZMİR EYLEM PLANI", "region": "İzmir"}, stamp()) is False
    assert plan.change_goal("G1", {"title": "Kooperatifleri güçlendirmek"}, stamp()) is False
    assert plan.define_actor_group(code="AG-KS", name="KEDV ve Simurg", stamp=stamp(),
                                   organisation_ids=("kedv",)) is True
    assert plan.define_actor_group(code="AG-KS", name="KEDV ve Simurg", stamp=stamp(),
                                   organisation_ids=("kedv",)) is False
    with pytest.raises(ReasonRequired):
        plan.correct({"region": "İzmir ili"}, stamp())
    with pytest.raises(ReasonRequired):
        plan.change_goal("G1", {"number": 1}, stamp(), correction=True)
    plan.change_goal("G1", {"number": 1}, stamp(reason="number left out"), correction=True)
    plan.correct({"region": "İzmir ili"}, stamp(reason="region misspelt"))

    assert event_names(plan) == ["ActorGroupDefined", "GoalCorrected", "Corrected"]


def test_a_plan_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(InvalidValue, match="ends"):
        ActionPlan.start(code="p", title="t", region="r", stamp=stamp(),
                         period_start=date(2022, 1, 1), period_end=date(2021, 12, 31))
