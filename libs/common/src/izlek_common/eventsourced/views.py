"""Turning aggregate state and events into JSON-friendly data, and diffing two states."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID


def jsonable(value: Any) -> Any:
    """Plain JSON data. Decimals become strings so that no figure is rounded through a float."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, float):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return str(value)


def _decimal_text(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Field diffs between two views: nested dicts become dotted paths, lists report what was added
    and removed, other values report from and to."""
    changes: dict[str, Any] = {}
    _diff_into(changes, "", before, after)
    return changes


def _diff_into(changes: dict[str, Any], prefix: str, before: Any, after: Any) -> None:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in list(before) + [k for k in after if k not in before]:
            path = f"{prefix}.{key}" if prefix else str(key)
            _diff_into(changes, path, before.get(key), after.get(key))
        return
    if before == after:
        return
    if isinstance(before, list) and isinstance(after, list):
        added = [v for v in after if v not in before]
        removed = [v for v in before if v not in after]
        if added or removed:
            changes[prefix] = {"added": added, "removed": removed}
            return
    changes[prefix] = {"from": before, "to": after}
