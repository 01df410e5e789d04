"""Tensor's side of numpy's dispatch protocols, so `np.exp(t)` or `ndarray * t` stay in the graph.

Ufuncs with a gradient rule, and a few array functions (sum, reshape, concatenate, where...),
become autograd ops. Any other ufunc gives a tensor outside the graph; any other array
function gives numpy's own result. Either raises on tensors that require grad (where a
gradient would silently be lost), except functions that only read values (allclose, argmax...).

This is also what lets one `backward` serve both ordinary and higher-order gradients: the
numpy calls in it act on arrays normally and record ops when handed Tensors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import functions as F
from .ops import arithmetic as A
from .ops import pointwise as P
from .tensor import Tensor

# numpy ufuncs with a derivative here, called with tensors or plain values.
_DIFFERENTIABLE_UFUNCS: dict[np.ufunc, Callable[..., Tensor]] = {
    np.add: A.Add.apply,
    np.subtract: A.Sub.apply,
    np.multiply: A.Mul.apply,
    np.true_divide: A.Div.apply,
    np.power: A.Pow.apply,
    np.negative: A.Neg.apply,
    np.matmul: A.MatMul.apply,
    np.exp: P.Exp.apply,
    np.log: P.Log.apply,
    np.sqrt: P.Sqrt.apply,
    np.absolute: P.Abs.apply,
    np.sin: P.Sin.apply,
    np.cos: P.Cos.apply,
    np.tanh: P.Tanh.apply,
    np.maximum: P.Maximum.apply,
    np.minimum: P.Minimum.apply,
}

# ufuncs whose result carries no gradient (piecewise constant or boolean): plain tensors.
_CONSTANT_UFUNCS = {
    np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal,
    np.sign, np.isnan, np.isinf, np.isfinite, np.floor, np.ceil, np.rint,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
}  # fmt: skip


def _unwrap(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    return value


def _needs_grad(value: Any) -> bool:
    if isinstance(value, Tensor):
        return value.requires_grad
    if isinstance(value, (list, tuple)):
        return any(_needs_grad(v) for v in value)
    return False


def _no_rule(name: str) -> TypeError:
    return TypeError(
        f"numpy.{name} has no gradient rule in autograd. Apply it to t.detach() or t.data to work "
        "on plain values outside the graph, or write an autograd.Function for it."
    )


def call_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    if method != "__call__" or kwargs:
        raise TypeError(
            f"numpy.{ufunc.__name__}.{method} with arguments {sorted(kwargs)} is not supported on tensors; "
            f"call numpy.{ufunc.__name__}(...) plainly, or use t.data for in-place or out= forms"
        )
    rule = _DIFFERENTIABLE_UFUNCS.get(ufunc)
    if rule is not None:
        return rule(*inputs)
    if ufunc in _CONSTANT_UFUNCS or not _needs_grad(inputs):
        values = _unwrap(inputs)
        try:
            return Tensor._wrap(ufunc(*values))
        except ValueError as err:
            if "broadcast" not in str(err):
                raise
            shapes = " and ".join(str(np.shape(v)) for v in values)
            raise ValueError(f"{ufunc.__name__}: shapes {shapes} do not broadcast") from None
    raise _no_rule(ufunc.__name__)


def _numpy_var(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0, keepdims: bool = False
) -> Tensor:
    _check_plain(dtype=dtype, out=out)
    return F.var(a, axis=axis, keepdims=keepdims, correction=ddof)


def _check_plain(**unsupported: Any) -> None:
    for key, value in unsupported.items():
        if value is not None:
            raise TypeError(f"the {key}= argument is not supported for tensors; convert with t.data first")


def _reduction(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    def call(
        a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **extra: Any
    ) -> Tensor:
        _check_plain(dtype=dtype, out=out, **extra)
        return fn(a, axis=axis, keepdims=keepdims)

    return call


def _reduction_no_dtype(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    def call(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **extra: Any) -> Tensor:
        _check_plain(out=out, **extra)
        return fn(a, axis=axis, keepdims=keepdims)

    return call


_FUNCTIONS: dict[Any, Callable[..., Any]] = {
    np.sum: _reduction(F.sum),
    np.mean: _reduction(F.mean),
    np.var: _numpy_var,
    np.max: _reduction_no_dtype(F.max),
    np.min: _reduction_no_dtype(F.min),
    np.reshape: lambda a, shape, order="C", **kw: F.reshape(a, shape),
    np.transpose: lambda a, axes=None: F.permute(a, tuple(reversed(range(np.ndim(a)))) if axes is None else axes),
    np.swapaxes: lambda a, axis1, axis2: F.transpose(a, axis1, axis2),
    np.broadcast_to: lambda array, shape, subok=False: F.broadcast_to(array, shape),
    np.squeeze: lambda a, axis=None: F.squeeze(a, axis),
    np.expand_dims: lambda a, axis: F.unsqueeze(a, axis),
    np.concatenate: lambda arrays, axis=0, **kw: F.concatenate(arrays, axis=axis),
    np.stack: lambda arrays, axis=0, **kw: F.stack(arrays, axis=axis),
    np.where: lambda condition, x, y: F.where(condition, x, y),
    np.clip: lambda a, a_min=None, a_max=None, **kw: F.clip(a, a_min, a_max),
}

# Functions that only read values (never a gradient to lose): allowed on any tensor.
_VALUE_FUNCTIONS = {
    np.allclose, np.isclose, np.array_equal, np.array_equiv, np.argmax, np.argmin, np.argsort,
    np.shape, np.ndim, np.size, np.nonzero, np.count_nonzero, np.all, np.any, np.copy,
    np.array_repr, np.array_str, np.result_type,
}  # fmt: skip


def call_function(func: Any, args: tuple, kwargs: dict) -> Any:
    rule = _FUNCTIONS.get(func)
    if rule is not None:
        return rule(*args, **kwargs)
    if func in _VALUE_FUNCTIONS or not (_needs_grad(args) or _needs_grad(tuple(kwargs.values()))):
        return func(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})
    raise _no_rule(func.__name__)
