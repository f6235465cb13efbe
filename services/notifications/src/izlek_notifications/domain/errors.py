"""Rule violations of the notifications domain: each names the rule that was broken."""

from __future__ import annotations

from izlek_common.domain.errors import DomainRuleViolation, InvalidValue, TransitionRefused

__all__ = ["InvalidValue", "SubscriptionDeleted", "SubscriptionTransitionNotAllowed", "UnsafeWebhookURL"]


class SubscriptionTransitionNotAllowed(TransitionRefused):
    """A subscription cannot be paused, resumed or deleted from its current state."""

    what = "a subscription"


class SubscriptionDeleted(DomainRuleViolation, LookupError):
    """The subscription was deleted: it is kept in its history only."""


class UnsafeWebhookURL(InvalidValue):
    """A webhook URL that Izlek will not call: not http(s), credentials in it, or a host that resolves to an
    address that is not public (loopback, private, link-local, ...) and is not allow-listed."""

    def __init__(self, message: str, *, url: str, host: str | None = None, address: str | None = None,
                 category: str | None = None) -> None:
        self.url = url
        self.host = host
        self.address = address
        self.category = category
        super().__init__(message)
