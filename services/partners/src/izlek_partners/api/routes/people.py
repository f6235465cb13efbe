"""People of the organisations (a liaison is one of them)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from izlek_common.entity_http import entity_body, entity_response
from izlek_partners.api.dependencies import AppDep, IfMatchDep, PrincipalDep, Time
from izlek_partners.api.schemas import PersonChange, PersonRegister

router = APIRouter(prefix="/people", tags=["people"])


@router.post("", status_code=201)
def register_person(body: PersonRegister, app: AppDep, principal: PrincipalDep) -> JSONResponse:
    """Register a person of a registered organisation (coordinator, admin)."""
    person_id = app.register_person(body.stamp(principal), **body.given())
    return entity_response(app.get_person(person_id), 201, f"/people/{person_id}")


@router.get("")
def list_people(
    app: AppDep,
    principal: PrincipalDep,
    organisation: Annotated[str | None, Query(description="Only people of this organisation code.")] = None,
) -> list[dict]:
    """The registered people, optionally of one organisation."""
    return [entity_body(p) for p in app.list_people(organisation_code=organisation)]


@router.get("/{person_id}")
def get_person(person_id: UUID, app: AppDep, principal: PrincipalDep, time: Time) -> JSONResponse:
    """Read a person, now or at a time."""
    return entity_response(app.get_person(person_id, **time.kwargs()))


@router.patch("/{person_id}")
def change_person(person_id: UUID, body: PersonChange, app: AppDep, principal: PrincipalDep,
                  if_match: IfMatchDep) -> JSONResponse:
    """Change a person's details or organisation, or correct them (``kind: correction`` with a reason)."""
    app.change_person(person_id, body.given(), body.stamp(principal), body.version(if_match),
                      correction=body.correction)
    return entity_response(app.get_person(person_id))
