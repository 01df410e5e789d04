"""numpy functions and ufuncs on tensors: every argument honoured or refused by name, numpy's
behaviour without grad, other array types left to themselves, graphs never cut silently.

Expected values come from the same numpy call on plain arrays.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from autograd.numpy_bridge import _FUNCTIONS, call_function


def _arange(*shape: int) -> np.ndarray:
    return np.arange(float(np.prod(shape))).reshape(shape)


def _leaf(a: np.ndarray) -> Tensor:
    return Tensor(a.copy(), requires_grad=True)


def _grad_of(fn: Any, a: np.ndarray) -> np.ndarray:
    """Gradient of fn(x).sum() at a fresh leaf holding `a`."""
    x = _leaf(a)
    out = fn(x)
    assert isinstance(out, Tensor) and out.grad_fn is not None
    out.sum().backward()
    return x.grad.data


# ----------------------------------------------------------------------------- every argument honoured or refused


def test_function_rules_mirror_numpy_signatures_with_no_catch_all() -> None:
    for func, rule in _FUNCTIONS.items():
        kinds = {p.kind for p in inspect.signature(rule).parameters.values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds, func.__name__
        assert inspect.Parameter.VAR_POSITIONAL not in kinds, func.__name__


@pytest.mark.parametrize("shape", [(3, 2), (6,), 6, (1, 3, 2), (-1, 2), (2, 1, 3)])
@pytest.mark.parametrize("order", ["F", "f"])
def test_reshape_order_f_matches_numpy(shape: Any, order: str) -> None:
    a = _arange(2, 3)
    out = np.reshape(Tensor(a), shape, order=order)
    assert isinstance(out, Tensor)
    np.testing.assert_array_equal(out.data, np.reshape(a, shape, order="F"))


def test_reshape_order_f_gradient() -> None:
    x = Tensor(np.random.default_rng(0).normal(size=(2, 3, 4)), requires_grad=True)
    w = np.random.default_rng(1).normal(size=(4, 6))
    assert ag.gradcheck(lambda v: np.reshape(v, (4, 6), order="F") * w, [x])
    assert ag.gradgradcheck(lambda v: np.reshape(v, (6, -1), order="F") ** 2, [x])
    # sum(reshape_F(x) * w) has gradient w laid back out in Fortran order
    np.testing.assert_array_equal(
        _grad_of(lambda v: np.reshape(v, (4, 6), order="F") * w, np.zeros((2, 3, 4))),
        np.reshape(w, (2, 3, 4), order="F"),
    )


def test_reshape_order_a_follows_the_memory_layout() -> None:
    a = _arange(2, 3)
    for t, plain in [(Tensor(a), a), (Tensor(a).T, a.T), (Tensor(np.asfortranarray(a)), np.asfortranarray(a))]:
        np.testing.assert_array_equal(np.reshape(t, (3, 2), order="A").data, np.reshape(plain, (3, 2), order="A"))
    assert not np.array_equal(np.reshape(a.T, 6, order="A"), np.reshape(a.T, 6))  # the case tells them apart


def test_reshape_bad_order_or_shape_says_what() -> None:
    t = Tensor(_arange(2, 3), requires_grad=True)
    with pytest.raises(ValueError, match="order 'K' is not permitted"):
        np.reshape(t, 6, order="K")
    with pytest.raises(ValueError, match="order must be one of"):
        np.reshape(t, 6, order="X")
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*into \(4,\)"):
        np.reshape(t, (4,), order="F")


def test_reshape_shape_keyword_and_newshape() -> None:
    a = _arange(2, 3)
    np.testing.assert_array_equal(np.reshape(Tensor(a), shape=(3, 2)).data, np.reshape(a, shape=(3, 2)))
    with pytest.raises(TypeError, match="newshape"):  # numpy 2.4 no longer takes it (2.1-2.3: deprecated)
        np.reshape(Tensor(a), newshape=(3, 2))
    with pytest.raises(TypeError, match=r"numpy\.reshape\(\).*newshape"):
        call_function(np.reshape, (Tensor(a),), {"newshape": (3, 2)})


def test_reshape_copy() -> None:
    a = _arange(2, 3)
    copied = np.reshape(Tensor(a), (3, 2), copy=True)
    np.testing.assert_array_equal(copied.data, a.reshape(3, 2))
    assert not np.shares_memory(copied.data, a)
    np.testing.assert_array_equal(_grad_of(lambda v: np.reshape(v, 6, copy=True) * np.arange(6.0), a), _arange(2, 3))
    view = np.reshape(Tensor(a).T, 6, order="F", copy=False)
    np.testing.assert_array_equal(view.data, np.reshape(a.T, 6, order="F"))
    assert np.shares_memory(view.data, a)
    with pytest.raises(ValueError, match="avoid creating a copy"):
        np.reshape(Tensor(a).T, 6, copy=False)


def test_transpose_swapaxes_expand_dims_match_numpy() -> None:
    a = _arange(2, 3, 4)
    t = Tensor(a)
    np.testing.assert_array_equal(np.transpose(t, (2, 0, 1)).data, np.transpose(a, (2, 0, 1)))
    np.testing.assert_array_equal(np.transpose(t, [-1, 0, 1]).data, np.transpose(a, [-1, 0, 1]))
    np.testing.assert_array_equal(np.swapaxes(t, 0, -1).data, np.swapaxes(a, 0, -1))
    np.testing.assert_array_equal(np.expand_dims(t, (0, -1)).data, np.expand_dims(a, (0, -1)))
    np.testing.assert_array_equal(np.expand_dims(t, 1).data, np.expand_dims(a, 1))
    np.testing.assert_array_equal(np.broadcast_to(Tensor([1.0, 2.0]), (3, 2)).data, np.broadcast_to([1.0, 2.0], (3, 2)))
    with pytest.raises(np.exceptions.AxisError, match="axis 5 is out of bounds"):
        np.transpose(t, (0, 1, 5))
    with pytest.raises(ValueError, match="don't match"):
        np.transpose(t, (0, 1))
    with pytest.raises(ValueError, match="repeated axis"):
        np.expand_dims(t, (0, 0))
    w = np.random.default_rng(2).normal(size=(4, 3, 2))
    np.testing.assert_array_equal(_grad_of(lambda v: np.swapaxes(v, 0, 2) * w, a), np.swapaxes(w, 0, 2))


@pytest.mark.parametrize("func", [np.concatenate, np.stack], ids=["concatenate", "stack"])
def test_join_out_dtype_casting_refused_with_grad(func: Any) -> None:
    a = _arange(2, 3)
    x = _leaf(a)
    shape = func([a, a]).shape
    for kwargs, name in [({"out": np.empty(shape)}, "out="), ({"dtype": np.float32}, "dtype="),
                         ({"casting": "unsafe"}, "casting=")]:  # fmt: skip
        with pytest.raises(TypeError, match=rf"numpy\.{func.__name__}'s {name} argument .*require grad"):
            func([x, x], **kwargs)
    joined = func([x, x], casting="same_kind", out=None, dtype=None)  # the defaults change nothing
    np.testing.assert_array_equal(joined.data, func([a, a]))
    assert joined.requires_grad


@pytest.mark.parametrize("func", [np.concatenate, np.stack], ids=["concatenate", "stack"])
def test_join_out_dtype_casting_as_numpy_without_grad(func: Any) -> None:
    a = _arange(2, 3)
    buf = Tensor(np.zeros(func([a, a]).shape))
    assert func([Tensor(a), a], out=buf) is buf
    np.testing.assert_array_equal(buf.data, func([a, a]))
    assert buf._version == 1
    plain = np.zeros(func([a, a]).shape)
    assert func([Tensor(a), a], out=plain) is plain
    np.testing.assert_array_equal(plain, func([a, a]))
    cast = func([Tensor(a), a], dtype=np.float32)
    assert isinstance(cast, Tensor) and cast.dtype == np.float32
    with pytest.raises(TypeError, match="according to the rule 'no'"):
        func([Tensor(a), a.astype(np.float32)], casting="no")
    with ag.no_grad():
        np.testing.assert_array_equal(func([_leaf(a), a], dtype=np.float32).data, func([a, a], dtype=np.float32))


def test_concatenate_axis_none_flattens() -> None:
    a, b = _arange(2, 3), _arange(3, 1)
    out = np.concatenate([Tensor(a), Tensor(b)], axis=None)
    np.testing.assert_array_equal(out.data, np.concatenate([a, b], axis=None))
    np.testing.assert_array_equal(_grad_of(lambda v: np.concatenate([v, v], axis=None), a), np.full((2, 3), 2.0))


def test_clip_min_max_keywords() -> None:
    a = np.array([-2.0, -0.5, 0.5, 3.0])
    np.testing.assert_array_equal(np.clip(Tensor(a), min=0).data, np.clip(a, min=0))
    np.testing.assert_array_equal(np.clip(Tensor(a), max=1).data, np.clip(a, max=1))
    np.testing.assert_array_equal(np.clip(Tensor(a), min=-1, max=1).data, np.clip(a, min=-1, max=1))
    np.testing.assert_array_equal(np.clip(Tensor(a), -1, 1).data, np.clip(a, -1, 1))
    np.testing.assert_array_equal(np.clip(Tensor(a), None, None).data, np.clip(a, None, None))
    np.testing.assert_array_equal(_grad_of(lambda v: np.clip(v, min=0), a), [0.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(_grad_of(lambda v: np.clip(v, max=1), a), [1.0, 1.0, 1.0, 0.0])


def test_clip_bad_and_unsupported_arguments() -> None:
    a = np.array([-2.0, -0.5, 0.5, 3.0])
    x = _leaf(a)
    with pytest.raises(ValueError, match="`min` or `max` keyword argument when `a_min` and `a_max`"):
        np.clip(x, -1, 1, min=0)
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'a_max'"):
        np.clip(x, -1)
    for kwargs, name in [
        ({"out": np.empty(4)}, "out="),
        ({"where": a > 0}, "where="),
        ({"dtype": np.float32}, "dtype="),
    ]:
        with pytest.raises(TypeError, match=rf"numpy\.clip's {name} argument .*require grad"):
            np.clip(x, -1, 1, **kwargs)
    bound = _leaf(np.zeros(4))
    for clip in (lambda: np.clip(Tensor(a), min=bound), lambda: ag.clip(Tensor(a), min=bound),
                 lambda: Tensor(a).clamp(-5, bound)):  # fmt: skip
        with pytest.raises(TypeError, match=r"clip's (min|max)= is a tensor that requires grad.*np\.minimum"):
            clip()
    out = np.zeros(4)
    assert np.clip(Tensor(a), -1, 1, where=a > 0, out=out) is out
    np.testing.assert_array_equal(out, np.clip(a, -1, 1, where=a > 0, out=np.zeros(4)))
    with ag.no_grad():
        np.testing.assert_array_equal(np.clip(x, min=_leaf(np.zeros(4))).data, np.clip(a, min=0))


def test_where_with_one_argument_gives_indices() -> None:
    a = np.array([[1.0, -2.0], [0.0, 3.0]])
    for cond in (Tensor(a) > 0, _leaf(a) > 0):
        got = np.where(cond)
        expected = np.where(a > 0)
        assert isinstance(got, tuple) and len(got) == 2
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(g, e)
    with pytest.raises(ValueError, match="either both or neither of x and y"):
        call_function(np.where, (Tensor(a) > 0, Tensor(a)), {})


def test_var_correction_and_refusals() -> None:
    a = np.array([[1.0, 4.0, 2.0], [0.5, -1.0, 3.0]])
    x = _leaf(a)
    np.testing.assert_allclose(np.var(x, correction=1).data, np.var(a, correction=1), rtol=1e-15)
    np.testing.assert_allclose(np.var(x, axis=0, ddof=1).data, np.var(a, axis=0, ddof=1), rtol=1e-15)
    np.testing.assert_allclose(np.var(x, axis=1, keepdims=True).data, np.var(a, axis=1, keepdims=True), rtol=1e-15)
    np.testing.assert_allclose(
        _grad_of(lambda v: np.var(v, axis=1, correction=1), a), 2 * (a - a.mean(1, keepdims=True)) / 2, rtol=1e-14
    )
    with pytest.raises(ValueError, match="ddof and correction can't be provided simultaneously"):
        np.var(x, ddof=1, correction=1)
    for kwargs, name in [({"where": a > 0}, "where="), ({"mean": a.mean()}, "mean="), ({"out": np.empty(())}, "out="),
                         ({"dtype": np.float32}, "dtype=")]:  # fmt: skip
        with pytest.raises(TypeError, match=rf"numpy\.var's {name} argument .*require grad"):
            np.var(x, **kwargs)
    mask = a > 0
    np.testing.assert_allclose(np.var(Tensor(a), where=mask).data, np.var(a, where=mask), rtol=1e-15)
    with ag.no_grad():
        np.testing.assert_allclose(np.var(x, where=mask, ddof=1).data, np.var(a, where=mask, ddof=1), rtol=1e-15)


@pytest.mark.parametrize(
    ("func", "kwargs", "name"),
    [(np.sum, {"initial": 1.0}, "initial="), (np.sum, {"where": np.array([True, False, True])}, "where="),
     (np.sum, {"dtype": np.float32}, "dtype="), (np.mean, {"where": np.array([True, False, True])}, "where="),
     (np.max, {"initial": 10.0}, "initial="), (np.min, {"where": np.array([True, False, True]), "initial": 5.0},
     "initial="), (np.amax, {"out": np.empty(())}, "out=")],
    ids=["sum-initial", "sum-where", "sum-dtype", "mean-where", "max-initial", "min-where", "amax-out"],
)  # fmt: skip
def test_reductions_refuse_extra_arguments_with_grad_and_compute_them_without(
    func: Any, kwargs: dict, name: str
) -> None:
    a = np.array([3.0, -1.0, 2.0])
    with pytest.raises(TypeError, match=rf"numpy\.{func.__name__}'s {name} argument"):
        func(_leaf(a), **kwargs)
    got = func(Tensor(a), **kwargs)
    expected = func(a, **{k: (np.empty(()) if k == "out" else v) for k, v in kwargs.items()})
    np.testing.assert_allclose(np.asarray(got.data if isinstance(got, Tensor) else got), expected, rtol=1e-6)


def test_unknown_keyword_is_named() -> None:
    t = Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"numpy\.sum\(\).*'bogus'"):
        call_function(np.sum, (t,), {"bogus": 1})
    with pytest.raises(TypeError, match=r"numpy\.where\(\).*'x'"):
        call_function(np.where, (t > 0,), {"x": t, "y": t})


# ----------------------------------------------------------------------------- other array types


class _Declines:
    """An array type that handles nothing: numpy should raise its usual error."""

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return NotImplemented

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return NotImplemented


class _Handles:
    """An array type that takes over every call it is part of."""

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return ("handled", func.__name__)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return ("handled", ufunc.__name__, method)


def test_foreign_array_types_are_left_to_numpy_and_themselves() -> None:
    t = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"no implementation found for 'numpy\.concatenate'"):
        np.concatenate([t, _Declines()])
    with pytest.raises(TypeError, match="all returned NotImplemented"):
        np.add(t, _Declines())
    assert np.concatenate([t, _Handles()]) == ("handled", "concatenate")
    assert np.cumsum(t, out=_Handles()) == ("handled", "cumsum")
    assert np.add(t, _Handles()) == ("handled", "add", "__call__")
    assert np.exp(t, out=(_Handles(),)) == ("handled", "exp", "__call__")
    assert np.add.at(t, [0], _Handles()) == ("handled", "add", "at")
    assert call_function(np.sum, (t,), {}, types=(Tensor, _Handles)) is NotImplemented


def test_ndarray_subclasses_are_not_foreign() -> None:
    a = np.array([1.0, 2.0])
    masked = np.ma.masked_array([3.0], mask=[False])
    np.testing.assert_array_equal(np.concatenate([Tensor(a), masked]).data, [1.0, 2.0, 3.0])
    got = call_function(np.sum, (Tensor(a),), {}, types=(Tensor, np.ndarray, np.ma.MaskedArray))
    assert isinstance(got, Tensor) and got.item() == 3.0


# ----------------------------------------------------------------------------- grad mode respected


_ANY_CALL = [
    ("log1p", lambda t: np.log1p(t), lambda a: np.log1p(a)),
    ("add.reduce", lambda t: np.add.reduce(t, axis=1), lambda a: np.add.reduce(a, axis=1)),
    ("add.accumulate", lambda t: np.add.accumulate(t), lambda a: np.add.accumulate(a)),
    ("multiply.outer", lambda t: np.multiply.outer(t[0], t[1]), lambda a: np.multiply.outer(a[0], a[1])),
    ("add.reduceat", lambda t: np.add.reduceat(t, [0, 2], axis=1), lambda a: np.add.reduceat(a, [0, 2], axis=1)),
    ("maximum.reduce", lambda t: np.maximum.reduce(t), lambda a: np.maximum.reduce(a)),
    ("exp-where", lambda t: np.exp(t, where=t > 0.5, out=np.zeros((2, 3))), lambda a: np.exp(a, where=a > 0.5,
     out=np.zeros((2, 3)))),
    ("cumsum", lambda t: np.cumsum(t), lambda a: np.cumsum(a)),
    ("sort", lambda t: np.sort(t, axis=0), lambda a: np.sort(a, axis=0)),
    ("sum-dtype", lambda t: np.sum(t, dtype=np.float32), lambda a: np.sum(a, dtype=np.float32)),
    ("modf", lambda t: np.modf(t)[0], lambda a: np.modf(a)[0]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "call", "plain"), _ANY_CALL, ids=[c[0] for c in _ANY_CALL])
def test_any_numpy_call_works_without_grad(name: str, call: Any, plain: Any) -> None:
    a = np.array([[0.25, 1.5, 0.75], [2.0, 0.5, 1.25]])
    expected = plain(a.copy())
    with ag.no_grad():
        got = call(_leaf(a))
    np.testing.assert_allclose(np.asarray(got.data if isinstance(got, Tensor) else got), expected, rtol=1e-7)
    got = call(Tensor(a))  # grad mode on, but no input requires grad
    np.testing.assert_allclose(np.asarray(got.data if isinstance(got, Tensor) else got), expected, rtol=1e-7)


def test_ufunc_results_are_tensors_without_grad() -> None:
    t = Tensor([[0.25, 1.5], [2.0, 0.5]])
    for result in (np.log1p(t), np.add.reduce(t), np.add.accumulate(t), np.multiply.outer(t[0], t[1])):
        assert isinstance(result, Tensor) and not result.requires_grad
    frac, whole = np.modf(t)
    assert isinstance(frac, Tensor) and isinstance(whole, Tensor)


def test_ufunc_out_writes_into_the_tensor_given_and_moves_its_version() -> None:
    a = np.array([0.0, 1.0, -1.0])
    x = _leaf(a)
    buf = Tensor(np.zeros(3))
    with ag.no_grad():
        assert np.exp(x, out=buf) is buf
    np.testing.assert_array_equal(buf.data, np.exp(a))
    assert buf._version == 1
    assert np.add(Tensor(a), 1.0, buf) is buf  # positional out, grad mode on
    np.testing.assert_array_equal(buf.data, a + 1.0)
    assert buf._version == 2
    quotient, remainder = Tensor(np.zeros(3)), np.zeros(3)
    got = np.divmod(Tensor([5.0, 7.0, -3.0]), 2.0, out=(quotient, remainder))
    assert got[0] is quotient and got[1] is remainder
    np.testing.assert_array_equal(quotient.data, [2.0, 3.0, -2.0])
    np.testing.assert_array_equal(remainder, [1.0, 1.0, 1.0])
    assert quotient._version == 1


def test_out_into_a_tensor_saved_for_backward_is_caught() -> None:
    x = _leaf(np.array([1.0, 2.0]))
    y = (x * x).sum()
    with ag.no_grad():
        np.multiply(x, 2.0, out=x)
    np.testing.assert_array_equal(x.data, [2.0, 4.0])
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_ufunc_at_changes_the_tensor_in_place() -> None:
    t = Tensor(np.zeros(4))
    assert np.add.at(t, [0, 0, 2], 1.0) is None
    np.testing.assert_array_equal(t.data, [2.0, 0.0, 1.0, 0.0])
    assert t._version == 1
    x = _leaf(np.zeros(3))
    with ag.no_grad():
        assert np.add.at(x, np.array([1, 1]), Tensor([1.0, 2.0])) is None
    np.testing.assert_array_equal(x.data, [0.0, 3.0, 0.0])
    assert x._version == 1


@pytest.mark.parametrize(
    ("call", "what"),
    [(lambda x: np.exp(x, out=np.empty(3)), r"numpy\.exp's out= argument"),
     (lambda x: np.exp(x, where=np.array([True, False, True])), r"numpy\.exp's where= argument"),
     (lambda x: np.multiply(x, 2.0, dtype=np.float32), r"numpy\.multiply's dtype= argument"),
     (lambda x: np.add(x, 1, casting="unsafe"), r"numpy\.add's casting= argument"),
     (lambda x: np.add.reduce(x), r"numpy\.add\.reduce"),
     (lambda x: np.multiply.outer(x, x), r"numpy\.multiply\.outer"),
     (lambda x: np.maximum.accumulate(x), r"numpy\.maximum\.accumulate"),
     (lambda x: np.add.at(x, [0], 1.0), r"numpy\.add\.at"),
     (lambda x: np.add.at(np.zeros(3), [0], x), r"numpy\.add\.at"),
     (lambda x: np.add(np.zeros(3), x, out=np.zeros(3)), r"numpy\.add's out= argument"),
     (lambda x: np.floor(Tensor([1.5, 2.5, 0.5]), out=x), r"numpy\.floor with out= a tensor that requires grad")],
    ids=["out", "where", "dtype", "casting", "reduce", "outer", "accumulate", "at", "at-values", "ndarray-iadd",
         "out-grad-tensor"],
)  # fmt: skip
def test_ufunc_arguments_and_methods_refused_when_grad_is_needed(call: Any, what: str) -> None:
    x = _leaf(np.array([0.5, 1.0, 2.0]))
    with pytest.raises(TypeError, match=rf"{what}.*require grad.*detach\(\)"):
        call(x)
    np.testing.assert_array_equal(x.data, [0.5, 1.0, 2.0])
    assert x._version == 0


def test_ufunc_default_keywords_still_record() -> None:
    a = np.array([0.5, 1.0, 2.0])
    kwargs = {"casting": "same_kind", "where": True, "order": "K", "dtype": None, "subok": True}
    np.testing.assert_allclose(_grad_of(lambda v: np.exp(v, **kwargs), a), np.exp(a), rtol=1e-15)


def test_constant_ufuncs_accept_everything_when_nothing_is_written_into_a_graph_tensor() -> None:
    a = np.array([0.5, -1.0, 2.0])
    x = _leaf(a)
    out = np.zeros(3, dtype=bool)
    assert np.greater(x, 0, out=out) is out
    np.testing.assert_array_equal(out, a > 0)
    np.testing.assert_array_equal(np.logical_and.reduce(x > 0).data, np.logical_and.reduce(a > 0))


def test_function_without_rule_still_refused_with_grad() -> None:
    x = _leaf(np.array([0.5, 1.0]))
    for call, name in [(np.cumsum, "cumsum"), (np.log1p, "log1p"), (lambda t: np.sort(t), "sort")]:
        with pytest.raises(TypeError, match=rf"numpy\.{name} has no gradient rule"):
            call(x)


# ----------------------------------------------------------------------------- no silent cut under create_graph


class _CubeCopying(ag.Function):
    """x ** 3 whose backward reads x through np.copy: right numbers, but it cuts a graph being recorded."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        return 3 * np.copy(x) ** 2 * grad


def test_np_copy_in_backward_cuts_no_graph_silently() -> None:
    a = np.array([1.0, -2.0, 0.5])
    x = _leaf(a)
    (g,) = ag.grad(_CubeCopying.apply(x).sum(), x)
    np.testing.assert_allclose(g.data, 3 * a**2, rtol=1e-15)
    with pytest.raises(RuntimeError, match=r"_CubeCopying\.backward used np\.copy on a tensor of the graph"):
        ag.grad(_CubeCopying.apply(x).sum(), x, create_graph=True)


def test_np_copy_and_reads_outside_backward() -> None:
    a = np.array([1.0, -2.0])
    copied = np.copy(_leaf(a))
    assert type(copied) is np.ndarray
    np.testing.assert_array_equal(copied, a)
    assert "array" in np.array_repr(_leaf(a))
