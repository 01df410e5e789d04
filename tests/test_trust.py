"""Right or a clear error: in-place semantics and version counters, `.grad` and hooks, iteration
and formatting, custom Functions' ctx, conversions that would cut a higher derivative, threads."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

import autograd as ag
import nn

LEAF_IN_PLACE = "a leaf Variable that requires grad is being used in an in-place operation"
MODIFIED = "modified by an in-place operation since it was saved for backward"


def leaf(values: Any, name: str | None = None) -> ag.Tensor:
    return ag.tensor(values, requires_grad=True, name=name)


# --------------------------------------------------------------------------- in place, under no_grad


def test_the_hand_written_update_changes_the_model_and_keeps_its_parameters() -> None:
    model = nn.Linear(3, 1, generator=np.random.default_rng(0))
    x, t = np.ones((4, 3)), np.zeros((4, 1))
    params = list(model.parameters())
    losses = []
    for _ in range(5):
        loss = nn.functional.mse_loss(model(x), t)
        losses.append(loss.item())
        model.zero_grad()
        loss.backward()
        with ag.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    assert list(model.parameters()) == params  # the same objects, still registered
    assert all(isinstance(p, nn.Parameter) for p in model.parameters())
    assert losses[-1] < losses[0] * 0.5


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda t: t.add_(2.0), [3.0, 4.0, 5.0]),
        (lambda t: t.add_(ag.tensor([1.0, 1.0, 1.0]), alpha=-2), [-1.0, 0.0, 1.0]),
        (lambda t: t.sub_(1.0), [0.0, 1.0, 2.0]),
        (lambda t: t.mul_(np.array([2.0, 0.0, -1.0])), [2.0, 0.0, -3.0]),
        (lambda t: t.div_(2.0), [0.5, 1.0, 1.5]),
        (lambda t: t.zero_(), [0.0, 0.0, 0.0]),
        (lambda t: t.fill_(7.0), [7.0, 7.0, 7.0]),
        (lambda t: t.copy_(np.array([9.0, 8.0, 7.0])), [9.0, 8.0, 7.0]),
        (lambda t: t.clamp_(min=1.5, max=2.5), [1.5, 2.0, 2.5]),
        (lambda t: t.clamp_(max=2.0), [1.0, 2.0, 2.0]),
    ],
)
def test_in_place_methods_change_the_memory_and_return_the_tensor(call: Any, expected: list[float]) -> None:
    t = leaf([1.0, 2.0, 3.0])
    alias = t.data
    with ag.no_grad():
        result = call(t)
    assert result is t
    assert alias.tolist() == expected  # the same memory, changed
    assert t._version == 1


def test_in_place_operators_keep_the_object() -> None:
    t = ag.tensor([1.0, 2.0, 4.0])
    same = t
    t += 1
    t -= np.array([1.0, 1.0, 1.0])
    t *= 3
    t /= 2
    assert t is same
    assert t.tolist() == [1.5, 3.0, 6.0]
    assert t._version == 4


def test_setitem_writes_in_place() -> None:
    t = ag.tensor([[1.0, -2.0], [-3.0, 4.0]])
    t[t < 0] = 0
    t[0] = ag.tensor([5.0, 6.0])
    t[1, 1] = 9
    assert t.tolist() == [[5.0, 6.0], [0.0, 9.0]]
    assert t._version == 3


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.add_(1.0),
        lambda t: t.sub_(1.0),
        lambda t: t.mul_(2.0),
        lambda t: t.div_(2.0),
        lambda t: t.zero_(),
        lambda t: t.fill_(1.0),
        lambda t: t.copy_(np.zeros(2)),
        lambda t: t.clamp_(min=0.0),
        lambda t: t.__iadd__(1.0),
        lambda t: t.__setitem__(0, 5.0),
    ],
)
def test_in_place_on_a_leaf_that_requires_grad_raises_outside_no_grad(change: Any) -> None:
    w = leaf([1.0, 2.0], name="w")
    with pytest.raises(RuntimeError, match=LEAF_IN_PLACE):
        change(w)
    assert w.tolist() == [1.0, 2.0] and w._version == 0


def test_in_place_errors_say_what_went_wrong() -> None:
    t = ag.tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"shape \(2, 3\) does not broadcast to the tensor's shape \(3,\)"):
        t += np.ones((2, 3))
    counts = ag.Tensor(np.array([1, 2, 3]))
    with pytest.raises(TypeError, match="float64 result cannot be stored in place in a int64 tensor"):
        counts += 0.5
    with pytest.raises(TypeError, match=r"div_: a float64 result cannot be stored in place in a int64 tensor"):
        counts /= 2  # true division of ints is float, as numpy and PyTorch say
    wide = ag.tensor([1.0, 2.0]).expand(3, 2)
    with pytest.raises(ValueError, match=r"read-only.*clone"):
        wide.add_(1.0)
    assert t.tolist() == [1.0, 2.0, 3.0] and counts.tolist() == [1, 2, 3]


# --------------------------------------------------------------------------- in place, recorded


def test_setitem_on_a_non_leaf_differentiates_to_both_sides() -> None:
    a, y = leaf([1.0, 2.0, 3.0]), leaf(4.0)
    c = np.array([10.0, 20.0, 30.0])
    x = a * 2
    x[0] = y * 3
    assert x.tolist() == [12.0, 4.0, 6.0] and not x.is_leaf
    (x * c).sum().backward()
    # x = [3y, 2 a1, 2 a2]: d/da = [0, 2 c1, 2 c2], d/dy = 3 c0
    assert a.grad.tolist() == [0.0, 40.0, 60.0]
    assert y.grad.item() == 30.0


def test_a_recorded_in_place_product_gives_both_gradients() -> None:
    a, b = leaf([1.0, 2.0]), leaf([3.0, 5.0])
    x = a + 0
    x.mul_(b)
    x.add_(x)  # x = 2 a b
    x.sum().backward()
    assert a.grad.tolist() == [6.0, 10.0]  # 2 b
    assert b.grad.tolist() == [2.0, 4.0]  # 2 a


def test_an_in_place_change_on_a_constant_makes_it_part_of_the_graph() -> None:
    total = ag.tensor([0.0, 0.0])
    w = leaf([2.0, 3.0])
    total += w * w
    assert total.requires_grad and not total.is_leaf
    total.sum().backward()
    assert w.grad.tolist() == [4.0, 6.0]


def test_ops_recorded_before_an_in_place_change_keep_their_gradients() -> None:
    a = leaf([1.0, 2.0, 3.0])
    x = a * 1
    z = x + 2  # consumed x before the change; Add saves nothing, so this stays valid
    x.mul_(3)
    (z + x).sum().backward()
    # z = a + 2 contributes 1, x = 3a contributes 3
    assert a.grad.tolist() == [4.0, 4.0, 4.0]


def test_a_view_of_another_tensor_cannot_be_changed_while_recording() -> None:
    a = leaf([1.0, 2.0, 3.0])
    x = a * 1
    row = x[0:2]
    with pytest.raises(RuntimeError, match=r"view of another tensor.*clone"):
        row.mul_(10)
    own = row.clone()
    own.mul_(10)
    own.sum().backward()
    assert a.grad.tolist() == [10.0, 10.0, 0.0]


# --------------------------------------------------------------------------- version counters


def test_versions_are_shared_by_detach_and_views() -> None:
    w = ag.tensor([1.0, 2.0, 3.0])
    alias, view = w.detach(), w[1:]
    assert w._version == alias._version == view._version == 0
    alias.add_(1.0)
    view[0] = 0.0
    assert w._version == alias._version == view._version == 2
    assert w.tolist() == [2.0, 0.0, 4.0]


def test_an_optimiser_step_between_backwards_is_detected() -> None:
    model = nn.Linear(2, 1, generator=np.random.default_rng(0))
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    loss = model(np.ones((3, 2))).sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match=f"Linear.*weight.*{MODIFIED}"):
        loss.backward()


def test_a_write_through_a_detach_alias_is_detected() -> None:
    w = leaf([1.0, 2.0], name="w")
    loss = (w * w).sum()
    alias = w.detach()
    alias[0] = 5.0
    with pytest.raises(RuntimeError, match=rf"Mul.*input 0 \(w, shape \(2,\)\).*{MODIFIED}.*version 1"):
        loss.backward()


def test_a_saved_output_changed_in_place_is_detected() -> None:
    x = leaf([0.0, 1.0])
    y = x.sigmoid()  # saves its output for backward
    with ag.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match=f"Sigmoid.*its output.*{MODIFIED}"):
        y.sum().backward()


def test_load_state_dict_and_init_count_as_writes() -> None:
    model = nn.Linear(2, 1)
    loss = model(np.ones((1, 2))).sum()
    model.load_state_dict({"weight": np.zeros((1, 2)), "bias": np.zeros(1)})
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()
    loss = model(np.ones((1, 2))).sum()
    nn.init.ones_(model.weight)
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


def test_changes_after_backward_and_before_the_next_forward_are_fine() -> None:
    w = leaf([1.0, -1.0])
    opt = nn.optim.SGD([w], lr=0.25)
    for _ in range(3):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    assert w.tolist() == [0.125, -0.125]  # each step multiplies w by 1 - 2 * 0.25


# --------------------------------------------------------------------------- .grad and hooks


def test_assigning_grad_is_checked() -> None:
    w = leaf(np.zeros(3, dtype=np.float32))
    with pytest.raises(RuntimeError, match=r"assigned grad has shape \(2,\) but the tensor has shape \(3,\)"):
        w.grad = np.ones(2)
    with pytest.raises(TypeError, match="must be a Tensor, a numpy array or None, got list"):
        w.grad = [1.0, 2.0, 3.0]
    with pytest.raises(TypeError, match="floating-point dtype, got int64"):
        w.grad = np.array([1, 2, 3])
    w.grad = np.array([1.0, 2.0, 3.0])  # float64: kept in the tensor's dtype, as backward would
    assert isinstance(w.grad, ag.Tensor) and w.grad.dtype == np.float32 and w.grad.tolist() == [1.0, 2.0, 3.0]
    w.grad = None
    assert w.grad is None


def test_a_hook_that_changes_the_shape_is_an_error() -> None:
    x = leaf([1.0, 2.0, 3.0])

    def shrink(grad: ag.Tensor) -> ag.Tensor:
        return grad[:2]

    x.register_hook(shrink)
    with pytest.raises(RuntimeError, match=r"hook .*shrink has changed the size of value.*\(2,\).*\(3,\)"):
        (x * 2).sum().backward()


def test_an_int_array_from_a_hook_is_cast() -> None:
    x = leaf([1.0, 2.0])
    x.register_hook(lambda grad: np.array([3, 4]))
    (x * 2).sum().backward()
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [3.0, 4.0]


def test_retain_grad_twice_keeps_one_gradient() -> None:
    x = leaf([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    h.retain_grad()
    assert h.retains_grad and not x.retains_grad
    (h * h).sum().backward()
    assert h.grad.tolist() == [6.0, 12.0]  # 2 h, once


# --------------------------------------------------------------------------- iteration and conversions


def test_a_0d_tensor_cannot_be_iterated() -> None:
    t = ag.tensor(3.0)
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(t)
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        sum(t)
    rows = list(ag.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]


def test_iterating_a_tensor_keeps_the_graph() -> None:
    x = leaf([1.0, 2.0, 3.0])
    total = sum(row * row for row in x)
    total.backward()
    assert x.grad.tolist() == [2.0, 4.0, 6.0]


def test_python_number_protocols() -> None:
    loss = ag.tensor(0.123456)
    assert f"{loss:.4f}" == "0.1235" and f"{loss}" == "0.123456"  # as PyTorch: the value, for 0-d
    with pytest.raises(TypeError, match="needs a 0-d tensor"):
        f"{ag.tensor([1.0, 2.0]):.2f}"
    assert abs(ag.tensor([-1.5, 2.0])).tolist() == [1.5, 2.0]
    index = ag.Tensor(np.array(1))
    assert [10, 20, 30][index] == 20 and int(index) == 1 and float(ag.tensor(2.5)) == 2.5
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        [10, 20][ag.tensor(1.0)]


# --------------------------------------------------------------------------- custom Functions


def test_ctx_can_hold_any_attribute() -> None:
    class Scale(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.inputs, ctx.name, ctx.scale, ctx.seq, ctx.attrs = "mine", "scale", 3.0, -1, {}
            return x * ctx.scale

        @staticmethod
        def backward(ctx, grad):
            assert (ctx.inputs, ctx.name, ctx.seq, ctx.attrs) == ("mine", "scale", -1, {})
            return grad * ctx.scale

    x = leaf([1.0, 2.0])
    y = Scale.apply(x)
    (y * y).sum().backward()
    assert x.grad.tolist() == [18.0, 36.0]  # 2 * 3x * 3


def test_forward_keeps_what_it_sets_on_ctx_in_every_mode() -> None:
    class Twice(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.k = 2
            return x * ctx.k

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.k

    assert Twice.apply(ag.tensor([1.0])).tolist() == [2.0]  # constant input
    with ag.no_grad():
        assert Twice.apply(leaf([3.0])).tolist() == [6.0]
    x = leaf([3.0])
    Twice.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0]


class _CubeCutting(ag.Function):
    """x**3 whose backward reads plain values: right for first derivatives, cuts the second."""

    read = staticmethod(lambda x: x.data)

    @classmethod
    def forward(cls, ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @classmethod
    def backward(cls, ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * cls.read(x) ** 2 * grad


@pytest.mark.parametrize(
    ("read", "how"),
    [(lambda x: x.data if isinstance(x, ag.Tensor) else x, ".data"), (np.asarray, "np.asarray")],
)
def test_a_backward_that_cuts_the_graph_under_create_graph_raises(read: Any, how: str) -> None:
    class Cube(_CubeCutting):
        pass

    Cube.read = staticmethod(read)
    x = leaf(2.0)
    (dx,) = ag.grad(Cube.apply(x), x)
    assert dx.item() == 12.0  # 3 x^2: fine without create_graph
    with pytest.raises(RuntimeError, match=f"Cube.backward used {how}.*create_graph=True"):
        ag.grad(Cube.apply(x), x, create_graph=True)


# --------------------------------------------------------------------------- threads


def test_leaf_gradients_add_up_exactly_across_threads() -> None:
    shared = leaf(np.zeros(()))

    def work() -> None:
        for _ in range(300):
            (shared * 1.0 + 1.0).backward()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert shared.grad.item() == 1200.0


def test_retain_grad_follows_a_tensor_changed_in_place() -> None:
    a = leaf([1.0, 2.0])
    x = a * 1
    x.retain_grad()
    x.mul_(3)
    assert x.retains_grad
    (x * x).sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]  # d(x^2)/dx at the new x = 3a
    assert a.grad.tolist() == [18.0, 36.0]  # 2 * 3a * 3
