"""autograd.grad, create_graph and higher derivatives; gradcheck, gradgradcheck and numerical_grad.

Expected derivatives are closed forms derived by hand and written in plain numpy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd as ag
from tests.functions import CubeWithConstantDerivative, wrong_square


def leaf(values: Any) -> ag.Tensor:
    return ag.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


X = np.array([-1.3, -0.4, 0.2, 0.9, 1.7])
POSITIVE = np.array([0.3, 0.8, 1.5, 2.2, 4.0])


# --------------------------------------------------------------------------- autograd.grad


def test_grad_returns_a_tuple_and_leaves_dot_grad_alone() -> None:
    x_np = np.array([1.0, -2.0, 0.5])
    x, w = leaf(x_np), leaf([2.0, 3.0, 4.0])
    result = ag.grad((x * x * w).sum(), [x, w])
    assert isinstance(result, tuple) and len(result) == 2
    np.testing.assert_array_equal(result[0].data, 2 * x_np * [2.0, 3.0, 4.0])
    np.testing.assert_array_equal(result[1].data, x_np**2)
    assert x.grad is None and w.grad is None
    single = ag.grad((x * 3).sum(), x)
    assert isinstance(single, tuple) and len(single) == 1
    np.testing.assert_array_equal(single[0].data, [3.0, 3.0, 3.0])


def test_grad_does_not_change_an_existing_dot_grad() -> None:
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    before = x.grad
    (g,) = ag.grad((x * 5).sum(), x)
    assert x.grad is before
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])
    np.testing.assert_array_equal(g.data, [5.0, 5.0])


def test_grad_with_respect_to_a_non_leaf() -> None:
    x_np = np.array([1.0, -2.0])
    x = leaf(x_np)
    y = x * 2
    (gy, gx) = ag.grad((y**3).sum(), [y, x])
    np.testing.assert_allclose(gy.data, 3 * (2 * x_np) ** 2, rtol=1e-15)
    np.testing.assert_allclose(gx.data, 2 * 3 * (2 * x_np) ** 2, rtol=1e-15)
    assert y.grad is None and x.grad is None


def test_grad_weights_a_vector_output_by_grad_outputs() -> None:
    a_np = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]])
    x_np = np.array([0.7, -0.2])
    v = np.array([1.0, -1.0, 2.0])
    x = leaf(x_np)
    (g,) = ag.grad(ag.tensor(a_np) @ x, x, grad_outputs=v)
    np.testing.assert_allclose(g.data, a_np.T @ v, rtol=1e-15)


def test_grad_of_several_outputs_is_the_sum() -> None:
    x_np = np.array([0.4, -1.1])
    x = leaf(x_np)
    (g,) = ag.grad([x.sin().sum(), (x * x).sum()], x)
    np.testing.assert_allclose(g.data, np.cos(x_np) + 2 * x_np, rtol=1e-15)


def test_grad_of_an_unused_input() -> None:
    x, unused = leaf([1.0, 2.0]), leaf([3.0])
    with pytest.raises(RuntimeError, match="allow_unused"):
        ag.grad((x * 2).sum(), [x, unused])
    gx, gu = ag.grad((x * 2).sum(), [x, unused], allow_unused=True)
    np.testing.assert_array_equal(gx.data, [2.0, 2.0])
    assert gu is None


def test_grad_results_are_plain_without_create_graph_and_graphs_with_it() -> None:
    x = leaf([1.0, 2.0])
    (plain,) = ag.grad((x**3).sum(), x)
    assert plain.grad_fn is None and not plain.requires_grad
    (recorded,) = ag.grad((x**3).sum(), x, create_graph=True)
    assert recorded.grad_fn is not None and recorded.requires_grad


def test_grad_results_do_not_alias_each_other() -> None:
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    ga, gb = ag.grad(((a + b) * ag.tensor([5.0, 6.0])).sum(), [a, b])
    np.testing.assert_array_equal(ga.data, [5.0, 6.0])
    np.testing.assert_array_equal(gb.data, [5.0, 6.0])
    assert not np.shares_memory(ga.data, gb.data)
    ga.data[...] = 0.0
    np.testing.assert_array_equal(gb.data, [5.0, 6.0])


def test_grad_results_of_a_scalar_sum_do_not_alias_each_other() -> None:
    a, b = leaf(1.0), leaf(2.0)
    ga, gb = ag.grad(a + b, [a, b])
    assert not np.shares_memory(ga.data, gb.data)


# --------------------------------------------------------------------------- second derivatives


def second_derivative(fn: Callable[[ag.Tensor], ag.Tensor], x_np: np.ndarray) -> np.ndarray:
    """d2/dx2 of an elementwise fn, element by element (its Hessian is diagonal)."""
    x = leaf(x_np)
    (g,) = ag.grad(fn(x).sum(), x, create_graph=True)
    (h,) = ag.grad(g.sum(), x)
    return h.data


@pytest.mark.parametrize(
    ("fn", "x_np", "expected"),
    [
        (lambda x: x.tanh(), X, lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
        (lambda x: x.sigmoid(), X, lambda x: sigmoid(x) * (1 - sigmoid(x)) * (1 - 2 * sigmoid(x))),
        (lambda x: x.exp(), X, np.exp),
        (lambda x: x.log(), POSITIVE, lambda x: -1 / x**2),
        (lambda x: x**3, X, lambda x: 6 * x),
        (lambda x: x.sin(), X, lambda x: -np.sin(x)),
        (lambda x: x.sqrt(), POSITIVE, lambda x: -0.25 * x**-1.5),
        (lambda x: 1 / x, POSITIVE, lambda x: 2 / x**3),
        (lambda x: np.exp(x) * x, X, lambda x: np.exp(x) * (x + 2)),
    ],
    ids=["tanh", "sigmoid", "exp", "log", "cube", "sin", "sqrt", "reciprocal", "np.exp(x)*x"],
)
def test_second_derivative_matches_closed_form(fn: Any, x_np: np.ndarray, expected: Any) -> None:
    np.testing.assert_allclose(second_derivative(fn, x_np), expected(x_np), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    ("fn", "expected"),
    [(lambda x: x**4, lambda x: 24 * x), (lambda x: x.sin(), lambda x: -np.cos(x))],
    ids=["x**4", "sin"],
)
def test_third_derivative_matches_closed_form(fn: Any, expected: Any) -> None:
    x = leaf(X)
    (g1,) = ag.grad(fn(x).sum(), x, create_graph=True)
    (g2,) = ag.grad(g1.sum(), x, create_graph=True)
    (g3,) = ag.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.data, expected(X), rtol=1e-12, atol=1e-15)


def test_mixed_second_partials() -> None:
    x_np, y_np = np.array([0.5, -1.5, 2.0]), np.array([1.2, 0.3, -0.8])
    x, y = leaf(x_np), leaf(y_np)
    (gx,) = ag.grad((x**2 * y**3).sum(), x, create_graph=True)  # 2 x y^3
    np.testing.assert_allclose(gx.data, 2 * x_np * y_np**3, rtol=1e-14)
    gxy, gxx = ag.grad(gx.sum(), [y, x])
    np.testing.assert_allclose(gxy.data, 6 * x_np * y_np**2, rtol=1e-14)
    np.testing.assert_allclose(gxx.data, 2 * y_np**3, rtol=1e-14)


def test_softmax_jacobian_row_by_row() -> None:
    x_np = np.array([0.3, -1.2, 2.0, 0.5])
    s_np = np.exp(x_np) / np.exp(x_np).sum()
    jacobian = np.diag(s_np) - np.outer(s_np, s_np)
    x = leaf(x_np)
    s = x.softmax()
    rows = [ag.grad(s[i], x, retain_graph=True)[0].data for i in range(4)]
    np.testing.assert_allclose(np.stack(rows), jacobian, rtol=1e-12, atol=1e-15)


def test_softmax_weighted_sum_hessian() -> None:
    x_np = np.array([0.3, -1.2, 2.0, 0.5])
    w_np = np.array([1.0, -2.0, 0.5, 3.0])
    s = np.exp(x_np) / np.exp(x_np).sum()
    m = s @ w_np
    # f = sum(w * s): g_j = s_j (w_j - m), H_jk = s_j (d_jk - s_k)(w_j - m) - s_j s_k (w_k - m)
    gradient = s * (w_np - m)
    hessian = np.diag(s * (w_np - m)) - np.outer(s * (w_np - m), s) - np.outer(s, s * (w_np - m))
    x = leaf(x_np)
    (g,) = ag.grad((ag.tensor(w_np) * x.softmax()).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, gradient, rtol=1e-12, atol=1e-15)
    rows = [ag.grad(g[j], x, retain_graph=True)[0].data for j in range(4)]
    np.testing.assert_allclose(np.stack(rows), hessian, rtol=1e-12, atol=1e-15)


def test_hessian_vector_product_of_sum_tanh_of_a_linear_map() -> None:
    rng = np.random.default_rng(7)
    a_np = rng.standard_normal((3, 4))
    x_np, v_np = rng.standard_normal(4), rng.standard_normal(4)
    t = np.tanh(a_np @ x_np)
    # f = sum(tanh(A x)): grad = A^T (1 - t^2); Hessian = A^T diag(-2 t (1 - t^2)) A
    hessian = a_np.T @ np.diag(-2 * t * (1 - t**2)) @ a_np
    x = leaf(x_np)
    (g,) = ag.grad((ag.tensor(a_np) @ x).tanh().sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, a_np.T @ (1 - t**2), rtol=1e-12, atol=1e-15)
    (hv,) = ag.grad((g * ag.tensor(v_np)).sum(), x, retain_graph=True)
    np.testing.assert_allclose(hv.data, hessian @ v_np, rtol=1e-12, atol=1e-14)
    rows = [ag.grad(g[i], x, retain_graph=True)[0].data for i in range(4)]
    np.testing.assert_allclose(np.stack(rows), hessian, rtol=1e-12, atol=1e-14)


def test_derivative_of_a_vector_jacobian_product_with_respect_to_the_vector() -> None:
    x_np, v_np = np.array([0.5, -1.0, 2.0]), np.array([1.5, 2.0, -0.5])
    x, v = leaf(x_np), leaf(v_np)
    (g,) = ag.grad(x**2, x, grad_outputs=v, create_graph=True)  # 2 x v
    np.testing.assert_array_equal(g.data, 2 * x_np * v_np)
    gv, gx = ag.grad(g.sum(), [v, x])
    np.testing.assert_array_equal(gv.data, 2 * x_np)
    np.testing.assert_array_equal(gx.data, 2 * v_np)


def test_backward_with_create_graph_records_the_gradient() -> None:
    x_np = np.array([0.5, -1.0, 2.0])
    x = leaf(x_np)
    y = (x**3).sum()
    y.backward(create_graph=True)
    first = x.grad
    assert first.grad_fn is not None and first.requires_grad
    np.testing.assert_allclose(first.data, 3 * x_np**2, rtol=1e-15)
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * x_np, rtol=1e-15)


def test_backward_with_create_graph_keeps_the_graph() -> None:
    x_np = np.array([0.5, -1.0])
    x = leaf(x_np)
    y = (x * x).sum()
    y.backward(create_graph=True)
    y.backward()  # create_graph implies retain_graph, as in PyTorch
    np.testing.assert_array_equal(x.grad.data, 4 * x_np)


def test_backward_with_create_graph_gives_unaliased_gradients() -> None:
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    ((a + b) * ag.tensor([5.0, 6.0])).sum().backward(create_graph=True)
    assert a.grad is not b.grad
    assert not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.data[...] = 0.0
    np.testing.assert_array_equal(b.grad.data, [5.0, 6.0])


@pytest.mark.parametrize("upstream", [ag.tensor, np.array], ids=["Tensor", "ndarray"])
def test_backward_with_create_graph_does_not_alias_the_upstream_gradient(upstream: Any) -> None:
    x = leaf([1.0, 2.0])
    v = upstream([3.0, 4.0])
    (x + 1).backward(v, create_graph=True)
    assert x.grad is not v
    assert not np.shares_memory(x.grad.data, np.asarray(v))
    np.asarray(v)[...] = 0.0  # the caller reuses its buffer
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])


def test_leaf_hooks_apply_in_grad() -> None:
    x_np = np.array([0.5, -1.0, 2.0])
    x = leaf(x_np)
    seen = []
    x.register_hook(lambda g: seen.append(g.data.copy()) or g * 10)
    (g,) = ag.grad((x * x).sum(), x)
    np.testing.assert_array_equal(seen[0], 2 * x_np)
    np.testing.assert_array_equal(g.data, 10 * 2 * x_np)
    assert x.grad is None


def test_hooks_apply_in_grad_and_are_recorded_with_create_graph() -> None:
    x_np = np.array([0.5, -1.0, 2.0])
    x = leaf(x_np)
    h = x**3
    h.register_hook(lambda g: g * 2)
    (g,) = ag.grad(h.sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.data, 2 * 3 * x_np**2)
    (gg,) = ag.grad(g.sum(), x)
    np.testing.assert_array_equal(gg.data, 2 * 6 * x_np)
    assert x.grad is None and h.grad is None


def test_create_graph_through_a_deep_chain() -> None:
    x = leaf(0.7)
    y = x
    for _ in range(2_000):
        y = y * 1.0001
    y = y**2
    (g,) = ag.grad(y, x, create_graph=True)
    (h,) = ag.grad(g, x)
    c = 1.0001**2_000
    np.testing.assert_allclose(g.item(), 2 * c * c * 0.7, rtol=1e-11)
    np.testing.assert_allclose(h.item(), 2 * c * c, rtol=1e-11)


# --------------------------------------------------------------------------- custom Functions, second order


class Cube(ag.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x**2


def test_custom_function_passes_gradcheck_and_gradgradcheck() -> None:
    x = leaf(X)
    assert ag.gradcheck(Cube.apply, [x])
    assert ag.gradgradcheck(Cube.apply, [x])
    assert x.grad is None


def test_second_and_third_derivatives_through_a_custom_function() -> None:
    x = leaf(X)
    (g1,) = ag.grad(Cube.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g1.data, 3 * X**2, rtol=1e-15)
    (g2,) = ag.grad(g1.sum(), x, create_graph=True)
    np.testing.assert_allclose(g2.data, 6 * X, rtol=1e-15)
    (g3,) = ag.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.data, np.full_like(X, 6.0), rtol=1e-15)


def test_gradgradcheck_catches_a_wrong_second_derivative() -> None:
    x = leaf(X)
    assert ag.gradcheck(CubeWithConstantDerivative.apply, [x])
    with pytest.raises(ag.GradcheckError):
        ag.gradgradcheck(CubeWithConstantDerivative.apply, [x])


# --------------------------------------------------------------------------- gradcheck


NUMBER = re.compile(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")


def test_gradcheck_accepts_correct_gradients() -> None:
    x = leaf([0.5, -1.0, 2.0])
    w = leaf([[1.0, 2.0, 3.0]])
    assert ag.gradcheck(lambda w, x: (w @ x).sigmoid().sum(), [w, x])
    assert ag.gradcheck(lambda w, x: (w.T * x).tanh(), [w, x])  # a matrix output, randomly weighted
    assert ag.gradcheck(wrong_square(1.0).apply, [x])


def test_gradcheck_error_names_input_index_values_and_tolerances() -> None:
    x_np = np.array([[0.5, 1.0, -0.25], [2.0, 1.5, -3.0]])
    x = ag.tensor(x_np, requires_grad=True, name="w")
    with pytest.raises(ag.GradcheckError) as info:
        ag.gradcheck(lambda t: wrong_square(1.01).apply(t).sum(), [x])
    message = str(info.value)
    assert "input 0" in message and "'w'" in message
    # the worst element is the one of largest |x|: analytic 2.02 * -3, numerical 2 * -3
    assert "(1, 2)" in message
    numbers = [float(n) for n in NUMBER.findall(message)]
    assert any(abs(n - 2.02 * -3.0) < 1e-12 for n in numbers)
    assert any(abs(n - 2 * -3.0) < 1e-6 and n != 2.02 * -3.0 for n in numbers)
    assert 1e-05 in numbers and 0.001 in numbers  # atol and rtol


def test_gradcheck_names_the_input_that_is_wrong() -> None:
    class HalfWrong(ag.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return grad * b, -grad * a  # the second is sign flipped

    a, b = leaf([1.0, 2.0]), leaf([3.0, -4.0])
    with pytest.raises(ag.GradcheckError, match="input 1"):
        ag.gradcheck(HalfWrong.apply, [a, b])


@pytest.mark.parametrize("factor", [1.01, -1.0, 0.0, np.nan])
def test_gradcheck_rejects_wrong_gradients(factor: float) -> None:
    x = leaf([0.5, -1.0, 2.0])
    with pytest.raises(ag.GradcheckError):
        ag.gradcheck(wrong_square(factor).apply, [x])


def test_gradcheck_tolerance_rule() -> None:
    # |analytic - numerical| <= atol + rtol * |numerical|, with atol 1e-5 and rtol 1e-3 by default
    x = leaf([0.5, -1.0, 2.0])
    assert ag.gradcheck(wrong_square(1 + 1e-4).apply, [x])
    with pytest.raises(ag.GradcheckError):
        ag.gradcheck(wrong_square(1 + 3e-3).apply, [x])
    assert ag.gradcheck(wrong_square(1 + 3e-3).apply, [x], rtol=5e-3)


def test_gradcheck_leaves_the_caller_inputs_alone() -> None:
    data = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    x = ag.tensor(data.copy(), requires_grad=True)
    original = x.data
    assert ag.gradcheck(lambda t: (t * t).exp().sum(), [x])
    assert x.data is original and x.data.dtype == np.float32
    np.testing.assert_array_equal(x.data, data)
    assert x.grad is None


# --------------------------------------------------------------------------- numerical_grad


def test_numerical_grad_matches_closed_forms() -> None:
    x_np, y_np = np.array([0.3, -1.1, 2.4]), np.array([1.5, -0.5, 0.25])
    gx, gy = ag.numerical_grad(lambda x, y: (x.sin() * y).sum(), [ag.tensor(x_np), ag.tensor(y_np)])
    assert gx.dtype == np.float64 and gx.shape == (3,)
    # central differences with eps 1e-6: truncation ~1e-13, rounding ~1e-10
    np.testing.assert_allclose(gx, np.cos(x_np) * y_np, rtol=0, atol=1e-8)
    np.testing.assert_allclose(gy, np.sin(x_np), rtol=0, atol=1e-8)


def test_numerical_grad_weights_outputs_by_grad_outputs() -> None:
    x_np, w = np.array([[0.3, -1.1], [2.4, 0.7]]), np.array([[1.0, -2.0], [0.5, 3.0]])
    (g,) = ag.numerical_grad(lambda x: x**2, [ag.tensor(x_np)], grad_outputs=[w])
    np.testing.assert_allclose(g, 2 * x_np * w, rtol=0, atol=1e-8)


def test_numerical_grad_computes_in_float64_for_float32_inputs() -> None:
    data = np.array([1.1, 2.3, -0.7], dtype=np.float32)
    x = ag.tensor(data.copy())
    (g,) = ag.numerical_grad(lambda t: (t**3).sum(), [x])
    assert g.dtype == np.float64
    exact = 3 * data.astype(np.float64) ** 2
    # float32 steps of 1e-6 would be off by percents; float64 central differences by ~1e-9
    np.testing.assert_allclose(g, exact, rtol=0, atol=1e-7)
    assert x.data.dtype == np.float32
    np.testing.assert_array_equal(x.data, data)


def test_numerical_grad_does_not_modify_the_input() -> None:
    data = np.array([0.25, -0.5, 4.0])
    x = ag.tensor(data.copy(), requires_grad=True)
    original = x.data
    seen = []

    def fn(t: ag.Tensor) -> ag.Tensor:
        seen.append(t)
        return (t * t).sum()

    ag.numerical_grad(fn, [x])
    assert x.data is original
    np.testing.assert_array_equal(x.data, data)
    assert all(t is not x for t in seen)  # it evaluates fn on its own copy
    assert x.grad is None


def test_numerical_grad_of_a_non_tensor_input_is_none() -> None:
    g, none = ag.numerical_grad(lambda t, c: (t * c).sum(), [ag.tensor([1.0, 2.0]), 3.0])
    np.testing.assert_allclose(g, [3.0, 3.0], rtol=0, atol=1e-8)
    assert none is None
