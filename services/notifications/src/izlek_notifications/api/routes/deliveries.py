"""Deliveries: what was sent for which event to whom, each attempt, and redriving the dead ones."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request

from izlek_common.auth import Principal
from izlek_common.entity_http import author_of
from izlek_common.eventsourced.errors import EntityNotFound
from izlek_common.eventsourced.views import jsonable
from izlek_common.problems import Forbidden, NotFound, TransitionNotAllowed
from izlek_notifications.api.dependencies import AppDep, DeliveriesDep, PrincipalDep
from izlek_notifications.application import NotificationsApplication
from izlek_notifications.delivery.store import DeliveryState
from izlek_notifications.domain.subscription import SubscriptionState
from izlek_notifications.policy import EDITORS, READERS_OF_ALL

router = APIRouter(prefix="/deliveries", tags=["deliveries"])

DeliveryStateName = Literal["pending", "delivered", "failed", "dead"]
_SUMMARY_FIELDS = ("id", "recipient", "subscription_id", "organisation_code", "channel", "target", "language",
                   "event_id", "event_type", "subject", "template", "state", "attempts", "next_attempt_at",
                   "last_attempt_at", "last_status", "last_error", "created_at", "delivered_at", "redrives",
                   "redriven_by", "redriven_at")


def delivery_body(row: dict[str, Any], *, full: bool = False) -> dict[str, Any]:
    body = {name: row[name] for name in _SUMMARY_FIELDS}
    if full:
        body["payload"] = json.loads(row["payload"])
        body["attempt_log"] = [{k: v for k, v in attempt.items() if k not in ("id", "delivery_id")}
                               for attempt in row["attempt_log"]]
    return jsonable(body)


def now(request: Request) -> datetime:
    """The service's time (its clock), so a redriven delivery is due by the worker's clock."""
    return request.app.state.clock.now()


def wake_worker(request: Request) -> None:
    wake = getattr(request.app.state, "wake_worker", None)
    if wake is not None:
        wake()


@router.get("")
def list_deliveries(
    app: AppDep,
    deliveries: DeliveriesDep,
    principal: PrincipalDep,
    state: DeliveryStateName | None = None,
    subscription_id: UUID | None = None,
    event_id: Annotated[str | None, Query(max_length=255, description="e.g. partners:42")] = None,
    contacts: Annotated[bool, Query(description="Only deliveries to organisations' contacts.")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """Deliveries, newest first: every one for coordinators, admins and auditors, those of your own subscriptions
    for everyone else."""
    author = author_of(principal)
    if subscription_id is not None:
        if not app.may_see(subscription_id, author):
            raise NotFound(f"no subscription {subscription_id}")
        ids: list[str] | None = [str(subscription_id)]
    elif principal.role in READERS_OF_ALL:
        ids = None
    else:
        ids = [str(s.id) for s in app.list_subscriptions(author, owner=principal.subject)]
        ids += [str(s.id) for s in app.list_subscriptions(author, owner=principal.subject, state="deleted")]
    if contacts and principal.role not in READERS_OF_ALL:
        return []
    return [delivery_body(d) for d in deliveries.list(subscription_ids=ids, state=state, contacts_only=contacts,
                                                      event_id=event_id, limit=limit, offset=offset)]


@router.get("/{delivery_id}")
def get_delivery(delivery_id: UUID, app: AppDep, deliveries: DeliveriesDep,
                 principal: PrincipalDep) -> dict[str, Any]:
    """A delivery with its payload and every attempt (when, HTTP status, error, when the next one was due)."""
    return delivery_body(_visible(delivery_id, app, deliveries, principal), full=True)


@router.post("/{delivery_id}/redrive")
def redrive_delivery(delivery_id: UUID, request: Request, app: AppDep, deliveries: DeliveriesDep,
                     principal: PrincipalDep) -> dict[str, Any]:
    """Send a dead delivery again, from a fresh count of attempts (the subscription's owner, a coordinator or an
    admin; deliveries to organisations' contacts: coordinators and admins). Any other state answers 409."""
    row = _visible(delivery_id, app, deliveries, principal)
    author = author_of(principal)
    if row["subscription_id"] is None:
        if principal.role not in EDITORS:
            raise Forbidden(f"role '{principal.role}' may not redrive deliveries to organisations' contacts; "
                            "allowed roles: admin, coordinator")
    else:
        if principal.role not in EDITORS and principal.role in READERS_OF_ALL:
            raise Forbidden(f"role '{principal.role}' reads deliveries; it may not redrive them")
        try:
            subscription = app.require_manager(UUID(row["subscription_id"]), author)
        except EntityNotFound:
            raise NotFound(f"no delivery {delivery_id}") from None
        if subscription.state == SubscriptionState.DELETED:
            raise TransitionNotAllowed(f"delivery {delivery_id} belongs to a deleted subscription; it stays dead",
                                       current=row["state"], requested=DeliveryState.PENDING.value, allowed=[])
    if row["state"] != DeliveryState.DEAD:
        raise TransitionNotAllowed(
            f"only dead deliveries are redriven; this one is {row['state']}"
            + (" and will be retried by itself" if row["state"] == DeliveryState.FAILED else ""),
            current=row["state"], requested=DeliveryState.PENDING.value, allowed=[])
    if not deliveries.redrive([str(delivery_id)], principal.subject, now(request)):
        raise TransitionNotAllowed(f"delivery {delivery_id} is no longer dead", current="unknown",
                                   requested=DeliveryState.PENDING.value, allowed=[])
    wake_worker(request)
    return delivery_body(deliveries.get(str(delivery_id)) or row)


def _visible(delivery_id: UUID, app: NotificationsApplication, deliveries: Any,
             principal: Principal) -> dict[str, Any]:
    row = deliveries.get(str(delivery_id))
    if row is None:
        raise NotFound(f"no delivery {delivery_id}")
    if principal.role in READERS_OF_ALL:
        return row
    if row["subscription_id"] is None or not app.may_see(UUID(row["subscription_id"]), author_of(principal)):
        raise NotFound(f"no delivery {delivery_id}")
    return row
