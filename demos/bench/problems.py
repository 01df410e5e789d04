"""The benchmark's problems (data and starting weights), shared by every row, and the honesty check.

Every row of a workload starts from the same arrays, so its loss and gradients can be compared
with the numpy floor's before it is timed. Weights are kept in the book's layout: W is
(in_features, out_features) and the forward pass is x @ W + b.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np


class Impl(NamedTuple):
    """One row's code: `check()` returns the values compared with the floor's, `step()` is what is timed."""

    check: Callable[[], dict[str, Any]]
    step: Callable[[], Any]


@dataclass
class NetProblem:
    """A fully connected net, its data and its training settings."""

    x: np.ndarray
    t: np.ndarray  # class indices (cross-entropy) or target values (mse)
    params: list[tuple[np.ndarray, np.ndarray]]  # [(W, b), ...], W is (in, out)
    activation: str  # "sigmoid" or "relu", between the layers
    loss: str  # "cross_entropy" (from logits) or "mse" (mean)
    lr: float
    output_sigmoid: bool = False  # seed 004's net squashes its output too

    @property
    def dtype(self) -> np.dtype:
        return self.x.dtype

    def copy_params(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(W.copy(), b.copy()) for W, b in self.params]

    def grad_keys(self) -> list[str]:
        return [f"{name}{i}" for i in range(1, len(self.params) + 1) for name in ("W", "b")]


@dataclass
class EpochProblem(NetProblem):
    """One pass over a training set, `batch` rows a step, in the order of x (shuffled once, outside the timing)."""

    optimizer: str = "sgd"  # "sgd" or "adam" (PyTorch's defaults besides lr)
    batch: int = 100
    check_steps: int | None = None  # steps the check trains before comparing parameters; None: the whole epoch

    @property
    def steps(self) -> int:
        return len(self.x) // self.batch

    def checked_batches(self, batches: list[Any]) -> list[Any]:
        """The batches a row's check trains on: the first `check_steps`, or all."""
        return batches if self.check_steps is None else batches[: self.check_steps]

    def batches(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each step's (images, labels): views into x and t, made once so no row pays for them while timed."""
        b = self.batch
        return [(self.x[i : i + b], self.t[i : i + b]) for i in range(0, self.steps * b, b)]


@dataclass
class ChainProblem:
    """A chain of `depth` elementwise ops on a small vector (see CHAIN_CYCLE), then sum and backward."""

    x: np.ndarray
    depth: int

    @property
    def dtype(self) -> np.dtype:
        return self.x.dtype


# The chain repeats these eight ops. Each half is the identity, (x*2 -> exp -> log -> *0.5) and
# (+1 -> exp -> log -> -1), so values stay in range and every gradient is 1 at any depth: no overflow,
# no denormals to slow one engine down, and the answer is known.
CHAIN_CYCLE = ("mul 2", "exp", "log", "mul 0.5", "add 1", "exp", "log", "sub 1")


def mnist_like(rng: np.random.Generator, batch: int, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """A batch shaped and scaled like normalised MNIST: 784 pixels in [0, 1], about 80% of them 0; labels 0-9."""
    pixels = rng.integers(1, 256, size=(batch, 784)) * (rng.random((batch, 784)) < 0.2)
    return (pixels / 255).astype(dtype), rng.integers(0, 10, size=batch)


def mnist_problem(dtype: Any = np.float64, batch: int = 100, seed: int = 0) -> NetProblem:
    """The seeds' two-layer net: 784-50-10, sigmoid, softmax cross-entropy, SGD lr 0.1, the book's 0.01 * randn init."""
    rng = np.random.default_rng(seed)
    x, t = mnist_like(rng, batch, dtype)
    params = [
        ((0.01 * rng.standard_normal((784, 50))).astype(dtype), np.zeros(50, dtype)),
        ((0.01 * rng.standard_normal((50, 10))).astype(dtype), np.zeros(10, dtype)),
    ]
    return NetProblem(x, t, params, "sigmoid", "cross_entropy", 0.1)


def mlp_large_problem(dtype: Any = np.float32, batch: int = 256, seed: int = 0) -> NetProblem:
    """784-1024-1024-10 ReLU net with He-initialised weights and small random biases."""
    rng = np.random.default_rng(seed)
    x, t = mnist_like(rng, batch, dtype)
    sizes = [784, 1024, 1024, 10]
    params = [
        (
            (rng.standard_normal((n_in, n_out)) * np.sqrt(2 / n_in)).astype(dtype),
            (0.01 * rng.standard_normal(n_out)).astype(dtype),
        )
        for n_in, n_out in itertools.pairwise(sizes)
    ]
    return NetProblem(x, t, params, "relu", "cross_entropy", 0.1)


# The epoch workload's nets: layer sizes, activation, optimiser and its lr.
EPOCH_NETS = {
    "two-layer": ((784, 50, 10), "sigmoid", "sgd", 0.1),  # the seeds' TwoLayerNet, SGD as in the book
    "mlp": ((784, 256, 128, 10), "relu", "adam", 1e-3),
}


def epoch_problem(images: np.ndarray, labels: np.ndarray, net: str, dtype: Any, steps: int, batch: int = 100,
                  seed: int = 0, check_steps: int | None = None) -> EpochProblem:  # fmt: skip
    """`steps` batches of the training set in one fixed shuffled order, cast to `dtype`, and starting weights:
    the book's 0.01 * randn for the two-layer net, He's for the ReLU MLP (biases 0 in both)."""
    sizes, activation, optimizer, lr = EPOCH_NETS[net]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))[: steps * batch]
    x, t = images[order].astype(dtype), labels[order].astype(np.int64)
    scale = (lambda n_in: 0.01) if net == "two-layer" else (lambda n_in: np.sqrt(2 / n_in))
    params = [
        ((scale(n_in) * rng.standard_normal((n_in, n_out))).astype(dtype), np.zeros(n_out, dtype))
        for n_in, n_out in itertools.pairwise(sizes)
    ]
    return EpochProblem(x, t, params, activation, "cross_entropy", lr, optimizer=optimizer, batch=batch,
                        check_steps=check_steps)  # fmt: skip


@dataclass
class CnnProblem:
    """LeNet (nn.models.lenet: conv 1->8 5x5, ReLU, max-pool 2, conv 8->16 5x5, ReLU, max-pool 2, 256-64-10) on one
    batch of images, trained with Adam; `params` maps PyTorch's state_dict names (weights as (out, in, ...))."""

    x: np.ndarray  # (N, 1, 28, 28)
    t: np.ndarray  # class indices
    params: dict[str, np.ndarray]
    lr: float = 1e-3

    @property
    def dtype(self) -> np.dtype:
        return self.x.dtype

    def copy_params(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self.params.items()}


# LeNet's parameters in order: name, shape, fan_in (PyTorch's init bound is 1 / sqrt(fan_in))
LENET_PARAMS = (("conv1.weight", (8, 1, 5, 5), 25), ("conv1.bias", (8,), 25), ("conv2.weight", (16, 8, 5, 5), 200),
                ("conv2.bias", (16,), 200), ("fc1.weight", (64, 256), 256), ("fc1.bias", (64,), 256),
                ("fc2.weight", (10, 64), 64), ("fc2.bias", (10,), 64))  # fmt: skip


def cnn_problem(batch: int = 64, seed: int = 0, dtype: Any = np.float32) -> CnnProblem:
    """A batch of MNIST-like 1x28x28 images and LeNet's starting weights, drawn as PyTorch initialises them."""
    rng = np.random.default_rng(seed)
    x, t = mnist_like(rng, batch, dtype)
    params = {name: rng.uniform(-1, 1, shape).astype(dtype) / np.sqrt(fan_in, dtype=dtype)
              for name, shape, fan_in in LENET_PARAMS}  # fmt: skip
    return CnnProblem(x.reshape(batch, 1, 28, 28), t, params)


def im2col_bytes(p: CnnProblem) -> int:
    """The size of the step's largest im2col matrix: (N, C * kh * kw, OH * OW) for either convolution."""
    n = len(p.x)
    conv1 = n * 1 * 25 * 24 * 24  # 1x28x28 -> 24x24 windows of 1x5x5
    conv2 = n * 8 * 25 * 8 * 8  # 8x12x12 -> 8x8 windows of 8x5x5
    return max(conv1, conv2) * p.x.itemsize


def xor_problem(seed: int = 0) -> NetProblem:
    """Seed 004's 2-2-1 sigmoid net on one of its four points (one sample per step), MSE, SGD lr 0.1."""
    rng = np.random.default_rng(seed)
    x = np.array([[-2.0, -1.0]])  # the seed's first point, already shifted to lie around zero
    t = np.array([[1.0]])
    params = [
        (rng.standard_normal((2, 2)), rng.standard_normal(2)),
        (rng.standard_normal((2, 1)), rng.standard_normal(1)),
    ]
    return NetProblem(x, t, params, "sigmoid", "mse", 0.1, output_sigmoid=True)


def chain_problem(depth: int, seed: int = 0) -> ChainProblem:
    if depth % len(CHAIN_CYCLE):
        raise ValueError(f"chain depth must be a multiple of {len(CHAIN_CYCLE)}, got {depth}")
    return ChainProblem(np.random.default_rng(seed).uniform(-1, 1, 10), depth)


# ------------------------------------------------------------------ the check


def tolerance(dtype: Any) -> float:
    """Largest error allowed, relative to the largest magnitude of the floor's array."""
    return 1e-4 if np.dtype(dtype) == np.float32 else 1e-8


@dataclass
class CheckResult:
    passed: bool
    max_error: float  # the worst error over all compared arrays, relative to each array's largest magnitude
    tolerance: float
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "max_rel_error": self.max_error, "tolerance": self.tolerance,
                "detail": self.detail}  # fmt: skip


def compare(reference: dict[str, Any], got: dict[str, Any], tol: float) -> CheckResult:
    """Every array of the floor's against the row's: |got - ref| <= tol * max|ref| (+ a tiny absolute floor)."""
    worst = 0.0
    for key, ref in reference.items():
        if key not in got:
            return CheckResult(False, float("inf"), tol, f"{key}: not returned")
        r = np.asarray(ref, dtype=np.float64)
        g = np.asarray(got[key], dtype=np.float64)
        if g.shape != r.shape:
            return CheckResult(False, float("inf"), tol, f"{key}: shape {g.shape}, floor's {r.shape}")
        scale = max(float(np.abs(r).max(initial=0.0)), 1e-12)
        error = float(np.abs(g - r).max(initial=0.0)) / scale
        if not error <= tol:  # also catches NaN
            return CheckResult(False, error, tol, f"{key}: error {error:.2e} of its largest value, allowed {tol:.0e}")
        worst = max(worst, error)
    return CheckResult(True, worst, tol, f"{', '.join(reference)} match the floor (worst {worst:.1e})")
