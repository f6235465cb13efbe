"""Group commit: concurrent callers' writes done together, each caller still getting its own outcome.

Whichever caller finds no write under way writes everything queued so far (up to ``max_group``) in one go;
callers that arrive meanwhile queue, and the first of them to be woken writes the next group. Under no load a
write goes out at once, alone; under load, a group is what arrived while the previous one was being written,
so the cost of a write (a transaction, a flush to disk) is shared without waiting for a timer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

WriteGroup = Callable[[list[T]], Sequence[R | BaseException]]
"""Writes the items together; returns one outcome per item, in order: its result, or the error it alone met."""


class _Pending(Generic[T, R]):
    __slots__ = ("done", "item", "outcome")

    def __init__(self, item: T) -> None:
        self.item = item
        self.done = False
        self.outcome: R | BaseException | None = None


class GroupCommit(Generic[T, R]):
    """Runs ``write_group`` over the items that threads ``submit`` concurrently."""

    def __init__(self, write_group: WriteGroup[T, R], *, max_group: int = 1000) -> None:
        if max_group < 1:
            raise ValueError("max_group must be at least 1")
        self._write_group = write_group
        self.max_group = max_group
        self._condition = threading.Condition()
        self._queue: list[_Pending[T, R]] = []
        self._writing = False
        self.groups_written = 0
        self.items_written = 0

    def submit(self, item: T) -> R:
        """Write `item` with whatever else is queued; return its result or raise its own error."""
        pending: _Pending[T, R] = _Pending(item)
        with self._condition:
            self._queue.append(pending)
        while True:
            with self._condition:
                while self._writing and not pending.done:
                    self._condition.wait()
                if pending.done:
                    break
                self._writing = True
                group, self._queue = self._queue[:self.max_group], self._queue[self.max_group:]
            self._write(group)
        if isinstance(pending.outcome, BaseException):
            raise pending.outcome
        return pending.outcome  # type: ignore[return-value]

    def _write(self, group: list[_Pending[T, R]]) -> None:
        try:
            outcomes: Sequence[R | BaseException] = self._write_group([pending.item for pending in group])
            if len(outcomes) != len(group):
                raise RuntimeError(f"a group of {len(group)} writes gave {len(outcomes)} outcomes")
        except BaseException as exc:
            outcomes = [exc] * len(group)
        with self._condition:
            for pending, outcome in zip(group, outcomes, strict=True):
                pending.outcome = outcome
                pending.done = True
            self._writing = False
            self.groups_written += 1
            self.items_written += len(group)
            self._condition.notify_all()
