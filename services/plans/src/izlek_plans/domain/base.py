"""The base of every plans aggregate: each event carries a stamp, and each aggregate has a view."""

from __future__ import annotations

from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from izlek_plans.domain.stamp import Stamp


class TrackedAggregate(Aggregate):
    """An aggregate whose every event carries a :class:`Stamp` (author, valid time, reason).

    Subclasses name their fields in ``VIEW_FIELDS``; :meth:`view` is what the API shows and what
    history diffs, so every state change is visible as a field diff without per-event code.
    """

    VIEW_FIELDS: ClassVar[tuple[str, ...]] = ()

    class Event(Aggregate.Event):
        stamp: Stamp

    def view(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.VIEW_FIELDS}

    def _only_changed(self, changes: dict[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in changes.items() if getattr(self, name) != value}


def is_correction(event_class_name: str) -> bool:
    """Corrections of recording mistakes are their own event types, named ``...Corrected``."""
    return event_class_name.endswith("Corrected")
