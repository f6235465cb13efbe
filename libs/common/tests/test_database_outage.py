"""A database that cannot be reached is told apart from a statement's error, and answered 503 problem+json with
``Retry-After``, saying only that the database is unavailable; the waits behind it are bounded by the URLs.

The errors are real ones: connections to a port where nothing listens, a statement PostgreSQL refuses, a SQLite
file's own errors (which keep answering 500, as before). An event store that found its database unreachable refuses
the calls that follow at once, rather than letting each wait for a connection in turn.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import OperationalError as StoreOperationalError
from eventsourcing.utils import Environment
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc

from izlek_common.database_outage import (
    DATABASE_WAIT_SECONDS,
    RETRY_AFTER_SECONDS,
    bounded_engine_options,
    connect_timeout_of,
    is_database_unavailable,
)
from izlek_common.eventsourced.postgres import BoundedPostgresFactory, outage_gate_of
from izlek_common.eventstore import EventStoreURLError, eventsourcing_env
from izlek_common.nats_server import find_free_port
from izlek_common.problems import install_problem_handlers

PASSWORD = "s3cret-password"


@pytest.fixture(scope="module")
def nowhere() -> str:
    """A libpq URL of a port where nothing listens, with a password that must never be shown."""
    return f"postgresql://izlek:{PASSWORD}@127.0.0.1:{find_free_port()}/izlek?connect_timeout=2"


def refused(url: str) -> psycopg.OperationalError:
    try:
        psycopg.connect(url)
    except psycopg.OperationalError as exc:
        return exc
    raise AssertionError("something listens there")


def refused_through_sqlalchemy(url: str) -> sa_exc.OperationalError:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"), **bounded_engine_options(url))
    try:
        with engine.connect():
            pass
    except sa_exc.OperationalError as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError("something listens there")


def test_a_refused_connection_means_the_database_is_unavailable(nowhere: str) -> None:
    assert is_database_unavailable(refused(nowhere))


def test_so_does_the_same_error_wrapped_by_sqlalchemy_or_by_eventsourcing(nowhere: str) -> None:
    assert is_database_unavailable(refused_through_sqlalchemy(nowhere))
    try:
        raise StoreOperationalError("connection failed") from refused(nowhere)
    except StoreOperationalError as wrapped:
        assert is_database_unavailable(wrapped)


@pytest.mark.postgres
def test_an_error_of_the_statement_is_not_an_outage(postgres_database) -> None:
    with psycopg.connect(postgres_database.url) as connection:
        with pytest.raises(psycopg.Error) as raised:
            connection.execute("SELECT * FROM no_such_table")
    assert not is_database_unavailable(raised.value)


def test_sqlite_errors_are_not_outages(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'state.sqlite'}")
    with engine.connect() as connection, pytest.raises(sa_exc.OperationalError) as raised:
        connection.execute(text("SELECT * FROM no_such_table"))
    engine.dispose()
    assert not is_database_unavailable(raised.value)
    assert not is_database_unavailable(sqlite3.OperationalError("database is locked"))


def app_raising(make_error: Callable[[], BaseException]) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/commitments/{code}/evidence")
    def add_evidence(code: str) -> None:
        raise make_error()

    return app


@pytest.fixture
def client_of() -> Iterator[Callable[[Callable[[], BaseException]], TestClient]]:
    clients: list[TestClient] = []

    def make(make_error: Callable[[], BaseException]) -> TestClient:
        clients.append(TestClient(app_raising(make_error), raise_server_exceptions=False))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.mark.parametrize("wrapper", ["psycopg", "sqlalchemy", "eventsourcing"])
def test_a_request_that_meets_the_database_unreachable_answers_503_with_retry_after(
        nowhere: str, wrapper: str, client_of) -> None:
    def error() -> BaseException:
        if wrapper == "sqlalchemy":
            return refused_through_sqlalchemy(nowhere)
        if wrapper == "eventsourcing":
            cause = refused(nowhere)
            wrapped = StoreOperationalError(str(cause))
            wrapped.__cause__ = cause
            return wrapped
        return refused(nowhere)

    response = client_of(error).post("/commitments/K1/evidence")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    body = response.json()
    assert body["title"] == "Service unavailable"
    assert "database is unavailable" in body["detail"]
    assert body["instance"] == "/commitments/K1/evidence"
    for secret in (PASSWORD, "127.0.0.1", "Traceback", "psycopg"):
        assert secret not in response.text


def test_any_other_database_error_still_answers_500_without_internals(tmp_path: Path, client_of) -> None:
    def error() -> BaseException:
        engine = create_engine(f"sqlite:///{tmp_path / 'state.sqlite'}")
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT * FROM no_such_table"))
        except sa_exc.OperationalError as exc:
            return exc
        finally:
            engine.dispose()
        raise AssertionError("the table exists")

    response = client_of(error).post("/commitments/K1/evidence")

    assert response.status_code == 500
    assert "retry-after" not in response.headers
    assert "no_such_table" not in response.text


def test_an_event_store_url_bounds_the_wait_for_a_connection() -> None:
    default = eventsourcing_env("postgresql://izlek@db:5432/izlek_plans")
    chosen = eventsourcing_env("postgresql://izlek@db:5432/izlek_plans?connect_timeout=7")

    assert default["POSTGRES_CONNECT_TIMEOUT"] == str(DATABASE_WAIT_SECONDS)
    assert default["POSTGRES_PRE_PING"] == "y"
    assert chosen["POSTGRES_CONNECT_TIMEOUT"] == "7"
    with pytest.raises(EventStoreURLError, match="connect_timeout"):
        eventsourcing_env("postgresql://izlek@db:5432/izlek_plans?connect_timeout=soon")


def test_sqlite_event_stores_and_engines_keep_their_settings(tmp_path: Path) -> None:
    assert "POSTGRES_CONNECT_TIMEOUT" not in eventsourcing_env(f"sqlite:///{tmp_path / 'events.sqlite'}")
    assert bounded_engine_options(f"sqlite:///{tmp_path / 'state.sqlite'}") == {}


def test_a_postgresql_engine_checks_connections_and_waits_at_most_the_urls_timeout() -> None:
    assert bounded_engine_options("postgresql+psycopg://izlek@db/izlek_gateway") == {
        "pool_pre_ping": True, "pool_timeout": DATABASE_WAIT_SECONDS,
        "connect_args": {"connect_timeout": DATABASE_WAIT_SECONDS}}
    assert connect_timeout_of("postgresql+psycopg://izlek@db/izlek_gateway?connect_timeout=9") == 9
    with pytest.raises(ValueError, match="at least 1"):
        connect_timeout_of("postgresql+psycopg://izlek@db/izlek_gateway?connect_timeout=0")



@pytest.mark.postgres
def test_an_event_store_found_unreachable_refuses_the_next_calls_at_once_and_recovers(postgres_database) -> None:
    env = Environment("plans", eventsourcing_env(f"{postgres_database.url}?connect_timeout=2"))
    factory = BoundedPostgresFactory(env)
    recorder = factory.application_recorder()
    pool, gate = recorder.datastore.pool, outage_gate_of(recorder.datastore)
    try:
        recorder.max_notification_id()
        # The server's address goes dead: every connection, pooled or new, fails.
        port, pool.kwargs["port"] = pool.kwargs["port"], find_free_port()
        pool.drain()
        with pytest.raises(StoreOperationalError) as waited:
            recorder.max_notification_id()
        with pytest.raises(StoreOperationalError) as refused_at_once:
            recorder.max_notification_id()
        assert gate.is_down

        pool.kwargs["port"] = port
        deadline = time.monotonic() + 30
        while True:
            try:
                recorder.max_notification_id()
                break
            except StoreOperationalError as error:
                assert is_database_unavailable(error) and time.monotonic() < deadline
                time.sleep(0.2)
    finally:
        factory.close()

    assert is_database_unavailable(waited.value)
    assert is_database_unavailable(refused_at_once.value)
    assert "earlier request" in str(refused_at_once.value)
    assert not gate.is_down
