"""Tensor's side of numpy's dispatch protocols, so `np.exp(t)` or `ndarray * t` stay in the graph.

When a gradient is needed (grad mode on and some tensor argument requires grad), the ufuncs
and array functions the ops declare (`@register(numpy=np.exp)`, `numpy=np.sum`: exp, add,
sum, reshape, concatenate, where, clip...), called plainly, become autograd ops; ufuncs
whose result is piecewise constant (comparisons, floor...) and functions that only read
values (allclose, argmax...) give constants. Anything
that would lose the gradient is refused with a TypeError naming it: a ufunc method such as
`np.add.at`, an argument such as `out=` or `dtype=`, a function or ufunc with no rule.

Otherwise every numpy function and ufunc works on tensors as on their arrays: ufuncs and the
declared functions give tensors, others numpy's own result; `out=` and `ufunc.at` write
into the tensor's memory and move its version counter.

Calls that involve other array types (neither Tensor nor ndarray) are left to those types.
While a backward pass is being recorded (create_graph=True), copying a graph tensor into a
plain array (`np.copy`) is an error, as `.data` is: it would silently cut the higher derivative.

This is also what lets one `backward` serve both ordinary and higher-order gradients: the
numpy calls in it act on arrays normally and record ops when handed Tensors.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from . import ops  # noqa: F401  (importing it registers every op, which the tables below read)
from .errors import broadcast_error
from .grad_mode import _state
from .inplace import bump
from .registry import array_functions, ufuncs
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


class _Unsupported(Exception):
    """A `_FUNCTIONS` rule cannot honour `argument`: numpy computes the call instead, or it is refused."""

    def __init__(self, argument: str):
        super().__init__(argument)
        self.argument = argument


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
# The numpy functions an op declares (`@register(numpy=np.sum)` in autograd/ops/), each called
# with numpy's first argument by position and its other arguments by numpy's names: see
# autograd/registry.py.

_FUNCTIONS: dict[Any, Callable[..., Any]] = array_functions()
_SIGNATURES = {func: inspect.signature(func) for func in _FUNCTIONS}
_TAKES = {rule: set(inspect.signature(rule).parameters) for rule in _FUNCTIONS.values()}


def _at_default(name: str, value: Any, default: Any) -> bool:
    """Whether passing `value` for `name` changes nothing: it is numpy's default (`where=True` is too)."""
    if value is default or (name == "where" and _is_default(name, value)):
        return True
    return type(value) in (bool, int, str, type(None)) and type(value) is type(default) and value == default


def _numpy_arguments(func: Any, args: tuple, kwargs: dict) -> tuple[Any, dict[str, Any]]:
    """numpy's first argument, and the others not at their defaults by name, as numpy binds the call."""
    signature = _SIGNATURES[func]
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as err:
        unknown = [k for k in kwargs if k not in signature.parameters]
        problem = f"got an unexpected keyword argument {unknown[0]!r}" if unknown else err
        raise TypeError(f"numpy.{func.__name__}() {problem}") from None
    (_, first), *others = bound.arguments.items()
    named = {}
    for name, value in others:
        parameter = signature.parameters[name]
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:  # np.clip's ufunc keywords
            named.update((k, v) for k, v in value.items() if not _is_default(k, v))
        elif not _at_default(name, value, parameter.default):
            named[name] = value
    return first, named


def _call_rule(func: Any, rule: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """`rule` computing numpy's `func(*args, **kwargs)`; _Unsupported before anything is computed
    when numpy was given an argument the rule does not take."""
    first, named = _numpy_arguments(func, args, kwargs)
    unknown = [name for name in named if name not in _TAKES[rule]]
    if unknown:
        raise _Unsupported(unknown[0])
    return rule(first, **named)


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


def call_function(func: Any, args: tuple, kwargs: dict, types: Any = None) -> Any:
    """`func(*args, **kwargs)` with a Tensor among the arguments (numpy's __array_function__)."""
    if _foreign_types(types, args, kwargs):
        return NotImplemented
    name = func.__name__
    needs_grad = _needs_grad(args) or _needs_grad(tuple(kwargs.values()))
    rule = _FUNCTIONS.get(func)
    if rule is not None:
        try:
            return _call_rule(func, rule, args, kwargs)
        except _Unsupported as unsupported:
            if needs_grad and _state.enabled:
                raise _refused(f"numpy.{name}'s {unsupported.argument}= argument") from None
            return _plain(func, args, kwargs, wrap=True)
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
