"""Reductions and the softmax family, forward beside backward.

`axis` is None (all axes), an int or a tuple of ints; `keepdims` keeps reduced axes as
size 1. Backward reshapes the incoming gradient to the kept-dims shape and broadcasts it
over the input, which is exactly the inverse of the reduction's shape change.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from ..function import Op
from ..registry import register
from ..tensor import MaxMin, Tensor
from .arguments import UNSET, dims, tensor_of
from .indexing import gather
from .pointwise import Maximum, Minimum
from .shape import squeeze

Axis = Any  # None, int or tuple of ints


def _kept_shape(shape: tuple[int, ...], axis: Axis) -> tuple[int, ...]:
    """`shape` with the reduced axes set to 1 (the shape keepdims=True gives)."""
    if axis is None:
        return (1,) * len(shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    axes = {a % len(shape) for a in axes} if shape else set()
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(grad, shape: tuple[int, ...], axis: Axis, scale: float = 1.0):
    """A reduction's gradient: `grad * scale` put back on the reduced axes and repeated along them."""
    if type(grad) is np.ndarray and grad.size == 1:  # the common case, a scalar loss: one fill
        return np.full_like(grad, grad.item() * scale, shape=shape)  # full_like: keeps grad's dtype
    kept = grad.reshape(_kept_shape(shape, axis))
    return np.broadcast_to(kept if scale == 1.0 else kept * scale, shape)


class Sum(Op):
    """Sum over axes (all by default); every summed element gets the output's gradient."""

    rule = "grad_x = grad, spread back over the summed axes"

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis = x.shape, axis
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return _spread(grad, ctx.shape, ctx.axis)


@register(numpy=np.sum)
def sum(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = UNSET, keepdims: Any = UNSET) -> Tensor:
    """Sum over `dim` (all dims when None)."""
    dim, keepdim = dims("sum", dim, keepdim, axis, keepdims)
    return Sum.apply(x if isinstance(x, Tensor) else Tensor(x), axis=dim, keepdims=keepdim)


def _count(shape: tuple[int, ...], axis: Axis) -> int:
    """How many elements each output element of a reduction over `axis` takes in (0 for an empty axis)."""
    if axis is None:
        return math.prod(shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    return math.prod(shape[i] for i in {a % len(shape) for a in axes}) if shape else 1


class Mean(Op):
    """Mean along `axis`; nan over an empty axis (0 / 0), as in PyTorch."""

    rule = "grad_x = grad / n, spread back over the averaged axes (n elements each)"

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        total = x.sum(axis=axis, keepdims=keepdims)
        count = _count(x.shape, axis)
        ctx.shape, ctx.axis, ctx.count = x.shape, axis, count
        if count == 0:
            with np.errstate(invalid="ignore"):
                return np.true_divide(total, count)
        return np.true_divide(total, count)

    @staticmethod
    def backward(ctx, grad):
        if ctx.count == 0:  # an empty axis: the input has no elements to send a gradient to
            return np.zeros(ctx.shape)
        return _spread(grad, ctx.shape, ctx.axis, 1 / ctx.count)


@register(numpy=np.mean)
def mean(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = UNSET, keepdims: Any = UNSET) -> Tensor:
    """Mean over `dim` (all dims when None)."""
    dim, keepdim = dims("mean", dim, keepdim, axis, keepdims)
    return Mean.apply(x if isinstance(x, Tensor) else Tensor(x), axis=dim, keepdims=keepdim)


class Var(Op):
    """Variance with Bessel's `correction` (1, PyTorch's default, divides by n - 1; 0 by n).

    As in PyTorch, the divisor is max(0, n - correction): where it is 0 the variance is inf
    (nan where all elements are equal, and for an empty axis), and so is the gradient: nan
    at elements equal to the mean; elsewhere inf when reducing over everything (axis=None,
    PyTorch's sign-less convention), and inf signed as x - mean along given axes.
    """

    rule = "grad_x = grad * 2 * (x - mean(x)) / (n - correction), spread over the reduced axes"

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, correction=1):
        n = _count(x.shape, axis)
        divisor = builtins.max(0, n - correction)
        with np.errstate(invalid="ignore", divide="ignore"):  # only 0 / 0 and x / 0: nan and inf, as in PyTorch
            centred = x - x.sum(axis=axis, keepdims=True) / n
            out = (centred * centred).sum(axis=axis, keepdims=keepdims) / divisor
        ctx.save_for_backward(x)
        ctx.axis, ctx.kept, ctx.divisor = axis, _kept_shape(x.shape, axis), divisor
        return out

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if x.size == 0:
            return np.zeros(x.shape)
        grad = grad.reshape(ctx.kept)
        centred = x - x.mean(axis=ctx.axis, keepdims=True)
        if ctx.divisor > 0:
            return grad * centred * (2 / ctx.divisor)
        infinite = np.inf if ctx.axis is None or x.ndim == 0 else np.where(centred > 0, np.inf, -np.inf)
        return grad * np.where(centred == 0, np.nan, infinite)


@register()
def var(
    x: Any, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: float | None = None,
    axis: Any = UNSET, keepdims: Any = UNSET,
) -> Tensor:  # fmt: skip
    """Variance; `correction=1` (PyTorch's default, or unbiased=True) divides by n - 1, `correction=0` by n."""
    dim, keepdim = dims("var", dim, keepdim, axis, keepdims)
    if unbiased is not None and correction is not None:
        raise TypeError("var: give unbiased= (PyTorch's older spelling) or correction=, not both")
    correction = (1 if unbiased else 0) if unbiased is not None else 1 if correction is None else correction
    return Var.apply(x if isinstance(x, Tensor) else Tensor(x), axis=dim, keepdims=keepdim, correction=correction)


@register(method=None, function=None, numpy=np.var)
def _numpy_var(
    a: Any, axis: Any = None, ddof: float = 0, keepdims: bool = False, *, correction: float | None = None
) -> Tensor:
    """np.var: divides by n - ddof (numpy's newer name for ddof is correction)."""
    if correction is not None and ddof != 0:
        raise ValueError("ddof and correction can't be provided simultaneously.")
    return var(a, axis=axis, keepdims=keepdims, correction=ddof if correction is None else correction)


def _shared_by_ties(ctx, grad):
    """The gradient of a max or min: each output's gradient split evenly among the elements equal to it."""
    x, out = ctx.saved_tensors
    winners = x == out.reshape(ctx.kept)
    share = winners / winners.sum(axis=ctx.axis, keepdims=True)
    return grad.reshape(ctx.kept) * share


def _picked(ctx, x, out, axis):
    """Save what a max or min's backward needs, and return its output."""
    ctx.save_for_backward(x, out)
    ctx.axis, ctx.kept = axis, _kept_shape(x.shape, axis)
    return out


class Max(Op):
    """Largest element along `axis`; tied maxima share the gradient evenly."""

    rule = "grad_x = grad at the elements equal to out, split evenly among ties; 0 elsewhere"

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return _picked(ctx, x, np.max(x, axis=axis, keepdims=keepdims), axis)

    @staticmethod
    def backward(ctx, grad):
        return _shared_by_ties(ctx, grad)


class Min(Op):
    """Smallest element along `axis`; tied minima share the gradient evenly."""

    rule = "grad_x = grad at the elements equal to out, split evenly among ties; 0 elsewhere"

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return _picked(ctx, x, np.min(x, axis=axis, keepdims=keepdims), axis)

    @staticmethod
    def backward(ctx, grad):
        return _shared_by_ties(ctx, grad)


def _extreme(t: Tensor, op: str, dim: Any, keepdim: bool, axis: Any, keepdims: Any) -> Any:
    """max/min in PyTorch's forms (all, dim -> (values, indices), other tensor) or numpy's (axis=)."""
    reduce, elementwise, pick = (Max, Maximum, np.argmax) if op == "max" else (Min, Minimum, np.argmin)
    if isinstance(dim, (Tensor, np.ndarray)):
        if keepdim or axis is not UNSET:
            raise TypeError(f"{op}(other) is the elementwise {op}imum; it takes no dim or axis")
        return elementwise.apply(t, dim)
    if axis is not UNSET or dim is None or isinstance(dim, (tuple, list)):  # numpy's meaning, or all dims
        dim, keepdim = dims(op, dim, keepdim, axis, keepdims)
        return reduce.apply(t, axis=dim, keepdims=keepdim)
    if keepdims is not UNSET:
        keepdim = keepdims
    if t.ndim == 0 and dim in (0, -1):  # PyTorch lets a 0-d tensor be reduced along dim 0 or -1
        return MaxMin(t.reshape(()), Tensor._wrap(np.array(0)))
    if t.ndim and 0 in t.shape and t.shape[dim % t.ndim] == 0:
        raise IndexError(f"{op}(): expected reduction dim {dim} to have non-zero size, the tensor has shape {t.shape}")
    index = np.expand_dims(pick(t._data, axis=dim), dim)
    values = gather(t, dim, index)
    if not keepdim:
        values, index = squeeze(values, dim), index.squeeze(dim)
    return MaxMin(values, Tensor._wrap(index))


@register(numpy=(np.max, np.amax))
def max(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = UNSET, keepdims: Any = UNSET) -> Any:
    """PyTorch's max: `t.max()` the largest value, `t.max(dim)` a named tuple (values, indices),
    `t.max(other)` the elementwise maximum. numpy's `t.max(axis=...)` gives the values only."""
    return _extreme(tensor_of(x), "max", dim, keepdim, axis, keepdims)


@register(numpy=(np.min, np.amin))
def min(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = UNSET, keepdims: Any = UNSET) -> Any:
    """PyTorch's min, mirroring max: a named tuple (values, indices) when a dim is given."""
    return _extreme(tensor_of(x), "min", dim, keepdim, axis, keepdims)


@register()
def amax(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = UNSET, keepdims: Any = UNSET) -> Tensor:
    """Largest values along dim (values only; tied maxima share the gradient)."""
    dim, keepdim = dims("amax", dim, keepdim, axis, keepdims)
    return Max.apply(x if isinstance(x, Tensor) else Tensor(x), axis=dim, keepdims=keepdim)


@register()
def amin(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = UNSET, keepdims: Any = UNSET) -> Tensor:
    """Smallest values along dim (values only; tied minima share the gradient)."""
    dim, keepdim = dims("amin", dim, keepdim, axis, keepdims)
    return Min.apply(x if isinstance(x, Tensor) else Tensor(x), axis=dim, keepdims=keepdim)


@register()
def argmax(
    x: Any, dim: int | None = None, keepdim: bool = False, *, axis: Any = UNSET, keepdims: Any = UNSET
) -> Tensor:
    """Indices of the largest values (int64, no gradient); over the flattened tensor when dim is None."""
    dim, keepdim = dims("argmax", dim, keepdim, axis, keepdims)
    return Tensor._wrap(tensor_of(x)._data.argmax(axis=dim, keepdims=keepdim if dim is not None else False))


@register()
def argmin(
    x: Any, dim: int | None = None, keepdim: bool = False, *, axis: Any = UNSET, keepdims: Any = UNSET
) -> Tensor:
    """Indices of the smallest values (int64, no gradient); over the flattened tensor when dim is None."""
    dim, keepdim = dims("argmin", dim, keepdim, axis, keepdims)
    return Tensor._wrap(tensor_of(x)._data.argmin(axis=dim, keepdims=keepdim if dim is not None else False))


def _stable_max(x: np.ndarray, axis: Axis) -> np.ndarray:
    """max over `axis` (kept), with 0 where that is infinite, to shift exponents safely."""
    m = x.max(axis=axis, keepdims=True)
    return np.where(np.isfinite(m), m, 0)


class LogSumExp(Op):
    """log(sum(exp(x))) along `axis`, finite for logits of any size."""

    rule = "grad_x = grad * exp(x - out)  (= grad * softmax(x)), spread over the reduced axes"

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        m = _stable_max(x, axis)
        kept = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
        out = kept if keepdims else np.squeeze(kept, axis=axis)
        ctx.save_for_backward(x, out)
        ctx.kept = kept.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return grad.reshape(ctx.kept) * np.exp(x - out.reshape(ctx.kept))


@register()
def logsumexp(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = UNSET, keepdims: Any = UNSET) -> Tensor:
    """log(sum(exp(x))) over `dim`, finite for logits of any size."""
    dim, keepdim = dims("logsumexp", dim, keepdim, axis, keepdims)
    return LogSumExp.apply(x if isinstance(x, Tensor) else Tensor(x), axis=dim, keepdims=keepdim)


class Softmax(Op):
    """exp(x) / sum(exp(x)) along `axis`, shifted by the max so it never overflows."""

    rule = "grad_x = out * (grad - Σ(grad * out)), the sum along axis"

    @staticmethod
    def forward(ctx, x, axis=-1):
        e = np.exp(x - _stable_max(x, axis))
        out = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return out * (grad - (grad * out).sum(axis=ctx.axis, keepdims=True))


@register()
def softmax(x: Any, dim: int = -1, *, axis: Any = UNSET) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim`."""
    dim, _ = dims("softmax", dim, False, axis, UNSET, default=-1)
    return Softmax.apply(x if isinstance(x, Tensor) else Tensor(x), axis=dim)


class LogSoftmax(Op):
    """x - logsumexp(x) along `axis`: finite even where softmax underflows to 0."""

    rule = "grad_x = grad - exp(out) * Σgrad, the sum along axis"

    @staticmethod
    def forward(ctx, x, axis=-1):
        z = x - _stable_max(x, axis)
        out = z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - np.exp(out) * grad.sum(axis=ctx.axis, keepdims=True)


@register()
def log_softmax(x: Any, dim: int = -1, *, axis: Any = UNSET) -> Tensor:
    """log(softmax(x)) along `dim`, computed stably."""
    dim, _ = dims("log_softmax", dim, False, axis, UNSET, default=-1)
    return LogSoftmax.apply(x if isinstance(x, Tensor) else Tensor(x), axis=dim)


def _last(x, axis: Axis):
    """x with the reduced axes moved to the end and merged into one: shape (..., n)."""
    if axis is None:
        axes = tuple(range(x.ndim))
    else:
        axes = tuple(a % x.ndim for a in (axis if isinstance(axis, tuple) else (axis,)))
    kept = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, kept + list(axes))
    return moved.reshape(moved.shape[: len(kept)] + (-1,)), kept, axes


def _others_product(x):
    """For each element along the last axis, the product of all the others (exact with zeros)."""
    if not isinstance(x, np.ndarray):  # create_graph: a product of x with each element replaced by 1
        n = x.shape[-1]
        spread = np.broadcast_to(x.reshape(x.shape[:-1] + (1, n)), x.shape[:-1] + (n, n))
        return np.where(np.eye(n, dtype=bool), 1.0, spread).prod(axis=-1)
    if x.shape[-1] == 0:  # a product of nothing: no elements to send a gradient to
        return x.copy()
    ones = np.ones(x.shape[:-1] + (1,), dtype=x.dtype)
    before = np.cumprod(np.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)
    after = np.flip(np.cumprod(np.concatenate([ones, np.flip(x[..., 1:], -1)], axis=-1), axis=-1), -1)
    return before * after


class Prod(Op):
    """Product along `axis`; each element's gradient is the product of the others, exact even with zeros."""

    rule = "grad_x = grad * the product of the other elements along the axes (exact with zeros)"

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.save_for_backward(x)
        ctx.axis = axis
        return x.prod(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        flat, kept, axes = _last(x, ctx.axis)
        others = _others_product(flat)  # shape (..., n), in the moved order
        moved_shape = tuple(x.shape[a] for a in kept) + tuple(x.shape[a] for a in axes)
        back = np.argsort(kept + list(axes))
        g = grad.reshape(_kept_shape(x.shape, ctx.axis))
        return g * np.transpose(others.reshape(moved_shape), tuple(back))


@register()
def prod(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = UNSET, keepdims: Any = UNSET) -> Tensor:
    """Product; each element's gradient is the product of the others (exact with zeros)."""
    dim, keepdim = dims("prod", dim, keepdim, axis, keepdims)
    return Prod.apply(x if isinstance(x, Tensor) else Tensor(x), axis=dim, keepdims=keepdim)


class CumSum(Op):
    """Running sums along `axis`; the gradient is the running sum of the gradient taken from the end."""

    rule = "grad_x = cumsum of grad taken from the end of axis (reverse, cumsum, reverse)"

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis % x.ndim if x.ndim else 0
        return np.cumsum(x, axis=axis) if x.ndim else x.copy()

    @staticmethod
    def backward(ctx, grad):
        if grad.ndim == 0:
            return grad
        reverse = (slice(None),) * ctx.axis + (slice(None, None, -1),)
        flipped = grad[reverse]
        if isinstance(flipped, np.ndarray):
            return np.cumsum(flipped, axis=ctx.axis)[reverse]
        return CumSum.apply(flipped, axis=ctx.axis)[reverse]  # create_graph: recorded


@register()
def cumsum(x: Any, dim: int | None = None, *, axis: Any = UNSET) -> Tensor:
    """Running sums along `dim`."""
    dim, _ = dims("cumsum", dim, False, axis, UNSET)
    if dim is None:
        raise TypeError("cumsum needs a dim, e.g. t.cumsum(0) (or t.flatten().cumsum(0) for numpy's default)")
    return CumSum.apply(x if isinstance(x, Tensor) else Tensor(x), axis=dim)


class Norm(Op):
    """The p-norm along `axis` (p = 2 by default; 1, inf and any p > 0). Where the norm is 0 the
    gradient is 0, as in PyTorch, not nan."""

    rule = "grad_x = grad * sign(x) * (|x| / out)**(p-1), 0 where out = 0;  p = ∞: ties share it"

    @staticmethod
    def forward(ctx, x, p=2.0, axis=None, keepdims=False):
        a = np.abs(x)
        if p == np.inf:
            out = a.max(axis=axis, keepdims=True)
        elif p == 1:
            out = a.sum(axis=axis, keepdims=True)
        elif p == 2:
            out = np.sqrt((x * x).sum(axis=axis, keepdims=True))
        else:
            out = (a**p).sum(axis=axis, keepdims=True) ** (1 / p)
        out = out if keepdims else np.squeeze(out, axis=axis)
        ctx.save_for_backward(x, out)  # the output itself, so create_graph maps it to the graph
        ctx.p, ctx.axis = p, axis
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        p, kept = ctx.p, _kept_shape(x.shape, ctx.axis)
        g, out = grad.reshape(kept), out.reshape(kept)
        if p == 1:
            return g * np.sign(x)
        if p == np.inf:
            winners = np.abs(x) == out
            return g * np.sign(x) * winners / winners.sum(axis=ctx.axis, keepdims=True)
        zero = out == 0
        safe = np.where(zero, 1.0, out)
        if p == 2:
            return np.where(zero, 0.0, g * x / safe)
        return np.where(zero, 0.0, g * np.sign(x) * np.abs(x) ** (p - 1) / safe ** (p - 1))


@register()
def norm(
    x: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False, *, axis: Any = UNSET, keepdims: Any = UNSET
) -> Tensor:
    """The p-norm (2 for "fro", the default); its gradient is 0 where the norm is 0, as in PyTorch."""
    dim, keepdim = dims("norm", dim, keepdim, axis, keepdims)
    order = 2.0 if p in ("fro", None) else float(p)
    if not order > 0:
        raise ValueError(f"norm: p must be positive, 'fro' or inf, got {p!r}")
    return Norm.apply(x if isinstance(x, Tensor) else Tensor(x), p=order, axis=dim, keepdims=keepdim)
