"""eventsourcing's PostgreSQL persistence with its waits bounded, so that a command or query meets a database
outage with a fast error (answered 503) rather than a long wait.

eventsourcing retries every recorder call ten times, each waiting up to ``POSTGRES_CONNECT_TIMEOUT`` for a pooled
connection: over twenty seconds with the database down. Here:

- a call is tried a second time only when a connection taken from the pool failed (the database may have restarted
  since it was opened; ``POSTGRES_PRE_PING`` catches most of those first), never after the wait for a connection
  ran out;
- the pre-ping is skipped for a connection taken from the pool less than ``POSTGRES_PRE_PING_IDLE`` seconds
  (default 1) after it was last taken: under load every connection is in constant use, and a round trip before
  each statement would cost as much as the statement; one that failed in that second is caught by the retry;
- once a wait ran out, the database is known to be down (`OutageGate`): calls are refused at once instead of each
  waiting in turn (readers of one aggregate queue behind each other in eventsourcing's fast-forward lock, so waits
  would add up), while one call at a time still tries, now and then, and so wakes the pool's reconnection; the
  first call that gets a connection opens the gate again;
- a new connection's handshake is bounded by the same timeout, and a connection lost in an outage is re-created in
  the background for at most ``POSTGRES_RECONNECT_TIMEOUT`` seconds, after which the next try asks for one afresh.

Once the database is back the service recovers within seconds, with no restart. Chosen by
``PERSISTENCE_MODULE=izlek_common.eventsourced.postgres:BoundedPostgresFactory`` (see `izlek_common.eventstore`).
"""

from __future__ import annotations

import functools
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
)
from eventsourcing.utils import Environment, EnvType
from psycopg_pool import ConnectionPool, PoolTimeout, TooManyRequests

__all__ = [
    "FACTORY_TOPIC",
    "BoundedPostgresAggregateRecorder",
    "BoundedPostgresApplicationRecorder",
    "BoundedPostgresFactory",
    "OutageGate",
    "outage_gate_of",
]

FACTORY_TOPIC = "izlek_common.eventsourced.postgres:BoundedPostgresFactory"
DEFAULT_RECONNECT_TIMEOUT = 5.0
DEFAULT_PRE_PING_IDLE = 1.0
PROBE_INTERVAL_SECONDS = 1.0
"""While the database is known to be down, how long after one try ended the next may begin."""

F = TypeVar("F", bound=Callable[..., Any])


class OutageGate:
    """What one datastore knows of its database being down, shared by its recorders and threads."""

    def __init__(self, datastore: PostgresDatastore, probe_interval: float = PROBE_INTERVAL_SECONDS) -> None:
        self._pool = datastore.pool
        self.probe_interval = probe_interval
        self._lock = threading.Lock()
        self._down = False
        self._probing = False
        self._next_probe_at = 0.0

    @property
    def is_down(self) -> bool:
        return self._down

    def admit(self) -> bool:
        """Let a call go to the database (True if it is the one probe under way), or refuse it at once while the
        database is known to be down (raises eventsourcing's `OperationalError`, caused by a `PoolTimeout`)."""
        with self._lock:
            if not self._down or self._pool.get_stats().get("pool_available", 0) > 0:
                return False
            if not self._probing and time.monotonic() >= self._next_probe_at:
                self._probing = True
                return True
        raise OperationalError("the database is unreachable (found so by an earlier request)") from PoolTimeout(
            "no connection to the database could be had a moment ago")

    def settle(self, probe: bool, error: BaseException | None) -> None:
        """Record how a call went: a wait for a connection that ran out closes the gate, any answer opens it."""
        with self._lock:
            if probe:
                self._probing = False
            if error is None:
                self._down = False
            elif _waited_in_vain(error):
                if probe or not self._down:
                    # Calls that queued behind this one (for the pool, or for an aggregate's lock) are refused
                    # rather than becoming the next try at once.
                    self._next_probe_at = time.monotonic() + self.probe_interval
                self._down = True
            elif probe:
                self._next_probe_at = time.monotonic() + self.probe_interval


_gates: weakref.WeakKeyDictionary[PostgresDatastore, OutageGate] = weakref.WeakKeyDictionary()
_gates_lock = threading.Lock()


def outage_gate_of(datastore: PostgresDatastore) -> OutageGate:
    """The gate of `datastore` (one per datastore, made on first use)."""
    with _gates_lock:
        gate = _gates.get(datastore)
        if gate is None:
            gate = _gates[datastore] = OutageGate(datastore)
        return gate


def _waited_in_vain(error: BaseException) -> bool:
    return isinstance(error.__cause__, PoolTimeout | TooManyRequests)


def _bounded(retried_method: F) -> F:
    """`retried_method` (decorated with eventsourcing's ten attempts) through the datastore's gate, called at most
    twice: again only after a failure of a connection taken from the pool, never after waiting for one in vain."""
    attempt = retried_method.__wrapped__  # type: ignore[attr-defined]

    @functools.wraps(attempt)
    def call(recorder: Any, *args: Any, **kwargs: Any) -> Any:
        gate = outage_gate_of(recorder.datastore)
        probe = gate.admit()
        try:
            try:
                result = attempt(recorder, *args, **kwargs)
            except (InterfaceError, OperationalError) as error:
                if _waited_in_vain(error):
                    raise
                result = attempt(recorder, *args, **kwargs)
        except BaseException as error:
            gate.settle(probe, error)
            raise
        gate.settle(probe, None)
        return result

    return call  # type: ignore[return-value]


class BoundedPostgresAggregateRecorder(PostgresAggregateRecorder):
    insert_events = _bounded(PostgresAggregateRecorder.insert_events)
    select_events = _bounded(PostgresAggregateRecorder.select_events)


class BoundedPostgresApplicationRecorder(PostgresApplicationRecorder):
    insert_events = _bounded(PostgresApplicationRecorder.insert_events)
    select_events = _bounded(PostgresApplicationRecorder.select_events)
    select_notifications = _bounded(PostgresApplicationRecorder.select_notifications)
    max_notification_id = _bounded(PostgresApplicationRecorder.max_notification_id)


class PingWhenIdle:
    """The pool's check of a connection it hands out: a round trip only for one not taken for ``idle`` seconds."""

    def __init__(self, idle: float) -> None:
        self.idle = idle
        self._taken_at: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()

    def __call__(self, connection: Any) -> None:
        now = time.monotonic()
        if now - self._taken_at.get(connection, float("-inf")) >= self.idle:
            ConnectionPool.check_connection(connection)
        self._taken_at[connection] = now


class BoundedPostgresFactory(PostgresFactory):
    """eventsourcing's `PostgresFactory` with the recorders above and the pool's connection attempts bounded."""

    POSTGRES_RECONNECT_TIMEOUT = "POSTGRES_RECONNECT_TIMEOUT"
    POSTGRES_PRE_PING_IDLE = "POSTGRES_PRE_PING_IDLE"

    aggregate_recorder_class = BoundedPostgresAggregateRecorder
    application_recorder_class = BoundedPostgresApplicationRecorder

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        pool = self.datastore.pool
        # eventsourcing bounds only the wait for a pooled connection; libpq's handshake would wait 130 s.
        pool.kwargs["connect_timeout"] = int(pool.timeout)
        pool.reconnect_timeout = float(self.env.get(self.POSTGRES_RECONNECT_TIMEOUT) or DEFAULT_RECONNECT_TIMEOUT)
        if pool._check is not None:  # POSTGRES_PRE_PING
            pool._check = PingWhenIdle(float(self.env.get(self.POSTGRES_PRE_PING_IDLE) or DEFAULT_PRE_PING_IDLE))
