"""A small application of counters and its relay, for the tests of the relay and of the lease."""

from __future__ import annotations

from uuid import UUID

import nats
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Notification

from izlek_common.cloudevents import CloudEvent, message_id
from izlek_common.relay import Relay


class Counter(Aggregate):
    @event("Started")
    def __init__(self, name: str) -> None:
        self.name = name
        self.value = 0

    @event("Incremented")
    def increment(self) -> None:
        self.value += 1


class CounterApp(Application[UUID]):
    name = "counters"


def translate_with(app: CounterApp):
    def translate(notification: Notification) -> CloudEvent:
        domain_event = app.mapper.to_domain_event(notification)
        kind = type(domain_event).__name__.lower()
        return CloudEvent(
            id=message_id("counters", notification.id), source="urn:test:counters",
            type=f"izlek.counters.counter.{kind}.v1", subject=str(domain_event.originator_id),
            time=domain_event.timestamp, data={}, notificationid=notification.id,
            aggregateversion=domain_event.originator_version, actor="test", actorrole="coordinator",
            validtime=domain_event.timestamp,
        )

    return translate


def record(app: CounterApp, increments: int) -> None:
    counter = Counter(name="c")
    for _ in range(increments):
        counter.increment()
    app.save(counter)


def make_relay(app: CounterApp, nats_url: str, **options) -> Relay:
    return Relay(service="counters", recorder=app.recorder, translate=translate_with(app), nats_url=nats_url,
                 poll_interval=0.05, retry_interval=0.1, **options)


async def stream_ids(nats_url: str) -> list[int]:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info("COUNTERS")
        ids = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            ids.append(int((await js.get_msg("COUNTERS", seq=seq)).headers["Izlek-Notification-Id"]))
        return ids
    finally:
        await nc.close()
