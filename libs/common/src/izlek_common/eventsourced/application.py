"""TrackedApplication: what every Izlek service's ``eventsourcing`` application shares.

Reading an entity as of a recorded time or valid at a valid time, its history with field diffs, saving with
optimistic concurrency, and waking listeners (the in-process relay) after each save.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, LRUCache
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording
from eventsourcing.utils import get_topic

from izlek_common.domain.base import TrackedAggregate, is_correction
from izlek_common.domain.stamp import Stamp
from izlek_common.eventsourced.errors import EntityNotFound, VersionMismatch
from izlek_common.eventsourced.transcodings import register_value_types
from izlek_common.eventsourced.views import diff, jsonable

A = TypeVar("A", bound=TrackedAggregate)


class TrackedApplication(Application[UUID]):
    """Base of the services' applications. Subclasses set ``name``, ``entity_kinds`` (aggregate class ->
    the name used in subjects and history, e.g. ``Commitment: "commitment"``) and ``value_types`` (stored
    name -> the frozen dataclasses their events carry)."""

    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "5000", "AGGREGATE_CACHE_FASTFORWARD": "y"}
    entity_kinds: ClassVar[dict[type[TrackedAggregate], str]] = {}
    value_types: ClassVar[dict[str, type]] = {}
    CREATE_RETRIES = 5
    RECENTLY_SAVED = 512
    """How many saved states `saved` keeps: a command's answer is built within moments of its save."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self._listeners: list[Callable[[], None]] = []
        self._listeners_lock = threading.Lock()
        self._recently_saved: LRUCache[tuple[UUID, int], TrackedAggregate] = LRUCache(self.RECENTLY_SAVED)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_value_types(transcoder, self.value_types)

    # --- notification of new events (wakes an in-process relay) ---------------------------------

    def on_new_events(self, listener: Callable[[], None]) -> None:
        with self._listeners_lock:
            self._listeners.append(listener)

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        for listener in list(self._listeners):
            listener()

    # --- history --------------------------------------------------------------------------------------

    def history(self, entity_id: UUID) -> dict[str, Any]:
        """Every event of an entity: type, kind (change or correction), author, recorded and valid time,
        reason, the event's data, and the field diffs it made."""
        events = list(self.events.get(entity_id))
        if not events:
            raise EntityNotFound(f"nothing is recorded for {entity_id}")
        aggregate: TrackedAggregate | None = None
        entries = []
        for domain_event in events:
            before = aggregate.view() if aggregate is not None else {}
            aggregate = domain_event.mutate(aggregate)
            assert aggregate is not None
            stamp: Stamp = domain_event.stamp
            entries.append({
                "version": domain_event.originator_version,
                "event_type": type(domain_event).__name__,
                "kind": "correction" if is_correction(type(domain_event).__name__) else "change",
                "recorded_at": domain_event.timestamp,
                "valid_at": stamp.valid_at or domain_event.timestamp,
                "valid_precision": stamp.valid_precision,
                "backfilled": stamp.valid_at is not None and stamp.valid_at < domain_event.timestamp,
                "author": stamp.author,
                "reason": stamp.reason,
                "correlation_id": stamp.correlation_id,
                "data": event_data(domain_event),
                "changes": diff(jsonable(before), jsonable(aggregate.view())),
            })
        assert aggregate is not None
        return jsonable({
            "id": entity_id,
            "entity_type": self.entity_kinds[type(aggregate)],
            "version": aggregate.version,
            "events": entries,
        })

    def entity_type_of(self, entity_id: UUID) -> str:
        aggregate = self._read_any(entity_id)
        return self.entity_kinds[type(aggregate)]

    # --- reading and saving ------------------------------------------------------------------------

    def ids_created_by(self, created_event_class: type) -> list[UUID]:
        """Ids of every aggregate whose first event is of this class, in the order they were created.

        Scans the notification log by topic: fine for the few hundred entities a service lists; the
        gateway's read models answer the large queries.
        """
        topic = get_topic(created_event_class)
        ids: list[UUID] = []
        start = 1
        while batch := self.recorder.select_notifications(start, 1000, topics=[topic]):
            ids.extend(UUID(str(n.originator_id)) for n in batch)
            start = batch[-1].id + 1
        return ids

    def exists(self, aggregate_id: UUID) -> bool:
        """Whether anything is recorded under this id."""
        return next(iter(self.events.get(aggregate_id, limit=1)), None) is not None

    def _get(self, cls: type[A], aggregate_id: UUID, expected_version: int | None = None) -> A:
        """The whole recorded state, scheduled changes included: what commands act on."""
        aggregate = self._read_any(aggregate_id)
        if not isinstance(aggregate, cls):
            raise EntityNotFound(f"no {self.entity_kinds[cls]} {aggregate_id}")
        if expected_version is not None and aggregate.version != expected_version:
            raise VersionMismatch(aggregate_id, expected_version, aggregate.version)
        return aggregate

    def _read_any(self, aggregate_id: UUID) -> TrackedAggregate:
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise EntityNotFound(f"no entity {aggregate_id}") from None
        if not isinstance(aggregate, TrackedAggregate):
            raise EntityNotFound(f"no entity {aggregate_id}")
        return aggregate

    def _read(self, cls: type[A], aggregate_id: UUID, *, as_of: datetime | None = None,
              valid_at: datetime | None = None) -> A:
        """What queries show: by default the state in effect now, so a change scheduled for a later date
        (valid time in the future) shows only from that date on; an entity whose very creation is scheduled
        shows as recorded."""
        if as_of is None and valid_at is None:
            aggregate = self._read_any(aggregate_id)
            now = datetime.now(UTC)
            if aggregate.latest_valid_at is not None and aggregate.latest_valid_at > now:
                # Created with a valid time still to come: shown as recorded rather than not at all.
                with contextlib.suppress(EntityNotFound):
                    aggregate = self._read_at(aggregate_id, as_of=None, valid_at=now)
        else:
            aggregate = self._read_at(aggregate_id, as_of=as_of, valid_at=valid_at)
        if not isinstance(aggregate, cls):
            raise EntityNotFound(f"no {self.entity_kinds[cls]} {aggregate_id}")
        return aggregate

    def saved(self, cls: type[A], aggregate_id: UUID, version: int) -> A:
        """What `_read` shows of an entity, as the command that saved ``version`` left it: the answer to that
        command, without reading the store again. Keyed by version, so it is never stale; falls back to the
        store once the state has left the small cache of recent saves, or when a change is scheduled."""
        try:
            aggregate = self._recently_saved.get((aggregate_id, version))
        except KeyError:
            return self._read(cls, aggregate_id)
        if not isinstance(aggregate, cls) or aggregate.version != version or (
                aggregate.latest_valid_at is not None and aggregate.latest_valid_at > datetime.now(UTC)):
            return self._read(cls, aggregate_id)
        return aggregate

    def _read_many(self, cls: type[A], ids: Iterable[UUID], *, as_of: datetime | None,
                   valid_at: datetime | None) -> list[A]:
        result = []
        for aggregate_id in ids:
            try:
                result.append(self._read(cls, aggregate_id, as_of=as_of, valid_at=valid_at))
            except EntityNotFound:
                continue  # attached later than (or valid after) the asked time
        return result

    def _read_at(self, aggregate_id: UUID, *, as_of: datetime | None,
                 valid_at: datetime | None) -> TrackedAggregate:
        """State as the store knew it at ``as_of`` (recorded time), counting only the events that had
        taken effect by ``valid_at`` (valid time)."""
        events = list(self.events.get(aggregate_id))
        if as_of is not None:
            events = [e for e in events if e.timestamp <= as_of]
        # The version is what was known (as of), not what was in effect: it stays the concurrency token.
        known = events[-1] if events else None
        if valid_at is not None:
            events = [e for e in events if (e.stamp.valid_at or e.timestamp) <= valid_at]
        if not events or events[0].originator_version != Aggregate.INITIAL_VERSION:
            moments = []
            if as_of is not None:
                moments.append(f"as of {as_of.isoformat()}")
            if valid_at is not None:
                moments.append(f"valid at {valid_at.isoformat()}")
            raise EntityNotFound(f"{aggregate_id} did not exist {' and '.join(moments)}")
        aggregate = None
        for position, domain_event in enumerate(events, start=Aggregate.INITIAL_VERSION):
            # Events skipped for valid time leave gaps; renumber so the sequence check passes.
            aggregate = dataclasses.replace(domain_event, originator_version=position).mutate(aggregate)
        assert isinstance(aggregate, TrackedAggregate) and known is not None
        aggregate.version = known.originator_version
        aggregate.modified_on = known.timestamp
        return aggregate

    def _save(self, *objs: Any) -> int:
        try:
            self.save(*objs)
        except IntegrityError:
            aggregate = next((o for o in objs if isinstance(o, TrackedAggregate)), None)
            raise VersionMismatch(aggregate.id if aggregate else "entity", None, None) from None
        for saved in objs:
            if isinstance(saved, TrackedAggregate):
                # Commands work on copies taken from the repository; one that goes on changing the same copy
                # after saving it moves its version on, which `saved` checks.
                self._recently_saved.put((saved.id, saved.version), saved)
        aggregate = next((o for o in objs if isinstance(o, TrackedAggregate)), None)
        return aggregate.version if aggregate is not None else 0

    def _retrying_on_conflict(self, attempt: Callable[[], UUID]) -> UUID:
        for _ in range(self.CREATE_RETRIES - 1):
            try:
                return attempt()
            except VersionMismatch:
                continue
        return attempt()


def event_data(domain_event: Any) -> dict[str, Any]:
    """The event's own fields, without the envelope (id, version, timestamp) and the stamp."""
    skipped = {"originator_id", "originator_version", "originator_topic", "timestamp", "stamp"}
    return {k: v for k, v in domain_event.__dict__.items() if k not in skipped}

