"""The backward pass: walk the graph from the outputs to the leaves, applying the chain rule.

Order: every node gets a creation number (`seq`) and an op is always created after its
inputs, so processing the reachable nodes from the highest number down is a topological
order. Collecting them uses an explicit stack, never recursion, so graphs of any depth
work, and the order is the same on every run.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from operator import attrgetter
from typing import Any

import numpy as np

from .anomaly import check_backward
from .function import Function, inputs_then
from .grad_mode import _state, set_grad_enabled
from .inplace import _latest, check_saved
from .tensor import Tensor, install_methods

_leaf_lock = threading.Lock()  # backward passes in several threads may add into one leaf's .grad

_FREED = (
    "this graph was already freed by an earlier backward(), which releases the values it saved. "
    "Pass retain_graph=True to the first backward() (or autograd.grad) to go through it again."
)


def backward(
    roots: Sequence[Tensor],
    grads: Sequence[Any] | None = None,
    retain_graph: bool = False,
    create_graph: bool = False,
) -> None:
    """Accumulate gradients of `roots` (weighted by `grads`) into `.grad` of the leaves."""
    seeds = [_seed(r, None if grads is None else grads[i], create_graph) for i, r in enumerate(roots)]
    with set_grad_enabled(create_graph):  # record the backward pass only when asked to
        _run(list(roots), seeds, retain_graph or create_graph, create_graph, accumulate=True, exposed=set())


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of `outputs` with respect to `inputs`, returned (not stored in `.grad`).

    >>> x = Tensor(3.0, requires_grad=True)
    >>> (dx,) = grad(x ** 2, x, create_graph=True)   # 2x = 6
    >>> (ddx,) = grad(dx, x)                          # 2
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad, so it has no gradient to return")
    seeds = [_seed(r, g, create_graph) for r, g in zip(outputs, grad_outputs)]
    retain = create_graph if retain_graph is None else retain_graph
    exposed: set[int] = set()
    with _captured(inputs) as found, set_grad_enabled(create_graph):  # hooks catch non-leaf inputs
        found.update(_run(outputs, seeds, retain, create_graph, accumulate=False, exposed=exposed))
    result: list[Tensor | None] = []
    for i, x in enumerate(inputs):
        g = found.get(x)
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {x.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        if g is not None:  # what grad() returns must not alias anything else
            if create_graph:
                g = _clone(g)
            else:
                g = Tensor._wrap(_own(g._data if isinstance(g, Tensor) else g, exposed))
        result.append(g)
    return tuple(result)


@contextmanager
def _captured(tensors: Sequence[Tensor]) -> Iterator[dict[Tensor, Any]]:
    """While open, record the gradient arriving at each non-leaf tensor (after its own hooks)."""
    found: dict[Tensor, Any] = {}
    installed = []
    for x in tensors:
        node = x.grad_fn
        if node is not None:

            def keep(g: Tensor, x: Tensor = x) -> None:
                found[x] = g

            if not isinstance(node._hooks, list):
                node._hooks = []
            node._hooks.append(keep)
            installed.append((node, keep))
    try:
        yield found
    finally:
        for node, keep in installed:
            node._hooks.remove(keep)


def _seed(root: Tensor, grad: Any, create_graph: bool) -> Any:
    """The gradient that starts the pass at `root`, checked against its shape."""
    if not isinstance(root, Tensor):
        raise TypeError(f"backward needs Tensors, got {type(root).__name__}")
    if not root.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad, so there is no graph to differentiate. "
            "Create the inputs you want gradients for with requires_grad=True, outside no_grad()."
        )
    if grad is None:
        if root._data.size != 1:
            raise RuntimeError(
                f"backward: grad can be left out only for a one-element tensor, this one has shape {root.shape}. "
                f"Pass grad= with that shape (e.g. np.ones({root.shape})), or reduce the tensor first (.sum())."
            )
        ones = np.ones(root.shape, dtype=root.dtype)
        return Tensor._wrap(ones) if create_graph else ones
    if np.shape(grad) != root.shape:
        raise ValueError(
            f"backward: grad has shape {np.shape(grad)} but the tensor has shape {root.shape}; they must match"
        )
    if create_graph:
        return grad if isinstance(grad, Tensor) else Tensor(np.asarray(grad, dtype=root.dtype))
    array = grad._data if isinstance(grad, Tensor) else grad
    return np.array(array, dtype=root.dtype)  # a copy: leaf grads never alias the caller's array


def collect(roots: Sequence[Tensor]) -> tuple[list[Function], dict[Function, Tensor]]:
    """The nodes reachable from `roots`, outputs first, and the tensor each node produced."""
    produced: dict[Function, Tensor] = {}
    stack = []
    for r in roots:
        if r.grad_fn is not None and r.grad_fn not in produced:
            produced[r.grad_fn] = r
            stack.append(r.grad_fn)
    latest = _latest[0]
    while stack:
        node = stack.pop()
        inputs = node._inputs if node._seq > latest else inputs_then(node)
        if inputs is None:
            raise RuntimeError(f"backward through {type(node).__name__}: {_FREED}")
        for x in inputs:
            if isinstance(x, Tensor) and x.grad_fn is not None and x.grad_fn not in produced:
                produced[x.grad_fn] = x
                stack.append(x.grad_fn)
    order = sorted(produced, key=attrgetter("_seq"), reverse=True)
    return order, produced


def _add(buffer: dict, key: Any, g: Any) -> None:
    previous = buffer.get(key)
    buffer[key] = g if previous is None else previous + g


def _run(
    roots: list[Tensor], seeds: list[Any], retain_graph: bool, create_graph: bool, accumulate: bool,
    exposed: set[int],
) -> dict[Tensor, Any]:  # fmt: skip
    """The pass itself: the chain rule, node by node, newest first. Returns the gradient that
    reached each leaf (after its hooks), which `accumulate` also adds into `.grad`. `exposed`
    collects the ids of arrays that hooks or a leaf already hold (see _own). The caller sets
    grad mode: on only when the backward pass is itself recorded (create_graph)."""
    node_grads, leaf_grads = _seeded(roots, seeds)
    order, produced = collect(roots)

    anomaly = _state.anomaly
    latest = _latest[0]  # nodes older than the latest in-place write are checked for it
    pop = node_grads.pop
    # The loop runs once per node, so the chain rule step is written out here, not called.
    for node in order:
        g = pop(node, None)
        if g is not None:
            inputs = node._inputs
            if node._seq < latest:
                check_saved(node, produced[node])
                inputs = inputs_then(node)
            if node._hooks:
                g = _call_hooks(node._hooks, g, create_graph, exposed)
            if create_graph:
                input_grads = _backward_recorded(node, g, produced[node])
            else:
                input_grads = node.backward(node, g if node._array_io else Tensor._wrap(g))
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            if len(input_grads) != len(inputs):
                raise _count_error(node, len(input_grads), len(inputs))
            for i, (x, gx, needed) in enumerate(zip(inputs, input_grads, node.needs_input_grad)):
                if gx is None or not needed:
                    continue
                data = x._data
                if not (type(gx) is np.ndarray and gx.shape == data.shape and gx.dtype == data.dtype):
                    gx = _fit(gx, x, node, i, create_graph)  # the usual case above needs no call
                if anomaly:
                    check_backward(node, i, gx, produced[node])
                producer = x.grad_fn
                buffer, key = (node_grads, producer) if producer is not None else (leaf_grads, x)
                previous = buffer.get(key)
                buffer[key] = gx if previous is None else previous + gx  # never in place: gx may be shared
        if not retain_graph:
            node._inputs = None  # free what this node held, as soon as it is done
            node.saved_tensors = ()
    for leaf, g in leaf_grads.items():
        if leaf._hooks:
            leaf_grads[leaf] = _call_hooks(leaf._hooks, g, create_graph, exposed)
    if accumulate:
        _accumulate(leaf_grads, create_graph, exposed)
    return leaf_grads


def _seeded(roots: list[Tensor], seeds: list[Any]) -> tuple[dict[Function, Any], dict[Tensor, Any]]:
    """The gradient arriving at each node's output, and at each leaf, as the pass starts."""
    node_grads: dict[Function, Any] = {}
    leaf_grads: dict[Tensor, Any] = {}  # in order of arrival
    for root, seed in zip(roots, seeds):
        _add(node_grads if root.grad_fn is not None else leaf_grads, root.grad_fn or root, seed)
    return node_grads, leaf_grads


def _count_error(node: Function, returned: int, expected: int) -> RuntimeError:
    return RuntimeError(
        f"{type(node).__name__}.backward returned {returned} gradients, but forward took {expected} inputs; "
        "return one per input (None where there is none)"
    )


def _accumulate(leaf_grads: dict[Tensor, Any], create_graph: bool, exposed: set[int]) -> None:
    """Add each gradient into its leaf's `.grad`; the lock makes concurrent passes into one leaf add up exactly."""
    with _leaf_lock:
        for leaf, g in leaf_grads.items():
            if not leaf._requires_grad:
                continue
            previous = leaf._grad
            if create_graph:
                leaf._grad = _clone(g) if previous is None else previous + g
            elif previous is None:
                leaf._grad = Tensor._wrap(_own(g, exposed))
            else:
                leaf._grad = Tensor._wrap(previous._data + g)


def _backward_recorded(node: Function, g: Tensor, output: Tensor) -> Any:
    """Run `node.backward` on graph tensors (create_graph), so the backward pass is itself recorded.

    While it runs, turning a graph tensor into plain values (np.asarray, .data, .item()) raises:
    that would silently drop a term of the higher derivative.
    """
    arrays = node.saved_tensors
    node.saved_tensors = _saved_as_tensors(node, output)
    outer, _state.backward_of = _state.backward_of, node
    with _leaf_lock:
        Tensor._recording_backwards += 1
    try:
        return node.backward(node, g)
    finally:
        node.saved_tensors = arrays
        _state.backward_of = outer
        with _leaf_lock:
            Tensor._recording_backwards -= 1


def _saved_as_tensors(node: Function, output: Tensor) -> tuple[Any, ...]:
    """Map each saved array back to the graph tensor it is the data of (for create_graph)."""
    mapped = []
    inputs = inputs_then(node)
    for value in node.saved_tensors:
        data = value._data if isinstance(value, Tensor) else value  # a Function may save tensors
        if data is output._data:
            mapped.append(output)
            continue
        for x in inputs:
            if isinstance(x, Tensor) and x._data is data:
                mapped.append(x)
                break
        else:
            mapped.append(value)  # a constant
    return tuple(mapped)


def broadcast_axes(grad_shape: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """The axes of a gradient of `grad_shape`, broadcast from `shape`, to sum over to get back to `shape`:
    the leading axes `shape` lacks, and those where `shape` has 1. Raises ValueError if `shape` has more axes."""
    lead = len(grad_shape) - len(shape)
    if lead < 0:
        raise ValueError(f"cannot sum a gradient of shape {grad_shape} to the larger shape {shape}")
    return tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad_shape[lead + i] != 1)


def sum_to(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum a broadcast gradient back to `shape` (the inverse of numpy broadcasting)."""
    axes = broadcast_axes(g.shape, shape)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if g.ndim != len(shape):
        g = g.reshape(shape)
    return g


def _fit(g: Any, x: Tensor, node: Function, i: int, create_graph: bool) -> Any:
    """Bring a gradient to its input's shape (summing broadcast axes) and dtype."""
    if create_graph and not isinstance(g, Tensor):
        g = Tensor._wrap(g)
    elif not create_graph and not isinstance(g, np.ndarray):
        g = np.asarray(g._data if isinstance(g, Tensor) else g)
    if g.shape != x.shape:
        returned = g.shape
        try:
            g = sum_to(g, x.shape)
        except ValueError:
            g = None
        if g is None or g.shape != x.shape:
            raise RuntimeError(
                f"{type(node).__name__}.backward returned a gradient of shape {returned} for input {i} "
                f"of shape {x.shape}; it must have the input's shape or one that broadcasts from it"
            )
    if not create_graph and g.dtype != x.dtype:
        g = g.astype(x.dtype)
    return g


def _call_hooks(hooks: list, g: Any, create_graph: bool, exposed: set[int]) -> Any:
    """Let each hook see (and maybe replace) a gradient; what they saw counts as given out."""
    t = g if create_graph else Tensor._wrap(g)
    for hook in list(hooks):
        exposed.add(id(t._data))
        replaced = hook(t)
        if replaced is not None:
            t = _hook_result(hook, replaced, t)
    exposed.add(id(t._data))
    return t if create_graph else t._data


def _hook_result(hook: Any, replaced: Any, g: Tensor) -> Tensor:
    """A hook's returned gradient, checked: the gradient's shape, and cast to its dtype."""
    name = getattr(hook, "__qualname__", None) or type(hook).__name__
    if not isinstance(replaced, Tensor):
        try:
            replaced = Tensor(replaced)
        except TypeError:
            raise TypeError(
                f"hook {name} returned a {type(replaced).__name__}; return a Tensor or array of the gradient's shape "
                "(or None to keep the gradient)"
            ) from None
    if replaced.shape != g.shape:
        raise RuntimeError(
            f"hook {name} has changed the size of value: it returned a gradient of shape {replaced.shape} "
            f"for a gradient of shape {g.shape}; return one of the same shape"
        )
    if replaced.dtype != g.dtype:
        if replaced.grad_fn is not None:
            raise TypeError(
                f"hook {name} returned a gradient of dtype {replaced.dtype} for a gradient of dtype {g.dtype}; "
                "return one of the same dtype"
            )
        replaced = Tensor._wrap(replaced._data.astype(g.dtype))  # e.g. an int array: the gradient's float dtype
    return replaced


def _own(g: np.ndarray, exposed: set[int]) -> np.ndarray:
    """`g`, or a copy of it if it might be shared (a view, read-only, or already given out).

    Gradients flow through ops by reference (Add hands the same array to both inputs), so
    whatever ends up in a `.grad` or with the caller is made unique here, once.
    """
    if g.base is not None or not g.flags.writeable or id(g) in exposed:
        g = g.copy()
    exposed.add(id(g))
    return g


def _clone(g: Tensor) -> Tensor:
    """A copy of a graph gradient that stays in the graph (create_graph), so no two .grads alias."""
    return g.clone() if isinstance(g, Tensor) else Tensor._wrap(np.array(g, copy=True))


class TensorBackward:
    """`Tensor.backward`, installed on Tensor below (see tensor.py's docstring)."""

    def backward(self, grad: Any = None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad.

        `grad` is the gradient flowing into this tensor; it may be left out only for a
        one-element tensor (it is then 1). The graph is freed afterwards unless
        `retain_graph=True`; `create_graph=True` records the backward pass itself, so the
        resulting `.grad` tensors can be differentiated again.
        """
        backward([self], None if grad is None else [grad], retain_graph, create_graph)


install_methods(TensorBackward)
