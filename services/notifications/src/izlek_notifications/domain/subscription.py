"""Subscription: who wants to hear about what, through which channel, in which language."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from izlek_common.domain import values
from izlek_common.domain.base import TrackedAggregate
from izlek_common.domain.stamp import Author, Stamp
from izlek_notifications.domain.errors import (
    InvalidValue,
    SubscriptionDeleted,
    SubscriptionTransitionNotAllowed,
)

LANGUAGES = ("tr", "en")
WEBHOOK = "webhook"
EMAIL = "email"
MAX_URL_LENGTH = 2000
MAX_ADDRESS_LENGTH = 254
# Deliberately plain: one @, no spaces, a dot in the domain. Whether the mailbox exists only a message can tell.
_EMAIL_ADDRESS = re.compile(r"[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\].]+")


class SubscriptionState(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    DELETED = "deleted"


S = SubscriptionState
TRANSITIONS: dict[SubscriptionState, tuple[SubscriptionState, ...]] = {
    S.ACTIVE: (S.PAUSED, S.DELETED),
    S.PAUSED: (S.ACTIVE, S.DELETED),
    S.DELETED: (),
}


@dataclass(frozen=True)
class Channel:
    """Where messages go: a webhook URL, or an e-mail address."""

    type: str
    url: str | None = None
    address: str | None = None

    @classmethod
    def webhook(cls, url: str) -> Channel:
        checked = values.text(url, "webhook URL", max_length=MAX_URL_LENGTH)
        if not checked.lower().startswith(("http://", "https://")):
            raise InvalidValue("a webhook URL starts with https:// (or http://)")
        return cls(type=WEBHOOK, url=checked)

    @classmethod
    def email(cls, address: str) -> Channel:
        checked = values.text(address, "e-mail address", max_length=MAX_ADDRESS_LENGTH)
        if not _EMAIL_ADDRESS.fullmatch(checked):
            raise InvalidValue(f"{address!r} is not an e-mail address")
        return cls(type=EMAIL, address=checked)

    @property
    def target(self) -> str:
        """The URL or the address."""
        return self.url if self.type == WEBHOOK else self.address  # type: ignore[return-value]


@dataclass(frozen=True)
class SubscriptionFilter:
    """Which events: of these types or patterns (none: every type), and, when given, of this plan, involving
    this organisation, about this protocol. Every given part must hold."""

    event_types: tuple[str, ...] = ()
    plan_id: UUID | None = None
    organisation_code: str | None = None
    protocol_id: UUID | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "event_types", tuple(self.event_types))


class Subscription(TrackedAggregate):
    """A principal's subscription to events, delivered by webhook or e-mail. Its webhook secret is not part of
    it: secrets are kept out of the event log, in the service's state database."""

    VIEW_FIELDS = ("owner", "scopes", "channel", "filter", "language", "state")

    @staticmethod
    def create_id(subscription_id: UUID) -> UUID:
        return subscription_id

    @classmethod
    def subscribe(cls, *, subscription_id: UUID, owner: Author, scopes: tuple[str, ...], channel: Channel,
                  filter: SubscriptionFilter, language: str, stamp: Stamp) -> Subscription:
        """Subscribe ``owner`` (whose token had ``scopes``) to the events ``filter`` selects."""
        return cls(subscription_id=subscription_id, owner=owner, scopes=tuple(scopes), channel=channel,
                   filter=filter, language=_language(language), stamp=stamp)

    @event("Subscribed")
    def __init__(self, subscription_id: UUID, owner: Author, scopes: tuple[str, ...], channel: Channel,
                 filter: SubscriptionFilter, language: str, stamp: Stamp) -> None:
        self.owner = owner
        self.scopes = tuple(scopes)
        self.channel = channel
        self.filter = filter
        self.language = language
        self.state = S.ACTIVE.value

    @property
    def is_deleted(self) -> bool:
        return self.state == S.DELETED

    def is_owned_by(self, subject: str) -> bool:
        return self.owner.subject == subject

    def change(self, changes: dict[str, Any], stamp: Stamp) -> bool:
        """Change the channel, the filter or the language; False when nothing differs."""
        self._require_not_deleted()
        unknown = set(changes) - {"channel", "filter", "language"}
        if unknown:
            raise InvalidValue(f"a subscription has no changeable field(s) {', '.join(sorted(unknown))}")
        checked = dict(changes)
        if "language" in checked:
            checked["language"] = _language(checked["language"])
        if "channel" in checked and checked["channel"].type != self.channel.type:
            raise InvalidValue(f"a {self.channel.type} subscription stays one; subscribe anew for the other channel")
        checked = self._only_changed(checked)
        if not checked:
            return False
        self._changed(changes=checked, stamp=stamp)
        return True

    @event("Changed")
    def _changed(self, changes: dict[str, Any], stamp: Stamp) -> None:
        for name, value in changes.items():
            setattr(self, name, value)

    def pause(self, stamp: Stamp) -> bool:
        """Stop delivering: events while paused are not delivered, deliveries waiting are held."""
        if not self._moves_to(S.PAUSED):
            return False
        self._paused(stamp=stamp)
        return True

    @event("Paused")
    def _paused(self, stamp: Stamp) -> None:
        self.state = S.PAUSED.value

    def resume(self, stamp: Stamp) -> bool:
        if not self._moves_to(S.ACTIVE):
            return False
        self._resumed(stamp=stamp)
        return True

    @event("Resumed")
    def _resumed(self, stamp: Stamp) -> None:
        self.state = S.ACTIVE.value

    def delete(self, stamp: Stamp) -> None:
        """End the subscription for good; its history stays."""
        self._require_not_deleted()
        self._deleted(stamp=stamp)

    @event("Deleted")
    def _deleted(self, stamp: Stamp) -> None:
        self.state = S.DELETED.value

    def rotate_secret(self, stamp: Stamp) -> None:
        """Record that the webhook secret was replaced (the secret itself never enters the event log)."""
        self._require_not_deleted()
        if self.channel.type != WEBHOOK:
            raise InvalidValue("only webhook subscriptions have a signing secret")
        self._secret_rotated(stamp=stamp)

    @event("SecretRotated")
    def _secret_rotated(self, stamp: Stamp) -> None:
        pass

    def _moves_to(self, requested: SubscriptionState) -> bool:
        self._require_not_deleted()
        current = SubscriptionState(self.state)
        if current is requested:
            return False
        allowed = TRANSITIONS[current]
        if requested not in allowed:
            raise SubscriptionTransitionNotAllowed(current.value, requested.value, [s.value for s in allowed])
        return True

    def _require_not_deleted(self) -> None:
        if self.is_deleted:
            raise SubscriptionDeleted(f"subscription {self.id} was deleted on {self.modified_on:%Y-%m-%d}")

    def view(self) -> dict[str, Any]:
        result = super().view()
        result["owner"] = {k: v for k, v in asdict(self.owner).items()}
        result["channel"] = {k: v for k, v in asdict(self.channel).items() if v is not None}
        result["filter"] = asdict(self.filter)
        result["scopes"] = list(self.scopes)
        return result


def _language(value: object) -> str:
    if value not in LANGUAGES:
        raise InvalidValue(f"language is tr (Türkçe) or en (English), not {value!r}")
    return str(value)
