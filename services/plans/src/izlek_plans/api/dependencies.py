"""Dependencies shared by the routes: the application, the caller's stamp, the expected version."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import Depends, Header, Request
from izlek_common.auth import Principal, PrincipalDep
from izlek_common.logging import get_correlation_id
from izlek_common.problems import InvalidInput

from izlek_plans.application import PlansApplication
from izlek_plans.domain.stamp import Author, Stamp


def get_application(request: Request) -> PlansApplication:
    return request.app.state.plans


AppDep = Annotated[PlansApplication, Depends(get_application)]

# At most 18 digits: a version fits in 64 bits, and int() refuses texts of over 4300 digits.
_ETAG = re.compile(r'^\s*(W/)?"?(\d{1,18})"?\s*$')


def if_match_version(if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> int | None:
    """The version a client last read, from ``If-Match: "3"`` (the ETag of a GET)."""
    if if_match is None:
        return None
    match = _ETAG.match(if_match)
    if match is None:
        raise InvalidInput(f"If-Match must hold an entity version such as \"3\", got {if_match!r}")
    return int(match.group(2))


IfMatchDep = Annotated[int | None, Depends(if_match_version)]


def expected_version(header: int | None, body: int | None) -> int | None:
    if header is not None and body is not None and header != body:
        raise InvalidInput(f"If-Match says version {header} but the body says {body}")
    return header if header is not None else body


def author_of(principal: Principal) -> Author:
    return Author(subject=principal.subject, role=str(principal.role),
                  organisation_id=principal.organisation_id, name=principal.name)


def stamp_for(principal: Principal, valid_at: datetime | date | None = None, reason: str | None = None) -> Stamp:
    """The stamp of an accepted write: its author, valid time and reason, and the request's correlation id."""
    return Stamp(author=author_of(principal), valid_at=as_instant(valid_at), reason=reason,
                 correlation_id=get_correlation_id())


def as_instant(value: datetime | date | None) -> datetime | None:
    """Dates mean the start of that day in UTC; naive times are taken as UTC."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        return datetime.combine(value, time.min, tzinfo=UTC)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


__all__ = ["AppDep", "IfMatchDep", "PrincipalDep", "as_instant", "expected_version", "stamp_for"]
