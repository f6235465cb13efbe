"""Turkey's time: due dates, overdue, reminders and "a date means the end of that day" follow the Turkish
calendar. Turkey keeps UTC+3 all year (no daylight saving since 2016)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

TURKEY = timezone(timedelta(hours=3), "TRT")


def today_in_turkey(now: datetime | None = None) -> date:
    """The Turkish calendar date at `now` (default: the machine's clock)."""
    return (now or datetime.now(UTC)).astimezone(TURKEY).date()
