"""Purchases from cooperatives: recorded by the municipality, confirmed or disputed by the cooperative."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from izlek_common.entity_http import entity_body, entity_response
from izlek_partners.api.dependencies import AppDep, IfMatchDep, PrincipalDep, Time
from izlek_partners.api.schemas import (
    PurchaseConfirm,
    PurchaseCorrection,
    PurchaseRecordBody,
    PurchaseWithReason,
)
from izlek_partners.domain.purchase import PurchaseRecord

router = APIRouter(prefix="/purchases", tags=["purchases"])


def _response(purchase: PurchaseRecord, status_code: int = 200, location: str | None = None) -> JSONResponse:
    return entity_response(purchase, status_code, location, counts_towards_quota=purchase.counts_towards_quota)


@router.post("", status_code=201)
def record_purchase(body: PurchaseRecordBody, app: AppDep, principal: PrincipalDep) -> JSONResponse:
    """Record a purchase from a cooperative under an active protocol (the municipality's liaison, coordinator,
    admin); the invoice reference is unique per municipality."""
    purchase_id = app.record_purchase(body.stamp(principal), **body.given())
    return _response(app.get_purchase(purchase_id), 201, f"/purchases/{purchase_id}")


@router.get("")
def list_purchases(
    app: AppDep,
    principal: PrincipalDep,
    time: Time,
    municipality: Annotated[str | None, Query(description="Only purchases of this municipality code.")] = None,
    cooperative: Annotated[str | None, Query(description="Only purchases from this cooperative code.")] = None,
    protocol: Annotated[UUID | None, Query(description="Only purchases under this protocol id.")] = None,
) -> list[dict]:
    """The recorded purchases, filtered."""
    purchases = app.list_purchases(municipality_code=municipality, cooperative_code=cooperative,
                                   protocol_id=protocol, **time.kwargs())
    return [entity_body(p, counts_towards_quota=p.counts_towards_quota) for p in purchases]


@router.get("/{purchase_id}")
def get_purchase(purchase_id: UUID, app: AppDep, principal: PrincipalDep, time: Time) -> JSONResponse:
    """Read a purchase, now or at a time."""
    return _response(app.get_purchase(purchase_id, **time.kwargs()))


@router.post("/{purchase_id}/confirm")
def confirm_purchase(purchase_id: UUID, app: AppDep, principal: PrincipalDep, if_match: IfMatchDep,
                     body: PurchaseConfirm | None = None) -> JSONResponse:
    """The cooperative confirms the purchase happened as recorded (its members only); it then counts."""
    body = body or PurchaseConfirm()
    app.confirm_purchase(purchase_id, body.stamp(principal), body.version(if_match))
    return _response(app.get_purchase(purchase_id))


@router.post("/{purchase_id}/dispute")
def dispute_purchase(purchase_id: UUID, body: PurchaseWithReason, app: AppDep, principal: PrincipalDep,
                     if_match: IfMatchDep) -> JSONResponse:
    """The cooperative disputes the purchase with a reason (its members only); it stops counting until confirmed."""
    app.dispute_purchase(purchase_id, body.stamp(principal), body.version(if_match))
    return _response(app.get_purchase(purchase_id))


@router.post("/{purchase_id}/void")
def void_purchase(purchase_id: UUID, body: PurchaseWithReason, app: AppDep, principal: PrincipalDep,
                  if_match: IfMatchDep) -> JSONResponse:
    """The municipality withdraws a purchase that did not happen, with a reason."""
    app.void_purchase(purchase_id, body.stamp(principal), body.version(if_match))
    return _response(app.get_purchase(purchase_id))


@router.patch("/{purchase_id}")
def correct_purchase(purchase_id: UUID, body: PurchaseCorrection, app: AppDep, principal: PrincipalDep,
                     if_match: IfMatchDep) -> JSONResponse:
    """Correct a recording mistake (amount, category, date, cooperative, protocol) with a reason; the purchase
    goes back to ``recorded`` for the cooperative to confirm anew."""
    app.correct_purchase(purchase_id, body.given(), body.stamp(principal), body.version(if_match))
    return _response(app.get_purchase(purchase_id))
