"""Processes for the end-to-end tests: the plans API and its relay as real subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from postgres_cluster import postgres_cluster  # noqa: F401 - the fixture, for every test here

from izlek_common.auth import issue_token
from izlek_common.nats_server import find_free_port
from izlek_common.settings import CommonSettings

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "gateway" / "tests"))  # gateway_testing
# notifications_testing
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "services" / "notifications" / "tests"))

IZLEK = str(Path(sys.executable).parent / "izlek")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "izmir"


class ServiceProcess:
    """``izlek serve plans`` or ``izlek relay plans`` in a child process that a test can kill and restart."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path, port: int | None = None) -> None:
        self.args = args
        self.env = env
        self.log_path = log_path
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([IZLEK, *self.args], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        if self.port is not None:
            self._wait_ready()

    def _wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, self.log_tail()
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.args} did not become ready:\n{self.log_tail()}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def service_env(postgres_database, nats_server, tmp_path) -> dict[str, str]:
    """Environment of a plans deployment on PostgreSQL and the test's own nats-server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IZLEK_")}
    env.update({
        "IZLEK_ENVIRONMENT": "test",
        "IZLEK_NATS_URL": nats_server.url,
        "IZLEK_PLANS_EVENT_STORE_URL": postgres_database.url,
        "IZLEK_VAR_DIR": str(tmp_path / "var"),
        "IZLEK_LOG_LEVEL": "INFO",
        # A relay or projector killed by a test leaves its lease to expire: a short TTL lets the next one in soon.
        "IZLEK_LEASE_TTL_SECONDS": "2",
    })
    return env


@pytest.fixture
def spawn(tmp_path) -> Iterator:
    started: list[ServiceProcess] = []

    def _spawn(args: list[str], env: dict[str, str], name: str, port: int | None = None) -> ServiceProcess:
        process = ServiceProcess(args, env, tmp_path / f"{name}.log", port)
        started.append(process)  # before it is ready: one that never becomes ready is stopped too
        process.start()
        return process

    yield _spawn
    for process in started:
        process.stop()


@pytest.fixture
def coordinator_headers() -> dict[str, str]:
    token = issue_token(CommonSettings(environment="test"), subject="ayse@kedv.org.tr", role="coordinator",
                        organisation_id="kedv", name="Ayşe")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def free_port() -> int:
    return find_free_port()
