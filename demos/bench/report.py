"""What the benchmark prints and writes: the machine, the table, the notes, and the JSON document."""

from __future__ import annotations

import json
import math
import os
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .runner import Config, Row, Runner

SCHEMA = "seedgrad-benchmark/1"
MORE_THAN_ONE_CORE = 1.3  # CPU time / wall time above this: a row's library ran threads of its own
COLUMNS = (("workload", 40), ("engine", 40), ("median", 9), ("spread (IQR)", 19), ("n", 4), ("x floor", 9),
           ("target", 30), ("met?", 12))  # fmt: skip


def machine_info(threads: dict[str, Any]) -> dict[str, Any]:
    """CPU, cores, Python, numpy and its BLAS, the thread count and the date."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "numpy": np.__version__,
        "blas": _blas(),
        "threads": threads,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> str:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except Exception:  # older numpy, or a build that does not say
        return "unknown"
    text = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    config = blas.get("openblas configuration")
    return f"{text} ({config})" if config else text


def blas_threads() -> list[dict[str, Any]]:
    """Thread counts the BLAS libraries report, when threadpoolctl is installed (it is optional)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [{"library": i.get("internal_api"), "version": i.get("version"), "num_threads": i.get("num_threads")}
            for i in threadpool_info()]  # fmt: skip


# ------------------------------------------------------------------ the table


def _number(x: float) -> str:
    """Three significant digits, never in exponent form."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    digits = max(0, 2 - math.floor(math.log10(abs(x))))
    return f"{x:,.{digits}f}"


def _scale(value: float, unit: str) -> tuple[float, str]:
    if unit == "x":
        return value, "x"
    if unit == "B":
        size = abs(value)
        return (value / 1e6, "MB") if size >= 1e6 else (value / 1e3, "kB") if size >= 1e3 else (value, "B")
    size = abs(value)
    return (value, "s") if size >= 1 else (value * 1e3, "ms") if size >= 1e-3 else (value * 1e6, "µs")


def _figure(value: float, unit: str) -> str:
    scaled, name = _scale(value, unit)
    return f"{_number(scaled)}x" if name == "x" else f"{_number(scaled)} {name}"


def _cells(row: Row) -> list[str]:
    if row.stats is None:
        return [row.workload, row.engine, "—", "check failed" if not row.check.passed else "not run", "", "", "", ""]
    s = row.stats
    factor = _scale(s.median, row.unit)[0] / s.median if s.median else 1.0
    unit = _scale(s.median, row.unit)[1]
    spread = f"{_number(s.q1 * factor)}-{_number(s.q3 * factor)} {unit}" if s.samples > 1 else "one run"
    spread = spread.replace(" x", "x")
    ratio = f"{_number(row.ratio)}x" if row.ratio is not None else ""
    met = (
        ""
        if row.met is None
        else f"NO ({row.miss})"
        if not row.met
        else f"yes, {row.achieved}"
        if row.achieved
        else "yes"
    )
    return [row.workload, row.engine, _figure(s.median, row.unit), spread, str(s.samples), ratio, row.target or "", met]


def table(rows: list[Row]) -> str:
    widths = [max(w, *(len(_cells(r)[i]) for r in rows)) if rows else w for i, (_, w) in enumerate(COLUMNS)]
    lines = ["  ".join(name.ljust(w) for (name, _), w in zip(COLUMNS, widths)).rstrip()]
    previous = None
    for row in rows:
        cells = _cells(row)
        if row.workload == previous:
            cells[0] = ""
        elif previous is not None:
            lines.append("")
        previous = row.workload
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip())
    return "\n".join(lines)


def header(machine: dict[str, Any], config: Config, runner: Runner) -> str:
    t = machine["threads"]
    reported = ", ".join(f"{b['library']} {b['num_threads']}" for b in t.get("blas_libraries", [])) or "not reported"
    mode = "smoke: figures meaningless" if config.mode == "smoke" else config.mode
    peers = ", ".join(f"{p.name} {version}" for p, version, _ in runner.peers) or "none"
    lines = [
        f"seedgrad benchmark ({mode}), {machine['date']}",
        f"machine: {machine['cpu']}, {machine['cores']} cores ({machine['usable_cores']} usable), "
        f"{machine['platform']}",
        f"         {machine['python']}; numpy {machine['numpy']} with {machine['blas']}",
        f"threads: {t['requested']} requested ({t['how']}); BLAS reports: {reported}",
        f"peers: {peers}",
    ]
    if runner.missing_peers:
        lines.append("not installed here: " + "; ".join(f"{k} ({v})" for k, v in runner.missing_peers.items()))
    lines.append(
        f"each figure: the median of {config.rounds} samples ({config.big_rounds} for mlp-large, {config.epoch_rounds} "
        f"for epochs, fewer for the deep chains) taken in interleaved rounds after warm-up, each sample timing enough "
        f"calls to last {1000 * config.sample_s:g} ms; spread: the interquartile range; x floor: median / the first "
        f"row's median (hand-written numpy) in this run"
    )
    return "\n".join(lines)


def notes(runner: Runner) -> list[str]:
    found = list(runner.notes)
    for row in runner.rows:
        if not row.check.passed:
            found.append(f"{row.workload} / {row.engine}: not timed, its check failed: {row.check.detail}")
    busy = [r for r in runner.rows if r.stats and r.stats.cpu_per_wall and r.stats.cpu_per_wall > MORE_THAN_ONE_CORE]
    if busy:
        listed = ", ".join(f"{r.workload} / {r.engine} ({r.stats.cpu_per_wall:.1f}x)" for r in busy)
        found.append(f"more than one core ran despite the thread setting (process CPU time over wall time while "
                     f"timed): {listed}; XLA ignores its thread flags, `taskset -c 0` holds every library to "
                     "one core")  # fmt: skip
    return found


def summary(rows: list[Row]) -> dict[str, Any]:
    judged = [r for r in rows if r.met is not None]
    return {
        "targets": len(judged),
        "met": sum(r.met for r in judged),
        "missed": [f"{r.workload} / {r.engine}: {r.miss}" for r in judged if not r.met],
        "checks_failed": [f"{r.workload} / {r.engine}" for r in rows if not r.check.passed],
    }


def document(machine: dict[str, Any], config: Config, runner: Runner, runtime_s: float,
             argv: list[str]) -> dict[str, Any]:  # fmt: skip
    return {
        "schema": SCHEMA,
        "mode": config.mode,
        "argv": argv,
        "machine": machine,
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in config.__dict__.items()},
        "peers": {p.name: version for p, version, _ in runner.peers},
        "peers_missing": runner.missing_peers,
        "rows": [row.as_dict() for row in runner.rows],
        "notes": notes(runner),
        "summary": summary(runner.rows),
        "runtime_s": runtime_s,
    }


def write_json(doc: dict[str, Any], path: Path) -> None:
    def clean(x: Any) -> Any:  # JSON has no inf or NaN
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list):
            return [clean(v) for v in x]
        return x

    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(clean(doc), indent=1, allow_nan=False, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
