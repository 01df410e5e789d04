"""Indexing: t[...] with basic, integer-array and boolean indices.

The gradient of x[index] scatters the incoming gradient back into zeros of x's shape.
Integer arrays may repeat an index; `np.add.at` then adds every copy's gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function


def _is_basic(index: tuple[Any, ...]) -> bool:
    """True for ints, slices, None and Ellipsis only: such an index never repeats an element."""
    return all(
        i is None or i is Ellipsis or isinstance(i, slice) or (isinstance(i, (int, np.integer)) and type(i) is not bool)
        for i in index
    )


def _scatter(grad: np.ndarray, shape: tuple[int, ...], index: tuple[Any, ...]) -> np.ndarray:
    out = np.zeros_like(grad, shape=shape)  # zeros_like: the same array library as grad
    if _is_basic(index):
        out[index] = grad
    else:
        np.add.at(out, index, grad)
    return out


class GetItem(Function):
    @staticmethod
    def forward(ctx, x, index):
        try:
            out = x[index]
        except IndexError as err:
            raise IndexError(f"index {_show(index)} is invalid for a tensor of shape {x.shape}: {err}") from None
        ctx.shape, ctx.index = x.shape, index
        return out

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, Tensor):  # create_graph: record the scatter too
            return IndexScatter.apply(grad, shape=ctx.shape, index=ctx.index)
        return _scatter(grad, ctx.shape, ctx.index)


class IndexScatter(Function):
    """Adds `grad` into zeros of `shape` at `index`: GetItem's gradient, and its adjoint."""

    @staticmethod
    def forward(ctx, grad, shape, index):
        ctx.index = index
        return _scatter(grad, shape, index)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index]


def _show(index: tuple[Any, ...]) -> str:
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


from ..tensor import Tensor  # noqa: E402
