"""The state database: engines for SQLite or PostgreSQL, its schema brought up to date by Alembic, and upserts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from izlek_common.database_outage import bounded_engine_options

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_state_engine(url: str, **kw: Any) -> Engine:
    """An engine for the state database. SQLite connections are used from worker threads (WAL, so readers do not
    wait for the writer), and an in-memory SQLite database is one shared connection. On PostgreSQL a request waits
    at most the URL's ``connect_timeout`` for a connection (`bounded_engine_options`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kw.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        if parsed.database in (None, "", ":memory:"):
            kw.setdefault("poolclass", StaticPool)
        engine = create_engine(url, **kw)

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            if parsed.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, **{**bounded_engine_options(url), **kw})


def upgrade_database(target: str | Engine) -> None:
    """``alembic upgrade head`` on the state database at ``target`` (a SQLAlchemy URL or an engine)."""
    engine = create_state_engine(target) if isinstance(target, str) else target
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        if isinstance(target, str):
            engine.dispose()


def upsert(session: Session, table: Table, row: Mapping[str, Any], *, update: bool = True) -> int:
    """Insert ``row``, or (``update``) set its other columns on the row with the same primary key; returns the
    number of rows written (0 when ``update`` is false and the row existed)."""
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise NotImplementedError(f"the state database is SQLite or PostgreSQL, not {dialect}")
    key = [column.name for column in table.primary_key]
    statement = insert(table).values(**row)
    changed = {name: statement.excluded[name] for name in row if name not in key}
    statement = (statement.on_conflict_do_update(index_elements=key, set_=changed) if update and changed
                 else statement.on_conflict_do_nothing(index_elements=key))
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


def insert_new(session: Session, table: Table, row: Mapping[str, Any], *unique: str) -> bool:
    """Insert ``row`` unless a row with the same values of the ``unique`` columns exists; True if inserted."""
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    statement = insert(table).values(**row).on_conflict_do_nothing(index_elements=list(unique))
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]
