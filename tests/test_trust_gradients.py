"""Gradients at the edges: the values PyTorch defines where a naive formula gives nan, 0 * inf or 0.

Every expected number is derived by hand in a comment. Where a test runs under
np.errstate(invalid="raise"), no 0 * inf or inf - inf is formed anywhere on the way.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from nn.models import CrossEntropyCost, Network

EPSILON = float(np.float32(1e-12))  # PyTorch's floor on p (1 - p) in BCE's gradient: 1e-12 rounded to float32


def _leaf(values: object) -> ag.Tensor:
    return ag.tensor(np.array(values, dtype=float), requires_grad=True)


def _sigmoid(x: float) -> float:
    """e**x / (1 + e**x): full relative precision for x < 0 (no cancellation in 1 + e**x)."""
    return math.exp(x) / (1 + math.exp(x))


# ----------------------------------------------------------------------------- pow


def test_x_to_the_zero_has_gradient_zero_even_at_zero() -> None:
    # x ** 0 == 1 for every x, so d/dx = 0; the formula 0 * x ** -1 would be 0 * inf = nan at x = 0
    x = _leaf([0.0, 2.0, -1.0])
    with np.errstate(invalid="raise"):
        (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])
    a, b = _leaf([0.0, 3.0]), _leaf([0.0, 0.0])
    with np.errstate(invalid="raise"):
        (a**b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [0.0, 0.0])
    # d/db a**b = a**b ln a: 0 at a = 0 (PyTorch's convention, a**b is flat in b there), ln 3 at a = 3
    np.testing.assert_array_equal(b.grad.data, [0.0, math.log(3.0)])


def test_zero_to_the_y_has_exponent_gradient_zero_for_y_at_least_zero() -> None:
    # 0 ** y: 1 at y = 0, 0 for y > 0, inf for y < 0. d/dy = 0**y ln 0: PyTorch takes 0 for y >= 0
    # (instead of 1 * -inf at y = 0 and 0 * -inf = nan for y > 0); for y < 0 it is inf * -inf = -inf.
    y = _leaf([0.0, 1.0, 2.5, -1.0])
    with np.errstate(divide="ignore"):  # 0 ** -1 = inf
        out = 0.0**y
    np.testing.assert_array_equal(out.data, [1.0, 0.0, 0.0, np.inf])
    with np.errstate(invalid="raise", divide="ignore"):
        out.sum().backward()
    np.testing.assert_array_equal(y.grad.data, [0.0, 0.0, 0.0, -np.inf])


def test_pow_with_a_zero_tensor_base_matches_pytorch() -> None:
    # a = 0: d/da = b * 0**(b-1): 0 at b = 0 (masked), 1 at b = 1, inf at b = 1/2, -1 * inf at b = -1;
    # d/db = 0 for b >= 0, and 0**-1 * ln 0 = inf * -inf = -inf at b = -1
    a, b = _leaf([0.0, 0.0, 0.0, 0.0]), _leaf([0.0, 1.0, 0.5, -1.0])
    with np.errstate(divide="ignore"):
        (a**b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [0.0, 1.0, np.inf, -np.inf])
    np.testing.assert_array_equal(b.grad.data, [0.0, 0.0, 0.0, -np.inf])


def test_pow_second_derivatives_stay_finite_and_right_at_the_masks() -> None:
    a, b = _leaf([1.0, 0.0, 2.0]), _leaf([0.0, 2.0, 3.0])
    with np.errstate(invalid="raise"):
        ga, gb = ag.grad((a**b).sum(), [a, b], create_graph=True)
        daa, dab = ag.grad(ga.sum(), [a, b], retain_graph=True)
        dba, dbb = ag.grad(gb.sum(), [a, b])
    # f = a**b. f_a = b a**(b-1): [0, 0, 12]; f_b = a**b ln a: [0, 0 (masked), 8 ln 2]
    np.testing.assert_array_equal(ga.data, [0.0, 0.0, 12.0])
    np.testing.assert_allclose(gb.data, [0.0, 0.0, 8 * math.log(2.0)], rtol=1e-15)
    # f_aa = b (b-1) a**(b-2): [0, 2, 12]
    np.testing.assert_allclose(daa.data, [0.0, 2.0, 12.0], rtol=1e-15)
    # f_ab = a**(b-1) (1 + b ln a): 1 at (1, 0) -- a mask over all of b == 0 would make it 0 --,
    # 0 at (0, 2) (its limit a (1 + 2 ln a) -> 0), 4 (1 + 3 ln 2) at (2, 3)
    np.testing.assert_allclose(dab.data, [1.0, 0.0, 4 * (1 + 3 * math.log(2.0))], rtol=1e-15)
    np.testing.assert_allclose(dba.data, dab.data, rtol=1e-15)
    # f_bb = a**b (ln a)**2: [0, 0 (f is 0 for all b > 0 at a = 0), 8 (ln 2)**2]
    np.testing.assert_allclose(dbb.data, [0.0, 0.0, 8 * math.log(2.0) ** 2], rtol=1e-15)


def test_pow_by_a_plain_number_keeps_its_usual_gradients() -> None:
    x = _leaf([0.0, 1.5, -2.0])
    (dx,) = ag.grad((x**3).sum(), [x], create_graph=True)
    np.testing.assert_array_equal(dx.data, [0.0, 6.75, 12.0])  # 3 x**2
    (dxx,) = ag.grad(dx.sum(), [x])
    np.testing.assert_array_equal(dxx.data, [0.0, 9.0, -12.0])  # 6 x
    y = _leaf([0.0, 1.0])
    (2.0**y).sum().backward()
    np.testing.assert_allclose(y.grad.data, [math.log(2.0), 2 * math.log(2.0)], rtol=1e-15)  # 2**y ln 2


# ----------------------------------------------------------------------------- div


@pytest.mark.parametrize("b", [1e-160, 1e-170])
def test_div_gradient_is_exact_for_tiny_divisors(b: float) -> None:
    # a = b: d/db (a / b) = -a / b**2 = -1 / b = -1e160 (-1e170), representable; b * b underflows to 0
    a, d = _leaf([b]), _leaf([b])
    with np.errstate(divide="raise", invalid="raise"):
        (a / d).sum().backward()
    assert d.grad.data[0] == -1 / b
    np.testing.assert_allclose(d.grad.data, [-1 / b], rtol=1e-15)
    assert a.grad.data[0] == 1 / b  # d/da = 1 / b


def test_div_gradient_of_unequal_tiny_operands() -> None:
    # d/db (a / b) = -a / b**2 = -1e-160 / 1e-340 = -1e180 (1e-340 itself is below the smallest double)
    a, b = _leaf([1e-160]), _leaf([1e-170])
    (a / b).sum().backward()
    np.testing.assert_allclose(b.grad.data, [-1e180], rtol=1e-15)


# ----------------------------------------------------------------------------- softplus


@pytest.mark.parametrize("x", [-30.0, -100.0, -700.0])
def test_softplus_gradient_keeps_full_precision_at_very_negative_x(x: float) -> None:
    # d/dx log(1 + e**x) = e**x / (1 + e**x); 1 - exp(-softplus(x)) would lose every digit here
    t = _leaf([x])
    ag.softplus(t).sum().backward()
    np.testing.assert_allclose(t.grad.data, [_sigmoid(x)], rtol=1e-15)


def test_softplus_at_the_extremes_gives_the_limits_without_warnings() -> None:
    # sigmoid(-800) = e**-800 / (1 + e**-800) underflows to 0; sigmoid(800) rounds to 1
    t = _leaf([-800.0, 800.0])
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        out = ag.softplus(t)
        out.sum().backward()
    np.testing.assert_array_equal(out.data, [0.0, 800.0])
    np.testing.assert_array_equal(t.grad.data, [0.0, 1.0])


def test_softplus_second_derivative() -> None:
    # d2/dx2 softplus = sigmoid (1 - sigmoid) = e**x / (1 + e**x)**2: 1/4 at 0, ~e**-30 at -30
    t = _leaf([0.0, -30.0])
    (g,) = ag.grad(ag.softplus(t).sum(), [t], create_graph=True)
    (gg,) = ag.grad(g.sum(), [t])
    np.testing.assert_allclose(gg.data, [0.25, math.exp(-30.0) / (1 + math.exp(-30.0)) ** 2], rtol=1e-14)


# ----------------------------------------------------------------------------- mean and var


@pytest.mark.parametrize(
    ("shape", "axis", "expected"),
    [((0, 3), 0, [np.nan] * 3), ((0, 3), 1, []), ((2, 0), 1, [np.nan] * 2), ((0,), None, np.nan)],
)
def test_mean_over_an_empty_axis_is_nan_with_an_empty_gradient(shape: tuple, axis: object, expected: object) -> None:
    # 0 / 0 per output element, as in PyTorch; the input has no elements, so its gradient is empty
    x = _leaf(np.zeros(shape))
    out = x.mean(axis=axis)
    np.testing.assert_array_equal(out.data, expected)
    out.sum().backward()
    assert x.grad.shape == shape


def test_var_of_an_empty_axis_is_nan() -> None:
    x = _leaf(np.zeros((0, 3)))
    out = x.var(axis=0)
    np.testing.assert_array_equal(out.data, [np.nan] * 3)  # 0 / max(0, 0 - 1) = 0 / 0
    out.sum().backward()
    assert x.grad.shape == (0, 3)


def test_var_with_no_degrees_of_freedom_matches_pytorch() -> None:
    # [1, 2], correction 2: sum of squares 0.5 over max(0, 2 - 2) = 0 -> inf. The gradient
    # 2 (x - mean) / 0: over all axes PyTorch gives inf (sign-less), along an axis inf signed as x - mean
    x = _leaf([1.0, 2.0])
    out = x.var(correction=2)
    assert out.item() == np.inf
    out.backward()
    np.testing.assert_array_equal(x.grad.data, [np.inf, np.inf])
    rows = _leaf([[1.0, 2.0]])
    out = rows.var(axis=1, correction=2)
    np.testing.assert_array_equal(out.data, [np.inf])
    out.sum().backward()
    np.testing.assert_array_equal(rows.grad.data, [[-np.inf, np.inf]])
    # equal elements: 0 / 0 = nan, and the gradient 0 / 0 too
    same = _leaf([[1.0, 1.0]])
    out = same.var(axis=1, correction=2)
    out.sum().backward()
    assert np.isnan(out.data).all() and np.isnan(same.grad.data).all()


def test_var_with_correction_above_n_has_a_gradient_consistent_with_its_value() -> None:
    # n = 2, correction 3: divisor max(0, -1) = 0, value inf; the gradient of an inf-valued var is
    # the same inf as at correction == n (PyTorch's own backward divides by n - correction = -1 here,
    # a finite slope for an infinite value)
    rows = _leaf([[1.0, 2.0]])
    out = rows.var(axis=1, correction=3)
    np.testing.assert_array_equal(out.data, [np.inf])
    out.sum().backward()
    np.testing.assert_array_equal(rows.grad.data, [[-np.inf, np.inf]])


def test_var_of_one_element_is_nan() -> None:
    # n = 1, correction 1: 0 / 0
    x = _leaf([[1.0], [2.0]])
    out = x.var(axis=1)
    out.sum().backward()
    assert np.isnan(out.data).all() and np.isnan(x.grad.data).all()


def test_var_counts_along_the_given_axes() -> None:
    # [[1, 2], [3, 5]] over both axes: mean 11/4, squares sum 35/4, /3 -> 35/12; d/dx = 2 (x - 11/4) / 3
    x = _leaf([[1.0, 2.0], [3.0, 5.0]])
    out = x.var(axis=(0, 1), keepdims=True)
    np.testing.assert_allclose(out.data, [[35 / 12]], rtol=1e-15)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * (np.array([[1.0, 2.0], [3.0, 5.0]]) - 11 / 4) / 3, rtol=1e-15)


# ----------------------------------------------------------------------------- where


def test_where_passes_an_infinite_gradient_without_nan() -> None:
    # the unselected branch gets 0, not inf * 0
    a, b = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    out = ag.where(np.array([True, False]), a, b)
    with np.errstate(invalid="raise"):
        out.backward(np.array([np.inf, 1.0]))
    np.testing.assert_array_equal(a.grad.data, [np.inf, 0.0])
    np.testing.assert_array_equal(b.grad.data, [0.0, 1.0])


# ----------------------------------------------------------------------------- binary cross-entropy


def test_bce_values_and_gradients_for_both_arguments() -> None:
    # p = 0.3, t = 0.25: L = -(0.25 ln 0.3 + 0.75 ln 0.7); dL/dp = (p - t) / (p (1 - p)) = 0.05 / 0.21;
    # dL/dt = -logit(p) = ln(0.7 / 0.3)
    p, t = _leaf([0.3]), _leaf([0.25])
    loss = F.binary_cross_entropy(p, t)
    np.testing.assert_allclose(loss.item(), -(0.25 * math.log(0.3) + 0.75 * math.log(0.7)), rtol=1e-15)
    loss.backward()
    np.testing.assert_allclose(p.grad.data, [0.05 / 0.21], rtol=1e-14)
    np.testing.assert_allclose(t.grad.data, [math.log(0.7 / 0.3)], rtol=1e-15)


def test_bce_second_derivatives() -> None:
    # g = (p - t) / (p (1 - p)): dg/dp = (p (1 - p) - (p - t)(1 - 2p)) / (p (1 - p))**2 = (0.21 - 0.02) / 0.0441,
    # dg/dt = -1 / (p (1 - p)) = -1 / 0.21; and d(-logit p)/dp = -1 / (p (1 - p)) as well
    p, t = _leaf([0.3]), _leaf([0.25])
    gp, gt = ag.grad(F.binary_cross_entropy(p, t), [p, t], create_graph=True)
    dpp, dpt = ag.grad(gp.sum(), [p, t], retain_graph=True)
    (dtp,) = ag.grad(gt.sum(), [p])
    np.testing.assert_allclose(dpp.data, [0.19 / 0.0441], rtol=1e-13)
    np.testing.assert_allclose(dpt.data, [-1 / 0.21], rtol=1e-14)
    np.testing.assert_allclose(dtp.data, [-1 / 0.21], rtol=1e-14)


def test_bce_at_saturated_probabilities_gives_pytorchs_finite_values() -> None:
    # p in {0, 1}: each log is floored at -100; dL/dp = (p - t) / max(p (1 - p), EPSILON) = +-1/EPSILON or 0;
    # dL/dt = -logit(p) = -ln(p / (1 - p)): -inf at p = 1, inf at p = 0
    p, t = _leaf([1.0, 1.0, 0.0, 0.0]), _leaf([0.0, 1.0, 0.0, 1.0])
    loss = F.binary_cross_entropy(p, t, reduction="none")
    np.testing.assert_array_equal(loss.data, [100.0, 0.0, 0.0, 100.0])
    with np.errstate(invalid="raise"):
        loss.sum().backward()
    np.testing.assert_array_equal(p.grad.data, [1 / EPSILON, 0.0, 0.0, -1 / EPSILON])
    np.testing.assert_array_equal(t.grad.data, [-np.inf, -np.inf, np.inf, np.inf])


def test_bce_uses_log1p_for_the_complement() -> None:
    # p = 1e-10, t = 0: L = -ln(1 - p) = p + p**2/2 + ... = 1.00000000005e-10 (log(1 - p) loses digits)
    loss = F.binary_cross_entropy(ag.tensor([1e-10]), [0.0])
    np.testing.assert_allclose(loss.item(), 1e-10 + 0.5e-20, rtol=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_reductions_scale_both_gradients(reduction: str) -> None:
    # per element: dL/dp = (p - t) / (p (1 - p)), dL/dt = ln((1 - p) / p); mean divides by 4
    pv, tv = np.array([[0.3, 0.6], [0.5, 0.9]]), np.array([[0.25, 1.0], [0.0, 0.5]])
    p, t = _leaf(pv), _leaf(tv)
    loss = F.binary_cross_entropy(p, t, reduction)
    upstream = np.array([[1.0, 2.0], [3.0, 4.0]]) if reduction == "none" else 1.0
    loss.backward(upstream if reduction == "none" else None)
    scale = upstream / (4 if reduction == "mean" else 1)
    np.testing.assert_allclose(p.grad.data, scale * (pv - tv) / (pv * (1 - pv)), rtol=1e-14)
    np.testing.assert_allclose(t.grad.data, scale * np.log((1 - pv) / pv), rtol=1e-14)


def test_bce_rejects_values_outside_zero_one() -> None:
    with pytest.raises(ValueError, match=r"every input must be a probability in \[0, 1\].*with_logits"):
        F.binary_cross_entropy(ag.tensor([1.5]), [0.0])
    with pytest.raises(ValueError, match=r"every input must be a probability"):
        F.binary_cross_entropy(ag.tensor([np.nan]), [0.0])
    with pytest.raises(ValueError, match=r"every target must be a probability in \[0, 1\], got values from 2.0"):
        F.binary_cross_entropy(ag.tensor([0.5]), [2.0])


def test_bce_of_a_saturated_sigmoid_has_pytorchs_gradient() -> None:
    # z = 40: sigmoid rounds to 1.0, so dL/dz = (1 - 0) / EPSILON * (a (1 - a) = 0) = 0, not nan.
    # z = 30: a (1 - a) ~ 9.4e-14 < EPSILON, so dL/dz = (a - 0) / EPSILON * a (1 - a).
    z = _leaf([40.0, 30.0])
    F.binary_cross_entropy(ag.sigmoid(z), [0.0, 0.0], reduction="sum").backward()
    a = 1 / (1 + np.exp(-30.0))
    np.testing.assert_allclose(z.grad.data, [0.0, a / EPSILON * a * (1 - a)], rtol=1e-12)


def test_nielsen_cross_entropy_cost_survives_a_saturated_output() -> None:
    # One sigmoid neuron, weight w, bias 0, input 1: a = sigmoid(w). Target 0, C = -ln(1 - a).
    # w = 100: a == 1.0, C = 100 (floored log), dC/dz = (1 / EPSILON) * a (1 - a) = 0: finite, as in PyTorch.
    # w = 30: dC/dz = a / EPSILON * a (1 - a), and dC/dw = dC/dz * 1, dC/db = dC/dz.
    net = Network([1, 1], cost=CrossEntropyCost, generator=np.random.default_rng(0))
    net.layer0.bias.data[...] = 0.0
    for w in (100.0, 30.0):
        net.layer0.weight.data[...] = w
        a = 1 / (1 + np.exp(-w))
        cost = CrossEntropyCost.fn(net(np.ones((1, 1))), np.zeros((1, 1)))
        np.testing.assert_allclose(cost.item(), 100.0 if a == 1 else -np.log1p(-a), rtol=1e-15)
        nabla_b, nabla_w = net.backprop(np.ones((1, 1)), np.zeros((1, 1)))
        expected = a / EPSILON * a * (1 - a)
        np.testing.assert_allclose(nabla_b[0], [[expected]], rtol=1e-12, atol=0)
        np.testing.assert_allclose(nabla_w[0], [[expected]], rtol=1e-12, atol=0)


# ----------------------------------------------------------------------------- targets that require grad


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_gives_the_target_the_negated_gradient(reduction: str) -> None:
    # L = (y - t)**2: dL/dy = 2 (y - t) = [1, -4], dL/dt = -2 (y - t) = [-1, 4]; mean halves both
    y, t = _leaf([1.0, 2.0]), _leaf([0.5, 4.0])
    loss = F.mse_loss(y, t, reduction)
    loss.backward(np.ones(2) if reduction == "none" else None)
    scale = 0.5 if reduction == "mean" else 1.0
    np.testing.assert_allclose(y.grad.data, [1.0 * scale, -4.0 * scale], rtol=1e-15)
    np.testing.assert_allclose(t.grad.data, [-1.0 * scale, 4.0 * scale], rtol=1e-15)


def test_bce_with_logits_gives_the_target_minus_the_logit() -> None:
    # L = softplus(x) - t x, mean over 2: dL/dt = -x / 2 = [20, -1]; dL/dx = (sigmoid(x) - t) / 2
    x, t = _leaf([-40.0, 2.0]), _leaf([0.0, 0.5])
    F.binary_cross_entropy_with_logits(x, t).backward()
    np.testing.assert_array_equal(t.grad.data, [20.0, -1.0])
    np.testing.assert_allclose(x.grad.data, [_sigmoid(-40.0) / 2, (_sigmoid(2.0) - 0.5) / 2], rtol=1e-12)


def test_bce_with_logits_keeps_full_precision_at_very_negative_logits() -> None:
    # x = -40, t = 0: dL/dx = sigmoid(-40) = e**-40 / (1 + e**-40) ~ 4.2e-18
    x = _leaf([-40.0])
    nn.BCEWithLogitsLoss()(x, np.array([0.0])).backward()
    np.testing.assert_allclose(x.grad.data, [_sigmoid(-40.0)], rtol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_gives_probability_targets_minus_log_softmax(reduction: str) -> None:
    # L_row = -sum(w * log_softmax(z)); dL/dw = -log_softmax(z) = logsumexp(z) - z per row,
    # divided by the 2 rows for mean. Row 0: ln(e + e**2 + e**3) - [1, 2, 3]; row 1: ln 3 each.
    z, w = _leaf([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]), _leaf([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    loss = F.cross_entropy(z, w, reduction)
    loss.backward(np.ones(2) if reduction == "none" else None)
    lse = math.log(math.e + math.e**2 + math.e**3)
    expected = np.array([[lse - 1, lse - 2, lse - 3], [math.log(3.0)] * 3])
    np.testing.assert_allclose(w.grad.data, expected / (2 if reduction == "mean" else 1), rtol=1e-14)
    # dL/dz = softmax(z) * sum(w) - w, both rows' weights summing to 1
    e = np.exp([1.0, 2.0, 3.0])
    softmax = np.array([e / e.sum(), [1 / 3] * 3])
    np.testing.assert_allclose(z.grad.data, (softmax - w.data) / (2 if reduction == "mean" else 1), rtol=1e-14)


def test_class_index_targets_never_get_a_gradient() -> None:
    z = _leaf([[1.0, 2.0], [0.5, 0.0]])
    labels = ag.Tensor(np.array([1, 0]))  # integer tensors cannot require grad
    F.cross_entropy(z, labels).backward()
    assert labels.grad is None and z.grad is not None
    # a float tensor that requires grad is no class index: asked to be one, it is an error, not a silent gradient
    with pytest.raises(ValueError, match="class indices of shape"):
        F.cross_entropy(z, ag.tensor([1.0, 0.0], requires_grad=True))


def test_targets_without_grad_and_as_lists_keep_working() -> None:
    y = _leaf([0.2, 0.7])
    frozen = ag.tensor([0.0, 1.0])
    for target in ([0.0, 1.0], np.array([0.0, 1.0]), frozen):
        # mse: ((0.2)**2 + (0.3)**2) / 2 = 0.065; bce: -(ln 0.8 + ln 0.7) / 2; bce_with_logits on the same values
        np.testing.assert_allclose(F.mse_loss(y, target).item(), 0.065, rtol=1e-15)
        np.testing.assert_allclose(
            F.binary_cross_entropy(y, target).item(), -(math.log(0.8) + math.log(0.7)) / 2, rtol=1e-15
        )
        softplus = np.log1p(np.exp([0.2, 0.7]))
        np.testing.assert_allclose(
            F.binary_cross_entropy_with_logits(y, target).item(), (softplus.sum() - 0.7) / 2, rtol=1e-15
        )
    assert frozen.grad is None
    z = _leaf([[1.0, 2.0], [0.5, 0.0]])
    # class 1 of row 0 and class 0 of row 1: -log_softmax = ln(1 + e**-1) and ln(1 + e**-0.5)
    expected = (math.log1p(math.exp(-1.0)) + math.log1p(math.exp(-0.5))) / 2
    np.testing.assert_allclose(F.cross_entropy(z, [1, 0]).item(), expected, rtol=1e-15)
    np.testing.assert_allclose(F.cross_entropy(z, [[0.0, 1.0], [1.0, 0.0]]).item(), expected, rtol=1e-15)


def test_a_target_requiring_grad_gets_one_when_the_input_does_not() -> None:
    # d/dt mean((y - t)**2) = -(y - t) = [1, -1] for y = [0, 2], t = [1, 1]
    t = _leaf([1.0, 1.0])
    F.mse_loss(ag.tensor([0.0, 2.0]), t).backward()
    np.testing.assert_array_equal(t.grad.data, [1.0, -1.0])
