"""Custom Functions shared by the test files."""

from __future__ import annotations

import autograd as ag


class CubeWithConstantDerivative(ag.Function):
    """First derivative right, second wrong: x is kept as a plain attribute, so it is a constant to the engine."""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return x**3

    @staticmethod
    def backward(ctx, grad):
        return grad * 3 * ctx.x**2
