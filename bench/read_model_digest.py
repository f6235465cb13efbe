"""A digest of every read-model table, row by row in primary-key order: two databases hold the same read
models when their digests are equal."""

from __future__ import annotations

from sqlalchemy import Engine, text

from izlek_gateway.read_models.tables import READ_MODEL_TABLES


def read_model_digests(engine: Engine) -> dict[str, tuple[int, str]]:
    """Per table: its number of rows and the MD5 of its rows' text, in primary-key order."""
    digests = {}
    with engine.connect() as connection:
        for table in READ_MODEL_TABLES:
            order = ", ".join(f't."{column.name}"' for column in table.primary_key)
            count, digest = connection.execute(text(
                f'select count(*), coalesce(md5(string_agg(md5(t::text), \'\' order by {order})), \'\')'
                f' from "{table.name}" t'
            )).one()
            digests[table.name] = (int(count), str(digest))
    return digests
