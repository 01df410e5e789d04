"""The ops as functions, for those that read better that way: `ag.exp(x)`, `ag.where(c, a, b)`.

Each accepts tensors or anything `Tensor(...)` accepts and returns a Tensor. Most are the
matching Tensor method; the ones without a natural `self` (where, concatenate, stack...)
live only here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .ops.arithmetic import MatMul
from .ops.pointwise import Maximum, Minimum, Where
from .ops.shape import Concatenate, Stack
from .tensor import Tensor


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


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """a where `condition` is true, else b (broadcasting); the condition gets no gradient."""
    cond = condition._data if isinstance(condition, Tensor) else condition
    return Where.apply(cond, a, b)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _t(x).sum(axis, keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _t(x).mean(axis, keepdims)


def var(x: Any, axis: Any = None, keepdims: bool = False, correction: int = 1) -> Tensor:
    return _t(x).var(axis, keepdims, correction)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _t(x).max(axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _t(x).min(axis, keepdims)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _t(x).logsumexp(axis, keepdims)


def softmax(x: Any, axis: int = -1) -> Tensor:
    return _t(x).softmax(axis)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    return _t(x).log_softmax(axis)


def reshape(x: Any, shape: Sequence[int]) -> Tensor:
    return _t(x).reshape(tuple(shape))


def permute(x: Any, axes: Sequence[int]) -> Tensor:
    return _t(x).permute(tuple(axes))


def transpose(x: Any, dim0: int = -2, dim1: int = -1) -> Tensor:
    return _t(x).transpose(dim0, dim1)


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    return _t(x).broadcast_to(shape)


def squeeze(x: Any, axis: Any = None) -> Tensor:
    return _t(x).squeeze(axis)


def unsqueeze(x: Any, axis: int) -> Tensor:
    return _t(x).unsqueeze(axis)


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return _t(x).flatten(start_dim, end_dim)


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    if len(tensors) == 0:
        raise ValueError("concatenate needs at least one tensor")
    return Concatenate.apply(*[_t(x) for x in tensors], axis=axis)


cat = concatenate


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join equally shaped tensors along a new axis."""
    if len(tensors) == 0:
        raise ValueError("stack needs at least one tensor")
    return Stack.apply(*[_t(x) for x in tensors], axis=axis)


def split(x: Any, split_size_or_sections: int | Sequence[int], axis: int = 0) -> tuple[Tensor, ...]:
    """Cut along `axis` into pieces of the given size, or of the listed sizes."""
    return _t(x).split(split_size_or_sections, axis)
