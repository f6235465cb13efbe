"""Structured JSON logging and the correlation id that follows a request through HTTP, NATS and consumers."""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO

import structlog

CORRELATION_ID_HEADER = "X-Correlation-ID"
"""HTTP header carrying the correlation id, in requests and responses."""
REQUEST_ID_HEADER = "X-Request-ID"
"""Also accepted on input, as many proxies and clients set it."""
NATS_CORRELATION_ID_HEADER = "Izlek-Correlation-Id"
"""NATS message header carrying the correlation id."""

_correlation_id: ContextVar[str | None] = ContextVar("izlek_correlation_id", default=None)

# Ids arrive from clients and end up in logs and headers: accept only short, printable, header-safe tokens.
_ACCEPTABLE_CORRELATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")

_HANDLER_MARK = "_izlek_handler"


def new_correlation_id() -> str:
    """Return a fresh correlation id (a uuid4 in hex)."""
    return uuid.uuid4().hex


def get_correlation_id() -> str | None:
    """Return the correlation id bound to the current context, if any."""
    return _correlation_id.get()


def parse_correlation_id(value: str | None) -> str | None:
    """Return `value` if it is acceptable as a correlation id from outside, else None."""
    if value is None:
        return None
    value = value.strip()
    return value if _ACCEPTABLE_CORRELATION_ID.fullmatch(value) else None


def bind_correlation_id(cid: str) -> None:
    """Bind `cid` to the current context: `get_correlation_id()` returns it and every log line carries it."""
    _correlation_id.set(cid)
    structlog.contextvars.bind_contextvars(correlation_id=cid)


@contextmanager
def correlation_scope(cid: str | None = None) -> Iterator[str]:
    """Bind a correlation id (a new one when `cid` is None) for the block, then restore the previous one."""
    cid = cid or new_correlation_id()
    token = _correlation_id.set(cid)
    structlog_tokens = structlog.contextvars.bind_contextvars(correlation_id=cid)
    try:
        yield cid
    finally:
        structlog.contextvars.reset_contextvars(**structlog_tokens)
        _correlation_id.reset(token)


def _level_number(level: str | int) -> int:
    if isinstance(level, int):
        return level
    number = logging.getLevelNamesMapping().get(level.strip().upper())
    if number is None:
        raise ValueError(f"unknown log level {level!r}")
    return number


def configure_logging(level: str | int = "INFO", json: bool = True, *, stream: TextIO | None = None) -> None:
    """Route structlog and the standard library's logging to one handler writing JSON (or console) lines.

    Calling it again replaces the previous configuration. Loggers of libraries that use the standard
    library (uvicorn, nats, sqlalchemy) go through the same processors, so their lines are JSON too.
    `stream` defaults to standard output.
    """
    level_number = _level_number(level)
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    shared_processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.ExtraAdder(),
        timestamper,
    ]

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared_processors,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.UnicodeDecoder(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Caching would pin loggers created before a reconfiguration (or `structlog.testing.capture_logs`).
        cache_logger_on_first_use=False,
    )

    renderer: list[structlog.typing.Processor]
    if json:
        renderer = [
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ]
    else:
        renderer = [structlog.dev.ConsoleRenderer()]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
    )
    handler = logging.StreamHandler(stream if stream is not None else sys.stdout)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)

    root = logging.getLogger()
    for previous in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(level_number)

    # uvicorn installs its own handlers; hand its records to the root handler instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        library_logger = logging.getLogger(name)
        library_logger.handlers.clear()
        library_logger.propagate = True
