"""The processes a workload starts (Izlek's own commands), and what they cost: CPU-seconds and resident memory
read from /proc, so that nothing beyond the standard library is needed."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

IZLEK = Path(sys.executable).with_name("izlek")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclasses.dataclass(frozen=True)
class Usage:
    """CPU-seconds used so far and resident memory now and at its peak (bytes)."""

    cpu_seconds: float
    rss_bytes: int
    peak_rss_bytes: int

    def __sub__(self, earlier: Usage) -> Usage:
        return Usage(self.cpu_seconds - earlier.cpu_seconds, self.rss_bytes, self.peak_rss_bytes)


def usage_of(pid: int) -> Usage:
    """The CPU time (user + system) and memory of a running process."""
    with open(f"/proc/{pid}/stat") as stat_file:
        # The command name may hold spaces: the fields after it start at the last ')'.
        fields = stat_file.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    memory = {}
    with open(f"/proc/{pid}/status") as status_file:
        for line in status_file:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                memory[name] = int(value.split()[0]) * 1024
    return Usage(cpu, memory.get("VmRSS", 0), memory.get("VmHWM", 0))


def usage_of_all(pids: Iterable[int]) -> Usage:
    """The processes' summed CPU time and memory; those that ended meanwhile are left out."""
    total = Usage(0.0, 0, 0)
    for pid in pids:
        with contextlib.suppress(OSError, IndexError):
            one = usage_of(pid)
            total = Usage(total.cpu_seconds + one.cpu_seconds, total.rss_bytes + one.rss_bytes,
                          total.peak_rss_bytes + one.peak_rss_bytes)
    return total


def postgres_pids(dbname: str) -> list[int]:
    """The PostgreSQL processes that work for `dbname`: its backends and the server's shared writers (WAL
    writer, checkpointer, background writer), found by their process titles."""
    shared = ("walwriter", "checkpointer", "background writer")
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if title.startswith("postgres:") and (f" {dbname} " in title or title.rstrip().endswith(shared)):
                found.append(int(entry.name))
    return found


class IzlekProcess:
    """An ``izlek`` command run as a child process with its output in a log file; stopped with SIGTERM (then
    SIGKILL) when the context ends, whatever happened."""

    def __init__(self, name: str, arguments: list[str], environment: Mapping[str, str], log_file: Path) -> None:
        self.name = name
        self.arguments = arguments
        self.environment = {**os.environ, **environment}
        self.log_file = log_file
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.name} was not started"
        return self.popen.pid

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            self.popen = subprocess.Popen([str(IZLEK), *self.arguments], env=self.environment, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True)

    def usage(self) -> Usage:
        return usage_of(self.pid)

    def wait_with_usage(self, timeout: float) -> Usage:
        """Wait for the command to finish (raise if it failed or outlived `timeout`); the CPU-seconds it used
        and its peak resident memory."""
        assert self.popen is not None
        deadline = time.monotonic() + timeout
        while True:
            pid, status, rusage = os.wait4(self.popen.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} still runs after {timeout}s:\n{self.log_tail()}")
            time.sleep(0.05)
        self.popen.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise RuntimeError(f"{self.name} exited with {code}:\n{self.log_tail()}")
        peak = rusage.ru_maxrss * 1024
        return Usage(rusage.ru_utime + rusage.ru_stime, peak, peak)

    def stop(self, timeout: float = 15.0) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        # The whole session: uvicorn's workers and anything else the command started.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout)

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def wait_until_answers(self, url: str, timeout: float = 60.0) -> None:
        """Wait until `url` answers 200 (e.g. ``/readyz``); raise with the log's tail if the process dies."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.popen is not None
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError, urllib.error.URLError):
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} did not answer {url} within {timeout}s:\n{self.log_tail()}")

    def __enter__(self) -> IzlekProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextlib.contextmanager
def running(name: str, arguments: list[str], environment: Mapping[str, str], log_file: Path) -> Iterator[IzlekProcess]:
    process = IzlekProcess(name, arguments, environment, log_file)
    with process:
        yield process
