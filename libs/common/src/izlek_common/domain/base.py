"""The base of every Izlek aggregate: each event carries a stamp, and each aggregate has a view."""

from __future__ import annotations

from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from izlek_common.domain.stamp import Stamp


class TrackedAggregate(Aggregate):
    """An aggregate whose every event carries a :class:`Stamp` (author, valid time, reason).

    Subclasses name their fields in ``VIEW_FIELDS``; :meth:`view` is what the API shows and what
    history diffs, so every state change is visible as a field diff without per-event code.
    """

    VIEW_FIELDS: ClassVar[tuple[str, ...]] = ()

    class Event(Aggregate.Event):
        stamp: Stamp

        def mutate(self, aggregate: Any) -> Any:
            aggregate = super().mutate(aggregate)
            # Reads compare this with the clock to tell whether a scheduled (future-valid) change is pending.
            valid_at = self.stamp.valid_at or self.timestamp
            if aggregate.latest_valid_at is None or valid_at > aggregate.latest_valid_at:
                aggregate.latest_valid_at = valid_at
            return aggregate

    latest_valid_at = None  # the latest valid time of its events (not annotated: it is not an event field)

    def view(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.VIEW_FIELDS}

    def _only_changed(self, changes: dict[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in changes.items() if getattr(self, name) != value}


def is_correction(event_class_name: str) -> bool:
    """Corrections of recording mistakes are their own event types, named ``...Corrected``."""
    return event_class_name.endswith("Corrected")
