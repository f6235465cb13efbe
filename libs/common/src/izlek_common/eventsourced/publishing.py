"""From stored domain events to the versioned integration contracts published on NATS.

Domain events stay inside their service; what leaves it is a CloudEvent whose ``data`` is validated against
the contract registered for its type (``izlek_common.contracts``). A stored event without a contract stops
the relay loudly rather than being skipped: nothing stored may go unpublished.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from eventsourcing.persistence import Notification

from izlek_common.cloudevents import CloudEvent, contract_for, message_id
from izlek_common.domain.base import TrackedAggregate, is_correction
from izlek_common.domain.stamp import Stamp
from izlek_common.eventsourced.application import TrackedApplication, event_data
from izlek_common.eventsourced.views import jsonable
from izlek_common.relay import Translate


def event_type(service: str, entity_kinds: dict[type[TrackedAggregate], str], domain_event: Any) -> str:
    """``ActionPlan.GoalAdded`` of the plans service -> ``izlek.plans.plan.goal_added.v1``."""
    return _event_type_of_class(service, tuple(entity_kinds.items()), type(domain_event))


@functools.cache
def _event_type_of_class(service: str, entity_kinds: tuple[tuple[type[TrackedAggregate], str], ...],
                         event_class: type) -> str:
    # Cached: the relay names every event it publishes, and the name depends on the event's class only.
    kind = next(kind for cls, kind in entity_kinds if issubclass(event_class, cls.Event))
    return f"izlek.{service}.{kind}.{_snake(event_class.__name__)}.v1"


def to_cloudevent(service: str, entity_kinds: dict[type[TrackedAggregate], str], domain_event: Any,
                  notification_id: int) -> CloudEvent:
    """The CloudEvent of a stored event; its data (with ``<entity>_id``) is checked against the contract."""
    type_ = event_type(service, entity_kinds, domain_event)
    kind = type_.split(".")[2]
    data = jsonable(event_data(domain_event))
    data[f"{kind}_id"] = str(domain_event.originator_id)
    payload = contract_for(type_).model_validate(data).model_dump(mode="json")
    stamp: Stamp = domain_event.stamp
    return CloudEvent(
        id=message_id(service, notification_id),
        source=f"urn:izlek:service:{service}",
        type=type_,
        subject=str(domain_event.originator_id),
        time=domain_event.timestamp,
        data=payload,
        notificationid=notification_id,
        aggregateversion=domain_event.originator_version,
        actor=stamp.author.subject,
        actorrole=stamp.author.role,
        actororg=stamp.author.organisation_id,
        actorname=stamp.author.name,
        validtime=stamp.valid_at or domain_event.timestamp,
        validprecision=stamp.valid_precision,
        correlationid=stamp.correlation_id,
        reason=stamp.reason,
        kind="correction" if is_correction(type(domain_event).__name__) else "change",
    )


def cloudevent_translator(app: TrackedApplication) -> Translate:
    """The relay's translate function for an application's notifications."""

    def translate(notification: Notification) -> CloudEvent:
        return to_cloudevent(app.name, app.entity_kinds, app.mapper.to_domain_event(notification), notification.id)

    return translate


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
