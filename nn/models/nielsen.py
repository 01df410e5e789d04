"""`Network`: Nielsen's network of seed 003, column-vector layout, trained by mini-batch SGD.

Data comes as the seed has it: a list of (x, y) pairs with x a (784, 1) column and y a
(10, 1) one-hot column for training, or an integer label for test data. Layer l's weight
is (n_out, n_in) and its bias (n_out, 1) -- the same layout as `Linear`, which does the
work. The gradients come from autograd; only the update rule is Nielsen's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import autograd as ag

from .. import functional as F
from .. import init
from ..layers import Linear
from ..module import Module


class QuadraticCost:
    """C = 0.5 * ||a - y||^2, summed over the batch."""

    @staticmethod
    def fn(a: ag.Tensor, y: np.ndarray) -> ag.Tensor:
        return F.mse_loss(a, y, reduction="sum", halved=True)


class CrossEntropyCost:
    """C = -sum(y ln a + (1 - y) ln(1 - a)), summed over the batch; learns fast even when saturated."""

    @staticmethod
    def fn(a: ag.Tensor, y: np.ndarray) -> ag.Tensor:
        return F.binary_cross_entropy(a, y, reduction="sum")


class Network(Module):
    """Nielsen's `Network(sizes, cost)`: sigmoid layers, weights randn / sqrt(n_in), biases randn."""

    def __init__(
        self,
        sizes: Sequence[int],
        cost: type = CrossEntropyCost,
        generator: np.random.Generator | None = None,
    ):
        super().__init__()
        if len(sizes) < 2:
            raise ValueError(f"a network needs at least an input and an output layer, got sizes {list(sizes)}")
        self.sizes, self.cost = list(sizes), cost
        rng = generator if generator is not None else np.random.default_rng()
        for l, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            layer = Linear(n_in, n_out)
            init.lecun_normal_(layer.weight, generator=rng)
            init.normal_(layer.bias, generator=rng)
            setattr(self, f"layer{l}", layer)

    def forward(self, x: Any) -> ag.Tensor:
        """Activations for a batch of row vectors (N, n_in) -> (N, n_out)."""
        for layer in self.children():
            x = layer(x).sigmoid()
        return x

    def feedforward(self, a: np.ndarray) -> np.ndarray:
        """The seed's call: one (n_in, 1) column in, one (n_out, 1) column out."""
        with ag.no_grad():
            return self.forward(np.asarray(a).reshape(1, -1)).data.reshape(-1, 1)

    @property
    def weights(self) -> list[np.ndarray]:
        """Each layer's weight array (n_out, n_in), shared with the parameters."""
        return [layer.weight.data for layer in self.children()]

    @property
    def biases(self) -> list[np.ndarray]:
        """Each layer's bias as an (n_out, 1) column view, shared with the parameters."""
        return [layer.bias.data.reshape(-1, 1) for layer in self.children()]

    def backprop(self, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(nabla_b, nabla_w) for one column sample, in the seed's shapes, computed by autograd."""
        self.zero_grad()
        self.cost.fn(self.forward(np.asarray(x).reshape(1, -1)), np.asarray(y).reshape(1, -1)).backward()
        layers = list(self.children())
        nabla_b = [layer.bias.grad.data.reshape(-1, 1).copy() for layer in layers]
        nabla_w = [layer.weight.grad.data.copy() for layer in layers]
        self.zero_grad()
        return nabla_b, nabla_w

    def update_mini_batch(self, mini_batch: Sequence[tuple[np.ndarray, np.ndarray]], eta: float,
                          lmbda: float = 0.0, n: int = 1) -> None:  # fmt: skip
        """One step on a mini-batch: w <- (1 - eta*lmbda/n) w - (eta/m) sum(nabla_w); b <- b - (eta/m) sum(nabla_b)."""
        x = np.hstack([sample[0] for sample in mini_batch]).T
        y = np.hstack([sample[1] for sample in mini_batch]).T
        self.zero_grad()
        self.cost.fn(self.forward(x), y).backward()
        m = len(mini_batch)
        with ag.no_grad():  # in place, as an optimiser steps
            for layer in self.children():
                layer.weight.mul_(1 - eta * lmbda / n)  # L2 weight decay (biases are not decayed)
                layer.weight.sub_(layer.weight.grad, alpha=eta / m)
                layer.bias.sub_(layer.bias.grad, alpha=eta / m)
        self.zero_grad()

    def evaluate(self, test_data: Sequence[tuple[np.ndarray, int]]) -> int:
        """How many test samples the network classifies correctly (highest output wins)."""
        x = np.hstack([sample[0] for sample in test_data]).T
        labels = np.array([int(sample[1]) for sample in test_data])
        with ag.no_grad():
            return int(np.sum(self.forward(x).data.argmax(axis=1) == labels))

    def SGD(  # Nielsen's name, kept for readers of seed 003
        self,
        training_data: Sequence[tuple[np.ndarray, np.ndarray]],
        epochs: int,
        mini_batch_size: int,
        eta: float,
        test_data: Sequence[tuple[np.ndarray, int]] | None = None,
        lmbda: float = 0.0,
        generator: np.random.Generator | None = None,
        verbose: bool = True,
    ) -> list[int]:
        """Mini-batch stochastic gradient descent; returns the test accuracy count after each epoch."""
        rng = generator if generator is not None else np.random.default_rng()
        data = list(training_data)
        n = len(data)
        history = []
        for epoch in range(epochs):
            order = rng.permutation(n)
            for start in range(0, n, mini_batch_size):
                batch = [data[i] for i in order[start : start + mini_batch_size]]
                self.update_mini_batch(batch, eta, lmbda, n)
            if test_data is not None:
                correct = self.evaluate(test_data)
                history.append(correct)
                if verbose:
                    print(f"Epoch {epoch}: {correct} / {len(test_data)}")
            elif verbose:
                print(f"Epoch {epoch} complete")
        return history
