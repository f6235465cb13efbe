"""Domain errors: each names the rule that was broken."""

from __future__ import annotations


class PlansDomainError(Exception):
    """Base class of the plans domain's rule violations."""


class InvalidValue(PlansDomainError, ValueError):
    """A value does not satisfy the domain's rules (unknown status, bad period, negative target, ...)."""


class ReasonRequired(InvalidValue):
    """The change needs a reason and none was given (corrections, drops, overrides)."""


class UnknownPart(PlansDomainError, LookupError):
    """A goal, target or actor group code that the plan does not have."""


class DuplicateCode(PlansDomainError):
    """A goal, target or actor group with this code already exists in the plan."""


class StatusTransitionNotAllowed(PlansDomainError):
    """A commitment cannot move from its current status to the requested one."""

    def __init__(self, current: str, requested: str, allowed: list[str]) -> None:
        self.current = current
        self.requested = requested
        self.allowed = allowed
        allowed_text = ", ".join(allowed) if allowed else "none"
        super().__init__(f"a commitment cannot go from '{current}' to '{requested}'; allowed: {allowed_text}")
