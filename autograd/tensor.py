"""`Tensor`: an ndarray that remembers how it was computed, so gradients can flow back.

dtype policy (PyTorch's, with float64 as the default float dtype):
- numpy arrays keep their dtype (float32 stays float32), unless `dtype` is given;
- `tensor(data)` infers from Python data: ints stay int64, bools bool, floats take the
  default dtype (`get_default_dtype()`, float64 unless `set_default_dtype` changed it);
- `Tensor(data)`, the legacy constructor, makes Python numbers the default float dtype;
- integer or bool data with requires_grad=True is promoted to the default float dtype;
- ops on mixed dtypes follow numpy's promotion (float32 * a Python float stays float32).

`Tensor(array)` shares memory with `array` when no conversion is needed, like `np.asarray`.

Where Tensor's methods are defined. This module is a low layer: it imports only numpy,
device, dtypes, grad_mode and errors, and its class body holds what needs nothing above it
(attributes, conversions, comparisons, hooks). The methods that need a higher module are
defined in that module and put on Tensor with `install_methods` when it is imported
(`import autograd` imports them all, in layer order, so every method is there once it returns):
- the ops' methods (exp, sum, reshape...): registered with `@register` in autograd/ops/*.py,
  installed by autograd/ops/__init__.py;
- operators (+ - * / ** @ and unary -): autograd/ops/arithmetic.py; `clone`: ops/shape.py;
  `abs()` and `type` (and so float(), double()...): ops/pointwise.py; `t[i]`: ops/indexing.py;
- in-place methods (add_, sub_, mul_, div_, +=..., fill_, zero_, copy_, clamp_, `t[i] = v`)
  and `_version`: autograd/inplace.py;
- `backward`: autograd/engine.py;
- `__array_ufunc__` and `__array_function__` (numpy's protocols): autograd/numpy_bridge.py.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from .device import CPU, as_device, device
from .dtypes import as_dtype, get_default_dtype
from .errors import broadcast_error
from .grad_mode import _state

Shape = tuple[int, ...]


class Size(int):
    """A tensor's `.size`: the element count (numpy's meaning, so numpy code keeps working), and
    callable as PyTorch's `size()`: `t.size()` is the shape, `t.size(dim)` one dimension."""

    shape: Shape

    def __new__(cls, count: int, shape: Shape) -> Size:
        size = super().__new__(cls, count)
        size.shape = shape
        return size

    def __call__(self, dim: int | None = None) -> Any:
        if dim is None:
            return self.shape
        try:
            return self.shape[dim]
        except (IndexError, TypeError):
            raise IndexError(f"size({dim!r}): dim out of range for a tensor of shape {self.shape}") from None


class MaxMin(NamedTuple):
    """What `t.max(dim)` and `t.min(dim)` return, as PyTorch's named tuple: `values, indices = t.max(1)`."""

    values: Tensor
    indices: Tensor

def _to_arguments(args: tuple, kwargs: dict) -> tuple[Any, Any]:
    """The dtype and device that Tensor.to / Module.to were asked for (either may be None)."""
    dtype, target = kwargs.pop("dtype", None), kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, (str, device)):
            target = arg
        elif arg is not None:
            dtype = arg
    return dtype, target


_LEGACY_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                 "int64": "LongTensor", "int32": "IntTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}  # fmt: skip


def _to_array(data: Any, dtype: Any, infer: bool = False) -> np.ndarray:
    """`data` as an array: arrays keep their dtype; Python data becomes the default float dtype,
    except that with `infer` (what `tensor()` does) integers stay int64 and bools bool."""
    dtype = as_dtype(dtype)
    if isinstance(data, Tensor):
        data = data._data
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
    if dtype is None and (array.dtype.kind == "f" or (array.dtype.kind in "iu" and not infer)):
        array = array.astype(get_default_dtype(), copy=False)
    return array


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    __slots__ = ("_data", "_grad", "grad_fn", "name", "_requires_grad", "_hooks", "__weakref__")

    # How many backward passes are being recorded (create_graph=True) in any thread: while
    # none is, reading .data needs no further check (see _cut_graph).
    _recording_backwards = 0

    def __init__(
        self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None, *,
        device: Any = None,
    ) -> None:  # fmt: skip
        as_device(device)
        array = data if isinstance(data, np.ndarray) and dtype is None else _to_array(data, dtype)
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"Tensor data must be numeric (bool, integer or real float), got dtype {array.dtype}; "
                "convert it first, for example with np.asarray(data, dtype=float)"
            )
        if requires_grad and array.dtype.kind != "f":
            array = array.astype(get_default_dtype())
        self._data: np.ndarray = array
        self._grad: Tensor | None = None
        self.grad_fn: Any = None
        self.name = name
        self._requires_grad = bool(requires_grad)
        self._hooks: list[Callable] | None = None

    @classmethod
    def _wrap(cls, data: Any, grad_fn: Any = None) -> Tensor:
        """Fast internal constructor for op results: no checks, no copies."""
        t = object.__new__(cls)
        t._data = data if type(data) is np.ndarray else np.asarray(data)
        t._grad = None
        t.grad_fn = grad_fn
        t.name = None
        t._requires_grad = grad_fn is not None
        t._hooks = None
        return t

    # ----------------------------------------------------------------- attributes

    @property
    def data(self) -> np.ndarray:
        """The values, as a numpy array (shared, not copied). Changes made through it are not tracked."""
        if self._recording_backwards and self._requires_grad and _state.backward_of is not None:
            raise _cut_graph(".data")
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        array = value._data if isinstance(value, Tensor) else np.asarray(value)
        if array.dtype.kind not in "biuf" or (self._requires_grad and array.dtype.kind != "f"):
            raise TypeError(
                f"cannot set .data to an array of dtype {array.dtype}: "
                + ("a tensor that requires grad needs floating-point data" if self._requires_grad else
                   "tensor data must be numeric (bool, integer or real float)")
            )
        self._data = array

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by backward(), or None."""
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is None:
            self._grad = None
            return
        if not isinstance(value, (Tensor, np.ndarray)):
            raise TypeError(
                f"assigned grad must be a Tensor, a numpy array or None, got {type(value).__name__}"
            )
        array = value._data if isinstance(value, Tensor) else value
        if array.shape != self._data.shape:
            raise RuntimeError(
                f"assigned grad has shape {array.shape} but the tensor has shape {self._data.shape}; they must match"
            )
        if array.dtype.kind != "f":
            raise TypeError(f"assigned grad must have a floating-point dtype, got {array.dtype}")
        if isinstance(value, Tensor) and array.dtype == self._data.dtype:
            self._grad = value
        else:  # in the tensor's dtype, as the gradients backward() computes
            self._grad = Tensor._wrap(array.astype(self._data.dtype, copy=False))

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
                f"{type(self.grad_fn).__name__}. Use .detach() to get a leaf that shares its data."
            )
        if flag and self._data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require grad, this one is {self._data.dtype}; "
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
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> Size:
        """numpy's `.size` and PyTorch's `.size()` at once: the element count, an int that is also
        callable -- `t.size()` gives the shape and `t.size(dim)` one dimension, as in PyTorch."""
        return Size(self._data.size, self._data.shape)

    def numel(self) -> int:
        """Number of elements."""
        return self._data.size

    def dim(self) -> int:
        """Number of dimensions (PyTorch's name for `ndim`)."""
        return self._data.ndim

    ndimension = dim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

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
        if _state.backward_of is not None and self._requires_grad:
            raise _cut_graph(".item()")
        if self._data.size != 1:
            raise ValueError(
                f"item() needs a tensor with exactly one element, this one has shape {self.shape} "
                f"({self._data.size} elements); index it or reduce it (e.g. .sum()) first"
            )
        return self._data.item()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        if _state.backward_of is not None and self._requires_grad:
            raise _cut_graph(".numpy()")
        return self._data

    def tolist(self) -> Any:
        if _state.backward_of is not None and self._requires_grad:
            raise _cut_graph(".tolist()")
        return self._data.tolist()

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data (and its version counter), cut off from the graph."""
        return Tensor._wrap(self._data)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if _state.backward_of is not None and self._requires_grad:
            raise _cut_graph("np.asarray / np.array")
        data = self._data
        if copy:
            return np.array(data, dtype=dtype, copy=True)
        if dtype is None or np.dtype(dtype) == data.dtype:
            return data
        if copy is False:
            raise ValueError(f"cannot convert a {data.dtype} tensor to {np.dtype(dtype)} without a copy")
        return data.astype(dtype)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor; use .item() to get its value")
        return len(self._data)

    def __iter__(self) -> Iterator[Tensor]:
        """The tensor's rows, each a tensor in the graph (as `t[0], t[1], ...`)."""
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor; use .item() to get its value")
        return (self[i] for i in range(len(self._data)))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self._data.size} elements is ambiguous; use .any() or .all()"
            )
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        """Integer tensors of one element can index lists and ranges, as in PyTorch."""
        if self._data.size != 1 or self._data.dtype.kind not in "iu":
            raise TypeError(
                f"only integer tensors of a single element can be converted to an index, "
                f"this one has shape {self.shape} and dtype {self.dtype}"
            )
        return int(self._data.item())

    def __format__(self, spec: str) -> str:
        """`f"{loss:.4f}"` formats a 0-d tensor's value; other tensors take no format spec."""
        if self._data.ndim == 0:
            return format(self.item(), spec)
        if not spec:
            return str(self)
        raise TypeError(
            f"format spec {spec!r} needs a 0-d tensor, this one has shape {self.shape}; "
            "format t.item() or each element instead"
        )

    __hash__ = object.__hash__  # by identity, as in PyTorch, so tensors can key dicts

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="tensor(")
        extras = []
        if self._data.dtype not in (get_default_dtype(), np.int64, np.bool_):  # PyTorch names other dtypes only
            extras.append(f"dtype={self._data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        if self.name is not None:
            extras.append(f"name={self.name!r}")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    # ----------------------------------------------------------------- autograd

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
        """Keep `.grad` for this non-leaf tensor too (leaves always keep theirs); calling it again does nothing."""
        if self.grad_fn is None or self.retains_grad:
            return
        self.register_hook(_RetainGrad(self))

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf whose `.grad` is kept (see retain_grad)."""
        hooks = self.grad_fn._hooks if self.grad_fn is not None else ()
        return any(isinstance(h, _RetainGrad) and h.tensor() is self for h in hooks)

    # ----------------------------------------------------------------- arithmetic

    def __pos__(self) -> Tensor:
        return self

    # Comparisons give boolean tensors outside the graph.
    def _compare(self, ufunc: np.ufunc, other: Any) -> Tensor:
        other_data = other._data if isinstance(other, Tensor) else other
        try:
            return Tensor._wrap(ufunc(self._data, other_data))
        except ValueError as err:
            if "broadcast" not in str(err):
                raise
            raise broadcast_error(ufunc.__name__, [self.shape, np.shape(other_data)]) from None

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
        return bool(self._data.any())

    def all(self) -> bool:
        return bool(self._data.all())

    # ----------------------------------------------------------------- PyTorch's other names

    def sign(self) -> Tensor:
        """-1, 0 or 1 by sign; a constant (no gradient), as its derivative is 0 almost everywhere."""
        return Tensor._wrap(np.sign(self._data))

    def view_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    reshape_as = view_as

    def expand_as(self, other: Tensor) -> Tensor:
        return self.broadcast_to(other.shape)

    def t(self) -> Tensor:
        """The transpose of a tensor of at most 2 dimensions (PyTorch's t())."""
        if self.ndim > 2:
            raise ValueError(f"t() expects a tensor of at most 2 dimensions, got shape {self.shape}; use transpose")
        return self if self.ndim < 2 else self.transpose(0, 1)

    def eq(self, other: Any) -> Tensor:
        return self._compare(np.equal, other)

    def ne(self, other: Any) -> Tensor:
        return self._compare(np.not_equal, other)

    def lt(self, other: Any) -> Tensor:
        return self._compare(np.less, other)

    def le(self, other: Any) -> Tensor:
        return self._compare(np.less_equal, other)

    def gt(self, other: Any) -> Tensor:
        return self._compare(np.greater, other)

    def ge(self, other: Any) -> Tensor:
        return self._compare(np.greater_equal, other)

    def contiguous(self) -> Tensor:
        """This tensor (numpy arrays need no contiguous copy for any op here)."""
        return self

    @property
    def device(self) -> device:
        """Always the CPU: this engine computes with numpy."""
        return CPU

    def cpu(self) -> Tensor:
        return self

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """PyTorch's to(): a dtype, a device ("cpu" only), both, or another tensor (its dtype)."""
        dtype, target = _to_arguments(args, kwargs)
        as_device(target)
        return self if dtype is None else self.type(dtype)

    def float(self) -> Tensor:
        return self.type(np.float32)

    def double(self) -> Tensor:
        return self.type(np.float64)

    def half(self) -> Tensor:
        return self.type(np.float16)

    def long(self) -> Tensor:
        return self.type(np.int64)

    def int(self) -> Tensor:
        return self.type(np.int32)

    def bool(self) -> Tensor:
        return self.type(np.bool_)

class _RetainGrad:
    """The hook retain_grad() registers: stores the gradient arriving at a non-leaf in its `.grad`."""

    def __init__(self, tensor: Tensor):
        self.tensor = weakref.ref(tensor)  # the node holds the hook: a strong reference would be a cycle

    def __call__(self, grad: Tensor) -> None:
        t = self.tensor()
        if t is not None:
            t._grad = grad if t._grad is None else t._grad + grad


class RemovableHandle:
    """Returned by `register_hook`; `.remove()` unregisters the hook."""

    def __init__(self, hooks: list[Callable], hook: Callable):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _cut_graph(how: str) -> RuntimeError:
    """The error for turning a graph tensor into plain values while a backward pass is being recorded."""
    node = _state.backward_of
    return RuntimeError(
        f"{type(node).__name__}.backward used {how} on a tensor of the graph while create_graph=True: its values "
        "would enter the gradient as constants and the higher derivative would silently lose that term. Write "
        "backward with operators, tensor methods and numpy ufuncs on the tensors it receives (they record the "
        "backward pass), or compare with `x > 0` (a constant tensor) instead of reading x.data."
    )


def _normalize_index(index: Any) -> tuple[Any, ...]:
    """Make an index a tuple of ints, slices, None, Ellipsis and arrays (Tensors and lists unwrapped)."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for i in index:
        if isinstance(i, Tensor):
            i = i._data
        elif isinstance(i, list):
            i = np.asarray(i)
        if isinstance(i, np.ndarray) and i.dtype.kind not in "biu":
            raise IndexError(
                f"arrays used as indices must be integer or boolean, got dtype {i.dtype}; note that "
                "Tensor([0, 1]) is float64, so build integer indices as np.array([0, 1]) or a plain list"
            )
        out.append(i)
    return tuple(out)


def tensor(
    data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None, *, device: Any = None
) -> Tensor:
    """Build a Tensor, inferring the dtype as PyTorch's `tensor()` does: ints stay int64, floats
    take the default dtype, numpy arrays keep theirs."""
    return Tensor(_to_array(data, dtype, infer=True), requires_grad=requires_grad, name=name, device=device)


_CLASS_ATTRIBUTES = {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__firstlineno__",
                     "__static_attributes__", "__annotations__"}  # fmt: skip


def install_methods(source: type) -> None:
    """Put the methods and properties defined in the class body of `source` on Tensor.

    The modules above this one (the ops, inplace, engine, numpy_bridge) define the Tensor
    methods that need them in such a class and install it when they are imported; see the
    module docstring for which module provides which methods."""
    for name, value in vars(source).items():
        if name in _CLASS_ATTRIBUTES:
            continue
        if name in vars(Tensor):
            raise TypeError(f"{source.__qualname__} provides {name!r}, but Tensor already has it")
        setattr(Tensor, name, value)


__all__ = ["Tensor", "tensor"]
