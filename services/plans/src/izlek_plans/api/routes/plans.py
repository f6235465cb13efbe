"""Action plans, their goals, targets, actor groups and priorities."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from izlek_common.entity_http import entity_body, entity_response
from izlek_plans.api.dependencies import AppDep, IfMatchDep, PrincipalDep, Time
from izlek_plans.api.schemas import (
    ActorGroupDefine,
    GoalAdd,
    GoalChange,
    PlanChange,
    PlanStart,
    PriorityDefine,
    ReportPublish,
    TargetAdd,
    TargetChange,
)

router = APIRouter(prefix="/plans", tags=["plans"])


@router.post("", status_code=201)
def start_plan(body: PlanStart, app: AppDep, principal: PrincipalDep) -> JSONResponse:
    """Start an action plan (coordinator, admin)."""
    plan_id = app.start_plan(body.stamp(principal), **body.given())
    return entity_response(app.get_plan(plan_id), 201, f"/plans/{plan_id}")


@router.get("")
def list_plans(app: AppDep, principal: PrincipalDep) -> list[dict]:
    """List the action plans."""
    return [entity_body(plan) for plan in app.list_plans()]


@router.get("/{plan_id}")
def get_plan(plan_id: UUID, app: AppDep, principal: PrincipalDep, time: Time) -> JSONResponse:
    """Read a plan with its goals, targets, actor groups and priorities, now or at a time."""
    return entity_response(app.get_plan(plan_id, **time.kwargs()))


@router.patch("/{plan_id}")
def change_plan(plan_id: UUID, body: PlanChange, app: AppDep, principal: PrincipalDep,
                if_match: IfMatchDep) -> JSONResponse:
    """Change the plan's fields, or correct them (``kind: correction`` with a reason)."""
    app.change_plan(plan_id, body.given(), body.stamp(principal),
                    body.version(if_match), correction=body.correction)
    return entity_response(app.get_plan(plan_id))


@router.get("/{plan_id}/goals")
def list_goals(plan_id: UUID, app: AppDep, principal: PrincipalDep, time: Time) -> list[dict]:
    """The plan's goals (Amaç), each with its targets (Hedef)."""
    body = entity_body(app.get_plan(plan_id, **time.kwargs()))
    return [
        {**goal, "targets": [t for t in body["targets"].values() if t["goal_code"] == goal["code"]]}
        for goal in body["goals"].values()
    ]


@router.post("/{plan_id}/goals", status_code=201)
def add_goal(plan_id: UUID, body: GoalAdd, app: AppDep, principal: PrincipalDep,
             if_match: IfMatchDep) -> JSONResponse:
    """Add a goal (coordinator, admin)."""
    app.add_goal(plan_id, body.stamp(principal),
                 body.version(if_match), **body.given())
    return entity_response(app.get_plan(plan_id), 201)


@router.patch("/{plan_id}/goals/{code}")
def change_goal(plan_id: UUID, code: str, body: GoalChange, app: AppDep, principal: PrincipalDep,
                if_match: IfMatchDep) -> JSONResponse:
    """Change or correct a goal's number or titles."""
    app.change_goal(plan_id, code, body.given(), body.stamp(principal),
                    body.version(if_match), correction=body.correction)
    return entity_response(app.get_plan(plan_id))


@router.get("/{plan_id}/targets")
def list_targets(plan_id: UUID, app: AppDep, principal: PrincipalDep, time: Time) -> list[dict]:
    """The plan's targets (Hedef), in order."""
    return list(entity_body(app.get_plan(plan_id, **time.kwargs()))["targets"].values())


@router.post("/{plan_id}/targets", status_code=201)
def add_target(plan_id: UUID, body: TargetAdd, app: AppDep, principal: PrincipalDep,
               if_match: IfMatchDep) -> JSONResponse:
    """Add a target under one of the plan's goals."""
    app.add_target(plan_id, body.stamp(principal),
                   body.version(if_match), **body.given())
    return entity_response(app.get_plan(plan_id), 201)


@router.patch("/{plan_id}/targets/{code}")
def change_target(plan_id: UUID, code: str, body: TargetChange, app: AppDep, principal: PrincipalDep,
                  if_match: IfMatchDep) -> JSONResponse:
    """Change or correct a target's number or titles."""
    app.change_target(plan_id, code, body.given(), body.stamp(principal),
                      body.version(if_match), correction=body.correction)
    return entity_response(app.get_plan(plan_id))


@router.post("/{plan_id}/actor-groups")
def define_actor_group(plan_id: UUID, body: ActorGroupDefine, app: AppDep, principal: PrincipalDep,
                       if_match: IfMatchDep) -> JSONResponse:
    """Define or redefine an actor group (e.g. "Kooperatifler") and the organisations it names."""
    fields = body.given()
    fields["organisation_ids"] = tuple(body.organisation_ids)
    app.define_actor_group(plan_id, body.stamp(principal),
                           body.version(if_match), **fields)
    return entity_response(app.get_plan(plan_id))


@router.post("/{plan_id}/priorities")
def define_priority(plan_id: UUID, body: PriorityDefine, app: AppDep, principal: PrincipalDep,
                    if_match: IfMatchDep) -> JSONResponse:
    """Define or redefine a priority (Öncelik) of the plan."""
    app.define_priority(plan_id, body.stamp(principal),
                        body.version(if_match), **body.given())
    return entity_response(app.get_plan(plan_id))


@router.post("/{plan_id}/reports", status_code=201)
def publish_report(plan_id: UUID, body: ReportPublish, app: AppDep, principal: PrincipalDep,
                   if_match: IfMatchDep) -> JSONResponse:
    """Publish a report of the plan: the gateway reproduces its dashboard as Izlek knew it at this moment, valid
    at ``valid_at`` (the report's date), and shows later corrections as differences against it."""
    app.publish_report(plan_id, body.stamp(principal), body.version(if_match), **body.given())
    return entity_response(app.get_plan(plan_id), status_code=201)
