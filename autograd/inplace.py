"""In-place changes, with PyTorch's rules: version counters, and in-place ops recorded in the graph.

Versions belong to memory, not to tensor objects: a tensor, its `detach()` alias and numpy
views of its data share one counter, as views share one in PyTorch. Every write through the
library bumps it: in-place operators and `_` methods, `t[i] = v`, optimiser steps,
`load_state_dict` and `nn.init`. (Writing into `t.data`'s array with numpy is numpy's business
and is not seen, like PyTorch's `.data`.)

A node stores nothing extra for the check. It was created at sequence number `_seq`, and a
write records the sequence number it happened at, so "modified since it was saved for
backward" is "written after the node was made". Backward looks only at nodes older than the
latest write anywhere, so a training loop (step, then a fresh forward) pays nothing for it.

Outside `no_grad()`, an in-place op that must be recorded (the tensor or the other operand
requires grad) is computed out of place from a copy of the tensor's old values, recorded, and
written back into the tensor's memory; the tensor's `grad_fn` becomes the new node, whose
`_replaced` is the tensor as it was. Nodes made earlier still see that earlier tensor (the
engine follows `_replaced` back), so their gradients go where they went before the change.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from .function import Function, _node_counter, inputs_then
from .grad_mode import _state
from .ops.arithmetic import Add, Div, Mul, Sub, scaled
from .ops.indexing import SetItem, describe_index
from .ops.pointwise import Clip, Where
from .tensor import Tensor, _normalize_index, _RetainGrad, install_methods

__all__ = ["bump", "check_saved", "inputs_then", "update", "version", "write_binary"]

_writes: dict[int, list[int]] = {}  # id(memory root) -> [version, seq of its latest write]
_latest = [-1]  # seq of the latest write anywhere
_lock = threading.Lock()


def _root(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory `array` looks at (itself, unless it is a view)."""
    while (base := array.base) is not None and type(base) is np.ndarray:
        array = base
    return array


_trace_hook: list[Callable[[np.ndarray], None] | None] = [None]  # autograd.compile's, while it traces


def bump(array: np.ndarray, times: int = 1) -> None:
    """Record a write into `array`'s memory: its version goes up by one (or `times`)."""
    if _trace_hook[0] is not None:  # a compiled program must bump it again on every call
        _trace_hook[0](array)
    while (base := array.base) is not None and type(base) is np.ndarray:
        array = base
    entry = _writes.get(id(array)) or _new_entry(array)
    entry[0] += times
    entry[1] = _latest[0] = next(_node_counter)


def _new_entry(root: np.ndarray) -> list[int]:
    key = id(root)
    with _lock:  # two threads writing a new array must share one entry
        entry = _writes.get(key)
        if entry is None:
            entry = _writes[key] = [0, 0]
            weakref.finalize(root, _writes.pop, key, None)  # forget it with the memory
    return entry


def version(array: np.ndarray) -> int:
    """How many times `array`'s memory has been written in place through the library."""
    entry = _writes.get(id(_root(array)))
    return 0 if entry is None else entry[0]


def check_saved(node: Function, output: Tensor) -> None:
    """Raise if an array `node` saved for backward was written in place after the node was made."""
    for value in node.saved_tensors:
        if isinstance(value, Tensor):  # a Function may save tensors
            value = value._data
        if not isinstance(value, np.ndarray):
            continue
        root = _root(value)
        entry = _writes.get(id(root))
        if entry is not None and entry[1] > node._seq:
            raise RuntimeError(
                f"one of the tensors {type(node).__name__} (node #{node._seq}) saved for backward, "
                f"{_which(node, output, root)}, has been modified by an in-place operation since it was saved "
                f"for backward (it is now at version {entry[0]}). Compute the gradient before changing it "
                "(e.g. optimizer.step() after backward()), or change a copy: x = x + y instead of x += y, "
                "or x.clone() first."
            )


def _which(node: Function, output: Tensor, root: np.ndarray) -> str:
    """Name the tensor whose memory is `root`, for the error message."""
    inputs = [(f"its input {i}", x) for i, x in enumerate(node._inputs)]
    inputs += [(f"its input {i}", x) for i, x in enumerate(inputs_then(node))]
    candidates = inputs + [("its output", output)]
    for label, x in candidates:
        if isinstance(x, Tensor) and _root(x._data) is root:
            named = f"{x.name}, " if x.name else ""
            return f"{label} ({named}shape {x.shape})"
    return f"an array of shape {root.shape}"


# ---------------------------------------------------------------------------- the shared in-place path


def write_binary(
    t: Tensor, op: str, write: Callable[[np.ndarray, Any], Any], record: type[Function], other: Any
) -> Tensor:
    """add_, sub_, mul_ and div_: numpy's in-place operator (`write`, e.g. ndarray.__isub__) when
    nothing is recorded -- the fast path optimiser steps take -- else the recorded op."""
    if _state.enabled and (t._requires_grad or (isinstance(other, Tensor) and other._requires_grad)):
        return update(t, op, (other,), None, record.apply)
    data = t._data
    try:
        result = write(data, other._data if isinstance(other, Tensor) else other)
    except (ValueError, TypeError) as err:
        raise _restated(op, t, (other,), err) from None
    if result is NotImplemented:  # an operand numpy declines to combine with arrays
        raise TypeError(f"{op}: cannot combine this {t.dtype} tensor with a {type(other).__name__}")
    bump(data)
    return t


def update(
    t: Tensor,
    op: str,
    others: tuple[Any, ...],
    write: Callable[[np.ndarray], Any] | None,
    record: Callable[..., Tensor],
) -> Tensor:
    """Change `t` in place and return it.

    When nothing needs recording, `write(t's array)` changes the memory directly. Otherwise
    `record(t_before, *others)` computes the new value out of place, as graph ops, and it is
    copied into `t`'s memory; `t`'s history then continues from that op.
    """
    recording = _state.enabled and (
        t._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others)
    )
    if not recording:
        try:
            write(t._data)
        except (ValueError, TypeError) as err:
            raise _restated(op, t, others, err) from None
        bump(t._data)
        return t
    if t.grad_fn is None and t._requires_grad:
        raise RuntimeError(
            f"{op}: a leaf Variable that requires grad is being used in an in-place operation "
            f"({t.name or 'shape ' + str(t.shape)}). Update parameters inside `with autograd.no_grad():` "
            "(as optimisers do), or compute a new tensor instead: x = x + y."
        )
    if t.grad_fn is not None and t._data.base is not None:
        raise RuntimeError(
            f"{op}: this tensor is a view of another tensor's memory (made by {type(t.grad_fn).__name__}); "
            "changing it in place while recording would change that tensor behind the graph's back. "
            "Make it a tensor of its own first (t = t.clone()), or use an out-of-place op."
        )
    before = Tensor._wrap(t._data.copy())
    before.grad_fn, before._requires_grad, before.name = t.grad_fn, t._requires_grad, t.name
    result = record(before, *(before if o is t else o for o in others))
    if result.shape != t.shape:
        raise ValueError(
            f"{op}: the result has shape {result.shape} but the tensor has shape {t.shape}; "
            "an in-place op cannot change the shape of the tensor it changes"
        )
    if not np.can_cast(result.dtype, t.dtype, "same_kind"):
        raise TypeError(_cast_message(op, result.dtype, t.dtype))
    np.copyto(t._data, result._data, casting="same_kind")
    bump(t._data)
    node = result.grad_fn
    node._replaced = before
    _move_retain_grad(t, t.grad_fn, node)
    t.grad_fn, t._requires_grad = node, True
    return t


def _move_retain_grad(t: Tensor, old: Function | None, new: Function) -> None:
    """retain_grad() follows the tensor to its new version, as in PyTorch; other hooks stay with the old one."""
    kept = [h for h in (old._hooks if old is not None else ()) if isinstance(h, _RetainGrad) and h.tensor() is t]
    if kept:
        old._hooks = [h for h in old._hooks if h not in kept]
        new._hooks = kept


def _restated(op: str, t: Tensor, others: tuple[Any, ...], err: Exception) -> Exception:
    """numpy's error from an in-place write, said in terms of the tensor and what to do."""
    text = str(err)
    if "read-only" in text:
        return ValueError(
            f"{op}: this tensor's memory is read-only (a broadcast view, e.g. from expand or broadcast_to); "
            "make a tensor of its own first with .clone()"
        )
    if "broadcast" in text:
        shapes = " and ".join(str(np.shape(o._data if isinstance(o, Tensor) else o)) for o in others)
        return ValueError(
            f"{op}: the other operand's shape {shapes} does not broadcast to the tensor's shape {t.shape}; "
            "an in-place op cannot change the shape of the tensor it changes"
        )
    values = [o._data if isinstance(o, Tensor) else o for o in others]
    kinds_known = all(isinstance(v, (np.ndarray, np.generic, int, float, bool)) for v in values)
    if "cast" in text and kinds_known:
        said = re.search(r"output from dtype\('(\w+)'\)", text)  # numpy names the result's dtype
        result = said.group(1) if said else np.result_type(t._data, *values)
        return TypeError(_cast_message(op, result, t.dtype))
    kinds = ", ".join(f"{type(v).__name__} of dtype {np.asarray(v).dtype}" for v in values)
    return TypeError(f"{op}: cannot combine this {t.dtype} tensor with {kinds} ({err})")


def _cast_message(op: str, result: Any, target: np.dtype) -> str:
    return (
        f"{op}: a {np.dtype(result)} result cannot be stored in place in a {target} tensor "
        "(PyTorch: result type can't be cast to the desired output type); use an out-of-place op, "
        "or a tensor of a float dtype (e.g. Tensor(t.data.astype(np.float64)))"
    )



# ---------------------------------------------------------------------------- Tensor's in-place methods


class TensorInPlace:
    """Tensor's in-place methods and `_version`, installed on Tensor below (see tensor.py's docstring).

    Each changes this tensor's memory and returns the tensor itself (so `p -= lr * g` keeps
    the Parameter). See the module docstring for the rules: versions, leaves, and recording."""

    @property
    def _version(self) -> int:
        """How many times this tensor's memory was changed in place (shared with its views and detach())."""
        return version(self._data)


    def add_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """self += alpha * other, in place."""
        return write_binary(self, "add_", np.ndarray.__iadd__, Add, other if alpha == 1 else scaled(other, alpha))

    def sub_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """self -= alpha * other, in place."""
        return write_binary(self, "sub_", np.ndarray.__isub__, Sub, other if alpha == 1 else scaled(other, alpha))

    def mul_(self, other: Any) -> Tensor:
        """self *= other, in place."""
        return write_binary(self, "mul_", np.ndarray.__imul__, Mul, other)

    def div_(self, other: Any) -> Tensor:
        """self /= other, in place."""
        return write_binary(self, "div_", np.ndarray.__itruediv__, Div, other)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def fill_(self, value: Any) -> Tensor:
        """Set every element to `value` (a number or a one-element tensor), in place."""
        if np.size(value._data if isinstance(value, Tensor) else value) != 1:
            raise ValueError(f"fill_ takes a number or a one-element tensor, got shape {np.shape(value)}")
        return self.copy_(value)

    def zero_(self) -> Tensor:
        """Set every element to 0, in place."""
        return self.copy_(0)

    def copy_(self, src: Any) -> Tensor:
        """Copy `src`'s values (broadcast to this tensor's shape, cast to its dtype) into this tensor."""
        raw = src._data if isinstance(src, Tensor) else src

        def write(a: np.ndarray) -> None:
            a[...] = raw

        return update(self, "copy_", (src,), write, lambda before, s: Where.apply(True, s, before))

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        """Limit values to [min, max] in place; either bound may be None."""
        if min is None and max is None:
            raise ValueError("clamp_: give at least one of min and max")
        def record(before: Tensor) -> Tensor:
            return Clip.apply(before, min=min, max=max)

        return update(self, "clamp_", (), lambda a: np.clip(a, min, max, out=a), record)

    clip_ = clamp_

    def __setitem__(self, index: Any, value: Any) -> None:
        """`t[index] = value`: in place; recorded in the graph when t or value requires grad."""
        index = _normalize_index(index)
        raw = value._data if isinstance(value, Tensor) else value

        def write(a: np.ndarray) -> None:
            a[index] = raw

        try:
            update(self, "__setitem__", (value,), write, lambda before, v: SetItem.apply(before, v, index=index))
        except IndexError as err:
            where = describe_index(index)
            raise IndexError(f"index {where} is invalid for a tensor of shape {self.shape}: {err}") from None


install_methods(TensorInPlace)
