"""The read-model database: settings that locate it, and migrations that build exactly the declared tables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from izlek_common.consumer import tracking_metadata
from izlek_gateway.read_models.database import create_read_model_engine, drop_database, upgrade_database
from izlek_gateway.read_models.tables import metadata
from izlek_gateway.settings import GatewaySettings


def test_the_read_models_default_to_a_sqlite_file_under_the_var_folder(tmp_path: Path) -> None:
    settings = GatewaySettings(var_dir=tmp_path / "var")

    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'gateway' / 'read_models.sqlite'}"
    assert (tmp_path / "var" / "gateway").is_dir()
    assert GatewaySettings(gateway_database_url="postgresql+psycopg://u@h/db").database_url == (
        "postgresql+psycopg://u@h/db")


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'read_models.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_database").sqlalchemy_url
    engine = create_read_model_engine(url)
    yield engine
    engine.dispose()


def test_the_migrations_build_exactly_the_declared_tables(engine: Engine) -> None:
    upgrade_database(engine)

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, [metadata, tracking_metadata]) == []


def test_dropping_and_upgrading_again_leaves_an_empty_schema(engine: Engine) -> None:
    upgrade_database(engine)
    drop_database(engine)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}

    upgrade_database(engine)
    assert set(inspect(engine).get_table_names()) >= {"entity_events", "consumer_positions", "commitments"}
