"""Pooling: max, average and adaptive average over 2-D windows, and the MaxPool2d / AvgPool2d /
AdaptiveAvgPool2d layers, with PyTorch's arguments, defaults and gradient conventions.

Windows are read through a strided view of the padded input (no copies, no loop over pixels);
the loops below run over the kernel's offsets only. Max pooling sends each output's gradient
to the element that won its window: the first maximum in window order (row by row), as
PyTorch does, with padding that never wins. Average pooling counts padding as zeros in the
average by default (`count_include_pad=True`), as PyTorch does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag
from autograd import Tensor
from autograd.function import Op

from .convolution import Geometry, col2im, crop, pad, pair, windows
from .module import Module

Pair = tuple[int, int]


def _first_real_offset(out: int, stride: int, before: int, dilation: int, kernel: int) -> np.ndarray:
    """For each output position along one axis, the first kernel offset that reads the input, not padding."""
    start = np.arange(out) * stride - before  # where each window starts in the unpadded input
    first = np.where(start < 0, -(start // dilation), 0)  # ceil(-start / dilation) offsets to reach row 0
    return np.minimum(first, kernel - 1)


def _offsets(kernel: Pair) -> list[tuple[int, int, int]]:
    """(k, i, j) for each kernel offset, k = i * kw + j counting in window order (row by row)."""
    return [(i * kernel[1] + j, i, j) for i in range(kernel[0]) for j in range(kernel[1])]


def _max_pool(x: np.ndarray, kernel: Pair, geometry: Geometry) -> tuple[np.ndarray, np.ndarray]:
    """Each window's maximum, and which kernel offset k = i * kw + j gave it (PyTorch's winner: the first
    maximum in window order; NaN wins over numbers; padding never wins). One pass per kernel offset."""
    view = windows(pad(x, geometry.padding, -np.inf), kernel, geometry.stride, geometry.dilation)
    offset_type = np.uint8 if kernel[0] * kernel[1] <= 256 else np.int64
    best = offset = None
    for k, i, j in _offsets(kernel):
        s = view[:, :, i, j]
        if best is None:
            best, offset = s.copy(), np.zeros(s.shape, dtype=offset_type)
            continue
        better = s > best  # strict: on a tie the earlier offset keeps the window
        np.maximum(best, s, out=best)
        # k is larger than every offset so far, so this sets offset to k where better (a masked write,
        # offset[better] = k or np.where, measured 10x slower)
        np.maximum(offset, better * offset_type(k), out=offset)
    padded = any(p for side in geometry.padding for p in side)
    if np.isnan(best).any() or (padded and np.isneginf(best).any()):
        return _max_pool_careful(view, kernel, geometry, offset_type)  # rare: NaN, or a window of -inf
    return best, offset


def _max_pool_careful(view: np.ndarray, kernel: Pair, geometry: Geometry, offset_type: Any) -> tuple:
    """`_max_pool` for the rare inputs where NaN or -inf take part: PyTorch's rule spelled out, starting from
    the first element of each window that is not padding (so a window of -inf still points into x)."""
    oh, ow = view.shape[4:]
    (sh, sw), (dh, dw) = geometry.stride, geometry.dilation
    (top, _), (left, _) = geometry.padding
    rows0 = _first_real_offset(oh, sh, top, dh, kernel[0])
    cols0 = _first_real_offset(ow, sw, left, dw, kernel[1])
    best = np.full(view.shape[:2] + (oh, ow), -np.inf, dtype=view.dtype)
    offset = np.broadcast_to((rows0[:, None] * kernel[1] + cols0[None, :]).astype(offset_type), best.shape).copy()
    for k, i, j in _offsets(kernel):
        s = view[:, :, i, j]
        better = (s > best) | np.isnan(s)  # as PyTorch: val > max or isnan(val)
        np.copyto(best, s, where=better)
        offset[better] = k
    return best, offset


def _route(grad: np.ndarray, offset: np.ndarray, kernel: Pair, geometry: Geometry, shape: tuple) -> np.ndarray:
    """The max-pool gradient: zeros of x's `shape` with each output's grad added at the element that won its
    window. One strided slice per kernel offset; where windows overlap, the additions add up."""
    (top, bottom), (left, right) = geometry.padding
    (sh, sw), (dh, dw) = geometry.stride, geometry.dilation
    n, c, oh, ow = grad.shape
    size = (n, c, shape[2] + top + bottom, shape[3] + left + right)
    finite = bool(np.isfinite(grad).all())  # then grad * mask is exact (inf * 0 would be nan), and 10x faster
    if finite and (sh, sw) == kernel and (dh, dw) == (1, 1):
        return crop(_route_tiled(grad, offset, kernel, size), geometry.padding)
    out = np.zeros(size, dtype=grad.dtype)
    zero = np.zeros((), dtype=grad.dtype)
    for k, i, j in _offsets(kernel):
        won = offset == k
        out[:, :, i * dh : i * dh + sh * (oh - 1) + 1 : sh, j * dw : j * dw + sw * (ow - 1) + 1 : sw] += (
            grad * won if finite else np.where(won, grad, zero)
        )
    return crop(out, geometry.padding)


def _route_tiled(grad: np.ndarray, offset: np.ndarray, kernel: Pair, size: tuple) -> np.ndarray:
    """`_route` for windows that tile the input (stride = kernel, no dilation) and a finite grad: each kernel
    offset's share written straight into its strided slice of a new array, so every element is written once
    (no zeros first, no additions)."""
    oh, ow = grad.shape[2:]
    kh, kw = kernel
    out = np.empty(size, dtype=grad.dtype)
    out[:, :, oh * kh :] = 0  # rows and columns that no window reaches
    out[:, :, :, ow * kw :] = 0
    won = np.empty(offset.shape, dtype=bool)
    for k, i, j in _offsets(kernel):
        np.equal(offset, k, out=won)
        np.multiply(grad, won, out=out[:, :, i : i + kh * oh : kh, j : j + kw * ow : kw])
    return out


def _flat_index(offset: np.ndarray, kernel: Pair, geometry: Geometry, shape: tuple) -> np.ndarray:
    """The index, into x flattened, of the element that won each window (from the winning kernel offsets)."""
    n, c, h, w = shape
    oh, ow = offset.shape[2:]
    (sh, sw), (dh, dw) = geometry.stride, geometry.dilation
    (top, _), (left, _) = geometry.padding
    offset = offset.astype(np.int64)
    rows = (np.arange(oh) * sh - top)[:, None] + (offset // kernel[1]) * dh
    cols = (np.arange(ow) * sw - left)[None, :] + (offset % kernel[1]) * dw
    planes = (np.arange(n * c, dtype=np.int64) * (h * w)).reshape(n, c, 1, 1)
    return planes + rows * w + cols


class MaxPool2dFunction(Op):
    """The largest element of each 2-D window; its gradient goes to that element (the first maximum on ties)."""

    rule = "grad_x = grad added at each window's arg-max element (the first maximum on ties); 0 elsewhere"

    @staticmethod
    def forward(ctx, x, kernel=None, geometry=None):
        out, offset = _max_pool(x, kernel, geometry)
        ctx.offset, ctx.kernel, ctx.geometry, ctx.shape = offset, kernel, geometry, x.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, Tensor):  # create_graph: record the routing too
            index = _flat_index(ctx.offset, ctx.kernel, ctx.geometry, ctx.shape)
            return MaxPool2dBackward.apply(
                grad, offset=ctx.offset, kernel=ctx.kernel, geometry=ctx.geometry, shape=ctx.shape, index=index
            )
        return _route(grad, ctx.offset, ctx.kernel, ctx.geometry, ctx.shape)


class MaxPool2dBackward(Op):
    """Max pooling's gradient: grad added at the arg-max elements. Linear in grad; its own gradient picks
    those elements back out."""

    rule = "grad_grad = grad_output at each window's arg-max element (flattened x[index])"

    @staticmethod
    def forward(ctx, grad, offset=None, kernel=None, geometry=None, shape=None, index=None):
        ctx.index = index
        return _route(grad, offset, kernel, geometry, shape)

    @staticmethod
    def backward(ctx, h):
        return h.reshape(-1)[ctx.index]  # on a tensor (create_graph) a recorded indexing op


def _avg_pool(x: np.ndarray, kernel: Pair, geometry: Geometry, divisor: Any) -> np.ndarray:
    """The sum of each window of the zero-padded x, divided by `divisor` (a number or an (OH, OW) array)."""
    view = windows(pad(x, geometry.padding), kernel, geometry.stride, geometry.dilation)
    return view.sum(axis=(2, 3)) / divisor


def _avg_pool_grad(grad: np.ndarray, kernel: Pair, geometry: Geometry, divisor: Any, shape: tuple) -> np.ndarray:
    """The adjoint of `_avg_pool`: grad / divisor spread over each window (overlaps add up), padding cropped."""
    n, c, oh, ow = grad.shape
    share = (grad / divisor).astype(grad.dtype, copy=False).reshape(n * c, 1, 1, oh, ow, 1)
    cols = np.broadcast_to(share, (n * c, *kernel, oh, ow, 1))
    (top, bottom), (left, right) = geometry.padding
    padded = (shape[2] + top + bottom, shape[3] + left + right)
    out = col2im(cols, padded, geometry.stride, geometry.dilation).reshape(n, c, *padded)
    return crop(out, geometry.padding)


class AvgPool2dFunction(Op):
    """The mean of each 2-D window (padding counted as zeros unless count_include_pad=False); each element of a
    window gets grad / the window's divisor."""

    rule = "grad_x = Σ over the windows containing x of grad / divisor (the window size)"

    @staticmethod
    def forward(ctx, x, kernel=None, geometry=None, divisor=1):
        ctx.kernel, ctx.geometry, ctx.divisor, ctx.shape = kernel, geometry, divisor, x.shape
        return _avg_pool(x, kernel, geometry, divisor).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, Tensor):  # create_graph: record the spreading too
            return AvgPool2dBackward.apply(
                grad, kernel=ctx.kernel, geometry=ctx.geometry, divisor=ctx.divisor, shape=ctx.shape
            )
        return _avg_pool_grad(grad, ctx.kernel, ctx.geometry, ctx.divisor, ctx.shape)


class AvgPool2dBackward(Op):
    """Average pooling's gradient: grad / divisor spread over each window. Linear in grad; its own gradient is
    average pooling of the upstream gradient (the two are each other's adjoint)."""

    rule = "grad_grad = avg_pool2d(grad_output): the mean over each window, as forward took it"

    @staticmethod
    def forward(ctx, grad, kernel=None, geometry=None, divisor=1, shape=None):
        ctx.kernel, ctx.geometry, ctx.divisor = kernel, geometry, divisor
        return _avg_pool_grad(grad, kernel, geometry, divisor, shape)

    @staticmethod
    def backward(ctx, h):
        if isinstance(h, Tensor):
            return AvgPool2dFunction.apply(h, kernel=ctx.kernel, geometry=ctx.geometry, divisor=ctx.divisor)
        return _avg_pool(h, ctx.kernel, ctx.geometry, ctx.divisor).astype(h.dtype, copy=False)


def _batched(name: str, input: Any) -> tuple[Tensor, bool]:
    """The input as a 4-D tensor, and whether it was 3-D (unbatched, as PyTorch accepts)."""
    x = input if isinstance(input, Tensor) else ag.tensor(input)
    if x.ndim not in (3, 4):
        raise ValueError(f"{name}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {x.shape}")
    return (x.unsqueeze(0), True) if x.ndim == 3 else (x, False)


def _geometry(
    name: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any = 1
) -> tuple[Pair, Geometry]:
    """Checked window sizes: stride defaults to the kernel, padding at most half the (dilated) kernel,
    and windows that fit in the padded input."""
    kernel = pair("kernel_size", kernel_size, 1)
    strides = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) else stride
    s, p, d = pair("stride", strides, 1), pair("padding", padding, 0), pair("dilation", dilation, 1)
    for k, pk, dk in zip(kernel, p, d):
        if 2 * pk > dk * (k - 1) + 1:
            raise ValueError(
                f"{name}: padding should be at most half of the (dilated) kernel size, got padding={padding}, "
                f"kernel_size={kernel_size}" + (f" and dilation={dilation}" if d != (1, 1) else "")
            )
    geometry = Geometry(s, ((p[0], p[0]), (p[1], p[1])), d)
    # the first window must reach the input: else it (and the output) holds only padding
    if any(x.shape[2 + a] <= d[a] * (kernel[a] - 1) - p[a] for a in (0, 1)):
        raise ValueError(
            f"{name}: the window ({kernel[0]} x {kernel[1]}, dilation {d}) is larger than the padded input "
            f"({x.shape[2] + 2 * p[0]} x {x.shape[3] + 2 * p[1]}, input shape {x.shape}), or some window would "
            "hold only padding; use a smaller kernel or a larger input"
        )
    return kernel, geometry


def max_pool2d(
    input: Any, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0,
    dilation: int | Pair = 1, ceil_mode: bool = False, return_indices: bool = False,
) -> Tensor:  # fmt: skip
    """The maximum of each kernel_size window, moved by `stride` (default: the kernel size) over the input
    (N, C, H, W) padded with -inf. The gradient goes to the first maximum of each window, as in PyTorch.

    >>> max_pool2d(ag.arange(16.0).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 5.,  7.],
          [13., 15.]]]])
    """
    _not_supported("max_pool2d", ceil_mode=ceil_mode, return_indices=return_indices)
    x, unbatched = _batched("max_pool2d", input)
    kernel, geometry = _geometry("max_pool2d", x, kernel_size, stride, padding, dilation)
    out = MaxPool2dFunction.apply(x, kernel=kernel, geometry=geometry)
    return out.squeeze(0) if unbatched else out


def avg_pool2d(
    input: Any, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0,
    ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None,
) -> Tensor:  # fmt: skip
    """The mean of each kernel_size window, moved by `stride` (default: the kernel size) over the input
    (N, C, H, W) padded with zeros; with count_include_pad=True (PyTorch's default) the padding counts in
    the average, else each window is divided by its number of input elements; `divisor_override` divides
    every window by that number instead.

    >>> avg_pool2d(ag.ones(1, 1, 2, 2), 2, padding=1)
    tensor([[[[0.25, 0.25],
          [0.25, 0.25]]]])
    """
    _not_supported("avg_pool2d", ceil_mode=ceil_mode)
    x, unbatched = _batched("avg_pool2d", input)
    kernel, geometry = _geometry("avg_pool2d", x, kernel_size, stride, padding)
    divisor: Any = kernel[0] * kernel[1]
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, int) or divisor_override <= 0:
            raise ValueError(f"avg_pool2d: divisor_override must be a positive int or None, got {divisor_override!r}")
        divisor = divisor_override
    elif not count_include_pad and any(p for side in geometry.padding for p in side):
        ones = np.ones((1, 1, *x.shape[2:]))
        divisor = _avg_pool(ones, kernel, geometry, 1)[0, 0]  # how many input elements each window holds
    out = AvgPool2dFunction.apply(x, kernel=kernel, geometry=geometry, divisor=divisor)
    return out.squeeze(0) if unbatched else out


def _not_supported(op: str, **options: bool) -> None:
    """A clear error for PyTorch's pooling options this module does not implement, when they are switched on."""
    for name, value in options.items():
        if value:
            raise NotImplementedError(
                f"{op}: {name}=True is not supported (only {name}=False); "
                + ("pad the input so the windows fit instead" if name == "ceil_mode" else
                   "compute the arg-max positions with tensor.argmax over the windows instead")
            )  # fmt: skip


def adaptive_avg_pool2d(input: Any, output_size: int | tuple[int | None, int | None]) -> Tensor:
    """Average pooling to a given output size (None keeps that dimension). Output size 1 is the mean over each
    image (global average pooling); other sizes must divide the input size, where it is avg_pool2d with
    kernel = stride = input size // output size.

    >>> adaptive_avg_pool2d(ag.ones(2, 3, 5, 5), 1).shape
    (2, 3, 1, 1)
    """
    x, unbatched = _batched("adaptive_avg_pool2d", input)
    sizes = (output_size, output_size) if output_size is None or isinstance(output_size, int) else output_size
    if len(sizes) != 2:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got {output_size!r}")
    h, w = x.shape[2:]
    oh, ow = (h if sizes[0] is None else sizes[0]), (w if sizes[1] is None else sizes[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {output_size!r}")
    if (oh, ow) == (1, 1):
        out = x.mean(axis=(2, 3), keepdims=True)
    elif h % oh or w % ow:
        raise ValueError(
            f"adaptive_avg_pool2d: output size {(oh, ow)} does not divide the input size {(h, w)}; only output "
            "sizes that divide it evenly (such as 1) are supported"
        )
    else:
        out = avg_pool2d(x, (h // oh, w // ow))
    return out.squeeze(0) if unbatched else out


class MaxPool2d(Module):
    """Max pooling over kernel_size windows moved by `stride` (default: kernel_size), as PyTorch's MaxPool2d.

    >>> MaxPool2d(2)(ag.zeros(64, 8, 24, 24)).shape
    (64, 8, 12, 12)
    """

    def __init__(
        self, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0,
        dilation: int | Pair = 1, return_indices: bool = False, ceil_mode: bool = False,
    ) -> None:  # fmt: skip
        super().__init__()
        _not_supported("MaxPool2d", ceil_mode=ceil_mode, return_indices=return_indices)
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.stride = kernel_size if stride is None else stride

    def forward(self, x: Any) -> Tensor:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}")  # fmt: skip


class AvgPool2d(Module):
    """Average pooling over kernel_size windows moved by `stride` (default: kernel_size), as PyTorch's AvgPool2d;
    padding counts as zeros in the average unless count_include_pad=False.

    >>> AvgPool2d(2)(ag.zeros(1, 3, 8, 8)).shape
    (1, 3, 4, 4)
    """

    def __init__(
        self, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0,
        ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        _not_supported("AvgPool2d", ceil_mode=ceil_mode)
        self.kernel_size, self.padding, self.count_include_pad = kernel_size, padding, count_include_pad
        self.stride = kernel_size if stride is None else stride
        self.divisor_override = divisor_override

    def forward(self, x: Any) -> Tensor:
        return avg_pool2d(
            x, self.kernel_size, self.stride, self.padding, count_include_pad=self.count_include_pad,
            divisor_override=self.divisor_override,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size: 1 (global average pooling) or a size dividing the input's.

    >>> AdaptiveAvgPool2d(1)(ag.zeros(2, 16, 4, 4)).shape
    (2, 16, 1, 1)
    """

    def __init__(self, output_size: int | tuple[int | None, int | None]) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Any) -> Tensor:
        return adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
