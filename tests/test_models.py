"""The seeds' networks rebuilt from nn parts: their interfaces, gradients and training."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
from nn.models import CrossEntropyCost, Net221, Network, QuadraticCost, RegressionNet, TwoLayerNet


def _blobs(n: int, features: int, classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Separable clusters: a quick stand-in for MNIST in shape, not in size."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((classes, features)) * 3
    labels = rng.integers(0, classes, n)
    return centres[labels] + rng.standard_normal((n, features)), labels


def test_two_layer_net_params_use_the_books_layout_and_share_memory() -> None:
    net = TwoLayerNet(784, 50, 10, generator=np.random.default_rng(0))
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes == {"W1": (784, 50), "b1": (50,), "W2": (50, 10), "b2": (10,)}
    assert np.shares_memory(net.params["W1"], net.fc1.weight.data)
    assert abs(net.params["W1"].std() - 0.01) < 0.001 and not net.params["b1"].any()
    net.params["W2"][3, 7] = 42.0
    assert net.fc2.weight.data[7, 3] == 42.0


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_two_layer_net_backprop_equals_its_numerical_gradient(activation: str) -> None:
    net = TwoLayerNet(12, 6, 4, weight_init_std=0.5, generator=np.random.default_rng(1), activation=activation)
    x, t = _blobs(5, 12, 4)
    analytic = net.gradient(x, t)
    numerical = net.numerical_gradient(x, t)
    for key in ("W1", "b1", "W2", "b2"):
        assert analytic[key].shape == net.params[key].shape
        np.testing.assert_allclose(analytic[key], numerical[key], rtol=1e-5, atol=1e-9, err_msg=key)
    assert all(p.grad is None for p in net.parameters())  # gradient() leaves no .grad behind


def test_two_layer_net_numerical_gradient_of_chosen_elements_only() -> None:
    net = TwoLayerNet(12, 6, 4, weight_init_std=0.5, generator=np.random.default_rng(1))
    x, t = _blobs(5, 12, 4)
    analytic = net.gradient(x, t)
    chosen = {"W1": [(0, 0), (11, 5)], "b2": [(3,)]}
    numerical = net.numerical_gradient(x, t, indices=chosen)
    for key in ("W1", "b1", "W2", "b2"):
        expected = np.zeros(net.params[key].shape)
        for i in chosen.get(key, ()):
            expected[i] = analytic[key][i]
        np.testing.assert_allclose(numerical[key], expected, rtol=1e-5, atol=1e-12, err_msg=key)
    with pytest.raises(KeyError, match=r"no parameter named \['w1'\]; the parameters are \['W1', 'b1', 'W2', 'b2'\]"):
        net.numerical_gradient(x, t, indices={"w1": [(0, 0)]})


def test_the_books_update_loop_trains_the_net() -> None:
    net = TwoLayerNet(8, 16, 3, weight_init_std=0.1, generator=np.random.default_rng(2))
    x, t = _blobs(120, 8, 3)
    one_hot = np.eye(3)[t]
    before = net.loss(x, one_hot).item()
    for _ in range(200):
        grad = net.gradient(x, one_hot)
        for key in ("W1", "b1", "W2", "b2"):
            net.params[key] -= 0.5 * grad[key]
    assert net.loss(x, t).item() < 0.2 * before
    assert net.accuracy(x, one_hot) == net.accuracy(x, t) > 0.95
    np.testing.assert_allclose(net.predict(x).data.sum(axis=1), 1.0)


def _column_data(x: np.ndarray, labels: np.ndarray, classes: int) -> tuple[list, list]:
    train = [(row.reshape(-1, 1), np.eye(classes)[k].reshape(-1, 1)) for row, k in zip(x, labels)]
    test = [(row.reshape(-1, 1), int(k)) for row, k in zip(x, labels)]
    return train, test


@pytest.mark.parametrize("cost", [QuadraticCost, CrossEntropyCost])
def test_nielsen_network_learns_with_either_cost(cost: type) -> None:
    x, labels = _blobs(150, 6, 3, seed=3)
    train, test = _column_data(x, labels, 3)
    net = Network([6, 10, 3], cost=cost, generator=np.random.default_rng(0))
    assert net.feedforward(train[0][0]).shape == (3, 1)
    before = net.evaluate(test)
    history = net.SGD(train, 15, 10, 1.0, test_data=test, generator=np.random.default_rng(1), verbose=False)
    assert len(history) == 15 and history[-1] >= 0.95 * len(test) > before


def test_nielsen_views_backprop_shapes_and_l2() -> None:
    net = Network([4, 5, 3], generator=np.random.default_rng(0))
    assert [w.shape for w in net.weights] == [(5, 4), (3, 5)]
    assert [b.shape for b in net.biases] == [(5, 1), (3, 1)]
    assert np.shares_memory(net.weights[0], net.layer0.weight.data)
    nabla_b, nabla_w = net.backprop(np.ones((4, 1)), np.array([[1.0], [0.0], [0.0]]))
    assert [b.shape for b in nabla_b] == [(5, 1), (3, 1)] and [w.shape for w in nabla_w] == [(5, 4), (3, 5)]
    # A zero input gives the first layer a zero weight gradient, so with eta*lmbda/n = 0.5
    # only the L2 term acts: those weights shrink by exactly half.
    sample = (np.zeros((4, 1)), np.zeros((3, 1)))
    assert not net.backprop(*sample)[1][0].any()
    w0 = net.weights[0].copy()
    net.update_mini_batch([sample], eta=1.0, lmbda=0.5, n=1)
    np.testing.assert_allclose(net.weights[0], 0.5 * w0)
    with pytest.raises(ValueError, match="at least an input and an output layer"):
        Network([3])


SEED_004_POINTS = np.array([[-2.0, -1.0], [25.0, 6.0], [17.0, 4.0], [-15.0, -6.0]])
SEED_004_LABELS = np.array([1.0, 0.0, 0.0, 1.0])


def test_net221_classifies_seed_004s_points_after_the_seeds_training() -> None:
    net = Net221(generator=np.random.default_rng(0))
    loss_fn = nn.MSELoss()
    for _ in range(1000):  # the seed: 1000 epochs, one sample at a time, lr 0.1
        for x, y in zip(SEED_004_POINTS, SEED_004_LABELS):
            net.zero_grad()
            loss_fn(net(ag.tensor(x)), np.array([y])).backward()
            for p in net.parameters():
                p.data -= 0.1 * p.grad.data
    with ag.no_grad():
        predictions = net(ag.tensor(SEED_004_POINTS)).data.ravel()
    np.testing.assert_array_equal(predictions > 0.5, SEED_004_LABELS > 0.5)


def test_regression_net_learns_seed_001s_plane() -> None:
    rng = np.random.default_rng(0)
    net = RegressionNet(generator=rng)
    loss_fn = nn.MSELoss(halved=True)
    for _ in range(3000):  # online SGD as in the seed, lr 0.07
        x = rng.random(2)
        net.zero_grad()
        loss_fn(net(ag.tensor(x)), np.array([3 * x[0] + 2 * x[1]])).backward()
        for p in net.parameters():
            p.data -= 0.07 * p.grad.data
    test_x = rng.random((200, 2))
    with ag.no_grad():
        mse = np.mean((net(ag.tensor(test_x)).data.ravel() - test_x @ np.array([3.0, 2.0])) ** 2)
    assert mse < 1e-3
    with pytest.raises(ValueError, match="'relu' or 'sigmoid'"):
        RegressionNet(activation="tanh")


def test_two_layer_net_rejects_an_unknown_activation() -> None:
    with pytest.raises(ValueError, match="'sigmoid' \\(the seeds'\\) or 'relu'"):
        TwoLayerNet(4, 3, 2, activation="tanh")
