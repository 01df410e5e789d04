"""Every op in the catalogue: values against numpy, gradients against central differences.

Inputs are float64, drawn by Hypothesis over random shapes (0-d, broadcasting pairs,
batched matmul) and kept away from kinks and ties (see tests/op_catalogue.py); the checks
are the public `autograd.testing` ones, so a failure shows the worst elements side by side.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import NonInteractiveExampleWarning
from hypothesis.extra import numpy as hnp

import autograd as ag
from autograd.testing import assert_grad_close, assert_gradgrad_close
from tests.op_catalogue import CATALOGUE, Op, array


def _tensors(op: Op, arrays: tuple[np.ndarray, ...], requires_grad: bool, dtype: Any = None) -> list[Any]:
    return [
        a if i in op.constants else ag.Tensor(a if dtype is None else a.astype(dtype), requires_grad=requires_grad)
        for i, a in enumerate(arrays)
    ]


def example(op: Op) -> tuple[list[Any], dict[str, Any]]:
    """One example of an entry's inputs, as tensors that require grad: for tests that look at which
    ops an entry builds or calls, not at values."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        arrays, kwargs = op.inputs.example()
    return _tensors(op, arrays, requires_grad=True), kwargs


@pytest.mark.parametrize("op", CATALOGUE, ids=repr)
@given(data=st.data())
def test_values_match_numpy(op: Op, data: Any) -> None:
    arrays, kwargs = data.draw(op.inputs)
    out = op.fn(*_tensors(op, arrays, requires_grad=False), **kwargs)
    expected = np.asarray(op.ref(*arrays, **kwargs))
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", CATALOGUE, ids=repr)
@given(data=st.data())
def test_gradient_matches_central_difference(op: Op, data: Any) -> None:
    arrays, kwargs = data.draw(op.inputs)
    originals = [a.copy() for a in arrays]
    inputs = _tensors(op, arrays, requires_grad=True)
    assert_grad_close(lambda *xs: op.fn(*xs, **kwargs), *inputs)
    for before, after in zip(originals, arrays):
        np.testing.assert_array_equal(before, after)  # nothing mutates its inputs


@pytest.mark.parametrize("op", [op for op in CATALOGUE if op.smooth], ids=repr)
@settings(max_examples=8)
@given(data=st.data())
def test_second_derivative_matches_central_difference(op: Op, data: Any) -> None:
    arrays, kwargs = data.draw(op.inputs)
    inputs = _tensors(op, arrays, requires_grad=True)
    assert_gradgrad_close(lambda *xs: op.fn(*xs, **kwargs), *inputs)


@pytest.mark.parametrize("op", CATALOGUE, ids=repr)
@settings(max_examples=5)
@given(data=st.data())
def test_float32_stays_float32(op: Op, data: Any) -> None:
    arrays, kwargs = data.draw(op.inputs)
    inputs = _tensors(op, arrays, requires_grad=True, dtype=np.float32)
    out = op.fn(*inputs, **kwargs)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    for x in inputs:
        if isinstance(x, ag.Tensor):
            assert x.grad is not None and x.grad.dtype == np.float32 and x.grad.shape == x.shape


# Random compositions: small graphs of smooth ops, including shared subexpressions. Every op
# keeps values moderate (|output| grows at most linearly), so long chains neither overflow nor
# drown the central difference in rounding error.
def _mix(x: ag.Tensor, y: ag.Tensor) -> ag.Tensor:
    """A matrix product where the shapes allow one, else a broadcast product (sum_keep changes shapes)."""
    t = y.tanh()
    if x.ndim == y.ndim == 2 and x.shape[-1] == y.shape[-1]:
        return (x @ t.T) @ t / 9
    if x.ndim == y.ndim == 1 and x.shape == y.shape:
        return x * (x @ t) / 3
    return x * t.mean()


UNARY = {
    "tanh": ag.tanh,
    "sin": ag.sin,
    "sigmoid": ag.sigmoid,
    "softplus": ag.softplus,
    "exp_tanh": lambda x: x.tanh().exp(),
    "square_tanh": lambda x: (x * x).tanh(),
    "sum_keep": lambda x: x.sum(axis=-1, keepdims=True),
    "softmax": lambda x: x.softmax(-1),
}
BINARY = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul_tanh": lambda x, y: x * y.tanh(),
    "safe_div": lambda x, y: x / (1 + y * y),
    "matmul_mix": _mix,
}


@st.composite
def random_graph(draw: Any) -> tuple[list[np.ndarray], list[tuple[str, tuple[int, ...]]]]:
    shape = draw(st.sampled_from([(3,), (2, 3), (1, 3)]))
    leaves = [draw(array(shape, -2.0, 2.0)) for _ in range(draw(st.integers(1, 3)))]
    steps = []
    for k in range(draw(st.integers(1, 6))):
        pool = len(leaves) + k
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(sorted(UNARY))), (draw(st.integers(0, pool - 1)),)))
        else:
            operands = (draw(st.integers(0, pool - 1)), draw(st.integers(0, pool - 1)))
            steps.append((draw(st.sampled_from(sorted(BINARY))), operands))
    return leaves, steps


def _run_graph(steps: list[tuple[str, tuple[int, ...]]], *leaves: ag.Tensor) -> ag.Tensor:
    pool = list(leaves)
    for name, operands in steps:
        fn = UNARY.get(name) or BINARY[name]
        pool.append(fn(*(pool[i] for i in operands)))
    # every value takes part, so paths that share nodes add up
    return sum((v * (i + 1)).sum() for i, v in enumerate(pool[len(leaves) :]))


@given(random_graph())
def test_random_compositions_pass_gradcheck(graph: Any) -> None:
    leaves, steps = graph
    inputs = [ag.Tensor(a, requires_grad=True) for a in leaves]
    assert_grad_close(lambda *xs: _run_graph(steps, *xs), *inputs)


@settings(max_examples=10)
@given(random_graph())
def test_random_compositions_pass_gradgradcheck(graph: Any) -> None:
    leaves, steps = graph
    inputs = [ag.Tensor(a, requires_grad=True) for a in leaves]
    assert_gradgrad_close(lambda *xs: _run_graph(steps, *xs), *inputs)


EXTREME = st.sampled_from([-1000.0, 1000.0, 0.0, 999.0])


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=4), elements=EXTREME))
def test_softmax_family_is_finite_at_extreme_logits(logits: np.ndarray) -> None:
    x = ag.Tensor(logits, requires_grad=True)
    for fn in (lambda t: t.logsumexp(axis=-1), lambda t: t.softmax(-1), lambda t: t.log_softmax(-1)):
        out = fn(x)
        assert np.all(np.isfinite(out.data))
        out.backward(np.ones(out.shape))
        assert np.all(np.isfinite(x.grad.data))
        x.grad = None


def test_extreme_logits_give_the_exact_limits() -> None:
    x = ag.tensor([1000.0, -1000.0])
    np.testing.assert_array_equal(x.softmax().data, [1.0, 0.0])
    np.testing.assert_array_equal(x.log_softmax().data, [0.0, -2000.0])
    assert x.logsumexp().item() == 1000.0
    assert ag.sigmoid(ag.tensor([-1000.0, 1000.0])).data.tolist() == [0.0, 1.0]
    np.testing.assert_array_equal(ag.softplus(ag.tensor([-1000.0, 1000.0])).data, [0.0, 1000.0])


def test_undefined_points_follow_the_documented_conventions() -> None:
    zero = ag.tensor([0.0, 0.0, 0.0], requires_grad=True)
    for fn in (ag.relu, ag.abs, ag.step):
        fn(zero).sum().backward()
        np.testing.assert_array_equal(zero.grad.data, [0.0, 0.0, 0.0])
        zero.grad = None
    ties = ag.tensor([1.0, 3.0, 3.0, 3.0], requires_grad=True)
    ties.max().backward()
    np.testing.assert_array_equal(ties.grad.data, [0.0, 1 / 3, 1 / 3, 1 / 3])
    a = ag.tensor([2.0, 1.0], requires_grad=True)
    b = ag.tensor([2.0, 5.0], requires_grad=True)
    ag.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [0.5, 0.0])
    np.testing.assert_array_equal(b.grad.data, [0.5, 1.0])


def test_repeated_integer_indices_add_their_gradients() -> None:
    x = ag.tensor([10.0, 20.0, 30.0], requires_grad=True)
    x[[0, 2, 0, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])
