"""Convolution: `conv1d` / `conv2d` and the `Conv1d` / `Conv2d` layers, as im2col plus one matrix product.

Layouts are PyTorch's: input (N, C, H, W), weight (out_channels, in_channels // groups, kh, kw),
output (N, out_channels, OH, OW) with OH = floor((H + pad_top + pad_bottom - dilation * (kh - 1) - 1)
/ stride) + 1. As in PyTorch it is a cross-correlation (the kernel is not flipped).

im2col: a strided view of the padded input, (N, C, kh, kw, OH, OW), holds every window
without copying; one copy makes it a matrix, and one matrix product with the weight gives
every output. Its adjoint, col2im, adds each window element back where it was read from,
with one strided slice per kernel offset, so overlapping windows (stride < kernel) and
dilation add up correctly.

The convolution is linear in its input and in its weight, so its gradients are convolutions
too: three ops, `Conv2dFunction`, `Conv2dInputGrad` (the transposed convolution) and
`Conv2dWeightGrad`, each of whose backward is written with the others. Second (and higher)
derivatives therefore work.
"""

from __future__ import annotations

import math
import operator
import sys
import threading
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

import autograd as ag
from autograd import Tensor
from autograd.compiler import is_compiling
from autograd.device import as_device
from autograd.dtypes import as_dtype, get_default_dtype
from autograd.function import Op

from . import init
from .module import Module, Parameter

Pair = tuple[int, int]


class Geometry(NamedTuple):
    """Where a 2-D window op reads: stride, padding ((top, bottom), (left, right)), dilation and groups."""

    stride: Pair
    padding: tuple[Pair, Pair]
    dilation: Pair
    groups: int = 1


def pair(name: str, value: Any, minimum: int) -> Pair:
    """`value` (an int or a pair of ints) as a pair, each at least `minimum`; else an error naming `name`."""
    try:
        values = (operator.index(value),) * 2
    except TypeError:
        try:
            values = tuple(operator.index(v) for v in value)
        except TypeError:
            raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}") from None
    if len(values) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{name} must be {'non-negative' if minimum == 0 else 'positive'}, got {value!r}")
    return values[0], values[1]


# ------------------------------------------------------------------ work arrays

# The im2col matrices and their gradients are megabytes each. Fresh from the allocator every step,
# their pages are new to the process, and faulting them in cost about 4 ms of LeNet's 10 ms step
# (3,600 page faults a step). So the ops take them from a small per-thread pool of buffers and reuse
# one once nothing else refers to it: a buffer held only by the pool has the reference count measured
# below, and every array made from it (the view handed out, its reshapes, a ctx's saved tensors, a
# user's reference to any of them) holds one more. Only the ops' own intermediates come from here,
# never an output or a gradient.
_WORK_MIN_BYTES = 1 << 17  # smaller arrays are cheap to allocate (and glibc reuses their pages anyway)
_WORK_BUFFERS = 8  # buffers kept per thread: LeNet's step uses 4


class _WorkBuffers(threading.local):
    def __init__(self) -> None:
        self.buffers: list[np.ndarray] = []  # flat uint8 buffers, most recently used first


_work = _WorkBuffers()
_probe = [np.empty(0)]
_UNREFERENCED = sys.getrefcount(_probe[0])  # a buffer that only the pool's list holds, counted as work_array does
del _probe


def work_array(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialised array of `shape` for an op's own use (its contents are garbage): a view of the smallest
    pooled buffer that fits (at most twice the size) and that nothing refers to any longer, else of a new
    buffer, pooled when large. Never hand one out as an op's result."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < _WORK_MIN_BYTES or is_compiling():  # a compiled step's program holds its own arrays
        return np.empty(shape, dtype)
    buffers = _work.buffers
    best = -1
    for i in range(len(buffers)):
        size = buffers[i].nbytes
        if nbytes <= size <= 2 * nbytes and sys.getrefcount(buffers[i]) <= _UNREFERENCED:
            if best < 0 or size < buffers[best].nbytes:
                best = i
    if best >= 0:
        buffer = buffers.pop(best)
    else:
        buffer = np.empty(nbytes, np.uint8)
    buffers.insert(0, buffer)
    del buffers[_WORK_BUFFERS:]  # the least recently used leave the pool (and live on while referenced)
    return buffer[:nbytes].view(dtype).reshape(shape)


def output_size(size: int, kernel: int, stride: int, padding: Pair, dilation: int) -> int:
    """floor((size + padding - dilation * (kernel - 1) - 1) / stride) + 1: how many windows fit."""
    return (size + padding[0] + padding[1] - dilation * (kernel - 1) - 1) // stride + 1


def pad(x: np.ndarray, padding: tuple[Pair, Pair], value: float = 0.0) -> np.ndarray:
    """x (N, C, H, W) with `padding` rows and columns of `value` around each image (x itself when none)."""
    (top, bottom), (left, right) = padding
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + top + bottom, w + left + right), value, dtype=x.dtype)
    out[:, :, top : top + h, left : left + w] = x
    return out


def crop(x: Any, padding: tuple[Pair, Pair]) -> Any:
    """The inverse of `pad`: x without its padding rows and columns."""
    (top, bottom), (left, right) = padding
    if not (top or bottom or left or right):
        return x
    return x[:, :, top : x.shape[2] - bottom, left : x.shape[3] - right]


def windows(xp: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair) -> np.ndarray:
    """A read-only view (N, C, kh, kw, OH, OW) of every window: [n, c, i, j, p, q] = xp[n, c, p*sh + i*dh, q*sw + j*dw].

    No copy: the view's strides step through xp's memory (the im2col matrix before it is made contiguous).
    """
    n, c, h, w = xp.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = output_size(h, kh, sh, (0, 0), dh), output_size(w, kw, sw, (0, 0), dw)
    s_n, s_c, s_h, s_w = xp.strides
    strides = (s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw)
    return as_strided(xp, (n, c, kh, kw, oh, ow), strides, writeable=False)


def col2im(cols: np.ndarray, size: Pair, stride: Pair, dilation: Pair, out: np.ndarray | None = None) -> np.ndarray:
    """The adjoint of `windows`: cols (A, kh, kw, OH, OW, B) added into zeros (A, H, W, B), H x W = `size` (the
    padded input's), each element where its window read it. A and B are any leading and trailing axes, merged
    (N * C and 1, or C and N). One strided slice per kernel offset, so overlapping windows add up. `out`, when
    given, is the (A, H, W, B) array to fill (its contents are overwritten)."""
    a, kh, kw, oh, ow, b = cols.shape
    (sh, sw), (dh, dw) = stride, dilation
    if out is None:
        out = np.zeros((a, *size, b), dtype=cols.dtype)
    else:
        out.fill(0)
    if sh >= dh * (kh - 1) + 1 and sw >= dw * (kw - 1) + 1:  # windows never overlap: one strided copy does it
        s_a, s_h, s_w, s_b = out.strides
        view = as_strided(out, cols.shape, (s_a, s_h * dh, s_w * dw, s_h * sh, s_w * sw, s_b))
        view[...] = cols
        return out
    for i in range(kh):
        for j in range(kw):
            out[:, i * dh : i * dh + sh * (oh - 1) + 1 : sh, j * dw : j * dw + sw * (ow - 1) + 1 : sw] += cols[:, i, j]
    return out


def _im2col(x: np.ndarray, kernel: Pair, geometry: Geometry) -> np.ndarray:
    """The im2col matrix of x, grouped: (N, groups, C // groups * kh * kw, OH * OW), contiguous: a work array
    (or x itself, for a 1 x 1 kernel that reads every element once)."""
    xp = pad(x, geometry.padding)
    view = windows(xp, kernel, geometry.stride, geometry.dilation)
    n, c, kh, kw, oh, ow = view.shape
    g = geometry.groups
    if not view.flags.c_contiguous:
        cols = work_array(view.shape, view.dtype)
        if ow < _SHORT_ROWS and geometry.stride[0] == 1 and kw > 1:
            view = _column_shifted(xp, kernel, geometry, ow)
        np.copyto(cols, view)
        view = cols
    return view.reshape(n, g, c // g * kh * kw, oh * ow)


_SHORT_ROWS = 16  # output rows shorter than this are gathered in two steps (see _column_shifted)


def _column_shifted(xp: np.ndarray, kernel: Pair, geometry: Geometry, ow: int) -> np.ndarray:
    """The same windows as `windows(xp, ...)`, read from a copy of xp's columns shifted by each kernel column j,
    T[n, c, j, h, q] = xp[n, c, h, q*sw + j*dw]: then each window's OH rows of OW are contiguous in T. With short
    rows (LeNet's second layer: OW = 8) copying the windows row by row is mostly per-row overhead; this copy
    plus one of OH * OW-long runs measured 1.4x faster."""
    n, c, h, _ = xp.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, geometry.stride, geometry.dilation
    s_n, s_c, s_h, s_w = xp.strides
    shifted = work_array((n, c, kw, h, ow), xp.dtype)
    np.copyto(shifted, as_strided(xp, shifted.shape, (s_n, s_c, s_w * dw, s_h, s_w * sw), writeable=False))
    t_n, t_c, t_j, t_h, t_q = shifted.strides
    oh = output_size(h, kh, sh, (0, 0), dh)
    return as_strided(shifted, (n, c, kh, kw, oh, ow), (t_n, t_c, t_h * dh, t_j, t_h * sh, t_q), writeable=False)


def _conv(x: np.ndarray, weight: np.ndarray, geometry: Geometry) -> tuple[np.ndarray, np.ndarray]:
    """The convolution of x by weight (no bias), and the im2col matrix it used."""
    out_channels, _, kh, kw = weight.shape
    g = geometry.groups
    cols = _im2col(x, (kh, kw), geometry)
    n = cols.shape[0]
    # (groups, O/g, C/g*kh*kw) @ (N, groups, C/g*kh*kw, OH*OW): one stacked product, output already NCHW
    out = np.matmul(weight.reshape(g, out_channels // g, -1), cols)
    oh, ow = _out_hw(x.shape, (kh, kw), geometry)
    return out.reshape(n, out_channels, oh, ow), cols


def _out_hw(shape: tuple[int, ...], kernel: Pair, geometry: Geometry) -> Pair:
    (top_bottom, left_right), (sh, sw), (dh, dw) = geometry.padding, geometry.stride, geometry.dilation
    return (
        output_size(shape[2], kernel[0], sh, top_bottom, dh),
        output_size(shape[3], kernel[1], sw, left_right, dw),
    )


def _conv_input_grad(grad: np.ndarray, weight: np.ndarray, geometry: Geometry, input_shape: tuple) -> np.ndarray:
    """The transposed convolution: the gradient of conv(x, weight) with respect to x (of `input_shape`)."""
    n, out_channels, oh, ow = grad.shape
    _, cg, kh, kw = weight.shape
    g = geometry.groups
    w = weight.reshape(g, out_channels // g, cg * kh * kw)
    # batch axis last: one product per group, and col2im's additions then run over long contiguous rows
    # (OW * N elements), measured 1.6x faster than in NCHW order for LeNet's second layer
    rows = np.ascontiguousarray(grad.reshape(n, g, out_channels // g, oh * ow).transpose(1, 2, 3, 0))
    rows = rows.reshape(g, out_channels // g, oh * ow * n)
    w_t = np.swapaxes(w, 1, 2)  # (groups, C/g*kh*kw, O/g)
    dtype = np.result_type(w, rows)
    (top, bottom), (left, right) = geometry.padding
    padded = (input_shape[2] + top + bottom, input_shape[3] + left + right)
    summed = work_array((g * cg, *padded, n), dtype)
    # the columns (C*kh*kw, OH*OW*N), a block of channels at a time (see _COLUMN_BLOCK_BYTES)
    per_channel = kh * kw * oh * ow * n * dtype.itemsize
    step = max(1, min(cg, _COLUMN_BLOCK_BYTES // per_channel))
    for group in range(g):
        for c in range(0, cg, step):
            k = min(step, cg - c)
            cols = np.matmul(w_t[group, c * kh * kw : (c + k) * kh * kw], rows[group],
                             out=work_array((k * kh * kw, oh * ow * n), dtype))  # fmt: skip
            first = group * cg + c
            col2im(cols.reshape(k, kh, kw, oh, ow, n), padded, geometry.stride, geometry.dilation,
                   out=summed[first : first + k])  # fmt: skip
    result = np.empty(input_shape, dtype=dtype)  # a new array: the gradient leaves this op
    np.copyto(result, crop(np.moveaxis(summed, 3, 0), geometry.padding))  # back to NCHW order
    return result


# the input gradient's columns are made at most this much at a time: all of LeNet's at once (1 MB blocks
# used a third less memory but measured slower), a bounded amount for larger layers
_COLUMN_BLOCK_BYTES = 4 << 20


def _conv_weight_grad(cols: np.ndarray, grad: np.ndarray, geometry: Geometry, weight_shape: tuple) -> np.ndarray:
    """The gradient of conv(x, weight) with respect to the weight, from x's im2col matrix: Σ over N and positions."""
    n, out_channels = grad.shape[:2]
    g = geometry.groups
    rows = grad.reshape(n, g, out_channels // g, -1)
    # a stacked product per batch item, then a sum over N: measured faster than one big product, which
    # would first copy cols into (C*kh*kw, N*P) order (BLAS reads the swapped axes in place)
    per_item = np.matmul(rows, np.swapaxes(cols, 2, 3), out=work_array((n, g, *rows.shape[2:3], cols.shape[2]),
                                                                        np.result_type(rows, cols)))  # fmt: skip
    return per_item.sum(axis=0).reshape(weight_shape)


def _arrays(*values: Any) -> bool:
    """True when every value is a plain array: the backward is not being recorded (no create_graph)."""
    return all(type(v) is np.ndarray for v in values)


class Conv2dFunction(Op):
    """2-D convolution (PyTorch's cross-correlation) of x by weight, plus bias: im2col and one matrix product.

    Linear in x and in the weight, so its gradients are convolutions: the transposed convolution
    of grad for x, grad against x's windows for the weight, and grad summed over N, H, W for the bias.
    """

    rule = "grad_x = conv_transpose2d(grad, weight),  grad_weight = Σ grad · windows(x),  grad_bias = Σ_NHW grad"

    @staticmethod
    def forward(ctx, x, weight, bias=None, geometry=None):
        out, cols = _conv(x, weight, geometry)
        ctx.geometry = geometry
        # the im2col matrix is kept for the weight's gradient (only when that is wanted), so it is made once;
        # it is a work array, reused by a later call once this node (and every view of it) is gone
        ctx.save_for_backward(x, weight, cols if ctx.needs_input_grad[1] else None)
        if bias is None:
            return out
        if np.result_type(out, bias) != out.dtype:
            return out + bias.reshape(1, -1, 1, 1)
        out += bias.reshape(1, -1, 1, 1)  # out is the new product: adding in place saves an output-sized array
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight, cols = ctx.saved_tensors
        needs, geometry = ctx.needs_input_grad, ctx.geometry
        gx = gw = None
        if _arrays(grad, x, weight):
            if needs[0]:
                gx = _conv_input_grad(grad, weight, geometry, x.shape)
            if needs[1]:
                gw = _conv_weight_grad(cols, grad, geometry, weight.shape)
        else:  # create_graph: the same gradients as recorded ops
            if needs[0]:
                gx = Conv2dInputGrad.apply(grad, weight, geometry=geometry, input_shape=x.shape)
            if needs[1]:
                gw = Conv2dWeightGrad.apply(x, grad, geometry=geometry, weight_shape=weight.shape)
        if len(needs) == 2:  # called without a bias
            return gx, gw
        return gx, gw, grad.sum(axis=(0, 2, 3)) if needs[2] else None


class Conv2dInputGrad(Op):
    """The transposed convolution of grad by weight (col2im of weightᵀ @ grad): conv2d's gradient for its input.

    Linear in grad and in the weight; its own gradients are conv2d of the upstream gradient h by
    the weight (for grad) and the weight gradient of conv2d with h as the input (for the weight).
    """

    rule = "grad_grad = conv2d(grad, weight),  grad_weight = Σ (grad_output) · windows(grad)"

    @staticmethod
    def forward(ctx, grad, weight, geometry=None, input_shape=None):
        ctx.save_for_backward(grad, weight)
        ctx.geometry = geometry
        return _conv_input_grad(grad, weight, geometry, input_shape)

    @staticmethod
    def backward(ctx, h):
        g, weight = ctx.saved_tensors
        needs, geometry = ctx.needs_input_grad, ctx.geometry
        if _arrays(h, g, weight):
            cols = _im2col(h, weight.shape[2:], geometry)  # h's windows serve both gradients
            w = weight.reshape(geometry.groups, weight.shape[0] // geometry.groups, -1)
            gg = (w @ cols).reshape(g.shape) if needs[0] else None
            return gg, _conv_weight_grad(cols, g, geometry, weight.shape) if needs[1] else None
        gg = Conv2dFunction.apply(h, weight, geometry=geometry) if needs[0] else None
        gw = Conv2dWeightGrad.apply(h, g, geometry=geometry, weight_shape=weight.shape) if needs[1] else None
        return gg, gw


class Conv2dWeightGrad(Op):
    """conv2d's gradient for its weight: grad against the windows of x, summed over the batch and positions.

    Linear in x and in grad; its own gradients are the transposed convolution of grad by the
    upstream gradient k (for x) and conv2d of x by k (for grad).
    """

    rule = "grad_x = conv_transpose2d(grad_output, grad),  grad_grad = conv2d(x, grad_output)"

    @staticmethod
    def forward(ctx, x, grad, geometry=None, weight_shape=None):
        ctx.save_for_backward(x, grad)
        ctx.geometry = geometry
        return _conv_weight_grad(_im2col(x, weight_shape[2:], geometry), grad, geometry, weight_shape)

    @staticmethod
    def backward(ctx, k):
        x, g = ctx.saved_tensors
        needs, geometry = ctx.needs_input_grad, ctx.geometry
        if _arrays(k, x, g):
            gx = _conv_input_grad(g, k, geometry, x.shape) if needs[0] else None
            return gx, _conv(x, k, geometry)[0] if needs[1] else None
        gx = Conv2dInputGrad.apply(g, k, geometry=geometry, input_shape=x.shape) if needs[0] else None
        return gx, Conv2dFunction.apply(x, k, geometry=geometry) if needs[1] else None


def _padding(padding: Any, kernel: Pair, stride: Pair, dilation: Pair, name: str) -> tuple[Pair, Pair]:
    """PyTorch's padding argument (an int, a pair, "valid" or "same") as ((top, bottom), (left, right))."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding != "same":
            raise ValueError(f"{name}: padding must be an int, a pair of ints, 'valid' or 'same', got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"{name}: padding='same' is not supported for strided convolutions (stride={stride})")
        # the total d * (k - 1) split as PyTorch does: the odd one out goes at the bottom / right
        totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return (totals[0] // 2, totals[0] - totals[0] // 2), (totals[1] // 2, totals[1] - totals[1] // 2)
    ph, pw = pair("padding", padding, 0)
    return (ph, ph), (pw, pw)


def _check(name: str, x: Tensor, weight: Tensor, bias: Any, geometry: Geometry) -> None:
    """Errors naming what does not fit: weight shape, channels, groups, bias, or a kernel larger than the input."""
    if weight.ndim != 4:
        raise ValueError(
            f"{name}: weight must be 4-D (out_channels, in_channels // groups, kh, kw), got shape {weight.shape}"
        )
    out_channels, cg, kh, kw = weight.shape
    g = geometry.groups
    if out_channels % g:
        raise ValueError(f"{name}: out_channels ({out_channels}, weight shape {weight.shape}) must be divisible by "
                         f"groups ({g})")  # fmt: skip
    if x.shape[1] != cg * g:
        raise ValueError(
            f"{name}: expected input with {cg * g} channels (weight of shape {weight.shape} and groups={g}), but "
            f"got {x.shape[1]} channels in input of shape {x.shape}"
        )
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ValueError(f"{name}: bias must have shape ({out_channels},), one value per output channel, "
                         f"got {tuple(bias.shape)}")  # fmt: skip
    (top, bottom), (left, right) = geometry.padding
    padded = (x.shape[2] + top + bottom, x.shape[3] + left + right)
    (dh, dw) = geometry.dilation
    reach = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    if padded[0] < reach[0] or padded[1] < reach[1]:
        raise ValueError(
            f"{name}: the padded input is {padded[0]} x {padded[1]} per channel but the kernel (dilated) spans "
            f"{reach[0]} x {reach[1]}; the kernel can't be larger than the padded input (input shape {x.shape})"
        )


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else ag.tensor(x)


def conv2d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: int | Pair = 1,
    padding: int | Pair | str = 0,
    dilation: int | Pair = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution as PyTorch computes it (cross-correlation): input (N, C, H, W) or (C, H, W), weight
    (out_channels, C // groups, kh, kw), bias (out_channels,). Sizes are ints or (height, width) pairs;
    padding may also be "valid" (none) or "same" (stride 1 only).

    >>> conv2d(ag.ones(1, 1, 3, 3), ag.ones(1, 1, 2, 2)).shape
    (1, 1, 2, 2)
    """
    x, w = _as_tensor(input), _as_tensor(weight)
    if x.ndim not in (3, 4):
        raise ValueError(f"conv2d: expected a 3-D (unbatched) or 4-D (batched) input (N, C, H, W), got shape {x.shape}")
    if x.ndim == 3:
        return conv2d(x.unsqueeze(0), w, bias, stride, padding, dilation, groups).squeeze(0)
    groups = operator.index(groups)
    if groups < 1:
        raise ValueError(f"conv2d: groups must be a positive integer, got {groups}")
    s, d = pair("stride", stride, 1), pair("dilation", dilation, 1)
    kernel = tuple(w.shape[2:]) if w.ndim == 4 else (1, 1)
    geometry = Geometry(s, _padding(padding, kernel, s, d, "conv2d"), d, groups)
    _check("conv2d", x, w, bias, geometry)
    if bias is None:
        return Conv2dFunction.apply(x, w, geometry=geometry)
    return Conv2dFunction.apply(x, w, _as_tensor(bias), geometry=geometry)


def conv1d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: int = 1,
    padding: int | str = 0,
    dilation: int = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution: input (N, C, L) or (C, L), weight (out_channels, C // groups, k); a conv2d of height 1.

    >>> conv1d(ag.ones(1, 1, 5), ag.ones(1, 1, 3)).shape
    (1, 1, 3)
    """
    x, w = _as_tensor(input), _as_tensor(weight)
    if x.ndim not in (2, 3):
        raise ValueError(f"conv1d: expected a 2-D (unbatched) or 3-D (batched) input (N, C, L), got shape {x.shape}")
    if w.ndim != 3:
        raise ValueError(f"conv1d: weight must be 3-D (out_channels, in_channels // groups, k), got shape {w.shape}")
    if x.ndim == 2:
        return conv1d(x.unsqueeze(0), w, bias, stride, padding, dilation, groups).squeeze(0)
    pad_arg = padding if isinstance(padding, str) else (0, _single("padding", padding, 0))
    stride2, dilation2 = (1, _single("stride", stride, 1)), (1, _single("dilation", dilation, 1))
    out = conv2d(x.unsqueeze(2), w.unsqueeze(2), bias, stride2, pad_arg, dilation2, groups)
    return out.squeeze(2)


def _single(name: str, value: Any, minimum: int) -> int:
    """An int size given as an int or a 1-tuple (PyTorch accepts both for 1-D layers)."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, got {value!r}") from None
    if v < minimum:
        raise ValueError(f"{name} must be {'non-negative' if minimum == 0 else 'positive'}, got {value!r}")
    return v


class _ConvNd(Module):
    """What Conv1d and Conv2d share: checked sizes, PyTorch's initialisation, and the repr."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: tuple[int, ...], stride: Any, padding: Any,
        dilation: Any, groups: int, bias: bool, padding_mode: str, device: Any, dtype: Any,
        generator: np.random.Generator | None,
    ) -> None:  # fmt: skip
        super().__init__()
        name = type(self).__name__
        if in_channels <= 0 or out_channels <= 0:
            raise ValueError(f"{name} needs positive channel counts, got in_channels={in_channels}, "
                             f"out_channels={out_channels}")  # fmt: skip
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}")
        as_device(device)
        dtype = get_default_dtype() if dtype is None else as_dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"{name}'s parameters need a floating-point dtype, got {dtype}")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        self.padding_mode = padding_mode
        self.weight = Parameter(np.empty((out_channels, in_channels // groups, *kernel_size), dtype=dtype))
        # PyTorch's reset_parameters: kaiming_uniform with a = sqrt(5), i.e. uniform in +/- 1/sqrt(fan_in),
        # and the bias uniform in +/- 1/sqrt(fan_in); fan_in = in_channels // groups * prod(kernel_size)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if bias:
            bound = 1 / math.sqrt(in_channels // groups * math.prod(kernel_size))
            self.bias = Parameter(np.empty(out_channels, dtype=dtype))
            init.uniform_(self.bias, -bound, bound, generator=generator)
        else:
            self.bias = None

    def _check_input(self, x: Tensor, dims: int) -> None:
        if x.ndim not in (dims + 1, dims + 2):
            layout = "(N, C, H, W) or (C, H, W)" if dims == 2 else "(N, C, L) or (C, L)"
            raise ValueError(f"{type(self).__name__} expects a {dims + 1}-D or {dims + 2}-D input {layout}, "
                             f"got shape {x.shape}")  # fmt: skip
        channels = x.shape[-dims - 1]
        if channels != self.in_channels:
            raise ValueError(
                f"{type(self).__name__}({self.in_channels}, {self.out_channels}, ...) expects {self.in_channels} "
                f"input channels, got {channels} in input of shape {x.shape}"
            )

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding not in (0, (0,) * len(self.kernel_size)):
            text += f", padding={self.padding}"
        if self.dilation not in (1, (1,) * len(self.kernel_size)):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + ("" if self.bias is not None else ", bias=False")


class Conv2d(_ConvNd):
    """2-D convolution layer, as PyTorch's: input (N, C, H, W), weight (out_channels, in_channels // groups,
    kh, kw), sizes as ints or (height, width) pairs, padding also "valid" or "same".

    Initialised like PyTorch (weight and bias uniform in +/- 1/sqrt(fan_in), fan_in = in_channels //
    groups * kh * kw), drawn from the default generator (`autograd.manual_seed`) unless `generator` is given.

    >>> Conv2d(1, 8, 5)(ag.zeros(64, 1, 28, 28)).shape
    (64, 8, 24, 24)
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int | Pair, stride: int | Pair = 1,
        padding: int | Pair | str = 0, dilation: int | Pair = 1, groups: int = 1, bias: bool = True,
        padding_mode: str = "zeros", device: Any = None, dtype: Any = None, *,
        generator: np.random.Generator | None = None,
    ) -> None:  # fmt: skip
        kernel = pair("kernel_size", kernel_size, 1)
        stride, dilation = pair("stride", stride, 1), pair("dilation", dilation, 1)
        padding = padding if isinstance(padding, str) else pair("padding", padding, 0)
        _padding(padding, kernel, stride, dilation, "Conv2d")  # checked now, not at the first call
        super().__init__(in_channels, out_channels, kernel, stride, padding, dilation, groups, bias, padding_mode,
                         device, dtype, generator)  # fmt: skip

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        self._check_input(x, 2)
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_ConvNd):
    """1-D convolution layer, as PyTorch's: input (N, C, L), weight (out_channels, in_channels // groups, k).

    Initialised like PyTorch (uniform in +/- 1/sqrt(in_channels // groups * k)).

    >>> Conv1d(2, 4, 3)(ag.zeros(8, 2, 10)).shape
    (8, 4, 8)
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int | str = 0,
        dilation: int = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device: Any = None,
        dtype: Any = None, *, generator: np.random.Generator | None = None,
    ) -> None:  # fmt: skip
        kernel = (_single("kernel_size", kernel_size, 1),)
        stride, dilation = (_single("stride", stride, 1),), (_single("dilation", dilation, 1),)
        if isinstance(padding, str):
            _padding(padding, (1, kernel[0]), (1, stride[0]), (1, dilation[0]), "Conv1d")
        else:
            padding = (_single("padding", padding, 0),)
        super().__init__(in_channels, out_channels, kernel, stride, padding, dilation, groups, bias, padding_mode,
                         device, dtype, generator)  # fmt: skip

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        self._check_input(x, 1)
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        return conv1d(x, self.weight, self.bias, self.stride[0], padding, self.dilation[0], self.groups)
