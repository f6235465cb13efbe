"""Dashboards computed from the read models only, never by calling a service.

Pure and synchronous: each function reads through a SQLAlchemy ``Connection`` (the present read models, or a
replica of a point in time) and returns frozen dataclasses with exact ``Decimal`` figures. The GraphQL types run
them in a worker thread (``View.run``).
"""

from izlek_gateway.dashboards.achievement import Assessment, BandOverride, assess
from izlek_gateway.dashboards.commitments import (
    ActorGroupCommitments,
    CommitmentLine,
    CommitmentsProgress,
    StatusCount,
    commitments_progress,
)
from izlek_gateway.dashboards.criteria import (
    CriterionProgress,
    Measurement,
    PartProgress,
    TrendPoint,
    criteria_progress,
    measure,
)
from izlek_gateway.dashboards.indicators import IndicatorBands, IndicatorPeriod, indicator_bands
from izlek_gateway.dashboards.plan import PlanDashboard, plan_dashboard
from izlek_gateway.dashboards.protocols import (
    CoverageShare,
    CoveredOrganisation,
    Organisation,
    ProtocolBook,
    ProtocolCoverage,
    ProtocolLine,
    ProtocolParty,
    protocol_coverage,
)
from izlek_gateway.dashboards.quota import ProtocolQuota, QuotaCompliance, quota_compliance

__all__ = [
    "ActorGroupCommitments",
    "Assessment",
    "BandOverride",
    "CommitmentLine",
    "CommitmentsProgress",
    "CoverageShare",
    "CoveredOrganisation",
    "CriterionProgress",
    "IndicatorBands",
    "IndicatorPeriod",
    "Measurement",
    "Organisation",
    "PartProgress",
    "PlanDashboard",
    "ProtocolBook",
    "ProtocolCoverage",
    "ProtocolLine",
    "ProtocolParty",
    "ProtocolQuota",
    "QuotaCompliance",
    "StatusCount",
    "TrendPoint",
    "assess",
    "commitments_progress",
    "criteria_progress",
    "indicator_bands",
    "measure",
    "plan_dashboard",
    "protocol_coverage",
    "quota_compliance",
]
