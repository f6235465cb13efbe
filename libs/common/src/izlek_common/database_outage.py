"""A PostgreSQL database that cannot be reached: the bounded waits that make a request meet it with a fast error,
and the errors that say so (answered 503 by `izlek_common.problems`).

Every database of Izlek (the services' event stores, the notifications service's state, the gateway's read models)
waits at most `connect_timeout` seconds for a connection: a free one from its pool, or a new one. The default is
`DATABASE_WAIT_SECONDS`; a database URL may set its own (``postgresql://…/izlek_plans?connect_timeout=5``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
from eventsourcing.persistence import PersistenceError
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

DATABASE_WAIT_SECONDS = 2
"""How long a request waits for a PostgreSQL connection before it is refused (libpq counts whole seconds and
takes at least 2)."""
RETRY_AFTER_SECONDS = 5
"""What the ``Retry-After`` header of a 503 for an unreachable database says."""

DATABASE_ERROR_TYPES: tuple[type[Exception], ...] = (psycopg.Error, PersistenceError, sa_exc.SQLAlchemyError)
"""The errors of the database drivers and libraries, among which `is_database_unavailable` picks the outages."""

# SQLSTATE classes of a server that is going away, starting up or full, rather than of a statement's error:
# 08 connection exception, 57P operator intervention (shutdown, crash, "cannot connect now"), 53 insufficient
# resources ("too many connections").
_OUTAGE_SQLSTATES = ("08", "57P", "53")


def is_database_unavailable(error: BaseException) -> bool:
    """Whether `error` (or an error it was raised from) says the database cannot be reached or cannot serve now:
    the connection was refused, lost or timed out, the server is shutting down or starting up, or no pooled
    connection came in time. An error of a statement or of the data is not one of them."""
    for cause in _causes(error):
        if isinstance(cause, sa_exc.TimeoutError):  # SQLAlchemy's pool: no connection came in time
            return True
        if isinstance(cause, sa_exc.DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, psycopg.OperationalError):
            # No SQLSTATE: the client's own failure (refused, lost, timed out; psycopg_pool's PoolTimeout).
            return cause.sqlstate is None or cause.sqlstate.startswith(_OUTAGE_SQLSTATES)
    return False


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        original = getattr(current, "orig", None)  # SQLAlchemy keeps the driver's error here
        current = original if isinstance(original, BaseException) else (current.__cause__ or current.__context__)


def connect_timeout_of(url: str | URL, default: int = DATABASE_WAIT_SECONDS) -> int:
    """The ``connect_timeout`` a database URL asks for (whole seconds, at least 1), else `default`."""
    value = make_url(url).query.get("connect_timeout")
    if value is None:
        return default
    text = value[-1] if isinstance(value, tuple) else value
    try:
        seconds = int(text)
    except ValueError:
        raise ValueError(f"connect_timeout must be a whole number of seconds, not {text!r}") from None
    if seconds < 1:
        raise ValueError(f"connect_timeout must be at least 1 second, not {seconds}")
    return seconds


def bounded_engine_options(url: str | URL) -> dict[str, Any]:
    """`create_engine` options that bound a PostgreSQL engine's waits: a pooled connection is checked before use
    (a server restart leaves none stale), and a request waits at most ``connect_timeout`` for a connection, new or
    pooled. Nothing for other databases (SQLite keeps SQLAlchemy's defaults)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return {}
    wait = connect_timeout_of(parsed)
    return {"pool_pre_ping": True, "pool_timeout": wait, "connect_args": {"connect_timeout": wait}}
