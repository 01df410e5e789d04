"""Elementwise functions and their derivatives, forward beside backward.

Conventions where a derivative is undefined: relu, abs and step take 0 at 0; maximum and
minimum split the gradient evenly between tied elements; clip passes the gradient at its
edges (x == min or x == max).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Op
from ..grad_mode import is_grad_enabled
from ..registry import register
from ..tensor import _LEGACY_NAMES, Tensor, install_methods
from .arguments import UNSET


class Exp(Op):
    """e ** x; its derivative is itself, so backward reuses the output."""

    rule = "grad_x = grad * out"

    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


@register(numpy=np.exp)
def exp(x: Any) -> Tensor:
    """e ** x."""
    return Exp.apply(x if isinstance(x, Tensor) else Tensor(x))


class Log(Op):
    """Natural logarithm; d/dx = 1 / x."""

    rule = "grad_x = grad / x"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


@register(numpy=np.log)
def log(x: Any) -> Tensor:
    """The natural logarithm."""
    return Log.apply(x if isinstance(x, Tensor) else Tensor(x))


class Sqrt(Op):
    """Square root; d/dx = 1 / (2 sqrt(x)), reusing the output."""

    rule = "grad_x = grad / (2 * out)"

    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad / (2 * out)


@register(numpy=np.sqrt)
def sqrt(x: Any) -> Tensor:
    """The square root."""
    return Sqrt.apply(x if isinstance(x, Tensor) else Tensor(x))


class Abs(Op):
    """|x|; its gradient sign(x) is 0 at 0."""

    rule = "grad_x = grad * sign(x)  (0 at x = 0)"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.sign(x)


@register(numpy=np.absolute)
def abs(x: Any) -> Tensor:
    """|x|; its gradient is 0 at 0."""
    return Abs.apply(x if isinstance(x, Tensor) else Tensor(x))


class Sin(Op):
    """Sine; d/dx = cos(x)."""

    rule = "grad_x = grad * cos(x)"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.cos(x)


@register(numpy=np.sin)
def sin(x: Any) -> Tensor:
    """The sine."""
    return Sin.apply(x if isinstance(x, Tensor) else Tensor(x))


class Cos(Op):
    """Cosine; d/dx = -sin(x)."""

    rule = "grad_x = -grad * sin(x)"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * np.sin(x)


@register(numpy=np.cos)
def cos(x: Any) -> Tensor:
    """The cosine."""
    return Cos.apply(x if isinstance(x, Tensor) else Tensor(x))


class Tanh(Op):
    """Hyperbolic tangent; d/dx = 1 - tanh(x)², reusing the output."""

    rule = "grad_x = grad * (1 - out²)"

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)


@register(numpy=np.tanh)
def tanh(x: Any) -> Tensor:
    """The hyperbolic tangent."""
    return Tanh.apply(x if isinstance(x, Tensor) else Tensor(x))


class Sigmoid(Op):
    """1 / (1 + exp(-x)); where exp(-x) overflows (x < -709) the result is its limit, exactly 0."""

    rule = "grad_x = grad * out * (1 - out)"

    @staticmethod
    def forward(ctx, x):
        with np.errstate(over="ignore"):  # exp(-x) = inf gives 1 / inf = 0: the right answer
            out = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)


@register()
def sigmoid(x: Any) -> Tensor:
    """1 / (1 + exp(-x))."""
    return Sigmoid.apply(x if isinstance(x, Tensor) else Tensor(x))


class ReLU(Op):
    """max(x, 0); gradient 1 where x > 0, else 0 (so 0 at 0)."""

    rule = "grad_x = grad * (out > 0): grad where x > 0, else 0"

    @staticmethod
    def forward(ctx, x):
        out = np.maximum(x, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out > 0)


@register()
def relu(x: Any) -> Tensor:
    """max(x, 0); its gradient is 0 at 0."""
    return ReLU.apply(x if isinstance(x, Tensor) else Tensor(x))


class LeakyReLU(Op):
    """x where x > 0, else negative_slope * x; gradient negative_slope at 0."""

    rule = "grad_x = grad where x > 0, else grad * negative_slope"

    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        return np.where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.where(x > 0, 1.0, ctx.negative_slope)


@register()
def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope * x."""
    return LeakyReLU.apply(x if isinstance(x, Tensor) else Tensor(x), negative_slope=negative_slope)


class Softplus(Op):
    """log(1 + exp(x)), stable for large |x|; its derivative is sigmoid(x)."""

    rule = "grad_x = grad * sigmoid(x)"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _stable_sigmoid(x)


@register()
def softplus(x: Any) -> Tensor:
    """log(1 + exp(x)), stable for large |x|."""
    return Softplus.apply(x if isinstance(x, Tensor) else Tensor(x))


def _stable_sigmoid(x):
    """sigmoid(x) to full relative precision on both sides: from z = exp(-|x|) <= 1, never overflowing.

    1 / (1 + z) for x > 0, z / (1 + z) otherwise (e**x itself as x -> -inf). Written with
    np.where and ufuncs, so it also records on tensors (second derivatives).
    """
    positive = x > 0
    z = np.exp(np.where(positive, -x, x))
    return np.where(positive, 1, z) / (1 + z)


class Step(Op):
    """The seeds' step function: 1 where x > 0, else 0. Its gradient is 0 everywhere."""

    rule = "grad_x = grad * 0  (zero everywhere)"

    @staticmethod
    def forward(ctx, x):
        return (x > 0).astype(x.dtype if x.dtype.kind == "f" else np.float64)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0


@register()
def step(x: Any) -> Tensor:
    """1 where x > 0, else 0; gradient 0 everywhere (the seeds' step function)."""
    return Step.apply(x if isinstance(x, Tensor) else Tensor(x))


def _tie_share(a, b):
    """1 where a > b, 0.5 where a == b, 0 where a < b: a's share of a max's gradient."""
    return (a > b) + 0.5 * (a == b)


class Maximum(Op):
    """Elementwise max of a and b; the larger input gets the gradient, a tie splits it in half."""

    rule = "grad_a = grad where a > b,  grad_b = grad where b > a;  where a == b each gets grad / 2"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        share = _tie_share(a, b)
        return grad * share, grad * (1 - share)


@register(numpy=np.maximum)
def maximum(x: Any, other: Any) -> Tensor:
    """Elementwise max; where x == other each side gets half the gradient."""
    return Maximum.apply(x, other)


class Minimum(Op):
    """Elementwise min of a and b; the smaller input gets the gradient, a tie splits it in half."""

    rule = "grad_a = grad where a < b,  grad_b = grad where b < a;  where a == b each gets grad / 2"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        share = _tie_share(b, a)
        return grad * share, grad * (1 - share)


@register(numpy=np.minimum)
def minimum(x: Any, other: Any) -> Tensor:
    """Elementwise min; where x == other each side gets half the gradient."""
    return Minimum.apply(x, other)


class Clip(Op):
    """x limited to [min, max] (either may be None); gradient 1 inside, edges included."""

    rule = "grad_x = grad where min ≤ x ≤ max (edges included), else 0"

    @staticmethod
    def forward(ctx, x, min=None, max=None):
        ctx.save_for_backward(x)
        ctx.bounds = (min, max)
        return np.clip(x, min, max)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        if lo is not None:
            grad = grad * (x >= lo)
        if hi is not None:
            grad = grad * (x <= hi)
        return grad


@register(method=("clip", "clamp"), function=("clip", "clamp"))
def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:
    """Limit values to [min, max]; either bound may be None. The bounds are constants."""
    if min is None and max is None:
        raise ValueError("clip: give at least one of min and max")
    return Clip.apply(x if isinstance(x, Tensor) else Tensor(x), min=_bound("min", min), max=_bound("max", max))


def _bound(name: str, bound: Any) -> Any:
    """A clip bound as plain values; one that would need a gradient is refused rather than ignored."""
    if not isinstance(bound, Tensor):
        return bound
    if bound._requires_grad and is_grad_enabled():
        raise TypeError(
            f"clip's {name}= is a tensor that requires grad, but clip gives its bounds no gradient; "
            "minimum(maximum(x, min), max) (np.minimum / np.maximum too) records the gradients of all three"
        )
    return bound._data


@register(method=None, function=None, numpy=np.clip)
def _numpy_clip(a: Any, a_min: Any = UNSET, a_max: Any = UNSET, *, min: Any = UNSET, max: Any = UNSET) -> Tensor:
    """np.clip: bounds given as a_min and a_max (both, positionally), or as min= and/or max=."""
    if a_min is UNSET and a_max is UNSET:
        low, high = (None if min is UNSET else min), (None if max is UNSET else max)
    elif a_min is UNSET or a_max is UNSET:
        missing = "a_min" if a_min is UNSET else "a_max"
        raise TypeError(f"clip() missing 1 required positional argument: '{missing}'")
    elif min is not UNSET or max is not UNSET:
        raise ValueError("Passing `min` or `max` keyword argument when `a_min` and `a_max` are provided is forbidden.")
    else:
        low, high = a_min, a_max
    if low is None and high is None:
        return (a if isinstance(a, Tensor) else Tensor(a)).clone()
    return clip(a, low, high)


class Where(Op):
    """a where condition holds, else b; the condition is a constant."""

    rule = "grad_a = grad where condition, else 0;  grad_b = grad where not condition, else 0"

    @staticmethod
    def forward(ctx, condition, a, b):
        condition = np.asarray(condition, dtype=bool)
        ctx.condition = condition
        try:
            return np.where(condition, a, b)
        except ValueError:
            raise ValueError(
                f"where: the condition's shape {condition.shape} and the shapes {np.shape(a)} and {np.shape(b)} "
                "do not broadcast together"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        cond = ctx.condition  # selected, not multiplied by the mask: an infinite grad must not become 0 * inf
        ga = np.where(cond, grad, 0) if ctx.needs_input_grad[1] else None
        gb = np.where(cond, 0, grad) if ctx.needs_input_grad[2] else None
        return None, ga, gb


@register(method=None)
def where(condition: Any, a: Any, b: Any) -> Tensor:
    """a where `condition` is true, else b (broadcasting); the condition gets no gradient."""
    cond = condition._data if isinstance(condition, Tensor) else condition
    return Where.apply(cond, a, b)


@register(method=None, function=None, numpy=np.where)
def _numpy_where(condition: Any, x: Any = UNSET, y: Any = UNSET) -> Any:
    """np.where: with x and y, `where`; with the condition alone, the indices where it holds, as numpy gives them."""
    if x is UNSET and y is UNSET:
        return np.where(condition._data if isinstance(condition, Tensor) else condition)
    if x is UNSET or y is UNSET:
        raise ValueError("either both or neither of x and y should be given")
    return where(condition, x, y)


class LogAddExp(Op):
    """log(exp(a) + exp(b)), stable at any size; d/da = exp(a - out), d/db = exp(b - out)."""

    rule = "grad_a = grad * exp(a - out),  grad_b = grad * exp(b - out)"

    @staticmethod
    def forward(ctx, a, b):
        out = np.logaddexp(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        ga = grad * np.exp(a - out) if ctx.needs_input_grad[0] else None
        gb = grad * np.exp(b - out) if ctx.needs_input_grad[1] else None
        return ga, gb


@register()
def logaddexp(x: Any, other: Any) -> Tensor:
    """log(exp(x) + exp(other)), stable at any size."""
    return LogAddExp.apply(x, other)


class Round(Op):
    """x rounded to `decimals` places (halves to even, as numpy and PyTorch); its gradient is 0 everywhere."""

    rule = "grad_x = grad * 0  (zero everywhere)"

    @staticmethod
    def forward(ctx, x, decimals=0):
        return np.round(x, decimals)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0


@register()
def round(x: Any, decimals: int = 0) -> Tensor:
    """Round half to even, as PyTorch and numpy; the gradient is 0 everywhere."""
    return Round.apply(x if isinstance(x, Tensor) else Tensor(x), decimals=decimals)


class Cast(Op):
    """x converted to another floating dtype; the gradient is converted back by the engine."""

    rule = "grad_x = grad, cast back to x's dtype"

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad


class TensorPointwise:
    """`abs(t)` and `Tensor.type` (which float(), double()... call), installed on Tensor below
    (see tensor.py's docstring)."""

    def __abs__(self) -> Tensor:
        return Abs.apply(self)

    def type(self, dtype: Any = None) -> Any:
        """With a dtype: this tensor converted (in the graph for float dtypes). Without: the type's name."""
        if dtype is None:
            return f"autograd.{_LEGACY_NAMES.get(self.dtype.name, self.dtype.name)}"
        dtype = np.dtype(dtype)
        if dtype == self._data.dtype:
            return self
        if dtype.kind not in "biuf":
            raise TypeError(f"tensors hold bool, integer or real float values; {dtype} is none of these")
        if dtype.kind == "f" and self._requires_grad:
            return Cast.apply(self, dtype=dtype)
        return Tensor._wrap(self._data.astype(dtype))  # integer results carry no gradient, as in PyTorch


install_methods(TensorPointwise)
