"""The full history of any entity: who changed what, when recorded, when valid, and why."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from izlek_plans.api.dependencies import AppDep, PrincipalDep

router = APIRouter(tags=["history"])


@router.get("/history/{entity_id}")
def history(entity_id: UUID, app: AppDep, principal: PrincipalDep) -> dict:
    """Every event of a plan, commitment, criterion or indicator: type, kind (change or correction), author,
    recorded at, valid at, reason, and the fields it changed."""
    return app.history(entity_id)
