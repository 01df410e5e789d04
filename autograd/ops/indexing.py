"""Indexing: t[...] with basic, integer-array and boolean indices.

The gradient of x[index] scatters the incoming gradient back into zeros of x's shape.
Integer arrays may repeat an index; `np.add.at` then adds every copy's gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Op
from ..registry import register
from ..tensor import Tensor, _normalize_index, install_methods
from .arguments import tensor_of


def _is_basic(index: tuple[Any, ...]) -> bool:
    """True for ints, slices, None and Ellipsis only: such an index never repeats an element."""
    return all(
        i is None or i is Ellipsis or isinstance(i, slice) or (isinstance(i, (int, np.integer)) and type(i) is not bool)
        for i in index
    )


def _scatter(grad: np.ndarray, shape: tuple[int, ...], index: tuple[Any, ...]) -> np.ndarray:
    out = np.zeros_like(grad, shape=shape)  # zeros_like: in grad's dtype
    if _is_basic(index):
        out[index] = grad
    else:
        np.add.at(out, index, grad)
    return out


class GetItem(Op):
    """x[index]: the selected elements; backward scatters the gradient back into x's shape."""

    rule = "grad_x = zeros of x's shape with grad added at index (repeated indices add up)"

    @staticmethod
    def forward(ctx, x, index):
        try:
            out = x[index]
        except IndexError as err:
            message = f"index {describe_index(index)} is invalid for a tensor of shape {x.shape}: {err}"
            raise IndexError(message) from None
        ctx.shape, ctx.index = x.shape, index
        return out

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, Tensor):  # create_graph: record the scatter too
            return IndexScatter.apply(grad, shape=ctx.shape, index=ctx.index)
        return _scatter(grad, ctx.shape, ctx.index)


class IndexScatter(Op):
    """Adds `grad` into zeros of `shape` at `index`: GetItem's gradient, and its adjoint."""

    rule = "grad_grad = grad[index]: the entries forward scattered, gathered back"

    @staticmethod
    def forward(ctx, grad, shape, index):
        ctx.index = index
        return _scatter(grad, shape, index)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index]


class SetItem(Op):
    """x with x[index] set to value: what `t[index] = value` records. Overwritten elements pass no gradient to x."""

    rule = "grad_x = grad with 0 at index,  grad_value = grad[index] (summed if value broadcast)"

    @staticmethod
    def forward(ctx, x, value, index):
        out = np.array(x, copy=True)
        try:
            out[index] = value
        except IndexError as err:
            message = f"index {describe_index(index)} is invalid for a tensor of shape {x.shape}: {err}"
            raise IndexError(message) from None
        ctx.shape, ctx.index, ctx.value_shape = x.shape, index, np.shape(value)
        return out

    @staticmethod
    def backward(ctx, grad):
        gx = gv = None
        if ctx.needs_input_grad[0]:
            kept = np.ones(ctx.shape, dtype=bool)
            kept[ctx.index] = False
            gx = np.where(kept, grad, 0)  # not grad * kept: an inf there must not become nan
        if ctx.needs_input_grad[1]:
            gv = grad[ctx.index]  # summed to the value's shape by the engine when it was broadcast
            lead = len(ctx.value_shape) - gv.ndim
            if lead > 0:  # a value with extra leading 1s, e.g. shape (1, 3) into a row of 3
                gv = gv.reshape((1,) * lead + gv.shape)
        return gx, gv


def describe_index(index: tuple[Any, ...]) -> str:
    """An index tuple as readable text for messages and pictures, e.g. "[0, 1:3, array(shape=(20,), dtype=int64)]".

    Small integer arrays are listed, larger ones summarised by shape and dtype.
    """
    parts = []
    for i in index:
        if isinstance(i, np.ndarray):
            parts.append(f"array(shape={i.shape}, dtype={i.dtype})" if i.size > 8 else repr(i.tolist()))
        elif isinstance(i, slice):
            text = f"{'' if i.start is None else i.start}:{'' if i.stop is None else i.stop}"
            parts.append(text if i.step is None else f"{text}:{i.step}")
        else:
            parts.append(repr(i))
    return "[" + ", ".join(parts) + "]"


@register()
def gather(x: Any, dim: int, index: Any) -> Tensor:
    """`out[i][j] = x[index[i][j]][j]` for dim 0 (and so on): PyTorch's gather, numpy's take_along_axis."""
    x = tensor_of(x)
    positions = np.asarray(index._data if isinstance(index, Tensor) else index)
    if positions.dtype.kind not in "iu" or positions.ndim != x.ndim:
        raise ValueError(
            f"gather: index must be an integer tensor with as many dims as the input ({x.ndim}), "
            f"got dtype {positions.dtype} and shape {positions.shape}"
        )
    dim = dim % x.ndim
    grid = list(np.indices(positions.shape, sparse=True))
    grid[dim] = positions
    return x[tuple(grid)]


class TensorIndexing:
    """`t[index]`, installed on Tensor below (see tensor.py's docstring; `t[index] = v` is in inplace.py)."""

    def __getitem__(self, index: Any) -> Tensor:
        return GetItem.apply(self, index=_normalize_index(index))


install_methods(TensorIndexing)
