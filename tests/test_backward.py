"""backward(): gradient flow, accumulation, graph order and freeing, hooks, custom Functions, grad mode.

Every expected gradient is a closed form written out here in plain numpy.
"""

from __future__ import annotations

import gc
import sys
import threading
from typing import Any

import numpy as np
import pytest

import autograd as ag
from autograd import function as function_module

WAIT = 30  # seconds; only a guard against hanging if a thread dies, never a timing assertion


def leaf(values: Any) -> ag.Tensor:
    return ag.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def next_seq() -> int:
    """The creation number the next graph node would get (consumes one; the counter only grows)."""
    return next(function_module._node_counter)


# --------------------------------------------------------------------------- gradient flow


def test_backward_fills_the_gradient_of_every_leaf() -> None:
    x_np = np.array([0.5, -1.0, 2.0])
    w_np = np.array([[1.0, 2.0, 3.0]])
    x, w = leaf(x_np), leaf(w_np)
    loss = (w @ x).sigmoid().sum()
    loss.backward()
    s = sigmoid(w_np @ x_np)  # shape (1,)
    np.testing.assert_allclose(w.grad.data, (s * (1 - s))[:, None] * x_np[None, :], rtol=1e-13)
    np.testing.assert_allclose(x.grad.data, (s * (1 - s)) * w_np[0], rtol=1e-13)
    assert loss.grad is None  # the root is not a leaf


def test_backward_takes_an_upstream_gradient_for_a_non_scalar_output() -> None:
    x_np = np.array([0.3, -1.2, 2.5])
    v = np.array([1.0, -2.0, 0.5])
    x = leaf(x_np)
    x.sin().backward(v)
    np.testing.assert_allclose(x.grad.data, v * np.cos(x_np), rtol=1e-14)


def test_leaf_gradients_accumulate_across_backward_calls() -> None:
    x_np = np.array([1.0, -2.0, 3.0])
    x = leaf(x_np)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2 * x_np)
    (x * x).sum().backward()  # a fresh graph: its gradient is added to the one already there
    np.testing.assert_array_equal(x.grad.data, 4 * x_np)
    (x**3).sum().backward()
    np.testing.assert_allclose(x.grad.data, 4 * x_np + 3 * x_np**2, rtol=1e-15)
    x.grad = None  # the documented way to reset
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2 * x_np)


def test_a_tensor_used_on_several_paths_gets_the_sum_of_their_gradients() -> None:
    x_np = np.array([1.5, -0.5, 2.0])
    x = leaf(x_np)
    (x * x + x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2 * x_np + 3)


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda x: x * x, lambda x: 2 * x),
        (lambda x: x + x, lambda x: np.full_like(x, 2.0)),
        (lambda x: x - x, lambda x: np.zeros_like(x)),
        (lambda x: x @ x, lambda x: 2 * x),
        (lambda x: ag.maximum(x, x * 2), lambda x: np.where(x > 0, 2.0, 1.0)),
    ],
    ids=["x*x", "x+x", "x-x", "x@x", "maximum(x,2x)"],
)
def test_a_tensor_used_twice_in_one_op_gets_both_gradients(build: Any, expected: Any) -> None:
    x_np = np.array([1.5, -0.5, 2.0])
    x = leaf(x_np)
    build(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, expected(x_np))


def test_diamond_graph_sums_both_branches_and_visits_the_shared_node_once() -> None:
    x_np = np.array([-0.7, 0.1, 0.9])
    x = leaf(x_np)
    a = x.exp()
    seen = []
    a.register_hook(lambda g: seen.append(g.data.copy()))
    out = (a.sin() * a.cos()).sum()  # sin(a) cos(a) = sin(2a) / 2
    out.backward()
    a_np = np.exp(x_np)
    # The hook fires once, with the gradient of both branches already summed: d out / d a = cos(2a).
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], np.cos(2 * a_np), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(x.grad.data, np.cos(2 * a_np) * a_np, rtol=1e-12, atol=1e-15)


def test_gradient_of_a_broadcast_operand_is_summed_over_the_broadcast_axes() -> None:
    m_np = np.arange(6.0).reshape(2, 3) - 2
    x_np = np.array([0.5, -1.0, 2.0])
    m, x = leaf(m_np), leaf(x_np)
    (m * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, m_np.sum(axis=0))
    np.testing.assert_array_equal(m.grad.data, np.broadcast_to(x_np, (2, 3)))


def test_leaves_that_do_not_require_grad_get_no_gradient() -> None:
    c = ag.tensor([1.0, 2.0])
    x = leaf([3.0, 4.0])
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad.data, [1.0, 2.0])


# --------------------------------------------------------------------------- non-leaf gradients


def test_non_leaf_grad_stays_none_by_default() -> None:
    x_np = np.array([1.0, -2.0])
    x = leaf(x_np)
    y = x * 2
    assert not y.is_leaf and x.is_leaf
    (y * y).sum().backward()
    assert y.grad is None
    np.testing.assert_array_equal(x.grad.data, 8 * x_np)


def test_retain_grad_keeps_the_gradient_of_a_non_leaf() -> None:
    x_np = np.array([1.0, -2.0])
    x = leaf(x_np)
    y = x * 2
    y.retain_grad()
    z = (y * y).sum()
    z.backward(retain_graph=True)
    np.testing.assert_array_equal(y.grad.data, 2 * (2 * x_np))
    z.backward()  # accumulates, like a leaf's gradient
    np.testing.assert_array_equal(y.grad.data, 2 * 2 * (2 * x_np))
    np.testing.assert_array_equal(x.grad.data, 2 * 8 * x_np)


def test_retain_grad_on_a_leaf_changes_nothing() -> None:
    x = leaf([1.0, 2.0])
    x.retain_grad()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


# --------------------------------------------------------------------------- no aliasing


def _assert_independent(*grads: ag.Tensor) -> None:
    """No two of these gradients share memory, and writing one leaves the others as they were."""
    for i, g in enumerate(grads):
        for h in grads[i + 1 :]:
            assert not np.shares_memory(g.data, h.data)
    for g in grads:
        others = [h.data.copy() for h in grads if h is not g]
        g.data[...] = 123.0
        for h, before in zip([h for h in grads if h is not g], others):
            np.testing.assert_array_equal(h.data, before)


def test_gradients_of_the_two_addends_do_not_alias() -> None:
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    c = ag.tensor([5.0, 6.0])
    ((a + b) * c).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [5.0, 6.0])
    np.testing.assert_array_equal(b.grad.data, [5.0, 6.0])
    assert a.grad.data.flags.writeable and b.grad.data.flags.writeable
    _assert_independent(a.grad, b.grad)


def test_gradients_of_a_scalar_sum_do_not_alias() -> None:
    a, b = leaf(1.0), leaf(2.0)
    (a + b).backward()
    assert a.grad.item() == 1.0 and b.grad.item() == 1.0
    _assert_independent(a.grad, b.grad)


def test_gradients_reached_through_a_sum_are_writeable() -> None:
    # Sum's backward broadcasts (a read-only view); the leaves must still own writeable arrays.
    a, b = leaf([[1.0, 2.0], [3.0, 4.0]]), leaf([[5.0, 6.0], [7.0, 8.0]])
    (a + b).sum().backward()
    assert a.grad.data.flags.writeable and b.grad.data.flags.writeable
    _assert_independent(a.grad, b.grad)
    np.testing.assert_array_equal(a.grad.data, 123.0)  # written by _assert_independent
    np.testing.assert_array_equal(b.grad.data, 123.0)


def test_leaf_gradients_do_not_alias_the_upstream_gradient() -> None:
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    g = np.array([0.5, -1.5])
    (a + b).backward(g)
    assert not np.shares_memory(a.grad.data, g) and not np.shares_memory(b.grad.data, g)
    g[...] = 99.0
    np.testing.assert_array_equal(a.grad.data, [0.5, -1.5])
    np.testing.assert_array_equal(b.grad.data, [0.5, -1.5])
    _assert_independent(a.grad, b.grad)


def test_backward_from_a_leaf_copies_the_upstream_gradient() -> None:
    a = leaf([1.0, 2.0])
    g = np.array([0.5, -1.5])
    a.backward(g)
    assert not np.shares_memory(a.grad.data, g)
    g[...] = 99.0
    np.testing.assert_array_equal(a.grad.data, [0.5, -1.5])


def test_retained_non_leaf_gradient_does_not_alias_a_leaf_gradient() -> None:
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    c = ag.tensor([5.0, 6.0])
    y = a + b
    y.retain_grad()
    (y * c).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [5.0, 6.0])
    np.testing.assert_array_equal(a.grad.data, [5.0, 6.0])
    _assert_independent(y.grad, a.grad, b.grad)


def test_a_gradient_kept_by_a_hook_is_not_changed_by_writing_a_leaf_gradient() -> None:
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    c = ag.tensor([5.0, 6.0])
    y = a + b
    kept = []
    y.register_hook(kept.append)
    (y * c).sum().backward()
    a.grad.data[...] = 0.0  # e.g. an optimizer zeroing gradients in place
    b.grad.data[...] = 0.0
    np.testing.assert_array_equal(kept[0].data, [5.0, 6.0])


# --------------------------------------------------------------------------- order and depth


def test_a_chain_of_100000_ops_backpropagates_without_recursion() -> None:
    limit = sys.getrecursionlimit()
    assert limit <= 10_000
    x = leaf(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    y.backward()
    assert sys.getrecursionlimit() == limit
    # d y / d x is the product of the 100000 factors; rounding in that product stays far below 1e-9.
    np.testing.assert_allclose(x.grad.item(), 1.0000001**100_000, rtol=1e-9)


def test_a_retained_chain_of_100000_ops_runs_twice_and_is_released() -> None:
    limit = sys.getrecursionlimit()
    x = leaf([1.0, 2.0])
    y = x
    for _ in range(100_000):
        y = y + 0.5
    loss = y.sum()
    loss.backward(retain_graph=True)
    loss.backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
    np.testing.assert_array_equal(y.data, [50_001.0, 50_002.0])
    del loss, y  # dropping a deep graph that was never freed must not recurse either
    assert sys.getrecursionlimit() == limit


def _graph(x: ag.Tensor) -> ag.Tensor:
    a = x.exp()
    b = a * x
    c = a.sin() + b.tanh()
    d = (c * b).sum() + a.sum()
    return d


def _nodes(root: ag.Tensor) -> list[Any]:
    """The nodes of root's graph in a fixed structural order (depth first, inputs in order)."""
    out, seen, stack = [], set(), [root.grad_fn]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        out.append(node)
        for t in reversed(node._inputs):
            if isinstance(t, ag.Tensor) and t.grad_fn is not None:
                stack.append(t.grad_fn)
    return out


def test_node_creation_order_is_topological_and_the_same_for_the_same_graph() -> None:
    x = leaf([0.1, -0.4, 0.8])
    first, second = _nodes(_graph(x)), _nodes(_graph(x))
    assert [n.name() for n in first] == [n.name() for n in second]
    assert len(first) == 9  # exp, mul, sin, tanh, add, mul, sum, sum, add
    assert np.argsort([n._seq for n in first]).tolist() == np.argsort([n._seq for n in second]).tolist()
    assert min(n._seq for n in second) > max(n._seq for n in first)  # a creation counter
    for node in first + second:  # every node is created after the nodes of its inputs
        for t in node._inputs:
            if isinstance(t, ag.Tensor) and t.grad_fn is not None:
                assert t.grad_fn._seq < node._seq


def test_gradients_arrive_in_the_same_topological_order_every_time() -> None:
    def run() -> list[str]:
        order: list[str] = []
        x = leaf([0.1, -0.4, 0.8])
        a = x.exp()
        b = a * x
        c = a.sin() + b.tanh()
        d = (c * b).sum() + a.sum()
        for name, t in [("x", x), ("a", a), ("b", b), ("c", c), ("d", d)]:
            t.register_hook(lambda g, name=name: order.append(name))
        d.backward()
        return order

    order = run()
    assert order == run()
    assert sorted(order) == ["a", "b", "c", "d", "x"]
    # each tensor's gradient is complete (so its hook fires) only after every consumer's
    assert order.index("d") < order.index("c") < order.index("b") < order.index("a") < order.index("x")


# --------------------------------------------------------------------------- freeing the graph


def test_second_backward_through_a_freed_graph_raises_naming_retain_graph() -> None:
    x_np = np.array([1.0, 2.0])
    x = leaf(x_np)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()
    np.testing.assert_array_equal(x.grad.data, 2 * x_np)  # the failed call added nothing


def test_a_later_graph_sharing_a_freed_part_raises() -> None:
    x = leaf([1.0, 2.0])
    h = x.exp()
    h.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (h * 2).sum().backward()


def test_retain_graph_allows_a_second_backward_that_accumulates() -> None:
    x_np = np.array([1.0, -2.0])
    x = leaf(x_np)
    y = (x.sin() * x).sum()
    y.backward(retain_graph=True)
    first = np.sin(x_np) + x_np * np.cos(x_np)
    np.testing.assert_allclose(x.grad.data, first, rtol=1e-14)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first, rtol=1e-14)
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()  # the second call did not retain it


def test_grad_frees_the_graph_unless_retain_graph_is_given() -> None:
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    (g1,) = ag.grad(y, x, retain_graph=True)
    (g2,) = ag.grad(y, x)
    np.testing.assert_array_equal(g1.data, [2.0, 4.0])
    np.testing.assert_array_equal(g2.data, [2.0, 4.0])
    with pytest.raises(RuntimeError, match="retain_graph"):
        ag.grad(y, x)


# --------------------------------------------------------------------------- hooks


def test_leaf_hook_observes_the_total_gradient() -> None:
    x_np = np.array([1.0, -2.0, 0.5])
    x = leaf(x_np)
    seen = []
    x.register_hook(lambda g: seen.append(g.data.copy()))
    (x * x * 3 + x).sum().backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], 6 * x_np + 1)
    np.testing.assert_array_equal(x.grad.data, 6 * x_np + 1)


def test_non_leaf_hook_observes_the_gradient_arriving_at_it() -> None:
    x_np = np.array([1.0, -2.0, 0.5])
    x = leaf(x_np)
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(g.data.copy()))
    (h**2).sum().backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], 2 * (2 * x_np))
    np.testing.assert_array_equal(x.grad.data, 8 * x_np)


def test_hook_on_the_root_sees_the_seed_gradient() -> None:
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    seen = []
    y.register_hook(lambda g: seen.append(g.data.copy()))
    y.backward()
    assert len(seen) == 1 and seen[0].shape == () and seen[0] == 1.0


def test_non_leaf_hook_returning_a_tensor_replaces_the_gradient_upstream() -> None:
    x_np = np.array([1.0, -2.0, 0.5])
    x = leaf(x_np)
    h = x * 2
    h.register_hook(lambda g: g * 10)
    (h**2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 10 * 8 * x_np)


def test_leaf_hook_returning_a_tensor_replaces_what_is_accumulated() -> None:
    x_np = np.array([1.0, -2.0, 0.5])
    x = leaf(x_np)
    x.register_hook(lambda g: -g)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, -2 * x_np)


def test_hook_returning_none_leaves_the_gradient_unchanged() -> None:
    x_np = np.array([1.0, -2.0])
    x = leaf(x_np)
    h = x.exp()
    calls = []
    h.register_hook(lambda g: calls.append(1))
    x.register_hook(lambda g: calls.append(2))
    h.sum().backward()
    assert calls == [1, 2]
    np.testing.assert_allclose(x.grad.data, np.exp(x_np), rtol=1e-15)


def test_hooks_run_in_registration_order_each_seeing_the_previous_result() -> None:
    x = leaf([1.0, 2.0])
    h = x * 1.0
    seen = []

    def double(g: ag.Tensor) -> ag.Tensor:
        seen.append(("double", g.data.copy()))
        return g * 2

    def add_one(g: ag.Tensor) -> ag.Tensor:
        seen.append(("add_one", g.data.copy()))
        return g + 1

    h.register_hook(double)
    h.register_hook(add_one)
    (h * 3).sum().backward()
    assert [s[0] for s in seen] == ["double", "add_one"]
    np.testing.assert_array_equal(seen[0][1], [3.0, 3.0])
    np.testing.assert_array_equal(seen[1][1], [6.0, 6.0])
    np.testing.assert_array_equal(x.grad.data, [7.0, 7.0])


def test_removing_a_hook_through_its_handle() -> None:
    x_np = np.array([1.0, -2.0])
    x = leaf(x_np)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1) or g * 2)
    (x * x).sum().backward()
    assert calls == [1]
    np.testing.assert_array_equal(x.grad.data, 4 * x_np)
    handle.remove()
    x.grad = None
    (x * x).sum().backward()
    assert calls == [1]
    np.testing.assert_array_equal(x.grad.data, 2 * x_np)
    handle.remove()  # removing twice is harmless


def test_removing_a_non_leaf_hook_through_its_handle() -> None:
    x = leaf([1.0, -2.0])
    h = x * 1.0
    handle = h.register_hook(lambda g: g * 100)
    handle.remove()
    (h * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


# --------------------------------------------------------------------------- custom Functions


class MulAdd(ag.Function):
    """a * b + a, written by hand."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b + a

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * (b + 1), grad * a


def test_custom_function_forward_and_backward() -> None:
    a_np, b_np = np.array([1.0, -2.0, 0.5]), np.array([3.0, 0.25, -1.0])
    a, b = leaf(a_np), leaf(b_np)
    out = MulAdd.apply(a, b)
    assert isinstance(out.grad_fn, MulAdd) and out.requires_grad
    np.testing.assert_array_equal(out.data, a_np * b_np + a_np)
    (out * out).sum().backward()
    np.testing.assert_allclose(a.grad.data, 2 * out.data * (b_np + 1), rtol=1e-15)
    np.testing.assert_allclose(b.grad.data, 2 * out.data * a_np, rtol=1e-15)
    assert ag.gradcheck(lambda a, b: MulAdd.apply(a, b), [a, b])


def test_custom_function_sees_which_inputs_need_a_gradient() -> None:
    recorded = []

    class Probe(ag.Function):
        @staticmethod
        def forward(ctx, a, b, c):
            return a * b * c

        @staticmethod
        def backward(ctx, grad):
            recorded.append(ctx.needs_input_grad)
            return grad * 2, grad * 3, grad * 4

    a, b = leaf([1.0, 2.0]), ag.tensor([3.0, 4.0])
    Probe.apply(a, b, 5.0).sum().backward()
    assert recorded == [(True, False, False)]
    np.testing.assert_array_equal(a.grad.data, [2.0, 2.0])
    assert b.grad is None  # a gradient returned for an input that does not need one is dropped


def test_custom_function_saved_tensors_are_what_forward_saved() -> None:
    got = []

    class Keep(ag.Function):
        @staticmethod
        def forward(ctx, a):
            out = a * 2
            ctx.save_for_backward(a, out)
            return out

        @staticmethod
        def backward(ctx, grad):
            got.append(ctx.saved_tensors)
            return grad * 2

    a = leaf([1.0, 2.0])
    y = Keep.apply(a)
    y.sum().backward()
    ((saved_a, saved_out),) = got
    assert saved_a is a and saved_out.data is y.data  # the tensors themselves, as in PyTorch


def test_custom_function_under_no_grad_records_nothing() -> None:
    contexts = []

    class Spy(ag.Function):
        @staticmethod
        def forward(ctx, a):
            contexts.append(ctx)
            ctx.save_for_backward(a)
            return a + 1

        @staticmethod
        def backward(ctx, grad):
            return grad

    a = leaf([1.0])
    with ag.no_grad():
        y = Spy.apply(a)
    assert y.grad_fn is None and not y.requires_grad
    assert contexts[0].saved_tensors == (a.data,)  # a ctx that remembers, though nothing is recorded
    assert contexts[0].needs_input_grad == (False,)
    z = Spy.apply(a)
    assert isinstance(contexts[1], Spy) and z.grad_fn is contexts[1]


# --------------------------------------------------------------------------- grad mode


def test_no_grad_context_records_nothing_and_restores_the_mode() -> None:
    x = leaf([1.0, 2.0])
    assert ag.is_grad_enabled()
    with ag.no_grad():
        assert not ag.is_grad_enabled()
        y = (x * 2).exp().sum()
    assert ag.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad and y.is_leaf
    np.testing.assert_allclose(y.item(), np.exp(2.0) + np.exp(4.0), rtol=1e-15)


def test_no_grad_creates_no_graph_nodes_at_all() -> None:
    x, w = leaf([[1.0, 2.0]]), leaf([[0.5], [-1.0]])
    start = next_seq()
    with ag.no_grad():
        outs = [x @ w, (x * 2).tanh(), x.sum(), x[0, 1], ag.stack([x, x]), np.exp(x), x.T.softmax()]
    after = next_seq()
    assert after == start + 1  # no node took a creation number in between
    assert all(o.grad_fn is None and not o.requires_grad for o in outs)
    y = x * 2  # outside: recorded again
    assert y.grad_fn is not None and y.grad_fn._seq > after


def test_no_grad_creates_no_function_objects() -> None:
    def count() -> int:
        return sum(isinstance(o, ag.Function) for o in gc.get_objects())

    x = leaf([1.0, 2.0, 3.0])
    gc.collect()
    gc.disable()  # so no collection in between changes the count
    try:
        before = count()
        with ag.no_grad():
            kept = [x * 2, x.exp(), (x + 1).sum(), x.reshape(3, 1)]
        assert count() == before
        kept.append(x * 2)
        assert count() == before + 1  # the count does see a recorded node
    finally:
        gc.enable()


def test_no_grad_and_enable_grad_as_decorators() -> None:
    x = leaf([1.0, 2.0])

    @ag.no_grad()
    def frozen(t: ag.Tensor) -> tuple[ag.Tensor, bool]:
        return t * 2, ag.is_grad_enabled()

    @ag.enable_grad()
    def recorded(t: ag.Tensor) -> tuple[ag.Tensor, bool]:
        return t * 2, ag.is_grad_enabled()

    y, mode = frozen(x)
    assert not mode and y.grad_fn is None
    assert ag.is_grad_enabled()
    assert frozen.__name__ == "frozen"
    with ag.no_grad():
        z, mode = recorded(x)
        assert not ag.is_grad_enabled()  # restored to the surrounding mode
    assert mode and z.grad_fn is not None
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_enable_grad_nested_in_no_grad_records_again() -> None:
    x = leaf([1.0, 2.0])
    with ag.no_grad():
        a = x * 2
        with ag.enable_grad():
            assert ag.is_grad_enabled()
            b = x * 3
            with ag.no_grad():
                c = x * 4
                assert not ag.is_grad_enabled()
            assert ag.is_grad_enabled()
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    assert a.grad_fn is None and b.grad_fn is not None and c.grad_fn is None
    b.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_grad_mode_is_restored_when_the_block_or_function_raises() -> None:
    with pytest.raises(ValueError), ag.no_grad():
        raise ValueError("inside")
    assert ag.is_grad_enabled()

    @ag.no_grad()
    def fails() -> None:
        raise ValueError("inside")

    with pytest.raises(ValueError):
        fails()
    assert ag.is_grad_enabled()


def test_set_grad_enabled() -> None:
    x = leaf([1.0])
    ag.set_grad_enabled(False)
    try:
        assert not ag.is_grad_enabled()
        y = x * 2
    finally:
        ag.set_grad_enabled(True)
    assert ag.is_grad_enabled() and y.grad_fn is None


def test_backward_works_inside_no_grad() -> None:
    x_np = np.array([0.5, -1.0])
    x = leaf(x_np)
    y = (x * x).sum()
    with ag.no_grad():
        y.backward()
        assert not ag.is_grad_enabled()
    np.testing.assert_array_equal(x.grad.data, 2 * x_np)
    assert x.grad.grad_fn is None and not x.grad.requires_grad


def test_no_grad_in_another_thread_does_not_affect_this_one() -> None:
    x = leaf([1.0, 2.0])
    inside, release = threading.Event(), threading.Event()
    worker: dict[str, Any] = {}

    def run() -> None:
        with ag.no_grad():
            worker["enabled"] = ag.is_grad_enabled()
            worker["recorded"] = (x * 2).grad_fn is not None
            inside.set()
            worker["released"] = release.wait(WAIT)
            worker["recorded_late"] = (x * 2).grad_fn is not None
        worker["after"] = ag.is_grad_enabled()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert inside.wait(WAIT)
        # The worker is inside no_grad right now; this thread still records.
        assert ag.is_grad_enabled()
        y = x * 2
        assert y.grad_fn is not None
    finally:
        release.set()
        thread.join(WAIT)
    assert not thread.is_alive()
    assert worker == {"enabled": False, "recorded": False, "released": True, "recorded_late": False, "after": True}
    assert ag.is_grad_enabled()


def test_no_grad_in_this_thread_does_not_affect_another() -> None:
    x = leaf([1.0, 2.0])
    barrier = threading.Barrier(2, timeout=WAIT)
    worker: dict[str, Any] = {}

    def run() -> None:
        barrier.wait()  # 1: the main thread is inside no_grad from here ...
        worker["enabled"] = ag.is_grad_enabled()
        worker["recorded"] = (x * 2).grad_fn is not None
        barrier.wait()  # 2: ... until here

    thread = threading.Thread(target=run)
    thread.start()
    try:
        with ag.no_grad():
            barrier.wait()
            barrier.wait()
            assert not ag.is_grad_enabled()
            assert (x * 2).grad_fn is None
    finally:
        thread.join(WAIT)
    assert not thread.is_alive()
    assert worker == {"enabled": True, "recorded": True}
