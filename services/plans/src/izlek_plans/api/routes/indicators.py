"""Indicators (Göstergeler): baselines, targets and actuals per period, and their bands."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from izlek_common.entity_http import entity_body, entity_response
from izlek_plans.api.dependencies import AppDep, IfMatchDep, PrincipalDep, Time
from izlek_plans.api.schemas import (
    ActualRecord,
    BaselineSet,
    IndicatorChange,
    IndicatorDefine,
    PeriodBandOverride,
    TargetValueSet,
)

router = APIRouter(tags=["indicators"])


@router.post("/plans/{plan_id}/indicators", status_code=201)
def define_indicator(plan_id: UUID, body: IndicatorDefine, app: AppDep, principal: PrincipalDep) -> JSONResponse:
    """Define an indicator with its unit, direction and baseline (coordinator, admin)."""
    indicator_id = app.define_indicator(plan_id, body.stamp(principal), **body.given())
    return entity_response(app.get_indicator(indicator_id), 201, f"/indicators/{indicator_id}")


@router.get("/plans/{plan_id}/indicators")
def list_indicators(plan_id: UUID, app: AppDep, principal: PrincipalDep, time: Time) -> list[dict]:
    """The plan's indicators, with their bands per period."""
    return [entity_body(i) for i in app.list_indicators(plan_id, **time.kwargs())]


@router.get("/indicators/{indicator_id}")
def get_indicator(indicator_id: UUID, app: AppDep, principal: PrincipalDep, time: Time) -> JSONResponse:
    """Read an indicator, its values and bands, now or at a time."""
    return entity_response(app.get_indicator(indicator_id, **time.kwargs()))


@router.patch("/indicators/{indicator_id}")
def change_indicator(indicator_id: UUID, body: IndicatorChange, app: AppDep, principal: PrincipalDep,
                     if_match: IfMatchDep) -> JSONResponse:
    """Rename an indicator, change its unit or description, or link it to a criterion."""
    app.change_indicator(indicator_id, body.given(), body.stamp(principal),
                         body.version(if_match))
    return entity_response(app.get_indicator(indicator_id))


@router.put("/indicators/{indicator_id}/baseline")
def set_baseline(indicator_id: UUID, body: BaselineSet, app: AppDep, principal: PrincipalDep,
                 if_match: IfMatchDep) -> JSONResponse:
    """Set or correct the baseline (Başlangıç değeri)."""
    app.set_indicator_baseline(indicator_id, body.value, body.stamp(principal),
                               body.version(if_match), period=body.period,
                               correction=body.correction)
    return entity_response(app.get_indicator(indicator_id))


@router.put("/indicators/{indicator_id}/targets")
def set_target(indicator_id: UUID, body: TargetValueSet, app: AppDep, principal: PrincipalDep,
               if_match: IfMatchDep) -> JSONResponse:
    """Set or correct the target value of a period."""
    app.set_indicator_target(indicator_id, body.period, body.value,
                             body.stamp(principal),
                             body.version(if_match),
                             correction=body.correction)
    return entity_response(app.get_indicator(indicator_id))


@router.put("/indicators/{indicator_id}/actuals")
def record_actual(indicator_id: UUID, body: ActualRecord, app: AppDep, principal: PrincipalDep,
                  if_match: IfMatchDep) -> JSONResponse:
    """Record or correct the actual value (Gerçekleşen) of a period, with evidence and a comment."""
    app.record_indicator_actual(indicator_id, body.period, body.value,
                                body.stamp(principal),
                                body.version(if_match),
                                evidence=tuple(body.evidence), comment=body.comment,
                                correction=body.correction)
    return entity_response(app.get_indicator(indicator_id))


@router.put("/indicators/{indicator_id}/bands/{period}/override")
def override_band(indicator_id: UUID, period: str, body: PeriodBandOverride, app: AppDep,
                  principal: PrincipalDep, if_match: IfMatchDep) -> JSONResponse:
    """Set a period's band by hand with a reason, or withdraw it with ``band: null``."""
    app.override_indicator_band(indicator_id, period, body.band, body.stamp(principal),
                                body.version(if_match))
    return entity_response(app.get_indicator(indicator_id))
