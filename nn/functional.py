"""The operations behind the layers and losses, as plain functions (PyTorch's `nn.functional`)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

import autograd as ag
from autograd import Tensor
from autograd.function import Op
from autograd.random import as_generator

# the layers' functions that live beside their ops, re-exported here under PyTorch's names
from .convolution import conv1d as conv1d
from .convolution import conv2d as conv2d
from .normalization import batch_norm as batch_norm
from .pooling import adaptive_avg_pool2d as adaptive_avg_pool2d
from .pooling import avg_pool2d as avg_pool2d
from .pooling import max_pool2d as max_pool2d

REDUCTIONS = ("mean", "sum", "none")


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else ag.tensor(x)


class LinearFunction(Op):
    """x @ weight.T + bias as one op: one node in the graph (and in pictures) instead of three.

    The Function behind `linear` and the `nn.Linear` module. x is (..., in_features), weight
    (out_features, in_features), bias (out_features,). The backward uses only matmul, reshape
    and sum, so second derivatives work too.
    """

    rule = "grad_x = grad @ weight,  grad_weight = gradᵀ @ x,  grad_bias = Σ grad over the rows"

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        out = x @ weight.T
        return out if bias is None else out + bias

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        rows = grad.reshape((-1, weight.shape[0]))  # every leading (batch) axis folded into one
        gx = grad @ weight if ctx.needs_input_grad[0] else None
        gw = rows.mT @ x.reshape((-1, weight.shape[1])) if ctx.needs_input_grad[1] else None
        if len(ctx.needs_input_grad) == 2:  # called without a bias
            return gx, gw
        return gx, gw, rows.sum(axis=0) if ctx.needs_input_grad[2] else None


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias, with weight stored (out_features, in_features) as in PyTorch."""
    if bias is None:
        return LinearFunction.apply(_tensor(x), weight)
    return LinearFunction.apply(_tensor(x), weight, bias)


def sigmoid(x: Any) -> Tensor:
    return ag.sigmoid(x)


def relu(x: Any) -> Tensor:
    return ag.relu(x)


def tanh(x: Any) -> Tensor:
    return ag.tanh(x)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    return ag.leaky_relu(x, negative_slope)


def step(x: Any) -> Tensor:
    return ag.step(x)


def softmax(x: Any, dim: int = -1) -> Tensor:
    return ag.softmax(x, axis=dim)


def log_softmax(x: Any, dim: int = -1) -> Tensor:
    return ag.log_softmax(x, axis=dim)


def dropout(x: Any, p: float = 0.5, training: bool = True, generator: np.random.Generator | None = None) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (inverted dropout).

    Does nothing when `training` is False, so evaluation needs no rescaling.
    """
    if not 0 <= p < 1:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    x = _tensor(x)
    if not training or p == 0:
        return x
    keep = as_generator(generator).random(x.shape) >= p  # the default generator unless one is given
    return x * (keep / (1 - p)).astype(x.dtype)


def _reduction(reduction: Any, size_average: Any, reduce: Any, stacklevel: int = 3) -> Any:
    """The reduction to use: `reduction`, unless PyTorch's deprecated `size_average` / `reduce` keywords are given.

    They are read as PyTorch reads them (None counts as True): reduce false gives "none", else
    size_average false gives "sum", else "mean"; and, as in PyTorch, giving either warns
    (UserWarning) with the `reduction=` to use instead.
    """
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    legacy = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{legacy}' instead.",
        UserWarning,
        stacklevel=stacklevel,
    )
    return legacy


def check_reduction(reduction: Any) -> None:
    """A ValueError unless `reduction` is "mean", "sum" or "none"."""
    if reduction not in REDUCTIONS:
        hint = (
            "; PyTorch's deprecated size_average / reduce are taken by keyword only"
            if reduction is None or isinstance(reduction, bool)
            else ""
        )
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}{hint}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    check_reduction(reduction)
    return loss


def _target(target: Any, dtype: Any) -> Any:
    """A loss's target: a float Tensor that requires grad as is (it gets a gradient, as in PyTorch), else an array."""
    if isinstance(target, Tensor):
        if target.requires_grad:  # requires_grad implies a float dtype
            return target
        target = target.data
    return target if type(target) is np.ndarray and target.dtype == dtype else np.asarray(target, dtype=dtype)


def _differentiable(target: Any) -> bool:
    return isinstance(target, Tensor) and target.requires_grad and target.dtype.kind == "f"


def _same_shape(name: str, input: Tensor, target: Any) -> None:
    shape = target.shape if isinstance(target, (Tensor, np.ndarray)) else np.shape(target)
    if input.shape != shape:
        raise ValueError(
            f"{name}: input shape {input.shape} and target shape {shape} differ; "
            "they must match (reshape the target, e.g. t.reshape(-1, 1))"
        )


class MSE(Op):
    """Squared error (y - t)**2 reduced by mean, sum or none, times `scale`, as one op."""

    rule = "grad_y = grad * 2 * scale * (y - t) / N (N = y.size for mean, else 1),  grad_t = -grad_y"

    @staticmethod
    def forward(ctx, y, t, reduction="mean", scale=1.0):
        ctx.save_for_backward(y, t)
        ctx.reduction, ctx.scale = reduction, scale
        diff = y - t
        squares = diff * diff
        if reduction == "none":
            return squares * scale if scale != 1.0 else squares
        total = squares.sum() * scale
        return total / squares.size if reduction == "mean" else total

    @staticmethod
    def backward(ctx, grad):
        y, t = ctx.saved_tensors
        factor = 2 * ctx.scale / (y.size if ctx.reduction == "mean" else 1)
        gy = grad * (y - t) * factor  # recomputed from the inputs, so second derivatives hold
        return gy, -gy if ctx.needs_input_grad[1] else None


def mse_loss(
    input: Any,
    target: Any,
    reduction: str = "mean",
    halved: bool = False,
    *,
    size_average: bool | None = None,
    reduce: bool | None = None,
) -> Tensor:
    """Mean squared error; `halved=True` gives the seeds' 0.5 * mean((y - t)**2), whose gradient is (y - t) / N.

    A target that requires grad gets one too (the negated input's), as in PyTorch.
    """
    reduction = _reduction(reduction, size_average, reduce)
    input = _tensor(input)
    target = _target(target, input.dtype)
    _same_shape("mse_loss", input, target)
    check_reduction(reduction)
    return MSE.apply(input, target, reduction=reduction, scale=0.5 if halved else 1.0)


def _targets(target: Any, logits: Tensor, name: str) -> np.ndarray:
    """Checked targets: class indices (integers, one fewer axis than the logits) or probability rows."""
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    classes = logits.shape[-1]
    if t.shape == logits.shape:
        return t.astype(logits.dtype, copy=False)
    if t.shape != logits.shape[:-1] or t.dtype.kind not in "iu":
        raise ValueError(
            f"{name}: target must be class indices of shape {logits.shape[:-1]} (integers) or one-hot/probability "
            f"rows of shape {logits.shape}, got shape {t.shape} and dtype {t.dtype}"
        )
    if t.size and (t.min() < 0 or t.max() >= classes):
        raise ValueError(f"{name}: class indices must lie in [0, {classes}), got values from {t.min()} to {t.max()}")
    return t


def _one_hot(indices: np.ndarray, classes: int, dtype: Any) -> np.ndarray:
    rows = np.zeros(indices.shape + (classes,), dtype=dtype)
    np.put_along_axis(rows, indices[..., None], 1, axis=-1)
    return rows


def _target_index(indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The index of each row's target class in the logits flattened to (rows, C)."""
    return np.arange(indices.size), indices.reshape(-1)


class CrossEntropy(Op):
    """-sum(w * log_softmax(z)) per row, reduced: softmax and cross-entropy fused into one op.

    `target` is class indices or rows of class weights w (one-hot or probabilities). The
    gradient is softmax(z) * sum(w) - w per row: softmax(z) less 1 at the target class for
    indices, one subtraction instead of the backward of five separate ops. Weight rows that
    require grad get -log_softmax(z) per row; class indices never get a gradient.
    """

    rule = "grad_logits = grad/N * (softmax(logits)·Σw - w),  grad_target = -grad/N * log_softmax(logits)"

    @staticmethod
    def forward(ctx, logits, target, reduction="mean"):
        peak = logits.max(axis=-1, keepdims=True)
        shifted = logits - peak
        probs = np.exp(shifted)
        total = probs.sum(axis=-1, keepdims=True)
        probs /= total
        log_total = np.log(total)
        if target.dtype.kind in "iu":  # -log_softmax at the target class: log(total) - shifted[target]
            picked = shifted.reshape(-1, shifted.shape[-1])[_target_index(target)]
            rows = log_total[..., 0] - picked.reshape(target.shape)
        else:  # -sum(w * (shifted - log(total))) per row
            rows = log_total[..., 0] * target.sum(axis=-1) - (target * shifted).sum(axis=-1)
        ctx.save_for_backward(logits, target)
        ctx.probs, ctx.peak, ctx.log_total, ctx.reduction = probs, peak, log_total, reduction
        if reduction == "none":
            return rows
        return rows.sum() / rows.size if reduction == "mean" else rows.sum()

    @staticmethod
    def backward(ctx, grad):
        logits, target = ctx.saved_tensors
        if ctx.reduction == "none":
            scale = grad.reshape(grad.shape + (1,))
        else:
            scale = grad / (ctx.probs.size // ctx.probs.shape[-1]) if ctx.reduction == "mean" else grad
        recorded = isinstance(logits, Tensor) or isinstance(target, Tensor)  # create_graph: differentiable ops only
        gz = gw = None
        if ctx.needs_input_grad[0]:
            if recorded:  # recompute the softmax from the logits, so it is differentiable
                w = _one_hot(target, logits.shape[-1], logits.dtype) if target.dtype.kind in "iu" else target
                d = logits.softmax(-1) * w.sum(axis=-1, keepdims=True) - w
            elif target.dtype.kind in "iu":
                d = ctx.probs.copy()  # the graph may be retained: probs must stay as they are
                d.reshape(-1, d.shape[-1])[_target_index(target)] -= 1  # a view of d: subtracts in place
            else:
                d = ctx.probs * target.sum(axis=-1, keepdims=True) - target
            gz = scale * d
        if ctx.needs_input_grad[1]:  # probability rows that require grad: d/dw = -log_softmax(z)
            if recorded:
                gw = scale * -_tensor(logits).log_softmax(-1)
            else:
                gw = scale * (ctx.log_total - (logits - ctx.peak))
        return gz, gw


def cross_entropy(
    input: Any,
    target: Any,
    reduction: str = "mean",
    *,
    size_average: bool | None = None,
    reduce: bool | None = None,
) -> Tensor:
    """Softmax cross-entropy from raw logits (N, C), stable at any logit size.

    `target` is class indices (N,) or one-hot / probability rows (N, C): the seeds use both.
    Probability rows that require grad get a gradient, as in PyTorch.
    """
    reduction = _reduction(reduction, size_average, reduce)
    logits = _tensor(input)
    checked = _targets(target, logits, "cross_entropy")
    if checked.dtype.kind == "f" and _differentiable(target):
        checked = target
    check_reduction(reduction)
    return CrossEntropy.apply(logits, checked, reduction=reduction)


def nll_loss(
    input: Any,
    target: Any,
    reduction: str = "mean",
    *,
    size_average: bool | None = None,
    reduce: bool | None = None,
) -> Tensor:
    """Negative log-likelihood from log-probabilities (N, C) and class indices (N,)."""
    reduction = _reduction(reduction, size_average, reduce)
    log_probs = _tensor(input)
    target = _targets(target, log_probs, "nll_loss")
    weights = _one_hot(target, log_probs.shape[-1], log_probs.dtype) if target.dtype.kind in "iu" else target
    return _reduce(-(log_probs * weights).sum(-1), reduction)


EPSILON = float(np.float32(1e-12))  # PyTorch's floor on p (1 - p) in BCE's gradient: 1e-12, a float32 constant there


class BinaryCrossEntropy(Op):
    """-(t log p + (1 - t) log(1 - p)), each log floored at -100, reduced: one op, as in PyTorch.

    d/dp = (p - t) / max(p (1 - p), EPSILON), finite even for a saturated sigmoid (p == 1.0);
    d/dt = -logit(p) = -log(p / (1 - p)), inf at p = 0 and -inf at p = 1 (PyTorch's values).
    The backward uses only ops that also record on tensors, so second derivatives work.
    """

    rule = "grad_p = grad * (p - t) / max(p(1 - p), EPSILON) / N,  grad_t = -grad * logit(p) / N"

    @staticmethod
    def forward(ctx, p, t, reduction="mean"):
        ctx.save_for_backward(p, t)
        ctx.reduction = reduction
        with np.errstate(divide="ignore", invalid="ignore"):  # log(0) = -inf (floored), mean of nothing = nan
            log_p = np.maximum(np.log(p), -100.0)
            log_q = np.maximum(np.log1p(-p), -100.0)
            loss = (t - 1) * log_q - t * log_p
            if reduction == "none":
                return loss
            return loss.sum() / loss.size if reduction == "mean" else loss.sum()

    @staticmethod
    def backward(ctx, grad):
        p, t = ctx.saved_tensors
        n = p.size if ctx.reduction == "mean" else 1
        gp = gt = None
        with np.errstate(divide="ignore"):  # logit(0) = -inf and logit(1) = inf are PyTorch's values
            if ctx.needs_input_grad[0]:
                gp = grad * (p - t) / np.maximum((1 - p) * p, EPSILON)
                gp = gp / n if n != 1 else gp
            if ctx.needs_input_grad[1]:
                gt = -np.log(p / (1 - p)) * grad
                gt = gt / n if n != 1 else gt
        return gp, gt


def _probabilities(name: str, what: str, values: np.ndarray) -> None:
    if values.size and not ((values >= 0) & (values <= 1)).all():
        raise ValueError(
            f"{name}: every {what} must be a probability in [0, 1], got values from {np.min(values)} to "
            f"{np.max(values)}" + (" (for raw scores use binary_cross_entropy_with_logits)" if what == "input" else "")
        )


def binary_cross_entropy(
    input: Any,
    target: Any,
    reduction: str = "mean",
    *,
    size_average: bool | None = None,
    reduce: bool | None = None,
) -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) for probabilities p; each log floored at -100, as in PyTorch.

    A target that requires grad gets one too (-logit(p)), as in PyTorch.
    """
    reduction = _reduction(reduction, size_average, reduce)
    p = _tensor(input)
    t = _target(target, p.dtype)
    _same_shape("binary_cross_entropy", p, t)
    _probabilities("binary_cross_entropy", "input", p.data)
    _probabilities("binary_cross_entropy", "target", t.data if isinstance(t, Tensor) else t)
    check_reduction(reduction)
    return BinaryCrossEntropy.apply(p, t, reduction=reduction)


def binary_cross_entropy_with_logits(
    input: Any,
    target: Any,
    reduction: str = "mean",
    *,
    size_average: bool | None = None,
    reduce: bool | None = None,
) -> Tensor:
    """Binary cross-entropy of sigmoid(x), computed from x stably: softplus(x) - t * x.

    A target that requires grad gets one too (-x), as in PyTorch.
    """
    reduction = _reduction(reduction, size_average, reduce)
    x = _tensor(input)
    t = _target(target, x.dtype)
    _same_shape("binary_cross_entropy_with_logits", x, t)
    return _reduce(x.softplus() - x * t, reduction)
