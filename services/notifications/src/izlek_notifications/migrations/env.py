"""Alembic environment of the notifications service's state (run by `izlek_notifications.state.database`).

The caller hands over an open connection in ``config.attributes["connection"]``; the ``alembic`` command line
works too, with ``-x url=<SQLAlchemy URL>``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, MetaData

from izlek_common.consumer import tracking_metadata
from izlek_notifications.state.database import create_state_engine
from izlek_notifications.state.tables import metadata as state_metadata

target_metadata: list[MetaData] = [state_metadata, tracking_metadata]


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(
        url=context.get_x_argument(as_dictionary=True)["url"],
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif (connection := context.config.attributes.get("connection")) is not None:
    run_migrations(connection)
else:
    engine = create_state_engine(context.get_x_argument(as_dictionary=True)["url"])
    try:
        with engine.begin() as new_connection:
            run_migrations(new_connection)
    finally:
        engine.dispose()
