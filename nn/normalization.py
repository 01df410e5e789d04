"""Batch normalisation: `batch_norm` and the BatchNorm1d / BatchNorm2d layers, as PyTorch's.

In training each channel is normalised by the batch's mean and biased variance, and the
running statistics move towards the batch's (the running variance with the unbiased
estimate, n / (n - 1) times the biased one); in evaluation the running statistics are used.
The running statistics and `num_batches_tracked` are buffers: in `state_dict()` under
PyTorch's names, not in `parameters()`.

The training-mode normalisation is one op with a hand-written backward (measured faster than
composing mean, var and arithmetic, and one node in pictures); evaluation mode is an affine
map made of ordinary ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag
from autograd import Tensor, no_grad
from autograd.device import as_device
from autograd.dtypes import as_dtype, get_default_dtype
from autograd.function import Op

from .module import Module, Parameter


class BatchNormFunction(Op):
    """(x - mean) / sqrt(var + eps) * weight + bias per channel, with the batch's own mean and biased variance.

    The statistics depend on x, so the gradient for x has two extra terms, through the mean
    and through the variance: grad_x = weight / sqrt(var + eps) * (grad - mean(grad) - x̂ * mean(grad * x̂)).
    """

    rule = "grad_x = w*invstd*(grad - mean(grad) - x̂*mean(grad*x̂)),  grad_w = Σ grad*x̂,  grad_b = Σ grad"

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, axes=(0,), mean=None, var=None, eps=1e-5):
        invstd = 1.0 / np.sqrt(var + eps)
        xhat = (x - mean) * invstd
        ctx.save_for_backward(x, weight)
        ctx.xhat, ctx.invstd, ctx.axes, ctx.eps = xhat, invstd, axes, eps
        if weight is None:
            return xhat
        shape = mean.shape
        return xhat * weight.reshape(shape) + bias.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        axes, needs = ctx.axes, ctx.needs_input_grad
        if type(grad) is np.ndarray and type(x) is np.ndarray:
            xhat, invstd = ctx.xhat, ctx.invstd
        else:  # create_graph: recompute the statistics from x, so their dependence on x is recorded
            centred = x - x.mean(axis=axes, keepdims=True)
            invstd = (((centred * centred).mean(axis=axes, keepdims=True)) + ctx.eps) ** -0.5
            xhat = centred * invstd
        kept = invstd.shape
        grad_bias = grad.sum(axis=axes, keepdims=True)
        grad_weight = (grad * xhat).sum(axis=axes, keepdims=True)
        gx = None
        if needs[0]:
            count = x.size // invstd.size
            scale = invstd if weight is None else invstd * weight.reshape(kept)
            gx = scale * (grad - grad_bias / count - xhat * (grad_weight / count))
        if len(needs) == 1:  # no affine parameters
            return gx
        return gx, grad_weight.reshape(-1) if needs[1] else None, grad_bias.reshape(-1) if needs[2] else None


def _shape(x: Tensor) -> tuple[int, ...]:
    """The per-channel shape that broadcasts over x: (1, C, 1, ...)."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batch_norm(
    input: Any,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (dim 1) of input (N, C, ...): by the batch's statistics when `training` (then
    running_mean / running_var, if given, move towards them by `momentum`, in place), else by the running ones.

    >>> y = batch_norm(ag.randn(8, 3), None, None, training=True)   # each column: mean 0, variance 1
    """
    x = input if isinstance(input, Tensor) else ag.tensor(input)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of at least 2 dimensions (N, C, ...), got shape {x.shape}")
    axes = (0,) + tuple(range(2, x.ndim))
    shape = _shape(x)
    if (weight is None) != (bias is None):
        raise ValueError("batch_norm: give both weight and bias, or neither")
    if training:
        count = x.size // x.shape[1]
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.shape}")
        data = x.data
        mean = data.mean(axis=axes, keepdims=True)
        centred = data - mean
        var = (centred * centred).mean(axis=axes, keepdims=True)
        if running_mean is not None and running_var is not None:
            with no_grad():
                running_mean.copy_((1 - momentum) * running_mean.data + momentum * mean.reshape(-1))
                unbiased = var.reshape(-1) * (count / (count - 1))
                running_var.copy_((1 - momentum) * running_var.data + momentum * unbiased)
        attrs = {"axes": axes, "mean": mean, "var": var, "eps": eps}
        if weight is None:
            return BatchNormFunction.apply(x, **attrs)
        return BatchNormFunction.apply(x, weight, bias, **attrs)
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: evaluation mode (training=False) needs running_mean and running_var")
    invstd = 1.0 / np.sqrt(running_var.data + eps)
    if weight is None:
        return x * invstd.reshape(shape) - (running_mean.data * invstd).reshape(shape)
    scale = weight * invstd  # an affine map per channel: gradients reach weight and bias through ordinary ops
    shift = bias - running_mean.data * scale
    return x * scale.reshape(shape) + shift.reshape(shape)


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; subclasses say which input ranks they take."""

    _ranks: tuple[int, ...] = ()
    _layouts = ""

    def __init__(
        self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
        track_running_stats: bool = True, device: Any = None, dtype: Any = None,
    ) -> None:  # fmt: skip
        super().__init__()
        if num_features <= 0:
            raise ValueError(f"{type(self).__name__} needs a positive num_features, got {num_features}")
        as_device(device)
        dtype = get_default_dtype() if dtype is None else as_dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}'s parameters need a floating-point dtype, got {dtype}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dtype))
            self.bias = Parameter(np.zeros(num_features, dtype=dtype))
        else:
            self.weight = self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else ag.tensor(x)
        name = type(self).__name__
        if x.ndim not in self._ranks:
            raise ValueError(f"{name}: expected {self._layouts} input, got {x.ndim}-D input of shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{name}({self.num_features}) expects {self.num_features} channels (dim 1), got {x.shape[1]} "
                f"in input of shape {x.shape}"
            )
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            if x.size // x.shape[1] <= 1:  # checked here too, so a refused batch is not counted
                raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.shape}")
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative average over every batch so far
                momentum = 1.0 / int(self.num_batches_tracked.item())
        # batch statistics while training, or always when none are tracked; the buffers (None when not
        # tracked) are updated in training and used in evaluation
        batch_stats = self.training or not self.track_running_stats
        return batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, batch_stats, momentum, self.eps
        )

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")  # fmt: skip


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L) inputs, per channel C, as PyTorch's BatchNorm1d:
    eps=1e-5, momentum=0.1 (None: a cumulative average), affine weight 1 and bias 0, running statistics
    as buffers (running_mean, running_var, num_batches_tracked).

    >>> bn = BatchNorm1d(3)
    >>> bn(ag.randn(8, 3)).shape
    (8, 3)
    """

    _ranks = (2, 3)
    _layouts = "2-D (N, C) or 3-D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W) inputs, per channel C, as PyTorch's BatchNorm2d (defaults as
    BatchNorm1d's).

    >>> BatchNorm2d(8)(ag.randn(4, 8, 5, 5)).shape
    (4, 8, 5, 5)
    """

    _ranks = (4,)
    _layouts = "4-D (N, C, H, W)"
