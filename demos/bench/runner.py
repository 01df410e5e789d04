"""The machinery every workload shares: how much to measure (Config), a table row (Row), and the Runner
that checks each row against the floor, times the rows together and judges targets."""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .peers import PEERS, Peer, load_peers
from .problems import CheckResult, Impl, compare, tolerance
from .timing import Stats, measure

WORKLOADS = ("mnist-step", "xor-step", "op-overhead", "deep-chain", "mlp-large", "cnn-step", "inference",
             "numerical-gradient", "memory", "epoch", "compile-time")  # fmt: skip


@dataclass
class Config:
    """How much to measure: `full()` is the default run, `quick_run()` under a minute, `tiny()` the smoke test."""

    mode: str = "full"  # "full", "quick" or "smoke"
    quick: bool = False
    threads: int = 1
    rounds: int = 100  # samples per row of the fast workloads
    sample_s: float = 0.005  # each sample times enough calls to last about this long
    warmup: int = 5  # untimed calls before sampling (at least)
    big_rounds: int = 25  # samples per row of mlp-large (one step each)
    chain_depths: tuple[int, int] = (10**5, 10**6)  # the depth compared with numpy (target 5x), then another
    chain_rounds: tuple[int, int] = (5, 3)
    numerical_fraction: float | None = None  # None: every parameter (a full step of the seeds' method)
    memory_rounds: int = 3
    rss_steps: tuple[int, int] = (100, 10_000)
    peers_in_deep_chain: bool = True
    epoch_steps: int = 600  # steps of 100 images timed per epoch row (600: all of Fashion-MNIST's training set)
    epoch_rounds: int = 7  # samples per epoch row
    workloads: tuple[str, ...] = WORKLOADS
    engines: tuple[str, ...] | None = None  # None: all; else names or prefixes (e.g. "numpy", "seedgrad", "PyTorch")

    @classmethod
    def full(cls, **changes: Any) -> Config:
        return cls(**changes)

    @classmethod
    def quick_run(cls, **changes: Any) -> Config:
        settings = dict(mode="quick", quick=True, rounds=15, sample_s=0.002, warmup=3, big_rounds=5,
                        chain_depths=(10**5, 10**4), chain_rounds=(3, 5), numerical_fraction=0.01, memory_rounds=1,
                        rss_steps=(100, 1_000), peers_in_deep_chain=False, epoch_steps=150,
                        epoch_rounds=3)  # fmt: skip
        return cls(**{**settings, **changes})

    @classmethod
    def tiny(cls, **changes: Any) -> Config:
        """For the smoke test: every code path, almost no repetitions. Its figures mean nothing."""
        settings = dict(mode="smoke", quick=True, rounds=3, sample_s=0.0, warmup=1, big_rounds=2,
                        chain_depths=(400, 4000), chain_rounds=(2, 2), numerical_fraction=0.0005, memory_rounds=1,
                        rss_steps=(2, 4), peers_in_deep_chain=False, epoch_steps=4, epoch_rounds=2)  # fmt: skip
        return cls(**{**settings, **changes})

    def wants(self, engine: str) -> bool:
        return self.engines is None or any(engine.startswith(e) for e in self.engines)


@dataclass
class Row:
    workload: str
    engine: str
    kind: str  # "floor", "reference", "engine" (ours) or "peer"
    unit: str  # "s" (per call, or per op), "B" (bytes) or "x" (a growth factor)
    check: CheckResult
    stats: Stats | None = None
    ratio: float | None = None  # median / the floor's median, same workload, same run
    target: str | None = None
    met: bool | None = None
    miss: str = ""  # by how much a target is missed
    achieved: str = ""  # the figure judged, where the table does not show it (a speed-up)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        figures = self.stats.as_dict() if self.stats else dict.fromkeys(("median", "q1", "q3", "min", "max"))
        return {"workload": self.workload, "engine": self.engine, "kind": self.kind, "unit": self.unit, **figures,
                "ratio": self.ratio, "target": self.target, "met": self.met, "miss": self.miss,
                "achieved": self.achieved, "check": self.check.as_dict(), "note": self.note}  # fmt: skip


@dataclass
class Candidate:
    engine: str
    kind: str
    build: Callable[[Any], Impl]
    target: float | None = None  # the ratio to the floor our engine's row must stay under
    note: str = ""


@dataclass
class Runner:
    config: Config
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    peers: list[tuple[Peer, str, Any]] = field(default_factory=list)
    missing_peers: dict[str, str] = field(default_factory=dict)

    def run(self, workloads: dict[str, Callable[[Runner], None]]) -> list[Row]:
        """Load the peers, then run each workload of the config, in the order of WORKLOADS."""
        if any(self.config.wants(p.name) for p in PEERS):
            self.peers, self.missing_peers = load_peers(self.config.threads, self.config.wants)
        # Everything imported so far (PyTorch brings a six-figure count of objects) leaves the collector's
        # sight, so the collections that any row's step triggers cost the same with or without the peers.
        gc.collect()
        gc.freeze()
        start = time.perf_counter()
        try:
            for name in self.config.workloads:
                print(f"[{time.perf_counter() - start:5.0f} s] {name}...", file=sys.stderr, flush=True)
                workloads[name](self)
                gc.collect()
        finally:
            gc.unfreeze()
        return self.rows

    # -------------------------------------------------------------- building rows

    def peer_candidates(self, builder: str, when: Callable[[Peer], bool] = lambda peer: True) -> list[Candidate]:
        return [
            Candidate(peer.name, "peer", _bind(peer.builders[builder], module), note=peer.note)
            for peer, _, module in self.peers
            if builder in peer.builders and when(peer)
        ]

    def checked(self, workload: str, problem: Any, floor: Candidate, candidates: list[Candidate], unit: str = "s",
                tol: float | None = None) -> tuple[list[Row], dict[str, Impl]]:  # fmt: skip
        """Build every row, check it against the floor; return the rows and the impls that passed."""
        tol = tolerance(problem.dtype) if tol is None else tol
        floor_impl = floor.build(problem)
        reference = floor_impl.check()
        rows = [Row(workload, floor.engine, "floor", unit, CheckResult(True, 0.0, tol, "the floor"), note=floor.note)]
        impls = {floor.engine: floor_impl}
        for c in candidates:
            if not self.config.wants(c.engine):
                continue
            try:
                impl = c.build(problem)
                result = compare(reference, impl.check(), tol)
            except Exception as err:
                result = CheckResult(False, float("inf"), tol, f"error: {type(err).__name__}: {err}"[:200])
            row = Row(workload, c.engine, c.kind, unit, result, note=c.note)
            if c.target is not None:
                row.target = f"≤ {c.target:g}x"
            rows.append(row)
            if result.passed:
                impls[c.engine] = impl
        return rows, impls

    def timed(self, workload: str, problem: Any, floor: Candidate, candidates: list[Candidate], rounds: int,
              warmup: int | None = None, per: float = 1, tol: float | None = None) -> list[Row]:  # fmt: skip
        """Check, then time all rows together; `per` divides the figures (ops per call, for per-op rows)."""
        rows, impls = self.checked(workload, problem, floor, candidates, tol=tol)
        warmup = self.config.warmup if warmup is None else warmup
        stats = measure({k: impl.step for k, impl in impls.items()}, rounds, self.config.sample_s, warmup)
        targets = {c.engine: c.target for c in candidates}
        self.finish(rows, {k: s.scaled(1 / per) for k, s in stats.items()}, targets)
        return rows

    def finish(self, rows: list[Row], stats: dict[str, Stats], targets: dict[str, float | None]) -> None:
        floor = stats[rows[0].engine].median
        for row in rows:
            if row.engine in stats:
                row.stats = stats[row.engine]
                row.ratio = row.stats.median / floor if floor else None
                target = targets.get(row.engine)
                if target is not None and row.ratio is not None:
                    over = 100 * (row.ratio / target - 1)
                    judge(row, row.ratio <= target, f"{over:.1f}% over" if over < 10 else f"{over:.0f}% over")
        self.rows.extend(rows)


def _bind(builder: Callable[..., Impl], module: Any) -> Callable[[Any], Impl]:
    return lambda problem: builder(module, problem)


def judge(row: Row, met: bool, miss: str) -> None:
    row.met = met
    row.miss = "" if met else miss
