"""Reading a whole JetStream stream back, to compare it with the event store it came from."""

from __future__ import annotations

from dataclasses import dataclass

import nats

from izlek_common.cloudevents import CloudEvent


@dataclass
class StreamContents:
    events: list[CloudEvent]
    msg_ids: list[str]

    @property
    def notification_ids(self) -> list[int]:
        return [event.notificationid for event in self.events]


async def read_stream(nats_url: str, stream: str) -> StreamContents:
    """Every message of the stream, in stream order, parsed as CloudEvents."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        events, msg_ids = [], []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            message = await js.get_msg(stream, seq=seq)
            events.append(CloudEvent.from_json_bytes(message.data))
            msg_ids.append(message.headers["Nats-Msg-Id"])
        return StreamContents(events, msg_ids)
    finally:
        await nc.close()


async def stream_message_count(nats_url: str, stream: str) -> int:
    nc = await nats.connect(nats_url, allow_reconnect=False, connect_timeout=1)
    try:
        try:
            return (await nc.jetstream().stream_info(stream)).state.messages
        except nats.js.errors.NotFoundError:
            return 0
    finally:
        await nc.close()


class StreamWatcher:
    """One connection for polling a stream's message count quickly (a kill must land mid-publish)."""

    def __init__(self, nats_url: str, stream: str) -> None:
        self.nats_url = nats_url
        self.stream = stream

    async def __aenter__(self) -> StreamWatcher:
        self.nc = await nats.connect(self.nats_url)
        self.js = self.nc.jetstream()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.nc.close()

    async def count(self) -> int:
        try:
            return (await self.js.stream_info(self.stream)).state.messages
        except nats.js.errors.NotFoundError:
            return 0
