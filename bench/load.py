"""A closed-loop HTTP load generator: `clients` keep-alive HTTP/1.1 connections, each sending the same request
again as soon as the answer is in, on raw asyncio streams (uvloop).

httpx costs several hundred microseconds of client CPU per request, about what the server spends on a cached
answer, so it would measure itself; this client parses only the status line and Content-Length. It runs in
processes of its own (`run_load`), which start measuring together at an agreed moment after a warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any


def post_request(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json",
             f"Content-Length: {len(body)}", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        return cls(reader, writer)

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = None
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            return status, await self._chunks()
        return status, await self.reader.readexactly(length or 0)

    async def _chunks(self) -> bytes:
        body = bytearray()
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await self.reader.readexactly(size + 2)
            if size == 0:
                return bytes(body)
            body += chunk[:-2]

    def close(self) -> None:
        self.writer.close()


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    answered: int = 0
    """Every answer, the warm-up's included: what the server's CPU time is divided by."""
    seconds: float = 0.0
    client_cpu_seconds: float = 0.0
    sample: str = ""
    """The body of one answer, to check what was served."""
    error_sample: str = ""
    """The status and the start of the body of one answer that was not 200, to say why."""

    @property
    def completed(self) -> int:
        return len(self.latencies_ms)

    @property
    def per_second(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    def merged(self, other: LoadResult) -> LoadResult:
        return LoadResult(self.latencies_ms + other.latencies_ms, self.errors + other.errors,
                          self.answered + other.answered, max(self.seconds, other.seconds), self.client_cpu_seconds + other.client_cpu_seconds,
                          self.sample or other.sample, self.error_sample or other.error_sample)


async def closed_loop(host: str, port: int, request: bytes, clients: int, start_at: float,
                      duration: float) -> LoadResult:
    """Send `request` over `clients` connections from now on; record the answers between `start_at` and
    `start_at + duration` (wall-clock seconds)."""
    result = LoadResult()
    end_at = start_at + duration

    async def client() -> None:
        connection = await Connection.open(host, port)
        try:
            while (now := time.time()) < end_at:
                sent = time.perf_counter()
                status, body = await connection.exchange(request)
                took = (time.perf_counter() - sent) * 1000
                result.answered += 1
                if now < start_at:
                    continue
                if status != 200:
                    result.errors += 1
                    if not result.error_sample:
                        result.error_sample = f"{status} {body[:300].decode(errors='replace')}"
                else:
                    result.latencies_ms.append(took)
                    if not result.sample:
                        result.sample = body.decode(errors="replace")
        finally:
            connection.close()

    async def measure_cpu() -> None:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        started = time.process_time()
        await asyncio.sleep(max(0.0, end_at - time.time()))
        result.client_cpu_seconds = time.process_time() - started

    await asyncio.gather(measure_cpu(), *(client() for _ in range(clients)))
    result.seconds = duration
    return result


def run_load(host: str, port: int, request: bytes, *, clients: int, processes: int, duration: float,
             warmup: float) -> LoadResult:
    """`clients` connections spread over `processes` load processes; measured together for `duration` seconds
    after `warmup`."""
    start_at = time.time() + warmup + 1.0  # a second for the processes to start
    shares = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    children = [
        subprocess.Popen([sys.executable, "-m", "bench.load", "--host", host, "--port", str(port),
                          "--clients", str(share), "--start-at", repr(start_at), "--duration", str(duration),
                          "--request", base64.b64encode(request).decode()],
                         stdout=subprocess.PIPE)
        for share in shares if share
    ]
    outputs = []
    try:
        for child in children:
            out, _ = child.communicate(timeout=warmup + duration + 60)
            if child.returncode != 0:
                raise RuntimeError(f"a load process failed (exit {child.returncode})")
            outputs.append(json.loads(out))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    merged = LoadResult()
    for output in outputs:
        merged = merged.merged(LoadResult(**output))
    return merged


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--start-at", type=float, required=True)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--request", required=True, help="the whole HTTP request, base64")
    arguments = parser.parse_args(argv)
    request = base64.b64decode(arguments.request)
    try:
        from uvloop import run
    except ImportError:
        run = asyncio.run
    result = run(closed_loop(arguments.host, arguments.port, request, arguments.clients, arguments.start_at,
                             arguments.duration))
    output: dict[str, Any] = {"latencies_ms": result.latencies_ms, "errors": result.errors,
                              "answered": result.answered, "seconds": result.seconds, "client_cpu_seconds": result.client_cpu_seconds,
                              "sample": result.sample, "error_sample": result.error_sample}
    json.dump(output, sys.stdout)


if __name__ == "__main__":
    main()
