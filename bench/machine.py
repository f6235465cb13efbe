"""What a benchmark ran on: the machine, the versions of what it measured, and the commit."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import psycopg

from izlek_common.nats_server import nats_server_binary

REPOSITORY = Path(__file__).resolve().parent.parent


def describe_machine(postgres_admin_url: str) -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(_memory_bytes() / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": _postgres_version(postgres_admin_url),
        "nats_server": _output([str(nats_server_binary()), "--version"]),
    }


def describe_commit() -> dict[str, Any]:
    changed = _output(["git", "status", "--porcelain", "--untracked-files=no"])
    return {"commit": _output(["git", "rev-parse", "HEAD"]), "uncommitted_changes": bool(changed)}


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or "unknown"


def _memory_bytes() -> int:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def _postgres_version(admin_url: str) -> str:
    with psycopg.connect(admin_url) as connection:
        return str(connection.execute("show server_version").fetchone()[0])


def _output(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPOSITORY,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
