"""Subscriptions: create, read, change, pause, resume, delete; rotate a webhook's secret; their deliveries."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from izlek_common.entity_http import author_of, entity_body, entity_response
from izlek_common.eventsourced.views import jsonable
from izlek_common.problems import Forbidden
from izlek_notifications.api.dependencies import AppDep, DeliveriesDep, IfMatchDep, PrincipalDep
from izlek_notifications.api.routes.deliveries import DeliveryStateName, delivery_body, now, wake_worker
from izlek_notifications.api.schemas import Envelope, SubscriptionChange, SubscriptionCreate
from izlek_notifications.domain.subscription import Subscription
from izlek_notifications.policy import EDITORS, READERS_OF_ALL

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"])

NO_STORE = {"Cache-Control": "no-store"}
"""Answers that show a secret must not be kept by caches."""


def _response(subscription: Subscription, status_code: int = 200, location: str | None = None,
              **extra: Any) -> JSONResponse:
    response = entity_response(subscription, status_code, location, **extra)
    if "secret" in extra:
        response.headers.update(NO_STORE)
    return response


@router.post("", status_code=201, responses={201: {"description": "The subscription; a webhook's `secret` is "
                                                   "shown in this answer only."}})
def subscribe(body: SubscriptionCreate, app: AppDep, principal: PrincipalDep) -> JSONResponse:
    """Subscribe to events by webhook or e-mail, in Turkish or English. A webhook URL must reach a public address
    (422 otherwise); its signing secret is in this answer and never shown again (rotate it to get a new one).
    Liaisons and members subscribe to their own organisation's events; partner apps by webhook to what they may
    read; auditors may not subscribe."""
    subscription_id, secret = app.subscribe(
        body.stamp(principal), channel=body.channel.model_dump(), filter=body.filter.model_dump(),
        language=body.language, scopes=principal.scopes)
    subscription = app.get_subscription(subscription_id, author_of(principal))
    extra = {"secret": secret} if secret is not None else {}
    return _response(subscription, 201, f"/subscriptions/{subscription_id}", **extra)


@router.get("")
def list_subscriptions(
    app: AppDep,
    principal: PrincipalDep,
    owner: Annotated[str | None, Query(max_length=255, description="Only those of this subject.")] = None,
    state: Annotated[str | None, Query(pattern="^(active|paused|deleted)$",
                                       description="active, paused or deleted (default: active and paused).")] = None,
) -> list[dict[str, Any]]:
    """Your subscriptions; coordinators, admins and auditors see everyone's."""
    return [entity_body(s) for s in app.list_subscriptions(author_of(principal), owner=owner, state=state)]


@router.get("/{subscription_id}")
def get_subscription(subscription_id: UUID, app: AppDep, principal: PrincipalDep) -> JSONResponse:
    """Read a subscription (its secret is never shown again)."""
    return _response(app.get_subscription(subscription_id, author_of(principal)))


@router.patch("/{subscription_id}")
def change_subscription(subscription_id: UUID, body: SubscriptionChange, app: AppDep, principal: PrincipalDep,
                        if_match: IfMatchDep) -> JSONResponse:
    """Change the URL or address, the filter, or the language (the owner, a coordinator or an admin)."""
    app.change_subscription(subscription_id, body.given(), body.stamp(principal), body.version(if_match))
    return _response(app.get_subscription(subscription_id, author_of(principal)))


@router.post("/{subscription_id}/pause")
def pause_subscription(subscription_id: UUID, app: AppDep, principal: PrincipalDep, if_match: IfMatchDep,
                       body: Envelope | None = None) -> JSONResponse:
    """Stop delivering: events recorded while paused are not delivered; deliveries already waiting are held."""
    body = body or Envelope()
    app.pause_subscription(subscription_id, body.stamp(principal), body.version(if_match))
    return _response(app.get_subscription(subscription_id, author_of(principal)))


@router.post("/{subscription_id}/resume")
def resume_subscription(subscription_id: UUID, app: AppDep, principal: PrincipalDep, if_match: IfMatchDep,
                        body: Envelope | None = None) -> JSONResponse:
    """Deliver again, from the events recorded after this moment (and the deliveries held)."""
    body = body or Envelope()
    app.resume_subscription(subscription_id, body.stamp(principal), body.version(if_match))
    return _response(app.get_subscription(subscription_id, author_of(principal)))


@router.delete("/{subscription_id}")
def delete_subscription(subscription_id: UUID, app: AppDep, principal: PrincipalDep, if_match: IfMatchDep,
                        body: Envelope | None = None) -> dict[str, Any]:
    """End a subscription for good: its secret is destroyed and deliveries still waiting die; its history stays
    at ``GET /history/{id}``."""
    body = body or Envelope()
    version = app.delete_subscription(subscription_id, body.stamp(principal), body.version(if_match))
    return {"id": str(subscription_id), "version": version, "state": "deleted"}


@router.post("/{subscription_id}/secret", responses={200: {"description": "The new secret, shown this once."}})
def rotate_secret(subscription_id: UUID, app: AppDep, principal: PrincipalDep, if_match: IfMatchDep,
                  body: Envelope | None = None) -> JSONResponse:
    """Replace a webhook's signing secret. The answer shows the new one (once); requests are signed with the old
    one too during the grace period (``IZLEK_NOTIFICATIONS_SECRET_ROTATION_GRACE_SECONDS``)."""
    body = body or Envelope()
    secret = app.rotate_secret(subscription_id, body.stamp(principal), body.version(if_match))
    subscription = app.get_subscription(subscription_id, author_of(principal))
    return JSONResponse({"id": str(subscription.id), "version": subscription.version, "secret": secret},
                        headers={**NO_STORE, "ETag": f'"{subscription.version}"'})


@router.get("/{subscription_id}/deliveries")
def subscription_deliveries(
    subscription_id: UUID, app: AppDep, deliveries: DeliveriesDep, principal: PrincipalDep,
    state: DeliveryStateName | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """The deliveries of a subscription, newest first."""
    app.get_subscription(subscription_id, author_of(principal))
    return [delivery_body(d) for d in deliveries.list(subscription_ids=[str(subscription_id)], state=state,
                                                      limit=limit, offset=offset)]


@router.post("/{subscription_id}/redrive")
def redrive_subscription(subscription_id: UUID, request: Request, app: AppDep, deliveries: DeliveriesDep,
                         principal: PrincipalDep) -> dict[str, Any]:
    """Send every dead delivery of the subscription again, from a fresh count of attempts (its owner, a
    coordinator or an admin)."""
    author = author_of(principal)
    if principal.role in READERS_OF_ALL - EDITORS:
        raise Forbidden(f"role '{principal.role}' reads deliveries; it may not redrive them")
    app.require_manager(subscription_id, author)
    app.get_subscription(subscription_id, author)  # a deleted subscription's deliveries stay dead
    count = deliveries.redrive(deliveries.dead_of(str(subscription_id)), principal.subject, now(request))
    if count:
        wake_worker(request)
    return jsonable({"subscription_id": subscription_id, "redriven": count})
