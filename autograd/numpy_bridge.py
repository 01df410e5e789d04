"""Tensor's side of numpy's dispatch protocols, so `np.exp(t)` or `ndarray * t` stay in the graph.

When a gradient is needed (grad mode on and some tensor argument requires grad), ufuncs with a
derivative here, called plainly, and the functions in `_FUNCTIONS` (sum, reshape, concatenate,
where, clip...) become autograd ops; ufuncs whose result is piecewise constant (comparisons,
floor...) and functions that only read values (allclose, argmax...) give constants. Anything
that would lose the gradient is refused with a TypeError naming it: a ufunc method such as
`np.add.at`, an argument such as `out=` or `dtype=`, a function or ufunc with no rule.

Otherwise every numpy function and ufunc works on tensors as on their arrays: ufuncs and the
functions in `_FUNCTIONS` give tensors, others numpy's own result; `out=` and `ufunc.at` write
into the tensor's memory and move its version counter.

Calls that involve other array types (neither Tensor nor ndarray) are left to those types.
While a backward pass is being recorded (create_graph=True), copying a graph tensor into a
plain array (`np.copy`) is an error, as `.data` is: it would silently cut the higher derivative.

This is also what lets one `backward` serve both ordinary and higher-order gradients: the
numpy calls in it act on arrays normally and record ops when handed Tensors.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from . import op_functions as F
from .errors import broadcast_error
from .grad_mode import _state
from .inplace import bump
from .registry import ufuncs
from .tensor import Tensor, _cut_graph, install_methods

# numpy ufuncs with a derivative here, called with tensors or plain values: each is the op
# function that declares it (`@register(numpy=np.exp)` in autograd/ops/).
_DIFFERENTIABLE_UFUNCS: dict[np.ufunc, Callable[..., Tensor]] = ufuncs()

# ufuncs whose result carries no gradient (piecewise constant or boolean): plain tensors.
_CONSTANT_UFUNCS = {
    np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal,
    np.sign, np.isnan, np.isinf, np.isfinite, np.floor, np.ceil, np.rint,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
}  # fmt: skip

# The ufunc keywords' defaults: passing one of these changes nothing.
_UFUNC_DEFAULTS: dict[str, Any] = {
    "where": True, "casting": "same_kind", "order": "K", "dtype": None, "subok": True, "signature": None,
}  # fmt: skip


class _Absent:
    """The default of an argument numpy treats as not given (numpy's own `np._NoValue`)."""

    def __repr__(self) -> str:
        return "<no value>"


_ABSENT: Any = _Absent()


class _Unsupported(Exception):
    """A `_FUNCTIONS` rule cannot honour `argument`: numpy computes the call instead, or it is refused."""

    def __init__(self, argument: str, refusal: str | None = None):
        super().__init__(argument)
        self.argument, self.refusal = argument, refusal


# ---------------------------------------------------------------------------- helpers


def _unwrap(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    return value


def _needs_grad(value: Any) -> bool:
    if isinstance(value, Tensor):
        return value._requires_grad
    if isinstance(value, (list, tuple)):
        return any(_needs_grad(v) for v in value)
    return False


def _tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(value)


def _no_rule(name: str) -> TypeError:
    return TypeError(
        f"numpy.{name} has no gradient rule in autograd. Apply it to t.detach() or t.data to work "
        "on plain values outside the graph, or write an autograd.Function for it."
    )


def _refused(what: str) -> TypeError:
    return TypeError(
        f"{what} is not supported on tensors that require grad: the result would be computed outside the "
        "graph and its gradient lost. Leave it out, or call numpy on t.detach() (or inside "
        "`with autograd.no_grad():`) to work on plain values."
    )


def _returned(result: Any, outs: tuple[Any, ...], wrap: bool) -> Any:
    """numpy's result as the caller should see it: the objects given as out=, tensors for arrays if `wrap`."""
    given = {}
    for out in outs:
        if isinstance(out, Tensor):
            bump(out._data)
            given[id(out._data)] = out
        elif out is not None:
            given[id(out)] = out
    return _mapped(result, given, wrap)


def _mapped(value: Any, given: dict[int, Any], wrap: bool) -> Any:
    if isinstance(value, tuple):
        return tuple(_mapped(v, given, wrap) for v in value)
    if id(value) in given:
        return given[id(value)]
    if wrap and isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "biuf":
        return Tensor._wrap(value)
    return value  # a type or dtype a tensor cannot hold (complex, object...): numpy's own result


def _out_tuple(out: Any) -> tuple[Any, ...]:
    if out is None:
        return ()
    return out if isinstance(out, tuple) else (out,)


def _is_default(key: str, value: Any) -> bool:
    if key not in _UFUNC_DEFAULTS:
        return False
    default = _UFUNC_DEFAULTS[key]
    if isinstance(value, np.bool_):
        value = bool(value)
    return type(value) is type(default) and value == default


# ---------------------------------------------------------------------------- ufuncs


def _foreign_operand(values: Iterable[Any]) -> bool:
    """Whether some value is another library's array type, one that overrides numpy's ufuncs itself."""
    return any(not isinstance(v, (Tensor, np.ndarray)) and hasattr(type(v), "__array_ufunc__") for v in values)


def call_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    """`ufunc.method(*inputs, **kwargs)` with at least one Tensor among the operands (numpy's __array_ufunc__)."""
    outs = _out_tuple(kwargs.get("out"))
    if _foreign_operand(inputs) or _foreign_operand(outs):
        return NotImplemented
    name = ufunc.__name__
    rule = _DIFFERENTIABLE_UFUNCS.get(ufunc)
    plain_call = method == "__call__" and all(_is_default(k, v) for k, v in kwargs.items())
    if _state.enabled and (_needs_grad(inputs) or _needs_grad(outs)):
        if _needs_grad(outs):
            raise _refused(f"numpy.{name} with out= a tensor that requires grad")
        if ufunc in _CONSTANT_UFUNCS:
            if method == "at" and _needs_grad(inputs[:1]):
                raise _refused(f"numpy.{name}.at (an in-place change)")
        elif rule is None:
            raise _no_rule(name)
        elif method != "__call__":
            raise _refused(f"numpy.{name}.{method}")
        elif not plain_call:
            extra = next(k for k, v in kwargs.items() if not _is_default(k, v))
            raise _refused(f"numpy.{name}'s {extra}= argument")
    if rule is not None and plain_call:
        return rule(*inputs)
    values = _unwrap(inputs)
    try:
        result = getattr(ufunc, method)(*values, **{k: _unwrap(v) for k, v in kwargs.items()})
    except ValueError as err:
        if method != "__call__" or "broadcast" not in str(err) or _broadcasts(values):
            raise
        raise broadcast_error(name, [np.shape(v) for v in values]) from None
    if method == "at":
        if isinstance(inputs[0], Tensor):
            bump(inputs[0]._data)
        return None
    return _returned(result, outs, wrap=True)


def _broadcasts(values: tuple) -> bool:
    try:
        np.broadcast_shapes(*(np.shape(v) for v in values))
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------- array functions
# Each rule mirrors numpy's signature. An argument the op cannot honour raises _Unsupported
# before anything is computed: numpy then computes the call on plain values, or, when a
# gradient is needed, the call is refused naming the argument.


def _plain_only(**given: bool) -> None:
    for argument, is_given in given.items():
        if is_given:
            raise _Unsupported(argument)


def _everywhere(where: Any) -> bool:
    return where is _ABSENT or where is True or where is np.True_


def _sum(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
    initial: Any = _ABSENT, where: Any = _ABSENT,
) -> Tensor:  # fmt: skip
    _plain_only(dtype=dtype is not None, out=out is not None, initial=initial is not _ABSENT,
                where=not _everywhere(where))  # fmt: skip
    return F.sum(a, axis=axis, keepdims=keepdims)


def _mean(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, *, where: Any = _ABSENT
) -> Tensor:
    _plain_only(dtype=dtype is not None, out=out is not None, where=not _everywhere(where))
    return F.mean(a, axis=axis, keepdims=keepdims)


def _var(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: float = 0, keepdims: bool = False,
    *, where: Any = _ABSENT, mean: Any = _ABSENT, correction: Any = _ABSENT,
) -> Tensor:  # fmt: skip
    if correction is not _ABSENT:
        if ddof != 0:
            raise ValueError("ddof and correction can't be provided simultaneously.")
        ddof = correction
    _plain_only(dtype=dtype is not None, out=out is not None, where=not _everywhere(where),
                mean=mean is not _ABSENT)  # fmt: skip
    return F.var(a, axis=axis, keepdims=keepdims, correction=ddof)


def _extreme(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    def extreme(
        a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, initial: Any = _ABSENT,
        where: Any = _ABSENT,
    ) -> Tensor:  # fmt: skip
        _plain_only(out=out is not None, initial=initial is not _ABSENT, where=not _everywhere(where))
        return fn(a, axis=axis, keepdims=keepdims)

    return extreme


def _shape_tuple(shape: Any) -> tuple[Any, ...]:
    try:
        return (operator.index(shape),)
    except TypeError:
        return tuple(shape)


def _reversed_axes(ndim: int) -> tuple[int, ...]:
    return tuple(range(ndim - 1, -1, -1))


def _reshape_order(order: Any, data: np.ndarray) -> str:
    """'C' or 'F', as numpy reads `order` for reshaping ('A': 'F' only for Fortran-contiguous data)."""
    key = "C" if order is None else order.decode("latin-1") if isinstance(order, bytes) else order
    key = key.upper() if isinstance(key, str) and len(key) == 1 else key
    if key == "A":
        key = "F" if data.flags.f_contiguous and not data.flags.c_contiguous else "C"
    if key not in ("C", "F"):
        np.empty(0).reshape(0, order=order)  # numpy's own error for 'K', an unknown name or a wrong type
        raise ValueError(f"order must be 'C', 'F' or 'A' for reshaping, got {order!r}")
    return key


def _reshape(a: Any, /, shape: Any, order: Any = "C", *, copy: bool | None = None) -> Tensor:
    x = _tensor(a)
    shape = _shape_tuple(shape)
    order = _reshape_order(order, x._data)
    if copy is not None and not copy:
        x._data.reshape(shape, order=order, copy=False)  # numpy's error when only a copy would do
    if order == "C":
        result = F.reshape(x, shape)
    else:  # Fortran order with C-order ops: reverse the axes, reshape to the reversed shape, reverse back
        flipped = F.permute(x, _reversed_axes(x.ndim)) if x.ndim > 1 else x
        try:
            result = F.reshape(flipped, shape[::-1])
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {shape}"
            ) from None
        if result.ndim > 1:
            result = F.permute(result, _reversed_axes(result.ndim))
    return result.clone() if copy else result


def _transpose(a: Any, axes: Any = None) -> Tensor:
    x = _tensor(a)
    if axes is None:
        return F.permute(x, _reversed_axes(x.ndim))
    axes = _shape_tuple(axes)
    if len(axes) != x.ndim:
        raise ValueError(f"axes {axes} don't match array: the tensor has {x.ndim} dimensions (shape {x.shape})")
    return F.permute(x, normalize_axis_tuple(axes, x.ndim, "axes"))


def _swapaxes(a: Any, axis1: int, axis2: int) -> Tensor:
    x = _tensor(a)
    i, j = normalize_axis_index(axis1, x.ndim), normalize_axis_index(axis2, x.ndim)
    axes = list(range(x.ndim))
    axes[i], axes[j] = axes[j], axes[i]
    return F.permute(x, axes)


def _broadcast_to(array: Any, shape: Any, subok: bool = False) -> Tensor:
    return F.broadcast_to(array, _shape_tuple(shape))  # subok: a tensor stays a tensor either way


def _squeeze(a: Any, axis: Any = None) -> Tensor:
    return F.squeeze(a, axis)


def _expand_dims(a: Any, axis: Any) -> Tensor:
    x = _tensor(a)
    axes = _shape_tuple(axis)
    ndim = x.ndim + len(axes)
    axes = normalize_axis_tuple(axes, ndim)
    sizes = iter(x.shape)
    return F.reshape(x, tuple(1 if i in axes else next(sizes) for i in range(ndim)))


def _concatenate(
    arrays: Any, /, axis: Any = 0, out: Any = None, *, dtype: Any = None, casting: Any = "same_kind"
) -> Tensor:
    _plain_only(out=out is not None, dtype=dtype is not None, casting=casting != "same_kind")
    if axis is None:
        return F.concatenate([F.reshape(x, (-1,)) for x in arrays], axis=0)
    return F.concatenate(arrays, axis=axis)


def _stack(arrays: Any, axis: int = 0, out: Any = None, *, dtype: Any = None, casting: Any = "same_kind") -> Tensor:
    _plain_only(out=out is not None, dtype=dtype is not None, casting=casting != "same_kind")
    return F.stack(arrays, axis=axis)


def _where(condition: Any, x: Any = _ABSENT, y: Any = _ABSENT, /) -> Any:
    if x is _ABSENT and y is _ABSENT:
        return np.where(_unwrap(condition))  # the indices where it holds, as numpy gives them
    if x is _ABSENT or y is _ABSENT:
        raise ValueError("either both or neither of x and y should be given")
    return F.where(condition, x, y)


def _clip(
    a: Any, a_min: Any = _ABSENT, a_max: Any = _ABSENT, out: Any = None, *, min: Any = _ABSENT, max: Any = _ABSENT,
    where: Any = True, casting: Any = "same_kind", order: Any = "K", dtype: Any = None, subok: Any = True,
    signature: Any = None,
) -> Tensor:  # fmt: skip
    if a_min is _ABSENT and a_max is _ABSENT:
        low, high, names = (None if min is _ABSENT else min), (None if max is _ABSENT else max), ("min", "max")
    elif a_min is _ABSENT:
        raise TypeError("clip() missing 1 required positional argument: 'a_min'")
    elif a_max is _ABSENT:
        raise TypeError("clip() missing 1 required positional argument: 'a_max'")
    elif min is not _ABSENT or max is not _ABSENT:
        raise ValueError("Passing `min` or `max` keyword argument when `a_min` and `a_max` are provided is forbidden.")
    else:
        low, high, names = a_min, a_max, ("a_min", "a_max")
    given = {"where": where, "casting": casting, "order": order, "dtype": dtype, "subok": subok, "signature": signature}
    _plain_only(out=out is not None, **{k: not _is_default(k, v) for k, v in given.items()})
    for name, bound in zip(names, (low, high)):
        if _needs_grad(bound):
            raise _Unsupported(name, (
                f"numpy.clip's {name}= is a tensor that requires grad, but clip gives its bounds no gradient; "
                f"np.minimum(np.maximum(a, {names[0]}), {names[1]}) records the gradients of all three"
            ))  # fmt: skip
    low, high = _unwrap(low), _unwrap(high)
    if low is None and high is None:
        return _tensor(a).clone()
    return F.clip(a, low, high)


_FUNCTIONS: dict[Any, Callable[..., Any]] = {
    np.sum: _sum,
    np.mean: _mean,
    np.var: _var,
    np.max: _extreme(F.max),
    np.amax: _extreme(F.max),
    np.min: _extreme(F.min),
    np.amin: _extreme(F.min),
    np.reshape: _reshape,
    np.transpose: _transpose,
    np.swapaxes: _swapaxes,
    np.broadcast_to: _broadcast_to,
    np.squeeze: _squeeze,
    np.expand_dims: _expand_dims,
    np.concatenate: _concatenate,
    np.stack: _stack,
    np.where: _where,
    np.clip: _clip,
}

# Functions that only read values (never a gradient to lose): allowed on any tensor.
_VALUE_FUNCTIONS = {
    np.allclose, np.isclose, np.array_equal, np.array_equiv, np.argmax, np.argmin, np.argsort,
    np.shape, np.ndim, np.size, np.nonzero, np.count_nonzero, np.all, np.any, np.copy,
    np.array_repr, np.array_str, np.result_type,
}  # fmt: skip

# Functions that hand back a tensor's values as a plain array: they cut a graph being recorded.
_CONVERTERS = {np.copy}


def _foreign_types(types: Any, args: tuple, kwargs: dict) -> bool:
    """Whether the call involves an array type other than Tensor and ndarray (and their subclasses)."""
    if types is None:  # not told: look at the arguments and one level into sequences of them
        values = [*args, *kwargs.values()]
        values += [v for seq in values if isinstance(seq, (list, tuple)) for v in seq]
        types = {type(v) for v in values if hasattr(type(v), "__array_function__")}
    return any(not issubclass(t, (Tensor, np.ndarray)) for t in types)


def _plain(func: Callable[..., Any], args: tuple, kwargs: dict, wrap: bool) -> Any:
    """numpy's own `func` on the tensors' arrays."""
    result = func(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})
    return _returned(result, _out_tuple(kwargs.get("out")), wrap)


def _binding_problem(rule: Callable[..., Any], args: tuple, kwargs: dict) -> str | None:
    """What is wrong with calling `rule` with these arguments (an unknown keyword first), or None."""
    parameters = inspect.signature(rule).parameters
    unknown = [k for k in kwargs if k not in parameters]
    if unknown:
        return f"got an unexpected keyword argument {unknown[0]!r}"
    try:
        inspect.signature(rule).bind(*args, **kwargs)
    except TypeError as err:
        return str(err)
    return None


def call_function(func: Any, args: tuple, kwargs: dict, types: Any = None) -> Any:
    """`func(*args, **kwargs)` with a Tensor among the arguments (numpy's __array_function__)."""
    if _foreign_types(types, args, kwargs):
        return NotImplemented
    name = func.__name__
    needs_grad = _needs_grad(args) or _needs_grad(tuple(kwargs.values()))
    rule = _FUNCTIONS.get(func)
    if rule is not None:
        try:
            return rule(*args, **kwargs)
        except _Unsupported as unsupported:
            if needs_grad and _state.enabled:
                refusal = unsupported.refusal
                if refusal is None:
                    raise _refused(f"numpy.{name}'s {unsupported.argument}= argument") from None
                raise TypeError(refusal) from None
            return _plain(func, args, kwargs, wrap=True)
        except TypeError:
            problem = _binding_problem(rule, args, kwargs)
            if problem is None:
                raise
            raise TypeError(f"numpy.{name}() {problem}") from None
    if needs_grad and _state.backward_of is not None and func in _CONVERTERS:
        raise _cut_graph(f"np.{name}")
    if needs_grad and _state.enabled and func not in _VALUE_FUNCTIONS:
        raise _no_rule(name)
    return _plain(func, args, kwargs, wrap=False)


class TensorNumpyProtocols:
    """numpy's protocols on Tensor, installed below (see tensor.py's docstring): ufuncs and
    functions such as np.exp(t) and np.sum(t) called with tensors come here."""

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return call_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return call_function(func, args, kwargs, types)


install_methods(TensorNumpyProtocols)
