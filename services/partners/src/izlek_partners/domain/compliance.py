"""Quota compliance: did a municipality buy its committed share from cooperatives?"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from izlek_common.domain import values
from izlek_partners.domain.organisation import Organisation
from izlek_partners.domain.protocol import Protocol
from izlek_partners.domain.purchase import PurchaseRecord, PurchaseStatus

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class QuotaCompliance:
    """Purchases from cooperatives ÷ the municipality's declared purchases in the protocol's categories.

    Only confirmed purchases count; recorded (not yet confirmed) and disputed ones are reported beside them.
    ``share_percent`` is exact (a ``Decimal``); it is ``None`` when a category's volume is not declared.
    """

    protocol_code: str
    municipality_code: str
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


def quota_compliance(protocol: Protocol, municipality: Organisation, purchases: Iterable[PurchaseRecord],
                     period: str) -> QuotaCompliance:
    """Compliance of one municipality with one protocol's purchase commitment over a period."""
    first_day, last_day = values.period_range(period)
    commitment = protocol.purchase_commitment
    categories = commitment.categories if commitment else ()
    relevant = [
        p for p in purchases
        if p.protocol_id == protocol.id and p.municipality_code == municipality.code
        and first_day <= p.purchased_on <= last_day and (not categories or p.category in categories)
    ]
    totals = {status: sum((p.amount for p in relevant if p.status == status), Decimal("0.00"))
              for status in PurchaseStatus}
    undeclared = tuple(c for c in categories if municipality.declared_volume(period, c) is None)
    declared = None
    if categories and not undeclared:
        declared = sum((municipality.declared_volume(period, c) or Decimal(0) for c in categories), Decimal("0.00"))
    share = None if not declared else totals[PurchaseStatus.CONFIRMED] * HUNDRED / declared
    quota = commitment.quota_percent if commitment else None
    return QuotaCompliance(
        protocol_code=protocol.code,
        municipality_code=municipality.code,
        period=period,
        categories=tuple(categories),
        quota_percent=quota,
        confirmed_total=totals[PurchaseStatus.CONFIRMED],
        awaiting_confirmation_total=totals[PurchaseStatus.RECORDED],
        disputed_total=totals[PurchaseStatus.DISPUTED],
        declared_volume=declared,
        undeclared_categories=undeclared,
        share_percent=share,
        met=None if share is None or quota is None else share >= quota,
    )
