"""The speed benchmark: seedgrad's training steps, per-op overhead, deep graphs, memory and inference, timed
against hand-written numpy (the floor) and, when installed, its eager peers.

    python -m demos.benchmark                 # the full run (several minutes)
    python -m demos.benchmark --quick         # under a minute: fewer samples, smaller deep chains
    python -m demos.benchmark --json out.json --threads 2
    python -m demos.benchmark --profile xor-step   # cProfile of our engine's step

Workloads: mnist-step (float64, float32), xor-step, op-overhead, deep-chain, mlp-large,
cnn-step (nn.models.lenet, batch 64, Adam: a step against PyTorch's, its peak memory against
its largest im2col matrix), inference, numerical-gradient, memory and epoch (a pass over
Fashion-MNIST's 60,000 training images, when the data is installed: the two-layer net with
SGD, a 784-256-128-10 MLP with Adam). Every row is checked against the numpy floor on the same
data before it is timed; every figure is a median with its spread; every row carries its ratio
to the floor measured in the same run, and our engine's rows a target: a ratio to that floor,
or for epochs and cnn-step PyTorch's time.

The BLAS thread count is fixed (one by default): this module sets OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS before numpy is first imported, so nothing
numerical is imported at the top of this file. Peers are optional; install any of
`torch==2.13.0`, `dezero`, `mygrad`, `jax` to add their rows.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

DESCRIPTION = (
    "Time seedgrad against hand-written numpy backprop (the floor) and, when installed, PyTorch, DeZero, MyGrad "
    "and JAX: training steps, per-op overhead, deep graphs, inference, numerical gradients and memory; print a "
    "table and optionally write JSON."
)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                    "NUMEXPR_NUM_THREADS")  # fmt: skip
WORKLOADS = ("mnist-step", "xor-step", "op-overhead", "deep-chain", "mlp-large", "cnn-step", "inference",
             "numerical-gradient", "memory", "epoch", "compile-time")  # fmt: skip
PROFILES = ("mnist-step", "mnist-step-float32", "xor-step", "op-overhead", "mlp-large", "cnn-step", "inference",
            "adam-mlp")  # fmt: skip


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1. (Not imported from demos._cli, which imports numpy: see above.)"""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m demos.benchmark", description=DESCRIPTION)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="a run under a minute: fewer samples, chains to 10^5")
    mode.add_argument(
        "--smoke", action="store_true",
        help="every row and check with almost no repetitions, in seconds (the test suite's mode; figures meaningless)",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument(
        "--threads", type=positive_int, default=1, metavar="N", help="BLAS/OpenMP threads (default 1)"
    )
    parser.add_argument(
        "--only", type=_names, default=WORKLOADS, metavar="W1,W2",
        help=f"run only these workloads, comma-separated: {', '.join(WORKLOADS)}",
    )  # fmt: skip
    parser.add_argument(
        "--engines", type=_names, default=None, metavar="E1,E2",
        help="rows whose engine name starts with one of these, e.g. 'numpy,seedgrad' (the floors always run)",
    )  # fmt: skip
    parser.add_argument("--profile", choices=PROFILES, help="instead of benchmarking, cProfile our engine's step")
    parser.add_argument("--profile-steps", type=positive_int, default=2000, metavar="N", help="steps to profile")
    args = parser.parse_args(argv)
    unknown = [w for w in args.only if w not in WORKLOADS]
    if unknown:
        parser.error(f"--only: unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    return args


def pin_threads(threads: int) -> tuple[dict[str, Any], Any]:
    """Fix the BLAS thread count. Returns what was done, and a threadpoolctl limiter to undo later (or None).

    Environment variables only work before numpy loads its BLAS, which `python -m demos.benchmark`
    guarantees. Called later (from a test, say), it falls back to threadpoolctl when installed.
    """
    if "numpy" not in sys.modules:
        for var in THREAD_VARIABLES:
            os.environ[var] = str(threads)
        if threads == 1 and "jax" not in sys.modules:
            os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
        return {"requested": threads, "how": f"{', '.join(THREAD_VARIABLES[:3])} set before numpy was imported"}, None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return {"requested": threads, "how": "not enforced: numpy came first and threadpoolctl is missing"}, None
    return {"requested": threads, "how": "threadpoolctl (numpy was already imported)"}, threadpool_limits(threads)


def profile(workload: str, steps: int) -> None:
    """cProfile `steps` of our engine's step in `workload`; print the top entries by own and cumulative time."""
    import cProfile
    import pstats

    from .bench.workloads import engine_step

    step = engine_step(workload)
    for _ in range(min(steps, 50)):  # warm-up
        step()
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    print(f"{workload}: {steps} steps of seedgrad under cProfile, {1e6 * (time.perf_counter() - start) / steps:.0f} "
          "µs per step (profiling slows it down)")  # fmt: skip
    stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs()
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(20)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    threads, limiter = pin_threads(args.threads)
    try:
        if args.profile:
            profile(args.profile, args.profile_steps)
            return {"profile": args.profile}
        return _run(args, threads, sys.argv[1:] if argv is None else list(argv))
    finally:
        if limiter is not None:
            limiter.restore_original_limits()


def _run(args: argparse.Namespace, threads: dict[str, Any], argv: list[str]) -> dict[str, Any]:
    from .bench import report  # numpy is imported from here on
    from .bench.workloads import Config, run

    make = Config.tiny if args.smoke else Config.quick_run if args.quick else Config.full
    workloads = tuple(w for w in WORKLOADS if w in args.only)  # always in WORKLOADS order
    config = make(threads=args.threads, workloads=workloads, engines=args.engines)
    threads["blas_libraries"] = report.blas_threads()
    machine = report.machine_info(threads)
    start = time.perf_counter()
    runner = run(config)
    runtime = time.perf_counter() - start

    print(report.header(machine, config, runner))
    print()
    print(report.table(runner.rows))
    found = report.notes(runner)
    if found:
        print()
        print("notes:")
        for note in found:
            print(f"- {note}")
    result = report.summary(runner.rows)
    print()
    print(f"targets met: {result['met']} of {result['targets']}; run took {runtime:.0f} s")
    for missed in result["missed"]:
        print(f"  missed: {missed}")
    doc = report.document(machine, config, runner, runtime, argv)
    if args.json:
        report.write_json(doc, args.json)
        print(f"JSON written to {args.json}")
    return doc


if __name__ == "__main__":
    sys.exit(1 if main().get("summary", {}).get("checks_failed") else 0)
