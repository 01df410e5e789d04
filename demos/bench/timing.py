"""Measuring: medians of many timed samples taken in interleaved rounds, traced peak memory, resident memory.

Rows of one workload are sampled in rounds (one sample of each row, then the next round), so a
slow patch of the machine hits every row alike and the ratios stay honest. Each sample times
enough calls to last `sample_s`; the garbage collector stays on, as in a real training loop.
"""

from __future__ import annotations

import gc
import os
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Stats:
    """A row's figure: the median and spread of its samples (seconds per call, or bytes)."""

    median: float
    q1: float
    q3: float
    min: float
    max: float
    samples: int
    per_sample: int  # calls timed together in one sample
    cpu_per_wall: float | None = None  # process CPU time over wall time while timed: above 1, more than one core ran

    @classmethod
    def of(cls, values: list[float], per_sample: int = 1, cpu_per_wall: float | None = None) -> Stats:
        a = np.asarray(values, dtype=np.float64)
        q1, median, q3 = np.percentile(a, [25, 50, 75])
        return cls(float(median), float(q1), float(q3), float(a.min()), float(a.max()), len(a), per_sample,
                   cpu_per_wall)  # fmt: skip

    def scaled(self, factor: float) -> Stats:
        """The same figures per op, per element...: every value times `factor`."""
        return Stats(self.median * factor, self.q1 * factor, self.q3 * factor, self.min * factor, self.max * factor,
                     self.samples, self.per_sample, self.cpu_per_wall)  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def measure(steps: dict[str, Callable[[], Any]], rounds: int, sample_s: float, warmup: int) -> dict[str, Stats]:
    """Seconds per call of each step: `warmup` untimed calls (at least), then `rounds` interleaved samples."""
    per_sample = {}
    for key, step in steps.items():
        gc.collect()
        start = time.perf_counter()
        calls = 0
        while calls < warmup or (calls < 1000 * warmup and time.perf_counter() - start < 4 * sample_s):
            step()
            calls += 1
        per_call = (time.perf_counter() - start) / calls if calls else 0.0
        per_sample[key] = max(1, round(sample_s / per_call)) if per_call > 0 else 1  # no warm-up: one call
    samples: dict[str, list[float]] = {key: [] for key in steps}
    cpu = dict.fromkeys(steps, 0.0)
    for _ in range(rounds):
        for key, step in steps.items():
            n = per_sample[key]
            cpu_start = time.process_time()
            start = time.perf_counter()
            for _ in range(n):
                step()
            wall = time.perf_counter() - start
            cpu[key] += time.process_time() - cpu_start
            samples[key].append(wall / n)
    return {
        key: Stats.of(values, per_sample[key], cpu[key] / (sum(values) * per_sample[key]) if sum(values) else None)
        for key, values in samples.items()
    }


def traced_peak(build: Callable[[], Callable[[], Any]], warm: bool = True) -> int:
    """Peak bytes traced by tracemalloc during one call of the step that `build` returns.

    The row is built under tracing, so the figure counts everything it holds while it steps
    (parameters, last step's gradients, optimiser state) plus what the step allocates; arrays made
    before (the data) count for no row. With `warm`, one untimed step comes first, so every row is
    in its steady state.
    """
    gc.collect()
    tracemalloc.start()
    try:
        step = build()
        if warm:
            step()
        gc.collect()
        tracemalloc.reset_peak()
        step()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def resident_bytes() -> tuple[int, str]:
    """The process's resident memory now (Linux), else its peak so far; and which of the two it is."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"), "current RSS"
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak * (1 if sys.platform == "darwin" else 1024), "peak RSS (no /proc here)"
