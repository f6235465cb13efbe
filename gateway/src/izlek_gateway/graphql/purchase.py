"""The ``Purchase`` type: a municipality's purchase from a cooperative under a protocol."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from sqlalchemy import Row

from izlek_gateway.graphql.scalars import aware, decimal_text


@strawberry.type(description="A purchase a municipality recorded from a cooperative, under a protocol.")
class Purchase:
    id: strawberry.ID
    municipality_code: str
    cooperative_code: str
    protocol_id: strawberry.ID
    amount: str = strawberry.field(description="Exact decimal, as text (\"1250.50\").")
    category: str
    purchased_on: date
    invoice_reference: str
    status: str
    dispute_reason: str | None
    version: int
    recorded_at: datetime
    valid_at: datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> Purchase:
        return cls(
            id=strawberry.ID(row.id), municipality_code=row.municipality_code,
            cooperative_code=row.cooperative_code, protocol_id=strawberry.ID(row.protocol_id),
            amount=decimal_text(row.amount) or "0", category=row.category, purchased_on=row.purchased_on,
            invoice_reference=row.invoice_reference, status=row.status, dispute_reason=row.dispute_reason,
            version=row.version, recorded_at=aware(row.recorded_at), valid_at=aware(row.valid_at),
        )
