"""autograd.compile on Hypothesis-generated graphs: a random DAG of differentiable ops, compiled beside eager.

Each example draws 1-3 parameters and a short program over them: elementwise ops (exp, tanh,
sigmoid, +, -, *, division by a positive), reductions (sum over an axis, mean), matmul,
reshape and transpose, each reading any earlier value (so values are shared and some are dead).
The step computes loss = the last value's sum, calls backward, does `p -= lr * p.grad` under
no_grad and `p.grad = None`. Eager and compiled copies run STEPS times; the loss and every
parameter agree to float64 round-off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autograd as ag
from autograd.compiler import codegen
from tests.op_catalogue import array

# Traces steps with autograd.compile (the benchmark through its compiled rows): the mutation check's
# wrapped backward would run inside a trace, so it leaves these tests out.
pytestmark = pytest.mark.no_mutation

STEPS = 5
RTOL = 1e-12
LR = 0.1

# name -> (operand count, how to apply it to tensors with the drawn options)
OPS: dict[str, tuple[int, Callable[..., ag.Tensor]]] = {
    "exp": (1, lambda a, o: a.exp()),
    "tanh": (1, lambda a, o: a.tanh()),
    "sigmoid": (1, lambda a, o: a.sigmoid()),
    "neg": (1, lambda a, o: -a),
    "scale": (1, lambda a, o: a * o["c"]),
    "add": (2, lambda a, b, o: a + b),
    "sub": (2, lambda a, b, o: a - b),
    "mul": (2, lambda a, b, o: a * b),
    "div": (2, lambda a, b, o: a / (b * b + 0.5)),  # by a positive
    "sum": (1, lambda a, o: a.sum(axis=o["axis"], keepdims=o["keepdims"])),
    "mean": (1, lambda a, o: a.mean(axis=o["axis"], keepdims=o["keepdims"])),
    "matmul": (2, lambda a, b, o: a @ b),
    "reshape": (1, lambda a, o: a.reshape(o["shape"])),
    "transpose": (1, lambda a, o: a.T),
}


def evaluate(program: list[tuple[str, tuple[int, ...], dict[str, Any]]], params: list[ag.Tensor]) -> ag.Tensor:
    """Run the drawn program on the parameters; the last value is the result."""
    values = list(params)
    for name, operands, options in program:
        values.append(OPS[name][1](*(values[i] for i in operands), options))
    return values[-1]


def _broadcasts(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


@st.composite
def graphs(draw: Any) -> tuple[list[np.ndarray], list[tuple[str, tuple[int, ...], dict[str, Any]]]]:
    """(parameter values, program): the program is a list of (op, operand indices, options)."""
    count = draw(st.integers(1, 3))
    shapes = [draw(st.tuples(st.integers(1, 3), st.integers(1, 3))) for _ in range(count)]
    params = [draw(array(shape, -1.0, 1.0)) for shape in shapes]
    program: list[tuple[str, tuple[int, ...], dict[str, Any]]] = []
    for _ in range(draw(st.integers(1, 8))):
        name = draw(st.sampled_from(sorted(OPS)))
        a = draw(st.integers(0, len(shapes) - 1))
        sa = shapes[a]
        options: dict[str, Any] = {}
        if OPS[name][0] == 2:
            if name == "matmul":
                fits = [i for i, s in enumerate(shapes) if len(s) == 2 and len(sa) >= 1 and s[0] == sa[-1]]
            else:
                fits = [i for i, s in enumerate(shapes) if _broadcasts(sa, s)]
            if not fits:
                continue
            operands: tuple[int, ...] = (a, draw(st.sampled_from(fits)))
        else:
            operands = (a,)
        if name in ("sum", "mean"):
            axis = draw(st.sampled_from([None, *range(-len(sa), len(sa))]))
            options = {"axis": axis, "keepdims": draw(st.booleans())}
        elif name == "scale":
            options = {"c": draw(st.sampled_from([0.5, -2.0, 3.0]))}
        elif name == "reshape":
            size = int(np.prod(sa))
            options = {"shape": draw(st.sampled_from([(-1,), (size, 1), (1, size), tuple(reversed(sa))]))}
        elif name == "transpose" and len(sa) < 2:
            continue
        with ag.no_grad():  # the result's shape, from zeros
            shape = OPS[name][1](*(ag.Tensor(np.zeros(shapes[i])) for i in operands), options).shape
        program.append((name, operands, options))
        shapes.append(tuple(shape))
    assume(program)
    return params, program


def make_step(params: list[ag.Tensor], program: list) -> Callable[[], ag.Tensor]:
    def step() -> ag.Tensor:
        loss = evaluate(program, params).sum()
        loss.backward()
        with ag.no_grad():
            for p in params:
                if p.grad is not None:  # a parameter the program never read has none
                    p -= LR * p.grad
                    p.grad = None
        return loss

    return step


def close(a: Any, b: Any) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-300)


@settings(max_examples=25)
@given(graphs())
def test_random_graph_compiles_to_eager(graph: tuple[list[np.ndarray], list]) -> None:
    check_graph(graph)


@settings(max_examples=25)
@given(graphs())
def test_random_graph_with_every_result_in_a_shared_buffer(graph: tuple[list[np.ndarray], list]) -> None:
    """The same with buffers for results of any size: every elementwise result and matmul lives in an array
    shared by values that do not overlap in time (or written over its own input), and nothing changes."""
    with mock.patch.object(codegen, "MIN_BUFFER", 1):
        check_graph(graph)


def check_graph(graph: tuple[list[np.ndarray], list]) -> None:
    values, program = graph
    eager_params = [ag.Tensor(v.copy(), requires_grad=True) for v in values]
    params = [ag.Tensor(v.copy(), requires_grad=True) for v in values]
    eager_step, compiled = make_step(eager_params, program), ag.compile(make_step(params, program))
    for i in range(STEPS):
        expected = eager_step()
        if i == 0:
            assume(np.isfinite(expected.data))  # exp of exp... may overflow: not a test of the compiler
        close(expected.data, compiled().data)
        for p_eager, p in zip(eager_params, params):
            close(p_eager.data, p.data)
            assert p.grad is None and p_eager.grad is None
    assert sum(len(p) for p in compiled._programs.values()) == 1  # traced once, replayed four times
