"""How entities leave the API: their view as JSON, with the version as ETag."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import JSONResponse

from izlek_plans.api.dependencies import as_instant
from izlek_plans.domain.base import TrackedAggregate
from izlek_plans.views import jsonable


def entity_body(aggregate: TrackedAggregate, **extra: Any) -> dict[str, Any]:
    return jsonable({
        "id": aggregate.id,
        "version": aggregate.version,
        "created_on": aggregate.created_on,
        "modified_on": aggregate.modified_on,
        **aggregate.view(),
        **extra,
    })


def entity_response(aggregate: TrackedAggregate, status_code: int = 200, location: str | None = None,
                    **extra: Any) -> JSONResponse:
    headers = {"ETag": f'"{aggregate.version}"'}
    if location:
        headers["Location"] = location
    return JSONResponse(entity_body(aggregate, **extra), status_code=status_code, headers=headers)


class TimeQuery:
    """``as_of`` (what the system knew then, recorded time) and ``valid_at`` (what was true then)."""

    def __init__(
        self,
        as_of: Annotated[datetime | date | None, Query(description="Recorded time: what Izlek knew then.")] = None,
        valid_at: Annotated[datetime | date | None, Query(description="Valid time: what was true then.")] = None,
    ) -> None:
        self.as_of = as_instant(as_of)
        self.valid_at = as_instant(valid_at)

    def kwargs(self) -> dict[str, datetime | None]:
        return {"as_of": self.as_of, "valid_at": self.valid_at}
