"""The notifications domain's value objects, by the names they are stored under (never rename one)."""

from __future__ import annotations

from izlek_notifications.domain.subscription import Channel, SubscriptionFilter

NOTIFICATIONS_VALUE_TYPES: dict[str, type] = {
    "notifications_channel": Channel,
    "notifications_filter": SubscriptionFilter,
}
