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

import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .function import Function, _node_counter
from .grad_mode import _state

if TYPE_CHECKING:
    from .tensor import Tensor

_writes: dict[int, list[int]] = {}  # id(memory root) -> [version, seq of its latest write]
_latest = [-1]  # seq of the latest write anywhere
_lock = threading.Lock()


def _root(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory `array` looks at (itself, unless it is a view)."""
    while (base := array.base) is not None and type(base) is np.ndarray:
        array = base
    return array


def bump(array: np.ndarray) -> None:
    """Record a write into `array`'s memory: its version goes up by one."""
    while (base := array.base) is not None and type(base) is np.ndarray:
        array = base
    entry = _writes.get(id(array)) or _new_entry(array)
    entry[0] += 1
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


def inputs_then(node: Function) -> tuple[Any, ...]:
    """`node`'s inputs as they were when it was made: a tensor changed in place since then is
    replaced by the tensor it was (whose producer is the one `node` really consumed)."""
    inputs = node._inputs
    if inputs is None or not any(_changed_since(x, node) for x in inputs):
        return inputs
    then = []
    for x in inputs:
        while _changed_since(x, node):
            x = x.grad_fn._replaced
        then.append(x)
    return tuple(then)


def _changed_since(x: Any, node: Function) -> bool:
    return isinstance(x, Tensor) and x.grad_fn is not None and x.grad_fn._seq > node._seq


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
        return TypeError(_cast_message(op, np.result_type(t._data, *values), t.dtype))
    kinds = ", ".join(f"{type(v).__name__} of dtype {np.asarray(v).dtype}" for v in values)
    return TypeError(f"{op}: cannot combine this {t.dtype} tensor with {kinds} ({err})")


def _cast_message(op: str, result: Any, target: np.dtype) -> str:
    return (
        f"{op}: a {np.dtype(result)} result cannot be stored in place in a {target} tensor "
        "(PyTorch: result type can't be cast to the desired output type); use an out-of-place op, "
        "or a tensor of a float dtype (e.g. Tensor(t.data.astype(np.float64)))"
    )


from .tensor import Tensor, _RetainGrad  # noqa: E402  (tensor.py imports this module first)
