"""Tensor factories with PyTorch's signatures: zeros, ones, full, arange, linspace, rand, randn, ...

Sizes are given as varargs or one tuple/list (`randn(3, 4)`, `randn((3, 4))`, `randn(())`).
Floating-point factories use the default dtype (`get_default_dtype()`, float64 unless set);
`arange` with integer arguments and `randint` give int64; `full` infers its dtype from the
fill value. Random factories draw from the default generator (see `manual_seed`) unless
given `generator=`. `device=` accepts only the CPU, and says so for anything else.
"""

from __future__ import annotations

import builtins
import math
import numbers
import operator
from typing import Any

import numpy as np

from .device import as_device
from .dtypes import as_dtype, get_default_dtype
from .random import as_generator
from .tensor import Tensor

Size = tuple[builtins.int, ...]


def _size(name: str, args: tuple[Any, ...], size: Any = None) -> Size:
    """The shape given as varargs (`3, 4`), one tuple/list (`(3, 4)`) or `size=`."""
    if size is not None:
        if args:
            raise TypeError(f"{name}() got the size both positionally and as size=")
        args = (size,)
    if not args:
        raise TypeError(f"{name}() missing its size, e.g. {name}(2, 3) or {name}((2, 3))")
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    return _dims(name, args)


def _dims(name: str, dims: Any) -> Size:
    shape = []
    for position, dim in enumerate(dims):
        try:
            shape.append(operator.index(dim))
        except TypeError:
            raise TypeError(
                f"{name}(): the size must be integers, but element {position} is {type(dim).__name__} {dim!r}"
            ) from None
    if any(d < 0 for d in shape):
        raise RuntimeError(f"{name}(): dimension sizes must be non-negative, got {tuple(shape)}")
    return tuple(shape)


def _tuple_size(name: str, size: Any) -> Size:
    """A size that PyTorch takes only as a tuple or list (full, randint)."""
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"{name}() takes its size as a tuple of ints, e.g. (3,) or (2, 3); got {size!r}")
    return _dims(name, size)


def _wrap(name: str, array: np.ndarray, requires_grad: builtins.bool) -> Tensor:
    if requires_grad and array.dtype.kind != "f":
        raise RuntimeError(
            f"Only Tensors of floating point dtype can require gradients; {name}() was asked for dtype "
            f"{array.dtype} with requires_grad=True. Pass a float dtype or leave requires_grad False."
        )
    return Tensor(array, requires_grad=requires_grad)


def _float_dtype(name: str, dtype: Any) -> np.dtype:
    """`dtype`, or the default dtype if None; random floats need a floating-point dtype."""
    result = as_dtype(dtype) or get_default_dtype()
    if result.kind != "f":
        raise TypeError(f"{name}() draws floating-point values; dtype {result} is not floating point")
    return result


def _uniform(generator: Any, shape: Size, dtype: np.dtype) -> np.ndarray:
    """Uniform values in [0, 1), drawn in `dtype` so that rounding can never give 1."""
    rng = as_generator(generator)
    if dtype in (np.float32, np.float64):
        return np.asarray(rng.random(shape, dtype=dtype))
    if dtype.itemsize <= 2:  # float16 has 11 significant bits: k / 2**11 is exact and below 1
        return (rng.integers(0, 2**11, shape) * 2.0**-11).astype(dtype)
    return np.asarray(rng.random(shape), dtype=dtype)


def _normal(generator: Any, shape: Size, dtype: np.dtype) -> np.ndarray:
    rng = as_generator(generator)
    if dtype in (np.float32, np.float64):
        return np.asarray(rng.standard_normal(shape, dtype=dtype))
    return np.asarray(rng.standard_normal(shape), dtype=dtype)


def _number(name: str, what: str, value: Any) -> builtins.int | builtins.float:
    """A Python number from a number or a one-element tensor; bool and complex are refused."""
    if isinstance(value, Tensor):
        value = value.item()
    if isinstance(value, (builtins.bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}(): {what} must be a real number, got {type(value).__name__} {value!r}")
    return operator.index(value) if isinstance(value, numbers.Integral) else builtins.float(value)


# ----------------------------------------------------------------------------- constant values


def zeros(
    *sizes: Any, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: builtins.bool = False
) -> Tensor:
    """A tensor of zeros: zeros(2, 3) or zeros((2, 3))."""
    as_device(device)
    shape = _size("zeros", sizes, size)
    return _wrap("zeros", np.zeros(shape, dtype=as_dtype(dtype) or get_default_dtype()), requires_grad)


def ones(
    *sizes: Any, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: builtins.bool = False
) -> Tensor:
    """A tensor of ones: ones(2, 3) or ones((2, 3))."""
    as_device(device)
    shape = _size("ones", sizes, size)
    return _wrap("ones", np.ones(shape, dtype=as_dtype(dtype) or get_default_dtype()), requires_grad)


def empty(
    *sizes: Any, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: builtins.bool = False
) -> Tensor:
    """An uninitialised tensor (its values are whatever the memory held): empty(2, 3) or empty((2, 3))."""
    as_device(device)
    shape = _size("empty", sizes, size)
    return _wrap("empty", np.empty(shape, dtype=as_dtype(dtype) or get_default_dtype()), requires_grad)


def _fill_dtype(name: str, fill_value: Any) -> tuple[Any, np.dtype]:
    """The fill value as a Python number and the dtype PyTorch infers from it (bool, int64 or the default)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if isinstance(fill_value, (builtins.bool, np.bool_)):
        return builtins.bool(fill_value), np.dtype(np.bool_)
    value = _number(name, "fill_value", fill_value)
    return value, np.dtype(np.int64) if isinstance(value, builtins.int) else get_default_dtype()


def full(
    size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None, requires_grad: builtins.bool = False
) -> Tensor:
    """A tensor of shape `size` (a tuple) filled with `fill_value`; bool gives bool, int int64, float the default."""
    as_device(device)
    shape = _tuple_size("full", size)
    value, inferred = _fill_dtype("full", fill_value)
    return _wrap("full", np.full(shape, value, dtype=as_dtype(dtype) or inferred), requires_grad)


def eye(
    n: Any, m: Any = None, *, dtype: Any = None, device: Any = None, requires_grad: builtins.bool = False
) -> Tensor:
    """An n x m (n x n if m is None) matrix with ones on the diagonal."""
    as_device(device)
    rows, cols = _dims("eye", (n, n if m is None else m))
    return _wrap("eye", np.eye(rows, cols, dtype=as_dtype(dtype) or get_default_dtype()), requires_grad)


# ----------------------------------------------------------------------------- ranges


def arange(
    start: Any,
    end: Any = None,
    step: Any = 1,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: builtins.bool = False,
) -> Tensor:
    """Values from start (default 0) up to but excluding end, `step` apart: arange(end), arange(start, end, step).

    All-integer arguments give int64, otherwise the default dtype. As in PyTorch, an integer dtype
    truncates start, end and step first; float values are start + i * step computed in float64.
    """
    as_device(device)
    if end is None:
        start, end = 0, start
    start, end, step = (_number("arange", what, v) for what, v in (("start", start), ("end", end), ("step", step)))
    integers = all(isinstance(v, builtins.int) for v in (start, end, step))
    result = as_dtype(dtype) or (np.dtype(np.int64) if integers else get_default_dtype())
    if result.kind == "b":
        raise TypeError("arange() does not make bool tensors; use an integer or floating-point dtype")
    if result.kind in "iu":
        start, end, step = builtins.int(start), builtins.int(end), builtins.int(step)
    if step == 0:
        raise RuntimeError(f"arange(): step must be nonzero (got step={step} for dtype {result})")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"arange(): upper bound and lower bound inconsistent with step sign: start={start}, end={end}, "
            f"step={step} never reaches end"
        )
    if result.kind in "iu":
        values = start + step * np.arange(-((start - end) // step), dtype=np.int64)
    else:
        values = start + step * np.arange(math.ceil((end - start) / step), dtype=np.float64)
    return _wrap("arange", values.astype(result), requires_grad)


def linspace(
    start: Any,
    end: Any,
    steps: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: builtins.bool = False,
) -> Tensor:
    """`steps` evenly spaced values from start to end, both included; the default dtype unless dtype= is given.

    PyTorch's formula: the first half counts up from start, the second half down from end, in the
    result's floating-point dtype (for integer dtypes: start and end truncated, steps in float64).
    PyTorch's vectorised kernel rounds some elements differently (by an ulp, depending on the CPU).
    """
    as_device(device)
    start, end = _number("linspace", "start", start), _number("linspace", "end", end)
    try:
        count = operator.index(steps)
    except TypeError:
        raise TypeError(f"linspace(): steps must be an integer, got {type(steps).__name__} {steps!r}") from None
    if count < 0:
        raise RuntimeError(f"linspace(): number of steps must be non-negative, got {count}")
    result = as_dtype(dtype) or get_default_dtype()
    compute = result.type if result.kind == "f" else np.float64
    if result.kind != "f":  # PyTorch converts start and end to the integer dtype first
        start, end = builtins.int(start), builtins.int(end)
    first, last = compute(start), compute(end)
    index = np.arange(count)
    if count == 1:
        values = np.full(1, first, dtype=compute)
    else:
        step = (last - first) / compute(count - 1) if count > 1 else compute(0)
        up, down = index.astype(compute), (count - 1 - index).astype(compute)
        values = np.where(index < count // 2, first + step * up, last - step * down)
    return _wrap("linspace", np.asarray(values, dtype=compute).astype(result), requires_grad)


# ----------------------------------------------------------------------------- random values


def rand(
    *sizes: Any,
    size: Any = None,
    generator: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: builtins.bool = False,
) -> Tensor:
    """Uniform values in [0, 1): rand(2, 3) or rand((2, 3))."""
    as_device(device)
    shape = _size("rand", sizes, size)
    return _wrap("rand", _uniform(generator, shape, _float_dtype("rand", dtype)), requires_grad)


def randn(
    *sizes: Any,
    size: Any = None,
    generator: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: builtins.bool = False,
) -> Tensor:
    """Standard normal values (mean 0, variance 1): randn(2, 3) or randn((2, 3))."""
    as_device(device)
    shape = _size("randn", sizes, size)
    return _wrap("randn", _normal(generator, shape, _float_dtype("randn", dtype)), requires_grad)


def randint(
    low: Any = None,
    high: Any = None,
    size: Any = None,
    *,
    generator: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: builtins.bool = False,
) -> Tensor:
    """Integers in [low, high), low 0 unless given, int64 unless dtype= is: randint(10, (3,)), randint(2, 5, (3,))."""
    as_device(device)
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=...)
        low, high = 0, low
    elif low is None:
        low = 0
    if high is None:
        raise TypeError("randint() needs high: randint(high, size) or randint(low, high, size)")
    if size is None:
        raise TypeError(
            "randint() needs a size tuple: randint(high, size) or randint(low, high, size), e.g. randint(10, (3,))"
        )
    shape = _tuple_size("randint", size)
    try:
        low, high = operator.index(low), operator.index(high)
    except TypeError:
        raise TypeError(f"randint(): low and high must be integers, got {low!r} and {high!r}") from None
    if low >= high:
        raise RuntimeError(f"randint(): low must be less than high, got low={low}, high={high}")
    result = as_dtype(dtype) or np.dtype(np.int64)
    if result.kind in "biu":
        bounds = (0, 1) if result.kind == "b" else (np.iinfo(result).min, np.iinfo(result).max)
        if low < bounds[0] or high - 1 > bounds[1]:
            raise RuntimeError(f"randint(): values in [{low}, {high}) do not fit in dtype {result}")
    values = as_generator(generator).integers(low, high, shape, dtype=np.int64)
    return _wrap("randint", np.asarray(values).astype(result), requires_grad)


# ----------------------------------------------------------------------------- *_like


def _like(value: Any) -> np.ndarray:
    return value._data if isinstance(value, Tensor) else np.asarray(value)


def _like_dtype(data: np.ndarray, dtype: Any) -> np.dtype:
    """`dtype`, or the input's dtype (which must be a tensor dtype) if None."""
    return as_dtype(data.dtype if dtype is None else dtype)  # type: ignore[return-value]


def zeros_like(input: Any, *, dtype: Any = None, device: Any = None, requires_grad: builtins.bool = False) -> Tensor:
    """Zeros with `input`'s shape and (unless dtype= is given) dtype."""
    as_device(device)
    data = _like(input)
    return _wrap("zeros_like", np.zeros(data.shape, dtype=_like_dtype(data, dtype)), requires_grad)


def ones_like(input: Any, *, dtype: Any = None, device: Any = None, requires_grad: builtins.bool = False) -> Tensor:
    """Ones with `input`'s shape and (unless dtype= is given) dtype."""
    as_device(device)
    data = _like(input)
    return _wrap("ones_like", np.ones(data.shape, dtype=_like_dtype(data, dtype)), requires_grad)


def empty_like(input: Any, *, dtype: Any = None, device: Any = None, requires_grad: builtins.bool = False) -> Tensor:
    """An uninitialised tensor with `input`'s shape and (unless dtype= is given) dtype."""
    as_device(device)
    data = _like(input)
    return _wrap("empty_like", np.empty(data.shape, dtype=_like_dtype(data, dtype)), requires_grad)


def full_like(
    input: Any, fill_value: Any, *, dtype: Any = None, device: Any = None, requires_grad: builtins.bool = False
) -> Tensor:
    """`fill_value` everywhere, with `input`'s shape and (unless dtype= is given) dtype."""
    as_device(device)
    data = _like(input)
    value, _ = _fill_dtype("full_like", fill_value)
    result = _like_dtype(data, dtype)
    return _wrap("full_like", np.full(data.shape, value, dtype=result), requires_grad)


def rand_like(
    input: Any,
    *,
    generator: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: builtins.bool = False,
) -> Tensor:
    """Uniform values in [0, 1) with `input`'s shape and (unless dtype= is given) its floating-point dtype."""
    as_device(device)
    data = _like(input)
    result = _float_dtype("rand_like", _like_dtype(data, dtype))
    return _wrap("rand_like", _uniform(generator, data.shape, result), requires_grad)


def randn_like(
    input: Any,
    *,
    generator: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: builtins.bool = False,
) -> Tensor:
    """Standard normal values with `input`'s shape and (unless dtype= is given) its floating-point dtype."""
    as_device(device)
    data = _like(input)
    result = _float_dtype("randn_like", _like_dtype(data, dtype))
    return _wrap("randn_like", _normal(generator, data.shape, result), requires_grad)


# ----------------------------------------------------------------------------- from existing data


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor that shares `array`'s memory and keeps its dtype: writes to one show in the other."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy() expected a numpy ndarray, got {type(array).__name__}; use autograd.tensor()")
    as_dtype(array.dtype)
    return Tensor(array)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """`data` as a tensor, sharing memory when it can (a tensor or ndarray already of `dtype`).

    A Tensor of the right dtype is returned as is; Python numbers and lists get PyTorch's dtypes
    (bool, int64, or the default dtype for floats).
    """
    as_device(device)
    result = as_dtype(dtype)
    if isinstance(data, Tensor):
        return data if result is None or result == data.dtype else data.to(result)
    if isinstance(data, (np.ndarray, np.generic)):
        array = np.asarray(data)
        as_dtype(array.dtype)
        return Tensor(array if result is None else array.astype(result, copy=False))
    try:
        array = np.asarray(data)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"as_tensor() cannot build a tensor from {type(data).__name__} data ({err}); "
            "pass a number, a rectangular nested list of numbers, a numpy array or a tensor"
        ) from None
    as_dtype(array.dtype)
    if result is None and array.dtype.kind == "f":
        result = get_default_dtype()
    return Tensor(array if result is None else array.astype(result, copy=False))


__all__ = [
    "zeros", "ones", "full", "empty", "eye", "arange", "linspace", "rand", "randn", "randint", "zeros_like",
    "ones_like", "full_like", "empty_like", "rand_like", "randn_like", "from_numpy", "as_tensor",
]  # fmt: skip


def _legacy(dtype: Any, name: str) -> Any:
    def construct(*args: Any) -> Tensor:
        if args and all(isinstance(a, (builtins.int, np.integer)) and not isinstance(a, builtins.bool) for a in args):
            return Tensor(np.zeros(_dims(name, args), dtype=dtype))  # FloatTensor(2, 3): a tensor of that size
        if len(args) != 1:
            raise TypeError(f"{name}() takes data (a list or array) or sizes (ints), got {args!r}")
        return Tensor(np.array(args[0]._data if isinstance(args[0], Tensor) else args[0], dtype=dtype))

    construct.__name__ = construct.__qualname__ = name
    construct.__doc__ = f"PyTorch's legacy {name}(data) or {name}(*sizes): a {np.dtype(dtype)} tensor."
    return construct


FloatTensor = _legacy(np.float32, "FloatTensor")
DoubleTensor = _legacy(np.float64, "DoubleTensor")
HalfTensor = _legacy(np.float16, "HalfTensor")
LongTensor = _legacy(np.int64, "LongTensor")
IntTensor = _legacy(np.int32, "IntTensor")
ByteTensor = _legacy(np.uint8, "ByteTensor")
BoolTensor = _legacy(np.bool_, "BoolTensor")
