"""nn.optim's in-place steps against PyTorch's documented update rules, written here with plain numpy temporaries.

The optimisers compute each step with ufuncs into scratch arrays; these tests run the same rules
the obvious way (one new array per operation, in the order of PyTorch's pseudocode) beside them,
for many steps and every option combination, in float64 and float32, and require the same bits.
They also check what the rewrite must keep: versions, dtypes, per-group settings, skipped
parameters, state dicts without the scratch arrays, and no parameter-sized allocation per step.
"""

from __future__ import annotations

import itertools
import math
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import autograd as ag
import nn
import nn.optim as optim
from nn.optim.optimizer import BLOCK
from nn.optim.sgd import WHOLE

DTYPES = (np.float64, np.float32)
SHAPES = ((3, 4), (5,), (257, 259))  # per group; the last is updated in blocks (over WHOLE elements, a partial last)
STEPS = 60  # with beta1 = 0.5, 1 - beta1**t rounds to 1 from step 26 (float32) and 54 (float64)


class ReferenceSGD:
    """torch.optim.SGD's documented algorithm (maximize=False), one parameter:
    g += wd * p; b = g (first step) or mu * b + (1 - tau) * g; g = g + mu * b (nesterov) or b; p -= lr * g."""

    def __init__(self, lr: float, momentum: float, dampening: float, weight_decay: float, nesterov: bool):
        self.lr, self.momentum, self.dampening = lr, momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, nesterov
        self.buf: np.ndarray | None = None

    def step(self, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            if self.buf is None:
                self.buf = g.copy()
            else:
                self.buf = self.momentum * self.buf + (1 - self.dampening) * g
            g = g + self.momentum * self.buf if self.nesterov else self.buf
        return p - self.lr * g


class ReferenceAdam:
    """torch.optim.Adam's documented algorithm (amsgrad=False), one parameter; with `decoupled`, AdamW's
    (p *= 1 - lr * wd first, as PyTorch's implementation writes p - lr * wd * p):
    g += wd * p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps), which PyTorch's implementation computes
    with the corrections folded into scalars: p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)."""

    def __init__(self, lr: float, betas: tuple[float, float], eps: float, weight_decay: float, decoupled: bool):
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.weight_decay, self.decoupled = weight_decay, decoupled
        self.t = 0
        self.m: Any = 0.0
        self.v: Any = 0.0

    def step(self, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        if self.t == 0:
            self.m, self.v = np.zeros_like(p), np.zeros_like(p)
        self.t += 1
        if self.weight_decay:
            if self.decoupled:
                p = p * (1 - self.lr * self.weight_decay)
            else:
                g = g + self.weight_decay * p
        self.m = self.beta1 * self.m + (1 - self.beta1) * g
        self.v = self.beta2 * self.v + (1 - self.beta2) * (g * g)
        step_size = self.lr / (1 - self.beta1**self.t)
        denominator = np.sqrt(self.v) / math.sqrt(1 - self.beta2**self.t) + self.eps
        return p - step_size * (self.m / denominator)


def sgd_settings() -> Iterator[dict[str, Any]]:
    for momentum, dampening, weight_decay, nesterov in itertools.product(
        (0.0, 0.9), (0.0, 0.3), (0.0, 0.01), (False, True)
    ):
        if nesterov and (momentum == 0 or dampening != 0):
            continue  # refused by SGD, as by PyTorch
        yield dict(lr=0.05, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)


def adam_settings() -> Iterator[dict[str, Any]]:
    for betas, eps, weight_decay in itertools.product(((0.9, 0.999), (0.5, 0.8)), (1e-8, 1e-3), (0.0, 0.05)):
        yield dict(lr=0.01, betas=betas, eps=eps, weight_decay=weight_decay)


def reference_for(kind: str, settings: dict[str, Any]) -> Callable[[], Any]:
    if kind == "SGD":
        return lambda: ReferenceSGD(**settings)
    return lambda: ReferenceAdam(**settings, decoupled=kind == "AdamW")


CASES = [("SGD", s) for s in sgd_settings()] + [(k, s) for k in ("Adam", "AdamW") for s in adam_settings()]


def case_id(case: tuple[str, dict[str, Any]]) -> str:
    kind, settings = case
    return kind + "-" + "-".join(f"{k}={v}" for k, v in settings.items() if k != "lr")


def other_group(kind: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Settings for a second param group that differ from the first's (lr and weight decay, and momentum)."""
    changed = dict(settings, lr=settings["lr"] * 3, weight_decay=0.02 if not settings["weight_decay"] else 0.0)
    if kind == "SGD" and settings["momentum"] and not settings["nesterov"]:
        changed["momentum"] = 0.5
    return changed


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_in_place_steps_give_the_documented_rules_values_bit_for_bit(case: Any, dtype: type) -> None:
    kind, settings = case
    rng = np.random.default_rng(len(case_id(case)))
    groups_settings = [settings, other_group(kind, settings)]
    params = [[nn.Parameter(rng.standard_normal(shape).astype(dtype)) for shape in SHAPES] for _ in groups_settings]
    expected = [[p.data.copy() for p in group] for group in params]
    references = [[reference_for(kind, s)() for _ in SHAPES] for s in groups_settings]
    opt = getattr(optim, kind)([{"params": group, **s} for group, s in zip(params, groups_settings)])
    for step in range(STEPS):
        grads = []
        for g, group in enumerate(params):
            for i, p in enumerate(group):
                skipped = (step + g + i) % 7 == 3  # now and then a parameter has no gradient: it is left alone
                grad = None if skipped else (rng.standard_normal(p.shape) * 10.0 ** rng.integers(-4, 2)).astype(dtype)
                p.grad = None if grad is None else ag.tensor(grad)
                grads.append(grad)
                if grad is not None:
                    expected[g][i] = references[g][i].step(expected[g][i], grad)
        versions = [p._version for group in params for p in group]
        opt.step()
        flat = [p for group in params for p in group]
        for p, grad, before in zip(flat, grads, versions):
            assert p._version == before + (grad is not None)  # one bump per updated parameter
            if grad is not None:
                np.testing.assert_array_equal(p.grad.data, grad)  # the gradient is never written
        for group, wanted in zip(params, expected):
            for p, e in zip(group, wanted):
                assert p.dtype == dtype
                np.testing.assert_array_equal(p.data, e, err_msg=f"{kind} step {step + 1}")
    assert list(opt._block_scratch) == [np.dtype(dtype)]  # the large parameter went block by block
    for p, reference in zip((p for group in params for p in group), (r for refs in references for r in refs)):
        state = opt.state[p]
        assert all(a.dtype == dtype for a in state.values() if isinstance(a, np.ndarray))
        if kind == "SGD" and reference.buf is not None:
            np.testing.assert_array_equal(state["momentum_buffer"], reference.buf)
        if kind != "SGD":
            assert state["step"] == reference.t
            np.testing.assert_array_equal(state["exp_avg"], reference.m)
            np.testing.assert_array_equal(state["exp_avg_sq"], reference.v)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.01),
        lambda ps: optim.Adam(ps, lr=1e-3, weight_decay=0.01),
        lambda ps: optim.AdamW(ps, lr=1e-3),
    ],
    ids=["sgd-nesterov", "sgd-dampening", "adam", "adamw"],
)
def test_a_state_dict_round_trip_continues_bit_for_bit_and_holds_no_scratch(make: Callable) -> None:
    rng = np.random.default_rng(1)
    start = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(12)]

    def run(resume_at: int | None) -> list[np.ndarray]:
        params = [nn.Parameter(a.copy()) for a in start]
        opt = make(params)
        for k, step_grads in enumerate(grads):
            if k == resume_at:
                saved = opt.state_dict()
                assert set(saved) == {*opt.defaults, *(f"{i}.{n}" for i in range(len(SHAPES)) for n in opt.state[i])}
                opt = make(params)  # a fresh optimiser: no scratch arrays, state only from the dict
                opt.load_state_dict(saved)
            for p, g in zip(params, step_grads):
                p.grad = ag.tensor(g)
            opt.step()
        return [p.data for p in params]

    for a, b in zip(run(None), run(5)):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=0.1),
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
        lambda ps: optim.Adam(ps, lr=1e-3, weight_decay=0.01),
        lambda ps: optim.AdamW(ps, lr=1e-3),
    ],
    ids=["sgd", "sgd-nesterov-decay", "adam-decay", "adamw"],
)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_a_step_allocates_nothing_parameter_sized_after_the_first(make: Callable, dtype: type) -> None:
    w = nn.Parameter(np.ones((256, 128), dtype=dtype))  # 128 kB in float32
    opt = make([w])
    w.grad = ag.tensor(np.full(w.shape, 0.5, dtype=dtype))
    opt.step()  # makes the state and the scratch arrays
    tracemalloc.start()
    try:
        opt.step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < w.data.nbytes // 8, f"a step allocated {peak} bytes; the parameter has {w.data.nbytes}"
    assert w.dtype == dtype


@pytest.mark.parametrize("kind", ["SGD", "Adam", "AdamW"])
def test_large_parameters_in_unusual_layouts_are_updated_whole(kind: str) -> None:
    assert 300 * 250 > WHOLE > BLOCK
    rng = np.random.default_rng(2)
    settings = next(sgd_settings() if kind == "SGD" else adam_settings())
    settings = dict(settings, weight_decay=0.01, **({"momentum": 0.9, "nesterov": True} if kind == "SGD" else {}))
    w = nn.Parameter(np.asfortranarray(rng.standard_normal((300, 250))))
    expected = w.data.copy()
    reference = reference_for(kind, settings)()
    opt = getattr(optim, kind)([w], **settings)
    for _ in range(5):
        grad = np.asfortranarray(rng.standard_normal(w.shape))
        w.grad = ag.tensor(grad)
        expected = reference.step(expected, grad)
        opt.step()
        np.testing.assert_array_equal(w.data, expected)


def test_replacing_a_parameters_array_gets_it_fresh_scratch() -> None:
    w = nn.Parameter(np.ones(3))
    opt = optim.SGD([w], lr=0.5, weight_decay=0.1)
    w.grad = ag.tensor(np.ones(3))
    opt.step()  # 1 - 0.5 * (1 + 0.1) = 0.45
    view = w.data
    w.data = np.full(3, 2.0)  # a new array: the old scratch (and the view) no longer belong to w
    opt.step()  # 2 - 0.5 * (1 + 0.2) = 1.4
    np.testing.assert_allclose(w.data, 1.4, rtol=1e-15)
    np.testing.assert_allclose(view, 0.45, rtol=1e-15)


def test_writes_go_through_views_of_the_parameter() -> None:
    w = nn.Parameter(np.zeros(4))
    alias = w.detach()
    opt = optim.Adam([w], lr=0.1)
    w.grad = ag.tensor(np.array([1.0, -1.0, 2.0, 0.0]))
    opt.step()
    np.testing.assert_allclose(alias.data, [-0.1, 0.1, -0.1, 0.0], atol=1e-9)  # lr * sign(g)
    assert alias._version == w._version == 1
