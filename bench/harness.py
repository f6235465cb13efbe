"""What every benchmark workload gets and gives back.

A workload is a module in `bench/workloads/` with `run(environment: BenchEnvironment) -> WorkloadResult` and
its number in `NUMBER` (else the first number in its module's name, `w4_...`); `bench.run` runs them in that
order. It runs its own measurement and its baseline side by side, `environment.runs` times each, and reports
medians. It starts its own processes and servers (a nats-server from `environment.nats_server()`, databases
from `environment.database()`) and stops them before it returns. It never asserts timings; it checks
correctness (what it wrote is there, once) and reports failures of those checks in `WorkloadResult.checks`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import statistics
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from izlek_common.nats_server import EmbeddedNatsServer
from izlek_common.testing.fixtures import PostgresDatabase, throwaway_database


@dataclasses.dataclass
class BenchEnvironment:
    postgres_admin_url: str
    work_dir: Path
    runs: int = 3
    quick: bool = False
    """A short run to try the harness (smaller sizes); its figures are not the ones reported."""
    observations: dict[str, Any] = dataclasses.field(default_factory=dict)
    """What a workload leaves for a later one to report (e.g. the processes' memory after workload 4)."""

    @contextlib.contextmanager
    def nats_server(self) -> Iterator[EmbeddedNatsServer]:
        directory = Path(tempfile.mkdtemp(prefix="nats-", dir=self.work_dir))
        with EmbeddedNatsServer(directory / "store", log_file=directory / "nats-server.log") as server:
            yield server

    @contextlib.contextmanager
    def database(self) -> Iterator[PostgresDatabase]:
        with throwaway_database(self.postgres_admin_url) as database:
            yield database


@dataclasses.dataclass
class Figure:
    """One measured quantity: its median over the runs, every run's value, and its unit."""

    value: float
    unit: str
    runs: list[float] = dataclasses.field(default_factory=list)

    @classmethod
    def of_runs(cls, values: Sequence[float], unit: str) -> Figure:
        return cls(statistics.median(values), unit, list(values))


@dataclasses.dataclass
class WorkloadResult:
    number: int
    title: str
    target: str
    """The target as the issue states it, e.g. "≥ 3,000 commands/s"."""
    measured: dict[str, Figure]
    baseline_name: str
    baseline: dict[str, Figure]
    met: bool | None
    """Whether the target was reached (None where the workload only reports)."""
    checks: dict[str, Any]
    """Correctness checks and their outcome, e.g. {"events stored once": True, "stored": 20000}."""
    notes: str = ""
    """Why a target was missed, what the figure includes, anything a reader needs to trust it."""

    def ratio(self, measured_key: str, baseline_key: str) -> float | None:
        baseline = self.baseline.get(baseline_key)
        measured = self.measured.get(measured_key)
        if not baseline or not measured or not baseline.value:
            return None
        return measured.value / baseline.value


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by the nearest-rank method."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]
