"""The PostgreSQL test fixtures, against the real server they find."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import create_engine, text

from izlek_common.nats_server import find_free_port
from izlek_common.testing.fixtures import (
    POSTGRES_URL_ENV_VAR,
    PostgresDatabase,
    PostgresUnavailable,
    find_postgres_admin_url,
    throwaway_database,
)

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(60)]


def database_exists(admin_url: str, dbname: str) -> bool:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        row = connection.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone()
    return row is not None


def test_the_throwaway_database_answers_on_its_libpq_url(postgres_database: PostgresDatabase) -> None:
    with psycopg.connect(postgres_database.url) as connection:
        row = connection.execute("select current_database(), current_user").fetchone()

    assert row == (postgres_database.dbname, postgres_database.user)
    assert postgres_database.dbname.startswith("izlek_test_")


def test_the_throwaway_database_answers_on_its_sqlalchemy_url(postgres_database: PostgresDatabase) -> None:
    engine = create_engine(postgres_database.sqlalchemy_url)
    try:
        with engine.connect() as connection:
            name = connection.execute(text("select current_database()")).scalar_one()
    finally:
        engine.dispose()

    assert postgres_database.sqlalchemy_url.startswith("postgresql+psycopg://")
    assert name == postgres_database.dbname


def test_the_database_fields_agree_with_its_urls(postgres_database: PostgresDatabase) -> None:
    db = postgres_database
    assert db.url.startswith(f"postgresql://{db.user}")
    assert db.url.endswith(f"@{db.host}:{db.port}/{db.dbname}")
    assert db.eventsourcing_env() == {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": db.dbname,
        "POSTGRES_HOST": db.host,
        "POSTGRES_PORT": str(db.port),
        "POSTGRES_USER": db.user,
        "POSTGRES_PASSWORD": db.password or "",
    }


def test_each_test_gets_an_empty_database_of_its_own(postgres_database: PostgresDatabase) -> None:
    with psycopg.connect(postgres_database.url) as connection:
        tables = connection.execute(
            "select count(*) from information_schema.tables where table_schema = 'public'"
        ).fetchone()

    assert tables == (0,)


def test_the_throwaway_database_is_dropped_after_use_even_with_connections_open(
    postgres_admin_url: str,
) -> None:
    with throwaway_database(postgres_admin_url) as database:
        forgotten = psycopg.connect(database.url)
        forgotten.execute("create table left_behind (id int)")
        forgotten.commit()
        assert database_exists(postgres_admin_url, database.dbname)

    assert not database_exists(postgres_admin_url, database.dbname)
    with pytest.raises(psycopg.OperationalError):
        forgotten.execute("select 1")
    forgotten.close()


def test_the_admin_url_comes_from_the_environment_first(postgres_admin_url: str) -> None:
    configured = postgres_admin_url.replace("postgresql://", "postgresql+psycopg://", 1)

    found = find_postgres_admin_url({POSTGRES_URL_ENV_VAR: configured})

    assert found == postgres_admin_url


def test_an_unusable_admin_url_in_the_environment_is_a_clear_error() -> None:
    unused_port = find_free_port()
    configured = f"postgresql://postgres@127.0.0.1:{unused_port}/postgres"

    with pytest.raises(PostgresUnavailable, match=POSTGRES_URL_ENV_VAR):
        find_postgres_admin_url({POSTGRES_URL_ENV_VAR: configured})
