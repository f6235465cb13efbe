"""Rule violations that every service's domain can raise."""

from __future__ import annotations


class DomainRuleViolation(Exception):
    """Base class of the domain's rule violations."""


class InvalidValue(DomainRuleViolation, ValueError):
    """A value does not satisfy the domain's rules (unknown status, bad period, negative amount, ...)."""


class ReasonRequired(InvalidValue):
    """The change needs a reason and none was given (corrections, drops, overrides, suspensions)."""


class TransitionRefused(DomainRuleViolation):
    """A lifecycle cannot move from its current state to the requested one; ``allowed`` lists the options."""

    what = "it"

    def __init__(self, current: str, requested: str, allowed: list[str]) -> None:
        self.current = current
        self.requested = requested
        self.allowed = allowed
        allowed_text = ", ".join(allowed) if allowed else "none"
        super().__init__(f"{self.what} cannot go from '{current}' to '{requested}'; allowed: {allowed_text}")
