"""The reference rows, written by hand in numpy: backprop with the analytic gradients, and the seeds' numerical one.

`two_layer_minimal` is the floor of the MNIST workloads: seed 000/002's net in the fewest numpy
calls. `layer_classes` is the same arithmetic organised as the book's chapter 5 layers (Affine,
Sigmoid, ReLU, SoftmaxWithLoss, each with forward and backward). Every floor computes the loss
value too, as every engine must.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .problems import CHAIN_CYCLE, ChainProblem, CnnProblem, EpochProblem, Impl, NetProblem


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _softmax_cross_entropy(logits: np.ndarray, t: np.ndarray, rows: np.ndarray) -> tuple[Any, np.ndarray]:
    """Mean cross-entropy from logits and class indices, and its gradient with respect to the logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(total[:, 0]) - shifted[rows, t])
    dy = e / total
    dy[rows, t] -= 1
    dy /= len(t)
    return loss, dy


def _named(loss: Any, grads: list[np.ndarray]) -> dict[str, Any]:
    names = [f"{n}{i}" for i in range(1, len(grads) // 2 + 1) for n in ("W", "b")]
    return {"loss": loss, **dict(zip(names, grads))}


def _sgd_impl(arrays: list[np.ndarray], lr: float, gradients: Any) -> Impl:
    """A floor from its hand-written `gradients()` (loss, then one gradient per array): SGD in place."""

    def step() -> None:
        for w, g in zip(arrays, gradients()[1:]):
            w -= lr * g

    def check() -> dict[str, Any]:
        loss, *grads = gradients()
        return _named(loss, grads)

    return Impl(check, step)


# ------------------------------------------------------------------ minimal: the floor


def two_layer_minimal(p: NetProblem) -> Impl:
    """The seeds' two-layer sigmoid net with softmax cross-entropy, backprop by hand (the floor)."""
    (W1, b1), (W2, b2) = p.copy_params()
    x, t, lr, rows = p.x, p.t, p.lr, np.arange(len(p.t))

    def gradients() -> tuple[Any, ...]:
        z1 = sigmoid(x @ W1 + b1)
        loss, dy = _softmax_cross_entropy(z1 @ W2 + b2, t, rows)
        dz1 = (dy @ W2.T) * (1 - z1) * z1
        return loss, x.T @ dz1, dz1.sum(axis=0), z1.T @ dy, dy.sum(axis=0)

    return _sgd_impl([W1, b1, W2, b2], lr, gradients)


def xor_minimal(p: NetProblem) -> Impl:
    """Seed 004's 2-2-1 sigmoid net on one sample, mean squared error, backprop by hand (the floor)."""
    (W1, b1), (W2, b2) = p.copy_params()
    x, t, lr = p.x, p.t, p.lr

    def gradients() -> tuple[Any, ...]:
        h = sigmoid(x @ W1 + b1)
        y = sigmoid(h @ W2 + b2)
        diff = y - t
        loss = np.mean(diff * diff)
        dy = (2 / diff.size) * diff * (1 - y) * y
        dh = (dy @ W2.T) * (1 - h) * h
        return loss, x.T @ dh, dh.sum(axis=0), h.T @ dy, dy.sum(axis=0)

    return _sgd_impl([W1, b1, W2, b2], lr, gradients)


def _mlp_gradients(params: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray, t: np.ndarray, relu: bool
                   ) -> tuple[Any, list[np.ndarray]]:  # fmt: skip
    """Loss and [dW1, db1, dW2, ...] of a ReLU (or sigmoid) net with softmax cross-entropy, by hand."""
    inputs = [x]
    for W, b in params[:-1]:
        a = inputs[-1] @ W + b
        inputs.append(np.maximum(a, 0) if relu else sigmoid(a))
    W, b = params[-1]
    loss, dy = _softmax_cross_entropy(inputs[-1] @ W + b, t, np.arange(len(t)))
    grads: list[np.ndarray] = []
    for i in range(len(params) - 1, -1, -1):
        h = inputs[i]
        grads[:0] = [h.T @ dy, dy.sum(axis=0)]
        if i:
            dy = (dy @ params[i][0].T) * ((h > 0) if relu else (1 - h) * h)
    return loss, grads


def mlp_minimal(p: NetProblem) -> Impl:
    """Any depth of ReLU (or sigmoid) layers with softmax cross-entropy, backprop by hand (mlp-large's floor)."""
    params = p.copy_params()
    x, t, lr = p.x, p.t, p.lr
    relu = p.activation == "relu"

    def step() -> None:
        _, grads = _mlp_gradients(params, x, t, relu)
        for (W, b), gW, gb in zip(params, grads[::2], grads[1::2]):
            W -= lr * gW
            b -= lr * gb

    def check() -> dict[str, Any]:
        loss, grads = _mlp_gradients(params, x, t, relu)
        return _named(loss, grads)

    return Impl(check, step)


def sgd_update(arrays: list[np.ndarray], lr: float) -> Callable[[list[np.ndarray]], None]:
    """PyTorch's plain SGD: p -= lr * g."""

    def update(grads: list[np.ndarray]) -> None:
        for a, g in zip(arrays, grads):
            a -= lr * g

    return update


def adam_update(arrays: list[np.ndarray], lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
                ) -> Callable[[list[np.ndarray]], None]:  # fmt: skip
    """PyTorch's documented Adam, in place into buffers made once (the moments m, v and two scratch arrays):
    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)."""
    beta1, beta2 = betas
    buffers = [tuple(np.zeros_like(a) for _ in range(4)) for a in arrays]
    count = [0]

    def update(grads: list[np.ndarray]) -> None:
        count[0] += 1
        correction1, correction2 = 1 - beta1 ** count[0], 1 - beta2 ** count[0]
        for a, g, (m, v, s1, s2) in zip(arrays, grads, buffers):
            np.multiply(g, 1 - beta1, out=s1)
            m *= beta1
            m += s1
            np.multiply(g, g, out=s2)
            s2 *= 1 - beta2
            v *= beta2
            v += s2
            np.divide(m, correction1, out=s1)
            s1 *= lr
            np.divide(v, correction2, out=s2)
            np.sqrt(s2, out=s2)
            s2 += eps
            s1 /= s2
            a -= s1

    return update


def epoch_minimal(p: EpochProblem) -> Impl:
    """The first epoch of minibatch training of p's net from its starting weights, backprop and the optimiser by
    hand (the epoch workload's floor); `check` trains on the checked batches and returns the parameters."""
    relu = p.activation == "relu"
    make_update = adam_update if p.optimizer == "adam" else sgd_update
    batches = p.batches()
    trained: list[np.ndarray] = []

    def epoch(batches: list[Any] = batches) -> None:
        params = p.copy_params()  # every epoch starts afresh, with a new optimiser
        arrays = [a for pair in params for a in pair]
        update = make_update(arrays, p.lr)
        for x, t in batches:
            update(_mlp_gradients(params, x, t, relu)[1])
        trained[:] = arrays

    def check() -> dict[str, Any]:
        epoch(p.checked_batches(batches))
        return dict(zip(p.grad_keys(), trained))

    return Impl(check, epoch)


def _conv_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A 5x5 'valid' convolution (PyTorch's cross-correlation) by one tensordot over x's windows; and the windows."""
    windows = np.lib.stride_tricks.sliding_window_view(x, W.shape[2:], axis=(2, 3))  # (N, C, OH, OW, kh, kw)
    out = np.tensordot(windows, W, axes=([1, 4, 5], [1, 2, 3]))  # (N, OH, OW, O)
    return out.transpose(0, 3, 1, 2) + b.reshape(1, -1, 1, 1), windows


def _conv_input_grad(dout: np.ndarray, W: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The convolution's gradient for its input: each kernel offset's share added where it was read."""
    dx = np.zeros(shape, dtype=dout.dtype)
    oh, ow = dout.shape[2:]
    for i in range(W.shape[2]):
        for j in range(W.shape[3]):
            dx[:, :, i : i + oh, j : j + ow] += np.einsum("nopq,oc->ncpq", dout, W[:, :, i, j])
    return dx


def _max_pool2(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2x2 max-pooling, and a mask of the element that won each window (the first maximum, as PyTorch)."""
    n, c, h, w = x.shape
    blocks = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
    first = blocks.argmax(axis=-1)
    mask = np.arange(4) == first[..., None]
    return np.take_along_axis(blocks, first[..., None], axis=-1)[..., 0], mask


def _unpool2(d: np.ndarray, mask: np.ndarray) -> np.ndarray:
    n, c, oh, ow = d.shape
    spread = (d[..., None] * mask).reshape(n, c, oh, ow, 2, 2).transpose(0, 1, 2, 4, 3, 5)
    return spread.reshape(n, c, 2 * oh, 2 * ow)


def _lenet_gradients(w: dict[str, np.ndarray], x: np.ndarray, t: np.ndarray) -> tuple[Any, dict[str, np.ndarray]]:
    """LeNet's loss and gradients by hand: conv, ReLU, pool, conv, ReLU, pool, linear, ReLU, linear, cross-entropy."""
    a1, win1 = _conv_forward(x, w["conv1.weight"], w["conv1.bias"])
    h1 = np.maximum(a1, 0)
    p1, mask1 = _max_pool2(h1)
    a2, win2 = _conv_forward(p1, w["conv2.weight"], w["conv2.bias"])
    h2 = np.maximum(a2, 0)
    p2, mask2 = _max_pool2(h2)
    f = p2.reshape(len(x), -1)
    a3 = f @ w["fc1.weight"].T + w["fc1.bias"]
    h3 = np.maximum(a3, 0)
    loss, dy = _softmax_cross_entropy(h3 @ w["fc2.weight"].T + w["fc2.bias"], t, np.arange(len(t)))
    g = {"fc2.weight": dy.T @ h3, "fc2.bias": dy.sum(axis=0)}
    da3 = (dy @ w["fc2.weight"]) * (a3 > 0)
    g["fc1.weight"], g["fc1.bias"] = da3.T @ f, da3.sum(axis=0)
    da2 = _unpool2((da3 @ w["fc1.weight"]).reshape(p2.shape), mask2) * (a2 > 0)
    g["conv2.weight"] = np.tensordot(da2, win2, axes=([0, 2, 3], [0, 2, 3]))
    g["conv2.bias"] = da2.sum(axis=(0, 2, 3))
    da1 = _unpool2(_conv_input_grad(da2, w["conv2.weight"], p1.shape), mask1) * (a1 > 0)
    g["conv1.weight"] = np.tensordot(da1, win1, axes=([0, 2, 3], [0, 2, 3]))
    g["conv1.bias"] = da1.sum(axis=(0, 2, 3))
    return loss, g


def lenet_minimal(p: CnnProblem) -> Impl:
    """One training step of LeNet by hand (windows by sliding_window_view, products by tensordot) with PyTorch's
    Adam: the cnn-step floor. `check` gives the first step's loss and gradients and the parameters after it."""
    params = p.copy_params()
    names = list(params)
    update = adam_update([params[k] for k in names], p.lr)

    def step() -> Any:
        loss, grads = _lenet_gradients(params, p.x, p.t)
        update([grads[k] for k in names])
        return loss

    def check() -> dict[str, Any]:
        loss, grads = _lenet_gradients(params, p.x, p.t)
        update([grads[k] for k in names])
        return {"loss": loss, **{f"grad {k}": grads[k] for k in names}, **{k: params[k].copy() for k in names}}

    return Impl(check, step)


def forward_minimal(p: NetProblem) -> Impl:
    """Plain numpy forward of the two-layer net: the logits (inference's floor)."""
    (W1, b1), (W2, b2) = p.params
    x = p.x

    def forward() -> np.ndarray:
        return sigmoid(x @ W1 + b1) @ W2 + b2

    return Impl(lambda: {"logits": forward()}, forward)


# ------------------------------------------------------------------ layer classes (the book's chapter 5)


class Affine:
    def __init__(self, W: np.ndarray, b: np.ndarray):
        self.W, self.b = W, b

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Sigmoid:
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * (1 - self.out) * self.out


class Relu:
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dout[self.mask] = 0
        return dout


class SoftmaxWithLoss:
    """Softmax cross-entropy from logits and class indices; log-sum-exp instead of the book's 1e-7 guard."""

    def forward(self, x: np.ndarray, t: np.ndarray) -> Any:
        self.t = t
        shifted = x - x.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        self.y = e / total
        return np.mean(np.log(total[:, 0]) - shifted[np.arange(len(t)), t])

    def backward(self) -> np.ndarray:
        dx = self.y.copy()
        dx[np.arange(len(self.t)), self.t] -= 1
        return dx / len(self.t)


class MeanSquaredLoss:
    def forward(self, y: np.ndarray, t: np.ndarray) -> Any:
        self.diff = y - t
        return np.mean(self.diff * self.diff)

    def backward(self) -> np.ndarray:
        return (2 / self.diff.size) * self.diff


class LayerNet:
    """The book's `TwoLayerNet` of chapter 5, for any depth: an ordered list of layers and a last layer."""

    def __init__(self, p: NetProblem):
        self.params = p.copy_params()
        self.layers: list[Any] = []
        for i, (W, b) in enumerate(self.params):
            self.layers.append(Affine(W, b))
            if i < len(self.params) - 1 or p.output_sigmoid:
                self.layers.append(Relu() if p.activation == "relu" else Sigmoid())
        self.last_layer = SoftmaxWithLoss() if p.loss == "cross_entropy" else MeanSquaredLoss()
        self.lr = p.lr

    def loss(self, x: np.ndarray, t: np.ndarray) -> Any:
        for layer in self.layers:
            x = layer.forward(x)
        return self.last_layer.forward(x, t)

    def gradient(self, x: np.ndarray, t: np.ndarray) -> tuple[Any, list[np.ndarray]]:
        loss = self.loss(x, t)
        dout = self.last_layer.backward()
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        affines = [layer for layer in self.layers if isinstance(layer, Affine)]
        return loss, [g for a in affines for g in (a.dW, a.db)]

    def step(self, x: np.ndarray, t: np.ndarray) -> None:
        _, grads = self.gradient(x, t)
        for (W, b), gW, gb in zip(self.params, grads[::2], grads[1::2]):
            W -= self.lr * gW
            b -= self.lr * gb


def layer_classes(p: NetProblem) -> Impl:
    net = LayerNet(p)
    return Impl(lambda: _named(*net.gradient(p.x, p.t)), lambda: net.step(p.x, p.t))


# ------------------------------------------------------------------ the op chain


def chain_minimal(p: ChainProblem) -> Impl:
    """The chain's forward and backward arithmetic in bare numpy: only the arrays backward needs are kept."""
    cycles = p.depth // len(CHAIN_CYCLE)

    def run() -> tuple[Any, np.ndarray]:
        y = p.x
        saved = []
        for _ in range(cycles):
            e1 = np.exp(y * 2.0)  # exp saves its output, log its input: the same array
            y = np.log(e1) * 0.5
            e2 = np.exp(y + 1.0)
            y = np.log(e2) - 1.0
            saved.append((e1, e2))
        out = y.sum()
        g = np.ones_like(y)
        for e1, e2 in reversed(saved):  # sub, log, exp, add, mul, log, exp, mul: reversed
            g = (g / e2) * e2
            g = ((g * 0.5) / e1) * e1 * 2.0
        return out, g

    def check() -> dict[str, Any]:
        out, g = run()
        return {"out": out, "x.grad": g}

    return Impl(check, run)


# ------------------------------------------------------------------ the seeds' numerical gradient


def numerical_gradient(loss: Callable[[], float], arrays: list[np.ndarray], indices: list[Any], h: float = 1e-4
                       ) -> list[np.ndarray]:  # fmt: skip
    """The seeds' method: (L(w + h) - L(w - h)) / 2h for each chosen element, one at a time (others stay 0)."""
    grads = []
    for array, chosen in zip(arrays, indices):
        g = np.zeros(array.shape)
        for i in chosen:
            original = array[i]
            array[i] = original + h
            up = loss()
            array[i] = original - h
            down = loss()
            array[i] = original
            g[i] = (up - down) / (2 * h)
        grads.append(g)
    return grads


def two_layer_loss(p: NetProblem, params: list[tuple[np.ndarray, np.ndarray]]) -> Callable[[], float]:
    """The forward pass and loss of the seeds' net on `params` (read afresh on every call)."""
    (W1, b1), (W2, b2) = params
    rows = np.arange(len(p.t))

    def loss() -> float:
        logits = sigmoid(p.x @ W1 + b1) @ W2 + b2
        shifted = logits - logits.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[rows, p.t]))

    return loss
