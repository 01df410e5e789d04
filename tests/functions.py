"""Custom Functions shared by the test files."""

from __future__ import annotations

import autograd as ag


class CubeWithConstantDerivative(ag.Function):
    """First derivative right, second wrong: x is kept detached, so it is a constant to the engine."""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x.detach()
        return x**3

    @staticmethod
    def backward(ctx, grad):
        return grad * 3 * ctx.x**2


def wrong_square(factor: float = 1.0, transpose: bool = False) -> type[ag.Function]:
    """x * x, with a backward off by `factor` (and transposed, if asked): the mistakes the checks must catch."""

    class Square(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            g = grad * 2 * x * factor
            return g.T if transpose else g

    return Square
