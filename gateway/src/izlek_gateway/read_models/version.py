"""The version of the read models: a value that changes whenever the projector commits, so that anything computed
from them can be kept until it does (`izlek_gateway.graphql.response_cache`).

While the projector of this process projects (it holds the projector's lease), it reports every commit here and
the version is a counter in memory: free to read, and moved before any reader can see the commit's effects
missing. Otherwise another process projects, and the version is read from the database: the consumers' positions
with the time each moved, which also tells a rebuild (positions starting again) from the state it replaced.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Hashable

from sqlalchemy import Engine, select

from izlek_common.consumer import consumer_positions

_epochs = itertools.count(1)


class ReadModelVersion:
    """See the module docstring. `committed` is the projector's ``on_committed``; `while_projecting` wraps the
    projector's run so that the counter is trusted only while this process projects."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._epoch: int | None = None
        self._commits = 0

    def committed(self, *_: object) -> None:
        """The projector of this process committed (called on the event loop, right after the commit)."""
        self._commits += 1

    def while_projecting(self, run: Callable[[asyncio.Event], Awaitable[None]]
                         ) -> Callable[[asyncio.Event], Awaitable[None]]:
        """`run` (the projector's), marking the versions this process counts as its own while it runs."""

        async def projecting(stop: asyncio.Event) -> None:
            # A new epoch: whatever another process committed before this one took over counts as a change.
            self._epoch, self._commits = next(_epochs), 0
            try:
                await run(stop)
            finally:
                self._epoch = None

        return projecting

    @property
    def projected_here(self) -> bool:
        return self._epoch is not None

    async def current(self) -> Hashable:
        if self._epoch is not None:
            return ("here", self._epoch, self._commits)
        return ("database", await asyncio.to_thread(self._stored_positions))

    def _stored_positions(self) -> tuple[tuple[object, ...], ...]:
        table = consumer_positions
        with self.engine.connect() as connection:
            rows = connection.execute(select(table.c.consumer, table.c.last_stream_seq, table.c.updated_at)
                                      .order_by(table.c.consumer))
            return tuple(tuple(row) for row in rows)
