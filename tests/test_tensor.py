"""The Tensor data model: construction, dtype policy, attributes, numpy interop, shape ops, indexing.

Every expected value is computed independently, with plain numpy or by hand.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor


def _arange(*shape: int) -> np.ndarray:
    return np.arange(float(np.prod(shape))).reshape(shape)


# ----------------------------------------------------------------------------- construction


def test_from_python_scalar_is_0d_float64() -> None:
    t = Tensor(2.5)
    assert t.shape == ()
    assert t.ndim == 0
    assert t.size == 1
    assert t.dtype == np.float64
    assert t.item() == 2.5
    assert isinstance(t.item(), float)


def test_from_python_int_scalar_is_float64() -> None:
    t = Tensor(3)
    assert t.dtype == np.float64
    assert t.item() == 3.0


def test_from_nested_list() -> None:
    t = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3)
    assert t.ndim == 2
    assert t.size == 6
    assert t.dtype == np.float64
    assert isinstance(t.data, np.ndarray)
    np.testing.assert_array_equal(t.data, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def test_list_of_ints_gives_float64() -> None:
    t = Tensor([[1, 2], [3, 4]])
    assert t.dtype == np.float64
    np.testing.assert_array_equal(t.data, [[1.0, 2.0], [3.0, 4.0]])


def test_from_ndarray_shares_memory_and_keeps_values() -> None:
    a = np.array([[1.0, -2.0], [3.5, 0.25]])
    t = Tensor(a)
    assert t.dtype == np.float64
    assert np.shares_memory(t.data, a)
    np.testing.assert_array_equal(t.data, a)


def test_from_other_tensor_is_a_new_leaf() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    t = Tensor(y)
    assert t is not y
    assert t.is_leaf
    assert t.grad_fn is None
    assert not t.requires_grad
    np.testing.assert_array_equal(t.data, [3.0, 6.0])


def test_tensor_function_matches_constructor() -> None:
    t = ag.tensor([1.0, 2.0], requires_grad=True, dtype=np.float32, name="w")
    assert isinstance(t, Tensor)
    assert t.requires_grad
    assert t.dtype == np.float32
    assert t.name == "w"
    np.testing.assert_array_equal(t.data, np.array([1.0, 2.0], dtype=np.float32))


def test_dtype_argument_converts_list_data() -> None:
    t = Tensor([1, 2, 3], dtype=np.float32)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.data, np.array([1.0, 2.0, 3.0], dtype=np.float32))


def test_name_defaults_to_none() -> None:
    assert Tensor(1.0).name is None
    assert Tensor(1.0, name="bias").name == "bias"


# ----------------------------------------------------------------------------- 0-d tensors


def test_0d_tensor_backward() -> None:
    x = Tensor(3.0, requires_grad=True)
    y = x * x + 2.0 * x  # dy/dx = 2x + 2 = 8
    assert y.shape == ()
    y.backward()
    assert x.grad is not None
    assert x.grad.shape == ()
    assert x.grad.item() == 8.0


def test_0d_leaf_backward_gives_one() -> None:
    x = Tensor(-1.5, requires_grad=True)
    x.backward()
    assert x.grad is not None
    assert x.grad.item() == 1.0


def test_0d_tensor_item_and_float() -> None:
    t = Tensor(np.float64(-0.75))
    assert t.item() == -0.75
    assert float(t) == -0.75
    one_element = Tensor([[4.5]])
    assert one_element.item() == 4.5


# ----------------------------------------------------------------------------- dtype policy


def test_float32_array_keeps_float32() -> None:
    t = Tensor(np.array([1.0, 2.0], dtype=np.float32))
    assert t.dtype == np.float32
    t_grad = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    assert t_grad.dtype == np.float32


def test_float32_survives_ops_and_backward() -> None:
    a = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    x = Tensor(a, requires_grad=True)
    y = x * 2.0
    assert y.dtype == np.float32
    z = y.exp()
    assert z.dtype == np.float32
    s = z.sum()
    assert s.dtype == np.float32
    s.backward()
    assert x.grad is not None
    assert x.grad.dtype == np.float32
    expected = 2.0 * np.exp(2.0 * a.astype(np.float64))  # d/dx exp(2x)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-6)


@pytest.mark.parametrize("int_dtype", [np.int32, np.int64, np.uint8])
def test_integer_array_promoted_only_with_requires_grad(int_dtype: Any) -> None:
    a = np.array([1, 2, 3], dtype=int_dtype)
    assert Tensor(a).dtype == int_dtype
    t = Tensor(a, requires_grad=True)
    assert t.dtype == np.float64
    np.testing.assert_array_equal(t.data, [1.0, 2.0, 3.0])


def test_bool_array_promoted_only_with_requires_grad() -> None:
    a = np.array([True, False])
    assert Tensor(a).dtype == np.bool_
    t = Tensor(a, requires_grad=True)
    assert t.dtype == np.float64
    np.testing.assert_array_equal(t.data, [1.0, 0.0])


def test_mixed_float32_float64_follows_numpy_and_grad_keeps_input_dtype() -> None:
    a32 = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    b64 = np.array([0.5, 0.25, 4.0])
    x = Tensor(a32, requires_grad=True)
    w = Tensor(b64, requires_grad=True)
    y = x * w
    assert y.dtype == (a32 * b64).dtype == np.float64
    y.sum().backward()
    assert x.grad is not None and w.grad is not None
    assert x.grad.dtype == np.float32
    assert w.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.data, b64.astype(np.float32))
    np.testing.assert_array_equal(w.grad.data, a32.astype(np.float64))


def test_mixed_add_dtype_matches_numpy() -> None:
    a32 = np.ones(2, dtype=np.float32)
    b64 = np.ones(2)
    assert (Tensor(a32) + Tensor(b64)).dtype == (a32 + b64).dtype
    assert (Tensor(a32) + 1.5).dtype == (a32 + 1.5).dtype == np.float32


# ----------------------------------------------------------------------------- attributes


def test_leaf_and_result_attributes() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert x.is_leaf
    assert x.grad_fn is None
    assert x.grad is None
    y = x * x
    assert not y.is_leaf
    assert y.requires_grad
    assert y.grad_fn is not None
    assert y.grad_fn.name() == "Mul"
    assert (x + x).grad_fn.name() == "Add"


def test_grad_is_a_tensor_after_backward() -> None:
    x = Tensor([1.0, -2.0], requires_grad=True)
    (x * x).sum().backward()
    assert isinstance(x.grad, Tensor)
    np.testing.assert_array_equal(x.grad.data, [2.0, -4.0])


def test_constant_leaf_does_not_require_grad() -> None:
    c = Tensor([1.0, 2.0])
    assert not c.requires_grad
    assert c.is_leaf
    assert (c * 2.0).grad_fn is None
    assert not (c * 2.0).requires_grad


def test_T_and_mT() -> None:
    a = _arange(2, 3)
    np.testing.assert_array_equal(Tensor(a).T.data, a.T)
    b = _arange(2, 3, 4)
    np.testing.assert_array_equal(Tensor(b).T.data, np.transpose(b))
    assert Tensor(b).T.shape == (4, 3, 2)
    assert Tensor(b).mT.shape == (2, 4, 3)
    np.testing.assert_array_equal(Tensor(b).mT.data, np.swapaxes(b, -1, -2))


def test_numpy_shares_memory() -> None:
    a = np.array([1.0, 2.0, 3.0])
    t = Tensor(a)
    n = t.numpy()
    assert isinstance(n, np.ndarray)
    assert np.shares_memory(n, t.data)
    n[0] = 10.0
    assert t.data[0] == 10.0


def test_detach_shares_data_and_leaves_the_graph() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    d = y.detach()
    assert d.is_leaf
    assert d.grad_fn is None
    assert not d.requires_grad
    assert np.shares_memory(d.data, y.data)
    dx = x.detach()
    assert np.shares_memory(dx.data, x.data)
    dx.data[1] = -7.0
    assert x.data[1] == -7.0


def test_array_protocol() -> None:
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    a = np.asarray(x)
    assert isinstance(a, np.ndarray)
    assert np.shares_memory(a, x.data)
    np.testing.assert_array_equal(a, [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(x, np.array([[1.0, 2.0], [3.0, 4.0]]))
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(x, np.array([[1.0, 2.0], [3.0, 4.5]]))


def test_len() -> None:
    assert len(Tensor(np.zeros((4, 2)))) == 4
    assert len(Tensor([1.0, 2.0, 3.0])) == 3


def test_repr_of_leaf_requiring_grad() -> None:
    r = repr(Tensor([1.5, -2.25], requires_grad=True))
    assert "1.5" in r and "-2.25" in r
    assert "requires_grad=True" in r
    assert "grad_fn" not in r
    assert "dtype" not in r  # float64 is the default and not shown


def test_repr_of_plain_leaf() -> None:
    r = repr(Tensor([3.0, 4.0]))
    assert "3." in r and "4." in r
    assert "requires_grad" not in r
    assert "grad_fn" not in r


def test_repr_of_result() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    r = repr(x * 3.0)
    assert "grad_fn=<Mul>" in r
    assert "3." in r and "6." in r


def test_repr_names_the_dtype_where_pytorch_does() -> None:
    """PyTorch leaves out the default float dtype, int64 and bool, and names every other dtype."""
    assert repr(ag.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(ag.tensor([1, 2], dtype=ag.int32)) == "tensor([1, 2], dtype=int32)"
    assert "dtype" not in repr(ag.tensor([True, False]))
    previous = ag.get_default_dtype()
    try:
        ag.set_default_dtype(ag.float32)
        assert repr(ag.tensor([1.0, 2.0])) == "tensor([1., 2.])"
        assert repr(ag.tensor([1.0, 2.0], dtype=ag.float64)) == "tensor([1., 2.], dtype=float64)"
    finally:
        ag.set_default_dtype(previous)


def test_repr_shows_dtype_and_name() -> None:
    r = repr(Tensor(np.array([0.5, 1.0], dtype=np.float32), name="weights"))
    assert "float32" in r
    assert "weights" in r
    assert "0.5" in r


# ----------------------------------------------------------------------------- comparisons

_COMPARISONS = [
    ("<", np.less),
    ("<=", np.less_equal),
    (">", np.greater),
    (">=", np.greater_equal),
    ("==", np.equal),
    ("!=", np.not_equal),
]


def _compare(op: str, a: Any, b: Any) -> Any:
    return {
        "<": lambda: a < b,
        "<=": lambda: a <= b,
        ">": lambda: a > b,
        ">=": lambda: a >= b,
        "==": lambda: a == b,
        "!=": lambda: a != b,
    }[op]()


@pytest.mark.parametrize(("op", "ref"), _COMPARISONS, ids=[c[0] for c in _COMPARISONS])
def test_comparison_with_tensor(op: str, ref: Any) -> None:
    a = np.array([1.0, 2.0, 3.0, 2.0])
    b = np.array([2.0, 2.0, 1.0, 5.0])
    x = Tensor(a, requires_grad=True)
    y = Tensor(b, requires_grad=True)
    out = _compare(op, x, y)
    assert isinstance(out, Tensor)
    assert out.dtype == np.bool_
    assert not out.requires_grad
    assert out.grad_fn is None
    np.testing.assert_array_equal(out.data, ref(a, b))


@pytest.mark.parametrize(("op", "ref"), _COMPARISONS, ids=[c[0] for c in _COMPARISONS])
def test_comparison_with_scalar(op: str, ref: Any) -> None:
    a = np.array([[1.0, 2.0], [3.0, 2.0]])
    x = Tensor(a, requires_grad=True)
    out = _compare(op, x, 2.0)
    assert isinstance(out, Tensor)
    assert out.dtype == np.bool_
    assert not out.requires_grad
    np.testing.assert_array_equal(out.data, ref(a, 2.0))


def test_comparison_with_scalar_on_the_left() -> None:
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = 2.0 < x
    assert isinstance(out, Tensor)
    assert not out.requires_grad
    np.testing.assert_array_equal(out.data, [False, False, True])


# ----------------------------------------------------------------------------- numpy interop


def _grad_of(fn: Any, a: np.ndarray) -> np.ndarray:
    """Run fn on a fresh leaf holding `a`, backward through .sum(), return the leaf's gradient."""
    x = Tensor(a.copy(), requires_grad=True)
    out = fn(x)
    assert isinstance(out, Tensor)
    assert out.requires_grad and out.grad_fn is not None
    out.sum().backward()
    assert x.grad is not None
    return x.grad.data


def test_np_exp_stays_in_graph() -> None:
    a = np.array([0.0, 1.0, -2.0])
    x = Tensor(a, requires_grad=True)
    y = np.exp(x)
    assert isinstance(y, Tensor)
    np.testing.assert_allclose(y.data, [1.0, np.e, np.e**-2], rtol=1e-15)
    np.testing.assert_allclose(_grad_of(np.exp, a), [1.0, np.e, np.e**-2], rtol=1e-15)


def test_numpy_scalar_times_tensor() -> None:
    a = np.array([1.0, -3.0])
    y = np.float64(2) * Tensor(a, requires_grad=True)
    assert isinstance(y, Tensor)
    np.testing.assert_array_equal(y.data, [2.0, -6.0])
    np.testing.assert_array_equal(_grad_of(lambda t: np.float64(2) * t, a), [2.0, 2.0])


def test_ndarray_times_and_plus_tensor() -> None:
    a = np.array([1.0, 2.0, 3.0])
    c = np.array([4.0, -5.0, 0.5])
    x = Tensor(a, requires_grad=True)
    prod = c * x
    total = c + x
    assert isinstance(prod, Tensor) and isinstance(total, Tensor)
    np.testing.assert_array_equal(prod.data, [4.0, -10.0, 1.5])
    np.testing.assert_array_equal(total.data, [5.0, -3.0, 3.5])
    np.testing.assert_array_equal(_grad_of(lambda t: c * t, a), c)
    np.testing.assert_array_equal(_grad_of(lambda t: c + t, a), [1.0, 1.0, 1.0])


def test_np_sum_and_mean() -> None:
    a = _arange(2, 3)
    x = Tensor(a, requires_grad=True)
    s = np.sum(x)
    assert isinstance(s, Tensor) and s.shape == ()
    assert s.item() == 15.0
    m = np.mean(x, axis=0)
    assert isinstance(m, Tensor)
    np.testing.assert_array_equal(m.data, [1.5, 2.5, 3.5])
    np.testing.assert_array_equal(_grad_of(np.sum, a), np.ones((2, 3)))
    np.testing.assert_array_equal(_grad_of(lambda t: np.mean(t, axis=0), a), np.full((2, 3), 0.5))


def test_np_reshape_and_transpose() -> None:
    a = _arange(2, 3)
    w = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    x = Tensor(a, requires_grad=True)
    r = np.reshape(x, (3, 2))
    assert isinstance(r, Tensor)
    np.testing.assert_array_equal(r.data, [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    t = np.transpose(x)
    assert isinstance(t, Tensor)
    np.testing.assert_array_equal(t.data, [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]])
    # d/dx sum(reshape(x) * w) = w laid back out in x's shape; likewise transpose gives w.T
    np.testing.assert_array_equal(_grad_of(lambda v: np.reshape(v, (3, 2)) * w, a), [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(_grad_of(lambda v: np.transpose(v) * w, a), [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]])


def test_np_concatenate() -> None:
    a = np.array([1.0, 2.0])
    x = Tensor(a, requires_grad=True)
    c = np.concatenate([x, x])
    assert isinstance(c, Tensor)
    np.testing.assert_array_equal(c.data, [1.0, 2.0, 1.0, 2.0])
    np.testing.assert_array_equal(_grad_of(lambda t: np.concatenate([t, t]), a), [2.0, 2.0])


def test_np_where() -> None:
    a = np.array([1.0, -2.0, 3.0])
    mask = np.array([True, False, True])
    x = Tensor(a, requires_grad=True)
    w = np.where(mask, x, 0)
    assert isinstance(w, Tensor)
    np.testing.assert_array_equal(w.data, [1.0, 0.0, 3.0])
    np.testing.assert_array_equal(_grad_of(lambda t: np.where(mask, t, 0), a), [1.0, 0.0, 1.0])


def test_value_only_numpy_functions_give_plain_results() -> None:
    x = Tensor([1.0, 5.0, 2.0], requires_grad=True)
    close = np.allclose(x, np.array([1.0, 5.0, 2.0]))
    assert close is True or close is np.True_
    assert not np.allclose(x, np.array([1.0, 5.0, 2.5]))
    i = np.argmax(x)
    assert not isinstance(i, Tensor)
    assert int(i) == 1


@pytest.mark.parametrize("fn", [np.cumsum, np.arctan], ids=["cumsum", "arctan"])
def test_numpy_function_without_rule_refuses_grad_tensor(fn: Any) -> None:
    x = Tensor([0.5, 1.0], requires_grad=True)
    with pytest.raises(TypeError, match=rf"{fn.__name__} has no gradient rule") as info:
        fn(x)
    message = str(info.value)
    assert "detach()" in message
    assert ".data" in message


def test_numpy_function_without_rule_works_on_constant_tensor() -> None:
    a = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(np.asarray(np.cumsum(Tensor(a))), [0.5, 1.5, 3.5], rtol=1e-15)
    np.testing.assert_allclose(np.asarray(np.arctan(Tensor(a))), np.arctan(a), rtol=1e-15)
    np.testing.assert_allclose(np.asarray(np.cumsum(Tensor(a, requires_grad=True).detach())), [0.5, 1.5, 3.5])


# ----------------------------------------------------------------------------- shape ops


def test_reshape_tuple_varargs_and_minus_one() -> None:
    a = _arange(2, 3, 4)
    t = Tensor(a)
    np.testing.assert_array_equal(t.reshape((4, 6)).data, a.reshape(4, 6))
    np.testing.assert_array_equal(t.reshape(4, 6).data, a.reshape(4, 6))
    assert t.reshape(4, -1).shape == (4, 6)
    assert t.reshape((-1, 2)).shape == (12, 2)
    np.testing.assert_array_equal(t.reshape(-1).data, np.arange(24.0))
    np.testing.assert_array_equal(ag.reshape(t, (6, 4)).data, a.reshape(6, 4))
    np.testing.assert_array_equal(ag.reshape(t, shape=(6, -1)).data, a.reshape(6, 4))  # torch.reshape's keyword
    np.testing.assert_array_equal(t.reshape(shape=[3, 8]).data, a.reshape(3, 8))
    with pytest.raises(TypeError, match=r"got the shape twice.*pass one of them"):
        t.reshape(4, 6, shape=(4, 6))


def test_transpose_swaps_two_axes() -> None:
    a = _arange(2, 3, 4)
    t = Tensor(a)
    out = t.transpose(0, 2)
    assert out.shape == (4, 3, 2)
    np.testing.assert_array_equal(out.data, np.swapaxes(a, 0, 2))
    np.testing.assert_array_equal(t.transpose(0, 1).data, np.swapaxes(a, 0, 1))
    np.testing.assert_array_equal(t.transpose().data, np.swapaxes(a, -2, -1))
    np.testing.assert_array_equal(ag.transpose(t, 1, 2).data, np.swapaxes(a, 1, 2))


def test_permute() -> None:
    a = _arange(2, 3, 4)
    t = Tensor(a)
    np.testing.assert_array_equal(t.permute(2, 0, 1).data, np.transpose(a, (2, 0, 1)))
    np.testing.assert_array_equal(t.permute((1, 2, 0)).data, np.transpose(a, (1, 2, 0)))
    np.testing.assert_array_equal(ag.permute(t, (0, 2, 1)).data, np.transpose(a, (0, 2, 1)))
    assert t.permute(2, 0, 1)[3, 1, 2].item() == a[1, 2, 3]


def test_expand_with_minus_one() -> None:
    b = np.array([[1.0], [2.0], [3.0]])
    t = Tensor(b)
    out = t.expand(2, -1, 4)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out.data, np.broadcast_to(b, (2, 3, 4)))
    np.testing.assert_array_equal(t.expand((3, 5)).data, np.tile(b, (1, 5)))


def test_broadcast_to() -> None:
    v = np.array([1.0, 2.0, 3.0])
    out = Tensor(v).broadcast_to((2, 3))
    np.testing.assert_array_equal(out.data, [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(ag.broadcast_to(Tensor(v), (4, 3)).data, np.broadcast_to(v, (4, 3)))


def test_squeeze_and_unsqueeze() -> None:
    a = _arange(1, 3, 1)
    t = Tensor(a)
    assert t.squeeze().shape == (3,)
    np.testing.assert_array_equal(t.squeeze().data, [0.0, 1.0, 2.0])
    assert t.squeeze(0).shape == (3, 1)
    assert t.squeeze(-1).shape == (1, 3)
    assert t.squeeze(2).shape == (1, 3)
    v = Tensor([1.0, 2.0, 3.0])
    assert v.unsqueeze(0).shape == (1, 3)
    assert v.unsqueeze(1).shape == (3, 1)
    assert v.unsqueeze(-1).shape == (3, 1)
    np.testing.assert_array_equal(v.unsqueeze(1).data, [[1.0], [2.0], [3.0]])
    assert ag.unsqueeze(Tensor(_arange(2, 3)), 1).shape == (2, 1, 3)
    assert ag.squeeze(t).shape == (3,)


def test_flatten() -> None:
    a = _arange(2, 3, 4)
    t = Tensor(a)
    assert t.flatten().shape == (24,)
    np.testing.assert_array_equal(t.flatten().data, np.arange(24.0))
    assert t.flatten(1).shape == (2, 12)
    np.testing.assert_array_equal(t.flatten(1).data, a.reshape(2, 12))
    assert t.flatten(0, 1).shape == (6, 4)
    np.testing.assert_array_equal(t.flatten(0, 1).data, a.reshape(6, 4))
    assert t.flatten(-2, -1).shape == (2, 12)
    assert Tensor(_arange(2, 3, 4, 5)).flatten(1, 2).shape == (2, 12, 5)


def test_split_by_piece_size() -> None:
    pieces = Tensor(np.arange(5.0)).split(2)
    assert [p.shape for p in pieces] == [(2,), (2,), (1,)]
    np.testing.assert_array_equal(pieces[0].data, [0.0, 1.0])
    np.testing.assert_array_equal(pieces[1].data, [2.0, 3.0])
    np.testing.assert_array_equal(pieces[2].data, [4.0])


def test_split_by_list_of_sizes() -> None:
    # PyTorch meaning: sizes, not numpy's cut indices (np.split(x, [1, 4]) would give 3 pieces)
    pieces = Tensor(np.arange(5.0)).split([1, 4])
    assert len(pieces) == 2
    np.testing.assert_array_equal(pieces[0].data, [0.0])
    np.testing.assert_array_equal(pieces[1].data, [1.0, 2.0, 3.0, 4.0])


def test_split_along_an_axis() -> None:
    a = _arange(2, 5)
    pieces = ag.split(Tensor(a), [3, 2], axis=1)
    np.testing.assert_array_equal(pieces[0].data, a[:, :3])
    np.testing.assert_array_equal(pieces[1].data, a[:, 3:])
    last = Tensor(a).split(2, axis=-1)
    assert [p.shape for p in last] == [(2, 2), (2, 2), (2, 1)]
    np.testing.assert_array_equal(last[2].data, a[:, 4:])


def test_concatenate_and_cat() -> None:
    a = _arange(2, 3)
    b = _arange(1, 3) + 100.0
    out = ag.concatenate([Tensor(a), Tensor(b)])
    np.testing.assert_array_equal(out.data, np.concatenate([a, b]))
    c = _arange(2, 2) - 50.0
    np.testing.assert_array_equal(ag.cat([Tensor(a), Tensor(c)], axis=1).data, np.concatenate([a, c], axis=1))
    np.testing.assert_array_equal(ag.cat([Tensor(a), Tensor(c)], axis=-1).data, np.concatenate([a, c], axis=1))


def test_stack() -> None:
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([4.0, 5.0, 6.0])
    np.testing.assert_array_equal(ag.stack([Tensor(a), Tensor(b)]).data, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(ag.stack([Tensor(a), Tensor(b)], axis=1).data, np.stack([a, b], axis=1))
    np.testing.assert_array_equal(ag.stack([Tensor(a), Tensor(b)], axis=-1).data, np.stack([a, b], axis=-1))


# ----------------------------------------------------------------------------- indexing

_A = _arange(2, 3, 4)

_BASIC_AND_ARRAY_INDICES = [
    1,
    -1,
    (0, -2),
    (1, 2, 3),
    (-1, -1, -1),
    slice(None),
    (slice(None), 1),
    (slice(None), slice(1, None), slice(None, None, 2)),
    (slice(None), slice(None, None, -1)),
    (Ellipsis, 2),
    (None, 0),
    (0, None, Ellipsis, None),
    [1, 0],
    ([0, 1, 1], [2, 0, 2]),
    (slice(None), [0, 2]),
    (Ellipsis, [3, 0, 3]),
    np.array([1, 1, 0]),
    np.array([[0, 1], [1, 0]]),
    (slice(None), np.array([2, 0]), np.array([1, 3])),
    _A > 10,
    (np.array([False, True]),),
    (slice(None), np.array([True, False, True])),
]


@pytest.mark.parametrize("index", _BASIC_AND_ARRAY_INDICES, ids=range(len(_BASIC_AND_ARRAY_INDICES)))
def test_indexing_matches_numpy(index: Any) -> None:
    expected = _A[index]  # numpy reads lists in an index as integer arrays too
    x = Tensor(_A, requires_grad=True)
    out = x[index]
    assert isinstance(out, Tensor)
    assert out.grad_fn is not None
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.data, expected)


def test_indexing_with_tensors() -> None:
    x = Tensor(_A)
    idx = Tensor(np.array([1, 0, 1]))
    np.testing.assert_array_equal(x[idx].data, _A[np.array([1, 0, 1])])
    np.testing.assert_array_equal(x[:, Tensor(np.array([2, 0]))].data, _A[:, [2, 0]])
    mask = x > 7.0
    assert isinstance(mask, Tensor)
    np.testing.assert_array_equal(x[mask].data, _A[_A > 7.0])
    np.testing.assert_array_equal(x[x[:, 0, 0] > 5.0].data, _A[1:])


# ----------------------------------------------------------------------------- requires_grad


def test_requires_grad_setter_on_leaf() -> None:
    t = Tensor([1.0, 2.0])
    assert not t.requires_grad
    t.requires_grad = True
    assert t.requires_grad
    y = t * 2.0
    assert y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_array_equal(t.grad.data, [2.0, 2.0])
    t.requires_grad = False
    assert not t.requires_grad
    assert (t * 2.0).grad_fn is None


def test_requires_grad_underscore_returns_self() -> None:
    t = Tensor([1.0, 2.0])
    assert t.requires_grad_() is t
    assert t.requires_grad
    assert t.requires_grad_(False) is t
    assert not t.requires_grad


@pytest.mark.parametrize("flag", [True, False])
def test_requires_grad_cannot_change_on_non_leaf(flag: bool) -> None:
    y = Tensor([1.0, 2.0], requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match=r"leaf"):
        y.requires_grad = flag
    with pytest.raises(RuntimeError, match=r"leaf"):
        y.requires_grad_(flag)
    assert y.requires_grad


# ----------------------------------------------------------------------------- hashing and truth


def test_hash_by_identity() -> None:
    a = Tensor([1.0, 2.0])
    b = Tensor([1.0, 2.0])
    table = {a: "a", b: "b"}
    assert len(table) == 2
    assert table[a] == "a"
    assert table[b] == "b"
    assert hash(a) == hash(a)
    assert len({a, b, a}) == 2


def test_bool_of_one_element_tensor() -> None:
    assert bool(Tensor([2.0])) is True
    assert bool(Tensor(0.0)) is False
    assert bool(Tensor([[0.0]])) is False
    assert bool(Tensor(-1.0) < 0)
    assert not bool(Tensor(1.0) < 0)
