"""The ``Organisation`` type: a partner organisation as the partners service publishes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import Row
from strawberry.scalars import JSON

from izlek_gateway.graphql.scalars import aware


@strawberry.type(description="A partner organisation: foundation, cooperative, municipality, agency...")
class Organisation:
    id: strawberry.ID
    code: str
    name: str
    short_name: str | None
    type: str = strawberry.field(description="e.g. cooperative, municipality_district, ngo")
    parent_code: str | None
    aliases: list[str]
    scope: str | None
    contact: JSON
    version: int
    recorded_at: datetime
    valid_at: datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> Organisation:
        return cls(
            id=strawberry.ID(row.id), code=row.code, name=row.name, short_name=row.short_name, type=row.type,
            parent_code=row.parent_code, aliases=list(row.aliases or []), scope=row.scope,
            contact=row.contact or {}, version=row.version, recorded_at=aware(row.recorded_at),
            valid_at=aware(row.valid_at),
        )
