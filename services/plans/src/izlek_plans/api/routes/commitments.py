"""Commitments (activities committed to by an organisation or actor group) and their status."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from izlek_common.entity_http import entity_body, entity_response
from izlek_common.turkish_time import today_in_turkey
from izlek_plans.api.dependencies import AppDep, IfMatchDep, PrincipalDep, Time
from izlek_plans.api.schemas import (
    Assignment,
    CommitmentChange,
    CommitmentRegister,
    EvidenceAdd,
    StatusChange,
)
from izlek_plans.domain.commitment import Commitment

router = APIRouter(tags=["commitments"])


def _body(commitment: Commitment) -> dict:
    return entity_body(commitment, overdue=commitment.is_overdue(today_in_turkey()))


def _response(commitment: Commitment, status_code: int = 200, location: str | None = None) -> JSONResponse:
    return entity_response(commitment, status_code, location, overdue=commitment.is_overdue(today_in_turkey()))


@router.post("/plans/{plan_id}/commitments", status_code=201)
def register_commitment(plan_id: UUID, body: CommitmentRegister, app: AppDep,
                        principal: PrincipalDep) -> JSONResponse:
    """Register a commitment under a target of the plan (coordinator, admin)."""
    commitment_id = app.register_commitment(plan_id, body.stamp(principal),
                                            **body.given())
    return _response(app.get_commitment(commitment_id), 201, f"/commitments/{commitment_id}")


@router.get("/plans/{plan_id}/commitments")
def list_commitments(
    plan_id: UUID,
    app: AppDep,
    principal: PrincipalDep,
    time: Time,
    target: Annotated[str | None, Query(description="Only under this target code, e.g. T1.1")] = None,
    goal: Annotated[str | None, Query(description="Only under this goal code, e.g. G1")] = None,
    status: Literal["planned", "in_progress", "done", "dropped"] | None = None,
    actor_group: str | None = None,
    organisation_id: str | None = None,
    overdue: bool | None = None,
) -> list[dict]:
    """The plan's commitments, filtered; overdue ones first, then by code."""
    plan = app.get_plan(plan_id, **time.kwargs())
    today = today_in_turkey()

    def matches(commitment: Commitment) -> bool:
        group = plan.actor_groups.get(commitment.actor_group or "")
        target_of = plan.targets.get(commitment.target_code)
        return (
            (target is None or commitment.target_code == target)
            and (goal is None or (target_of is not None and target_of.goal_code == goal))
            and (status is None or commitment.status == status)
            and (actor_group is None or commitment.actor_group == actor_group)
            and (organisation_id is None
                 or commitment.is_assigned_to(organisation_id, group.organisation_ids if group else ()))
            and (overdue is None or commitment.is_overdue(today) == overdue)
        )

    result = [c for c in app.list_commitments(plan_id, **time.kwargs()) if matches(c)]
    result.sort(key=lambda c: (not c.is_overdue(today), c.target_code, c.position or 0, c.code))
    return [_body(c) for c in result]


@router.get("/commitments/{commitment_id}")
def get_commitment(commitment_id: UUID, app: AppDep, principal: PrincipalDep, time: Time) -> JSONResponse:
    """Read a commitment, now or at a time."""
    return _response(app.get_commitment(commitment_id, **time.kwargs()))


@router.post("/commitments/{commitment_id}/status")
def change_status(commitment_id: UUID, body: StatusChange, app: AppDep, principal: PrincipalDep,
                  if_match: IfMatchDep) -> JSONResponse:
    """Change a commitment's status (coordinator, admin, or a liaison or member of the responsible
    organisation). Dropping or reopening needs a reason; a forbidden move answers 409 with the allowed ones."""
    version = app.change_commitment_status(commitment_id, body.status, body.stamp(principal),
                                           body.version(if_match))
    return _response(app.saved(Commitment, commitment_id, version))


@router.post("/commitments/{commitment_id}/evidence")
def add_evidence(commitment_id: UUID, body: EvidenceAdd, app: AppDep, principal: PrincipalDep,
                 if_match: IfMatchDep) -> JSONResponse:
    """Attach evidence to a commitment (same roles as a status change)."""
    version = app.add_commitment_evidence(commitment_id, body.stamp(principal),
                                          body.version(if_match), **body.given())
    return _response(app.saved(Commitment, commitment_id, version))


@router.put("/commitments/{commitment_id}/assignment")
def assign(commitment_id: UUID, body: Assignment, app: AppDep, principal: PrincipalDep,
           if_match: IfMatchDep) -> JSONResponse:
    """Give the commitment to an actor group and/or an organisation (coordinator, admin)."""
    version = app.assign_commitment(commitment_id, body.stamp(principal),
                                    body.version(if_match),
                                    actor_group=body.actor_group, organisation_id=body.organisation_id)
    return _response(app.saved(Commitment, commitment_id, version))


@router.patch("/commitments/{commitment_id}")
def change_commitment(commitment_id: UUID, body: CommitmentChange, app: AppDep, principal: PrincipalDep,
                      if_match: IfMatchDep) -> JSONResponse:
    """Change a commitment's title, due date or position; with ``kind: correction`` and a reason, fix a
    recording mistake in any field, the status included."""
    stamp = body.stamp(principal)
    version = body.version(if_match)
    command = app.correct_commitment if body.correction else app.change_commitment
    return _response(app.saved(Commitment, commitment_id, command(commitment_id, body.given(), stamp, version)))
