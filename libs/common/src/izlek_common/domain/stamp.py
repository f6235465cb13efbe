"""Who recorded an event, when it took effect in the world, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from izlek_common.domain.errors import InvalidValue, ReasonRequired


@dataclass(frozen=True)
class Author:
    """The authenticated principal behind a change."""

    subject: str
    role: str
    organisation_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Stamp:
    """Carried by every event: the author, the valid time and the reason.

    ``valid_at`` is when the change took effect in the world. ``None`` means "when it was recorded",
    so that the common case needs no second clock reading that could drift from the event's timestamp.
    """

    author: Author
    valid_at: datetime | None = None
    reason: str | None = None
    correlation_id: str | None = None
    valid_precision: str | None = None
    """``year``, ``month`` or ``day`` when the valid time is only known that well (a protocol "signed in
    2019" is valid from 2019-01-01 with precision ``year``); ``None`` means exact."""

    def __post_init__(self) -> None:
        if self.valid_at is not None and self.valid_at.utcoffset() is None:
            raise InvalidValue("valid time must carry a time zone")
        if self.valid_precision not in (None, "year", "month", "day"):
            raise InvalidValue("valid time precision is year, month or day")

    def requiring_reason(self, what: str) -> Stamp:
        if not (self.reason and self.reason.strip()):
            raise ReasonRequired(f"a reason is required to {what}")
        return self
