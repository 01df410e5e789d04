"""`Function`: the base class of every differentiable operation, yours or built-in.

(The ops as plain functions, `ag.exp(x)` and the like, are in `autograd/op_functions.py`.)

Your op is a subclass with two static methods, written as in PyTorch:

    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    y = Square.apply(t)

As in PyTorch, `forward` receives the tensors themselves and runs under no_grad (so
`x.clamp(min=0)` or `np.exp(x)` just compute), and `backward` receives the gradient as a
tensor; either may return tensors or arrays. The built-in ops subclass `Op` instead, whose
forward and backward take plain ndarrays: the same code, without wrapping on the hot path.

`apply` unwraps the inputs, runs `forward` on a new instance of the subclass (the `ctx`)
and, when grad mode is on and some input requires grad, makes that instance the returned
tensor's `grad_fn`: it is both the `ctx` the two methods receive and the node in the graph.
A ctx may hold any attribute you set (`ctx.k = 2`), in every mode; the engine's own
bookkeeping uses underscore names (`_inputs`, `_seq`...), so nothing collides.

`backward` returns one gradient per positional input of `forward` (None where there is
none), each either of the input's shape or broadcast from it: the engine sums it back to
the input's shape and casts it to the input's dtype, so ops never repeat that bookkeeping.
Likewise, when numpy says forward's inputs do not broadcast, `apply` re-raises the error
with the op's name and every input's shape.

Higher derivatives come from the same `backward`. With `create_graph=True` it receives the
graph's own tensors (the gradient, and `saved_tensors` mapped back to the tensors of the
graph; an `Op` gets ndarrays otherwise), and because Tensor speaks numpy's protocols, the same
numpy code -- operators, methods such as `.sum()`, and ufuncs such as `np.exp` -- records
the backward pass as a graph. So write backward with operators, array methods and numpy
ufuncs, and pass everything it differentiates through `save_for_backward`; values kept as
other ctx attributes are treated as constants. Turning a graph tensor back into plain values
there (`np.asarray(x)`, `np.copy(x)`, `x.data`, `x.item()`) would silently drop a term of the
higher derivative, so under create_graph=True it raises, naming the op.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from .anomaly import check_forward, user_stack
from .errors import _BROADCAST_HINT, broadcast_error
from .grad_mode import _state as _grad_state
from .tensor import Tensor

_node_counter = itertools.count()
_NEEDS: dict[tuple[bool, ...], tuple[bool, ...]] = {}  # one needs_input_grad tuple per pattern
_NO_NEEDS = tuple((False,) * n for n in range(8))  # needs_input_grad when nothing is recorded
_new_tensor = object.__new__


class Function:
    """Base class for differentiable operations; see the module docstring for how to write one."""

    # The ctx API that forward and backward use (as in PyTorch). The engine's own bookkeeping
    # is in underscore names, so a Function may set any other attribute on ctx.
    needs_input_grad: tuple[bool, ...]
    saved_tensors: tuple[Any, ...] = ()

    # Set on every node by `apply`.
    _inputs: tuple[Any, ...] | None  # None once backward has freed the node
    _seq: int  # creation order: makes graph walks and pictures deterministic
    _attrs: Mapping[str, Any] = MappingProxyType({})  # keyword arguments of forward, if any
    _scope: Any = None  # the name_scope the node was created in (None outside any)
    _created_at: Any = None  # where in the user's code, recorded under detect_anomaly()
    _replaced: Any = None  # for an in-place op: the tensor as it was before (see inplace.py)

    # Hooks registered on the output tensor (a non-leaf): a list set on the node by Tensor.register_hook.
    _hooks: list[Callable[[Tensor], Any]] | tuple[()] = ()
    # False: forward and backward see Tensors, as in PyTorch. Op (the built-in ops) sets True: ndarrays.
    _array_io: ClassVar[bool] = False
    # This op's chain-rule step in symbols, shown by the backprop explorer; None for user Functions that don't set it.
    rule: ClassVar[str | None] = None

    @staticmethod
    def forward(ctx: Any, *inputs: Any, **attrs: Any) -> np.ndarray:
        raise NotImplementedError("a Function subclass must define forward(ctx, *inputs)")

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        raise NotImplementedError("a Function subclass must define backward(ctx, grad)")

    def save_for_backward(self, *values: Any) -> None:
        """Keep input or output arrays for `backward` (as `ctx.saved_tensors`)."""
        self.saved_tensors = values

    def name(self) -> str:
        """The op's name, as PyTorch's `grad_fn.name()` gives it."""
        return type(self).__name__

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """Where this node sends gradients, as PyTorch lists them: `(node, 0)` per input, an
        `AccumulateGrad` for a leaf that requires grad, `(None, 0)` for a constant."""
        edges = []
        for x, needed in zip(inputs_then(self) or (), self.needs_input_grad):
            if not needed or not isinstance(x, Tensor):
                edges.append((None, 0))
            else:
                edges.append((x.grad_fn if x.grad_fn is not None else AccumulateGrad(x), 0))
        return tuple(edges)

    def __repr__(self) -> str:
        state = " (freed)" if getattr(self, "_inputs", None) is None else ""
        return f"<{type(self).__name__} node #{getattr(self, '_seq', '?')}{state}>"

    @classmethod
    def apply(cls, *inputs: Any, **attrs: Any) -> Tensor:
        """Run the op on tensors (or plain values) and record it in the graph when needed."""
        # This runs once per op, so it is written for speed: no helper calls on the usual path.
        raw = []
        needs = []
        for x in inputs:
            if isinstance(x, Tensor):
                raw.append(x._data)
                needs.append(x._requires_grad)
            else:
                raw.append(x)
                needs.append(False)
        state = _grad_state
        node = cls.__new__(cls)  # the ctx forward sees, and the graph's node when recorded
        recording = True in needs and state.enabled
        if recording:
            needs = tuple(needs)
            node.needs_input_grad = _NEEDS.setdefault(needs, needs)  # shared: fewer objects for the GC to track
            node._inputs = inputs
            node._seq = next(_node_counter)
            if attrs:
                node._attrs = attrs
            if state.scope is not None:
                node._scope = state.scope
            if state.anomaly:
                node._created_at = user_stack()
        else:  # nothing to record: the ctx only lives through forward
            n = len(needs)
            node.needs_input_grad = _NO_NEEDS[n] if n < len(_NO_NEEDS) else (False,) * n
        try:
            if cls._array_io:
                out = cls.forward(node, *raw, **attrs) if attrs else cls.forward(node, *raw)
            else:
                out = _forward_on_tensors(cls, node, inputs, attrs)
        except ValueError as err:
            _explain(cls, raw, err)
            raise
        if type(out) is not np.ndarray:  # numpy gives scalars for 0-d results; keep saved refs in step
            scalar, out = out, np.asarray(out)
            if recording:
                node.saved_tensors = tuple(out if v is scalar else v for v in node.saved_tensors)
        if state.anomaly:
            check_forward(cls.__name__, out, node if recording else None)
        out_tensor = _new_tensor(Tensor)
        out_tensor._data = out
        out_tensor._grad = None
        out_tensor.name = None
        out_tensor._hooks = None
        out_tensor.grad_fn = node if recording else None
        out_tensor._requires_grad = recording
        return out_tensor


class Op(Function):
    """A built-in op: forward and backward work on plain ndarrays (and on the graph's tensors
    under create_graph), which saves wrapping every value on the hot path."""

    _array_io = True


def _forward_on_tensors(cls: type[Function], ctx: Function, inputs: tuple, attrs: Mapping[str, Any]) -> np.ndarray:
    """Run a user Function's forward as PyTorch does: on the tensors themselves, recording nothing."""
    enabled = _grad_state.enabled
    _grad_state.enabled = False
    try:
        out = cls.forward(ctx, *inputs, **attrs)
    finally:
        _grad_state.enabled = enabled
    if isinstance(out, Tensor):
        return out._data
    array = np.asarray(out)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{cls.__name__}.forward returned {type(out).__name__}; return a Tensor or a numeric array")
    return array


class AccumulateGrad:
    """What `next_functions` shows for a leaf that requires grad: its gradient is added into `variable.grad`."""

    __slots__ = ("variable",)

    def __init__(self, variable: Tensor):
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad for {self.variable.name or 'a leaf of shape ' + str(self.variable.shape)}>"


def _explain(cls: type, raw: list[Any], err: ValueError) -> None:
    """Restate numpy's broadcasting error with the op's name and the shapes; other errors pass through."""
    text = str(err)  # numpy's own words, or the numpy bridge's (a user's forward works on tensors)
    ours = text.startswith(cls.__name__.lower() + ":")  # already said by the op itself
    if len(raw) < 2 or ours or not ("could not be broadcast" in text or text.endswith(_BROADCAST_HINT)):
        return
    raise broadcast_error(cls.__name__.lower(), [np.shape(a) for a in raw]) from None



def inputs_then(node: Function) -> tuple[Any, ...]:
    """`node`'s inputs as they were when it was made: a tensor changed in place since then is
    replaced by the tensor it was (whose producer is the one `node` really consumed; see inplace.py)."""
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
