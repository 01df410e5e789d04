"""Ops that move elements without changing them: reshape, permute, broadcast, join."""

from __future__ import annotations

import numpy as np

from ..function import Op


class Clone(Op):
    """A copy of the values that stays in the graph (the gradient passes through unchanged)."""

    @staticmethod
    def forward(ctx, x):
        return np.array(x, copy=True)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Reshape(Op):
    """Same elements, new shape (reshape, view, squeeze, unsqueeze and flatten use it)."""

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


class Permute(Op):
    """Reorder the axes; backward applies the inverse order."""

    @staticmethod
    def forward(ctx, x, axes):
        if sorted(a % x.ndim for a in axes) != list(range(x.ndim)) or len(axes) != x.ndim:
            raise ValueError(f"permute: {tuple(axes)} is not an ordering of the {x.ndim} axes of shape {x.shape}")
        ctx.inverse = tuple(np.argsort([a % x.ndim for a in axes]))
        return np.transpose(x, axes)

    @staticmethod
    def backward(ctx, grad):
        return np.transpose(grad, ctx.inverse)


class BroadcastTo(Op):
    """A read-only broadcast view; its gradient is summed back to the input's shape by the engine."""

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


class Concatenate(Op):
    """Join tensors along an existing axis; backward hands each input its slice."""

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


class Stack(Op):
    """Join equally shaped tensors along a new axis; backward hands each input its slice."""

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
