"""Organisations (addressed by their slug code), their liaisons and declared purchase volumes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from izlek_common.entity_http import entity_body, entity_response
from izlek_partners.api.dependencies import AppDep, IfMatchDep, PrincipalDep, Time
from izlek_partners.api.schemas import (
    LiaisonDesignate,
    LiaisonEnd,
    OrganisationChange,
    OrganisationRegister,
    OrganisationTypeName,
    PurchaseVolumeDeclare,
)
from izlek_partners.domain.organisation import Organisation

router = APIRouter(prefix="/organisations", tags=["organisations"])


def _id(code: str) -> UUID:
    return Organisation.create_id(code)


@router.post("", status_code=201)
def register_organisation(body: OrganisationRegister, app: AppDep, principal: PrincipalDep) -> JSONResponse:
    """Register an organisation under its slug code; its parent must be registered first (coordinator, admin)."""
    organisation_id = app.register_organisation(body.stamp(principal), **body.given())
    organisation = app.get_organisation(organisation_id)
    return entity_response(organisation, 201, f"/organisations/{organisation.code}")


@router.get("")
def list_organisations(
    app: AppDep,
    principal: PrincipalDep,
    time: Time,
    type: Annotated[OrganisationTypeName | None, Query(description="Only organisations of this type.")] = None,
) -> list[dict]:
    """The registered organisations, optionally of one type."""
    return [entity_body(o) for o in app.list_organisations(type=type, **time.kwargs())]


@router.get("/{code}")
def get_organisation(code: str, app: AppDep, principal: PrincipalDep, time: Time) -> JSONResponse:
    """Read an organisation by its code (e.g. cigli-belediyesi), now or at a time."""
    return entity_response(app.get_organisation(_id(code), **time.kwargs()))


@router.patch("/{code}")
def change_organisation(code: str, body: OrganisationChange, app: AppDep, principal: PrincipalDep,
                        if_match: IfMatchDep) -> JSONResponse:
    """Change an organisation's details, or correct them (``kind: correction`` with a reason)."""
    app.change_organisation(_id(code), body.given(), body.stamp(principal), body.version(if_match),
                            correction=body.correction)
    return entity_response(app.get_organisation(_id(code)))


@router.post("/{code}/liaisons", status_code=201)
def designate_liaison(code: str, body: LiaisonDesignate, app: AppDep, principal: PrincipalDep,
                      if_match: IfMatchDep) -> JSONResponse:
    """A municipality designates one of its people as liaison with cooperatives (coordinator, admin)."""
    app.designate_liaison(_id(code), body.person_id, body.start, body.stamp(principal), body.version(if_match),
                          end=body.end)
    return entity_response(app.get_organisation(_id(code)), 201)


@router.post("/{code}/liaisons/{person_id}/end")
def end_liaison(code: str, person_id: UUID, body: LiaisonEnd, app: AppDep, principal: PrincipalDep,
                if_match: IfMatchDep) -> JSONResponse:
    """End a liaison's term on a date (coordinator, admin)."""
    app.end_liaison(_id(code), person_id, body.end, body.stamp(principal), body.version(if_match))
    return entity_response(app.get_organisation(_id(code)))


@router.put("/{code}/purchase-volumes")
def declare_purchase_volume(code: str, body: PurchaseVolumeDeclare, app: AppDep, principal: PrincipalDep,
                            if_match: IfMatchDep) -> JSONResponse:
    """Declare (or correct) a municipality's total purchases in a category over a period: the quota's
    denominator (coordinator, admin, the municipality's liaison)."""
    app.declare_purchase_volume(_id(code), body.period, body.category, body.amount, body.stamp(principal),
                                body.version(if_match), correction=body.correction)
    return entity_response(app.get_organisation(_id(code)))
