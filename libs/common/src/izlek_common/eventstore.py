"""Event-store URLs: one setting per service chooses memory, SQLite or PostgreSQL for eventsourcing."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from izlek_common.database_outage import connect_timeout_of
from izlek_common.eventsourced.group_commit_recorder import GROUP_COMMIT_RECORDER_TOPIC
from izlek_common.eventsourced.postgres import FACTORY_TOPIC as BOUNDED_POSTGRES_FACTORY_TOPIC


class EventStoreURLError(ValueError):
    """The event-store URL names no store we know how to open."""


def eventsourcing_env(url: str) -> dict[str, str]:
    """The ``eventsourcing`` environment for an event-store URL.

    - ``memory://``: in memory (tests);
    - ``sqlite:///var/plans/events.sqlite`` (relative) or ``sqlite:////abs/path.sqlite``;
    - ``postgresql://user:password@host:5432/dbname?schema=public&pool_size=10``: concurrent saves are
      group-committed (`izlek_common.eventsourced.group_commit_recorder`); ``connect_timeout`` (whole seconds,
      default 2) bounds every wait for a connection (`izlek_common.database_outage`).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in {"memory", "popo"}:
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if scheme == "sqlite":
        path = unquote(parts.path.removeprefix("/"))
        if not path:
            raise EventStoreURLError(f"a SQLite event-store URL needs a file path: {url!r}")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path, "SQLITE_LOCK_TIMEOUT": "10"}
    if scheme in {"postgres", "postgresql", "postgresql+psycopg"}:
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname:
            raise EventStoreURLError(f"a PostgreSQL event-store URL needs a database name: {url!r}")
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        env = {
            "PERSISTENCE_MODULE": BOUNDED_POSTGRES_FACTORY_TOPIC,
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "CREATE_TABLE": "y",
            # A request waits at most this long for a connection, then is answered 503 (izlek_common.problems).
            "POSTGRES_CONNECT_TIMEOUT": str(_connect_timeout(url)),
            "POSTGRES_PRE_PING": "y",
            "APPLICATION_RECORDER_TOPIC": GROUP_COMMIT_RECORDER_TOPIC,
        }
        for option, variable in (("schema", "POSTGRES_SCHEMA"), ("pool_size", "POSTGRES_POOL_SIZE"),
                                 ("max_overflow", "POSTGRES_MAX_OVERFLOW"),
                                 ("lock_timeout", "POSTGRES_LOCK_TIMEOUT")):
            if option in options:
                env[variable] = options[option]
        return env
    raise EventStoreURLError(
        f"unknown event-store URL {url!r}; use memory://, sqlite:///path or postgresql://user@host/db"
    )


def _connect_timeout(url: str) -> int:
    try:
        return connect_timeout_of(url)
    except ValueError as exc:
        raise EventStoreURLError(f"in a PostgreSQL event-store URL, {exc}") from None
