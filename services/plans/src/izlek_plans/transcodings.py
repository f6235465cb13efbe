"""How the plans domain's value objects are stored as JSON in the event store."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from izlek_plans.domain.commitment import Evidence
from izlek_plans.domain.criterion import BandOverride, CriterionPart, Measure
from izlek_plans.domain.indicator import Actual
from izlek_plans.domain.plan import ActorGroup, Goal, Priority, Target
from izlek_plans.domain.stamp import Author, Stamp


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


STORED_VALUE_TYPES: dict[str, type] = {
    "izlek_author": Author,
    "izlek_stamp": Stamp,
    "plans_goal": Goal,
    "plans_target": Target,
    "plans_actor_group": ActorGroup,
    "plans_priority": Priority,
    "plans_evidence": Evidence,
    "plans_measure": Measure,
    "plans_criterion_part": CriterionPart,
    "plans_band_override": BandOverride,
    "plans_actual": Actual,
}


def register_plans_transcodings(transcoder: JSONTranscoder) -> None:
    transcoder.register(DateAsISO())
    for name, cls in STORED_VALUE_TYPES.items():
        transcoder.register(DataclassAsDict(cls, name))
