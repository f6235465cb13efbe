"""An Izlek deployment for the gateway workloads: a nats-server and PostgreSQL databases of its own, the İzmir
data imported through the services' commands, and `izlek serve plans` / `izlek serve gateway` as processes.

Everything started here is stopped when the `deployment` context ends, also on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.harness import BenchEnvironment, WorkloadResult
from izlek_common.auth import issue_token
from izlek_common.logging import configure_logging
from izlek_common.nats_server import find_free_port
from izlek_common.settings import CommonSettings
from izlek_common.testing.fixtures import find_postgres_admin_url

REPOSITORY = Path(__file__).resolve().parents[1]
IZMIR = REPOSITORY / "examples" / "izmir"
IZLEK = str(Path(sys.executable).parent / "izlek")
IMPORTER = "bench@kedv.org.tr"


@dataclass
class ServerProcess:
    """One child process (`izlek ...` or a baseline server), its log in the work directory; with a port, ready once
    `/readyz` answers."""

    command: list[str]
    env: dict[str, str]
    log_path: Path
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60) -> ServerProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            cwd=REPOSITORY)
        if self.port is not None:
            deadline = time.monotonic() + timeout
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{' '.join(self.command)} exited:\n{self.log_tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{' '.join(self.command)} did not become ready:\n{self.log_tail()}")
                time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Deployment:
    """Plans on PostgreSQL, partners on SQLite, the gateway's read models on PostgreSQL, one nats-server."""

    env: dict[str, str]
    work_dir: Path
    plans_database_url: str
    gateway_database_url: str
    nats_url: str
    processes: list[ServerProcess] = field(default_factory=list)

    def izlek(self, *args: str) -> str:
        """Run an `izlek` command to its end (an import); its output."""
        done = subprocess.run([IZLEK, *args], env=self.env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"izlek {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout + done.stderr

    def spawn(self, args: list[str], name: str, port: int | None = None, **settings: str) -> ServerProcess:
        """`izlek <args>` as a process of this deployment."""
        return self.spawn_command([IZLEK, *args], name, port, **settings)

    def spawn_command(self, command: list[str], name: str, port: int | None = None,
                      **settings: str) -> ServerProcess:
        process = ServerProcess(command, {**self.env, **settings}, self.work_dir / f"{name}.log", port)
        self.processes.append(process)
        return process.start()

    def serve(self, service: str, name: str | None = None, **settings: str) -> ServerProcess:
        port = find_free_port()
        return self.spawn(["serve", service, "--port", str(port)], name or service, port, **settings)

    def import_izmir(self, *, partners: bool = True) -> None:
        """The İzmir plan into the plans store; with `partners`, its organisations and protocols into the partners
        store, published to JetStream by a partners relay that runs until they are all in the stream."""
        self.izlek("import-plan", str(IZMIR / "plan.yaml"), "--author", IMPORTER)
        if not partners:
            return
        self.izlek("import-partners", str(IZMIR / "partners.yaml"), "--author", IMPORTER)
        self.izlek("import-protocols", str(IZMIR / "protocols.yaml"), "--author", IMPORTER)
        relay = self.spawn(["relay", "partners"], "relay-partners")
        try:
            wait_until(lambda: _stream_length(self.nats_url, "PARTNERS") >= 60, timeout=60, interval=0.5,
                       what="the partners relay publishing the İzmir partners")
        finally:
            relay.stop()

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


@contextlib.contextmanager
def deployment(environment: BenchEnvironment, name: str, **settings: str) -> Iterator[Deployment]:
    """A nats-server, a plans and a gateway database, and the environment of `izlek` processes using them."""
    work_dir = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=environment.work_dir))
    with (environment.nats_server() as nats, environment.database() as plans_db,
          environment.database() as gateway_db):
        env = {k: v for k, v in os.environ.items() if not k.startswith("IZLEK_")}
        env.update({
            "IZLEK_ENVIRONMENT": "test",
            "IZLEK_JWT_SECRET": BENCH_SECRET,
            "IZLEK_NATS_URL": nats.url,
            "IZLEK_VAR_DIR": str(work_dir / "var"),
            "IZLEK_PLANS_EVENT_STORE_URL": plans_db.url,
            "IZLEK_PARTNERS_EVENT_STORE_URL": f"sqlite:///{work_dir / 'partners.sqlite'}",
            "IZLEK_PARTNERS_RELAY_ENABLED": "false",
            "IZLEK_GATEWAY_DATABASE_URL": gateway_db.sqlalchemy_url,
            "IZLEK_LOG_LEVEL": "INFO",
            "IZLEK_LEASE_TTL_SECONDS": "2",
            **settings,
        })
        running = Deployment(env, work_dir, plans_db.url, gateway_db.sqlalchemy_url, nats.url)
        try:
            yield running
        finally:
            running.stop()


BENCH_SECRET = secrets.token_urlsafe(32)
"""The JWT secret of the benchmark's processes (test environment, so the development default would do too)."""


def token_headers(role: str = "auditor", subject: str = "bench@kedv.org.tr",
                  organisation: str | None = "kedv") -> dict[str, str]:
    """A bearer token of the benchmark's processes, valid for two hours."""
    settings = CommonSettings(environment="test", jwt_secret=BENCH_SECRET)
    token = issue_token(settings, subject=subject, role=role, organisation_id=organisation, ttl=timedelta(hours=2))
    return {"Authorization": f"Bearer {token}"}


def wait_until(condition: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def _stream_length(nats_url: str, stream: str) -> int:
    import nats
    from nats.js.errors import NotFoundError

    async def length() -> int:
        client = await nats.connect(nats_url, name="bench-stream-length")
        try:
            return int((await client.jetstream().stream_info(stream)).state.last_seq)
        except NotFoundError:
            return 0
        finally:
            await client.close()

    return asyncio.run(length())


def graphql(base_url: str, query: str, headers: dict[str, str], **variables: Any) -> dict[str, Any]:
    response = httpx.post(f"{base_url}/graphql", json={"query": query, "variables": variables}, headers=headers,
                          timeout=60)
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL errors: {body['errors']}")
    return body["data"]


@contextlib.contextmanager
def standalone_environment(quick: bool, runs: int | None = None) -> Iterator[BenchEnvironment]:
    """A BenchEnvironment for running one workload alone (`python -m bench.workloads.<name>`)."""
    admin_url = find_postgres_admin_url()
    if admin_url is None:
        raise SystemExit("no PostgreSQL server: set IZLEK_TEST_POSTGRES_URL or run one on 127.0.0.1:5432")
    work_dir = Path(tempfile.mkdtemp(prefix="izlek-bench-"))
    try:
        yield BenchEnvironment(admin_url, work_dir, runs=runs or (1 if quick else 3), quick=quick)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def run_standalone(run: Callable[[BenchEnvironment], WorkloadResult]) -> None:
    """Run one workload alone: `--quick` for small sizes, `--runs N`; prints its result as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes, one run: to try the workload")
    parser.add_argument("--runs", type=int, default=None)
    arguments = parser.parse_args()
    configure_logging("WARNING", json=False)
    started = time.monotonic()
    with standalone_environment(arguments.quick, arguments.runs) as environment:
        result = run(environment)
    print(json.dumps({**dataclasses.asdict(result), "seconds": round(time.monotonic() - started, 1)},
                     indent=2, ensure_ascii=False, default=str))
