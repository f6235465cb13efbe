"""Success criteria (Başarı Kriterleri) and their measures."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from izlek_common.entity_http import entity_body, entity_response
from izlek_plans.api.dependencies import AppDep, IfMatchDep, PrincipalDep, Time
from izlek_plans.api.schemas import BandOverrideBody, CriterionChange, CriterionDefine

router = APIRouter(tags=["criteria"])


@router.post("/plans/{plan_id}/criteria", status_code=201)
def define_criterion(plan_id: UUID, body: CriterionDefine, app: AppDep, principal: PrincipalDep) -> JSONResponse:
    """Define a success criterion with its measure (coordinator, admin)."""
    fields = body.given()
    fields["measure"] = body.measure.model_dump()
    fields["parts"] = [part.model_dump() for part in body.parts]
    criterion_id = app.define_criterion(plan_id, body.stamp(principal), **fields)
    return entity_response(app.get_criterion(criterion_id), 201, f"/criteria/{criterion_id}")


@router.get("/plans/{plan_id}/criteria")
def list_criteria(plan_id: UUID, app: AppDep, principal: PrincipalDep, time: Time) -> list[dict]:
    """The plan's success criteria."""
    return [entity_body(c) for c in app.list_criteria(plan_id, **time.kwargs())]


@router.get("/criteria/{criterion_id}")
def get_criterion(criterion_id: UUID, app: AppDep, principal: PrincipalDep, time: Time) -> JSONResponse:
    """Read a success criterion, now or at a time."""
    return entity_response(app.get_criterion(criterion_id, **time.kwargs()))


@router.patch("/criteria/{criterion_id}")
def change_criterion(criterion_id: UUID, body: CriterionChange, app: AppDep, principal: PrincipalDep,
                     if_match: IfMatchDep) -> JSONResponse:
    """Reword a criterion or change its measure; ``kind: correction`` with a reason fixes a mistake."""
    app.change_criterion(
        criterion_id, body.stamp(principal),
        body.version(if_match),
        text=body.text,
        measure=None if body.measure is None else body.measure.model_dump(),
        parts=None if body.parts is None else [part.model_dump() for part in body.parts],
        correction=body.correction,
    )
    return entity_response(app.get_criterion(criterion_id))


@router.put("/criteria/{criterion_id}/band-override")
def override_band(criterion_id: UUID, body: BandOverrideBody, app: AppDep, principal: PrincipalDep,
                  if_match: IfMatchDep) -> JSONResponse:
    """Set a band by hand with a reason (shown beside the computed band), or withdraw it with ``band: null``."""
    app.override_criterion_band(criterion_id, body.band, body.stamp(principal),
                                body.version(if_match), period=body.period)
    return entity_response(app.get_criterion(criterion_id))
