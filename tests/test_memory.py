"""Memory: backward frees the graph, the engine makes no reference cycles, training does not grow.

The cyclic garbage collector is switched off while these tests run: anything freed is then
freed by reference counting alone, which proves no cycle was involved, and a collection
afterwards (saving what it finds) shows any cycle of engine objects left behind.
"""

from __future__ import annotations

import contextlib
import gc
import tracemalloc
import types
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import autograd as ag


@contextlib.contextmanager
def cyclic_gc_off() -> Iterator[None]:
    """Collect what is already garbage, then keep the cyclic collector off until the block ends.

    Used inside the test body: pytest keeps a failed test's traceback (sys.last_traceback)
    until the next test's call phase starts, so a fixture would collect too early.
    """
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def engine_objects_in_cycles() -> list[Any]:
    """Run a full collection and return the engine's objects among the cyclic garbage it found.

    Only engine objects count (tensors, graph nodes, arrays, autograd's functions and closures):
    garbage left by the test runner itself, e.g. after another test failed, is not ours.
    """
    flags = gc.get_debug()
    gc.set_debug(flags | gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        return [o for o in gc.garbage if _is_engine_object(o)]
    finally:
        gc.set_debug(flags)
        gc.garbage.clear()


def _is_engine_object(obj: Any) -> bool:
    if isinstance(obj, (ag.Tensor, ag.Function, np.ndarray)):
        return True
    if isinstance(obj, types.FunctionType):
        return (obj.__module__ or "").startswith("autograd")
    return (type(obj).__module__ or "").startswith("autograd")


def leaf(values: Any) -> ag.Tensor:
    return ag.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def _model(w: ag.Tensor, x: ag.Tensor, with_hooks: bool = False) -> tuple[ag.Tensor, Any, Any, Any]:
    """loss of a small net, and weak references to an intermediate tensor, its data and a saved array."""
    hidden = (w @ x).tanh()
    if with_hooks:
        hidden.retain_grad()
        hidden.register_hook(lambda g: g * 1.0)
        hidden.register_hook(lambda g: None)
    scaled = hidden.exp()  # Exp saves its output array
    loss = (scaled * hidden).sum()
    return loss, weakref.ref(hidden), weakref.ref(hidden.data), weakref.ref(scaled.data)


@pytest.mark.parametrize("with_hooks", [False, True], ids=["plain", "retain_grad+hooks"])
def test_intermediates_die_when_the_output_is_dropped_after_backward(with_hooks: bool) -> None:
    with cyclic_gc_off():
        w = leaf(np.arange(6.0).reshape(2, 3) / 10)
        if with_hooks:
            w.register_hook(lambda g: g)
        loss, hidden, hidden_data, saved = _model(w, ag.tensor([1.0, -1.0, 0.5]), with_hooks)
        assert hidden() is not None and hidden_data() is not None and saved() is not None
        loss.backward()
        del loss
        assert hidden() is None and hidden_data() is None and saved() is None
        assert w.grad is not None
        assert engine_objects_in_cycles() == []


def test_backward_frees_saved_values_while_the_output_is_still_alive() -> None:
    with cyclic_gc_off():
        w = leaf(np.arange(6.0).reshape(2, 3) / 10)
        loss, hidden, hidden_data, saved = _model(w, ag.tensor([1.0, -1.0, 0.5]))
        loss.backward()
        assert loss.grad_fn is not None  # still holding the output ...
        assert hidden() is None and hidden_data() is None and saved() is None  # ... but not what it saved
        del loss
        assert engine_objects_in_cycles() == []


def test_retain_graph_keeps_intermediates_until_the_output_is_dropped() -> None:
    with cyclic_gc_off():
        w = leaf(np.arange(6.0).reshape(2, 3) / 10)
        loss, hidden, hidden_data, saved = _model(w, ag.tensor([1.0, -1.0, 0.5]), with_hooks=True)
        loss.backward(retain_graph=True)
        assert hidden() is not None and saved() is not None
        loss.backward(retain_graph=True)
        del loss
        assert hidden() is None and hidden_data() is None and saved() is None
        assert engine_objects_in_cycles() == []


def test_a_graph_dropped_without_backward_is_freed_by_reference_counting() -> None:
    with cyclic_gc_off():
        w = leaf(np.arange(6.0).reshape(2, 3) / 10)
        loss, hidden, hidden_data, saved = _model(w, ag.tensor([1.0, -1.0, 0.5]), with_hooks=True)
        del loss
        assert hidden() is None and hidden_data() is None and saved() is None
        assert engine_objects_in_cycles() == []


def test_autograd_grad_and_create_graph_leave_no_cycles() -> None:
    with cyclic_gc_off():
        x = leaf([0.5, -1.0, 2.0])
        y = (x.tanh() * x).sum()
        (g,) = ag.grad(y, x, create_graph=True)
        (h,) = ag.grad(g.sum(), x)
        first_order = weakref.ref(g)
        del y, g
        assert first_order() is None
        assert h.grad_fn is None
        del h
        assert engine_objects_in_cycles() == []


def test_deleting_a_tensor_with_a_retained_grad_leaves_no_cycle() -> None:
    with cyclic_gc_off():
        x = leaf([0.5, -1.0])
        y = x * 3
        y.retain_grad()
        ref = weakref.ref(y)
        (y * y).sum().backward()
        assert y.grad is not None
        del y
        assert ref() is None
        assert engine_objects_in_cycles() == []


def _fill_free_lists() -> None:
    """Fill CPython's free lists of tuples, lists, dicts and floats to their caps.

    Objects freed while their free list has room are kept there, still counted by tracemalloc,
    so free lists emptied by gc.collect() fill up over the first ~1000 training steps (numpy's
    shape tuples, mostly: 2000 of each size) and look like growth that is not the engine's.
    """
    junk: list[Any] = [tuple(range(n)) for n in range(1, 21) for _ in range(2_100)]
    junk += [[i] for i in range(200)] + [{"key": i} for i in range(200)] + [i + 0.5 for i in range(200)]
    del junk


def test_training_loop_memory_stays_flat() -> None:
    with cyclic_gc_off():
        rng = np.random.default_rng(0)
        x_np = rng.standard_normal((32, 4))
        y_np = np.sin(x_np.sum(axis=1, keepdims=True))
        w1 = leaf(rng.standard_normal((4, 16)) * 0.5)
        b1 = leaf(np.zeros(16))
        w2 = leaf(rng.standard_normal((16, 1)) * 0.5)
        b2 = leaf(np.zeros(1))
        params = [w1, b1, w2, b2]
        inputs, targets = ag.tensor(x_np), ag.tensor(y_np)

        def step() -> float:
            hidden = (inputs @ w1 + b1).tanh()
            loss = (((hidden @ w2 + b2) - targets) ** 2).mean()
            for p in params:
                p.grad = None
            loss.backward()
            for p in params:
                p.data -= 0.1 * p.grad.data
            return loss.item()

        _fill_free_lists()
        already_tracing = tracemalloc.is_tracing()  # e.g. under python -X tracemalloc
        tracemalloc.start()
        try:
            first = step()
            for _ in range(49):
                step()
            at_50 = tracemalloc.get_traced_memory()[0]
            for _ in range(250):
                last = step()
            at_300 = tracemalloc.get_traced_memory()[0]
        finally:
            if not already_tracing:
                tracemalloc.stop()
        # A graph left alive per step would be several KB a step (MBs over 250 steps); one leaked
        # tensor, array or graph node per step (100 B or more) is 25 KB or more. What remains is
        # under 1 KB on CPython 3.11.
        assert at_300 - at_50 < 16_000, f"memory grew by {at_300 - at_50} bytes from step 50 to step 300"
        assert last < first / 10  # and it did train
        assert all(p.grad is not None and p.grad.grad_fn is None for p in params)
        assert engine_objects_in_cycles() == []
