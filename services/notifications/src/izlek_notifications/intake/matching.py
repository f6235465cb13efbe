"""Who receives an event: the subscriptions whose filter it passes, and the contacts of the organisations it
concerns (without subscribing)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from izlek_notifications.domain.event_types import matches_any
from izlek_notifications.domain.subscription import EMAIL, SubscriptionState
from izlek_notifications.intake.facts import Facts
from izlek_notifications.policy import PlanScope
from izlek_notifications.state.tables import organisations, subscriptions

DIGEST_PREFIX = "izlek.notifications.digest."


@dataclass(frozen=True)
class Recipient:
    """One receiver of an event: a subscription, or an organisation's contact (``contact:<code>``)."""

    key: str
    channel: str
    target: str
    language: str
    subscription_id: str | None = None
    organisation_code: str | None = None


def subscription_key(subscription_id: str) -> str:
    return f"subscription:{subscription_id}"


def contact_key(organisation_code: str) -> str:
    return f"contact:{organisation_code}"


def passes(subscription: Mapping[str, Any], event_type: str, facts: Facts) -> bool:
    """Whether an event with these facts passes a subscription's filter and its owner's rights."""
    if not matches_any(subscription["event_types"], event_type):
        return False
    if subscription["plan_id"] is not None and subscription["plan_id"] != facts.plan_id:
        return False
    if subscription["organisation_code"] is not None and subscription["organisation_code"] not in facts.organisations:
        return False
    if subscription["protocol_id"] is not None and subscription["protocol_id"] != facts.protocol_id:
        return False
    if subscription["owner_role"] == "partner_app":
        if event_type.startswith(DIGEST_PREFIX):
            return False  # a digest tells an organisation about every plan; partner apps see their scopes only
        if facts.plan_id is not None or event_type.startswith("izlek.plans."):
            plan = facts.plan or {}
            if not PlanScope.of("partner_app", subscription["scopes"]).allows(plan.get("code"), plan.get("region")):
                return False
    return True


def subscribers(session: Session, event_type: str, recorded_at: datetime, facts: Facts) -> list[Recipient]:
    """The active subscriptions, made before the event was recorded, whose filter it passes."""
    rows = session.execute(select(subscriptions).where(
        subscriptions.c.state == SubscriptionState.ACTIVE.value,
        subscriptions.c.created_at <= recorded_at,
    ).order_by(subscriptions.c.created_at, subscriptions.c.id)).mappings().all()
    return [Recipient(key=subscription_key(row["id"]), channel=row["channel"], target=row["target"],
                      language=row["language"], subscription_id=row["id"])
            for row in rows if passes(row, event_type, facts)]


def contacts(session: Session, codes: Iterable[str], language: str, *, besides: Iterable[Recipient] = ()
             ) -> list[Recipient]:
    """The contacts (e-mail addresses as the partners service publishes them) of these organisations; an address
    an e-mail subscription among ``besides`` already receives is left out, so nobody gets the same news twice."""
    taken = {r.target.casefold() for r in besides if r.channel == EMAIL}
    codes = sorted(set(codes))
    if not codes:
        return []
    rows = session.execute(select(organisations.c.code, organisations.c.email).where(
        organisations.c.code.in_(codes), organisations.c.email.is_not(None))).all()
    result = []
    for code, email in sorted(rows):
        if email.casefold() in taken:
            continue
        taken.add(email.casefold())
        result.append(Recipient(key=contact_key(code), channel=EMAIL, target=email, language=language,
                                organisation_code=code))
    return result


def organisation_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    codes = sorted(set(codes))
    if not codes:
        return {}
    rows = session.execute(select(organisations.c.code, organisations.c.name).where(organisations.c.code.in_(codes)))
    return {code: name for code, name in rows}
