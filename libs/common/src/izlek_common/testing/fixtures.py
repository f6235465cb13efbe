"""Pytest plugin: real servers for integration tests (loaded with `-p izlek_common.testing.fixtures`).

- `nats_server` / `nats_server_session`: an `EmbeddedNatsServer` with JetStream on a free port.
- `postgres_admin_url`: a PostgreSQL server where throwaway databases can be created, found in this order:
  `$IZLEK_TEST_POSTGRES_URL`, the machine's server on 127.0.0.1:5432, a testcontainers container when a Docker
  engine answers. Without one the tests fail (never skip) with a message saying how to provide one.
- `postgres_database`: a fresh database per test, dropped afterwards.
"""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from sqlalchemy.engine import URL, make_url

from izlek_common.nats_server import EmbeddedNatsServer

__all__ = [
    "POSTGRES_URL_ENV_VAR",
    "PostgresDatabase",
    "PostgresUnavailable",
    "find_postgres_admin_url",
    "nats_server",
    "nats_server_session",
    "postgres_admin_url",
    "postgres_database",
    "postgres_server",
    "throwaway_database",
]

POSTGRES_URL_ENV_VAR = "IZLEK_TEST_POSTGRES_URL"

_LOCAL_HOST = "127.0.0.1"
_LOCAL_PORT = 5432
_TEST_DATABASE_PREFIX = "izlek_test_"


# -- NATS ---------------------------------------------------------------------------------------------------


def _started_server(directory: Path) -> Iterator[EmbeddedNatsServer]:
    server = EmbeddedNatsServer(directory / "store", log_file=directory / "nats-server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[EmbeddedNatsServer]:
    """A running nats-server with JetStream of this test's own; the test may stop, kill and restart it."""
    yield from _started_server(tmp_path / "nats")


@pytest.fixture(scope="session")
def nats_server_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNatsServer]:
    """A running nats-server with JetStream shared by the session; tests must not stop it."""
    yield from _started_server(tmp_path_factory.mktemp("nats"))


# -- PostgreSQL ---------------------------------------------------------------------------------------------


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server to create test databases on."""


@dataclasses.dataclass(frozen=True)
class PostgresDatabase:
    """A database created for one test, with its connection settings spelled out in every form needed."""

    host: str
    port: int
    user: str
    password: str | None
    dbname: str

    def _url(self, drivername: str) -> str:
        url = URL.create(
            drivername,
            username=self.user,
            password=self.password or None,
            host=self.host,
            port=self.port,
            database=self.dbname,
        )
        return url.render_as_string(hide_password=False)

    @property
    def url(self) -> str:
        """A libpq URL: `postgresql://user@host:port/dbname`."""
        return self._url("postgresql")

    @property
    def sqlalchemy_url(self) -> str:
        """A SQLAlchemy URL with the psycopg 3 driver: `postgresql+psycopg://user@host:port/dbname`."""
        return self._url("postgresql+psycopg")

    def eventsourcing_env(self) -> dict[str, str]:
        """The environment that points an `eventsourcing` application at this database."""
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password or "",
        }


def _libpq_url(url: str) -> str:
    """`url` with any SQLAlchemy driver suffix removed (`postgresql+psycopg://` -> `postgresql://`)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _can_create_databases(url: str) -> str | None:
    """None if `url` reaches a server where its role may create databases, else why not."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3, autocommit=True) as connection:
            row = connection.execute(
                "select rolsuper or rolcreatedb from pg_roles where rolname = current_user"
            ).fetchone()
    except psycopg.Error as exc:
        return str(exc).strip() or type(exc).__name__
    if not row or not row[0]:
        return "its role may not create databases"
    return None


def find_postgres_admin_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The admin URL from `$IZLEK_TEST_POSTGRES_URL`, else the machine's server, else None.

    An `$IZLEK_TEST_POSTGRES_URL` that does not work raises `PostgresUnavailable`: it was asked for.
    """
    environ = os.environ if environ is None else environ
    configured = environ.get(POSTGRES_URL_ENV_VAR)
    if configured:
        url = _libpq_url(configured)
        problem = _can_create_databases(url)
        if problem:
            raise PostgresUnavailable(f"{POSTGRES_URL_ENV_VAR}={configured!r} cannot be used: {problem}")
        return url
    users = ["postgres"]
    with contextlib.suppress(Exception):
        if (me := getpass.getuser()) not in users:
            users.append(me)
    for user in users:
        url = f"postgresql://{user}@{_LOCAL_HOST}:{_LOCAL_PORT}/postgres"
        if _can_create_databases(url) is None:
            return url
    return None


def _docker_answers() -> bool:
    if shutil.which("docker"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False)
            if done.returncode == 0:
                return True
    with contextlib.suppress(Exception):
        import docker  # the SDK testcontainers itself uses, which needs no CLI

        return bool(docker.from_env(timeout=5).ping())
    return False


def _postgres_container_class() -> type | None:
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:
        try:
            from testcontainers.postgres import PostgresContainer  # before testcontainers 4.14
        except ImportError:
            return None
    return PostgresContainer


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yield an admin libpq URL of a PostgreSQL server for throwaway databases (see the module docstring)."""
    url = find_postgres_admin_url()
    if url is not None:
        yield url
        return
    container_class = _postgres_container_class()
    if container_class is None or not _docker_answers():
        raise PostgresUnavailable(
            "no PostgreSQL server for the tests: set "
            f"{POSTGRES_URL_ENV_VAR}=postgresql://USER:PASSWORD@HOST:PORT/postgres (a role that may create "
            f"databases), or run PostgreSQL on {_LOCAL_HOST}:{_LOCAL_PORT} with trust auth for the role "
            "`postgres`, or start a Docker engine so that testcontainers can run postgres:16-alpine"
        )
    with container_class("postgres:16-alpine", driver=None) as container:
        yield _libpq_url(container.get_connection_url())


@contextlib.contextmanager
def throwaway_database(admin_url: str) -> Iterator[PostgresDatabase]:
    """Create an `izlek_test_<hex>` database on the server of `admin_url`; drop it on exit.

    Connections still open at exit are terminated first, so a test that forgot to dispose of an engine does
    not leave the database behind.
    """
    import psycopg
    from psycopg import sql

    admin = make_url(_libpq_url(admin_url))
    database = PostgresDatabase(
        host=admin.host or _LOCAL_HOST,
        port=admin.port or _LOCAL_PORT,
        user=admin.username or getpass.getuser(),
        password=admin.password,
        dbname=f"{_TEST_DATABASE_PREFIX}{secrets.token_hex(6)}",
    )
    name = sql.Identifier(database.dbname)
    with psycopg.connect(_libpq_url(admin_url), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))
    try:
        yield database
    finally:
        with psycopg.connect(_libpq_url(admin_url), autocommit=True) as connection:
            connection.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity"
                " where datname = %s and pid <> pg_backend_pid()",
                (database.dbname,),
            )
            force = sql.SQL(" WITH (FORCE)") if connection.info.server_version >= 130000 else sql.SQL("")
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}{}").format(name, force))


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """The libpq URL of a PostgreSQL server's admin database, where tests may create databases."""
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(postgres_server())
        except PostgresUnavailable as exc:
            pytest.fail(str(exc), pytrace=False)
        yield url


@pytest.fixture
def postgres_database(postgres_admin_url: str) -> Iterator[PostgresDatabase]:
    """A new, empty PostgreSQL database for this test, dropped after it."""
    with throwaway_database(postgres_admin_url) as database:
        yield database
