"""Protocols: parties, documents, amendments, the lifecycle, and quota compliance."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from izlek_common.entity_http import entity_body, entity_response
from izlek_common.eventsourced.views import jsonable
from izlek_partners.api.dependencies import AppDep, IfMatchDep, PrincipalDep, Time
from izlek_partners.api.schemas import (
    DocumentAttach,
    PartyAdd,
    PartyRemove,
    ProtocolChange,
    ProtocolDraft,
    ProtocolStatusChange,
    ProtocolStatusName,
)
from izlek_partners.domain.protocol import Protocol

router = APIRouter(prefix="/protocols", tags=["protocols"])


def _body(protocol: Protocol) -> dict[str, Any]:
    return entity_body(protocol, allowed_transitions=protocol.allowed_transitions())


def _response(protocol: Protocol, status_code: int = 200, location: str | None = None) -> JSONResponse:
    return entity_response(protocol, status_code, location, allowed_transitions=protocol.allowed_transitions())


@router.post("", status_code=201)
def draft_protocol(body: ProtocolDraft, app: AppDep, principal: PrincipalDep) -> JSONResponse:
    """Draft a protocol between registered organisations (coordinator, admin, or a liaison of a municipality
    that is one of its parties)."""
    protocol_id = app.draft_protocol(body.stamp(principal), **body.given())
    return _response(app.get_protocol(protocol_id), 201, f"/protocols/{protocol_id}")


@router.get("")
def list_protocols(
    app: AppDep,
    principal: PrincipalDep,
    time: Time,
    party: Annotated[str | None, Query(description="Only protocols this organisation code is party to.")] = None,
    status: ProtocolStatusName | None = None,
) -> list[dict]:
    """The protocols, optionally of one party or in one status."""
    return [_body(p) for p in app.list_protocols(party=party, status=status, **time.kwargs())]


@router.get("/{protocol_id}")
def get_protocol(protocol_id: UUID, app: AppDep, principal: PrincipalDep, time: Time) -> JSONResponse:
    """Read a protocol and the statuses it may move to, now or at a time."""
    return _response(app.get_protocol(protocol_id, **time.kwargs()))


@router.post("/{protocol_id}/status")
def change_status(protocol_id: UUID, body: ProtocolStatusChange, app: AppDep, principal: PrincipalDep,
                  if_match: IfMatchDep) -> JSONResponse:
    """Move a protocol along its lifecycle; a forbidden move answers 409 with the allowed ones."""
    version = app.change_protocol_status(protocol_id, body.status, body.stamp(principal), body.version(if_match),
                                         evidence_reference=body.evidence_reference)
    return _response(app.saved(Protocol, protocol_id, version))


@router.patch("/{protocol_id}")
def change_protocol(protocol_id: UUID, body: ProtocolChange, app: AppDep, principal: PrincipalDep,
                    if_match: IfMatchDep) -> JSONResponse:
    """Revise a draft or amend a protocol (numbered, with a reason); with ``kind: correction`` and a reason,
    fix a recording mistake, the status included (coordinator, admin)."""
    stamp, version = body.stamp(principal), body.version(if_match)
    command = app.correct_protocol if body.kind == "correction" else app.amend_protocol
    return _response(app.saved(Protocol, protocol_id, command(protocol_id, body.given(), stamp, version)))


@router.post("/{protocol_id}/parties", status_code=201)
def add_party(protocol_id: UUID, body: PartyAdd, app: AppDep, principal: PrincipalDep,
              if_match: IfMatchDep) -> JSONResponse:
    """Add a party while the protocol is being prepared."""
    app.add_protocol_party(protocol_id, body.organisation_code, body.role, body.stamp(principal),
                           body.version(if_match))
    return _response(app.get_protocol(protocol_id), 201)


@router.delete("/{protocol_id}/parties/{organisation_code}")
def remove_party(protocol_id: UUID, organisation_code: str, app: AppDep, principal: PrincipalDep,
                 if_match: IfMatchDep, body: PartyRemove | None = None) -> JSONResponse:
    """Remove a party while the protocol is being prepared (the body, optional, gives a reason)."""
    body = body or PartyRemove()
    app.remove_protocol_party(protocol_id, organisation_code, body.stamp(principal), body.version(if_match))
    return _response(app.get_protocol(protocol_id))


@router.post("/{protocol_id}/documents", status_code=201)
def attach_document(protocol_id: UUID, body: DocumentAttach, app: AppDep, principal: PrincipalDep,
                    if_match: IfMatchDep) -> JSONResponse:
    """Attach a document (e.g. the signed file) by its reference and the SHA-256 of its bytes."""
    app.attach_protocol_document(protocol_id, body.stamp(principal), body.version(if_match), **body.given())
    return _response(app.get_protocol(protocol_id), 201)


@router.get("/{protocol_id}/compliance")
def quota_compliance(
    protocol_id: UUID,
    app: AppDep,
    principal: PrincipalDep,
    time: Time,
    period: Annotated[str, Query(min_length=4, max_length=16, description="2024, 2024-H1, 2024-Q3 or 2024-06.")],
) -> list[dict]:
    """Each municipality party's compliance with the purchase commitment over a period: confirmed purchases
    ÷ declared purchases in the protocol's categories (recorded and disputed ones shown beside, not counted).
    Amounts and shares are exact decimal texts."""
    return jsonable(app.quota_compliance(protocol_id, period, **time.kwargs()))
