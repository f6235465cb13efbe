"""How value objects are stored as JSON in the event stores."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from izlek_common.domain.stamp import Author, Stamp


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class DataclassAsDict(Transcoding):
    """A frozen dataclass stored as a dict of its fields; nested values are transcoded in turn.

    The stored name is fixed per class, so moving a class does not break old events.
    """

    def __init__(self, cls: type, name: str) -> None:
        self.type = cls
        self.name = name

    def encode(self, obj: Any) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**data)


COMMON_VALUE_TYPES: dict[str, type] = {"izlek_author": Author, "izlek_stamp": Stamp}


def register_value_types(transcoder: JSONTranscoder, value_types: dict[str, type]) -> None:
    """Register dates, the stamp, and a service's own value types under their stored names."""
    transcoder.register(DateAsISO())
    for name, cls in {**COMMON_VALUE_TYPES, **value_types}.items():
        transcoder.register(DataclassAsDict(cls, name))
