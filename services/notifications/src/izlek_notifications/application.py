"""NotificationsApplication: subscriptions, as events. Each command is one save.

A webhook subscription's signing secret is made here and kept in the state database (``SecretStore``), never in
the event log; it is written before the subscription's event and removed again if that event cannot be saved.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import izlek_common.contracts.notifications
import izlek_common.contracts.partners
import izlek_common.contracts.plans  # noqa: F401
from izlek_common.cloudevents import all_contracts
from izlek_common.domain import values
from izlek_common.domain.base import TrackedAggregate
from izlek_common.domain.stamp import Author, Stamp
from izlek_common.eventsourced.application import TrackedApplication
from izlek_common.eventsourced.errors import EntityNotFound, NotPermitted
from izlek_notifications import policy
from izlek_notifications.domain.errors import InvalidValue, SubscriptionDeleted
from izlek_notifications.domain.event_types import checked_event_types
from izlek_notifications.domain.subscription import (
    EMAIL,
    WEBHOOK,
    Channel,
    Subscription,
    SubscriptionFilter,
)
from izlek_notifications.state.directory import PlanDirectory
from izlek_notifications.state.secrets import SecretStore
from izlek_notifications.transcodings import NOTIFICATIONS_VALUE_TYPES
from izlek_notifications.webhooks.addresses import WebhookGuard
from izlek_notifications.webhooks.signing import new_secret

ENTITY_KINDS: dict[type[TrackedAggregate], str] = {Subscription: "subscription"}

_ORGANISATION_CODE_LENGTH = 200


def subscribable_event_types() -> list[str]:
    """The event types a subscription may ask for: every service's events, reminders and digests (not the
    subscriptions' own lifecycle, which the service does not deliver)."""
    return [t for t in all_contracts() if not t.startswith("izlek.notifications.subscription.")]


class NotificationsApplication(TrackedApplication):
    """Subscriptions to events: create, change, pause, resume, delete, rotate a webhook's secret."""

    name = "notifications"
    entity_kinds = ENTITY_KINDS
    value_types = NOTIFICATIONS_VALUE_TYPES

    def __init__(self, env: dict[str, str] | None = None, *, secrets: SecretStore | None = None,
                 guard: WebhookGuard | None = None, plans: PlanDirectory | None = None,
                 secret_grace: timedelta = timedelta(days=1)) -> None:
        super().__init__(env)
        self.secrets = secrets
        self.guard = guard or WebhookGuard()
        self.plans = plans
        self.secret_grace = secret_grace

    # --- commands ---------------------------------------------------------------------------------------------

    def subscribe(self, stamp: Stamp, *, channel: dict[str, Any], filter: dict[str, Any] | None = None,
                  language: str = "tr", scopes: tuple[str, ...] = ()) -> tuple[UUID, str | None]:
        """Subscribe the stamp's author to events; returns the id and, for a webhook, its signing secret (shown
        this once)."""
        author = stamp.author
        policy.require_subscriber(author)
        checked_channel = self._channel(channel)
        policy.require_channel(author, checked_channel)
        checked_filter = self._filter(author, scopes, filter or {})
        subscription = Subscription.subscribe(subscription_id=uuid4(), owner=author, scopes=tuple(scopes),
                                              channel=checked_channel, filter=checked_filter, language=language,
                                              stamp=stamp)
        secret = None
        if checked_channel.type == WEBHOOK:
            secret = new_secret()
            self._secrets().put(subscription.id, secret, datetime.now(UTC))
        try:
            self._save(subscription)
        except BaseException:
            if secret is not None:
                self._secrets().remove(subscription.id)
            raise
        return subscription.id, secret

    def change_subscription(self, subscription_id: UUID, changes: dict[str, Any], stamp: Stamp,
                            expected_version: int | None = None) -> int:
        """Change the channel's URL or address, the filter, or the language."""
        subscription = self._managed(subscription_id, stamp.author, expected_version)
        checked: dict[str, Any] = {}
        if "channel" in changes:
            checked["channel"] = self._channel(changes["channel"])
            policy.require_channel(stamp.author, checked["channel"])
        if "filter" in changes:
            # The owner's rights decide, also when a coordinator changes a liaison's subscription.
            checked["filter"] = self._filter(subscription.owner, subscription.scopes, changes["filter"] or {})
        if "language" in changes:
            checked["language"] = changes["language"]
        unknown = set(changes) - {"channel", "filter", "language"}
        if unknown:
            raise InvalidValue(f"a subscription has no changeable field(s) {', '.join(sorted(unknown))}")
        subscription.change(checked, stamp)
        return self._save(subscription)

    def pause_subscription(self, subscription_id: UUID, stamp: Stamp, expected_version: int | None = None) -> int:
        """Stop delivering until resumed (events meanwhile are not delivered; deliveries waiting are held)."""
        subscription = self._managed(subscription_id, stamp.author, expected_version)
        subscription.pause(stamp)
        return self._save(subscription)

    def resume_subscription(self, subscription_id: UUID, stamp: Stamp,
                            expected_version: int | None = None) -> int:
        subscription = self._managed(subscription_id, stamp.author, expected_version)
        subscription.resume(stamp)
        return self._save(subscription)

    def delete_subscription(self, subscription_id: UUID, stamp: Stamp,
                            expected_version: int | None = None) -> int:
        """End a subscription; its history stays, its secret is destroyed, its waiting deliveries die."""
        subscription = self._managed(subscription_id, stamp.author, expected_version)
        subscription.delete(stamp)
        version = self._save(subscription)
        if subscription.channel.type == WEBHOOK:
            self._secrets().remove(subscription.id)
        return version

    def rotate_secret(self, subscription_id: UUID, stamp: Stamp, expected_version: int | None = None) -> str:
        """Replace a webhook's signing secret; returns the new one (shown this once). The old one keeps signing
        beside it for the grace period."""
        subscription = self._managed(subscription_id, stamp.author, expected_version)
        subscription.rotate_secret(stamp)
        secret = new_secret()
        old = self._secrets().rotate(subscription.id, secret, datetime.now(UTC), self.secret_grace)
        try:
            self._save(subscription)
        except BaseException:
            if old is not None:
                self._secrets().restore(subscription.id, old)
            raise
        return secret

    # --- queries ----------------------------------------------------------------------------------------------

    def get_subscription(self, subscription_id: UUID, reader: Author) -> Subscription:
        """A subscription the reader may see (another's answers as unknown)."""
        subscription = self._visible(subscription_id, reader, policy.may_read)
        if subscription.is_deleted:
            raise SubscriptionDeleted(f"subscription {subscription_id} was deleted on "
                                      f"{subscription.modified_on:%Y-%m-%d}; its history stays")
        return subscription

    def list_subscriptions(self, reader: Author, *, owner: str | None = None,
                           state: str | None = None) -> list[Subscription]:
        """The subscriptions the reader may see (not the deleted ones, unless ``state`` is ``deleted``)."""
        found = self._read_many(Subscription, self.ids_created_by(Subscription.Subscribed), as_of=None, valid_at=None)
        return [s for s in found
                if policy.may_read(reader, s)
                and (owner is None or s.owner.subject == owner)
                and (s.state == state if state is not None else not s.is_deleted)]

    def may_see(self, subscription_id: UUID, reader: Author) -> bool:
        """Whether the reader may see the subscription and what is delivered for it."""
        try:
            self._visible(subscription_id, reader, policy.may_read)
        except EntityNotFound:
            return False
        return True

    def require_manager(self, subscription_id: UUID, author: Author) -> Subscription:
        """The subscription, provided ``author`` may manage it (its deliveries included)."""
        return self._visible(subscription_id, author, policy.may_manage)

    # --- helpers ----------------------------------------------------------------------------------------------

    def _managed(self, subscription_id: UUID, author: Author, expected_version: int | None) -> Subscription:
        policy.require_subscriber(author)
        subscription = self._visible(subscription_id, author, policy.may_manage)
        if subscription.is_deleted:
            raise SubscriptionDeleted(f"subscription {subscription_id} was deleted; its history stays")
        return self._get(Subscription, subscription_id, expected_version)

    def _visible(self, subscription_id: UUID, reader: Author, allowed: Any) -> Subscription:
        subscription = self._get(Subscription, subscription_id)
        if not allowed(reader, subscription):
            raise EntityNotFound(f"no subscription {subscription_id}")
        return subscription

    def _channel(self, data: Any) -> Channel:
        if isinstance(data, Channel):
            channel = data
        elif not isinstance(data, dict):
            raise InvalidValue("a channel is {\"type\": \"webhook\", \"url\": ...} or {\"type\": \"email\", "
                               "\"address\": ...}")
        elif data.get("type") == WEBHOOK:
            channel = Channel.webhook(data.get("url"))  # type: ignore[arg-type]
        elif data.get("type") == EMAIL:
            channel = Channel.email(data.get("address"))  # type: ignore[arg-type]
        else:
            raise InvalidValue("a channel's type is webhook or email")
        if channel.type == WEBHOOK:
            self.guard.check(channel.target)
        return channel

    def _filter(self, author: Author, scopes: tuple[str, ...], data: dict[str, Any] | SubscriptionFilter
                ) -> SubscriptionFilter:
        if isinstance(data, SubscriptionFilter):
            data = {"event_types": data.event_types, "plan_id": data.plan_id,
                    "organisation_code": data.organisation_code, "protocol_id": data.protocol_id}
        unknown = set(data) - {"event_types", "plan_id", "organisation_code", "protocol_id"}
        if unknown:
            raise InvalidValue(f"a filter has no field(s) {', '.join(sorted(unknown))}")
        organisation = data.get("organisation_code")
        checked = SubscriptionFilter(
            event_types=checked_event_types(data.get("event_types") or (), subscribable_event_types()),
            plan_id=_uuid(data.get("plan_id"), "plan_id"),
            organisation_code=None if organisation is None else values.text(
                organisation, "organisation code", max_length=_ORGANISATION_CODE_LENGTH),
            protocol_id=_uuid(data.get("protocol_id"), "protocol_id"),
        )
        checked = policy.organisation_filter(author, checked)
        if author.role == "partner_app" and checked.plan_id is not None:
            self._require_plan_in_scope(author, scopes, checked.plan_id)
        return checked

    def _require_plan_in_scope(self, author: Author, scopes: tuple[str, ...], plan_id: UUID) -> None:
        known = self.plans.plan(plan_id) if self.plans is not None else None
        if known is None:
            raise InvalidValue(f"no plan {plan_id} is known to the notifications service")
        if not policy.PlanScope.of(author.role, scopes).allows(known.code, known.region):
            raise NotPermitted(f"plan {known.code} is outside this partner app's scopes ({' '.join(scopes) or 'none'})")

    def _secrets(self) -> SecretStore:
        if self.secrets is None:
            raise RuntimeError("the notifications application has no secret store (build it with bootstrap)")
        return self.secrets


def _uuid(value: Any, what: str) -> UUID | None:
    if value is None or isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        raise InvalidValue(f"{what} must be a UUID, got {value!r}") from None
