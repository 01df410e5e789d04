"""The seeds' small nets: seed 004's 2-2-1 sigmoid classifier and seed 001's 2-10-1 regressor."""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag

from .. import functional as F
from .. import init
from ..layers import Linear
from ..module import Module


class Net221(Module):
    """Seed 004's network: 2 inputs, 2 sigmoid hidden units, 1 sigmoid output, weights ~ N(0, 1)."""

    def __init__(self, generator: np.random.Generator | None = None):
        super().__init__()
        self.hidden = Linear(2, 2)
        self.output = Linear(2, 1)
        for p in self.parameters():  # the seed draws every weight and bias from N(0, 1)
            init.normal_(p, generator=generator)

    def forward(self, x: Any) -> ag.Tensor:
        return self.output(self.hidden(x).sigmoid()).sigmoid()


class RegressionNet(Module):
    """Seed 001's regressor: 2 inputs, `hidden` units (ReLU or sigmoid), 1 linear output, weights ~ N(0, 1)."""

    def __init__(self, hidden: int = 10, activation: str = "relu", generator: np.random.Generator | None = None):
        super().__init__()
        if activation not in ("relu", "sigmoid"):
            raise ValueError(f"activation must be 'relu' or 'sigmoid', got {activation!r}")
        self.activation = activation
        self.fc1 = Linear(2, hidden)
        self.fc2 = Linear(hidden, 1)
        for p in self.parameters():  # the seed uses np.random.randn for every parameter
            init.normal_(p, generator=generator)

    def forward(self, x: Any) -> ag.Tensor:
        h = self.fc1(x)
        h = F.relu(h) if self.activation == "relu" else F.sigmoid(h)
        return self.fc2(h)

    def extra_repr(self) -> str:
        return f"activation={self.activation!r}"
