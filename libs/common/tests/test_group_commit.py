"""Group commit: concurrent saves written together, each with its own outcome (izlek_common.eventsourced)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from izlek_common.eventsourced.group_commit import GroupCommit
from izlek_common.eventsourced.group_commit_recorder import GroupCommitPostgresRecorder
from izlek_common.eventstore import eventsourcing_env
from izlek_common.testing.fixtures import PostgresDatabase


class Tally(Aggregate):
    def __init__(self) -> None:
        self.count = 0

    @event("Counted")
    def count_one(self) -> None:
        self.count += 1


class TallyApplication(Application):
    name = "tallies"


def test_writes_queued_behind_a_write_go_out_together_in_the_next_group() -> None:
    first_write_started, release_first_write = threading.Event(), threading.Event()
    groups: list[list[int]] = []

    def write_group(items: list[int]) -> list[int]:
        groups.append(items)
        if len(groups) == 1:
            first_write_started.set()
            release_first_write.wait(10)
        return [item * 10 for item in items]

    writer: GroupCommit[int, int] = GroupCommit(write_group)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(writer.submit, 0)
        assert first_write_started.wait(10)
        others = [pool.submit(writer.submit, n) for n in range(1, 8)]
        while len(writer._queue) < 7:
            threading.Event().wait(0.001)
        release_first_write.set()
        results = [first.result(), *(future.result() for future in others)]

    assert results == [n * 10 for n in range(8)]
    assert groups[0] == [0]
    assert sorted(groups[1]) == list(range(1, 8))
    assert writer.groups_written == 2


def test_an_error_of_one_item_fails_only_its_own_caller() -> None:
    def write_group(items: list[int]) -> list[int | BaseException]:
        return [ValueError(f"{item} is odd") if item % 2 else item for item in items]

    writer: GroupCommit[int, int] = GroupCommit(write_group)

    assert writer.submit(2) == 2
    with pytest.raises(ValueError, match="3 is odd"):
        writer.submit(3)


def test_a_failed_group_write_fails_every_caller_of_the_group() -> None:
    def write_group(items: list[int]) -> list[int]:
        raise ConnectionError("the database went away")

    with pytest.raises(ConnectionError):
        GroupCommit(write_group).submit(1)


# --- the PostgreSQL recorder ----------------------------------------------------------------------------------


@pytest.fixture
def tallies(postgres_database: PostgresDatabase) -> Iterator[TallyApplication]:
    application = TallyApplication(env=eventsourcing_env(postgres_database.url))
    try:
        yield application
    finally:
        application.close()


@pytest.mark.postgres
def test_the_services_postgres_store_group_commits(tallies: TallyApplication) -> None:
    assert isinstance(tallies.recorder, GroupCommitPostgresRecorder)


@pytest.mark.postgres
def test_concurrent_saves_are_each_stored_once(tallies: TallyApplication, postgres_database: PostgresDatabase) -> None:
    aggregates = [Tally() for _ in range(64)]
    with ThreadPoolExecutor(16) as pool:
        recordings = list(pool.map(tallies.save, aggregates))

    ids = [recording.notification.id for saved in recordings for recording in saved]
    assert len(ids) == len(set(ids)) == 64
    with psycopg.connect(postgres_database.url) as connection:
        stored = connection.execute("select count(*), count(distinct originator_id) from tallies_events").fetchone()
    assert stored == (64, 64)
    assert all(tallies.repository.get(a.id).count == 0 for a in aggregates)


@pytest.mark.postgres
def test_a_conflicting_save_fails_alone_and_the_rest_of_its_group_is_stored(tallies: TallyApplication) -> None:
    recorder = tallies.recorder
    assert isinstance(recorder, GroupCommitPostgresRecorder)
    stored, fresh, contested = Tally(), Tally(), Tally()
    tallies.save(stored)
    stale = tallies.repository.get(stored.id)
    stored.count_one()
    tallies.save(stored)
    stale.count_one()  # version 2 again: someone else stored it first
    fresh.count_one()
    contested_copy = copy.deepcopy(contested)
    to_stored = tallies.mapper.to_stored_event

    outcomes = recorder._write_group([
        [to_stored(e) for e in fresh.collect_events()],
        [to_stored(e) for e in stale.collect_events()],
        [to_stored(e) for e in contested.collect_events()],
        [to_stored(e) for e in contested_copy.collect_events()],  # the same version of the same aggregate
    ])

    assert isinstance(outcomes[1], IntegrityError)
    assert isinstance(outcomes[3], IntegrityError)
    assert all(isinstance(outcome, list) for outcome in (outcomes[0], outcomes[2]))
    assert len(outcomes[0]) == 2 and len(outcomes[2]) == 1
    assert tallies.repository.get(fresh.id).count == 1
    assert tallies.repository.get(stored.id).count == 1
    assert tallies.repository.get(contested.id).version == 1


@pytest.mark.postgres
def test_a_save_that_conflicts_raises_integrity_error_to_its_caller(tallies: TallyApplication) -> None:
    tally = Tally()
    tallies.save(tally)
    stale = tallies.repository.get(tally.id)
    tally.count_one()
    tallies.save(tally)
    stale.count_one()

    with pytest.raises(IntegrityError):
        tallies.save(stale)
    assert tallies.repository.get(tally.id).version == 2
