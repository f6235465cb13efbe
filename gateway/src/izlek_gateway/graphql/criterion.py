"""The ``Criterion`` type (a success criterion and its measure) and ``CriterionProgress``, its line on the
dashboard: value, target, achievement, computed band and override, parts, trend and protocol coverage."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import Row
from strawberry.scalars import JSON

from izlek_gateway import dashboards
from izlek_gateway.graphql.indicator import BandOverride, band_label, band_name, figure
from izlek_gateway.graphql.scalars import aware


@strawberry.type(description="How a criterion is measured: a count of entities in a state, a percent, a periodic "
                 "check, a yes/no, indicators, or all of its parts (composite).")
class Measure:
    kind: str = strawberry.field(description="count, percent, periodic, boolean, indicators or composite")
    target: str | None = strawberry.field(description="Exact decimal, as text; null when the plan gives none.")
    unit: str | None
    note: str | None
    breakdown: JSON = strawberry.field(description="How a count's target splits, e.g. "
                                       "{\"municipality_metropolitan\": 1, \"municipality_district\": 5}.")
    counts: JSON = strawberry.field(description="What a count counts, e.g. {\"entity\": \"protocol\", \"kind\": "
                                    "\"standard_protocol\", \"statuses\": \"signed,in_force,renewed\"}.")
    indicator_codes: list[str]

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Measure:
        target = data.get("target")
        return cls(kind=str(data.get("kind")), target=None if target is None else str(target),
                   unit=data.get("unit"), note=data.get("note"), breakdown=dict(data.get("breakdown") or {}),
                   counts=dict(data.get("counts") or {}), indicator_codes=list(data.get("indicator_codes") or []))


@strawberry.type(description="One condition of a composite criterion, with its own measure.")
class CriterionPart:
    text: str
    measure: Measure


@strawberry.type(description="A success criterion (Başarı Kriteri) of a plan, as defined.")
class Criterion:
    id: strawberry.ID
    plan_id: strawberry.ID
    code: str
    text: str
    goal_code: str | None
    priority_code: str | None
    group: str | None = strawberry.field(description="The in-depth row it belongs to, e.g. DI1.")
    measure: Measure
    parts: list[CriterionPart]
    band_overrides: list[BandOverride]
    version: int
    recorded_at: datetime
    valid_at: datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> Criterion:
        overrides = row.band_overrides or {}
        return cls(
            id=strawberry.ID(row.id), plan_id=strawberry.ID(row.plan_id), code=row.code, text=row.text,
            goal_code=row.goal_code, priority_code=row.priority_code, group=row.group_code,
            measure=Measure.from_data(row.measure),
            parts=[CriterionPart(text=p["text"], measure=Measure.from_data(p["measure"])) for p in row.parts or []],
            band_overrides=[
                BandOverride.of(dashboards.BandOverride(band=o["band"], reason=o.get("reason") or "",
                                                        period=period or None))
                for period, o in sorted(overrides.items())
            ],
            version=row.version, recorded_at=aware(row.recorded_at), valid_at=aware(row.valid_at),
        )


@strawberry.type(description="A party to a protocol, with its organisation's name and type where known.")
class ProtocolSummaryParty:
    code: str
    role: str
    name: str | None
    type: str | None


@strawberry.type(description="A protocol as a coverage lists it.")
class ProtocolSummary:
    id: strawberry.ID
    code: str
    title: str
    kind: str
    status: str
    term_start: str | None
    parties: list[ProtocolSummaryParty]

    @classmethod
    def from_result(cls, line: dashboards.ProtocolLine) -> ProtocolSummary:
        return cls(id=strawberry.ID(line.id), code=line.code, title=line.title, kind=line.kind, status=line.status,
                   term_start=line.term_start,
                   parties=[ProtocolSummaryParty(code=p.code, role=p.role, name=p.name, type=p.type)
                            for p in line.parties])


@strawberry.type(description="One entry of a count's breakdown: covered (capped at the target) of target.")
class CoverageShare:
    organisation_type: str
    label: str
    covered: int
    found: int = strawberry.field(description="Organisations of this type found, before the cap.")
    target: int


@strawberry.type(description="An organisation party to a protocol that counts.")
class CoveredOrganisation:
    code: str
    name: str
    type: str
    protocol_codes: list[str]


@strawberry.type(description="Protocol coverage of a criterion that counts protocols, e.g. \"0 of 6 (0 of 1 "
                 "metropolitan, 0 of 5 district)\".")
class ProtocolCoverage:
    kind: str | None = strawberry.field(description="The kind of protocol counted; null: every kind.")
    statuses: list[str] = strawberry.field(description="The statuses that count.")
    covered: int
    target: str | None
    summary: str
    breakdown: list[CoverageShare]
    organisations: list[CoveredOrganisation] = strawberry.field(description="The organisations covered.")
    counted: list[ProtocolSummary] = strawberry.field(description="The protocols that count.")
    not_in_effect: list[ProtocolSummary] = strawberry.field(
        description="Protocols of the counted kind in a status that does not count (drafts, terminated...).")
    other_protocols: list[ProtocolSummary] = strawberry.field(
        description="Protocols of another kind with the same kinds of parties: listed beside, never counted.")

    @classmethod
    def from_result(cls, coverage: dashboards.ProtocolCoverage | None) -> ProtocolCoverage | None:
        if coverage is None:
            return None
        return cls(
            kind=coverage.kind, statuses=list(coverage.statuses), covered=coverage.covered,
            target=figure(coverage.target), summary=coverage.summary,
            breakdown=[CoverageShare(organisation_type=s.organisation_type, label=s.label, covered=s.covered,
                                     found=s.found, target=s.target) for s in coverage.breakdown],
            organisations=[CoveredOrganisation(code=o.code, name=o.name, type=o.type,
                                               protocol_codes=list(o.protocol_codes))
                           for o in coverage.organisations],
            counted=[ProtocolSummary.from_result(p) for p in coverage.counted],
            not_in_effect=[ProtocolSummary.from_result(p) for p in coverage.not_in_effect],
            other_protocols=[ProtocolSummary.from_result(p) for p in coverage.other_protocols],
        )


@strawberry.type(description="One period of an indicator that measures a criterion.")
class TrendPoint:
    indicator_code: str
    period: str
    target: str | None
    value: str | None
    achievement_percent: str | None
    band: str | None
    band_label: str | None
    override: BandOverride | None
    note: str | None

    @classmethod
    def from_result(cls, point: dashboards.TrendPoint) -> TrendPoint:
        return cls(indicator_code=point.indicator_code, period=point.period, target=figure(point.target),
                   value=figure(point.value), achievement_percent=figure(point.achievement_percent),
                   band=band_name(point.band), band_label=band_label(point.band),
                   override=BandOverride.of_optional(point.override), note=point.note)


def _measured(measurement: dashboards.Measurement) -> dict[str, Any]:
    return {
        "measure_kind": measurement.kind, "unit": measurement.unit, "value": figure(measurement.value),
        "target": figure(measurement.target), "achievement_percent": figure(measurement.achievement_percent),
        "band": band_name(measurement.band), "band_label": band_label(measurement.band),
        "status": measurement.status, "note": measurement.note, "period": measurement.period,
        "coverage": ProtocolCoverage.from_result(measurement.coverage),
        "trend": [TrendPoint.from_result(p) for p in measurement.trend],
    }


@strawberry.type(description="A part of a composite criterion on the dashboard.")
class CriterionPartProgress:
    text: str
    measure_kind: str
    unit: str | None
    value: str | None
    target: str | None
    achievement_percent: str | None
    band: str | None
    band_label: str | None
    status: str
    note: str | None
    period: str | None
    coverage: ProtocolCoverage | None
    trend: list[TrendPoint]

    @classmethod
    def from_result(cls, part: dashboards.PartProgress) -> CriterionPartProgress:
        return cls(text=part.text, **_measured(part.measurement))


@strawberry.type(description="A success criterion on the dashboard: current value against target, achievement, "
                 "computed band and the band set by hand beside it, parts, trend over periods and protocol coverage. "
                 "A criterion that cannot be measured has no value or band and says why (status, note).")
class CriterionProgress:
    criterion_id: strawberry.ID
    code: str
    text: str
    group: str | None
    goal_code: str | None
    priority_code: str | None
    measure_kind: str
    unit: str | None
    value: str | None = strawberry.field(description="The current value, exact; null when not measurable.")
    target: str | None
    achievement_percent: str | None = strawberry.field(description="Value ÷ target in percent, exact.")
    band: str | None = strawberry.field(description="The computed band: target_met, successful, good, "
                                        "in_progress or needs_improvement.")
    band_label: str | None = strawberry.field(description="The computed band's Turkish label.")
    override: BandOverride | None = strawberry.field(description="The band set by hand for the whole criterion.")
    period_overrides: list[BandOverride]
    status: str = strawberry.field(description="measured or not_measurable")
    note: str | None = strawberry.field(description="What was measured, or why it cannot be (\"not measurable: "
                                        "no target\").")
    period: str | None = strawberry.field(description="The period the value is of, for indicators.")
    parts: list[CriterionPartProgress]
    trend: list[TrendPoint]
    coverage: ProtocolCoverage | None

    @classmethod
    def from_result(cls, progress: dashboards.CriterionProgress) -> CriterionProgress:
        return cls(
            criterion_id=strawberry.ID(progress.id), code=progress.code, text=progress.text, group=progress.group,
            goal_code=progress.goal_code, priority_code=progress.priority_code,
            override=BandOverride.of_optional(progress.override),
            period_overrides=[BandOverride.of(o) for o in progress.period_overrides],
            parts=[CriterionPartProgress.from_result(p) for p in progress.parts],
            **_measured(progress.measurement),
        )
