"""Which template writes the message about an event type (``templates/<language>/<name>.subject.j2`` and
``.txt.j2``, optionally ``.html.j2``)."""

from __future__ import annotations

TEMPLATE_OF_TYPE = {
    "izlek.partners.protocol.status_changed.v1": "protocol_status_changed",
    "izlek.plans.commitment.status_changed.v1": "commitment_status_changed",
    "izlek.notifications.reminder.commitment_due_soon.v1": "commitment_due_soon",
    "izlek.notifications.reminder.commitment_overdue.v1": "commitment_overdue",
    "izlek.notifications.reminder.protocol_term_ending.v1": "protocol_term_ending",
    "izlek.notifications.digest.weekly.v1": "weekly_digest",
}
GENERIC = "event"


def template_for(event_type: str) -> str:
    """The template of an event type; every other type has the generic one."""
    return TEMPLATE_OF_TYPE.get(event_type, GENERIC)
