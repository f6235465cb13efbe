"""The baseline of workload 3: the same path as a command's, by hand in one process and nothing else.

At a given pace: an `eventsourcing` application on PostgreSQL saves an aggregate's event, the event is published
to JetStream (the ack awaited), a pull consumer fetches it and upserts a row into PostgreSQL (autocommit). The
latency of an event is from the save's return to the upsert's commit.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import uuid4

import nats
import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.harness import BenchEnvironment

STREAM = "RAW"


class Ticker(Aggregate):
    def __init__(self) -> None:
        self.count = 0

    @event("Ticked")
    def tick(self, number: int) -> None:
        self.count = number


async def _pipeline(nats_url: str, database: Any, rate: float, seconds: float) -> list[float]:
    application = Application(env=database.eventsourcing_env())
    client = await nats.connect(nats_url)
    upserts = await psycopg.AsyncConnection.connect(database.url, autocommit=True)
    try:
        js = client.jetstream()
        await js.add_stream(name=STREAM, subjects=["raw.>"])
        await upserts.execute("create table ticks (id text primary key, count integer not null)")
        subscription = await js.pull_subscribe("raw.>", durable="raw", stream=STREAM)
        saved: dict[str, float] = {}
        visible: dict[str, float] = {}
        total = int(rate * seconds)
        tickers = [Ticker() for _ in range(1000)]
        await asyncio.to_thread(application.save, *tickers)

        async def consume() -> None:
            while len(visible) < total:
                try:
                    messages = await subscription.fetch(1, timeout=1)
                except TimeoutError:
                    continue
                for message in messages:
                    key = message.data.decode()
                    ticker_id, number = key.split(":")
                    await upserts.execute("insert into ticks values (%s, %s) on conflict (id) do update set "
                                          "count = excluded.count", (ticker_id, int(number)))
                    visible[key] = time.perf_counter()
                    await message.ack()

        async def produce(number: int) -> None:
            ticker = tickers[number % len(tickers)]
            key = f"{ticker.id}:{number}"

            def save() -> None:
                ticker.tick(number)
                application.save(ticker)

            await asyncio.to_thread(save)
            saved[key] = time.perf_counter()
            await js.publish(f"raw.{uuid4().hex}", key.encode())

        consuming = asyncio.create_task(consume())
        started = time.perf_counter()
        producing = []
        for number in range(total):
            await asyncio.sleep(max(0.0, started + number / rate - time.perf_counter()))
            producing.append(asyncio.create_task(produce(number)))
        await asyncio.gather(*producing)
        await asyncio.wait_for(consuming, 60)
        return [max(0.0, visible[key] - done) * 1000 for key, done in saved.items() if key in visible]
    finally:
        await upserts.close()
        await client.close()
        application.close()


def run_baseline(environment: BenchEnvironment, rate: float, seconds: float) -> dict[str, list[float]]:
    with environment.nats_server() as server, environment.database() as database:
        return {"latencies": asyncio.run(_pipeline(server.url, database, rate, seconds))}
