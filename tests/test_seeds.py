"""The seed write-ups' hand-derived numbers and gradients, reproduced with autograd.

Every expected value here is re-derived in plain numpy from the *maths* of the seed write-ups,
the public hand-written numpy networks the project reproduces (001: fixed-weight forward
passes and a hand-written backward for a 2-10-1 regression net; 003: Nielsen's column-vector
`backprop` for the quadratic and cross-entropy costs; 004: every chain-rule product of a 2-2-1
sigmoid net, and 1-D linear regression). Where a seed is wrong (001 runs ReLU forward but
multiplies by the sigmoid's derivative backward) the derivation here is the correct one, and
`test_seed001_mixed_activation_backward_is_wrong` shows the gap.

Gradients are compared in float64 to rtol 1e-10 (atol 1e-12, so tiny entries still count).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest

import autograd as ag

RTOL = 1e-10
ATOL = 1e-12


def assert_close(got: object, expected: object, rtol: float = RTOL, atol: float = ATOL) -> None:
    got_arr = np.asarray(got.data if isinstance(got, ag.Tensor) else got)
    exp_arr = np.asarray(expected, dtype=np.float64)
    assert got_arr.shape == exp_arr.shape, (got_arr.shape, exp_arr.shape)
    assert got_arr.dtype == np.float64, got_arr.dtype
    np.testing.assert_allclose(got_arr, exp_arr, rtol=rtol, atol=atol)


def grad_of(t: ag.Tensor) -> np.ndarray:
    assert t.grad is not None, "parameter received no gradient"
    return np.asarray(t.grad.data)


def np_sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def params(arrays: dict[str, np.ndarray]) -> dict[str, ag.Tensor]:
    return {k: ag.Tensor(np.array(v, dtype=np.float64), requires_grad=True) for k, v in arrays.items()}


# ---------------------------------------------------------------------------------------------
# Seed 001, forward propagation with fixed weights
# ---------------------------------------------------------------------------------------------

# The single sigmoid layer: 4 inputs -> 3 units, row-vector layout u = x W + b.
LAYER_W = [[0.1, 0.2, 0.3], [0.2, 0.3, 0.4], [0.3, 0.4, 0.5], [0.4, 0.5, 0.6]]
LAYER_B = [0.1, 0.2, 0.3]
LAYER_X = [1.0, 5.0, 2.0, -1.0]

# The 2 -> 3 -> 2 -> 2 ReLU net (identity output layer).
NET_X = [1.0, 2.0]
NET_W1 = [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]
NET_W2 = [[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]
NET_W3 = [[0.1, 0.3], [0.2, 0.4]]
NET_B1 = [0.1, 0.2, 0.3]
NET_B2 = [0.1, 0.2]
NET_B3 = [1.0, 2.0]  # the seed writes np.array([1, 2]) (ints); the maths is the same


def test_seed001_single_sigmoid_layer_forward() -> None:
    x, W, b = ag.tensor(LAYER_X), ag.tensor(LAYER_W), ag.tensor(LAYER_B)
    u = x @ W + b
    z = u.sigmoid()
    # Independent numpy evaluation of the same maths.
    u_np = np.array(LAYER_X) @ np.array(LAYER_W) + np.array(LAYER_B)
    assert_close(u, u_np, rtol=1e-15, atol=1e-15)
    assert_close(z, np_sigmoid(u_np), rtol=1e-15, atol=1e-15)
    # By hand: u_j = sum_i x_i W_ij + b_j, e.g. u_0 = 0.1 + 1.0 + 0.6 - 0.4 + 0.1 = 1.4.
    assert_close(u, [1.4, 2.2, 3.0], rtol=0, atol=1e-14)
    assert_close(z, [1 / (1 + np.exp(-1.4)), 1 / (1 + np.exp(-2.2)), 1 / (1 + np.exp(-3.0))], rtol=1e-15, atol=0)
    # To four places, sigma(1.4), sigma(2.2), sigma(3.0):
    np.testing.assert_allclose(z.data, [0.8022, 0.9002, 0.9526], atol=5e-5)
    # The module-level function agrees with the method.
    assert_close(ag.sigmoid(u), z.data, rtol=0, atol=0)


def test_seed001_relu_network_forward() -> None:
    x = ag.tensor(NET_X)
    W1, W2, W3 = ag.tensor(NET_W1), ag.tensor(NET_W2), ag.tensor(NET_W3)
    b1, b2, b3 = ag.tensor(NET_B1), ag.tensor(NET_B2), ag.tensor(NET_B3)
    u1 = x @ W1 + b1
    z1 = u1.relu()
    u2 = z1 @ W2 + b2
    z2 = ag.relu(u2)
    y = z2 @ W3 + b3  # identity output

    xn = np.array(NET_X)
    u1_np = xn @ np.array(NET_W1) + np.array(NET_B1)
    z1_np = np.maximum(0.0, u1_np)
    u2_np = z1_np @ np.array(NET_W2) + np.array(NET_B2)
    z2_np = np.maximum(0.0, u2_np)
    y_np = z2_np @ np.array(NET_W3) + np.array(NET_B3)
    for got, want in [(u1, u1_np), (z1, z1_np), (u2, u2_np), (z2, z2_np), (y, y_np)]:
        assert_close(got, want, rtol=1e-15, atol=1e-15)

    # By hand: u1 = [0.5, 1.1, 1.7] + b1; u2 = [0.92, 2.09] + b2; y = [0.56, 1.222] + b3.
    assert_close(u1, [0.6, 1.3, 2.0], rtol=0, atol=1e-14)
    assert_close(z1, [0.6, 1.3, 2.0], rtol=0, atol=1e-14)
    assert_close(u2, [1.02, 2.29], rtol=0, atol=1e-14)
    assert_close(z2, [1.02, 2.29], rtol=0, atol=1e-14)
    assert_close(y, [1.56, 3.222], rtol=0, atol=1e-14)
    # The seed prints "Output total" as the sum of z1.
    assert z1.sum().item() == pytest.approx(3.9, abs=1e-14)


def test_seed001_relu_network_input_gradient() -> None:
    # All pre-activations above are positive, so every ReLU passes its gradient through and
    # d(sum y)/dx = W1 W2 W3 1, d(sum y)/dW3 = outer(z2, 1), d(sum y)/db1 = W2 W3 1.
    x = ag.tensor(NET_X, requires_grad=True)
    p = params({"W1": NET_W1, "W2": NET_W2, "W3": NET_W3, "b1": NET_B1, "b2": NET_B2, "b3": NET_B3})
    z1 = (x @ p["W1"] + p["b1"]).relu()
    z2 = (z1 @ p["W2"] + p["b2"]).relu()
    (z2 @ p["W3"] + p["b3"]).sum().backward()
    W1, W2, W3 = np.array(NET_W1), np.array(NET_W2), np.array(NET_W3)
    ones = np.ones(2)
    assert_close(grad_of(x), W1 @ W2 @ W3 @ ones)
    assert_close(grad_of(p["W3"]), np.outer([1.02, 2.29], ones))
    assert_close(grad_of(p["b3"]), ones)
    assert_close(grad_of(p["b2"]), W3 @ ones)
    assert_close(grad_of(p["W2"]), np.outer([0.6, 1.3, 2.0], W3 @ ones))
    assert_close(grad_of(p["b1"]), W2 @ W3 @ ones)
    assert_close(grad_of(p["W1"]), np.outer(NET_X, W2 @ W3 @ ones))


def test_seed001_activation_and_error_functions() -> None:
    v = np.array([-3.0, -0.5, 0.0, 0.25, 4.0])
    t = ag.tensor(v)
    assert_close(ag.step(t), np.where(v > 0, 1.0, 0.0), rtol=0, atol=0)
    assert_close(t.relu(), np.maximum(0.0, v), rtol=0, atol=0)
    assert_close(t.sigmoid(), np_sigmoid(v), rtol=1e-15, atol=1e-300)

    # Softmax with the seed's overflow guard (subtract the max), one vector and a batch of rows.
    logits = np.array([[1000.0, 1001.0, 999.0], [-2.0, 0.5, 3.0]])
    shifted = logits - logits.max(axis=1, keepdims=True)
    expected = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    assert_close(ag.softmax(ag.tensor(logits), axis=-1), expected, rtol=1e-14, atol=1e-300)
    assert_close(ag.tensor(logits[1]).softmax(), expected[1], rtol=1e-14, atol=1e-300)

    # Halved mean squared error mean((d - y)^2) / 2 and its gradient (y - d) / N.
    rng = np.random.default_rng(1)
    d, y_np = rng.normal(size=7), rng.normal(size=7)
    y = ag.tensor(y_np, requires_grad=True)
    loss = ((ag.tensor(d) - y) ** 2).mean() / 2
    assert loss.item() == pytest.approx(np.mean((d - y_np) ** 2) / 2, rel=1e-14)
    loss.backward()
    assert_close(grad_of(y), (y_np - d) / d.size)

    # Cross-entropy with a one-hot label and the 1e-7 guard: -sum(onehot * log(y + 1e-7)) / batch.
    # Its gradient with respect to y is -onehot / (y + 1e-7) / batch.
    probs_np = expected
    onehot = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    probs = ag.tensor(probs_np, requires_grad=True)
    ce = -(ag.tensor(onehot) * (probs + 1e-7).log()).sum() / 2
    index_form = -np.sum(np.log(probs_np[np.arange(2), onehot.argmax(axis=1)] + 1e-7)) / 2
    assert ce.item() == pytest.approx(index_form, rel=1e-14)
    ce.backward()
    assert_close(grad_of(probs), -onehot / (probs_np + 1e-7) / 2)


# ---------------------------------------------------------------------------------------------
# Seed 001, the hand-written backward() of the 2 -> 10 -> 1 regression net (y = 3 x0 + 2 x1)
# ---------------------------------------------------------------------------------------------

HIDDEN = 10

ACTIVATIONS: dict[str, tuple[Callable[[ag.Tensor], ag.Tensor], Callable, Callable]] = {
    # name: (autograd activation, numpy activation, numpy derivative as a function of (u, z))
    "relu": (ag.relu, lambda u: np.maximum(0.0, u), lambda u, z: (u > 0).astype(np.float64)),
    "sigmoid": (ag.sigmoid, np_sigmoid, lambda u, z: z * (1.0 - z)),
}


def target(x: np.ndarray) -> np.ndarray:
    return 3.0 * x[..., 0] + 2.0 * x[..., 1]


def init_regression_net(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "W1": rng.standard_normal((2, HIDDEN)),
        "W2": rng.standard_normal(HIDDEN),
        "b1": rng.standard_normal(HIDDEN),
        "b2": np.array(rng.standard_normal()),  # a 0-d scalar, like np.random.randn()
    }


def regression_autograd(net: dict[str, np.ndarray], x: np.ndarray, act: str) -> tuple[float, dict[str, np.ndarray]]:
    p = params(net)
    u1 = ag.tensor(x) @ p["W1"] + p["b1"]
    z1 = ACTIVATIONS[act][0](u1)
    y = z1 @ p["W2"] + p["b2"]
    loss = ((ag.tensor(target(x)) - y) ** 2).mean() / 2
    loss.backward()
    return loss.item(), {k: grad_of(t) for k, t in p.items()}


def regression_by_hand(net: dict[str, np.ndarray], x: np.ndarray, act: str) -> tuple[float, dict[str, np.ndarray]]:
    """Backprop for E = mean((d - y)^2) / 2 with y = act(x W1 + b1) W2 + b2.

    x is one sample (2,) or a batch (N, 2). delta2 = dE/dy = (y - d) / N; then
    dE/db2 = sum(delta2), dE/dW2 = z1^T delta2, delta1 = (delta2 W2^T) * act'(u1),
    dE/db1 = sum over samples of delta1, dE/dW1 = x^T delta1.
    """
    _, act_np, act_prime = ACTIVATIONS[act]
    X = np.atleast_2d(x)
    n = X.shape[0]
    d = target(X)
    u1 = X @ net["W1"] + net["b1"]
    z1 = act_np(u1)
    y = z1 @ net["W2"] + net["b2"]
    delta2 = (y - d) / n  # (N,)
    delta1 = np.outer(delta2, net["W2"]) * act_prime(u1, z1)  # (N, HIDDEN)
    grads = {
        "b2": np.array(delta2.sum()),
        "W2": z1.T @ delta2,
        "b1": delta1.sum(axis=0),
        "W1": X.T @ delta1,
    }
    return float(np.mean((d - y) ** 2) / 2), grads


@pytest.mark.parametrize("act", ["relu", "sigmoid"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("wide_inputs", [False, True], ids=["x~U[0,1)", "x~U[-5,5)"])
def test_seed001_backward_one_sample(act: str, seed: int, wide_inputs: bool) -> None:
    rng = np.random.default_rng(seed)
    net = init_regression_net(rng)
    x = rng.random(2) * 10 - 5 if wide_inputs else rng.random(2)
    loss_ag, g_ag = regression_autograd(net, x, act)
    loss_hand, g_hand = regression_by_hand(net, x, act)
    assert loss_ag == pytest.approx(loss_hand, rel=1e-13, abs=1e-300)
    for key in ("W1", "W2", "b1", "b2"):
        assert g_ag[key].shape == net[key].shape, key
        assert_close(g_ag[key], g_hand[key])
    assert np.abs(g_hand["W2"]).max() > 1e-6  # the comparison is not vacuous


@pytest.mark.parametrize("act", ["relu", "sigmoid"])
def test_seed001_backward_minibatch(act: str) -> None:
    rng = np.random.default_rng(11)
    net = init_regression_net(rng)
    x = rng.random((16, 2))
    loss_ag, g_ag = regression_autograd(net, x, act)
    loss_hand, g_hand = regression_by_hand(net, x, act)
    assert loss_ag == pytest.approx(loss_hand, rel=1e-13)
    for key in ("W1", "W2", "b1", "b2"):
        assert_close(g_ag[key], g_hand[key])


def test_seed001_mixed_activation_backward_is_wrong() -> None:
    """Known mistake: ReLU forward with the sigmoid derivative (of z1) in backward.

    That hand gradient disagrees with the true one; the correct ReLU derivative agrees.
    """
    rng = np.random.default_rng(5)
    net = init_regression_net(rng)
    x = rng.random(2)
    _, g_ag = regression_autograd(net, x, "relu")
    u1 = x @ net["W1"] + net["b1"]
    z1 = np.maximum(0.0, u1)
    y = z1 @ net["W2"] + net["b2"]
    delta2 = y - target(x)
    wrong_delta1 = delta2 * net["W2"] * np_sigmoid(z1) * (1.0 - np_sigmoid(z1))
    right_delta1 = delta2 * net["W2"] * (u1 > 0)
    assert_close(g_ag["b1"], right_delta1)
    assert_close(g_ag["W1"], np.outer(x, right_delta1))
    assert np.abs(g_ag["b1"] - wrong_delta1).max() > 1e-3
    assert np.abs(g_ag["W1"] - np.outer(x, wrong_delta1)).max() > 1e-3


@pytest.mark.parametrize("act", ["relu", "sigmoid"])
def test_seed001_online_sgd_trajectory(act: str) -> None:
    """Online SGD (lr 0.07) driven by autograd follows the hand-derived run step for step."""
    rng = np.random.default_rng(3)
    start = init_regression_net(rng)
    samples = rng.random((150, 2))
    lr = 0.07
    by_hand = {k: v.copy() for k, v in start.items()}
    by_ag = {k: v.copy() for k, v in start.items()}
    losses = []
    for x in samples:
        loss_h, g_h = regression_by_hand(by_hand, x, act)
        loss_a, g_a = regression_autograd(by_ag, x, act)
        assert loss_a == pytest.approx(loss_h, rel=1e-9, abs=1e-300)
        losses.append(loss_a)
        for k in by_hand:
            by_hand[k] = by_hand[k] - lr * g_h[k]
            by_ag[k] = by_ag[k] - lr * g_a[k]
    for k in start:
        assert_close(by_ag[k], by_hand[k])
    assert np.mean(losses[-30:]) < np.mean(losses[:30])  # and it learns


# ---------------------------------------------------------------------------------------------
# Seed 003, Nielsen's Network: column vectors, w of shape (n_out, n_in), b of shape (n_out, 1)
# ---------------------------------------------------------------------------------------------


def nielsen_init(sizes: list[int], rng: np.random.Generator) -> tuple[list[np.ndarray], list[np.ndarray]]:
    biases = [rng.standard_normal((n_out, 1)) for n_out in sizes[1:]]
    weights = [rng.standard_normal((n_out, n_in)) / np.sqrt(n_in) for n_in, n_out in itertools.pairwise(sizes)]
    return weights, biases


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    s = np_sigmoid(z)
    return s * (1.0 - s)


def nielsen_backprop(
    weights: list[np.ndarray], biases: list[np.ndarray], x: np.ndarray, y: np.ndarray, cost: str
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """nabla_b, nabla_w for one column sample, derived layer by layer.

    Output error: delta_L = (a_L - y) * sigma'(z_L) (quadratic) or a_L - y (cross-entropy).
    Then nabla_b^l = delta_l, nabla_w^l = delta_l a_{l-1}^T, delta_{l-1} = (w_l^T delta_l) * sigma'(z_{l-1}).
    """
    activations, zs = [x], []
    for w, b in zip(weights, biases):
        zs.append(w @ activations[-1] + b)
        activations.append(np_sigmoid(zs[-1]))
    if cost == "quadratic":
        delta = (activations[-1] - y) * sigmoid_prime(zs[-1])
    else:
        delta = activations[-1] - y
    n_layers = len(weights)
    nabla_b: list[np.ndarray] = [np.empty(0)] * n_layers
    nabla_w: list[np.ndarray] = [np.empty(0)] * n_layers
    nabla_b[-1] = delta
    nabla_w[-1] = delta @ activations[-2].T
    for back in range(2, n_layers + 1):
        delta = (weights[-back + 1].T @ delta) * sigmoid_prime(zs[-back])
        nabla_b[-back] = delta
        nabla_w[-back] = delta @ activations[-back - 1].T
    return nabla_b, nabla_w


def nielsen_cost_value(a: np.ndarray, y: np.ndarray, cost: str) -> float:
    if cost == "quadratic":
        return float(0.5 * np.linalg.norm(a - y) ** 2)
    return float(np.sum(-y * np.log(a) - (1 - y) * np.log(1 - a)))


def nielsen_autograd(
    weights: list[np.ndarray], biases: list[np.ndarray], x: np.ndarray, y: np.ndarray, cost: str
) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
    """The summed cost over the columns of x (one column or a mini-batch), differentiated by autograd."""
    ws = [ag.Tensor(w, requires_grad=True) for w in weights]
    bs = [ag.Tensor(b, requires_grad=True) for b in biases]
    a = ag.tensor(x)
    for w, b in zip(ws, bs):
        a = (w @ a + b).sigmoid()
    yt = ag.tensor(y)
    if cost == "quadratic":
        c = 0.5 * ((a - yt) ** 2).sum()
    else:
        c = (-yt * a.log() - (1 - yt) * (1 - a).log()).sum()
    c.backward()
    return c.item(), [grad_of(b) for b in bs], [grad_of(w) for w in ws]


def one_hot_column(k: int, n: int) -> np.ndarray:
    col = np.zeros((n, 1))
    col[k] = 1.0
    return col


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
@pytest.mark.parametrize("sizes", [[4, 5, 3], [2, 3, 1], [3, 6, 4, 2], [784, 30, 10]], ids=str)
def test_seed003_backprop_one_sample(sizes: list[int], cost: str) -> None:
    rng = np.random.default_rng(sum(sizes))
    weights, biases = nielsen_init(sizes, rng)
    x = rng.random((sizes[0], 1))  # pixel-like inputs in [0, 1)
    y = one_hot_column(int(rng.integers(sizes[-1])), sizes[-1])
    c_ag, nb_ag, nw_ag = nielsen_autograd(weights, biases, x, y, cost)
    nb, nw = nielsen_backprop(weights, biases, x, y, cost)

    a = x
    for w, b in zip(weights, biases):
        a = np_sigmoid(w @ a + b)
    assert c_ag == pytest.approx(nielsen_cost_value(a, y, cost), rel=1e-13)
    for layer in range(len(weights)):
        assert nb_ag[layer].shape == biases[layer].shape
        assert nw_ag[layer].shape == weights[layer].shape
        assert_close(nb_ag[layer], nb[layer])
        assert_close(nw_ag[layer], nw[layer])
    assert np.abs(nb[0]).max() > 1e-6  # the first layer really receives a gradient


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
def test_seed003_minibatch_sums_per_sample_nablas(cost: str) -> None:
    """update_mini_batch sums backprop's nablas over the batch: the same as autograd of the
    summed cost with the batch laid out as columns (b of shape (n, 1) broadcast across them)."""
    sizes = [4, 5, 3]
    rng = np.random.default_rng(7)
    weights, biases = nielsen_init(sizes, rng)
    m = 6
    X = rng.random((sizes[0], m))
    Y = np.concatenate([one_hot_column(int(k), sizes[-1]) for k in rng.integers(sizes[-1], size=m)], axis=1)
    sum_b = [np.zeros(b.shape) for b in biases]
    sum_w = [np.zeros(w.shape) for w in weights]
    for j in range(m):
        nb, nw = nielsen_backprop(weights, biases, X[:, j : j + 1], Y[:, j : j + 1], cost)
        sum_b = [s + g for s, g in zip(sum_b, nb)]
        sum_w = [s + g for s, g in zip(sum_w, nw)]
    _, nb_ag, nw_ag = nielsen_autograd(weights, biases, X, Y, cost)
    for layer in range(len(weights)):
        assert_close(nb_ag[layer], sum_b[layer])
        assert_close(nw_ag[layer], sum_w[layer])


def test_seed003_cross_entropy_delta_drops_sigma_prime() -> None:
    """For a sigmoid output the two costs differ exactly by the factor sigma'(z_L) in nabla_b[-1]."""
    rng = np.random.default_rng(9)
    weights, biases = nielsen_init([4, 5, 3], rng)
    x, y = rng.random((4, 1)), one_hot_column(2, 3)
    _, nb_q, _ = nielsen_autograd(weights, biases, x, y, "quadratic")
    _, nb_ce, _ = nielsen_autograd(weights, biases, x, y, "cross_entropy")
    a1 = np_sigmoid(weights[0] @ x + biases[0])
    z2 = weights[1] @ a1 + biases[1]
    assert_close(nb_q[-1], nb_ce[-1] * sigmoid_prime(z2))


# ---------------------------------------------------------------------------------------------
# Seed 004, the 2-2-1 sigmoid net with every partial derivative written out
# ---------------------------------------------------------------------------------------------

TOY_X = np.array([[-2.0, -1.0], [25.0, 6.0], [17.0, 4.0], [-15.0, -6.0]])
TOY_Y = np.array([1.0, 0.0, 0.0, 1.0])
TOY_NAMES = ("w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "b3")


def toy_init(rng: np.random.Generator, scale: float = 1.0) -> dict[str, float]:
    return {name: float(scale * rng.normal()) for name in TOY_NAMES}


def toy_chain_rule(p: dict[str, float], x: np.ndarray, y_true: float) -> dict[str, float]:
    """dL/dparam for L = (y_true - y_pred)^2 on one sample, as products of local derivatives.

    h1 = w1 x0 + w2 x1 + b1, h2 = w3 x0 + w4 x1 + b2, o = w5 s(h1) + w6 s(h2) + b3, y_pred = s(o).
    """

    def ds(v: float) -> float:
        s = 1.0 / (1.0 + np.exp(-v))
        return s * (1.0 - s)

    h1 = p["w1"] * x[0] + p["w2"] * x[1] + p["b1"]
    h2 = p["w3"] * x[0] + p["w4"] * x[1] + p["b2"]
    f1, f2 = 1.0 / (1.0 + np.exp(-h1)), 1.0 / (1.0 + np.exp(-h2))
    o = p["w5"] * f1 + p["w6"] * f2 + p["b3"]
    y_pred = 1.0 / (1.0 + np.exp(-o))

    dL_dypred = -2.0 * (y_true - y_pred)
    dypred_dh1 = ds(o) * p["w5"]  # through f1 = s(h1): d y_pred / d f1
    dypred_dh2 = ds(o) * p["w6"]
    dh1_dw1, dh1_dw2, dh1_db1 = ds(h1) * x[0], ds(h1) * x[1], ds(h1)
    dh2_dw3, dh2_dw4, dh2_db2 = ds(h2) * x[0], ds(h2) * x[1], ds(h2)
    dypred_dw5, dypred_dw6, dypred_db3 = ds(o) * f1, ds(o) * f2, ds(o)
    return {
        "w1": dL_dypred * dypred_dh1 * dh1_dw1,
        "w2": dL_dypred * dypred_dh1 * dh1_dw2,
        "w3": dL_dypred * dypred_dh2 * dh2_dw3,
        "w4": dL_dypred * dypred_dh2 * dh2_dw4,
        "w5": dL_dypred * dypred_dw5,
        "w6": dL_dypred * dypred_dw6,
        "b1": dL_dypred * dypred_dh1 * dh1_db1,
        "b2": dL_dypred * dypred_dh2 * dh2_db2,
        "b3": dL_dypred * dypred_db3,
    }


def toy_autograd(p: dict[str, float], X: np.ndarray, y_true: np.ndarray) -> tuple[float, dict[str, float]]:
    """MSE mean((y_true - y_pred)^2) over the rows of X, with nine 0-d parameter tensors."""
    t = {k: ag.Tensor(v, requires_grad=True) for k, v in p.items()}
    x0, x1 = ag.tensor(X[:, 0]), ag.tensor(X[:, 1])
    f1 = (t["w1"] * x0 + t["w2"] * x1 + t["b1"]).sigmoid()
    f2 = (t["w3"] * x0 + t["w4"] * x1 + t["b2"]).sigmoid()
    y_pred = (t["w5"] * f1 + t["w6"] * f2 + t["b3"]).sigmoid()
    loss = ((ag.tensor(y_true) - y_pred) ** 2).mean()
    loss.backward()
    grads = {}
    for k, v in t.items():
        g = grad_of(v)
        assert g.shape == (), (k, g.shape)
        grads[k] = float(g)
    return loss.item(), grads


@pytest.mark.parametrize("scale", [0.1, 1.0], ids=["small-weights", "seed-init"])
@pytest.mark.parametrize("sample", range(4))
def test_seed004_chain_rule_products_one_sample(sample: int, scale: float) -> None:
    rng = np.random.default_rng(40 + sample)
    p = toy_init(rng, scale)
    x, y = TOY_X[sample : sample + 1], TOY_Y[sample : sample + 1]
    _, g_ag = toy_autograd(p, x, y)
    g_hand = toy_chain_rule(p, x[0], float(y[0]))
    for name in TOY_NAMES:
        assert_close(g_ag[name], g_hand[name])
    if scale == 0.1:  # unsaturated: every partial is far from zero, so the check has teeth
        assert min(abs(v) for v in g_hand.values()) > 1e-6


def test_seed004_full_batch_mse_is_mean_of_sample_products() -> None:
    rng = np.random.default_rng(44)
    p = toy_init(rng, 0.1)
    loss, g_ag = toy_autograd(p, TOY_X, TOY_Y)
    x0, x1 = TOY_X[:, 0], TOY_X[:, 1]
    f1 = np_sigmoid(p["w1"] * x0 + p["w2"] * x1 + p["b1"])
    f2 = np_sigmoid(p["w3"] * x0 + p["w4"] * x1 + p["b2"])
    y_pred = np_sigmoid(p["w5"] * f1 + p["w6"] * f2 + p["b3"])
    assert loss == pytest.approx(np.mean((TOY_Y - y_pred) ** 2), rel=1e-13)
    per_sample = [toy_chain_rule(p, x, float(y)) for x, y in zip(TOY_X, TOY_Y)]
    for name in TOY_NAMES:
        assert_close(g_ag[name], np.mean([g[name] for g in per_sample]))


def test_seed004_sgd_trajectory_matches_hand_updates() -> None:
    """Per-sample SGD (lr 0.1) from the same start: autograd's updates track the hand-written ones."""
    rng = np.random.default_rng(4)
    start = toy_init(rng)
    by_hand, by_ag = dict(start), dict(start)
    lr = 0.1
    for _ in range(20):
        for x, y in zip(TOY_X, TOY_Y):
            g_h = toy_chain_rule(by_hand, x, float(y))
            _, g_a = toy_autograd(by_ag, x[None, :], np.array([y]))
            by_hand = {k: by_hand[k] - lr * g_h[k] for k in TOY_NAMES}
            by_ag = {k: by_ag[k] - lr * g_a[k] for k in TOY_NAMES}
    for name in TOY_NAMES:
        assert_close(by_ag[name], by_hand[name])


# ---------------------------------------------------------------------------------------------
# Seed 004, 1-D linear regression y = w x + b by gradient descent
# ---------------------------------------------------------------------------------------------

LIN_X = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
LIN_Y = np.array([1.0, 2.0, 3.0, 4.0, 5.0])


def linreg_autograd(w: float, b: float, x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    wt, bt = ag.Tensor(w, requires_grad=True), ag.Tensor(b, requires_grad=True)
    loss = ((wt * ag.tensor(x) + bt - ag.tensor(y)) ** 2).mean()
    loss.backward()
    return loss.item(), float(grad_of(wt)), float(grad_of(bt))


def linreg_by_hand(w: float, b: float, x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """L = mean(r^2), r = w x + b - y: dL/dw = 2 mean(r x), dL/db = 2 mean(r)."""
    r = w * x + b - y
    return float(np.mean(r**2)), float(2 * np.mean(r * x)), float(2 * np.mean(r))


def test_seed004_linear_regression_worked_example() -> None:
    # The seed's example: w = 2, b = 1 at x = 1 predicts 3 against 1, loss 4; dL/dw = dL/db = 2 * 2 * 1.
    assert linreg_autograd(2.0, 1.0, LIN_X[:1], LIN_Y[:1]) == pytest.approx((4.0, 4.0, 4.0), rel=1e-15)
    # Over all five points: r = x + 1, loss = mean((x+1)^2) = 18, dL/dw = 2 mean(x^2 + x) = 28, dL/db = 8.
    assert linreg_autograd(2.0, 1.0, LIN_X, LIN_Y) == pytest.approx((18.0, 28.0, 8.0), rel=1e-15)


@pytest.mark.parametrize("seed", range(4))
def test_seed004_linear_regression_gradient(seed: int) -> None:
    rng = np.random.default_rng(seed)
    w, b = rng.normal(size=2)
    x, y = rng.normal(size=9), rng.normal(size=9)
    got = linreg_autograd(float(w), float(b), x, y)
    want = linreg_by_hand(float(w), float(b), x, y)
    assert_close(np.array(got), np.array(want))


def test_seed004_linear_regression_descends_to_identity() -> None:
    """Gradient descent from w = 2, b = 1 ends at w = 1, b = 0, as the seed says, tracking the hand run."""
    lr = 0.08  # below 2 / the largest Hessian eigenvalue (2 (6 + sqrt 34) ~ 23.7)
    w_a, b_a = w_h, b_h = 2.0, 1.0
    for _ in range(1000):
        _, gw, gb = linreg_autograd(w_a, b_a, LIN_X, LIN_Y)
        w_a, b_a = w_a - lr * gw, b_a - lr * gb
        _, gw, gb = linreg_by_hand(w_h, b_h, LIN_X, LIN_Y)
        w_h, b_h = w_h - lr * gw, b_h - lr * gb
    assert (w_a, b_a) == pytest.approx((w_h, b_h), rel=1e-10, abs=1e-12)
    assert w_a == pytest.approx(1.0, abs=1e-8)
    assert b_a == pytest.approx(0.0, abs=1e-8)
