"""The ``Protocol`` type and its parties: agreements between KEDV, municipalities and ministries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import Row
from strawberry.scalars import JSON

from izlek_gateway.graphql.organisation import Organisation
from izlek_gateway.graphql.scalars import aware


@strawberry.type(description="An organisation's part in a protocol.")
class ProtocolParty:
    organisation_code: str
    role: str

    @strawberry.field(description="The party's organisation, when the partners service knows it.")
    async def organisation(self, info: strawberry.Info) -> Organisation | None:
        return await info.context.view(info).loaders.organisation_by_code.load(self.organisation_code)

    @classmethod
    def from_row(cls, row: Row[Any]) -> ProtocolParty:
        return cls(organisation_code=row.organisation_code, role=row.role)


@strawberry.type(description="A protocol: its kind, status (with the precision its date is known to) and term.")
class Protocol:
    id: strawberry.ID
    code: str
    title: str
    kind: str = strawberry.field(description="e.g. cooperation_protocol, protocol_template, ministerial_protocol")
    scope: str | None
    status: str
    status_valid_at: datetime
    valid_precision: str | None = strawberry.field(
        description="How well the status date is known: year, month or day (null: exactly)."
    )
    status_evidence_reference: str | None
    term_start: str | None = strawberry.field(description="Partial dates stay text: \"2019\", \"2019-06\".")
    term_end: str | None
    purchase_commitment: JSON | None
    amendment: int
    documents: JSON
    version: int
    recorded_at: datetime
    valid_at: datetime

    @strawberry.field(description="The organisations that are party to the protocol.")
    async def parties(self, info: strawberry.Info) -> list[ProtocolParty]:
        return await info.context.view(info).loaders.parties_by_protocol.load(str(self.id))

    @classmethod
    def from_row(cls, row: Row[Any]) -> Protocol:
        return cls(
            id=strawberry.ID(row.id), code=row.code, title=row.title, kind=row.kind, scope=row.scope,
            status=row.status, status_valid_at=aware(row.status_valid_at),
            valid_precision=row.status_valid_precision, status_evidence_reference=row.status_evidence_reference,
            term_start=row.term_start, term_end=row.term_end, purchase_commitment=row.purchase_commitment,
            amendment=row.amendment, documents=row.documents or [], version=row.version,
            recorded_at=aware(row.recorded_at), valid_at=aware(row.valid_at),
        )
