"""`Function`: the base class of every differentiable operation, built-in or yours.

An op is a subclass with two static methods that work on plain arrays:

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

`apply` unwraps the inputs, runs `forward` and, when grad mode is on and some input
requires grad, makes the returned tensor's `grad_fn` a new instance of the subclass: that
instance is both the `ctx` the two methods receive and the node in the graph.

`backward` returns one gradient per positional input of `forward` (None where there is
none), each either of the input's shape or broadcast from it: the engine sums it back to
the input's shape and casts it to the input's dtype, so ops never repeat that bookkeeping.

Higher derivatives come from the same `backward`. Normally it receives ndarrays. With
`create_graph=True` it receives Tensors instead (the gradient, and `saved_tensors` mapped
back to the graph's own tensors), and because Tensor speaks numpy's protocols, the same
numpy code -- operators, methods such as `.sum()`, and ufuncs such as `np.exp` -- records
the backward pass as a graph. So write backward with operators, array methods and numpy
ufuncs, and pass everything it differentiates through `save_for_backward`; values kept as
other ctx attributes are treated as constants.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .grad_mode import _state as _grad_state

if TYPE_CHECKING:
    from .tensor import Tensor

_node_counter = itertools.count()


class Function:
    """Base class for differentiable operations; see the module docstring for how to write one."""

    # Set on every node by `apply`.
    inputs: tuple[Any, ...] | None
    needs_input_grad: tuple[bool, ...]
    saved_tensors: tuple[Any, ...] = ()
    attrs: dict[str, Any]
    seq: int  # creation order: makes graph walks and pictures deterministic

    scope: Any  # the name_scope the node was created in (None outside any)
    created_at: Any = None  # where in the user's code, recorded under detect_anomaly()

    # Hooks registered on the output tensor (a non-leaf); see Tensor.register_hook.
    _hooks: ClassVar[tuple] = ()

    @staticmethod
    def forward(ctx: Any, *inputs: Any, **attrs: Any) -> np.ndarray:
        raise NotImplementedError("a Function subclass must define forward(ctx, *inputs)")

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        raise NotImplementedError("a Function subclass must define backward(ctx, grad)")

    def save_for_backward(self, *values: Any) -> None:
        """Keep input or output arrays for `backward` (as `ctx.saved_tensors`)."""
        self.saved_tensors = values

    @property
    def name(self) -> str:
        """The op's name, as shown in reprs, errors and graph pictures."""
        return type(self).__name__

    def __repr__(self) -> str:
        state = " (freed)" if self.inputs is None else ""
        return f"<{self.name} node #{self.seq}{state}>"

    @classmethod
    def apply(cls, *inputs: Any, **attrs: Any) -> Tensor:
        """Run the op on tensors (or plain values) and record it in the graph when needed."""
        raw = []
        needs = []
        for x in inputs:
            if isinstance(x, Tensor):
                raw.append(x.data)
                needs.append(x._requires_grad)
            else:
                raw.append(x)
                needs.append(False)
        state = _grad_state
        if not (True in needs and state.enabled):
            out = cls.forward(_NO_GRAPH, *raw, **attrs)
            if state.anomaly:
                check_forward(cls.__name__, out, None)
            return Tensor._wrap(out)
        node = cls.__new__(cls)
        node.inputs = inputs
        node.needs_input_grad = tuple(needs)
        node.attrs = attrs
        node.seq = next(_node_counter)
        node.scope = state.scope
        if state.anomaly:
            node.created_at = user_stack()
        out = cls.forward(node, *raw, **attrs)
        if type(out) is not np.ndarray:  # numpy gives scalars for 0-d results; keep saved refs in step
            scalar, out = out, np.asarray(out)
            node.saved_tensors = tuple(out if v is scalar else v for v in node.saved_tensors)
        if state.anomaly:
            check_forward(node.name, out, node)
        return Tensor._wrap(out, node)

    def _free(self) -> None:
        """Drop the inputs and saved arrays once backward is done with them."""
        self.inputs = None
        self.saved_tensors = ()


class _NoGraphContext:
    """The `ctx` that forward receives when nothing is recorded: it remembers nothing."""

    __slots__ = ()

    def save_for_backward(self, *values: Any) -> None:
        pass

    def __setattr__(self, name: str, value: Any) -> None:
        pass


_NO_GRAPH = _NoGraphContext()

from .anomaly import check_forward, user_stack  # noqa: E402
from .tensor import Tensor  # noqa: E402  (tensor.py imports this module first)
