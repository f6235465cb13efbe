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


_PARTIAL_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


def partial_date(value: object, what: str) -> str:
    """A date known to the year, month or day: ``2019``, ``2019-09`` or ``2019-09-04`` (kept as given)."""
    if isinstance(value, date):
        return value.isoformat()
    text_value = str(value) if isinstance(value, int) else value
    if not isinstance(text_value, str) or not _PARTIAL_DATE.match(text_value):
        raise InvalidValue(f"{what} must be a date such as 2019, 2019-09 or 2019-09-04, got {value!r}")
    if len(text_value) == 10:
        try:
            date.fromisoformat(text_value)
        except ValueError:
            raise InvalidValue(f"{what}: {text_value} is not a day of the calendar") from None
    return text_value


def partial_date_precision(value: str) -> str:
    return {4: "year", 7: "month", 10: "day"}[len(value)]


def partial_date_start(value: str) -> date:
    """The first day a partial date covers: ``2019`` -> 2019-01-01."""
    parts = [int(p) for p in value.split("-")] + [1, 1]
    return date(parts[0], parts[1], parts[2])


def period_range(value: str) -> tuple[date, date]:
    """The first and last day of a reporting period (``2024``, ``2024-H1``, ``2024-Q3``, ``2024-06``)."""
    year = int(period(value)[:4])
    rest = value[5:]
    if not rest:
        first_month, months = 1, 12
    elif rest[0] == "H":
        first_month, months = 1 + 6 * (int(rest[1]) - 1), 6
    elif rest[0] == "Q":
        first_month, months = 1 + 3 * (int(rest[1]) - 1), 3
    else:
        first_month, months = int(rest), 1
    last_month = first_month + months - 1
    next_month_start = date(year + 1, 1, 1) if last_month == 12 else date(year, last_month + 1, 1)
    return date(year, first_month, 1), date.fromordinal(next_month_start.toordinal() - 1)


MAX_MONEY = Decimal("1000000000000")


def money(value: object, what: str) -> Decimal:
    """An amount in Turkish lira, exact to the kuruş: positive, at most two decimals, no float rounding."""
    amount = decimal(value, what)
    if amount <= 0:
        raise InvalidValue(f"{what} must be more than zero")
    if amount >= MAX_MONEY:
        raise InvalidValue(f"{what} must be less than {MAX_MONEY:,} TRY")
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidValue(f"{what} has fractions of a kuruş: {value}")
    return amount.quantize(Decimal("0.01"))
