"""Small value rules shared by the aggregates: periods, decimals, texts, dates."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from izlek_common.domain.errors import InvalidValue

# A reporting period: a year, a half, a quarter, a month, or an explicit day range.
_PERIOD = re.compile(r"^\d{4}(-(H[12]|Q[1-4]|(0[1-9]|1[0-2])))?$")
_MAX_DIGITS = 30


def period(value: str) -> str:
    """Validate a reporting period such as ``2021``, ``2021-H1``, ``2021-Q3`` or ``2021-06``."""
    if not isinstance(value, str) or not _PERIOD.match(value):
        raise InvalidValue(f"'{value}' is not a period; use 2021, 2021-H1, 2021-Q3 or 2021-06")
    return value


def decimal(value: object, what: str) -> Decimal:
    """A finite decimal number; floats are read through their shortest text so 95.5 stays 95.5."""
    if isinstance(value, bool):
        raise InvalidValue(f"{what} must be a number, not a boolean")
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidValue(f"{what} must be a number, got {value!r}") from None
    if not number.is_finite():
        raise InvalidValue(f"{what} must be a finite number")
    # Bounded because views print decimals in full: "1e999999999" would become a billion-digit text.
    if not number:
        return Decimal(0)
    shape = number.as_tuple()
    trailing_zeros = len(shape.digits) - len("".join(map(str, shape.digits)).rstrip("0"))
    decimal_places = -(int(shape.exponent) + trailing_zeros)
    if number.adjusted() >= _MAX_DIGITS or decimal_places > _MAX_DIGITS:
        raise InvalidValue(f"{what} must have at most {_MAX_DIGITS} digits before and after the decimal point")
    return number


def text(value: object, what: str, *, max_length: int = 4000) -> str:
    """A non-blank text, stripped of surrounding white space."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(f"{what} must be a non-empty text")
    if len(value) > max_length:
        raise InvalidValue(f"{what} is longer than {max_length} characters")
    return value.strip()


def optional_text(value: object, what: str, *, max_length: int = 4000) -> str | None:
    if value is None:
        return None
    return text(value, what, max_length=max_length)


def code(value: object, what: str) -> str:
    """A short identifier written by people, e.g. ``G1``, ``T1.1``, ``T1.1-A03``, ``DI1-C1``."""
    result = text(value, what, max_length=64)
    if not re.fullmatch(r"[\w.\-/]+", result):
        raise InvalidValue(f"{what} may hold letters, digits, '.', '-', '_' and '/' only, got {value!r}")
    return result


def date_range(start: date | None, end: date | None, what: str) -> None:
    if start is not None and end is not None and end < start:
        raise InvalidValue(f"{what} ends ({end}) before it starts ({start})")
