"""The CloudEvents 1.0 envelope of messages on NATS, and the registry of versioned integration contracts."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict

from izlek_common.logging import NATS_CORRELATION_ID_HEADER

CLOUDEVENTS_JSON_MEDIA_TYPE = "application/cloudevents+json"
NATS_MSG_ID_HEADER = "Nats-Msg-Id"
NATS_NOTIFICATION_ID_HEADER = "Izlek-Notification-Id"

EVENT_TYPE_PATTERN = re.compile(r"izlek\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.v[1-9][0-9]*")
"""`izlek.<service>.<aggregate>.<event>.v<N>`, also the NATS subject the event is published on."""


def message_id(application_name: str, notification_id: int) -> str:
    """The CloudEvent `id` and `Nats-Msg-Id` of a stored event: `<app>:<notification id>`."""
    return f"{application_name}:{notification_id}"


class CloudEvent(BaseModel):
    """A stored event as published on NATS: CloudEvents 1.0, JSON structured mode.

    `id` is `<app>:<notification id>` (see `message_id`), so a re-published event has the same id and
    JetStream drops the duplicate. `subject` is the aggregate id, `time` when the event was recorded and
    `validtime` when it took effect in the world (`validprecision` says when that is only known to the year, month
    or day). Unknown attributes from newer producers are ignored.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: Literal["1.0"] = "1.0"
    id: str
    source: str
    type: str
    subject: str | None = None
    time: AwareDatetime
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = None
    data: dict[str, Any]

    notificationid: int
    aggregateversion: int
    actor: str
    actorrole: str
    actororg: str | None = None
    actorname: str | None = None
    """The author's display name (the token's ``name`` claim), for people reading the history."""
    validtime: AwareDatetime
    validprecision: Literal["year", "month", "day"] | None = None
    correlationid: str | None = None
    reason: str | None = None
    kind: Literal["change", "correction"] = "change"

    def to_json_bytes(self) -> bytes:
        """Compact UTF-8 JSON with non-ASCII text kept as is; absent optional attributes are left out."""
        return self.model_dump_json(exclude_none=True).encode("utf-8")

    @classmethod
    def from_json_bytes(cls, raw: bytes | str) -> CloudEvent:
        """Parse an event written by `to_json_bytes` (raises pydantic's `ValidationError` if invalid)."""
        return cls.model_validate_json(raw)

    def nats_headers(self) -> dict[str, str]:
        """Headers to publish with: deduplication id, correlation id and routing hints."""
        headers = {
            NATS_MSG_ID_HEADER: self.id,
            "Content-Type": CLOUDEVENTS_JSON_MEDIA_TYPE,
            "Ce-Type": self.type,
            NATS_NOTIFICATION_ID_HEADER: str(self.notificationid),
        }
        if self.subject is not None:
            headers["Ce-Subject"] = self.subject
        if self.correlationid is not None:
            headers[NATS_CORRELATION_ID_HEADER] = self.correlationid
        return headers


class IntegrationEvent(BaseModel):
    """Base of the versioned payload contracts that services publish (the `data` of a `CloudEvent`).

    A contract never changes once published; a new shape is a new class with the next `version`, and its
    `event_type` ends in `.v<version>`. Register each with `@register_contract`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    version: ClassVar[int]


class UnknownContract(LookupError):
    """No integration contract is registered for an event type."""


IntegrationEventT = TypeVar("IntegrationEventT", bound=type[IntegrationEvent])

_contracts: dict[str, type[IntegrationEvent]] = {}


def register_contract(cls: IntegrationEventT) -> IntegrationEventT:
    """Class decorator: make `cls` the contract for its `event_type`."""
    event_type = getattr(cls, "event_type", None)
    version = getattr(cls, "version", None)
    if not isinstance(event_type, str) or not EVENT_TYPE_PATTERN.fullmatch(event_type):
        raise ValueError(
            f"{cls.__qualname__}.event_type must look like izlek.<service>.<aggregate>.<event>.v<N>, "
            f"got {event_type!r}"
        )
    if not isinstance(version, int) or not event_type.endswith(f".v{version}"):
        raise ValueError(f"{cls.__qualname__}.version must be the number after '.v' in {event_type!r}")
    existing = _contracts.get(event_type)
    if existing is not None and _qualified_name(existing) != _qualified_name(cls):
        raise ValueError(
            f"{event_type!r} is already the contract {_qualified_name(existing)}; "
            f"cannot register {_qualified_name(cls)}"
        )
    _contracts[event_type] = cls
    return cls


def contract_for(event_type: str) -> type[IntegrationEvent]:
    """Return the contract registered for `event_type`; raise `UnknownContract` when there is none."""
    try:
        return _contracts[event_type]
    except KeyError:
        raise UnknownContract(f"no integration contract is registered for {event_type!r}") from None


def all_contracts() -> dict[str, type[IntegrationEvent]]:
    """Every registered contract by event type, sorted by event type."""
    return dict(sorted(_contracts.items()))


def _qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
