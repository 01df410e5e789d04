"""`TwoLayerNet`: the two-layer MNIST net of seeds 000 and 002 ("Deep Learning from Scratch", ch. 4).

Same interface as the book's class, so its readers find their way: `params` holds W1
(input_size, hidden_size), b1, W2, b2 in the book's layout, and those arrays *are* the
parameters' memory (W1 is a transposed view of fc1.weight), so the book's update loop
`network.params[key] -= lr * grad[key]` trains this net. `gradient` uses backprop;
`numerical_gradient` is the book's central difference, kept for comparison.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

import autograd as ag

from .. import functional as F
from .. import init
from ..layers import Linear
from ..module import Module


class TwoLayerNet(Module):
    """input -> Linear -> sigmoid -> Linear -> (softmax), trained on softmax cross-entropy.

    `activation="relu"` swaps the sigmoid for a ReLU (the modern variant); everything else stays.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        weight_init_std: float = 0.01,
        generator: np.random.Generator | None = None,
        activation: str = "sigmoid",
    ):
        super().__init__()
        if activation not in ("sigmoid", "relu"):
            raise ValueError(f"activation must be 'sigmoid' (the seeds') or 'relu', got {activation!r}")
        self.activation = activation
        self.fc1 = Linear(input_size, hidden_size)
        self.fc2 = Linear(hidden_size, output_size)
        for layer in (self.fc1, self.fc2):  # the book: std * randn weights, zero biases
            init.normal_(layer.weight, std=weight_init_std, generator=generator)
            init.zeros_(layer.bias)
        self.params = {
            "W1": self.fc1.weight.data.T,
            "b1": self.fc1.bias.data,
            "W2": self.fc2.weight.data.T,
            "b2": self.fc2.bias.data,
        }

    def forward(self, x: Any) -> ag.Tensor:
        """The logits (scores before softmax)."""
        hidden = self.fc1(x)
        return self.fc2(hidden.sigmoid() if self.activation == "sigmoid" else hidden.relu())

    def predict(self, x: Any) -> ag.Tensor:
        """Class probabilities: softmax of the logits (the book's `predict`)."""
        return self.forward(x).softmax(-1)

    def loss(self, x: Any, t: Any) -> ag.Tensor:
        """Mean cross-entropy; `t` is class indices or one-hot rows. Stable without the book's 1e-7 guard."""
        return F.cross_entropy(self.forward(x), t)

    def accuracy(self, x: Any, t: Any) -> float:
        with ag.no_grad():
            predicted = self.forward(x).data.argmax(axis=1)
        labels = np.asarray(t.data if isinstance(t, ag.Tensor) else t)
        if labels.ndim == 2:
            labels = labels.argmax(axis=1)
        return float(np.mean(predicted == labels))

    def extra_repr(self) -> str:
        return f"activation={self.activation!r}"

    def _grads_by_key(self) -> dict[str, np.ndarray]:
        return {
            "W1": self.fc1.weight.grad.data.T.copy(),
            "b1": self.fc1.bias.grad.data.copy(),
            "W2": self.fc2.weight.grad.data.T.copy(),
            "b2": self.fc2.bias.grad.data.copy(),
        }

    def gradient(self, x: Any, t: Any) -> dict[str, np.ndarray]:
        """The loss gradient for every entry of `params`, by backpropagation (same keys and shapes)."""
        self.zero_grad()
        self.loss(x, t).backward()
        grads = self._grads_by_key()
        self.zero_grad()
        return grads

    def numerical_gradient(
        self, x: Any, t: Any, h: float = 1e-4, indices: Mapping[str, Iterable[tuple[int, ...]]] | None = None
    ) -> dict[str, np.ndarray]:
        """The seeds' method, done right: (L(w + h) - L(w - h)) / 2h for every parameter, one at a time.

        It costs two forward passes per parameter (79,520 for the 784-50-10 net), which is
        why the seeds' 100 training steps took 75 minutes. `indices` ({"W1": [(0, 0), ...]})
        spot-checks only those elements of those parameters; the rest of each array stays 0.
        """
        unknown = sorted(set(indices or ()) - set(self.params))
        if unknown:
            raise KeyError(f"numerical_gradient: no parameter named {unknown}; the parameters are {list(self.params)}")
        grads = {}
        with ag.no_grad():
            for key, array in self.params.items():
                g = np.zeros(array.shape)
                chosen = np.ndindex(array.shape) if indices is None else indices.get(key, ())
                for i in chosen:
                    original = array[i]
                    array[i] = original + h
                    up = self.loss(x, t).item()
                    array[i] = original - h
                    down = self.loss(x, t).item()
                    array[i] = original
                    g[i] = (up - down) / (2 * h)
                grads[key] = g
        return grads
