"""The ``PlanDashboard`` type: a plan's success criteria, commitments by actor group and status, indicator bands
and quota compliance, computed from the read models (`izlek_gateway.dashboards`)."""

from __future__ import annotations

from datetime import date

import strawberry

from izlek_gateway import dashboards
from izlek_gateway.graphql.criterion import CriterionProgress
from izlek_gateway.graphql.indicator import Indicator, figure


@strawberry.type(description="How many commitments are in one status, and how many of them are overdue.")
class StatusCount:
    status: str = strawberry.field(description="planned, in_progress, done or dropped")
    count: int
    overdue: int

    @classmethod
    def of_all(cls, counts: tuple[dashboards.StatusCount, ...]) -> list[StatusCount]:
        return [cls(status=c.status, count=c.count, overdue=c.overdue) for c in counts]


@strawberry.type(description="A commitment as the dashboard lists it.")
class CommitmentLine:
    id: strawberry.ID
    code: str
    title: str
    target_code: str
    actor_group: str | None
    organisation_id: str | None
    status: str
    due_date: date | None
    overdue: bool

    @classmethod
    def of_all(cls, lines: tuple[dashboards.CommitmentLine, ...]) -> list[CommitmentLine]:
        return [cls(id=strawberry.ID(c.id), code=c.code, title=c.title, target_code=c.target_code,
                    actor_group=c.actor_group, organisation_id=c.organisation_id, status=c.status,
                    due_date=c.due_date, overdue=c.overdue) for c in lines]


@strawberry.type(description="The commitments of one actor group (null: of none) by status; its commitments "
                 "overdue first.")
class ActorGroupCommitments:
    actor_group: str | None
    name: str | None
    total: int
    overdue: int
    by_status: list[StatusCount]
    commitments: list[CommitmentLine]


@strawberry.type(description="A plan's commitments: counts per status and per actor group × status, overdue ones "
                 "first (due before today in Turkey and neither done nor dropped).")
class CommitmentsProgress:
    total: int
    overdue: int
    by_status: list[StatusCount]
    groups: list[ActorGroupCommitments]
    overdue_commitments: list[CommitmentLine]

    @classmethod
    def from_result(cls, progress: dashboards.CommitmentsProgress) -> CommitmentsProgress:
        return cls(
            total=progress.total, overdue=progress.overdue, by_status=StatusCount.of_all(progress.by_status),
            groups=[ActorGroupCommitments(actor_group=g.actor_group, name=g.name, total=g.total, overdue=g.overdue,
                                          by_status=StatusCount.of_all(g.by_status),
                                          commitments=CommitmentLine.of_all(g.commitments))
                    for g in progress.groups],
            overdue_commitments=CommitmentLine.of_all(progress.overdue_commitments),
        )


@strawberry.type(description="A municipality's compliance with a protocol's purchase commitment over one period: "
                 "confirmed purchases ÷ declared purchases in the commitment's categories, in percent.")
class QuotaCompliance:
    municipality_code: str
    municipality_name: str
    period: str
    categories: list[str]
    quota_percent: str | None
    confirmed_total: str = strawberry.field(description="Confirmed purchases (TRY), the only ones that count.")
    awaiting_confirmation_total: str = strawberry.field(description="Recorded, not yet confirmed (TRY).")
    disputed_total: str = strawberry.field(description="Disputed by the cooperative (TRY).")
    declared_volume: str | None = strawberry.field(
        description="The municipality's declared purchases in the categories; null when one is undeclared.")
    undeclared_categories: list[str]
    share_percent: str | None = strawberry.field(description="Exact; null without a declared volume.")
    met: bool | None = strawberry.field(description="Share ≥ quota; null when either is unknown.")

    @classmethod
    def from_result(cls, c: dashboards.QuotaCompliance) -> QuotaCompliance:
        return cls(
            municipality_code=c.municipality_code, municipality_name=c.municipality_name, period=c.period,
            categories=list(c.categories), quota_percent=figure(c.quota_percent),
            confirmed_total=format(c.confirmed_total, "f"),
            awaiting_confirmation_total=format(c.awaiting_confirmation_total, "f"),
            disputed_total=format(c.disputed_total, "f"), declared_volume=figure(c.declared_volume),
            undeclared_categories=list(c.undeclared_categories), share_percent=figure(c.share_percent), met=c.met,
        )


@strawberry.type(description="A protocol with a purchase commitment, and each municipality party's compliance per "
                 "period.")
class ProtocolQuota:
    protocol_id: strawberry.ID
    code: str
    title: str
    kind: str
    status: str
    quota_percent: str | None
    categories: list[str]
    note: str | None
    compliance: list[QuotaCompliance]

    @classmethod
    def from_result(cls, quota: dashboards.ProtocolQuota) -> ProtocolQuota:
        return cls(protocol_id=strawberry.ID(quota.protocol_id), code=quota.code, title=quota.title,
                   kind=quota.kind, status=quota.status, quota_percent=figure(quota.quota_percent),
                   categories=list(quota.categories), note=quota.note,
                   compliance=[QuotaCompliance.from_result(c) for c in quota.compliance])


@strawberry.type(description="The success-criteria dashboard of a plan, computed from the read models.")
class PlanDashboard:
    plan_id: strawberry.ID
    plan_code: str
    plan_title: str
    today: date = strawberry.field(description="The day overdue is taken on (in Turkey; for asOf/validAt, that day).")
    criteria: list[CriterionProgress]
    commitments: CommitmentsProgress
    indicators: list[Indicator]
    quota_compliance: list[ProtocolQuota]

    @classmethod
    def from_result(cls, dashboard: dashboards.PlanDashboard) -> PlanDashboard:
        return cls(
            plan_id=strawberry.ID(dashboard.plan_id), plan_code=dashboard.plan_code, plan_title=dashboard.plan_title,
            today=dashboard.today, criteria=[CriterionProgress.from_result(c) for c in dashboard.criteria],
            commitments=CommitmentsProgress.from_result(dashboard.commitments),
            indicators=[Indicator.from_result(i) for i in dashboard.indicators],
            quota_compliance=[ProtocolQuota.from_result(q) for q in dashboard.quota_compliance],
        )
