"""The action-plan tracking table (Eylem Planı Takip Tablosu): its columns in Turkish and English, and the
words people write for a commitment's status and an indicator's direction.

The plans service reads the table (``izlek_plans.spreadsheet_import``) and the gateway writes it
(``izlek_gateway.files``); both take the vocabulary from here, so a file Izlek exports reads back unchanged.
Headers are recognised without regard to case, accents or the Turkish dotted and dotless i, and per period as
``Hedef 2021`` / ``Target 2021`` (target value) and ``Gerçekleşen 2021`` / ``Actual 2021`` (actual value); a
period is a year, a half, a quarter or a month (``2021``, ``2021-H1``, ``2021-Q3``, ``2021-06``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from izlek_common.domain import values
from izlek_common.domain.errors import InvalidValue
from izlek_common.spreadsheets import CellError, header_key

Language = Literal["tr", "en"]
LANGUAGES: tuple[Language, ...] = ("tr", "en")


class Field(StrEnum):
    """A column of the table, other than the per-period target and actual values."""

    PLAN = "plan"
    GOAL = "goal"
    TARGET = "target"
    ACTIVITY_CODE = "activity_code"
    ACTIVITY = "activity"
    RESPONSIBLE = "responsible"
    DUE_DATE = "due_date"
    STATUS = "status"
    INDICATOR_CODE = "indicator_code"
    INDICATOR = "indicator"
    UNIT = "unit"
    DIRECTION = "direction"
    BASELINE = "baseline"


PeriodKind = Literal["target_value", "actual"]


@dataclass(frozen=True, order=True)
class PeriodField:
    """An indicator's target value (``Hedef 2021``) or actual value (``Gerçekleşen 2021``) of one period."""

    period: str
    kind: PeriodKind


Column = Field | PeriodField

HEADERS: dict[Field, tuple[str, str]] = {
    Field.PLAN: ("Plan", "Plan"),
    Field.GOAL: ("Amaç", "Goal"),
    Field.TARGET: ("Hedef", "Target"),
    Field.ACTIVITY_CODE: ("Faaliyet Kodu", "Activity code"),
    Field.ACTIVITY: ("Faaliyet", "Activity"),
    Field.RESPONSIBLE: ("Sorumlu Kurum", "Responsible organisation"),
    Field.DUE_DATE: ("Bitiş Tarihi", "Due date"),
    Field.STATUS: ("Durum", "Status"),
    Field.INDICATOR_CODE: ("Gösterge Kodu", "Indicator code"),
    Field.INDICATOR: ("Gösterge", "Indicator"),
    Field.UNIT: ("Birim", "Unit"),
    Field.DIRECTION: ("Yön", "Direction"),
    Field.BASELINE: ("Başlangıç Değeri", "Baseline"),
}
"""The header an export writes, in Turkish and in English; the order is the export's column order."""

PERIOD_HEADERS: dict[PeriodKind, tuple[str, str]] = {
    "target_value": ("Hedef", "Target"),
    "actual": ("Gerçekleşen", "Actual"),
}

_SYNONYMS: dict[Field, tuple[str, ...]] = {
    Field.PLAN: ("eylem plani", "plan kodu", "action plan", "plan code"),
    Field.GOAL: ("amac kodu", "amaclar", "goal code", "goals", "objective"),
    Field.TARGET: ("hedef kodu", "hedefler", "target code", "targets"),
    Field.ACTIVITY_CODE: ("faaliyet no", "faaliyet numarasi", "activity id", "activity no"),
    Field.ACTIVITY: ("faaliyetler", "faaliyet adi", "eylem", "taahhut", "activities", "commitment", "action"),
    Field.RESPONSIBLE: ("sorumlu", "sorumlu kurumlar", "sorumlu kurum/kurulus", "sorumlu kurulus", "responsible",
                        "responsible organization", "responsible organisations", "responsible organizations"),
    Field.DUE_DATE: ("son tarih", "termin", "tamamlanma tarihi", "deadline", "end date"),
    Field.STATUS: ("durumu", "gerceklesme durumu", "faaliyet durumu"),
    Field.INDICATOR_CODE: ("gosterge no", "indicator id"),
    Field.INDICATOR: ("performans gostergesi", "gosterge adi", "performance indicator"),
    Field.UNIT: ("olcu birimi", "unit of measure"),
    Field.DIRECTION: ("gosterge yonu", "indicator direction"),
    Field.BASELINE: ("baslangic", "baslangic degeri", "referans degeri", "baseline value"),
}

_FIELD_KEYS: dict[str, Field] = {}
for _field, (_turkish, _english) in HEADERS.items():
    for _name in (_turkish, _english, *_SYNONYMS[_field]):
        _FIELD_KEYS[header_key(_name)] = _field

_PERIOD_WORDS: dict[str, PeriodKind] = {
    "hedef": "target_value", "hedef degeri": "target_value", "hedeflenen": "target_value",
    "target": "target_value", "target value": "target_value",
    "gerceklesen": "actual", "gerceklesme": "actual", "gerceklesen deger": "actual", "actual": "actual",
    "actual value": "actual",
}
_PERIOD = r"(\d{4})(?:\s*[-/ ]\s*(h[12]|q[1-4]|\d{1,2}))?"
_WORDS = "|".join(sorted(map(re.escape, _PERIOD_WORDS), key=len, reverse=True))
_WORD_THEN_PERIOD = re.compile(rf"^({_WORDS})\s*[-:(]?\s*{_PERIOD}\s*\)?$")
_PERIOD_THEN_WORD = re.compile(rf"^{_PERIOD}\s+({_WORDS})$")


def recognise(header: object) -> Column | None:
    """The column a header names, or None for a column the table does not have (it is then ignored).
    Raises `CellError` for a period header whose period is not one (``Hedef 2021-13``)."""
    key = header_key(header)
    if not key:
        return None
    for candidate in (key, header_key(re.sub(r"[()]", " ", key)), header_key(re.sub(r"\(.*?\)", " ", key))):
        if candidate in _FIELD_KEYS:
            return _FIELD_KEYS[candidate]
        if match := _WORD_THEN_PERIOD.match(candidate):
            word, year, part = match.groups()
            return PeriodField(period=_period(year, part, header), kind=_PERIOD_WORDS[word])
        if match := _PERIOD_THEN_WORD.match(candidate):
            year, part, word = match.groups()
            return PeriodField(period=_period(year, part, header), kind=_PERIOD_WORDS[word])
    return None


def _period(year: str, part: str | None, header: object) -> str:
    text = year if part is None else f"{year}-{part.upper() if part[0] in 'hq' else part.zfill(2)}"
    try:
        return values.period(text)
    except InvalidValue:
        raise CellError(f"the column {str(header)!r} names no period: use e.g. 2021, 2021-H1, 2021-Q3 or "
                        "2021-06") from None


def header(column: Column, language: Language = "tr") -> str:
    """The header an export writes for `column`: ``Bitiş Tarihi``, ``Hedef 2021``, ``Actual 2021-H1``."""
    index = LANGUAGES.index(language)
    if isinstance(column, PeriodField):
        return f"{PERIOD_HEADERS[column.kind][index]} {column.period}"
    return HEADERS[column][index]


# --- statuses and directions ---------------------------------------------------------------------------------

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "planned": ("Planlandı", "Planned"),
    "in_progress": ("Devam Ediyor", "In progress"),
    "done": ("Tamamlandı", "Done"),
    "dropped": ("İptal", "Dropped"),
}
"""A commitment's recorded status as an export writes it."""

_STATUS_WORDS: dict[str, tuple[str, ...]] = {
    "planned": ("planlandi", "planlanan", "planlanmis", "planli", "baslanmadi", "baslamadi", "baslamadi henuz",
                "planned", "not started", "to do", "todo"),
    "in_progress": ("devam ediyor", "devam", "devam eden", "suruyor", "basladi", "baslandi", "yurutuluyor",
                    "uygulamada", "in progress", "in_progress", "ongoing", "started", "underway"),
    "done": ("tamamlandi", "tamamlanan", "tamamlanmis", "tamam", "bitti", "gerceklesti", "gerceklestirildi",
             "done", "completed", "complete", "finished"),
    "dropped": ("iptal", "iptal edildi", "iptal edilen", "vazgecildi", "yapilmayacak", "dropped", "cancelled",
                "canceled", "abandoned"),
}
_STATUS_KEYS = {header_key(word): status for status, words in _STATUS_WORDS.items()
                for word in (*words, *STATUS_LABELS[status])}
_OVERDUE_KEYS = {header_key(word) for word in ("gecikmis", "gecikti", "gecikmede", "gecikme", "overdue", "late",
                                                "delayed")}


def read_status(text: str) -> str:
    """The recorded status a word names: ``Devam Ediyor`` -> ``in_progress``; `CellError` for any other word."""
    key = header_key(text)
    if key in _STATUS_KEYS:
        return _STATUS_KEYS[key]
    known = ", ".join(label for label, _ in STATUS_LABELS.values())
    if key in _OVERDUE_KEYS:
        raise CellError(f"'{text}' is not recorded: Izlek works out from the due date whether an activity is "
                        f"overdue; write its status ({known})")
    raise CellError(f"'{text}' is not a status; write one of {known} (or Planned, In progress, Done, Dropped)")


def status_label(status: str, language: Language = "tr") -> str:
    labels = STATUS_LABELS.get(status)
    return status if labels is None else labels[LANGUAGES.index(language)]


DIRECTION_LABELS: dict[str, tuple[str, str]] = {
    "increase": ("Artış", "Increase"),
    "decrease": ("Azalış", "Decrease"),
}
_DIRECTION_WORDS = {
    "increase": ("artis", "artan", "artmali", "yukari", "increase", "increasing", "up"),
    "decrease": ("azalis", "azalan", "azalmali", "asagi", "decrease", "decreasing", "down"),
}
_DIRECTION_KEYS = {header_key(word): direction for direction, words in _DIRECTION_WORDS.items() for word in words}


def read_direction(text: str) -> str:
    """``increase`` or ``decrease`` from ``Artış``/``Azalış`` (or the English words); `CellError` otherwise."""
    try:
        return _DIRECTION_KEYS[header_key(text)]
    except KeyError:
        raise CellError(f"'{text}' is not a direction; write Artış or Azalış (Increase or Decrease)") from None


def direction_label(direction: str, language: Language = "tr") -> str:
    labels = DIRECTION_LABELS.get(direction)
    return direction if labels is None else labels[LANGUAGES.index(language)]
