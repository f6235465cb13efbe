"""A plan's dashboard: success criteria, commitments, indicator bands and quota compliance, in one read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, select

from izlek_gateway.dashboards.commitments import CommitmentsProgress, commitments_progress
from izlek_gateway.dashboards.criteria import CriterionProgress, criteria_progress
from izlek_gateway.dashboards.indicators import IndicatorBands, indicator_bands
from izlek_gateway.dashboards.protocols import ProtocolBook
from izlek_gateway.dashboards.quota import ProtocolQuota, quota_compliance
from izlek_gateway.read_models.tables import plans


@dataclass(frozen=True)
class PlanDashboard:
    """Everything the success-criteria dashboard of a plan shows, as of `today` (the day "overdue" is taken on)."""

    plan_id: str
    plan_code: str
    plan_title: str
    today: date
    criteria: tuple[CriterionProgress, ...]
    commitments: CommitmentsProgress
    indicators: tuple[IndicatorBands, ...]
    quota_compliance: tuple[ProtocolQuota, ...]


def plan_dashboard(connection: Connection, plan_id: str, today: date) -> PlanDashboard | None:
    """The dashboard of one plan computed from the read models on `connection`; None when there is no such
    plan. Protocols and purchases belong to no plan: every protocol counts towards a criterion that counts
    protocols, and every protocol with a purchase commitment has its quota compliance shown."""
    plan = connection.execute(select(plans).where(plans.c.id == plan_id)).first()
    if plan is None:
        return None
    indicators = indicator_bands(connection, plan_id)
    book = ProtocolBook.read(connection)
    return PlanDashboard(
        plan_id=plan.id, plan_code=plan.code, plan_title=plan.title, today=today,
        criteria=tuple(criteria_progress(connection, plan_id, indicators, book)),
        commitments=commitments_progress(connection, plan_id, today),
        indicators=tuple(indicators),
        quota_compliance=tuple(quota_compliance(connection, book)),
    )
