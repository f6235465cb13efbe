"""The read-model database: engines for SQLite or PostgreSQL, and its schema brought up to date by Alembic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from izlek_common.database_outage import bounded_engine_options

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_read_model_engine(url: str, **kw: Any) -> Engine:
    """An engine for the read models. SQLite connections may be used from the consumers' worker threads,
    and an in-memory SQLite database is one shared connection (otherwise each connection is a new, empty one).
    On PostgreSQL a request waits at most the URL's ``connect_timeout`` for a connection (`bounded_engine_options`)."""
    if make_url(url).get_backend_name() == "sqlite":
        kw.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        if make_url(url).database in (None, "", ":memory:"):
            kw.setdefault("poolclass", StaticPool)
    return create_engine(url, **{**bounded_engine_options(url), **kw})


def upgrade_database(target: str | Engine) -> None:
    """``alembic upgrade head`` on the read-model database at `target` (a SQLAlchemy URL or an engine)."""
    _migrate(target, lambda config: command.upgrade(config, "head"))


def drop_database(target: str | Engine) -> None:
    """``alembic downgrade base``: drop every read model, the consumers' positions and their dead letters."""
    _migrate(target, lambda config: command.downgrade(config, "base"))


def _migrate(target: str | Engine, run: Any) -> None:
    engine = create_read_model_engine(target) if isinstance(target, str) else target
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            run(config)
    finally:
        if isinstance(target, str):
            engine.dispose()
