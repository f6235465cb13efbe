"""How the projections read and write read-model rows: one statement at a time through the session, or gathered
over the projector's transaction and written in bulk at its end.

The projections only ever ask for a value of a row, insert-or-update a row, update the row of a key, delete or
insert rows, and append an audit row. ``DirectRows`` runs each at once (what a replay into a scratch database
wants). ``BatchedRows``, installed on the projector's session for a batch of messages, keeps the rows it touches
in memory, loads the rows of the batch's entities with one query per table, and at the end writes each table's
changed rows with one bulk insert-or-update (or update) and the audit rows with one bulk insert (``COPY`` on
PostgreSQL): a few statements per batch rather than several per event.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import JSON, Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from izlek_gateway.projections.errors import UnprojectableEvent

__all__ = ["BatchedRows", "DirectRows", "batched_rows", "rows_of"]

_BATCHED_ROWS = "izlek_gateway.batched_rows"


def rows_of(session: Session) -> DirectRows:
    """The rows of `session`: batched when the projector installed `BatchedRows` on it, else direct."""
    return session.info.get(_BATCHED_ROWS) or DirectRows(session)


def batched_rows(session: Session) -> BatchedRows:
    """Install `BatchedRows` on `session` (once) and return it; call its ``flush()`` before the commit."""
    rows = session.info.get(_BATCHED_ROWS)
    if rows is None:
        rows = session.info[_BATCHED_ROWS] = BatchedRows(session)
    return rows


def _dialect_insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    insert_of = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert_of is None:
        raise NotImplementedError(f"read models support SQLite and PostgreSQL, not {dialect}")
    return insert_of


def _primary_key(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.primary_key)


class DirectRows:
    """Each operation is one statement, run at once."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def value(self, table: Table, key: Mapping[str, Any], column: str) -> Any:
        """The value of `column` in the row of `key` (None when there is no row)."""
        condition = [table.c[name] == value for name, value in key.items()]
        return self.session.execute(select(table.c[column]).where(*condition)).scalar_one_or_none()

    def upsert(self, table: Table, row: Mapping[str, Any]) -> None:
        """Insert `row`, or update the given columns of the row with its primary key."""
        self._upsert_many(table, [row])

    def update(self, table: Table, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        """Update the row of `key`; raise `UnprojectableEvent` when there is none."""
        condition = [table.c[name] == value for name, value in key.items()]
        result = self.session.execute(update(table).where(*condition).values(**values))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise UnprojectableEvent(f"{table.name} has no row {dict(key)} to change")

    def delete(self, table: Table, key: Mapping[str, Any]) -> None:
        """Delete the rows whose columns have the values of `key`."""
        self.session.execute(delete(table).where(*[table.c[name] == value for name, value in key.items()]))

    def insert(self, table: Table, rows: Iterable[Mapping[str, Any]]) -> None:
        """Insert new rows (an audit row, the parties of a protocol)."""
        rows = list(rows)
        if rows:
            self.session.execute(insert(table), rows)

    def _upsert_many(self, table: Table, rows: list[Mapping[str, Any]]) -> None:
        """Insert-or-update rows that all give the same columns."""
        key = _primary_key(table)
        statement = _dialect_insert(self.session)(table)
        changed = {name: statement.excluded[name] for name in rows[0] if name not in key}
        statement = (statement.on_conflict_do_update(index_elements=list(key), set_=changed) if changed
                     else statement.on_conflict_do_nothing(index_elements=list(key)))
        self.session.execute(statement, [dict(row) for row in rows])


@dataclasses.dataclass
class _Row:
    values: dict[str, Any]
    changed: set[str]
    complete: bool
    """Whether `values` holds every column (the row was read from the database, or is known not to be there):
    otherwise only those that an insert-or-update of this batch gave."""
    stored: bool = False
    """Whether the row is in the database (read from it, or written by a flush): then it is updated."""


class BatchedRows(DirectRows):
    """Rows kept in memory over a transaction; ``flush()`` writes what changed, table by table, in bulk."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self._on_postgresql = session.get_bind().dialect.name == "postgresql"
        self._rows: dict[Table, dict[tuple[Any, ...], _Row | None]] = defaultdict(dict)
        self._inserted: dict[Table, list[Mapping[str, Any]]] = defaultdict(list)

    def load(self, table: Table, ids: Iterable[str]) -> None:
        """Read the rows of these ids (a one-column primary key) with one query, ahead of the events that
        change them; an id without a row is remembered as such."""
        cached = self._rows[table]
        wanted = {(entity_id,) for entity_id in ids} - cached.keys()
        if not wanted:
            return
        (key_column,) = table.primary_key
        for row in self.session.execute(select(table).where(key_column.in_([k for (k,) in wanted]))).mappings():
            cached[(row[key_column.name],)] = _Row(dict(row), set(), complete=True, stored=True)
        for missing in wanted - cached.keys():
            cached[missing] = None

    def value(self, table: Table, key: Mapping[str, Any], column: str) -> Any:
        row_key = self._key_of(table, key)
        if row_key is None:
            self.flush()
            return super().value(table, key, column)
        row = self._row(table, row_key)
        if row is None:
            return None
        if column not in row.values and not row.complete:
            self._complete(table, row_key, row)
        return row.values.get(column)

    def upsert(self, table: Table, row: Mapping[str, Any]) -> None:
        row_key = self._key_of(table, {name: row[name] for name in _primary_key(table)})
        assert row_key is not None
        known = self._rows[table]
        cached = known.get(row_key)
        if cached is None:
            # Known to have no row (loaded ahead): these are all its values; otherwise the database may hold more.
            known[row_key] = _Row(dict(row), set(row), complete=row_key in known)
        else:
            cached.values.update(row)
            cached.changed.update(row)

    def update(self, table: Table, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        row_key = self._key_of(table, key)
        if row_key is None:  # a key that is not the primary key (a liaison still in office): rare, run at once
            self.flush()
            super().update(table, key, values)
            self._rows.pop(table, None)
            return
        row = self._row(table, row_key)
        if row is None:
            raise UnprojectableEvent(f"{table.name} has no row {dict(key)} to change")
        row.values.update(values)
        row.changed.update(values)

    def delete(self, table: Table, key: Mapping[str, Any]) -> None:
        self.flush()
        super().delete(table, key)
        self._rows.pop(table, None)

    def insert(self, table: Table, rows: Iterable[Mapping[str, Any]]) -> None:
        self._inserted[table].extend(rows)

    def flush(self) -> None:
        """Write every changed row and every inserted row; the rows stay known for the rest of the batch."""
        for table, rows in self._rows.items():
            upserts: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            updates: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            key = _primary_key(table)
            for row in rows.values():
                if row is None or not row.changed:
                    continue
                columns = tuple(sorted(set(key) | row.changed))
                (updates if row.stored else upserts)[columns].append({name: row.values[name] for name in columns})
                row.changed = set()
                row.stored = True
            for same_columns in upserts.values():
                self._upsert_many(table, same_columns)
            for same_columns in updates.values():
                self._update_many(table, same_columns)
        for table, inserted in self._inserted.items():
            if inserted:
                self._copy(table, inserted) if self._on_postgresql else super().insert(table, inserted)
        self._inserted.clear()

    def _copy(self, table: Table, rows: list[Mapping[str, Any]]) -> None:
        """Insert with PostgreSQL's COPY: the audit rows of a batch in one stream of rows."""
        columns = [column for column in table.c if any(column.name in row for row in rows[:1])]
        serialised = {column.name for column in columns if isinstance(column.type, JSON)}
        names = ", ".join(f'"{column.name}"' for column in columns)
        cursor = self.session.connection().connection.driver_connection.cursor()
        with cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([json.dumps(row.get(column.name)) if column.name in serialised
                                else row.get(column.name) for column in columns])

    def _update_many(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Update stored rows that all change the same columns."""
        key = _primary_key(table)
        statement = (update(table)
                     .where(*[table.c[name] == bindparam(f"key_{name}") for name in key])
                     .values({name: bindparam(f"new_{name}") for name in rows[0] if name not in key}))
        parameters = [{f"{'key' if name in key else 'new'}_{name}": value for name, value in row.items()}
                      for row in rows]
        self.session.connection().execute(statement, parameters)

    def _key_of(self, table: Table, key: Mapping[str, Any]) -> tuple[Any, ...] | None:
        names = _primary_key(table)
        if len(key) != len(names) or any(name not in key for name in names):
            return None
        return tuple(key[name] for name in names)

    def _row(self, table: Table, row_key: tuple[Any, ...]) -> _Row | None:
        cached = self._rows[table]
        if row_key not in cached:
            condition = [table.c[name] == value for name, value in zip(_primary_key(table), row_key, strict=True)]
            stored = self.session.execute(select(table).where(*condition)).mappings().one_or_none()
            cached[row_key] = None if stored is None else _Row(dict(stored), set(), complete=True, stored=True)
        return cached[row_key]

    def _complete(self, table: Table, row_key: tuple[Any, ...], row: _Row) -> None:
        # Inserted or updated in this batch without this column: what the database holds (if anything) fills in.
        condition = [table.c[name] == value for name, value in zip(_primary_key(table), row_key, strict=True)]
        stored = self.session.execute(select(table).where(*condition)).mappings().one_or_none()
        for name in table.c.keys():
            row.values.setdefault(name, None if stored is None else stored[name])
        row.complete = True
