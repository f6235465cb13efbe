"""Conversions shared by the types: exact decimals as strings, timestamps with a time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal


def decimal_text(value: Decimal | None) -> str | None:
    """A decimal figure as exact text ("1250.50"), never a float."""
    return None if value is None else str(value)


def aware(value: datetime) -> datetime:
    """SQLite hands back naive times; the read models store UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def normalised(value: str | None) -> str | None:
    """An enum-like filter given as ``COOPERATIVE`` or ``cooperative``: the stored spelling."""
    return None if value is None else value.strip().lower()
