"""``python -m bench.run [--quick] [--only 1,2]``: run every workload of ``bench/workloads/`` in number order on
a PostgreSQL server found like the tests find theirs, write ``bench/results.json`` and render
``docs/performance.md`` from it.

A workload's number is its module's ``NUMBER``, or else the first number in its module's name
(``w4_rebuild`` is workload 4). A workload that fails is recorded as failed, with its error, and the others
still run. ``--quick`` runs small sizes once, to try the harness: its results go to ``bench/results-quick.json``
and leave the report alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import pkgutil
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from bench import workloads
from bench.harness import BenchEnvironment, WorkloadResult
from bench.machine import REPOSITORY, describe_commit, describe_machine
from bench.report import render_report
from izlek_common.logging import configure_logging
from izlek_common.testing.fixtures import postgres_server

RESULTS = REPOSITORY / "bench" / "results.json"
QUICK_RESULTS = REPOSITORY / "bench" / "results-quick.json"
REPORT = REPOSITORY / "docs" / "performance.md"


def discover_workloads() -> list[tuple[int, ModuleType]]:
    found = []
    for module_info in pkgutil.iter_modules(workloads.__path__):
        module = importlib.import_module(f"{workloads.__name__}.{module_info.name}")
        if not callable(getattr(module, "run", None)):
            continue
        number = getattr(module, "NUMBER", None)
        if number is None:
            digits = re.search(r"\d+", module_info.name)
            if digits is None:
                raise SystemExit(f"bench/workloads/{module_info.name}.py has no NUMBER and no number in its name")
            number = int(digits.group())
        found.append((int(number), module))
    return sorted(found, key=lambda pair: (pair[0], pair[1].__name__))


def run_workload(number: int, module: ModuleType, environment: BenchEnvironment) -> dict[str, Any]:
    started = time.monotonic()
    print(f"workload {number} ({module.__name__}) ...", file=sys.stderr, flush=True)
    try:
        result: WorkloadResult = module.run(environment)
        entry = dataclasses.asdict(result)
        entry["ratios"] = {key: result.ratio(key, key) for key in result.measured if key in result.baseline}
    except Exception as exc:
        traceback.print_exc()
        entry = {"number": number, "title": module.__name__, "met": False, "error": f"{type(exc).__name__}: {exc}",
                 "traceback": traceback.format_exc()}
    entry["module"] = module.__name__
    entry["seconds"] = round(time.monotonic() - started, 1)
    print(f"workload {number} done in {entry['seconds']} s: met={entry.get('met')}", file=sys.stderr, flush=True)
    return entry


def _exit_on_sigterm() -> None:
    # A benchmark stopped with SIGTERM (a CI timeout, kill) unwinds like Ctrl-C: every process a workload
    # started is stopped and every database it created is dropped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run: to try the harness")
    parser.add_argument("--only", help="the workloads to run, by number, e.g. 1,2")
    parser.add_argument("--runs", type=int, help="runs per workload (default 3, or 1 with --quick)")
    arguments = parser.parse_args(argv)
    only = {int(n) for n in arguments.only.split(",")} if arguments.only else None
    _exit_on_sigterm()
    # The product's components that run inside this process (relays, consumers) say only what went wrong; the
    # processes a workload starts write their logs to its work directory.
    configure_logging("ERROR", json=True)
    started = time.monotonic()
    chosen = [(number, module) for number, module in discover_workloads() if only is None or number in only]
    work_dir = Path(tempfile.mkdtemp(prefix="izlek-bench-"))
    entries = []
    try:
        with postgres_server() as admin_url:
            environment = BenchEnvironment(postgres_admin_url=admin_url, work_dir=work_dir,
                                           runs=arguments.runs or (1 if arguments.quick else 3),
                                           quick=arguments.quick)
            machine = describe_machine(admin_url)
            for number, module in chosen:
                entries.append(run_workload(number, module, environment))
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": arguments.quick,
        "runs": environment.runs,
        "command": "make bench" if not arguments.quick and only is None else
        " ".join(["python -m bench.run", *(argv if argv is not None else sys.argv[1:])]),
        "machine": machine,
        "git": describe_commit(),
        "total_seconds": round(time.monotonic() - started, 1),
        "workloads": entries,
    }
    target = QUICK_RESULTS if arguments.quick else RESULTS
    target.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print(f"wrote {target.relative_to(REPOSITORY)}", file=sys.stderr)
    if not arguments.quick:
        REPORT.write_text(render_report(results), encoding="utf-8")
        print(f"wrote {REPORT.relative_to(REPOSITORY)}", file=sys.stderr)
    failed = [entry for entry in entries if "error" in entry]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
