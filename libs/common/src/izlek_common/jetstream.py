"""Small helpers on nats-py: a resilient connection, idempotent streams, and the naming scheme.

Naming scheme (one for the whole system):

- subjects: `izlek.<service>.<aggregate>.<event>.v<N>`, e.g. `izlek.plans.commitment.status_changed.v1`
- one stream per service, named after it in upper case: `PLANS` holds `izlek.plans.>`
- durable consumers: `<consumer>-from-<service>`, e.g. `gateway-from-plans`
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

import structlog
from nats.aio.client import Client
from nats.js import JetStreamManager
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig, StreamInfo
from nats.js.errors import BadRequestError, NotFoundError

__all__ = [
    "SUBJECT_ROOT",
    "connect",
    "durable_name_for",
    "ensure_stream",
    "stream_name_for",
    "stream_subjects_for",
    "subject_for",
    "subject_prefix_for",
]

logger = structlog.get_logger(__name__)

SUBJECT_ROOT = "izlek"

_TOKEN = re.compile(r"^[a-z][a-z0-9_]*$")

# JetStream's "stream name already in use with a different configuration".
_STREAM_NAME_IN_USE = 10058


def _checked(kind: str, value: str) -> str:
    if not _TOKEN.match(value):
        raise ValueError(f"{kind} {value!r} must be lower-case letters, digits and underscores")
    return value


def stream_name_for(service: str) -> str:
    """The JetStream stream of a service: `plans` -> `PLANS`."""
    return _checked("service", service).upper()


def subject_prefix_for(service: str) -> str:
    """The subject prefix of a service's events: `plans` -> `izlek.plans`."""
    return f"{SUBJECT_ROOT}.{_checked('service', service)}"


def stream_subjects_for(service: str) -> list[str]:
    """The subjects a service's stream captures: `plans` -> `["izlek.plans.>"]`."""
    return [f"{subject_prefix_for(service)}.>"]


def subject_for(service: str, aggregate: str, event: str, version: int = 1) -> str:
    """The subject of one event type: `izlek.plans.commitment.status_changed.v1`."""
    if version < 1:
        raise ValueError(f"event version must be 1 or more, not {version}")
    return (
        f"{subject_prefix_for(service)}.{_checked('aggregate', aggregate)}."
        f"{_checked('event', event)}.v{version}"
    )


def durable_name_for(consumer: str, source_service: str) -> str:
    """The durable consumer name of `consumer` reading `source_service`'s stream: `gateway-from-plans`."""
    return f"{_checked('consumer', consumer)}-from-{_checked('service', source_service)}"


async def connect(
    url: str | Sequence[str],
    name: str,
    *,
    initial_connect_timeout: float | None = None,
    **kw: Any,
) -> Client:
    """Connect to NATS, reconnecting forever after any disconnection, and log connection changes.

    `name` labels the connection (it shows in the server's monitoring). Keyword arguments override the
    defaults passed to `nats.aio.client.Client.connect`. The first connection is retried forever too, unless
    `initial_connect_timeout` bounds it (then `asyncio.TimeoutError` is raised).
    """
    client = Client()
    log = logger.bind(nats_client=name)

    async def on_disconnected() -> None:
        log.warning("nats.disconnected")

    async def on_reconnected() -> None:
        log.info(
            "nats.reconnected", server=str(client.connected_url.netloc if client.connected_url else None)
        )

    async def on_error(exc: Exception) -> None:
        # While reconnecting, every refused attempt lands here; only the state changes deserve a warning.
        level = log.debug if client.is_reconnecting or not client.is_connected else log.warning
        level("nats.error", error=str(exc) or type(exc).__name__, error_type=type(exc).__name__)

    async def on_closed() -> None:
        log.info("nats.closed")

    options: dict[str, Any] = {
        "servers": [url] if isinstance(url, str) else list(url),
        "name": name,
        "allow_reconnect": True,
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": 0.5,
        "connect_timeout": 2,
        "ping_interval": 20,
        "max_outstanding_pings": 3,
        "error_cb": on_error,
        "disconnected_cb": on_disconnected,
        "reconnected_cb": on_reconnected,
        "closed_cb": on_closed,
    }
    options.update(kw)
    if initial_connect_timeout is None:
        await client.connect(**options)
    else:
        try:
            await asyncio.wait_for(client.connect(**options), initial_connect_timeout)
        except TimeoutError:
            await client.close()
            raise
    log.info("nats.connected", server=str(client.connected_url.netloc if client.connected_url else None))
    return client


def _stream_config(
    name: str,
    subjects: Sequence[str],
    duplicate_window_seconds: float,
    storage: StorageType,
    replicas: int,
    description: str | None,
) -> StreamConfig:
    # Event streams keep every message forever: they are the replayable history consumers rebuild from.
    return StreamConfig(
        name=name,
        description=description,
        subjects=list(subjects),
        retention=RetentionPolicy.LIMITS,
        max_consumers=-1,
        max_msgs=-1,
        max_bytes=-1,
        max_age=0,
        max_msgs_per_subject=-1,
        discard=DiscardPolicy.OLD,
        storage=storage,
        num_replicas=replicas,
        duplicate_window=duplicate_window_seconds,
        allow_direct=True,
    )


_COMPARED_FIELDS = (
    "description",
    "retention",
    "max_msgs",
    "max_bytes",
    "max_age",
    "max_msgs_per_subject",
    "storage",
    "num_replicas",
    "duplicate_window",
    "allow_direct",
)


def _differs(current: StreamConfig, wanted: StreamConfig) -> bool:
    if sorted(current.subjects or []) != sorted(wanted.subjects or []):
        return True
    return any(getattr(current, field) != getattr(wanted, field) for field in _COMPARED_FIELDS)


async def ensure_stream(
    js: JetStreamManager,
    name: str,
    subjects: Sequence[str],
    *,
    duplicate_window_seconds: float = 600,
    storage: StorageType = StorageType.FILE,
    replicas: int = 1,
    description: str | None = None,
) -> StreamInfo:
    """Create the stream `name`, or bring an existing one to this configuration; return its info.

    The stream keeps every message (limits retention with no limits, no max age) and allows direct gets.
    `duplicate_window_seconds` is how long JetStream remembers `Nats-Msg-Id`s to drop re-publishes.
    Calling it again with the same arguments changes nothing.
    """
    wanted = _stream_config(name, subjects, duplicate_window_seconds, storage, replicas, description)
    try:
        info = await js.stream_info(name)
    except NotFoundError:
        try:
            info = await js.add_stream(wanted)
            logger.info("jetstream.stream_created", stream=name, subjects=list(subjects))
            return info
        except BadRequestError as exc:
            # Created concurrently by another process with another configuration: update it below.
            if exc.err_code != _STREAM_NAME_IN_USE:
                raise
            info = await js.stream_info(name)
    if not _differs(info.config, wanted):
        return info
    info = await js.update_stream(wanted)
    logger.info("jetstream.stream_updated", stream=name, subjects=list(subjects))
    return info
