"""What stops an event from being projected."""

from __future__ import annotations


class UnknownEventType(LookupError):
    """No projection handles this event type (a newer producer, or a message that is not ours)."""


class UnprojectableEvent(ValueError):
    """The event does not fit the read models: a change to an entity never seen, or to a field they lack."""
