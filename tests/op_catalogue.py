"""One catalogue of every differentiable op, feeding all the op property tests.

Each entry names the op, says how to call it on tensors and on plain numpy arrays (the
reference), and gives a Hypothesis strategy for its inputs: float64 values in a range where
the op is defined, kept away from its kinks and ties (with the public `autograd.testing`
strategies). Adding an op means adding one entry here; tests/test_ops.py then checks its
values against numpy, its gradient against central differences, and (where smooth) its
second derivative.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
import nn.functional as F
from autograd.testing import arrays, away_from, broadcastable_shapes, matmul_shapes, shapes

MARGIN = 0.01  # distance kept between the two operands of maximum/minimum (their tie is a kink)


def array(shape: Any, lo: float = -3.0, hi: float = 3.0, kinks: Sequence[float] = (), min_gap: float = 0.0) -> Any:
    """float64 arrays of `shape` with values in [lo, hi], away from `kinks` (and each other, with min_gap)."""
    return arrays(shape, elements=away_from(kinks, low=lo, high=hi), min_gap=min_gap)


@st.composite
def axis_and_keepdims(draw: Any, shape: tuple[int, ...], allow_tuple: bool = True) -> dict[str, Any]:
    """A valid `axis` for `shape` (None, an int, possibly negative, or a tuple) and keepdims."""
    ndim = len(shape)
    options = [st.none()]
    if ndim:
        options.append(st.integers(-ndim, ndim - 1))
        if allow_tuple:
            options.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple))
    return {"axis": draw(st.one_of(options)), "keepdims": draw(st.booleans())}


@dataclass(frozen=True)
class Op:
    """A catalogue entry. `inputs` draws (arrays, kwargs); `fn` and `ref` take (*values, **kwargs)."""

    name: str
    fn: Callable[..., ag.Tensor]
    ref: Callable[..., np.ndarray]
    inputs: st.SearchStrategy[tuple[tuple[np.ndarray, ...], dict[str, Any]]]
    smooth: bool = True  # second derivatives are checked too
    constants: tuple[int, ...] = field(default=())  # positions passed as plain arrays (no grad)

    def __repr__(self) -> str:  # pytest ids
        return self.name


def unary(lo: float = -3.0, hi: float = 3.0, kinks: Sequence[float] = ()) -> Any:
    return array(shapes(), lo, hi, kinks).map(lambda a: ((a,), {}))


@st.composite
def binary(draw: Any, lo: float = -3.0, hi: float = 3.0, b_lo: float | None = None, b_hi: float | None = None,
           b_kinks: Sequence[float] = (), tie_free: bool = False) -> Any:  # fmt: skip
    shape_a, shape_b = draw(broadcastable_shapes(2))
    a = draw(array(shape_a, lo, hi))
    b = draw(array(shape_b, lo if b_lo is None else b_lo, hi if b_hi is None else b_hi, b_kinks))
    if tie_free:
        assume(np.all(np.abs(a - b) >= MARGIN))
    return (a, b), {}


@st.composite
def reduction(draw: Any, lo: float = -3.0, hi: float = 3.0, tie_free: bool = False, allow_tuple: bool = True,
              kinks: Sequence[float] = ()) -> Any:  # fmt: skip
    shape = draw(shapes())
    a = draw(array(shape, lo, hi, kinks, min_gap=0.05 if tie_free else 0.0))
    return (a,), draw(axis_and_keepdims(shape, allow_tuple))


@st.composite
def along_axis(draw: Any, tie_free: bool = False) -> Any:
    """An array of at least one dimension and one of its axes (for softmax and friends)."""
    shape = draw(shapes(min_dims=1))
    a = draw(array(shape, -5.0, 5.0, min_gap=0.05 if tie_free else 0.0))
    return (a,), {"axis": draw(st.integers(-len(shape), len(shape) - 1))}


@st.composite
def matmul_pair(draw: Any) -> Any:
    shape_a, shape_b = draw(matmul_shapes())
    return (draw(array(shape_a)), draw(array(shape_b))), {}


@st.composite
def mm_pair(draw: Any) -> Any:
    """Two matrices whose product is defined (mm takes 2-D operands only)."""
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    return (draw(array((n, k))), draw(array((k, m)))), {}


@st.composite
def clip_inputs(draw: Any) -> Any:
    lo = draw(st.floats(-2.0, 0.5))
    hi = lo + draw(st.floats(0.2, 2.0))
    shape = draw(shapes())
    return (draw(array(shape, kinks=(lo, hi))),), {"min": lo, "max": hi}


@st.composite
def where_inputs(draw: Any) -> Any:
    shape_c, shape_a, shape_b = draw(broadcastable_shapes(3))
    cond = draw(hnp.arrays(np.bool_, shape_c))
    return (cond, draw(array(shape_a)), draw(array(shape_b))), {}


@st.composite
def loss_inputs(draw: Any, lo: float = -3.0, hi: float = 3.0, t_lo: float = -3.0, t_hi: float = 3.0,
                min_dims: int = 0) -> Any:  # fmt: skip
    """An input and a target of the same shape, both differentiated, and a reduction."""
    shape = draw(shapes(min_dims=min_dims))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    return (draw(array(shape, lo, hi)), draw(array(shape, t_lo, t_hi))), {"reduction": reduction}


@st.composite
def reshape_inputs(draw: Any) -> Any:
    shape = draw(shapes())
    size = int(np.prod(shape))
    factors = [d for d in range(1, size + 1) if size % d == 0]
    first = draw(st.sampled_from(factors))
    target = draw(st.sampled_from([(size,), (first, size // first), (first, -1), (1, size, 1)]))
    return (draw(array(shape)),), {"shape": target}


@st.composite
def permute_inputs(draw: Any) -> Any:
    shape = draw(shapes())
    return (draw(array(shape)),), {"axes": tuple(draw(st.permutations(range(len(shape)))))}


@st.composite
def transpose_inputs(draw: Any) -> Any:
    shape = draw(shapes(min_dims=2))
    n = len(shape)
    return (draw(array(shape)),), {"dim0": draw(st.integers(-n, n - 1)), "dim1": draw(st.integers(-n, n - 1))}


@st.composite
def broadcast_inputs(draw: Any) -> Any:
    shape, other = draw(broadcastable_shapes(2))
    return (draw(array(shape)),), {"shape": np.broadcast_shapes(shape, other)}


@st.composite
def squeeze_inputs(draw: Any) -> Any:
    shape = list(draw(shapes(min_dims=1, max_side=3)))
    ones = draw(st.lists(st.integers(0, len(shape)), max_size=2))
    for position in sorted(ones, reverse=True):
        shape.insert(position, 1)
    candidates = [i for i, n in enumerate(shape) if n == 1]
    axis = draw(st.one_of(st.none(), st.sampled_from(candidates))) if candidates else None
    return (draw(array(tuple(shape))),), {"axis": axis}


@st.composite
def unsqueeze_inputs(draw: Any) -> Any:
    shape = draw(shapes())
    return (draw(array(shape)),), {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}


@st.composite
def flatten_inputs(draw: Any) -> Any:
    shape = draw(shapes(min_dims=1, max_dims=4, max_side=3))
    start = draw(st.integers(0, len(shape) - 1))
    end = draw(st.integers(start, len(shape) - 1))
    return (draw(array(shape)),), {"start_dim": start, "end_dim": end}


@st.composite
def basic_index_inputs(draw: Any) -> Any:
    shape = draw(shapes(min_dims=1))
    index = draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    return (draw(array(shape)),), {"index": index}


@st.composite
def integer_index_inputs(draw: Any) -> Any:
    shape = draw(shapes(min_dims=1))
    index = draw(hnp.integer_array_indices(shape, result_shape=shapes(min_dims=1, max_dims=2, max_side=5)))
    return (draw(array(shape)),), {"index": index}


@st.composite
def repeated_index_inputs(draw: Any) -> Any:
    """A 1-D integer index that repeats positions, so gradients must add up."""
    n = draw(st.integers(1, 4))
    index = np.array(draw(st.lists(st.integers(-n, n - 1), min_size=2, max_size=8)))
    return (draw(array((n, 2))),), {"index": index}


@st.composite
def mask_index_inputs(draw: Any) -> Any:
    shape = draw(shapes(min_dims=1))
    return (draw(array(shape)),), {"index": draw(hnp.arrays(np.bool_, shape))}


@st.composite
def setitem_inputs(draw: Any, mask: bool) -> Any:
    """A tensor, an index (basic, or a boolean mask) and a value of the indexed part's shape."""
    shape = draw(shapes(min_dims=1))
    if mask:
        index: Any = draw(hnp.arrays(np.bool_, shape))
    else:
        index = draw(hnp.basic_indices(shape, allow_ellipsis=True))
    part = np.empty(shape)[index].shape
    return (draw(array(shape)), draw(array(part))), {"index": index}


def setitem(x: Any, value: Any, index: Any) -> Any:
    """`x` with `x[index] = value`, on a copy: through Tensor.__setitem__, or numpy's for the reference."""
    out = x.clone() if isinstance(x, ag.Tensor) else x.copy()
    out[index] = value
    return out


@st.composite
def with_zeros(draw: Any) -> Any:
    """A reduction's inputs where some elements are exactly 0 (the product's hard case)."""
    (a,), kwargs = draw(reduction(-2.0, 2.0))
    if a.size:
        a = a.copy()
        a.reshape(-1)[draw(st.lists(st.integers(0, a.size - 1), min_size=1, max_size=2))] = 0.0
    return (a,), kwargs


@st.composite
def linear_inputs(draw: Any, bias: bool) -> Any:
    """x of shape (..., in), weight (out, in) and bias (out,), as nn.functional.linear takes them."""
    lead = draw(shapes(max_dims=2, max_side=3))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    arrays = (draw(array(lead + (n_in,))), draw(array((n_out, n_in))))
    return (arrays + (draw(array((n_out,))),) if bias else arrays), {}


@st.composite
def repeat_inputs(draw: Any) -> Any:
    shape = draw(shapes(max_dims=3, max_side=3))
    counts = tuple(draw(st.lists(st.integers(1, 3), min_size=len(shape), max_size=len(shape) + 1)))
    return (draw(array(shape)),), {"counts": counts}


@st.composite
def gather_inputs(draw: Any) -> Any:
    shape = draw(shapes(min_dims=1, max_side=4))
    dim = draw(st.integers(0, len(shape) - 1))
    index_shape = tuple(draw(st.integers(1, 4)) if i == dim else n for i, n in enumerate(shape))
    index = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, shape[dim] - 1)))
    return (draw(array(shape)),), {"dim": dim, "index": index}


def norm(p: float) -> Callable[..., Any]:
    """The reference p-norm along `axis`, with numpy."""

    def ref(a: np.ndarray, axis: Any = None, keepdims: bool = False) -> Any:
        return np.sum(np.abs(a) ** p, axis=axis, keepdims=keepdims) ** (1 / p)

    return ref


@st.composite
def join_inputs(draw: Any, new_axis: bool) -> Any:
    shape = draw(shapes(min_dims=0 if new_axis else 1, max_side=3))
    count = draw(st.integers(1, 3))
    ndim_out = len(shape) + new_axis
    axis = draw(st.integers(-ndim_out, ndim_out - 1))
    arrays = []
    for _ in range(count):
        s = list(shape)
        if not new_axis:  # often keep the drawn side, so square inputs (which show transposed gradients) stay square
            s[axis % len(shape)] = draw(st.one_of(st.just(shape[axis % len(shape)]), st.integers(1, 3)))
        arrays.append(draw(array(tuple(s))))
    return tuple(arrays), {"axis": axis}


@st.composite
def split_inputs(draw: Any) -> Any:
    shape = draw(shapes(min_dims=1, max_side=5))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    length = shape[axis]
    if draw(st.booleans()):
        sections: Any = draw(st.integers(1, length))
    else:
        cuts = sorted(draw(st.lists(st.integers(0, length), max_size=3)))
        edges = [0, *cuts, length]
        sections = [b - a for a, b in itertools.pairwise(edges)]
    return (draw(array(shape)),), {"sections": sections, "axis": axis}


def _numpy_split(a: np.ndarray, sections: Any, axis: int) -> list[np.ndarray]:
    """PyTorch's split, written with numpy: an int is a piece size, a list gives piece sizes."""
    if isinstance(sections, int):
        length = a.shape[axis]
        sizes = [sections] * (length // sections) + ([length % sections] if length % sections else [])
    else:
        sizes = list(sections)
    return np.split(a, np.cumsum(sizes)[:-1], axis=axis)


def _reduced_count(inputs: Any) -> int:
    """How many elements each output element of a reduction averages over."""
    (a,), kwargs = inputs
    return a.size // max(np.sum(a, axis=kwargs["axis"]).size, 1)


def _stable_logsumexp(a: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    m = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax(a: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


def _reduce(loss: np.ndarray, reduction: str) -> Any:
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](loss)


def _bce(p: np.ndarray, t: np.ndarray, reduction: str) -> Any:
    return _reduce(-(t * np.log(p) + (1 - t) * np.log(1 - p)), reduction)


def _soft_cross_entropy(z: np.ndarray, w: np.ndarray, reduction: str) -> Any:
    return _reduce(-(w * np.log(_softmax(z, -1))).sum(axis=-1), reduction)


def _np_sum(a: Any, **k: Any) -> Any:
    return np.sum(a, **k)


def _np_max(a: Any, **k: Any) -> Any:
    return np.max(a, **k)


def _np_var_ddof(a: Any, **k: Any) -> Any:
    return np.var(a, ddof=1, **k)


def _np_reshape_fortran(a: Any, shape: Any) -> Any:
    return np.reshape(a, shape, order="F")


def _np_transpose(a: Any, axes: Any) -> Any:
    return np.transpose(a, axes)


def _np_swapaxes(a: Any, dim0: int, dim1: int) -> Any:
    return np.swapaxes(a, dim0, dim1)


def _np_expand_dims(a: Any, axis: Any) -> Any:
    return np.expand_dims(a, axis)


def _np_concatenate_flat(*xs: Any, axis: int) -> Any:
    return np.concatenate(xs, axis=None)


def _np_where(condition: Any, a: Any, b: Any) -> Any:
    return np.where(condition, a, b)


def _np_clip(a: Any, min: Any, max: Any) -> Any:
    return np.clip(a, min, max)


def _split_sum(pieces: Sequence[Any]) -> Any:
    """Combine split's pieces into one output with distinct weights, so each piece's gradient is checked."""
    return sum((p * (k + 1)).sum() for k, p in enumerate(pieces))


# --- convolution, pooling and batch norm: naive references with explicit loops (PyTorch's conventions)


def _padded(x: np.ndarray, padding: tuple[int, int], value: float = 0.0) -> np.ndarray:
    n, c, h, w = x.shape
    out = np.full((n, c, h + 2 * padding[0], w + 2 * padding[1]), value)
    out[:, :, padding[0] : padding[0] + h, padding[1] : padding[1] + w] = x
    return out


def _out_len(size: int, k: int, s: int, p: int, d: int) -> int:
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _conv2d_loops(x: np.ndarray, w: np.ndarray, b: Any = None, stride: Any = (1, 1), padding: Any = (0, 0),
                  dilation: Any = (1, 1), groups: int = 1) -> np.ndarray:  # fmt: skip
    """out[n, o, p, q] = b[o] + sum over c, i, j of w[o, c, i, j] * xpad[n, group(o) * Cg + c, p*s + i*d, q*s + j*d]."""
    n_batch, _, h, wd = x.shape
    n_out, cg, kh, kw = w.shape
    xp = _padded(x, padding)
    oh, ow = _out_len(h, kh, stride[0], padding[0], dilation[0]), _out_len(wd, kw, stride[1], padding[1], dilation[1])
    out = np.zeros((n_batch, n_out, oh, ow))
    per_group = n_out // groups
    for n, o, p, q in itertools.product(range(n_batch), range(n_out), range(oh), range(ow)):
        total = 0.0 if b is None else b[o]
        for c, i, j in itertools.product(range(cg), range(kh), range(kw)):
            row, col = p * stride[0] + i * dilation[0], q * stride[1] + j * dilation[1]
            total += w[o, c, i, j] * xp[n, (o // per_group) * cg + c, row, col]
        out[n, o, p, q] = total
    return out


def _conv1d_loops(x: np.ndarray, w: np.ndarray, b: Any = None, stride: int = 1, padding: int = 0,
                  dilation: int = 1, groups: int = 1) -> np.ndarray:  # fmt: skip
    """out[n, o, p] = b[o] + sum over c, i of w[o, c, i] * xpad[n, group(o) * Cg + c, p*s + i*d]."""
    n_batch, _, length = x.shape
    n_out, cg, k = w.shape
    xp = np.zeros((n_batch, x.shape[1], length + 2 * padding))
    xp[:, :, padding : padding + length] = x
    out = np.zeros((n_batch, n_out, _out_len(length, k, stride, padding, dilation)))
    for n, o, p in itertools.product(range(n_batch), range(n_out), range(out.shape[2])):
        total = 0.0 if b is None else b[o]
        for c, i in itertools.product(range(cg), range(k)):
            total += w[o, c, i] * xp[n, (o // (n_out // groups)) * cg + c, p * stride + i * dilation]
        out[n, o, p] = total
    return out


@st.composite
def conv2d_inputs(draw: Any, bias: bool) -> Any:
    """x (N, C, H, W), weight (O, C // groups, kh, kw), maybe a bias, and window arguments that fit."""
    groups = draw(st.integers(1, 2))
    n, cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    # each side at least the dilated kernel's reach, minus the padding
    size = [draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 6)) for k, d, p in zip(kernel, dilation, padding)]
    arrays = (draw(array((n, cg * groups, *size))), draw(array((og * groups, cg, *kernel))))
    if bias:
        arrays += (draw(array((og * groups,))),)
    return arrays, {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}


@st.composite
def conv1d_inputs(draw: Any) -> Any:
    groups, n, cg, og = (draw(st.integers(1, 2)) for _ in range(4))
    k, s, d, p = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(0, 2))
    length = draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 7))
    arrays = (draw(array((n, cg * groups, length))), draw(array((og * groups, cg, k))), draw(array((og * groups,))))
    return arrays, {"stride": s, "padding": p, "dilation": d, "groups": groups}


@st.composite
def pool_inputs(draw: Any, tie_free: bool, dilated: bool) -> Any:
    """An image batch and pooling windows: padding at most half the (dilated) kernel, windows that fit."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilated else (1, 1)
    padding = tuple(draw(st.integers(0, (d * (k - 1) + 1) // 2)) for k, d in zip(kernel, dilation))
    # long enough that every window holds an input element, not only padding
    size = [draw(st.integers(max(1, d * (k - 1) + 1 - p), 6)) for k, d, p in zip(kernel, dilation, padding)]
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *size)
    kwargs = {"kernel_size": kernel, "stride": stride, "padding": padding}
    if dilated:
        kwargs["dilation"] = dilation
    return (draw(array(shape, min_gap=0.02 if tie_free else 0.0)),), kwargs


def _pool_loops(x: np.ndarray, kernel_size: Any, stride: Any, padding: Any, dilation: Any = (1, 1),
                reduce: str = "max", count_include_pad: bool = True) -> np.ndarray:  # fmt: skip
    """Each window's max (padding never wins) or mean (padding as zeros; counted unless count_include_pad=False)."""
    n_batch, channels, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    oh, ow = _out_len(h, kh, sh, ph, dh), _out_len(w, kw, sw, pw, dw)
    out = np.zeros((n_batch, channels, oh, ow))
    for n, c, p, q in itertools.product(range(n_batch), range(channels), range(oh), range(ow)):
        values, count = [], 0
        for i, j in itertools.product(range(kh), range(kw)):
            row, col = p * sh + i * dh - ph, q * sw + j * dw - pw
            if 0 <= row < h and 0 <= col < w:
                values.append(x[n, c, row, col])
                count += 1
        if reduce == "max":
            out[n, c, p, q] = max(values)
        else:
            out[n, c, p, q] = sum(values) / (kh * kw if count_include_pad else count)
    return out


@st.composite
def adaptive_inputs(draw: Any) -> Any:
    """An image batch and an output size that divides it (1 included: global average pooling)."""
    oh, ow, fh, fw = (draw(st.integers(1, 3)) for _ in range(4))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), oh * fh, ow * fw)
    return (draw(array(shape)),), {"output_size": draw(st.sampled_from([1, (oh, ow)]))}


def _adaptive_loops(x: np.ndarray, output_size: Any) -> np.ndarray:
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    k = (x.shape[2] // oh, x.shape[3] // ow)
    return _pool_loops(x, k, k, (0, 0), reduce="mean")


@st.composite
def batch_norm_inputs(draw: Any, affine: bool) -> Any:
    """x (N, C, ...) with at least two values per channel, spread out (so 1/sqrt(var) stays moderate)."""
    extra = draw(st.sampled_from([(), (2,), (2, 2)]))
    shape = (draw(st.integers(2, 3)), draw(st.integers(1, 3)), *extra)
    arrays = (draw(array(shape, min_gap=0.2)),)
    if affine:
        arrays += (draw(array(shape[1:2])), draw(array(shape[1:2])))
    return arrays, {}


def _batch_norm_loops(x: np.ndarray, weight: Any = None, bias: Any = None) -> np.ndarray:
    """Per channel: (x - mean) / sqrt(biased var + 1e-5) * weight + bias, the statistics summed element by element."""
    out = np.empty_like(x)
    for c in range(x.shape[1]):
        values = x[:, c].reshape(-1)
        mean = sum(values) / len(values)
        var = sum((v - mean) ** 2 for v in values) / len(values)
        scale = 1.0 if weight is None else weight[c]
        out[:, c] = (x[:, c] - mean) / np.sqrt(var + 1e-5) * scale + (0.0 if bias is None else bias[c])
    return out


@st.composite
def batch_norm_eval_inputs(draw: Any) -> Any:
    (x, weight, bias), _ = draw(batch_norm_inputs(affine=True))
    channels = x.shape[1]
    stats = {"mean": draw(array((channels,))), "var": draw(array((channels,), 0.5, 3.0))}
    return (x, weight, bias), {"stats": stats}


def _batch_norm_eval(x: Any, weight: Any, bias: Any, stats: dict[str, np.ndarray]) -> Any:
    mean, var = (ag.tensor(stats[k].astype(x.dtype)) for k in ("mean", "var"))  # buffers in the module's dtype
    return F.batch_norm(x, mean, var, weight, bias, training=False)


def _batch_norm_eval_loops(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stats: dict[str, np.ndarray]) -> Any:
    out = np.empty_like(x)
    for c in range(x.shape[1]):
        out[:, c] = (x[:, c] - stats["mean"][c]) / np.sqrt(stats["var"][c] + 1e-5) * weight[c] + bias[c]
    return out


def _batch_norm_train(x: Any, weight: Any = None, bias: Any = None) -> Any:
    return F.batch_norm(x, None, None, weight, bias, training=True)


CATALOGUE: list[Op] = [
    # arithmetic
    Op("add", lambda a, b: a + b, np.add, binary()),
    Op("sub", lambda a, b: a - b, np.subtract, binary()),
    Op("mul", lambda a, b: a * b, np.multiply, binary()),
    Op("div", lambda a, b: a / b, np.divide, binary(b_lo=-3.0, b_hi=3.0, b_kinks=(0.0,)).filter(
        lambda ab: np.all(np.abs(ab[0][1]) >= 0.25))),
    Op("neg", lambda a: -a, np.negative, unary()),
    Op("add_scalar", lambda a: 2.5 + a, lambda a: 2.5 + a, unary()),
    Op("rsub_scalar", lambda a: 1.5 - a, lambda a: 1.5 - a, unary()),
    Op("rdiv_scalar", lambda a: 3.0 / a, lambda a: 3.0 / a, unary(0.3, 3.0)),
    Op("pow_scalar", lambda a: a**3, lambda a: a**3, unary()),
    Op("pow_fractional", lambda a: a**1.5, lambda a: a**1.5, unary(0.2, 3.0)),
    Op("pow_tensor", lambda a, b: a**b, np.power, binary(0.2, 3.0, b_lo=-2.0, b_hi=2.0)),
    Op("pow_zero", lambda a: a**0, lambda a: a**0, unary()),
    Op("rpow_scalar", lambda a: 2.0**a, lambda a: 2.0**a, unary()),
    Op("matmul", lambda a, b: a @ b, np.matmul, matmul_pair()),
    # the same ops by name, as functions and methods (the registered functions behind the operators)
    Op("add_alpha", lambda a, b: ag.add(a, b, alpha=0.5), lambda a, b: a + 0.5 * b, binary()),
    Op("sub_alpha", lambda a, b: a.sub(b, alpha=2.0), lambda a, b: a - 2.0 * b, binary()),
    Op("mul_named", ag.mul, np.multiply, binary()),
    Op("div_named", lambda a, b: a.div(b), np.divide, binary(b_lo=-3.0, b_hi=3.0, b_kinks=(0.0,)).filter(
        lambda ab: np.all(np.abs(ab[0][1]) >= 0.25))),
    Op("neg_named", ag.neg, np.negative, unary()),
    Op("square", ag.square, np.square, unary()),
    Op("pow_named", ag.pow, np.power, binary(0.2, 3.0, b_lo=-2.0, b_hi=2.0)),
    Op("matmul_named", ag.matmul, np.matmul, matmul_pair()),
    Op("mm", ag.mm, np.matmul, mm_pair()),
    # elementwise
    Op("exp", ag.exp, np.exp, unary()),
    Op("log", ag.log, np.log, unary(0.1, 5.0)),
    Op("sqrt", ag.sqrt, np.sqrt, unary(0.1, 5.0)),
    Op("abs", ag.abs, np.abs, unary(kinks=(0.0,)), smooth=False),
    Op("sin", ag.sin, np.sin, unary()),
    Op("cos", ag.cos, np.cos, unary()),
    Op("tanh", ag.tanh, np.tanh, unary()),
    Op("sigmoid", ag.sigmoid, _sigmoid, unary(-8.0, 8.0)),
    Op("relu", ag.relu, lambda a: np.maximum(a, 0), unary(kinks=(0.0,)), smooth=False),
    Op("leaky_relu", lambda a: ag.leaky_relu(a, 0.1), lambda a: np.where(a > 0, a, 0.1 * a),
       unary(kinks=(0.0,)), smooth=False),
    Op("softplus", ag.softplus, lambda a: np.log1p(np.exp(a)), unary(-8.0, 8.0)),
    Op("step", ag.step, lambda a: (a > 0).astype(float), unary(kinks=(0.0,)), smooth=False),
    Op("maximum", ag.maximum, np.maximum, binary(tie_free=True), smooth=False),
    Op("minimum", ag.minimum, np.minimum, binary(tie_free=True), smooth=False),
    Op("clip", lambda a, min, max: a.clip(min, max), lambda a, min, max: np.clip(a, min, max), clip_inputs(),
       smooth=False),
    Op("where", lambda c, a, b: ag.where(c, a, b), np.where, where_inputs(), constants=(0,)),
    # reductions and the softmax family
    Op("sum", lambda a, **k: a.sum(**k), lambda a, **k: np.sum(a, **k), reduction()),
    Op("mean", lambda a, **k: a.mean(**k), lambda a, **k: np.mean(a, **k), reduction()),
    Op("var", lambda a, **k: a.var(**k, correction=0), lambda a, **k: np.var(a, **k), reduction()),
    Op("var_unbiased", lambda a, **k: a.var(**k), lambda a, **k: np.var(a, ddof=1, **k),
       reduction().filter(lambda inputs: _reduced_count(inputs) > 1)),
    Op("max", lambda a, **k: a.max(**k), lambda a, **k: np.max(a, **k), reduction(tie_free=True), smooth=False),
    Op("min", lambda a, **k: a.min(**k), lambda a, **k: np.min(a, **k), reduction(tie_free=True), smooth=False),
    Op("amax", lambda a, axis, keepdims: a.amax(axis, keepdims), lambda a, axis, keepdims: np.amax(a, axis,
       keepdims=keepdims), reduction(tie_free=True), smooth=False),
    Op("amin", lambda a, axis, keepdims: ag.amin(a, axis, keepdims), lambda a, axis, keepdims: np.amin(a, axis,
       keepdims=keepdims), reduction(tie_free=True), smooth=False),
    Op("at_argmax", lambda a, axis: a.gather(axis, a.argmax(axis, keepdim=True)),
       lambda a, axis: np.take_along_axis(a, np.argmax(a, axis, keepdims=True), axis), along_axis(tie_free=True)),
    Op("at_argmin", lambda a, axis: a.gather(axis, ag.argmin(a, axis=axis, keepdim=True)),
       lambda a, axis: np.take_along_axis(a, np.argmin(a, axis, keepdims=True), axis), along_axis(tie_free=True)),
    Op("logsumexp", lambda a, **k: a.logsumexp(**k), _stable_logsumexp, reduction(-5.0, 5.0)),
    Op("softmax", lambda a, axis: a.softmax(axis), _softmax, along_axis()),
    Op("log_softmax", lambda a, axis: a.log_softmax(axis), lambda a, axis: np.log(_softmax(a, axis)), along_axis()),
    # losses, the target differentiated too (probabilities stay inside (0, 1) under central differences)
    Op("mse_loss", F.mse_loss, lambda y, t, reduction: _reduce((y - t) ** 2, reduction), loss_inputs()),
    Op("binary_cross_entropy", F.binary_cross_entropy, _bce, loss_inputs(0.05, 0.95, 0.02, 0.98)),
    Op("bce_with_logits", F.binary_cross_entropy_with_logits, lambda x, t, reduction: _bce(_sigmoid(x), t, reduction),
       loss_inputs(t_lo=0.0, t_hi=1.0)),
    Op("cross_entropy_soft", F.cross_entropy, _soft_cross_entropy, loss_inputs(t_lo=0.0, t_hi=1.0, min_dims=1)),
    # shape
    Op("reshape", lambda a, shape: a.reshape(shape), np.reshape, reshape_inputs()),
    Op("permute", lambda a, axes: a.permute(axes), np.transpose, permute_inputs()),
    Op("transpose", lambda a, dim0, dim1: a.transpose(dim0, dim1), lambda a, dim0, dim1: np.swapaxes(a, dim0, dim1),
       transpose_inputs()),
    Op("T", lambda a: a.T, lambda a: a.T, unary()),
    Op("broadcast_to", lambda a, shape: a.broadcast_to(shape), np.broadcast_to, broadcast_inputs()),
    Op("expand", lambda a, shape: a.expand(*shape), np.broadcast_to, broadcast_inputs()),
    Op("squeeze", lambda a, axis: a.squeeze(axis), np.squeeze, squeeze_inputs()),
    Op("unsqueeze", lambda a, axis: a.unsqueeze(axis), np.expand_dims, unsqueeze_inputs()),
    Op("flatten", lambda a, start_dim, end_dim: a.flatten(start_dim, end_dim),
       lambda a, start_dim, end_dim: a.reshape(a.shape[:start_dim] + (-1,) + a.shape[end_dim + 1:]),
       flatten_inputs()),
    Op("getitem_basic", lambda a, index: a[index], lambda a, index: a[index], basic_index_inputs()),
    Op("getitem_integer", lambda a, index: a[index], lambda a, index: a[index], integer_index_inputs()),
    Op("getitem_repeated", lambda a, index: a[index], lambda a, index: a[index], repeated_index_inputs()),
    Op("getitem_mask", lambda a, index: a[index], lambda a, index: a[index], mask_index_inputs()),
    Op("setitem_basic", setitem, setitem, setitem_inputs(mask=False)),
    Op("setitem_mask", setitem, setitem, setitem_inputs(mask=True)),
    Op("concatenate", lambda *xs, axis: ag.concatenate(xs, axis=axis), lambda *xs, axis: np.concatenate(xs, axis),
       join_inputs(new_axis=False)),
    Op("stack", lambda *xs, axis: ag.stack(xs, axis=axis), lambda *xs, axis: np.stack(xs, axis), join_inputs(True)),
    Op("linear", F.linear, lambda x, w, b: x @ w.T + b, linear_inputs(bias=True)),
    Op("linear_no_bias", F.linear, lambda x, w: x @ w.T, linear_inputs(bias=False)),
    # convolution, pooling and batch norm (tiny shapes: the references loop over every element)
    Op("conv2d", F.conv2d, _conv2d_loops, conv2d_inputs(bias=True)),
    Op("conv2d_no_bias", F.conv2d, _conv2d_loops, conv2d_inputs(bias=False)),
    Op("conv1d", F.conv1d, _conv1d_loops, conv1d_inputs()),
    Op("max_pool2d", F.max_pool2d, _pool_loops, pool_inputs(tie_free=True, dilated=True)),
    Op("avg_pool2d", F.avg_pool2d, lambda x, **k: _pool_loops(x, **k, reduce="mean"),
       pool_inputs(tie_free=False, dilated=False)),
    Op("avg_pool2d_exclude_pad", lambda x, **k: F.avg_pool2d(x, **k, count_include_pad=False),
       lambda x, **k: _pool_loops(x, **k, reduce="mean", count_include_pad=False),
       pool_inputs(tie_free=False, dilated=False)),
    Op("adaptive_avg_pool2d", F.adaptive_avg_pool2d, _adaptive_loops, adaptive_inputs()),
    Op("batch_norm_train", _batch_norm_train, _batch_norm_loops, batch_norm_inputs(affine=True)),
    Op("batch_norm_train_no_affine", _batch_norm_train, _batch_norm_loops, batch_norm_inputs(affine=False)),
    Op("batch_norm_eval", _batch_norm_eval, _batch_norm_eval_loops, batch_norm_eval_inputs()),
    Op("prod", lambda a, **k: a.prod(**k), lambda a, **k: np.prod(a, **k), reduction(-2.0, 2.0)),
    Op("prod_with_zeros", lambda a, **k: a.prod(**k), lambda a, **k: np.prod(a, **k), with_zeros()),
    Op("cumsum", lambda a, axis: a.cumsum(axis), lambda a, axis: np.cumsum(a, axis), along_axis()),
    Op("norm2", lambda a, axis, keepdims: a.norm(2, axis, keepdims), norm(2), reduction(kinks=(0.0,))),
    Op("norm1", lambda a, axis, keepdims: a.norm(1, axis, keepdims), norm(1), reduction(kinks=(0.0,)), smooth=False),
    Op("norm3", lambda a, axis, keepdims: a.norm(3, axis, keepdims), norm(3), reduction(kinks=(0.0,))),
    Op("logaddexp", ag.logaddexp, np.logaddexp, binary()),
    Op("round", ag.round, np.round, unary(kinks=(-2.5, -1.5, -0.5, 0.5, 1.5, 2.5)), smooth=False),
    Op("repeat", lambda a, counts: a.repeat(*counts), lambda a, counts: np.tile(a, counts), repeat_inputs()),
    Op("gather", lambda a, dim, index: a.gather(dim, index),
       lambda a, dim, index: np.take_along_axis(a, index, dim), gather_inputs()),
    Op("split", lambda a, sections, axis: _split_sum(a.split(sections, axis)),
       lambda a, sections, axis: _split_sum(_numpy_split(a, sections, axis)), split_inputs()),
    # numpy's functions called on tensors (the same call is the reference on arrays)
    Op("np.sum", _np_sum, _np_sum, reduction()),
    Op("np.max", _np_max, _np_max, reduction(tie_free=True), smooth=False),
    Op("np.var_ddof", _np_var_ddof, _np_var_ddof, reduction().filter(lambda inputs: _reduced_count(inputs) > 1)),
    Op("np.reshape_fortran", _np_reshape_fortran, _np_reshape_fortran, reshape_inputs()),
    Op("np.transpose", _np_transpose, _np_transpose, permute_inputs()),
    Op("np.swapaxes", _np_swapaxes, _np_swapaxes, transpose_inputs()),
    Op("np.expand_dims", _np_expand_dims, _np_expand_dims, unsqueeze_inputs()),
    Op("np.concatenate_flat", _np_concatenate_flat, _np_concatenate_flat, join_inputs(new_axis=False)),
    Op("np.where", _np_where, _np_where, where_inputs(), constants=(0,)),
    Op("np.clip", _np_clip, _np_clip, clip_inputs(), smooth=False),
]  # fmt: skip
