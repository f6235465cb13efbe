"""What a stream holds, read back for the workloads' checks: the notification id of every message, and waiting
until a relay has published up to a given one."""

from __future__ import annotations

import asyncio
import time

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from izlek_common.cloudevents import NATS_NOTIFICATION_ID_HEADER


async def last_notification_id(nats_url: str, stream: str) -> int:
    """The notification id of the stream's last message (0 when it is empty or missing)."""
    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        try:
            info = await js.stream_info(stream)
        except NotFoundError:
            return 0
        if not info.state.messages:
            return 0
        message = await js.get_msg(stream, seq=info.state.last_seq)
        return int((message.headers or {})[NATS_NOTIFICATION_ID_HEADER])
    finally:
        await client.close()


async def wait_until_published(nats_url: str, stream: str, notification_id: int, timeout: float) -> float:
    """Wait until the stream's last message is `notification_id` or later; the seconds it took."""
    started = time.monotonic()
    while (last := await last_notification_id(nats_url, stream)) < notification_id:
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"stream {stream} reached notification {last}, not {notification_id}, in {timeout}s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def notification_ids(nats_url: str, stream: str, batch: int = 2000) -> list[int]:
    """The notification id of every message of the stream, in stream order (headers only are fetched)."""
    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        info = await js.stream_info(stream)
        total = info.state.messages
        subscription = await js.pull_subscribe(
            ">", stream=stream,
            config=ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, headers_only=True,
                                  inactive_threshold=30),
        )
        ids: list[int] = []
        while len(ids) < total:
            for message in await subscription.fetch(min(batch, total - len(ids)), timeout=10):
                ids.append(int((message.headers or {})[NATS_NOTIFICATION_ID_HEADER]))
        await subscription.unsubscribe()
        return ids
    finally:
        await client.close()
