"""Domain errors of the partners service: each names the rule that was broken."""

from __future__ import annotations

from izlek_common.domain.errors import DomainRuleViolation, InvalidValue, ReasonRequired, TransitionRefused

__all__ = [
    "InvalidValue",
    "NotAMunicipality",
    "ProtocolTransitionNotAllowed",
    "PurchaseTransitionNotAllowed",
    "ReasonRequired",
]


class ProtocolTransitionNotAllowed(TransitionRefused):
    """A protocol cannot move from its current status to the requested one."""

    what = "a protocol"


class PurchaseTransitionNotAllowed(TransitionRefused):
    """A purchase cannot be confirmed, disputed or voided from its current status."""

    what = "a purchase"


class NotAMunicipality(DomainRuleViolation):
    """Only municipalities designate liaisons and declare purchase volumes."""
