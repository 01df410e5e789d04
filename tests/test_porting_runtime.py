"""PyTorch-style runtime: dtypes under torch's names, the default dtype, seeding, tensor factories, nn.init."""

from __future__ import annotations

import copy
import math
import pickle
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import nn
from autograd import Tensor
from autograd import dtypes as D
from autograd import factories as F
from autograd import random as R
from autograd.device import device


@pytest.fixture(autouse=True)
def _restore_default_dtype_and_rng() -> Iterator[None]:
    """Each test may change the default dtype or reseed; the next one starts from where this one did."""
    dtype, state = D.get_default_dtype(), R.get_rng_state()
    yield
    D.set_default_dtype(dtype)
    R.set_rng_state(state)


# ----------------------------------------------------------------------------- dtypes


def test_dtype_names_are_numpy_types_with_torch_meanings() -> None:
    assert D.float32 is np.float32 and D.float is np.float32  # torch.float is float32
    assert D.float64 is np.float64 and D.double is np.float64
    assert D.float16 is np.float16 and D.half is np.float16
    assert D.int64 is np.int64 and D.long is np.int64
    assert D.int32 is np.int32 and D.int is np.int32
    assert D.int16 is np.int16 and D.short is np.int16
    assert D.int8 is np.int8 and D.uint8 is np.uint8 and D.bool is np.bool_
    assert np.zeros(3, dtype=D.float32).dtype == np.float32
    assert Tensor(np.zeros(3, dtype=np.float32)).dtype == D.float32
    assert Tensor(np.zeros(3, dtype=np.float32)).dtype != D.float64
    assert D.finfo(D.float32).eps == np.finfo(np.float32).eps


def test_as_dtype_accepts_dtype_likes_and_refuses_the_rest() -> None:
    assert D.as_dtype(None) is None
    assert D.as_dtype(D.long) == np.dtype(np.int64)
    assert D.as_dtype("float32") == np.dtype(np.float32)
    assert D.as_dtype(np.dtype("int8")) == np.dtype(np.int8)
    assert D.as_dtype(float) == np.dtype(np.float64)  # Python's float is double, as torch maps it
    assert D.as_dtype(">f4") == np.dtype(np.float32) and D.as_dtype(">f4").isnative
    with pytest.raises(TypeError, match="complex"):
        D.as_dtype(np.complex128)
    with pytest.raises(TypeError, match="complex"):
        D.as_dtype(complex)
    with pytest.raises(TypeError, match="not a dtype"):
        D.as_dtype("no_such_type")
    with pytest.raises(TypeError, match="none of these"):
        D.as_dtype(str)


def test_default_dtype_is_float64_and_drives_the_float_factories() -> None:
    assert D.get_default_dtype() == np.float64
    D.set_default_dtype(D.float32)
    assert D.get_default_dtype() == np.float32
    made = [
        F.zeros(2), F.ones(2), F.empty(2), F.full((2,), 1.5), F.eye(2), F.arange(0.0, 2), F.linspace(0, 1, 3),
        F.rand(2), F.randn(2), F.as_tensor([1.0, 2.0]), F.zeros(2, requires_grad=True),
    ]  # fmt: skip
    assert [t.dtype for t in made] == [np.float32] * len(made)
    assert F.arange(3).dtype == np.int64 and F.full((1,), 3).dtype == np.int64  # integers stay int64
    D.set_default_dtype(np.float64)
    assert F.zeros(1).dtype == np.float64


@pytest.mark.parametrize("bad", [D.int64, D.bool, "int32", None, "nope"])
def test_default_dtype_must_be_floating_point(bad: Any) -> None:
    with pytest.raises(TypeError, match="floating-point"):
        D.set_default_dtype(bad)
    assert D.get_default_dtype() == np.float64


# ----------------------------------------------------------------------------- seeding


def test_manual_seed_seeds_the_default_generator_like_numpy() -> None:
    generator = R.manual_seed(5)
    assert generator is R.default_generator() and isinstance(generator, np.random.Generator)
    assert R.initial_seed() == 5
    np.testing.assert_array_equal(F.rand(4)._data, np.random.default_rng(5).random(4))
    R.manual_seed(5)
    np.testing.assert_array_equal(F.randn(2, 3)._data, np.random.default_rng(5).standard_normal((2, 3)))
    R.manual_seed(5)
    np.testing.assert_array_equal(F.randint(10, (6,))._data, np.random.default_rng(5).integers(0, 10, 6))


def test_manual_seed_reseeds_in_place_so_held_references_follow() -> None:
    held = R.default_generator()
    R.manual_seed(11)
    assert held.random() == np.random.default_rng(11).random()


def _every_random_draw() -> list[np.ndarray]:
    like = np.zeros((2, 3), dtype=np.float32)
    w = nn.Parameter(np.empty((6, 4)))
    draws = [
        F.rand(3, 2), F.randn(5), F.randint(0, 7, (4,)), F.rand_like(like), F.randn_like(like),
        F.rand(3, dtype=D.float16), nn.Linear(4, 3).weight,
    ]  # fmt: skip
    draws = [t._data.copy() for t in draws]
    for init in (
        nn.init.uniform_, nn.init.normal_, nn.init.trunc_normal_, nn.init.xavier_uniform_, nn.init.xavier_normal_,
        nn.init.kaiming_uniform_, nn.init.kaiming_normal_, nn.init.orthogonal_, nn.init.lecun_normal_,
    ):  # fmt: skip
        draws.append(init(w)._data.copy())
    return draws


def test_the_same_seed_repeats_every_factory_and_initialiser() -> None:
    R.manual_seed(123)
    first = _every_random_draw()
    R.manual_seed(123)
    second = _every_random_draw()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    R.manual_seed(124)
    assert not np.array_equal(_every_random_draw()[0], first[0])


def test_linear_weights_repeat_after_manual_seed_and_follow_torch_bounds() -> None:
    """Linear draws weight then bias from U(-1/sqrt(in), 1/sqrt(in)) with the default generator."""
    R.manual_seed(0)
    layer = nn.Linear(5, 3)
    rng = np.random.default_rng(0)
    bound = 1 / math.sqrt(5)
    np.testing.assert_allclose(layer.weight._data, rng.uniform(-bound, bound, (3, 5)), rtol=1e-12)
    np.testing.assert_allclose(layer.bias._data, rng.uniform(-bound, bound, 3), rtol=1e-12)


def test_seed_and_initial_seed() -> None:
    chosen = R.seed()
    assert isinstance(chosen, int) and 0 <= chosen < 2**64 and R.initial_seed() == chosen
    assert R.manual_seed(-1).initial_seed() == 2**64 - 1  # negative seeds wrap, as in torch
    with pytest.raises(ValueError, match="64 bits"):
        R.manual_seed(2**64)
    with pytest.raises(TypeError, match="integer"):
        R.manual_seed(1.5)


def test_generator_objects() -> None:
    g = R.Generator()
    assert g.initial_seed() == R.DEFAULT_SEED == R.Generator("cpu").initial_seed()
    assert g.manual_seed(3) is g and g.initial_seed() == 3
    np.testing.assert_array_equal(F.rand(3, generator=g)._data, np.random.default_rng(3).random(3))
    state = g.get_state()
    after = g.random(2)
    np.testing.assert_array_equal(g.set_state(state).random(2), after)
    g.set_state(state)
    for twin in (copy.deepcopy(g), pickle.loads(pickle.dumps(g))):
        assert type(twin) is R.Generator and twin.initial_seed() == 3
        np.testing.assert_array_equal(twin.random(2), after)
    with pytest.raises(RuntimeError, match="not available"):
        R.Generator("cuda")
    with pytest.raises(TypeError, match="get_state"):
        g.set_state({"bit_generator": "MT19937"})


def test_an_explicit_generator_wins_and_leaves_the_default_alone() -> None:
    R.manual_seed(1)
    np.testing.assert_array_equal(F.randn(3, generator=np.random.default_rng(9))._data,
                                  np.random.default_rng(9).standard_normal(3))  # fmt: skip
    w = nn.init.uniform_(nn.Parameter(np.empty(4)), generator=np.random.default_rng(9))
    np.testing.assert_array_equal(w._data, np.random.default_rng(9).uniform(0, 1, 4))
    np.testing.assert_array_equal(F.rand(2)._data, np.random.default_rng(1).random(2))  # default not advanced
    with pytest.raises(TypeError, match="generator must be"):
        F.rand(2, generator=7)


# ----------------------------------------------------------------------------- factory sizes, devices, grads


@pytest.mark.parametrize("factory", [F.zeros, F.ones, F.empty, F.rand, F.randn])
def test_sizes_as_varargs_tuple_list_or_keyword(factory: Callable[..., Tensor]) -> None:
    assert factory(3, 4).shape == (3, 4)
    assert factory((3, 4)).shape == (3, 4)
    assert factory([3, 4]).shape == (3, 4)
    assert factory(size=(2,)).shape == (2,)
    assert factory(()).shape == ()
    assert factory(0).shape == (0,)
    assert factory(np.int64(2)).shape == (2,)
    with pytest.raises(TypeError, match="must be integers"):
        factory(2.5)
    with pytest.raises(RuntimeError, match="non-negative"):
        factory(2, -1)
    with pytest.raises(TypeError, match="missing its size"):
        factory()


_ALL_FACTORIES: list[Callable[..., Tensor]] = [
    lambda **kw: F.zeros(2, **kw), lambda **kw: F.ones(2, **kw), lambda **kw: F.empty(2, **kw),
    lambda **kw: F.full((2,), 1.0, **kw), lambda **kw: F.eye(2, **kw), lambda **kw: F.arange(2.0, **kw),
    lambda **kw: F.linspace(0, 1, 2, **kw), lambda **kw: F.rand(2, **kw), lambda **kw: F.randn(2, **kw),
    lambda **kw: F.zeros_like(np.zeros(2), **kw), lambda **kw: F.ones_like(np.zeros(2), **kw),
    lambda **kw: F.full_like(np.zeros(2), 3, **kw), lambda **kw: F.empty_like(np.zeros(2), **kw),
    lambda **kw: F.rand_like(np.zeros(2), **kw), lambda **kw: F.randn_like(np.zeros(2), **kw),
]  # fmt: skip


@pytest.mark.parametrize("factory", _ALL_FACTORIES)
def test_device_cpu_works_and_gpus_are_a_clear_error(factory: Callable[..., Tensor]) -> None:
    for cpu in ("cpu", "cpu:0", device("cpu"), None):
        assert factory(device=cpu).shape[0] == 2
    for gpu in ("cuda", "cuda:0", "mps"):
        with pytest.raises(RuntimeError, match=r"not available.*CPU only"):
            factory(device=gpu)
    with pytest.raises(RuntimeError, match="not available"):
        F.randint(3, (2,), device="cuda")
    with pytest.raises(RuntimeError, match="not available"):
        F.as_tensor([1.0], device="cuda")


@pytest.mark.parametrize("factory", _ALL_FACTORIES)
def test_requires_grad_makes_a_float_leaf(factory: Callable[..., Tensor]) -> None:
    t = factory(requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.dtype == np.float64
    assert not factory().requires_grad


@pytest.mark.parametrize(
    "make",
    [
        lambda: F.zeros(3, dtype=D.int64, requires_grad=True),
        lambda: F.ones(2, dtype=D.bool, requires_grad=True),
        lambda: F.arange(3, requires_grad=True),  # int64, as in torch
        lambda: F.full((2,), 1, requires_grad=True),
        lambda: F.randint(5, (2,), requires_grad=True),
        lambda: F.zeros_like(np.zeros(2, dtype=np.int32), requires_grad=True),
    ],
)
def test_requires_grad_on_an_integer_dtype_is_an_error(make: Callable[[], Tensor]) -> None:
    with pytest.raises(RuntimeError, match="Only Tensors of floating point dtype can require gradients"):
        make()


# ----------------------------------------------------------------------------- factory values


def test_constant_factories() -> None:
    np.testing.assert_array_equal(F.zeros(2, 3)._data, np.zeros((2, 3)))
    np.testing.assert_array_equal(F.ones(2, dtype=D.int32)._data, np.ones(2, dtype=np.int32))
    assert F.ones(2, dtype=D.int32).dtype == np.int32 and F.empty(2, 2, dtype=D.uint8).dtype == np.uint8
    t = F.full((2, 2), 7)
    assert t.dtype == np.int64 and np.all(t._data == 7)
    assert F.full((2,), True).dtype == np.bool_ and F.full([2], np.bool_(False)).dtype == np.bool_
    assert F.full((2,), 2.5).dtype == np.float64 and np.all(F.full((2,), 2.5)._data == 2.5)
    assert F.full((2,), 7, dtype=D.float32).dtype == np.float32
    assert F.full((), F.as_tensor(4.0)).item() == 4.0
    with pytest.raises(TypeError, match="tuple of ints"):
        F.full(3, 1.0)
    with pytest.raises(TypeError, match="real number"):
        F.full((2,), 1j)
    np.testing.assert_array_equal(F.eye(3)._data, np.eye(3))
    np.testing.assert_array_equal(F.eye(2, 3, dtype=D.int64)._data, [[1, 0, 0], [0, 1, 0]])
    with pytest.raises(RuntimeError, match="non-negative"):
        F.eye(-1)


def test_arange() -> None:
    t = F.arange(5)
    assert t.dtype == np.int64 and t.tolist() == [0, 1, 2, 3, 4]
    assert F.arange(1, 10, 3).tolist() == [1, 4, 7]
    assert F.arange(5, 0, -2).tolist() == [5, 3, 1]
    assert F.arange(2, 2).shape == (0,)
    quarter = F.arange(0, 1, 0.25)
    assert quarter.dtype == np.float64 and quarter.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert F.arange(0.5, 3).tolist() == [0.5, 1.5, 2.5]
    assert F.arange(np.int64(3)).dtype == np.int64 and F.arange(3.0).dtype == np.float64
    assert F.arange(4, dtype=D.float32).dtype == np.float32
    # 0.1 * 3 is 0.30000000000000004 in float64; arange computes start + i * step, not a running sum
    np.testing.assert_array_equal(F.arange(0, 1, 0.1)._data, 0.1 * np.arange(10))
    assert F.arange(0.5, 3.9, dtype=D.int64).tolist() == [0, 1, 2]  # an integer dtype truncates first
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        F.arange(0, 1, 0.5, dtype=D.int64)
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        F.arange(0, 5, 0)
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        F.arange(5, 0)
    with pytest.raises(TypeError, match="real number"):
        F.arange("3")


def test_linspace() -> None:
    np.testing.assert_array_equal(F.linspace(0, 1, 5)._data, [0.0, 0.25, 0.5, 0.75, 1.0])
    assert F.linspace(-1, 1, 1).tolist() == [-1.0] and F.linspace(0, 1, 0).shape == (0,)
    assert F.linspace(2, 3, 2).tolist() == [2.0, 3.0]
    t = F.linspace(0.1, 7.3, 101)
    step = (7.3 - 0.1) / 100  # the first half counts up from start, the second half down from end
    i = np.arange(101)
    expected = np.where(i < 50, 0.1 + step * i, 7.3 - step * (100 - i))
    np.testing.assert_array_equal(t._data, expected)
    assert t._data[-1] == 7.3 and t.dtype == np.float64
    assert F.linspace(0, 1, 3, dtype=D.float32).dtype == np.float32
    # integer dtype: start and end truncated, steps of 11/3 in float64, values truncated: -1, 2.67, 6.33, 10
    assert F.linspace(-1, 10, 4, dtype=D.int64).tolist() == [-1, 2, 6, 10]
    with pytest.raises(RuntimeError, match="non-negative"):
        F.linspace(0, 1, -1)
    with pytest.raises(TypeError, match="steps must be an integer"):
        F.linspace(0, 1, 2.0)


def test_rand_and_randn() -> None:
    u = F.rand(200_000, generator=np.random.default_rng(0))
    assert u.dtype == np.float64 and 0 <= u._data.min() and u._data.max() < 1
    np.testing.assert_array_equal(u._data, np.random.default_rng(0).random(200_000))
    for dtype in (D.float32, D.float16):
        small = F.rand(100_000, dtype=dtype)
        assert small.dtype == dtype and 0 <= small._data.min() and small._data.max() < 1
    n = F.randn(3, 4, dtype=D.float32, generator=np.random.default_rng(2))
    assert n.dtype == np.float32
    np.testing.assert_array_equal(n._data, np.random.default_rng(2).standard_normal((3, 4), dtype=np.float32))
    with pytest.raises(TypeError, match="floating"):
        F.rand(3, dtype=D.int64)
    with pytest.raises(TypeError, match="floating"):
        F.randn(3, dtype=D.bool)


def test_randint() -> None:
    t = F.randint(10, (1000,))
    assert t.dtype == np.int64 and t.shape == (1000,)
    assert sorted(set(t.tolist())) == list(range(10))  # missing a value has probability < 1e-44
    assert set(F.randint(3, 5, (200,)).tolist()) <= {3, 4}
    assert F.randint(5, size=(2, 3)).shape == (2, 3) and F.randint(high=5, size=[4]).shape == (4,)
    assert F.randint(-2, 0, ()).shape == ()
    np.testing.assert_array_equal(F.randint(2, 9, (5,), generator=np.random.default_rng(4))._data,
                                  np.random.default_rng(4).integers(2, 9, 5))  # fmt: skip
    as_float = F.randint(0, 4, (50,), dtype=D.float32)
    assert as_float.dtype == np.float32 and np.all(as_float._data == np.round(as_float._data))
    assert F.randint(0, 2, (4,), dtype=D.bool).dtype == np.bool_
    with pytest.raises(TypeError, match="needs a size tuple"):
        F.randint(10, 3)
    with pytest.raises(TypeError, match="needs a size tuple"):
        F.randint(10)
    with pytest.raises(TypeError, match="tuple of ints"):
        F.randint(0, 10, 3)
    with pytest.raises(RuntimeError, match="low must be less than high"):
        F.randint(3, 3, (2,))
    with pytest.raises(RuntimeError, match="do not fit in dtype uint8"):
        F.randint(0, 300, (2,), dtype=D.uint8)


def test_like_factories_keep_shape_and_dtype() -> None:
    source = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    for made in (F.zeros_like(source), F.ones_like(source), F.empty_like(source), F.rand_like(source),
                 F.randn_like(source), F.full_like(source, 2)):  # fmt: skip
        assert made.shape == (2, 3) and made.dtype == np.float32 and not made.requires_grad
    np.testing.assert_array_equal(F.zeros_like(source)._data, np.zeros((2, 3)))
    np.testing.assert_array_equal(F.ones_like(np.zeros(2, dtype=np.int16))._data, np.ones(2, dtype=np.int16))
    assert F.ones_like(np.zeros(2, dtype=np.int16)).dtype == np.int16
    assert F.full_like(np.zeros(2, dtype=np.int64), 2.7).tolist() == [2, 2]  # the input's dtype, truncated
    assert F.zeros_like(source, dtype=D.float64).dtype == np.float64
    assert F.randn_like(np.zeros(3, dtype=np.int64), dtype=D.float32).dtype == np.float32
    np.testing.assert_array_equal(F.rand_like(source, generator=np.random.default_rng(6))._data,
                                  np.random.default_rng(6).random((2, 3), dtype=np.float32))  # fmt: skip
    with pytest.raises(TypeError, match="floating"):
        F.rand_like(np.zeros(2, dtype=np.int64))
    with pytest.raises(TypeError, match="complex"):
        F.zeros_like(np.zeros(2, dtype=complex))


def test_from_numpy_shares_memory_and_keeps_dtype() -> None:
    a = np.arange(3, dtype=np.int32)
    t = F.from_numpy(a)
    assert t.dtype == np.int32 and t._data is a
    a[0] = 5
    assert t.tolist() == [5, 1, 2]
    t[1] = 7
    assert a.tolist() == [5, 7, 2]
    with pytest.raises(TypeError, match="expected a numpy ndarray"):
        F.from_numpy([1, 2])
    with pytest.raises(TypeError, match="complex"):
        F.from_numpy(np.zeros(2, dtype=complex))


def test_as_tensor_shares_when_it_can() -> None:
    a = np.zeros(3, dtype=np.float32)
    assert F.as_tensor(a)._data is a and F.as_tensor(a, dtype=D.float32)._data is a
    converted = F.as_tensor(a, dtype=D.float64)
    assert converted.dtype == np.float64 and not np.shares_memory(converted._data, a)
    t = Tensor([1.0, 2.0], requires_grad=True)
    assert F.as_tensor(t) is t and F.as_tensor(t, dtype=D.float64) is t
    cast = F.as_tensor(t, dtype=D.float32)
    assert cast.dtype == np.float32 and cast.requires_grad  # converted in the graph, as torch's .to()
    assert F.as_tensor([1, 2]).dtype == np.int64 and F.as_tensor([True]).dtype == np.bool_
    assert F.as_tensor([1.0, 2]).dtype == np.float64 and F.as_tensor(3.0).shape == ()
    assert F.as_tensor(np.float32(1.5)).dtype == np.float32
    assert F.as_tensor([1, 2], dtype=D.float32).dtype == np.float32
    D.set_default_dtype(D.float32)
    assert F.as_tensor([1.0]).dtype == np.float32 and F.as_tensor(np.zeros(1)).dtype == np.float64
    with pytest.raises(TypeError, match="complex"):
        F.as_tensor([1j])
    with pytest.raises(TypeError, match="rectangular"):
        F.as_tensor([[1, 2], [3]])


# ----------------------------------------------------------------------------- nn.init


def test_calculate_gain() -> None:
    for linear in ("linear", "conv1d", "conv2d", "conv_transpose3d", "sigmoid"):
        assert nn.init.calculate_gain(linear) == 1
    assert nn.init.calculate_gain("tanh") == 5 / 3
    assert nn.init.calculate_gain("relu") == math.sqrt(2)
    assert nn.init.calculate_gain("selu") == 3 / 4
    assert nn.init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert nn.init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    assert nn.init.calculate_gain("leaky_relu", 0) == math.sqrt(2)
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        nn.init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope x not a valid number"):
        nn.init.calculate_gain("leaky_relu", "x")


def test_fans() -> None:
    fans = nn.init._calculate_fan_in_and_fan_out
    assert fans(nn.Parameter(np.empty((400, 300)))) == (300, 400)
    assert fans(nn.Parameter(np.empty((8, 4, 3, 3)))) == (4 * 9, 8 * 9)  # conv: channels times kernel size
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        fans(nn.Parameter(np.empty(5)))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(nn.Parameter(np.empty(5)))


def _w(*shape: int) -> nn.Parameter:
    return nn.Parameter(np.empty(shape))


@pytest.mark.parametrize(
    ("fill", "draw"),
    [
        # kaiming_uniform_: bound = gain * sqrt(3 / fan). a=sqrt(5): gain sqrt(2 / 6), bound 1/sqrt(fan_in)
        (lambda w, g: nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=g),
         lambda r: r.uniform(-1 / math.sqrt(30), 1 / math.sqrt(30), (20, 30))),
        # default a=0 with leaky_relu: gain sqrt(2), bound sqrt(6 / fan_in)
        (lambda w, g: nn.init.kaiming_uniform_(w, generator=g),
         lambda r: r.uniform(-math.sqrt(6 / 30), math.sqrt(6 / 30), (20, 30))),
        # tanh, fan_out: bound 5/3 * sqrt(3 / 20)
        (lambda w, g: nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="tanh", generator=g),
         lambda r: r.uniform(-5 / 3 * math.sqrt(3 / 20), 5 / 3 * math.sqrt(3 / 20), (20, 30))),
        # kaiming_normal_: std = gain / sqrt(fan); relu, fan_out: sqrt(2 / 20)
        (lambda w, g: nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu", generator=g),
         lambda r: math.sqrt(2 / 20) * r.standard_normal((20, 30))),
        # leaky_relu slope 0.2, fan_in: sqrt(2 / 1.04) / sqrt(30)
        (lambda w, g: nn.init.kaiming_normal_(w, a=0.2, generator=g),
         lambda r: math.sqrt(2 / 1.04 / 30) * r.standard_normal((20, 30))),
        # xavier: gain * sqrt(6 / (fan_in + fan_out)) and gain * sqrt(2 / (fan_in + fan_out))
        (lambda w, g: nn.init.xavier_uniform_(w, gain=2.0, generator=g),
         lambda r: r.uniform(-2 * math.sqrt(6 / 50), 2 * math.sqrt(6 / 50), (20, 30))),
        (lambda w, g: nn.init.xavier_normal_(w, generator=g),
         lambda r: math.sqrt(2 / 50) * r.standard_normal((20, 30))),
        (lambda w, g: nn.init.normal_(w, 1.5, 0.25, generator=g),
         lambda r: 1.5 + 0.25 * r.standard_normal((20, 30))),
        (lambda w, g: nn.init.uniform_(w, -3, 2, generator=g),
         lambda r: r.uniform(-3, 2, (20, 30))),
        (lambda w, g: nn.init.lecun_normal_(w, generator=g),
         lambda r: r.standard_normal((20, 30)) / math.sqrt(30)),
    ],
)  # fmt: skip
def test_initialisers_follow_torch_formulas_exactly(
    fill: Callable[[Tensor, Any], Tensor], draw: Callable[[np.random.Generator], np.ndarray]
) -> None:
    w = _w(20, 30)  # fan_in 30, fan_out 20
    assert fill(w, np.random.default_rng(0)) is w
    np.testing.assert_allclose(w._data, draw(np.random.default_rng(0)), rtol=1e-12, atol=1e-15)
    R.manual_seed(3)  # without generator=, the default generator
    fill(w, None)
    np.testing.assert_allclose(w._data, draw(np.random.default_rng(3)), rtol=1e-12, atol=1e-15)


def test_initialiser_errors_and_edge_cases() -> None:
    with pytest.raises(RuntimeError, match=r"\[from, to\) range"):
        nn.init.uniform_(_w(3), 1, 0)
    with pytest.raises(RuntimeError, match=r"std >= 0\.0"):
        nn.init.normal_(_w(3), 0, -1)
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        nn.init.kaiming_uniform_(_w(2, 2), mode="fan_avg")
    empty = _w(0, 3)
    with pytest.warns(UserWarning, match="zero-element"):
        assert nn.init.kaiming_normal_(empty) is empty


def test_constant_initialisers_keep_the_dtype() -> None:
    w = nn.Parameter(np.empty((2, 3), dtype=np.float32))
    assert nn.init.constant_(w, 0.5) is w and w.dtype == np.float32 and np.all(w._data == 0.5)
    assert np.all(nn.init.zeros_(w)._data == 0) and np.all(nn.init.ones_(w)._data == 1)
    np.testing.assert_array_equal(nn.init.eye_(w)._data, np.eye(2, 3))
    assert w.dtype == np.float32 and w.requires_grad
    with pytest.raises(ValueError, match="2 dimensions"):
        nn.init.eye_(_w(2, 2, 2))


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (4, 2, 3)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape: tuple[int, ...]) -> None:
    w = nn.init.orthogonal_(_w(*shape), gain=2.0, generator=np.random.default_rng(0))
    m = w._data.reshape(shape[0], -1)
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(gram, 4 * np.eye(min(m.shape)), atol=1e-12)  # gain**2 on the diagonal
    with pytest.raises(ValueError, match="2 or more dimensions"):
        nn.init.orthogonal_(_w(3))


def _standard_normal_pdf(x: float) -> float:
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _standard_normal_cdf(x: float) -> float:
    return (1 + math.erf(x / math.sqrt(2))) / 2


@pytest.mark.parametrize(("mean", "std", "a", "b"), [(0, 1, -2, 2), (1, 0.5, 0, 2), (0, 1, 3, 4), (0, 1, -4, -3)])
def test_trunc_normal_matches_the_truncated_distribution(mean: float, std: float, a: float, b: float) -> None:
    """Mean and std of N(mean, std) truncated to [a, b], by the textbook formulas, on a seeded large sample."""
    w = nn.init.trunc_normal_(_w(200, 200), mean, std, a, b, generator=np.random.default_rng(0))
    values = w._data
    assert a <= values.min() and values.max() <= b
    alpha, beta = (a - mean) / std, (b - mean) / std
    mass = _standard_normal_cdf(beta) - _standard_normal_cdf(alpha)
    shift = (_standard_normal_pdf(alpha) - _standard_normal_pdf(beta)) / mass
    variance = 1 + (alpha * _standard_normal_pdf(alpha) - beta * _standard_normal_pdf(beta)) / mass - shift**2
    true_mean, true_std = mean + std * shift, std * math.sqrt(variance)
    assert abs(values.mean() - true_mean) < 0.02 * std  # the sample's standard error is below 0.005 * std
    assert abs(values.std() / true_std - 1) < 0.02


def test_trunc_normal_edge_cases() -> None:
    with pytest.raises(ValueError, match="a <= b"):
        nn.init.trunc_normal_(_w(3), a=1, b=0)
    assert np.all(nn.init.trunc_normal_(_w(3), mean=5, std=0, a=-2, b=2)._data == 2)
