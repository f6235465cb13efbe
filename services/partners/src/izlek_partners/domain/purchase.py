"""PurchaseRecord: a municipality bought from a cooperative under a protocol; the cooperative confirms it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from izlek_common.domain import values
from izlek_common.domain.base import TrackedAggregate
from izlek_common.domain.stamp import Stamp
from izlek_partners.domain.errors import InvalidValue, PurchaseTransitionNotAllowed
from izlek_partners.domain.organisation import PARTNERS_NAMESPACE, slug


class PurchaseStatus(StrEnum):
    """Recorded by the municipality; confirmed or disputed by the cooperative; voided if it never happened."""

    RECORDED = "recorded"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"
    VOIDED = "voided"


P = PurchaseStatus
ALLOWED = {
    "confirm": (P.RECORDED, P.DISPUTED),
    "dispute": (P.RECORDED, P.CONFIRMED),
    "void": (P.RECORDED, P.DISPUTED),
}
CORRECTABLE_FIELDS = ("amount", "category", "purchased_on", "cooperative_code", "protocol_id")


class PurchaseRecord(TrackedAggregate):
    """One purchase, in Turkish lira exact to the kuruş. Only confirmed purchases count towards a quota."""

    VIEW_FIELDS = ("municipality_code", "cooperative_code", "protocol_id", "amount", "currency", "category",
                   "purchased_on", "invoice_reference", "status", "dispute_reason")

    @staticmethod
    def create_id(municipality_code: str, invoice_reference: str) -> UUID:
        return uuid5(PARTNERS_NAMESPACE, f"purchase:{municipality_code}:{invoice_reference.strip().casefold()}")

    @classmethod
    def record(cls, *, municipality_code: str, cooperative_code: str, protocol_id: UUID, amount: Any,
               category: str, purchased_on: date, invoice_reference: str, stamp: Stamp) -> PurchaseRecord:
        """Record a purchase; the invoice reference is unique per municipality."""
        return cls(
            municipality_code=slug(municipality_code, "municipality"),
            cooperative_code=slug(cooperative_code, "cooperative"),
            protocol_id=protocol_id,
            amount=values.money(amount, "amount"),
            category=values.text(category, "category", max_length=200),
            purchased_on=_date(purchased_on),
            invoice_reference=values.text(invoice_reference, "invoice reference", max_length=200),
            stamp=stamp,
        )

    @event("Recorded")
    def __init__(self, municipality_code: str, cooperative_code: str, protocol_id: UUID, amount: Decimal,
                 category: str, purchased_on: date, invoice_reference: str, stamp: Stamp) -> None:
        self.municipality_code = municipality_code
        self.cooperative_code = cooperative_code
        self.protocol_id = protocol_id
        self.amount = amount
        self.currency = "TRY"
        self.category = category
        self.purchased_on = purchased_on
        self.invoice_reference = invoice_reference
        self.status = P.RECORDED.value
        self.dispute_reason: str | None = None

    @property
    def counts_towards_quota(self) -> bool:
        return self.status == P.CONFIRMED

    def confirm(self, stamp: Stamp) -> None:
        """The cooperative confirms the purchase happened as recorded."""
        self._require("confirm")
        self._confirmed(stamp=stamp)

    @event("Confirmed")
    def _confirmed(self, stamp: Stamp) -> None:
        self.status = P.CONFIRMED.value
        self.dispute_reason = None

    def dispute(self, stamp: Stamp) -> None:
        """The cooperative disputes the purchase, saying why; it stops counting until confirmed."""
        self._require("dispute")
        stamp.requiring_reason("dispute a purchase")
        self._disputed(stamp=stamp)

    @event("Disputed")
    def _disputed(self, stamp: Stamp) -> None:
        self.status = P.DISPUTED.value
        self.dispute_reason = stamp.reason

    def void(self, stamp: Stamp) -> None:
        """The municipality withdraws a purchase that did not happen, saying why."""
        self._require("void")
        stamp.requiring_reason("void a purchase")
        self._voided(stamp=stamp)

    @event("Voided")
    def _voided(self, stamp: Stamp) -> None:
        self.status = P.VOIDED.value

    def correct(self, changes: dict[str, Any], stamp: Stamp) -> bool:
        """Fix a recording mistake (amount, category, date, cooperative, protocol), with a reason. A corrected
        purchase goes back to ``recorded``: the cooperative confirms the corrected figures anew."""
        stamp.requiring_reason("correct a purchase")
        if self.status == P.VOIDED:
            raise PurchaseTransitionNotAllowed(self.status, "corrected", [])
        unknown = set(changes) - set(CORRECTABLE_FIELDS)
        if unknown:
            raise InvalidValue(f"purchases have no correctable field(s) {', '.join(sorted(unknown))}")
        checked = dict(changes)
        if "amount" in checked:
            checked["amount"] = values.money(checked["amount"], "amount")
        if "category" in checked:
            checked["category"] = values.text(checked["category"], "category", max_length=200)
        if "purchased_on" in checked:
            checked["purchased_on"] = _date(checked["purchased_on"])
        if "cooperative_code" in checked:
            checked["cooperative_code"] = slug(checked["cooperative_code"], "cooperative")
        checked = self._only_changed(checked)
        if not checked:
            return False
        self._corrected(changes=checked, stamp=stamp)
        return True

    @event("Corrected")
    def _corrected(self, changes: dict[str, Any], stamp: Stamp) -> None:
        for name, value in changes.items():
            setattr(self, name, value)
        self.status = P.RECORDED.value
        self.dispute_reason = None

    def _require(self, action: str) -> None:
        if PurchaseStatus(self.status) not in ALLOWED[action]:
            allowed = [name for name, sources in ALLOWED.items() if PurchaseStatus(self.status) in sources]
            raise PurchaseTransitionNotAllowed(self.status, action, allowed)


def _date(value: Any) -> date:
    if not isinstance(value, date):
        raise InvalidValue("the purchase date must be a date")
    return value
