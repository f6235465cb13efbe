"""The services' PostgreSQL application recorder, with concurrent saves group-committed.

The stock recorder writes each ``save()`` in a transaction of its own, behind an exclusive lock of the events
table (so that notification ids are committed in order): concurrent commands queue for the lock and for a flush
to disk each. This one hands every save to a `GroupCommit`: the saves that arrive while a transaction is under
way are written together in the next one, under the same lock, in one ``INSERT``.

Each save stays all-or-nothing and keeps its optimistic concurrency: a save that would store a version of an
aggregate already stored (or claimed by an earlier save of the same group) fails alone with ``IntegrityError``,
and the others of its group are written without it. Reads, and the bounded waits in a database outage, are those
of `BoundedPostgresApplicationRecorder`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier
from psycopg_pool import PoolTimeout, TooManyRequests

from izlek_common.eventsourced.group_commit import GroupCommit
from izlek_common.eventsourced.postgres import BoundedPostgresApplicationRecorder

__all__ = ["GROUP_COMMIT_RECORDER_TOPIC", "GroupCommitPostgresRecorder"]

Key = tuple[str, int]


class GroupCommitPostgresRecorder(BoundedPostgresApplicationRecorder):
    """The application recorder whose ``insert_events`` group-commits concurrent callers."""

    MAX_GROUP = 1000
    """Saves written in one transaction at most."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.insert_unless_stored_statement = SQL(
            "INSERT INTO {schema}.{table} AS t (originator_id, originator_version, topic, state)"
            " SELECT originator_id, originator_version, topic, state"
            " FROM unnest(%s::{schema}.{stored_event_type}[])"
            " ON CONFLICT (originator_id, originator_version) DO NOTHING"
            " RETURNING originator_id, originator_version, notification_id"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
            stored_event_type=Identifier(self.stored_event_type_name),
        )
        self.group_commit: GroupCommit[Sequence[StoredEvent], list[int]] = GroupCommit(
            self._write_group_retrying_once, max_group=self.MAX_GROUP)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if kwargs.get("tracking") is not None or not stored_events:
            # A process application's save with its tracking record: written as the stock recorder does.
            return super().insert_events(stored_events, **kwargs)
        return self.group_commit.submit(stored_events)

    def _write_group_retrying_once(self, saves: list[Sequence[StoredEvent]]) -> list[list[int] | BaseException]:
        # Again only when a pooled connection failed (the database may have restarted since it was opened), never
        # after waiting for a connection in vain: an outage is answered at once.
        try:
            return self._write_group(saves)
        except (InterfaceError, OperationalError) as error:
            if isinstance(error.__cause__, PoolTimeout | TooManyRequests):
                raise
        return self._write_group(saves)

    def _write_group(self, saves: list[Sequence[StoredEvent]]) -> list[list[int] | BaseException]:
        """Write the saves in one transaction; one outcome each: its notification ids, or its conflict."""
        refused = _claimed_twice(saves)
        with self.datastore.get_connection() as connection, connection.transaction(), connection.cursor() as cursor:
            self._lock_table(cursor)
            self._notify_channel(cursor)
            cursor.execute("SAVEPOINT group_insert")
            while True:
                written = self._insert_unless_stored(cursor, [s for n, s in enumerate(saves) if n not in refused])
                already_stored = {n for n, save in enumerate(saves) if n not in refused
                                  and any(_key(event) not in written for event in save)}
                if not already_stored:
                    break
                # Some events of those saves were written: undo the whole insert and write the others again.
                refused |= already_stored
                cursor.execute("ROLLBACK TO SAVEPOINT group_insert")
        return [
            IntegrityError(f"{_describe(save)} is already stored") if n in refused
            else [written[_key(event)] for event in save]
            for n, save in enumerate(saves)
        ]

    def _insert_unless_stored(self, cursor: Any, saves: list[Sequence[StoredEvent]]) -> dict[Key, int]:
        events = [self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
                  for save in saves for e in save]
        if not events:
            return {}
        cursor.execute(self.insert_unless_stored_statement, (events,), prepare=True)
        return {(str(row["originator_id"]), row["originator_version"]): row["notification_id"]
                for row in cursor.fetchall()}


def _key(event: StoredEvent) -> Key:
    return str(event.originator_id), event.originator_version


def _claimed_twice(saves: list[Sequence[StoredEvent]]) -> set[int]:
    """The saves that want a version an earlier save of the group wants too: the earlier one wins."""
    claimed: set[Key] = set()
    refused = set()
    for n, save in enumerate(saves):
        keys = {_key(event) for event in save}
        if keys & claimed:
            refused.add(n)
        else:
            claimed |= keys
    return refused


def _describe(save: Sequence[StoredEvent]) -> str:
    first = save[0]
    return f"version {first.originator_version} of {first.originator_id}"


GROUP_COMMIT_RECORDER_TOPIC = get_topic(GroupCommitPostgresRecorder)
"""What ``APPLICATION_RECORDER_TOPIC`` names to make ``eventsourcing`` use this recorder."""
