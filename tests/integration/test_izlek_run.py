"""`make run` as a new user meets it: `izlek run --demo-data examples/izmir` with the usual ports taken."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from conftest import EXAMPLES, ServiceProcess
from streams import read_stream

pytestmark = [pytest.mark.nats, pytest.mark.timeout(120)]

PARTNERS_EVENTS = 52 + 8  # 52 organisations; 3 protocols drafted and signed, 2 drafts


@pytest.fixture
def usual_ports_taken() -> Iterator[None]:
    """Something already listens where the plans API and the embedded NATS would like to be."""
    sockets = []
    for port in (8001, 14222):
        sock = socket.socket()
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
            sockets.append(sock)
        except OSError:
            sock.close()  # taken already, which is what this test wants
    yield
    for sock in sockets:
        sock.close()


def wait_for_line(process: ServiceProcess, pattern: str, timeout: float = 60) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.process is not None and process.process.poll() is None, process.log_tail()
        match = re.search(pattern, process.log_path.read_text(errors="replace"))
        if match:
            return match
        time.sleep(0.1)
    raise TimeoutError(f"no line matching {pattern!r}:\n{process.log_tail()}")


async def projected_counts(gateway: str, headers: dict[str, str], timeout: float = 30) -> dict[str, int]:
    """What the gateway's read models show once the projector has caught up with both streams."""
    query = ('{ commitments(first: 1) { totalCount } organisations(type: "cooperative") { code } '
             "protocols { code } }")
    counts: dict[str, int] = {}
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=gateway, headers=headers) as client:
        while time.monotonic() < deadline:
            data = (await client.post("/graphql", json={"query": query})).json()["data"]
            counts = {"commitments": data["commitments"]["totalCount"],
                      "cooperatives": len(data["organisations"]), "protocols": len(data["protocols"])}
            if counts == {"commitments": 104, "cooperatives": 9, "protocols": 5}:
                break
            await asyncio.sleep(0.2)
    return counts


def start_izlek_run(tmp_path, name: str) -> ServiceProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IZLEK_")}
    env.update({"IZLEK_VAR_DIR": str(tmp_path / "var"), "COLUMNS": "200"})
    process = ServiceProcess(["run", "--demo-data", str(EXAMPLES)], env, tmp_path / f"{name}.log")
    process.start()
    return process


async def test_izlek_run_loads_the_izmir_data_once_and_publishes_it_with_the_usual_ports_taken(
    tmp_path, usual_ports_taken, coordinator_headers
):
    first = start_izlek_run(tmp_path, "first-run")
    try:
        api = wait_for_line(first, r"plans API on (http://127\.0\.0\.1:(\d+))")
        nats_url = wait_for_line(first, r"NATS \(JetStream\) at (nats://127\.0\.0\.1:\d+)").group(1)
        assert int(api.group(2)) != 8001 and not nats_url.endswith(":14222")
        commitments = httpx.get(f"{api.group(1)}/plans", headers=coordinator_headers).json()[0]["commitment_ids"]
        assert len(commitments) == 104
        for _ in range(100):
            if len((await read_stream(nats_url, "PLANS")).events) == 238 and \
                    len((await read_stream(nats_url, "PARTNERS")).events) == PARTNERS_EVENTS:
                break
            await asyncio.sleep(0.1)
        assert (await read_stream(nats_url, "PLANS")).notification_ids == list(range(1, 239))
        assert (await read_stream(nats_url, "PARTNERS")).notification_ids == list(range(1, PARTNERS_EVENTS + 1))
        gateway = wait_for_line(first, r"gateway API on (http://127\.0\.0\.1:\d+)").group(1)
        assert await projected_counts(gateway, coordinator_headers) == {"commitments": 104, "cooperatives": 9,
                                                                         "protocols": 5}
        # What `make run` opens: the İzmir dashboard, with data in it, for a visitor without a session.
        pages = wait_for_line(first, r"İzmir dashboard on (http://127\.0\.0\.1:\d+/)").group(1)
        assert pages == f"{gateway}/"
        async with httpx.AsyncClient(follow_redirects=True) as browser:
            dashboard = await browser.get(pages)
        assert dashboard.status_code == 200 and dashboard.url.path.startswith("/plans/")
        assert "İZMİR EYLEM PLANI" in dashboard.text and "DI1-C1" in dashboard.text
    finally:
        first.stop()
    assert first.process.returncode == 0, first.log_tail()
    nats_port = int(nats_url.rsplit(":", 1)[1])
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", nats_port), timeout=1).close()  # the embedded NATS stopped too

    second = start_izlek_run(tmp_path, "second-run")
    try:
        wait_for_line(second, r"already up to date, nothing written")
        nats_url = wait_for_line(second, r"NATS \(JetStream\) at (nats://127\.0\.0\.1:\d+)").group(1)
        await asyncio.sleep(1.0)
        assert (await read_stream(nats_url, "PLANS")).notification_ids == list(range(1, 239))
        assert (await read_stream(nats_url, "PARTNERS")).notification_ids == list(range(1, PARTNERS_EVENTS + 1))
    finally:
        second.stop()
