"""The `postgres_cluster` fixture keeps its promises: a server of the test's own that a SIGKILL takes down at once
(its connections are lost, new ones refused), that starts again with every committed row (recovered from its WAL),
and that stops and starts cleanly."""

from __future__ import annotations

import psycopg
import pytest
from postgres_cluster import PostgresCluster

from izlek_common.testing.fixtures import throwaway_database

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


def test_a_killed_cluster_refuses_connections_and_comes_back_with_its_committed_rows(
        postgres_cluster: PostgresCluster) -> None:
    database = postgres_cluster.database()
    held = psycopg.connect(database.url, autocommit=True)
    held.execute("CREATE TABLE commitments (code text PRIMARY KEY)")
    held.execute("INSERT INTO commitments VALUES ('E1.1.1')")

    postgres_cluster.kill()

    assert not postgres_cluster.is_running
    with pytest.raises(psycopg.OperationalError):
        held.execute("SELECT 1")
    held.close()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(database.url, connect_timeout=2)

    postgres_cluster.start()

    with psycopg.connect(database.url) as connection:
        assert connection.execute("SELECT code FROM commitments").fetchall() == [("E1.1.1",)]


def test_a_stopped_cluster_starts_again_and_serves_throwaway_databases(postgres_cluster: PostgresCluster) -> None:
    postgres_cluster.stop()
    assert not postgres_cluster.is_running
    postgres_cluster.start()

    with throwaway_database(postgres_cluster.admin_url) as database, psycopg.connect(database.url) as connection:
        assert connection.execute("SELECT current_database()").fetchone() == (database.dbname,)
