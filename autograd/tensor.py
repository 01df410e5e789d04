"""`Tensor`: an ndarray that remembers how it was computed, so gradients can flow back.

dtype policy:
- numpy arrays keep their dtype (float32 stays float32), unless `dtype` is given;
- Python numbers and (nested) lists of numbers become float64 (bools stay bool);
- integer or bool data with requires_grad=True is promoted to float64;
- ops on mixed dtypes follow numpy's promotion (float32 * a Python float stays float32).

`Tensor(array)` shares memory with `array` when no conversion is needed, like `np.asarray`.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Shape = tuple[int, ...]


def _to_array(data: Any, dtype: Any) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data, dtype=dtype)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) and x.requires_grad for x in data):
        raise TypeError(
            "Tensor(list of tensors) would copy their values and drop the graph; "
            "use autograd.stack(tensors) to keep gradients flowing"
        )
    try:
        array = np.asarray(data, dtype=dtype)
    except (ValueError, TypeError) as err:
        raise TypeError(
            f"cannot build a tensor from {type(data).__name__} data ({err}); "
            "pass a number, a rectangular nested list of numbers or a numpy array"
        ) from None
    if dtype is None and array.dtype.kind in "iu":
        array = array.astype(np.float64)
    return array


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    __slots__ = ("data", "grad", "grad_fn", "name", "_requires_grad", "_hooks", "__weakref__")

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None):
        array = _to_array(data, dtype)
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"Tensor data must be numeric (bool, integer or real float), got dtype {array.dtype}; "
                "convert it first, for example with np.asarray(data, dtype=float)"
            )
        if requires_grad and array.dtype.kind != "f":
            array = array.astype(np.float64)
        self.data: np.ndarray = array
        self.grad: Tensor | None = None
        self.grad_fn: Any = None
        self.name = name
        self._requires_grad = bool(requires_grad)
        self._hooks: list[Callable] | None = None

    @classmethod
    def _wrap(cls, data: Any, grad_fn: Any = None) -> Tensor:
        """Fast internal constructor for op results: no checks, no copies."""
        t = object.__new__(cls)
        t.data = data if type(data) is np.ndarray else np.asarray(data)
        t.grad = None
        t.grad_fn = grad_fn
        t.name = None
        t._requires_grad = grad_fn is not None
        t._hooks = None
        return t

    # ----------------------------------------------------------------- attributes

    @property
    def requires_grad(self) -> bool:
        """Whether gradients are computed for this tensor."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set requires_grad on a leaf tensor, in place; returns the tensor."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad can only be changed on leaf tensors; this one was computed by "
                f"{self.grad_fn.name}. Use .detach() to get a leaf that shares its data."
            )
        if flag and self.data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require grad, this one is {self.data.dtype}; "
                "create it with requires_grad=True (which promotes to float64) or a float dtype"
            )
        self._requires_grad = bool(flag)
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (inputs, parameters, constants)."""
        return self.grad_fn is None

    @property
    def shape(self) -> Shape:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        """Number of elements (numpy's `.size`; PyTorch's `numel()`)."""
        return self.data.size

    def numel(self) -> int:
        """Number of elements."""
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def T(self) -> Tensor:
        """The tensor with its axes reversed (the transpose, for a matrix)."""
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:
        """The last two axes swapped: a batch of transposed matrices."""
        return self.transpose(-2, -1)

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item() needs a tensor with exactly one element, this one has shape {self.shape} "
                f"({self.data.size} elements); index it or reduce it (e.g. .sum()) first"
            )
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def tolist(self) -> Any:
        return self.data.tolist()

    def clone(self) -> Tensor:
        """A copy of the data that stays in the graph: gradients flow back to this tensor."""
        return Clone.apply(self)

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut off from the graph."""
        return Tensor._wrap(self.data)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        if dtype is None or np.dtype(dtype) == self.data.dtype:
            return self.data
        if copy is False:
            raise ValueError(f"cannot convert a {self.data.dtype} tensor to {np.dtype(dtype)} without a copy")
        return self.data.astype(dtype)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor; use .item() to get its value")
        return len(self.data)

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; use .any() or .all()"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    __hash__ = object.__hash__  # by identity, as in PyTorch, so tensors can key dicts

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extras = []
        if self.data.dtype != np.float64:
            extras.append(f"dtype={self.data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        if self.name is not None:
            extras.append(f"name={self.name!r}")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    # ----------------------------------------------------------------- autograd

    def backward(self, grad: Any = None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad.

        `grad` is the gradient flowing into this tensor; it may be left out only for a
        one-element tensor (it is then 1). The graph is freed afterwards unless
        `retain_graph=True`; `create_graph=True` records the backward pass itself, so the
        resulting `.grad` tensors can be differentiated again.
        """
        from .engine import backward

        backward([self], None if grad is None else [grad], retain_graph, create_graph)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call `hook(grad)` each time this tensor's gradient is computed; a returned tensor replaces it.

        Returns a handle whose `.remove()` unregisters the hook.
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:  # a non-leaf's hooks live on the node that computes it
            if not isinstance(self.grad_fn._hooks, list):
                self.grad_fn._hooks = []
            hooks = self.grad_fn._hooks
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Keep `.grad` for this non-leaf tensor too (leaves always keep theirs)."""
        if self.grad_fn is None:
            return
        ref = weakref.ref(self)  # the node holds the hook: a strong reference would be a cycle

        def keep(grad: Tensor) -> None:
            t = ref()
            if t is not None:
                t.grad = grad if t.grad is None else t.grad + grad

        self.register_hook(keep)

    # ----------------------------------------------------------------- numpy protocols

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        from .numpy_bridge import call_ufunc

        return call_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        from .numpy_bridge import call_function

        return call_function(func, args, kwargs)

    # ----------------------------------------------------------------- arithmetic

    def __add__(self, other: Any) -> Tensor:
        return Add.apply(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return Add.apply(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return Sub.apply(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return Sub.apply(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return Mul.apply(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return Mul.apply(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return Div.apply(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return Div.apply(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return Pow.apply(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return Pow.apply(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return MatMul.apply(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return MatMul.apply(other, self)

    def __neg__(self) -> Tensor:
        return Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def matmul(self, other: Any) -> Tensor:
        return MatMul.apply(self, other)

    # Comparisons give boolean tensors outside the graph.
    def _compare(self, ufunc: np.ufunc, other: Any) -> Tensor:
        other_data = other.data if isinstance(other, Tensor) else other
        try:
            return Tensor._wrap(ufunc(self.data, other_data))
        except ValueError as err:
            if "broadcast" not in str(err):
                raise
            raise ValueError(
                f"{ufunc.__name__}: shapes {self.shape} and {np.shape(other_data)} do not broadcast"
            ) from None

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(np.less, other)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(np.less_equal, other)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(np.greater, other)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(np.greater_equal, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(np.equal, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(np.not_equal, other)

    def any(self) -> bool:
        return bool(self.data.any())

    def all(self) -> bool:
        return bool(self.data.all())

    # ----------------------------------------------------------------- elementwise

    def exp(self) -> Tensor:
        return Exp.apply(self)

    def log(self) -> Tensor:
        return Log.apply(self)

    def sqrt(self) -> Tensor:
        return Sqrt.apply(self)

    def abs(self) -> Tensor:
        return Abs.apply(self)

    def sin(self) -> Tensor:
        return Sin.apply(self)

    def cos(self) -> Tensor:
        return Cos.apply(self)

    def tanh(self) -> Tensor:
        return Tanh.apply(self)

    def sigmoid(self) -> Tensor:
        return Sigmoid.apply(self)

    def relu(self) -> Tensor:
        return ReLU.apply(self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return LeakyReLU.apply(self, negative_slope=negative_slope)

    def softplus(self) -> Tensor:
        return Softplus.apply(self)

    def step(self) -> Tensor:
        return Step.apply(self)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:
        """Limit values to [min, max]; either bound may be None."""
        if min is None and max is None:
            raise ValueError("clip: give at least one of min and max")
        return Clip.apply(self, min=min, max=max)

    clamp = clip

    def maximum(self, other: Any) -> Tensor:
        return Maximum.apply(self, other)

    def minimum(self, other: Any) -> Tensor:
        return Minimum.apply(self, other)

    # ----------------------------------------------------------------- reductions

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return Mean.apply(self, axis=axis, keepdims=keepdims)

    def var(self, axis: Any = None, keepdims: bool = False, correction: int = 1) -> Tensor:
        """Variance; `correction=1` (PyTorch's default) divides by n - 1, `correction=0` by n."""
        return Var.apply(self, axis=axis, keepdims=keepdims, correction=correction)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Largest values along `axis` (values only; use .data.argmax for positions)."""
        return Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return Min.apply(self, axis=axis, keepdims=keepdims)

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return LogSumExp.apply(self, axis=axis, keepdims=keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        return Softmax.apply(self, axis=axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return LogSoftmax.apply(self, axis=axis)

    def argmax(self, axis: int | None = None) -> Tensor:
        """Indices of the largest values (no gradient)."""
        return Tensor._wrap(self.data.argmax(axis=axis))

    def argmin(self, axis: int | None = None) -> Tensor:
        """Indices of the smallest values (no gradient)."""
        return Tensor._wrap(self.data.argmin(axis=axis))

    # ----------------------------------------------------------------- shape

    def reshape(self, *shape: Any) -> Tensor:
        """Same elements in a new shape; one dimension may be -1. Accepts a tuple or separate ints."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return Reshape.apply(self, shape=shape)

    view = reshape

    def permute(self, *axes: Any) -> Tensor:
        """Reorder the axes: `t.permute(2, 0, 1)`."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return Permute.apply(self, axes=tuple(axes))

    def transpose(self, dim0: int = -2, dim1: int = -1) -> Tensor:
        """Swap two axes (PyTorch's meaning; numpy's full reordering is `permute`)."""
        if self.ndim < 2:
            raise ValueError(f"transpose needs at least 2 dimensions, this tensor has shape {self.shape}")
        axes = list(range(self.ndim))
        try:
            axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        except IndexError:
            raise ValueError(f"transpose: dims {dim0} and {dim1} out of range for shape {self.shape}") from None
        return self.permute(*axes)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        """Repeat along size-1 (or new leading) axes to reach `shape`, as numpy broadcasts."""
        return BroadcastTo.apply(self, shape=tuple(shape))

    def expand(self, *sizes: Any) -> Tensor:
        """PyTorch's broadcast: like broadcast_to, and -1 keeps a dimension's size."""
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        lead = len(sizes) - self.ndim
        if any(s == -1 for s in sizes[: max(lead, 0)]):
            raise ValueError(f"expand{tuple(sizes)}: -1 keeps an existing dimension, it cannot size a new leading one")
        shape = tuple(self.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
        return self.broadcast_to(shape)

    def squeeze(self, axis: int | tuple[int, ...] | None = None) -> Tensor:
        """Remove size-1 axes (all of them, or those named)."""
        try:
            shape = np.squeeze(np.empty(self.shape, dtype=bool), axis=axis).shape
        except ValueError:
            raise ValueError(f"squeeze: axis {axis} of shape {self.shape} does not have size 1") from None
        return Reshape.apply(self, shape=shape)

    def unsqueeze(self, axis: int) -> Tensor:
        """Insert a size-1 axis at position `axis`."""
        try:
            shape = np.expand_dims(np.empty(self.shape, dtype=bool), axis).shape
        except np.exceptions.AxisError:
            raise ValueError(f"unsqueeze: axis {axis} is out of range for shape {self.shape}") from None
        return Reshape.apply(self, shape=shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge axes start_dim..end_dim (inclusive) into one."""
        if self.ndim == 0:
            return Reshape.apply(self, shape=(1,))
        start, end = start_dim % self.ndim, end_dim % self.ndim
        shape = self.shape[:start] + (-1,) + self.shape[end + 1 :]
        return Reshape.apply(self, shape=shape)

    def __getitem__(self, index: Any) -> Tensor:
        return GetItem.apply(self, index=_normalize_index(index))

    def split(self, split_size_or_sections: int | Sequence[int], axis: int = 0) -> tuple[Tensor, ...]:
        """Cut into pieces along `axis`: pieces of `int` size (the last may be smaller), or of the listed sizes."""
        length = self.shape[axis]
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
        lead = (slice(None),) * (axis % self.ndim)
        starts = np.cumsum([0] + sizes)
        return tuple(self[lead + (slice(int(a), int(b)),)] for a, b in itertools.pairwise(starts))


class RemovableHandle:
    """Returned by `register_hook`; `.remove()` unregisters the hook."""

    def __init__(self, hooks: list[Callable], hook: Callable):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _normalize_index(index: Any) -> tuple[Any, ...]:
    """Make an index a tuple of ints, slices, None, Ellipsis and arrays (Tensors and lists unwrapped)."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for i in index:
        if isinstance(i, Tensor):
            i = i.data
        elif isinstance(i, list):
            i = np.asarray(i)
        if isinstance(i, np.ndarray) and i.dtype.kind not in "biu":
            raise IndexError(
                f"arrays used as indices must be integer or boolean, got dtype {i.dtype}; note that "
                "Tensor([0, 1]) is float64, so build integer indices as np.array([0, 1]) or a plain list"
            )
        out.append(i)
    return tuple(out)


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None) -> Tensor:
    """Build a Tensor (the same as calling `Tensor(...)`)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


# The ops import Tensor from this module, so they are imported after the class exists.
from .ops.arithmetic import Add, Div, MatMul, Mul, Neg, Pow, Sub  # noqa: E402
from .ops.indexing import GetItem  # noqa: E402
from .ops.pointwise import (  # noqa: E402
    Abs,
    Clip,
    Cos,
    Exp,
    LeakyReLU,
    Log,
    Maximum,
    Minimum,
    ReLU,
    Sigmoid,
    Sin,
    Softplus,
    Sqrt,
    Step,
    Tanh,
)
from .ops.reduction import LogSoftmax, LogSumExp, Max, Mean, Min, Softmax, Sum, Var  # noqa: E402
from .ops.shape import BroadcastTo, Clone, Permute, Reshape  # noqa: E402

__all__ = ["Tensor", "tensor"]
