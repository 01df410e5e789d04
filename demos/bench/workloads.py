"""The benchmark's workloads, each a set of rows: the numpy floor, other references, our engine, the peers.

Every row is first checked against the floor on the same data (a row that fails is reported,
not timed); then the rows of a workload are timed together, and each gets its ratio to the
floor of the same run and, for our engine's rows, the target ratio it should meet.
"""

from __future__ import annotations

import functools
import gc
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from . import numpy_ref as ref
from . import seedgrad_rows as ours
from .problems import (
    CheckResult,
    Impl,
    chain_problem,
    cnn_problem,
    compare,
    epoch_problem,
    im2col_bytes,
    mlp_large_problem,
    mnist_like,
    mnist_problem,
    xor_problem,
)
from .runner import WORKLOADS, Candidate, Config, Row, Runner, judge
from .timing import Stats, resident_bytes, traced_peak

__all__ = ["WORKLOADS", "WORKLOAD_FUNCTIONS", "Config", "engine_step", "run"]
MB = 1_000_000


def mnist_step(r: Runner) -> None:
    for dtype in (np.float64, np.float32):
        p = mnist_problem(dtype)
        candidates = [
            Candidate("numpy layer classes", "reference", ref.layer_classes, note="the book's ch. 5 layers"),
            Candidate("seedgrad nn.Sequential", "engine", ours.sequential, 1.15),
            Candidate("seedgrad compiled", "engine", ours.sequential_compiled, 1.0 if dtype == np.float64 else None,
                      note="nn.Sequential's step through autograd.compile"),
        ]
        if dtype == np.float64:  # TwoLayerNet is float64, as the seeds' net
            candidates.append(Candidate("seedgrad TwoLayerNet", "engine", ours.two_layer_net, 1.15))
        candidates += r.peer_candidates("net")
        r.timed(f"mnist-step {np.dtype(dtype).name}", p, Candidate("numpy minimal", "floor", ref.two_layer_minimal),
                candidates, r.config.rounds)  # fmt: skip


def xor_step(r: Runner) -> None:
    p = xor_problem()
    candidates = [
        Candidate("numpy layer classes", "reference", ref.layer_classes),
        Candidate("seedgrad Net221", "engine", ours.net221, 2.0, note="nn.models.Net221, seed 004's net"),
        Candidate("seedgrad nn.Sequential", "engine", ours.sequential, 2.0),
        Candidate("seedgrad compiled", "engine", ours.net221_compiled, 1.0,
                  note="Net221's step through autograd.compile"),
        *r.peer_candidates("net"),
    ]
    r.timed("xor-step", p, Candidate("numpy minimal", "floor", ref.xor_minimal), candidates, r.config.rounds)


def op_overhead(r: Runner) -> None:
    p = chain_problem(1000)
    candidates = [Candidate("seedgrad", "engine", ours.chain, 2.5),
                  Candidate("seedgrad compiled", "engine", ours.chain_compiled, 1.3, note="through autograd.compile"),
                  *r.peer_candidates("chain")]  # fmt: skip
    rows = r.timed("op-overhead (per op)", p, Candidate("bare numpy", "floor", ref.chain_minimal), candidates,
                   r.config.rounds, per=p.depth)  # fmt: skip
    rows[0].note = "the same forward and backward arithmetic, no graph"


def deep_chain(r: Runner) -> None:
    """The chain at two depths: time and traced peak memory against numpy's, then their growth per op."""
    compared, other = r.config.chain_depths  # `compared` gets a target ratio to the numpy chain
    rounds = dict(zip((compared, other), r.config.chain_rounds))
    per_op: dict[str, dict[int, float]] = {}
    for depth in sorted((compared, other)):
        p = chain_problem(depth)
        label = f"deep-chain {label_of(depth)}"
        candidates = [Candidate("seedgrad", "engine", ours.chain, 5.0 if depth == compared else None)]
        if depth == compared and r.config.peers_in_deep_chain:
            candidates += r.peer_candidates("chain", lambda peer: peer.deep)
        rows = r.timed(label, p, Candidate("numpy chain", "floor", ref.chain_minimal), candidates, rounds[depth],
                       warmup=1 if depth == min(compared, other) else 0)  # fmt: skip
        memory_rows = []
        for row in rows:  # numpy and ours: tracemalloc sees all of their memory
            if row.stats is None or row.engine not in ("numpy chain", "seedgrad"):
                continue
            build = ref.chain_minimal if row.kind == "floor" else ours.chain
            peak = traced_peak(lambda build=build, p=p: build(p).step, warm=False)
            memory_rows.append(Row(f"{label} peak memory", row.engine, row.kind, "B", row.check, Stats.of([peak])))
            per_op.setdefault(f"{row.engine} time", {})[depth] = row.stats.median / depth
            per_op.setdefault(f"{row.engine} memory", {})[depth] = peak / depth
        for row in memory_rows:
            row.ratio = row.stats.median / memory_rows[0].stats.median
        r.rows.extend(memory_rows)

    small, large = sorted((compared, other))
    label = f"deep-chain growth per op, {label_of(small)} to {label_of(large)}"
    for what, figures in per_op.items():
        if len(figures) < 2:
            continue
        growth = figures[large] / figures[small]
        row = Row(label, what, "floor" if what.startswith("numpy") else "engine", "x",
                  CheckResult(True, 0.0, 0.0, "see the chains"), Stats.of([growth]))  # fmt: skip
        if row.kind == "engine":
            row.target = "≤ 1.3 (linear in depth)"
            judge(row, growth <= 1.3, f"{growth:.2f}x per op")
        r.rows.append(row)
    if r.config.quick:
        r.notes.append(
            f"{r.config.mode}: deep-chain goes to {label_of(large)} ops (the full run: 10^6) and leaves the peers out; "
            f"linearity is checked from {small:,} to {large:,} ops"
        )


def label_of(depth: int) -> str:
    return f"10^{round(math.log10(depth))}" if math.log10(depth).is_integer() else f"{depth:,}"


def mlp_large(r: Runner) -> None:
    p = mlp_large_problem()
    candidates = [
        Candidate("numpy layer classes", "reference", ref.layer_classes),
        Candidate("seedgrad nn.Sequential", "engine", ours.sequential, 1.05),
        Candidate("seedgrad compiled", "engine", ours.sequential_compiled, 1.0, note="through autograd.compile"),
        *r.peer_candidates("net"),
    ]
    r.timed("mlp-large float32", p, Candidate("numpy minimal", "floor", ref.mlp_minimal), candidates,
            r.config.big_rounds, warmup=2)  # fmt: skip


CNN_TARGET = 2.0  # our LeNet step's time, at most this times PyTorch's (the target)
CNN_MEMORY_TARGET = 6.0  # our step's traced peak, at most this times the step's largest im2col matrix


def cnn_step(r: Runner) -> None:
    """One LeNet training step (forward, cross-entropy, backward, Adam) on 64 1x28x28 float32 images, against a
    hand-written numpy floor and PyTorch; then our step's traced peak memory against its largest im2col matrix."""
    p = cnn_problem()
    candidates = [Candidate("seedgrad nn.models.lenet", "engine", ours.cnn_lenet, note="nn.optim.Adam"),
                  *r.peer_candidates("cnn")]  # fmt: skip
    floor = Candidate("numpy im2col", "floor", ref.lenet_minimal, note="sliding_window_view + tensordot, by hand")
    rows = r.timed("cnn-step float32", p, floor, candidates, r.config.big_rounds, warmup=3)
    _against_pytorch(rows, CNN_TARGET)
    if not any(peer.name == "PyTorch" for peer, _, _ in r.peers):
        r.notes.append(f"cnn-step: PyTorch is not installed here, so the target (≤ {CNN_TARGET:g}x PyTorch) is not "
                       "judged; every row is checked against the numpy floor")  # fmt: skip

    ours_row = next((row for row in rows if row.kind == "engine"), None)
    if ours_row is None or ours_row.stats is None:
        return
    cols = im2col_bytes(p)
    peak = _in_new_thread(lambda: traced_peak(lambda: ours.cnn_lenet(p).step))
    row = Row("memory: cnn-step peak", ours_row.engine, "engine", "B", CheckResult(True, 0.0, 0.0, "see cnn-step"),
              Stats.of([peak]), note=f"largest im2col matrix (conv1's): {cols / MB:.2f} MB")  # fmt: skip
    row.target = f"≤ {CNN_MEMORY_TARGET:g}x the largest im2col"
    row.achieved = f"{peak / cols:.1f}x the largest im2col"
    judge(row, peak <= CNN_MEMORY_TARGET * cols, f"{peak / cols:.1f}x the largest im2col")
    r.rows.append(row)
    r.notes.append(
        "cnn-step: each row's first step is checked against the floor's (loss, every gradient, every parameter after "
        "Adam's step); the memory row is tracemalloc's peak during one step after a warm-up step, counting the model, "
        "Adam's state and the convolutions' pooled work buffers, as a multiple of the step's largest im2col matrix "
        "(conv1's: 64 x 25 x 576 float32)"
    )


def _in_new_thread(measure: Callable[[], int]) -> int:
    """`measure()` run in a thread of its own: the convolutions keep work buffers per thread, so there they are
    made afresh, under tracemalloc, and counted (the timed steps made this thread's before tracing started)."""
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(measure()))
    thread.start()
    thread.join()
    if not result:
        raise RuntimeError("cnn-step: the memory measurement failed in its thread (see the traceback above)")
    return result[0]


def inference(r: Runner) -> None:
    p = mnist_problem(np.float64)
    candidates = [
        Candidate("seedgrad TwoLayerNet", "engine", ours.inference_two_layer_net, 1.10, note="under no_grad"),
        Candidate("seedgrad nn.Sequential", "engine", ours.inference_sequential, 1.10, note="under no_grad"),
        *r.peer_candidates("inference"),
    ]
    r.timed("inference float64", p, Candidate("numpy forward", "floor", ref.forward_minimal), candidates,
            r.config.rounds)  # fmt: skip


def numerical_gradient(r: Runner) -> None:
    """One step of the seeds' numerical method against one backprop step (forward, backward, update)."""
    p = mnist_problem(np.float64)
    label = "numerical-gradient"
    steps = r.timed(label, p, Candidate("numpy backprop step", "floor", ref.two_layer_minimal),
                    [Candidate("seedgrad backprop step", "engine", ours.two_layer_net, note="TwoLayerNet")],
                    max(5, r.config.rounds // 4))  # fmt: skip
    floor_s = steps[0].stats.median
    ours_s = next((row.stats.median for row in steps if row.kind == "engine" and row.stats), None)
    fraction = r.config.numerical_fraction
    shapes = [a.shape for pair in p.params for a in pair]
    indices = [_chosen(shape, fraction) for shape in shapes]
    total = sum(math.prod(s) for s in shapes)
    chosen = sum(len(i) for i in indices)
    analytic = ref.two_layer_minimal(p).check()
    keys = ("W1", "b1", "W2", "b2")

    def numpy_numerical() -> dict[str, np.ndarray]:
        params = p.copy_params()
        arrays = [a for pair in params for a in pair]
        return dict(zip(keys, ref.numerical_gradient(ref.two_layer_loss(p, params), arrays, indices)))

    runs = [
        ("numpy numerical gradient", "reference", numpy_numerical, "the seeds' method"),
        ("seedgrad TwoLayerNet.numerical_gradient", "engine",
         ours.numerical_two_layer_net(p, None if fraction is None else indices).step, "under no_grad"),
    ]  # fmt: skip
    for engine, kind, run, note in runs:
        if not r.config.wants(engine):
            continue
        start = time.perf_counter()
        grads = run()
        seconds = (time.perf_counter() - start) * total / chosen
        masks = {k: np.zeros(math.prod(s), bool) for k, s in zip(keys, shapes)}
        for k, idx, s in zip(keys, indices, shapes):
            masks[k][[np.ravel_multi_index(i, s) for i in idx]] = True
        expected = {k: analytic[k].ravel()[masks[k]] for k in keys}
        got = {k: np.asarray(grads[k]).ravel()[masks[k]] for k in keys}
        check = compare(expected, got, 1e-5)
        if fraction is not None:
            note += f"; {chosen:,} of {total:,} parameters timed, extrapolated"
        if not check.passed:  # reported as failed, without a figure
            r.rows.append(Row(label, engine, kind, "s", check, note=note))
            continue
        row = Row(label, engine, kind, "s", check, Stats.of([seconds]), seconds / floor_s, note=note)
        if ours_s:
            speedup = seconds / ours_s
            row.target = "backprop ≥ 10^4x faster"
            row.note += f"; seedgrad's backprop step is {speedup:,.0f}x faster"
            judge(row, speedup >= 1e4, f"only {speedup:,.0f}x")
            row.achieved = f"{speedup:,.0f}x"
        r.rows.append(row)
    if fraction is not None:
        r.notes.append(
            f"{r.config.mode}: the numerical gradient is timed on {chosen:,} of the {total:,} parameters "
            f"({100 * chosen / total:.1f}%, spread over W1, b1, W2, b2) and extrapolated to all"
        )


def _chosen(shape: tuple[int, ...], fraction: float | None) -> list[tuple[int, ...]]:
    size = math.prod(shape)
    if fraction is None:
        return list(np.ndindex(shape))
    k = max(1, math.ceil(size * fraction))
    flat = np.unique(np.linspace(0, size - 1, k).round().astype(int))
    return [tuple(int(v) for v in np.unravel_index(i, shape)) for i in flat]


def memory(r: Runner) -> None:
    traced = lambda peer: peer.name in ("DeZero", "MyGrad")  # noqa: E731  (numpy-based: tracemalloc sees them)
    for label, p, floor, candidates in (
        ("memory: mnist-step peak", mnist_problem(np.float64), ref.two_layer_minimal, [
            Candidate("numpy layer classes", "reference", ref.layer_classes),
            Candidate("seedgrad nn.Sequential", "engine", ours.sequential, 1.5),
            Candidate("seedgrad TwoLayerNet", "engine", ours.two_layer_net, 1.5),
        ]),
        ("memory: mlp-large peak", mlp_large_problem(), ref.mlp_minimal, [
            Candidate("numpy layer classes", "reference", ref.layer_classes),
            Candidate("seedgrad nn.Sequential", "engine", ours.sequential),
        ]),
    ):  # fmt: skip
        floor_candidate = Candidate("numpy minimal", "floor", floor)
        candidates += r.peer_candidates("net", traced)
        rows, impls = r.checked(label, p, floor_candidate, candidates, unit="B")
        builds = {c.engine: c.build for c in [floor_candidate, *candidates] if c.engine in impls}
        del impls
        stats = {}
        for engine, build in builds.items():
            peaks = [traced_peak(lambda build=build, p=p: build(p).step) for _ in range(r.config.memory_rounds)]
            stats[engine] = Stats.of(peaks)
        r.finish(rows, stats, {c.engine: c.target for c in candidates})
    r.notes.append("memory: a peak is tracemalloc's (numpy arrays and Python objects) during one step after a warm-up "
                   "step, counting what the row holds (parameters, gradients kept between steps, optimiser state) but "
                   "not the data; PyTorch and JAX allocate outside its view, so they have no memory rows")  # fmt: skip

    # Resident memory after many steps against after a few: a leak shows as growth.
    first, last = r.config.rss_steps
    p = mnist_problem(np.float64)
    for engine, kind, build in (("numpy minimal", "floor", ref.two_layer_minimal),
                                ("seedgrad nn.Sequential", "engine", ours.sequential)):  # fmt: skip
        impl = build(p)
        for _ in range(first):
            impl.step()
        gc.collect()
        before, what = resident_bytes()
        for _ in range(last - first):
            impl.step()
        gc.collect()
        after, _ = resident_bytes()
        row = Row(f"memory: {what} growth, {first:,} to {last:,} mnist steps", engine, kind, "B",
                  CheckResult(True, 0.0, 0.0, "see mnist-step"), Stats.of([after - before]))  # fmt: skip
        if kind == "engine":
            row.target = "≤ 1 MB"
            judge(row, after - before <= MB, f"{(after - before) / MB:.1f} MB")
        r.rows.append(row)
    if last < 10_000:
        r.notes.append(f"{r.config.mode}: resident memory is compared after {first:,} and {last:,} mnist steps "
                       "(the full run: 100 and 10,000)")  # fmt: skip


EPOCH_STEPS = 600  # 60,000 training images, 100 a step
# float32 rows are checked after this many steps: later, Adam's per-element step (lr * m / sqrt(v)) turns round-off
# in near-zero gradients into differences of order lr, and each engine's float32 run drifts from the others'
# (measured against the floor after 100 and 600 steps: seedgrad 7e-2 and 0.1, PyTorch 4e-5 and 0.4).
FLOAT32_CHECK_STEPS = 50


@functools.cache
def fashion_mnist_train() -> tuple[np.ndarray, np.ndarray] | str:
    """Fashion-MNIST's training images (float32 in [0, 1], flat) and labels, from the cache or the system copy
    (never downloaded by the benchmark); or why they are missing."""
    from nn.datasets import DatasetNotFoundError, load_fashion_mnist

    reasons = []
    for source in ("cache", "system"):
        try:
            (x, t), _ = load_fashion_mnist(source=source, verbose=False)
            return x, t
        except DatasetNotFoundError as err:
            reasons.append(f"{source}: {str(err).splitlines()[0]}")
    return "; ".join(reasons)


def epoch(r: Runner) -> None:
    """One pass over Fashion-MNIST's training set, batches of 100 in one fixed shuffled order, per net and dtype.

    The data is loaded, shuffled and cut into batches before anything is timed. Each row's check
    trains one epoch from the shared starting weights and compares the parameters with the
    floor's; the timed epochs continue from there. Our rows' target: PyTorch's time or less.
    """
    data = fashion_mnist_train()
    if isinstance(data, str):
        r.notes.append(f"epoch: skipped, Fashion-MNIST is not installed here ({data}); "
                       "nn.datasets.load_fashion_mnist() downloads it into the cache")  # fmt: skip
        return
    images, labels = data
    steps = min(r.config.epoch_steps, len(images) // 100)
    for net, title in (("two-layer", "784-50-10 sigmoid SGD"), ("mlp", "784-256-128-10 ReLU Adam")):
        for dtype in (np.float64, np.float32):
            name = np.dtype(dtype).name
            check_steps = FLOAT32_CHECK_STEPS if dtype == np.float32 else None
            p = epoch_problem(images, labels, net, dtype, steps, check_steps=check_steps)
            candidates = [Candidate("seedgrad nn.Sequential", "engine", ours.epoch_sequential)]
            if net == "two-layer" and dtype == np.float64:  # TwoLayerNet is float64, as the seeds' net
                candidates.append(Candidate("seedgrad TwoLayerNet", "engine", ours.epoch_two_layer_net))
            candidates += r.peer_candidates("epoch")
            rows = r.timed(f"epoch {title} {name}", p, Candidate("numpy minimal", "floor", ref.epoch_minimal),
                           candidates, r.config.epoch_rounds, warmup=0, per=steps / EPOCH_STEPS)  # fmt: skip
            _against_pytorch(rows)
            del p, rows
    if not any(peer.name == "PyTorch" for peer, _, _ in r.peers):
        r.notes.append("epoch: PyTorch is not installed here, so the epoch rows' target (≤ PyTorch) is not judged")
    r.notes.append(f"epoch: seconds per pass over the 60,000 training images (data loaded and batched beforehand); "
                   f"each row first trains from the same weights and its parameters are checked against the floor's, "
                   f"after the whole epoch in float64 and after {FLOAT32_CHECK_STEPS} steps in float32 (later, "
                   "float32 round-off grows under Adam's per-element steps)")  # fmt: skip
    if steps < EPOCH_STEPS:
        r.notes.append(f"{r.config.mode}: epochs are timed on {steps} of their {EPOCH_STEPS} steps and scaled up")


def _against_pytorch(rows: list[Row], factor: float = 1.0) -> None:
    """Judge our rows by their time against `factor` times PyTorch's row of the same workload (when it ran)."""
    torch_row = next((row for row in rows if row.engine == "PyTorch" and row.stats), None)
    for row in rows:
        if row.kind != "engine":
            continue
        row.target = "≤ PyTorch" if factor == 1 else f"≤ {factor:g}x PyTorch"
        if row.stats is None or torch_row is None or torch_row.stats is None:
            continue
        ratio = row.stats.median / torch_row.stats.median
        row.achieved = f"{ratio:.2f}x PyTorch"
        judge(row, ratio <= factor, f"{ratio:.2f}x PyTorch")


def compile_time(r: Runner) -> None:
    """How long a compiled step's first call takes: it runs the step eagerly while tracing it, then writes and
    compiles the program. The seeds' MNIST step (784-50-10, batch 100, SGD) and a 10,000-op chain."""
    if not r.config.wants("seedgrad compiled"):
        return
    rounds = {"full": 15, "quick": 5}.get(r.config.mode, 1)
    depth = 10_000 if r.config.mode != "smoke" else 400
    cases = [("compile-time: MNIST step, first call", mnist_problem(), ours.sequential_compiled, 0.050, "50 ms"),
             (f"compile-time: {depth:,}-op chain, first call", chain_problem(depth), ours.chain_compiled, 2.0, "2 s")]
    for label, problem, build, limit, limit_text in cases:
        times = []
        for _ in range(rounds):
            step = build(problem).step  # a new model, optimiser and compiled step: the first call traces
            gc.collect()
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        row = Row(label, "seedgrad compiled", "engine", "s",
                  CheckResult(True, 0.0, 0.0, "its replays are checked in mnist-step and op-overhead"),
                  Stats.of(times), note="trace and code generation, one eager step included")  # fmt: skip
        row.target = f"≤ {limit_text}"
        judge(row, row.stats.median <= limit, f"{row.stats.median / limit - 1:.0%} over")
        r.rows.append(row)


WORKLOAD_FUNCTIONS: dict[str, Callable[[Runner], None]] = {
    "mnist-step": mnist_step,
    "xor-step": xor_step,
    "op-overhead": op_overhead,
    "deep-chain": deep_chain,
    "mlp-large": mlp_large,
    "cnn-step": cnn_step,
    "inference": inference,
    "numerical-gradient": numerical_gradient,
    "memory": memory,
    "epoch": epoch,
    "compile-time": compile_time,
}


def engine_step(workload: str) -> Callable[[], Any]:
    """Our engine's step in a workload, for profiling (`--profile`)."""
    builds: dict[str, Callable[[], Impl]] = {
        "mnist-step": lambda: ours.sequential(mnist_problem(np.float64)),
        "mnist-step-float32": lambda: ours.sequential(mnist_problem(np.float32)),
        "xor-step": lambda: ours.net221(xor_problem()),
        "op-overhead": lambda: ours.chain(chain_problem(1000)),
        "mlp-large": lambda: ours.sequential(mlp_large_problem()),
        "cnn-step": lambda: ours.cnn_lenet(cnn_problem()),
        "inference": lambda: ours.inference_two_layer_net(mnist_problem(np.float64)),
        "adam-mlp": lambda: ours.epoch_sequential(_adam_mlp_batch()),
    }
    if workload not in builds:
        raise ValueError(f"--profile takes one of {', '.join(builds)}, got {workload!r}")
    return builds[workload]().step


def _adam_mlp_batch() -> Any:
    """The epoch workload's Adam MLP on one synthetic float32 batch: one profiled call is one training step."""
    x, t = mnist_like(np.random.default_rng(0), 100, np.float32)
    return epoch_problem(x, t, "mlp", np.float32, 1)


def run(config: Config) -> Runner:
    runner = Runner(config)
    runner.run(WORKLOAD_FUNCTIONS)
    return runner
