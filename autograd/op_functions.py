"""The ops as functions, for those that read better that way: `ag.exp(x)`, `ag.where(c, a, b)`.

Each accepts tensors or anything `Tensor(...)` accepts and returns a Tensor. Most are the
matching Tensor method; the ones without a natural `self` (where, concatenate, stack...)
live only here. (The base class of the ops, `Function`, is in `autograd/function.py`.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .ops.arithmetic import MatMul, Pow
from .ops.pointwise import LogAddExp, Maximum, Minimum, Where
from .ops.shape import Concatenate, Stack
from .tensor import _UNSET, Tensor


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with numpy's rules (1-D operands promoted, batch dims broadcast)."""
    return MatMul.apply(a, b)


def exp(x: Any) -> Tensor:
    return _t(x).exp()


def log(x: Any) -> Tensor:
    return _t(x).log()


def sqrt(x: Any) -> Tensor:
    return _t(x).sqrt()


def abs(x: Any) -> Tensor:
    return _t(x).abs()


def sin(x: Any) -> Tensor:
    return _t(x).sin()


def cos(x: Any) -> Tensor:
    return _t(x).cos()


def tanh(x: Any) -> Tensor:
    return _t(x).tanh()


def sigmoid(x: Any) -> Tensor:
    return _t(x).sigmoid()


def relu(x: Any) -> Tensor:
    return _t(x).relu()


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    return _t(x).leaky_relu(negative_slope)


def softplus(x: Any) -> Tensor:
    return _t(x).softplus()


def step(x: Any) -> Tensor:
    """1 where x > 0, else 0; gradient 0 everywhere (the seeds' step function)."""
    return _t(x).step()


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise max; where a == b each side gets half the gradient."""
    return Maximum.apply(a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise min; where a == b each side gets half the gradient."""
    return Minimum.apply(a, b)


def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:
    return _t(x).clip(min, max)


clamp = clip


def add(a: Any, b: Any, *, alpha: float = 1) -> Tensor:
    return _t(a).add(b, alpha=alpha)


def sub(a: Any, b: Any, *, alpha: float = 1) -> Tensor:
    return _t(a).sub(b, alpha=alpha)


def mul(a: Any, b: Any) -> Tensor:
    return _t(a).mul(b)


def div(a: Any, b: Any) -> Tensor:
    return _t(a).div(b)


def neg(x: Any) -> Tensor:
    return _t(x).neg()


def square(x: Any) -> Tensor:
    return _t(x).square()


def is_tensor(obj: Any) -> bool:
    """True for a Tensor (PyTorch's is_tensor)."""
    return isinstance(obj, Tensor)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """a where `condition` is true, else b (broadcasting); the condition gets no gradient."""
    cond = condition._data if isinstance(condition, Tensor) else condition
    return Where.apply(cond, a, b)


def sum(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = _UNSET, keepdims: Any = _UNSET) -> Tensor:
    return _t(x).sum(dim, keepdim, axis=axis, keepdims=keepdims)


def mean(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = _UNSET, keepdims: Any = _UNSET) -> Tensor:
    return _t(x).mean(dim, keepdim, axis=axis, keepdims=keepdims)


def prod(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = _UNSET, keepdims: Any = _UNSET) -> Tensor:
    return _t(x).prod(dim, keepdim, axis=axis, keepdims=keepdims)


def var(
    x: Any, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: float | None = None,
    axis: Any = _UNSET, keepdims: Any = _UNSET,
) -> Tensor:  # fmt: skip
    return _t(x).var(dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)


def max(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = _UNSET, keepdims: Any = _UNSET) -> Any:
    """PyTorch's max: of all elements; `max(t, dim)` a named tuple (values, indices); `max(a, b)` elementwise."""
    return _t(x).max(dim, keepdim, axis=axis, keepdims=keepdims)


def min(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = _UNSET, keepdims: Any = _UNSET) -> Any:
    """PyTorch's min: of all elements; `min(t, dim)` a named tuple (values, indices); `min(a, b)` elementwise."""
    return _t(x).min(dim, keepdim, axis=axis, keepdims=keepdims)


def amax(x: Any, dim: Any = None, keepdim: bool = False) -> Tensor:
    return _t(x).amax(dim, keepdim)


def amin(x: Any, dim: Any = None, keepdim: bool = False) -> Tensor:
    return _t(x).amin(dim, keepdim)


def argmax(x: Any, dim: int | None = None, keepdim: bool = False, *, axis: Any = _UNSET) -> Tensor:
    return _t(x).argmax(dim, keepdim, axis=axis)


def argmin(x: Any, dim: int | None = None, keepdim: bool = False, *, axis: Any = _UNSET) -> Tensor:
    return _t(x).argmin(dim, keepdim, axis=axis)


def logsumexp(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = _UNSET, keepdims: Any = _UNSET) -> Tensor:
    return _t(x).logsumexp(dim, keepdim, axis=axis, keepdims=keepdims)


def softmax(x: Any, dim: int = -1, *, axis: Any = _UNSET) -> Tensor:
    return _t(x).softmax(dim, axis=axis)


def log_softmax(x: Any, dim: int = -1, *, axis: Any = _UNSET) -> Tensor:
    return _t(x).log_softmax(dim, axis=axis)


def cumsum(x: Any, dim: int | None = None, *, axis: Any = _UNSET) -> Tensor:
    return _t(x).cumsum(dim, axis=axis)


def norm(x: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    return _t(x).norm(p, dim, keepdim)


def pow(x: Any, exponent: Any) -> Tensor:
    return Pow.apply(x, exponent)


def mm(a: Any, b: Any) -> Tensor:
    return _t(a).mm(b)


def round(x: Any, decimals: int = 0) -> Tensor:
    return _t(x).round(decimals)


def logaddexp(a: Any, b: Any) -> Tensor:
    return LogAddExp.apply(a, b)


def gather(x: Any, dim: int, index: Any) -> Tensor:
    return _t(x).gather(dim, index)


def numel(x: Any) -> int:
    return _t(x).numel()


def reshape(x: Any, shape: Sequence[int]) -> Tensor:
    return _t(x).reshape(tuple(shape))


def permute(x: Any, axes: Sequence[int]) -> Tensor:
    return _t(x).permute(tuple(axes))


def transpose(x: Any, dim0: int = -2, dim1: int = -1) -> Tensor:
    return _t(x).transpose(dim0, dim1)


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    return _t(x).broadcast_to(shape)


def squeeze(x: Any, dim: Any = None, *, axis: Any = _UNSET) -> Tensor:
    return _t(x).squeeze(dim, axis=axis)


def unsqueeze(x: Any, dim: int | None = None, *, axis: Any = _UNSET) -> Tensor:
    return _t(x).unsqueeze(dim, axis=axis)


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return _t(x).flatten(start_dim, end_dim)


def concatenate(tensors: Sequence[Any], dim: int = 0, *, axis: Any = _UNSET) -> Tensor:
    """Join tensors along an existing dim (PyTorch's cat)."""
    if len(tensors) == 0:
        raise ValueError("concatenate needs at least one tensor")
    return Concatenate.apply(*[_t(x) for x in tensors], axis=_one_axis("cat", dim, axis))


cat = concatenate


def stack(tensors: Sequence[Any], dim: int = 0, *, axis: Any = _UNSET) -> Tensor:
    """Join equally shaped tensors along a new dim."""
    if len(tensors) == 0:
        raise ValueError("stack needs at least one tensor")
    return Stack.apply(*[_t(x) for x in tensors], axis=_one_axis("stack", dim, axis))


def split(
    x: Any, split_size_or_sections: int | Sequence[int], dim: int = 0, *, axis: Any = _UNSET
) -> tuple[Tensor, ...]:
    """Cut along `dim` into pieces of the given size, or of the listed sizes."""
    return _t(x).split(split_size_or_sections, dim, axis=axis)


def _one_axis(op: str, dim: int, axis: Any) -> int:
    if axis is _UNSET:
        return dim
    if dim != 0:
        raise TypeError(f"{op}: give dim (PyTorch's name) or axis (numpy's), not both")
    return axis
