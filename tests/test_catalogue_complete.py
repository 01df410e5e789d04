"""Every differentiable op in `autograd` and `nn` has a property test: each Function subclass
must appear in the graph (or the recorded gradient graph) of some entry in tests/op_catalogue.py."""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag
from autograd.function import Function
from tests.functions import library_functions
from tests.op_catalogue import CATALOGUE
from tests.test_ops import example

# Ops checked by dedicated unit tests instead, each for a stated reason.
EXEMPT = {
    # a dtype conversion: central differences cannot see through float32 rounding; its gradient
    # (passed through and cast back) is checked in tests/test_porting_tensor.py::test_conversions
    "Cast",
    # the grad_fn of a compiled step's outputs: its backward only raises, saying the replay kept no graph
    # (tests/test_compile.py::test_returned_tensors_require_grad_as_in_eager_and_backward_says_why_not)
    "CompiledOutput",
}


def _nodes(t: Any) -> set[type]:
    """The op classes in the graph that produced `t` (walked with next_functions)."""
    seen: set[type] = set()
    stack = [t.grad_fn] if isinstance(t, ag.Tensor) and t.grad_fn is not None else []
    visited: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in visited or not isinstance(node, Function):
            continue
        visited.add(id(node))
        seen.add(type(node))
        stack.extend(parent for parent, _ in node.next_functions if parent is not None)
    return seen


def _exercised() -> set[type]:
    """Op classes reached by an example of each catalogue entry, forward and recorded backward
    (with an upstream gradient that requires grad, as second derivatives have)."""
    seen: set[type] = set()
    for op in CATALOGUE:
        inputs, kwargs = example(op)
        out = op.fn(*inputs, **kwargs)
        seen |= _nodes(out)
        wrt = [x for x in inputs if isinstance(x, ag.Tensor)]
        upstream = ag.Tensor(np.ones(out.shape), requires_grad=True)
        for g in ag.grad(out, wrt, upstream, create_graph=True, allow_unused=True):
            seen |= _nodes(g)
    return seen


def test_every_library_op_has_a_property_test() -> None:
    library = set(library_functions())
    assert len(library) > 40  # the walk really found the ops
    missing = {cls.__qualname__ for cls in library - _exercised()} - EXEMPT
    assert not missing, f"ops with no entry in tests/op_catalogue.py: {sorted(missing)}"
    assert EXEMPT <= {cls.__qualname__ for cls in library}  # no stale exemptions
