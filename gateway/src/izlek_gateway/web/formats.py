"""Numbers, money and dates as people in Turkey (or English readers) write them, and reading what they type.

Times are shown in Turkey's time (UTC+3 all year). Turkish writes ``1.250,5`` and ``%45``; English ``1,250.5``
and ``45%``. Amounts typed into a form may use either convention (``1.250,50``, ``1250,5``, ``1,250.50``).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from izlek_common.turkish_time import TURKEY

_MONTHS = {
    "tr": ("Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül", "Ekim", "Kasım",
           "Aralık"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}


def parse_moment(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def format_date(value: str | date | None, language: str) -> str:
    if value is None or value == "":
        return "—"
    day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    if language == "tr":
        return day.strftime("%d.%m.%Y")
    return f"{day.day} {_MONTHS['en'][day.month - 1][:3]} {day.year}"


def format_moment(value: str | datetime | None, language: str) -> str:
    """A date and time in Turkey's time, to the minute."""
    moment = parse_moment(value)
    if moment is None:
        return "—"
    local = moment.astimezone(TURKEY)
    return f"{format_date(local.date(), language)} {local:%H:%M}"


def format_valid(value: str | datetime | None, precision: str | None, language: str) -> str:
    """A valid time as well as it is known: ``2019`` for year precision, ``Haziran 2021`` for month precision."""
    moment = parse_moment(value)
    if moment is None:
        return "—"
    if precision == "year":
        return str(moment.year)
    if precision == "month":
        return f"{_MONTHS[language][moment.month - 1]} {moment.year}"
    if precision == "day":
        return format_date(moment.date(), language)
    return format_moment(moment, language)


def format_number(value: str | Decimal | int | None, language: str, places: int | None = None) -> str:
    """An exact decimal with grouped thousands; `places` rounds (half to even) for display only."""
    if value is None or value == "":
        return "—"
    number = Decimal(str(value))
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    sign = "-" if number < 0 else ""
    text = format(abs(number), "f")
    whole, _, fraction = text.partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    thousands, decimal_mark = (".", ",") if language == "tr" else (",", ".")
    result = thousands.join(groups)
    if fraction:
        result += decimal_mark + fraction
    return sign + result


def format_percent(value: str | Decimal | None, language: str) -> str:
    if value is None or value == "":
        return "—"
    number = format_number(value, language, places=1).removesuffix(",0").removesuffix(".0")
    return f"%{number}" if language == "tr" else f"{number}%"


def format_money(value: str | Decimal | None, language: str) -> str:
    if value is None or value == "":
        return "—"
    number = format_number(value, language, places=2)
    return f"{number} TL" if language == "tr" else f"TRY {number}"


class NotAnAmount(ValueError):
    """Text that is not an amount of money."""


_GROUPED_DOTS = re.compile(r"\d{1,3}(\.\d{3})+(,\d+)?")
_GROUPED_COMMAS = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")


def parse_amount(text: str) -> str:
    """An amount typed by a person, as an exact decimal text for the services (``1.250,50`` -> ``1250.50``).

    A comma followed by one or two digits, or a dot followed by three in groups (``1.250``), are read the
    Turkish way; ``1,250.50`` the English way; a lone dot with one or two digits (``1250.5``) is a decimal point.
    """
    raw = text.strip().replace(" ", "").replace("\u00a0", "").removesuffix("TL").removesuffix("₺").strip()
    if _GROUPED_DOTS.fullmatch(raw):
        normal = raw.replace(".", "").replace(",", ".")
    elif _GROUPED_COMMAS.fullmatch(raw):
        normal = raw.replace(",", "")
    elif raw.count(",") == 1 and "." not in raw:
        normal = raw.replace(",", ".")
    else:
        normal = raw
    try:
        number = Decimal(normal)
    except InvalidOperation:
        raise NotAnAmount(text) from None
    if not number.is_finite() or not re.fullmatch(r"\d+(\.\d+)?", normal):
        raise NotAnAmount(text)
    return normal


class NotADate(ValueError):
    """Text that is not a calendar date."""


def parse_day(text: str | None) -> date | None:
    """A date from a form: ``2026-11-23`` (what a date input sends) or ``23.11.2026``; empty is None."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    try:
        if re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}", value):
            day, month, year = (int(part) for part in value.split("."))
            return date(year, month, day)
        return date.fromisoformat(value)
    except ValueError:
        raise NotADate(text) from None
