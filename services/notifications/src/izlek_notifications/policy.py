"""Who may subscribe to what, and who may see and manage which subscriptions and deliveries.

- Coordinators and admins subscribe to anything, and see and manage every subscription and delivery.
- Liaisons and members subscribe only to events of their own organisation: the filter's organisation is theirs
  (set to it when omitted).
- Partner apps, read-only clients, subscribe webhooks (not e-mail) to what they may read: the partners'
  directory, and the plans their token's scopes name (``plan:<code>``, ``region:<name>``, ``plan:*``); the scopes
  are kept with the subscription and checked again for every event.
- Auditors read every subscription and delivery and subscribe to nothing.
- Everyone else sees and manages only their own subscriptions (by the token's subject); somebody else's answers
  404, as if it did not exist.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace

from izlek_common.domain.stamp import Author
from izlek_common.eventsourced.errors import NotPermitted
from izlek_notifications.domain.subscription import EMAIL, Channel, Subscription, SubscriptionFilter

EDITORS = frozenset({"coordinator", "admin"})
READERS_OF_ALL = EDITORS | {"auditor"}
ORGANISATION_BOUND = frozenset({"liaison", "member"})
SUBSCRIBERS = EDITORS | ORGANISATION_BOUND | {"partner_app"}

PLAN_SCOPE = "plan:"
REGION_SCOPE = "region:"
EVERY_PLAN = "plan:*"


def require_subscriber(author: Author) -> None:
    if author.role not in SUBSCRIBERS:
        raise NotPermitted(f"role '{author.role}' may not subscribe; allowed roles: "
                           f"{', '.join(sorted(SUBSCRIBERS))} (auditors read subscriptions and deliveries)")


def require_channel(author: Author, channel: Channel) -> None:
    if author.role == "partner_app" and channel.type == EMAIL:
        raise NotPermitted("a partner app subscribes by webhook only; e-mail subscriptions are for people")


def organisation_filter(author: Author, subscription_filter: SubscriptionFilter) -> SubscriptionFilter:
    """A liaison's or member's filter, limited to their own organisation."""
    if author.role not in ORGANISATION_BOUND:
        return subscription_filter
    if subscription_filter.organisation_code is None:
        return replace(subscription_filter, organisation_code=author.organisation_id)
    if subscription_filter.organisation_code != author.organisation_id:
        raise NotPermitted(
            f"a {author.role} of {author.organisation_id} subscribes to events of {author.organisation_id} only, "
            f"not of {subscription_filter.organisation_code}")
    return subscription_filter


def may_read(author: Author, subscription: Subscription) -> bool:
    return author.role in READERS_OF_ALL or subscription.is_owned_by(author.subject)


def may_manage(author: Author, subscription: Subscription) -> bool:
    return author.role in EDITORS or subscription.is_owned_by(author.subject)


def may_redrive_contact_deliveries(author: Author) -> bool:
    """Deliveries to organisations' contacts (no subscription) belong to the coordinators."""
    return author.role in EDITORS


@dataclass(frozen=True)
class PlanScope:
    """The plans a partner app may read, from its token's scopes; every plan for other roles."""

    plan_codes: frozenset[str] | None = None
    regions: frozenset[str] | None = None

    @classmethod
    def of(cls, role: str, scopes: Iterable[str]) -> PlanScope:
        scopes = tuple(scopes)
        if role != "partner_app" or EVERY_PLAN in scopes:
            return cls()
        codes = {s.removeprefix(PLAN_SCOPE) for s in scopes if s.startswith(PLAN_SCOPE)}
        regions = {region_key(s.removeprefix(REGION_SCOPE)) for s in scopes if s.startswith(REGION_SCOPE)}
        return cls(plan_codes=frozenset(codes), regions=frozenset(regions - {""}))

    def allows(self, code: str | None, region: str | None) -> bool:
        if self.plan_codes is None and self.regions is None:
            return True
        return (code is not None and code in (self.plan_codes or ())) or \
            region_key(region or "") in (self.regions or ())


def region_key(name: str) -> str:
    """Regions compare as people type Turkish names: ``İzmir``, ``izmir`` and ``IZMIR`` are one region (as the
    gateway compares them)."""
    letters = unicodedata.normalize("NFKD", name.replace("_", " ").replace("ı", "i"))
    plain = "".join(c for c in letters if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())
