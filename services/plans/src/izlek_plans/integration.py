"""From stored domain events to the versioned integration contracts published on NATS.

Domain events stay inside the service; what leaves it is a CloudEvent whose ``data`` is validated against
the contract registered for its type in ``izlek_common.contracts.plans``.
"""

from __future__ import annotations

import re
from typing import Any

import izlek_common.contracts.plans  # noqa: F401 - registers the contracts
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, Notification
from izlek_common.cloudevents import CloudEvent, contract_for, message_id

from izlek_plans.application import ENTITY_KINDS, PlansApplication, event_data
from izlek_plans.domain.base import is_correction
from izlek_plans.domain.stamp import Stamp
from izlek_plans.views import jsonable

SERVICE = "plans"
SOURCE = "urn:izlek:service:plans"
_AGGREGATE_OF_CLASS = {cls.__name__: kind for cls, kind in ENTITY_KINDS.items()}


def event_type(domain_event: DomainEventProtocol[Any]) -> str:
    """``ActionPlan.GoalAdded`` -> ``izlek.plans.plan.goal_added.v1``."""
    aggregate_class, event_name = type(domain_event).__qualname__.rsplit(".", 1)
    kind = _AGGREGATE_OF_CLASS[aggregate_class]
    return f"izlek.{SERVICE}.{kind}.{_snake(event_name)}.v1"


def to_cloudevent(domain_event: Any, notification_id: int) -> CloudEvent:
    """The CloudEvent of a stored plans event; its data is checked against the contract."""
    type_ = event_type(domain_event)
    kind = type_.split(".")[2]
    data = jsonable(event_data(domain_event))
    data.pop("originator_topic", None)
    data[f"{kind}_id"] = str(domain_event.originator_id)
    contract = contract_for(type_)
    payload = contract.model_validate(data).model_dump(mode="json")
    stamp: Stamp = domain_event.stamp
    return CloudEvent(
        id=message_id(SERVICE, notification_id),
        source=SOURCE,
        type=type_,
        subject=str(domain_event.originator_id),
        time=domain_event.timestamp,
        data=payload,
        notificationid=notification_id,
        aggregateversion=domain_event.originator_version,
        actor=stamp.author.subject,
        actorrole=stamp.author.role,
        actororg=stamp.author.organisation_id,
        validtime=stamp.valid_at or domain_event.timestamp,
        correlationid=stamp.correlation_id,
        reason=stamp.reason,
        kind="correction" if is_correction(type(domain_event).__name__) else "change",
    )


def translator(app: PlansApplication) -> Any:
    """The relay's translate function for this application's notifications."""
    mapper: Mapper[Any] = app.mapper

    def translate(notification: Notification) -> CloudEvent:
        return to_cloudevent(mapper.to_domain_event(notification), notification.id)

    return translate


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
