"""Ops that move elements without changing them: reshape, permute, broadcast, join."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ..function import Op
from ..registry import register
from ..tensor import Tensor, install_methods
from .arguments import UNSET, dims, tensor_of


def _shape_tuple(shape: Any) -> tuple[Any, ...]:
    """A shape given as one int or as a sequence of them, as a tuple."""
    try:
        return (operator.index(shape),)
    except TypeError:
        return tuple(shape)


def _reversed_axes(ndim: int) -> tuple[int, ...]:
    return tuple(range(ndim - 1, -1, -1))


class Clone(Op):
    """A copy of the values that stays in the graph (the gradient passes through unchanged)."""

    rule = "grad_x = grad"

    @staticmethod
    def forward(ctx, x):
        return np.array(x, copy=True)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Reshape(Op):
    """Same elements, new shape (reshape, view, squeeze, unsqueeze and flatten use it)."""

    rule = "grad_x = grad reshaped to x's shape"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {tuple(shape)}"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


@register(method=("reshape", "view"))
def reshape(x: Any, *sizes: Any, shape: Any = None) -> Tensor:
    """Same elements in a new shape; one dimension may be -1. Accepts a tuple, separate ints, or `shape=` (as
    `torch.reshape(input, shape=...)`)."""
    if shape is not None:
        if sizes:
            raise TypeError(f"reshape: got the shape twice, as {sizes} and as shape={shape!r}; pass one of them")
        sizes = (shape,)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    return Reshape.apply(x if isinstance(x, Tensor) else Tensor(x), shape=sizes)


def _reshape_order(order: Any, data: np.ndarray) -> str:
    """'C' or 'F', as numpy reads `order` for reshaping ('A': 'F' only for Fortran-contiguous data)."""
    key = "C" if order is None else order.decode("latin-1") if isinstance(order, bytes) else order
    key = key.upper() if isinstance(key, str) and len(key) == 1 else key
    if key == "A":
        key = "F" if data.flags.f_contiguous and not data.flags.c_contiguous else "C"
    if key not in ("C", "F"):
        np.empty(0).reshape(0, order=order)  # numpy's own error for 'K', an unknown name or a wrong type
        raise ValueError(f"order must be 'C', 'F' or 'A' for reshaping, got {order!r}")
    return key


@register(method=None, function=None, numpy=np.reshape)
def _numpy_reshape(a: Any, shape: Any, order: Any = "C", *, copy: bool | None = None) -> Tensor:
    """np.reshape: C order as `reshape`; Fortran order reverses the axes, reshapes to the reversed
    shape and reverses back."""
    x = tensor_of(a)
    shape = _shape_tuple(shape)
    order = _reshape_order(order, x._data)
    if copy is not None and not copy:
        x._data.reshape(shape, order=order, copy=False)  # numpy's error when only a copy would do
    if order == "C":
        result = reshape(x, shape)
    else:
        flipped = permute(x, _reversed_axes(x.ndim)) if x.ndim > 1 else x
        try:
            result = reshape(flipped, shape[::-1])
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {shape}"
            ) from None
        if result.ndim > 1:
            result = permute(result, _reversed_axes(result.ndim))
    return result.clone() if copy else result


@register(numpy=np.squeeze)
def squeeze(x: Any, dim: int | tuple[int, ...] | None = None, *, axis: Any = UNSET) -> Tensor:
    """Remove size-1 axes (all of them, or those named)."""
    x = tensor_of(x)
    axis, _ = dims("squeeze", dim, False, axis, UNSET)
    try:
        shape = np.squeeze(np.empty(x.shape, dtype=bool), axis=axis).shape
    except ValueError:
        raise ValueError(f"squeeze: axis {axis} of shape {x.shape} does not have size 1") from None
    return Reshape.apply(x, shape=shape)


@register()
def unsqueeze(x: Any, dim: int | None = None, *, axis: Any = UNSET) -> Tensor:
    """Insert a size-1 axis at position `dim`."""
    x = tensor_of(x)
    axis, _ = dims("unsqueeze", dim, False, axis, UNSET)
    if axis is None:
        raise TypeError("unsqueeze needs the position of the new axis, e.g. t.unsqueeze(0)")
    try:
        shape = np.expand_dims(np.empty(x.shape, dtype=bool), axis).shape
    except np.exceptions.AxisError:
        raise ValueError(f"unsqueeze: axis {axis} is out of range for shape {x.shape}") from None
    return Reshape.apply(x, shape=shape)


@register(method=None, function=None, numpy=np.expand_dims)
def _numpy_expand_dims(a: Any, axis: Any) -> Tensor:
    """np.expand_dims: new size-1 axes at the positions `axis` names in the result."""
    x = tensor_of(a)
    axes = _shape_tuple(axis)
    ndim = x.ndim + len(axes)
    axes = normalize_axis_tuple(axes, ndim)
    sizes = iter(x.shape)
    return Reshape.apply(x, shape=tuple(1 if i in axes else next(sizes) for i in range(ndim)))


@register()
def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge axes start_dim..end_dim (inclusive) into one."""
    x = tensor_of(x)
    if x.ndim == 0:
        return Reshape.apply(x, shape=(1,))
    start, end = start_dim % x.ndim, end_dim % x.ndim
    shape = x.shape[:start] + (-1,) + x.shape[end + 1 :]
    return Reshape.apply(x, shape=shape)


@register()
def split(
    x: Any, split_size_or_sections: int | Sequence[int], dim: int = 0, *, axis: Any = UNSET
) -> tuple[Tensor, ...]:
    """Cut into pieces along `dim`: pieces of `int` size (the last may be smaller), or of the listed sizes."""
    x = tensor_of(x)
    axis, _ = dims("split", dim, False, axis, UNSET, default=0)
    length = x.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        if split_size_or_sections <= 0:
            raise ValueError(f"split: the piece size must be positive, got {split_size_or_sections}")
        sizes = [split_size_or_sections] * (length // split_size_or_sections)
        if length % split_size_or_sections:
            sizes.append(length % split_size_or_sections)
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != length:
            raise ValueError(f"split: sizes {sizes} add up to {sum(sizes)}, but axis {axis} has length {length}")
    lead = (slice(None),) * (axis % x.ndim)
    starts = np.cumsum([0] + sizes)
    return tuple(x[lead + (slice(int(a), int(b)),)] for a, b in itertools.pairwise(starts))


class Permute(Op):
    """Reorder the axes; backward applies the inverse order."""

    rule = "grad_x = grad permuted by the inverse of axes"

    @staticmethod
    def forward(ctx, x, axes):
        if sorted(a % x.ndim for a in axes) != list(range(x.ndim)) or len(axes) != x.ndim:
            raise ValueError(f"permute: {tuple(axes)} is not an ordering of the {x.ndim} axes of shape {x.shape}")
        ctx.inverse = tuple(np.argsort([a % x.ndim for a in axes]))
        return np.transpose(x, axes)

    @staticmethod
    def backward(ctx, grad):
        return np.transpose(grad, ctx.inverse)


@register()
def permute(x: Any, *axes: Any) -> Tensor:
    """Reorder the axes: `t.permute(2, 0, 1)`."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    return Permute.apply(x if isinstance(x, Tensor) else Tensor(x), axes=tuple(axes))


@register()
def transpose(x: Any, dim0: int = -2, dim1: int = -1) -> Tensor:
    """Swap two axes (PyTorch's meaning; numpy's full reordering is `permute`)."""
    x = tensor_of(x)
    if x.ndim < 2:
        raise ValueError(f"transpose needs at least 2 dimensions, this tensor has shape {x.shape}")
    axes = list(range(x.ndim))
    try:
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    except IndexError:
        raise ValueError(f"transpose: dims {dim0} and {dim1} out of range for shape {x.shape}") from None
    return Permute.apply(x, axes=tuple(axes))


@register(method=None, function=None, numpy=np.transpose)
def _numpy_transpose(a: Any, axes: Any = None) -> Tensor:
    """np.transpose: all axes reversed, or reordered as `axes` lists them."""
    x = tensor_of(a)
    if axes is None:
        return Permute.apply(x, axes=_reversed_axes(x.ndim))
    axes = _shape_tuple(axes)
    if len(axes) != x.ndim:
        raise ValueError(f"axes {axes} don't match array: the tensor has {x.ndim} dimensions (shape {x.shape})")
    return Permute.apply(x, axes=normalize_axis_tuple(axes, x.ndim, "axes"))


@register(method=None, function=None, numpy=np.swapaxes)
def _numpy_swapaxes(a: Any, axis1: int, axis2: int) -> Tensor:
    """np.swapaxes: two axes exchanged, negative ones counted from the end."""
    x = tensor_of(a)
    i, j = (normalize_axis_index(k, x.ndim) for k in (axis1, axis2))
    axes = list(range(x.ndim))
    axes[i], axes[j] = axes[j], axes[i]
    return Permute.apply(x, axes=tuple(axes))


class BroadcastTo(Op):
    """A read-only broadcast view; its gradient is summed back to the input's shape by the engine."""

    rule = "grad_x = grad summed over the broadcast axes, back to x's shape"

    @staticmethod
    def forward(ctx, x, shape):
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise ValueError(
                f"broadcast_to: a tensor of shape {x.shape} cannot be broadcast to {tuple(shape)}; "
                "each dimension must match or be 1"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        return grad


@register(numpy=np.broadcast_to)
def broadcast_to(x: Any, shape: int | Sequence[int]) -> Tensor:
    """Repeat along size-1 (or new leading) axes to reach `shape`, as numpy broadcasts."""
    return BroadcastTo.apply(x if isinstance(x, Tensor) else Tensor(x), shape=_shape_tuple(shape))


@register(function=None)
def expand(x: Any, *sizes: Any) -> Tensor:
    """PyTorch's broadcast: like broadcast_to, and -1 keeps a dimension's size."""
    x = tensor_of(x)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    lead = len(sizes) - x.ndim
    if any(s == -1 for s in sizes[: max(lead, 0)]):
        raise ValueError(f"expand{tuple(sizes)}: -1 keeps an existing dimension, it cannot size a new leading one")
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    return BroadcastTo.apply(x, shape=shape)


@register(function=None)
def repeat(x: Any, *sizes: Any) -> Tensor:
    """Tile the tensor `sizes[i]` times along each dim (PyTorch's repeat, numpy's tile)."""
    x = tensor_of(x)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if len(sizes) < x.ndim:
        raise ValueError(f"repeat: give at least one count per dim ({x.ndim}), got {sizes}")
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    spread = tuple(n for size in shape for n in (1, size))  # a new length-1 axis before each
    tiled = tuple(n for count, size in zip(sizes, shape) for n in (count, size))
    result = tuple(count * size for count, size in zip(sizes, shape))
    return reshape(broadcast_to(reshape(x, spread), tiled), result)


class Concatenate(Op):
    """Join tensors along an existing axis; backward hands each input its slice."""

    rule = "grad_xs[i] = the slice of grad along axis that xs[i] filled"

    @staticmethod
    def forward(ctx, *xs, axis=0):
        try:
            out = np.concatenate(xs, axis=axis)
        except ValueError:
            shapes = ", ".join(str(np.shape(x)) for x in xs)
            raise ValueError(
                f"concatenate: shapes {shapes} must match except along axis {axis}"
            ) from None
        axis = axis % out.ndim
        ctx.axis, ctx.bounds = axis, np.cumsum([0] + [np.shape(x)[axis] for x in xs])
        return out

    @staticmethod
    def backward(ctx, grad):
        lead = (slice(None),) * ctx.axis
        edges = ctx.bounds
        return tuple(grad[lead + (slice(edges[i], edges[i + 1]),)] for i in range(len(edges) - 1))


@register(method=None, function=("concatenate", "cat"))
def concatenate(tensors: Sequence[Any], dim: int = 0, *, axis: Any = UNSET) -> Tensor:
    """Join tensors along an existing dim (PyTorch's cat)."""
    if len(tensors) == 0:
        raise ValueError("concatenate needs at least one tensor")
    return Concatenate.apply(*[tensor_of(x) for x in tensors], axis=_one_axis("cat", dim, axis))


@register(method=None, function=None, numpy=np.concatenate)
def _numpy_concatenate(arrays: Sequence[Any], axis: int | None = 0) -> Tensor:
    """np.concatenate: `axis=None` joins the flattened arrays."""
    if axis is None:
        return concatenate([reshape(x, -1) for x in arrays])
    return concatenate(arrays, axis)


def _one_axis(op: str, dim: int, axis: Any) -> int:
    """The axis of cat or stack: dim (PyTorch's name) or axis (numpy's)."""
    if axis is UNSET:
        return dim
    if dim != 0:
        raise TypeError(f"{op}: give dim (PyTorch's name) or axis (numpy's), not both")
    return axis


class Stack(Op):
    """Join equally shaped tensors along a new axis; backward hands each input its slice."""

    rule = "grad_xs[i] = grad at index i along the new axis"

    @staticmethod
    def forward(ctx, *xs, axis=0):
        try:
            out = np.stack(xs, axis=axis)
        except ValueError:
            shapes = ", ".join(str(np.shape(x)) for x in xs)
            raise ValueError(f"stack: all tensors must have the same shape, got {shapes}") from None
        ctx.axis = axis % out.ndim
        ctx.count = len(xs)
        return out

    @staticmethod
    def backward(ctx, grad):
        lead = (slice(None),) * ctx.axis
        return tuple(grad[lead + (i,)] for i in range(ctx.count))


@register(method=None, numpy=np.stack)
def stack(tensors: Sequence[Any], dim: int = 0, *, axis: Any = UNSET) -> Tensor:
    """Join equally shaped tensors along a new dim."""
    if len(tensors) == 0:
        raise ValueError("stack needs at least one tensor")
    return Stack.apply(*[tensor_of(x) for x in tensors], axis=_one_axis("stack", dim, axis))


class TensorClone:
    """`Tensor.clone`, installed on Tensor below (see tensor.py's docstring)."""

    def clone(self) -> Tensor:
        """A copy of the data that stays in the graph: gradients flow back to this tensor."""
        return Clone.apply(self)


install_methods(TensorClone)
