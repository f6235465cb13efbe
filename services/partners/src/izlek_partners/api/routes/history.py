"""The full history of any entity: who changed what, when recorded, when valid, and why."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from izlek_partners.api.dependencies import AppDep, PrincipalDep

router = APIRouter(tags=["history"])


@router.get("/history/{entity_id}")
def history(entity_id: UUID, app: AppDep, principal: PrincipalDep) -> dict:
    """Every event of an organisation, person, protocol or purchase: type, kind (change or correction),
    author, recorded at, valid at and its precision, reason, and the fields it changed."""
    return app.history(entity_id)
