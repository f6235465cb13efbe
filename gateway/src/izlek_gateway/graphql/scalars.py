"""Conversions shared by the types: exact decimals as strings, timestamps with a time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import NewType

import strawberry

from izlek_common.turkish_time import TURKEY


def decimal_text(value: Decimal | None) -> str | None:
    """A decimal figure as exact text ("1250.50"), never a float."""
    return None if value is None else str(value)


def aware(value: datetime) -> datetime:
    """SQLite hands back naive times; the read models store UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def normalised(value: str | None) -> str | None:
    """An enum-like filter given as ``COOPERATIVE`` or ``cooperative``: the stored spelling."""
    return None if value is None else value.strip().lower()




def point_in_time(value: object) -> datetime:
    """``2019-12-31`` (the end of that day in Turkey), or a date-time; without an offset, Turkey's time."""
    if not isinstance(value, str):
        raise ValueError("a point in time is an ISO 8601 date or date-time, as a string")
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time.max, TURKEY).astimezone(UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO 8601 date or date-time: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=TURKEY)
    return moment.astimezone(UTC)


PointInTime = NewType("PointInTime", datetime)
"""An argument naming a moment: ``asOf``, ``validAt``, ``from``, ``to``."""

SCALARS = {PointInTime: strawberry.scalar(
    name="PointInTime",
    description="A date (2019-12-31: the end of that day in Turkey) or a date-time with or without an offset "
    "(2019-12-31T09:30:00+03:00; without one, Turkey's time).",
    serialize=lambda value: value.isoformat(),
    parse_value=point_in_time,
)}
"""The gateway's own scalars, for ``StrawberryConfig(scalar_map=...)``."""
