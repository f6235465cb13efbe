"""Quota compliance per protocol with a purchase commitment: the partners domain's rule over the read models.

Confirmed purchases from cooperatives ÷ the municipality's declared purchases in the commitment's categories and
period, in percent, exact. Purchases awaiting confirmation and disputed ones are shown beside and do not count;
a category without a declared volume leaves the share unknown rather than guessed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, select

from izlek_common.domain.values import period_range
from izlek_gateway.dashboards.achievement import HUNDRED, decimal_or_none
from izlek_gateway.dashboards.protocols import Organisation, ProtocolBook
from izlek_gateway.read_models.tables import purchase_volumes, purchases

MUNICIPALITY_TYPES = frozenset({"municipality_metropolitan", "municipality_district"})
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class QuotaCompliance:
    """One municipality's compliance with a protocol's purchase commitment over one period."""

    municipality_code: str
    municipality_name: str
    period: str
    categories: tuple[str, ...]
    quota_percent: Decimal | None
    confirmed_total: Decimal
    awaiting_confirmation_total: Decimal
    disputed_total: Decimal
    declared_volume: Decimal | None
    undeclared_categories: tuple[str, ...]
    share_percent: Decimal | None
    met: bool | None


@dataclass(frozen=True)
class ProtocolQuota:
    """A protocol with a purchase commitment, and the compliance of each municipality party per period (the
    periods it declared volumes for in the commitment's categories, and the years it recorded purchases in)."""

    protocol_id: str
    code: str
    title: str
    kind: str
    status: str
    quota_percent: Decimal | None
    categories: tuple[str, ...]
    note: str | None
    compliance: tuple[QuotaCompliance, ...]


def quota_compliance(connection: Connection, book: ProtocolBook) -> list[ProtocolQuota]:
    """Every protocol with a purchase commitment, by code."""
    result = []
    for line in book.protocols:
        commitment = line.purchase_commitment
        if commitment is None:
            continue
        quota = decimal_or_none(commitment.get("quota_percent"))
        categories = tuple(commitment.get("categories") or ())
        bought = connection.execute(select(purchases).where(purchases.c.protocol_id == line.id)).all()
        compliance = []
        for party in line.parties:
            municipality = book.organisations.get(party.code)
            if municipality is None or municipality.type not in MUNICIPALITY_TYPES:
                continue
            volumes = {
                (row.period, row.category): row.amount
                for row in connection.execute(select(purchase_volumes)
                                              .where(purchase_volumes.c.organisation_id == municipality.id))
            }
            own = [p for p in bought if p.municipality_code == municipality.code]
            periods = {period for period, category in volumes if category in categories}
            periods |= {str(p.purchased_on.year) for p in own}
            compliance += [_compliance(municipality, period, quota, categories, own, volumes)
                           for period in sorted(periods)]
        result.append(ProtocolQuota(protocol_id=line.id, code=line.code, title=line.title, kind=line.kind,
                                    status=line.status, quota_percent=quota, categories=categories,
                                    note=commitment.get("note"), compliance=tuple(compliance)))
    return result


def _compliance(municipality: Organisation, period: str, quota: Decimal | None, categories: tuple[str, ...],
                bought: list[Row[Any]], volumes: dict[tuple[str, str], Decimal]) -> QuotaCompliance:
    first_day, last_day = period_range(period)
    totals: defaultdict[str, Decimal] = defaultdict(lambda: ZERO)
    for purchase in bought:
        if _within(purchase.purchased_on, first_day, last_day) and (not categories or purchase.category in categories):
            totals[purchase.status] += purchase.amount
    undeclared = tuple(c for c in categories if (period, c) not in volumes)
    declared = sum((volumes[(period, c)] for c in categories), ZERO) if categories and not undeclared else None
    share = None if not declared else totals["confirmed"] * HUNDRED / declared
    return QuotaCompliance(
        municipality_code=municipality.code, municipality_name=municipality.name, period=period,
        categories=categories, quota_percent=quota, confirmed_total=totals["confirmed"],
        awaiting_confirmation_total=totals["recorded"], disputed_total=totals["disputed"],
        declared_volume=declared, undeclared_categories=undeclared, share_percent=share,
        met=None if share is None or quota is None else share >= quota,
    )


def _within(day: date, first: date, last: date) -> bool:
    return first <= day <= last
