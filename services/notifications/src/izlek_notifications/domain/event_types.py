"""Event types a subscription asks for: exact types or patterns such as ``izlek.partners.protocol.*``.

A pattern is an event type in which ``*`` stands for one or more whole dot-separated tokens:
``izlek.partners.protocol.*`` is every protocol event of the partners service (``status_changed.v1``,
``drafted.v1``, ...), ``izlek.*.status_changed.v1`` every status change, ``izlek.*`` everything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from izlek_notifications.domain.errors import InvalidValue

_TOKEN = r"[a-z0-9_]+"
_PATTERN_SHAPE = re.compile(rf"izlek(\.({_TOKEN}|\*))+")
MAX_EVENT_TYPES = 50


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression of a pattern (``*`` = one or more whole tokens)."""
    parts = [rf"{_TOKEN}(\.{_TOKEN})*" if token == "*" else re.escape(token) for token in pattern.split(".")]
    return re.compile(r"\.".join(parts))


def matches(pattern: str, event_type: str) -> bool:
    """Whether ``event_type`` is ``pattern`` or one of the types it stands for."""
    if "*" not in pattern:
        return pattern == event_type
    return pattern_regex(pattern).fullmatch(event_type) is not None


def matches_any(patterns: Iterable[str], event_type: str) -> bool:
    """An empty list of patterns asks for every event type."""
    patterns = tuple(patterns)
    return not patterns or any(matches(p, event_type) for p in patterns)


def checked_event_types(values: Iterable[str], known: Iterable[str]) -> tuple[str, ...]:
    """Each value an event type of ``known`` or a pattern that stands for at least one of them; duplicates
    dropped, order kept."""
    known_types = tuple(known)
    result: list[str] = []
    for value in values:
        if not isinstance(value, str) or not _PATTERN_SHAPE.fullmatch(value.strip()):
            raise InvalidValue(
                f"{value!r} is not an event type or pattern: write izlek.<service>.<entity>.<event>.v<N>, with * "
                "for one or more parts (izlek.partners.protocol.*)")
        value = value.strip()
        if not any(matches(value, event_type) for event_type in known_types):
            what = "matches no event type" if "*" in value else "is not an event type Izlek publishes"
            raise InvalidValue(f"{value} {what}; e.g. izlek.partners.protocol.status_changed.v1, "
                               "izlek.plans.commitment.*, izlek.notifications.reminder.*")
        if value not in result:
            result.append(value)
    if len(result) > MAX_EVENT_TYPES:
        raise InvalidValue(f"a subscription names at most {MAX_EVENT_TYPES} event types or patterns")
    return tuple(result)
