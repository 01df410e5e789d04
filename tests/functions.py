"""Custom Functions shared by the test files, and the walk that finds the library's own."""

from __future__ import annotations

import importlib
import pkgutil

import autograd as ag
import nn


def library_functions() -> list[type]:
    """The Function subclasses defined in autograd and nn (not the test toolkit's) with a backward of their own,
    sorted by module and name; every module of both packages is imported first so none is missed."""
    for package in (ag, nn):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".testing" not in module.name and ".datasets" not in module.name:
                importlib.import_module(module.name)
    found, stack = set(), list(ag.Function.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        library = cls.__module__.split(".")[0] in ("autograd", "nn") and ".testing" not in cls.__module__
        if library and cls.backward is not ag.Function.backward:  # not an abstract base such as Op
            found.add(cls)
    return sorted(found, key=lambda c: (c.__module__, c.__qualname__))


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
