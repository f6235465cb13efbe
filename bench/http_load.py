"""A lean HTTP/1.1 load generator: concurrent clients, each on one keep-alive connection, sending its own list of
requests one after another and timing each. Written on asyncio streams so that the client costs little of the
CPU it shares with the server it measures."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import Counter


@dataclasses.dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes
    headers: dict[str, str]

    def encode(self, host: str) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(self.body)}",
                 *(f"{name}: {value}" for name, value in self.headers.items())]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


@dataclasses.dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclasses.dataclass
class LoadOutcome:
    elapsed: float
    statuses: Counter[int]
    latencies: list[float]
    """Seconds from sending each request to its whole response, in no particular order."""
    responses: list[list[Response]]
    """Each client's responses, in the order it sent its requests."""

    @property
    def succeeded(self) -> int:
        return sum(count for status, count in self.statuses.items() if 200 <= status < 300)


async def _read_response(reader: asyncio.StreamReader) -> Response:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Response(int(status_line.split()[1]), headers, body)


async def _client(host: str, port: int, requests: list[Request], latencies: list[float]) -> list[Response]:
    reader, writer = await asyncio.open_connection(host, port)
    responses = []
    try:
        for request in requests:
            started = time.perf_counter()
            writer.write(request.encode(f"{host}:{port}"))
            responses.append(await _read_response(reader))
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()
    return responses


async def drive(host: str, port: int, per_client: list[list[Request]]) -> LoadOutcome:
    """Run one client per list of requests, all at once; return when every client is done."""
    latencies: list[float] = []
    started = time.perf_counter()
    responses = await asyncio.gather(*(_client(host, port, requests, latencies) for requests in per_client))
    elapsed = time.perf_counter() - started
    statuses = Counter(response.status for client in responses for response in client)
    return LoadOutcome(elapsed, statuses, latencies, list(responses))


def run_load(host: str, port: int, per_client: list[list[Request]]) -> LoadOutcome:
    """`drive` on a fresh event loop (uvloop's when installed)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(drive(host, port, per_client))
    return uvloop.run(drive(host, port, per_client))
