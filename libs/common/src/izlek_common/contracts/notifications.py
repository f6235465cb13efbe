"""Integration contracts of the notifications service.

Two kinds, both versioned and never changed once published:

- The ``data`` of its CloudEvents on ``izlek.notifications.subscription.>`` (stream ``NOTIFICATIONS``): the
  subscriptions' lifecycle. Webhook signing secrets never appear in them.
- The ``data`` of the reminders and digests it sends to webhooks (``izlek.notifications.reminder.>``,
  ``izlek.notifications.digest.>``). These are made by the service's scheduler, not stored as events, and so are
  not on NATS; subscriptions ask for them by type like for any other event.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from izlek_common.cloudevents import IntegrationEvent, register_contract


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SubscriberV1(_Part):
    subject: str
    role: str
    organisation_id: str | None
    name: str | None


class ChannelV1(_Part):
    type: str
    """``webhook`` or ``email``."""
    url: str | None
    address: str | None


class FilterV1(_Part):
    event_types: list[str]
    plan_id: UUID | None
    organisation_code: str | None
    protocol_id: UUID | None


# --- subscription ----------------------------------------------------------------------------------------------


@register_contract
class SubscriptionSubscribedV1(IntegrationEvent):
    """A principal subscribed to events, by webhook or e-mail, in Turkish or English."""

    event_type = "izlek.notifications.subscription.subscribed.v1"
    version = 1
    subscription_id: UUID
    owner: SubscriberV1
    scopes: list[str]
    channel: ChannelV1
    filter: FilterV1
    language: str


@register_contract
class SubscriptionChangedV1(IntegrationEvent):
    """The channel, the filter or the language of a subscription changed (``changes`` holds the new values)."""

    event_type = "izlek.notifications.subscription.changed.v1"
    version = 1
    subscription_id: UUID
    changes: dict[str, Any]


@register_contract
class SubscriptionPausedV1(IntegrationEvent):
    event_type = "izlek.notifications.subscription.paused.v1"
    version = 1
    subscription_id: UUID


@register_contract
class SubscriptionResumedV1(IntegrationEvent):
    event_type = "izlek.notifications.subscription.resumed.v1"
    version = 1
    subscription_id: UUID


@register_contract
class SubscriptionDeletedV1(IntegrationEvent):
    event_type = "izlek.notifications.subscription.deleted.v1"
    version = 1
    subscription_id: UUID


@register_contract
class SubscriptionSecretRotatedV1(IntegrationEvent):
    """A webhook's signing secret was replaced (the secret itself is never published)."""

    event_type = "izlek.notifications.subscription.secret_rotated.v1"
    version = 1
    subscription_id: UUID


# --- reminders and digests (webhook payloads) ----------------------------------------------------------------


class CommitmentDueV1(_Part):
    commitment_id: UUID
    plan_id: UUID | None
    code: str
    title: str
    status: str
    due_date: date
    organisation_codes: list[str]


@register_contract
class CommitmentDueSoonV1(IntegrationEvent):
    """A commitment that is neither done nor dropped is due within the configured number of days."""

    event_type = "izlek.notifications.reminder.commitment_due_soon.v1"
    version = 1
    commitment: CommitmentDueV1
    days_left: int


@register_contract
class CommitmentOverdueV1(IntegrationEvent):
    """A commitment that is neither done nor dropped is past its due date."""

    event_type = "izlek.notifications.reminder.commitment_overdue.v1"
    version = 1
    commitment: CommitmentDueV1
    days_overdue: int


@register_contract
class ProtocolTermEndingV1(IntegrationEvent):
    """A protocol in effect (signed, in force or renewed) reaches the end of its term within the configured
    number of days. ``term_end`` is as recorded ("2024", "2024-09" or "2024-09-30"); ``ends_on`` the last day it
    covers."""

    event_type = "izlek.notifications.reminder.protocol_term_ending.v1"
    version = 1
    protocol_id: UUID
    code: str
    title: str
    status: str
    term_end: str
    ends_on: date
    days_left: int
    party_codes: list[str]


class DigestCommitmentV1(_Part):
    commitment_id: UUID
    code: str
    title: str
    status: str
    due_date: date | None
    overdue: bool


class DigestProtocolV1(_Part):
    protocol_id: UUID
    code: str
    title: str
    status: str
    term_end: str | None


class DigestChangeV1(_Part):
    event_id: str
    type: str
    time: datetime
    entity: str
    summary: str


@register_contract
class WeeklyDigestV1(IntegrationEvent):
    """An organisation's week: its open commitments (overdue first, then by due date), its protocols, and what
    changed about them during the seven days before it (``week`` is the ISO week, e.g. ``2026-W25``). Long lists
    are cut; ``changes_total`` counts every change."""

    event_type = "izlek.notifications.digest.weekly.v1"
    version = 1
    organisation_code: str
    organisation_name: str
    week: str
    open_commitments: list[DigestCommitmentV1]
    protocols: list[DigestProtocolV1]
    changes: list[DigestChangeV1]
    changes_total: int
