"""Domain errors of the plans service: each names the rule that was broken."""

from __future__ import annotations

from izlek_common.domain.errors import DomainRuleViolation, InvalidValue, ReasonRequired, TransitionRefused

__all__ = [
    "DuplicateCode",
    "InvalidValue",
    "ReasonRequired",
    "StatusTransitionNotAllowed",
    "UnknownPart",
]


class UnknownPart(DomainRuleViolation, LookupError):
    """A goal, target or actor group code that the plan does not have."""


class DuplicateCode(DomainRuleViolation):
    """A goal, target or actor group with this code already exists in the plan."""


class StatusTransitionNotAllowed(TransitionRefused):
    """A commitment cannot move from its current status to the requested one."""

    what = "a commitment"
