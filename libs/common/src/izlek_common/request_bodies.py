"""Request bodies every entity API shares: unknown fields refused, and the envelope of every write (valid
time and its precision, reason, expected version) turned into the event's stamp."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from izlek_common.auth import Principal
from izlek_common.domain.stamp import Stamp
from izlek_common.entity_http import expected_version, stamp_for


def not_a_boolean(value: Any) -> Any:
    """Pydantic's lax mode would read JSON true and false as the numbers 1 and 0."""
    if isinstance(value, bool):
        raise PydanticCustomError("number_type", "Input should be a number, not true or false")
    return value


Whole = Annotated[int, BeforeValidator(not_a_boolean)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ENVELOPE: ClassVar[frozenset[str]] = frozenset({"valid_at", "reason", "expected_version", "valid_precision"})

    def given(self, *exclude: str) -> dict[str, Any]:
        """The fields the client actually sent (nested bodies as dicts), minus the envelope fields."""
        names = self.model_fields_set - self.ENVELOPE - set(exclude)
        return self.model_dump(include=names, exclude_unset=True)


class Stamped(Body):
    """Fields every write may carry: when it took effect, why, and the version it was based on."""

    valid_at: date | datetime | None = Field(
        None, description="When the change took effect in the world (default: when it is recorded). "
        "A date means the start of that day, UTC.")
    reason: str | None = Field(None, max_length=2000, description="Why; required for corrections, rejections, "
                               "suspensions, terminations, disputes and voids.")
    expected_version: Whole | None = Field(
        None, ge=1, description="The version you read (or send If-Match); 409 if the entity has moved on.")

    def stamp(self, principal: Principal) -> Stamp:
        """The stamp of this write by ``principal``."""
        return stamp_for(principal, self.valid_at, self.reason)

    def version(self, if_match: int | None) -> int | None:
        """The version the write is based on, from If-Match or the body."""
        return expected_version(if_match, self.expected_version)


class Backdatable(Stamped):
    """A write whose valid time may be known only to the year or month ("signed in 2019")."""

    valid_precision: Literal["year", "month", "day"] | None = Field(
        None, description="How well the valid time is known. With 'year', valid_at is the 1st of January of that "
        "year; with 'month', the 1st of the month; omitted, valid_at is exact.")

    def stamp(self, principal: Principal) -> Stamp:
        return stamp_for(principal, self.valid_at, self.reason, self.valid_precision)

    @model_validator(mode="after")
    def _precision_names_the_start_of_a_period(self) -> Self:
        if self.valid_precision is None:
            return self
        if self.valid_at is None:
            raise ValueError("valid_precision needs valid_at: the first day of the year, month or the day itself")
        if isinstance(self.valid_at, datetime):
            if self.valid_at.timetz().replace(tzinfo=None) != time.min:
                raise ValueError(f"a valid time known to the {self.valid_precision} is a date, not a time of day")
            day = self.valid_at.date()
        else:
            day = self.valid_at
        if self.valid_precision == "year" and (day.month, day.day) != (1, 1):
            raise ValueError("a valid time known to the year is written as the 1st of January, e.g. 2019-01-01")
        if self.valid_precision == "month" and day.day != 1:
            raise ValueError("a valid time known to the month is written as its 1st day, e.g. 2019-09-01")
        return self


class ChangeOrCorrection(Stamped):
    ENVELOPE: ClassVar[frozenset[str]] = Stamped.ENVELOPE | {"kind"}

    kind: Literal["change", "correction"] = Field(
        "change", description="'correction' fixes a recording mistake (needs a reason); 'change' is a real change.")

    @property
    def correction(self) -> bool:
        return self.kind == "correction"
