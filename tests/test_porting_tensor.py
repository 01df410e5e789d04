"""PyTorch's tensor surface: dim= and numpy's axis= side by side, max/min with a dim, size(),
conversions and devices, the other method names, and graph walking with next_functions."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag

M = np.array([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])


def leaf(values: object) -> ag.Tensor:
    return ag.tensor(values, requires_grad=True)


# --------------------------------------------------------------------------- dim= and axis=


@pytest.mark.parametrize("op", ["sum", "mean", "prod", "logsumexp"])
def test_reductions_take_dim_positionally_or_by_either_name(op: str) -> None:
    x = ag.tensor(M)
    ref = getattr(np, op if op != "logsumexp" else "sum")
    expected = np.log(np.exp(M).sum(axis=1, keepdims=True)) if op == "logsumexp" else ref(M, axis=1, keepdims=True)
    for result in (
        getattr(x, op)(1, True),
        getattr(x, op)(dim=1, keepdim=True),
        getattr(x, op)(axis=1, keepdims=True),
        getattr(ag, op)(x, 1, True),
    ):
        np.testing.assert_allclose(result.data, expected, rtol=1e-15)
    assert getattr(x, op)(dim=[0, 1]).shape == ()  # a list of dims


def test_dim_and_axis_together_is_an_error() -> None:
    with pytest.raises(TypeError, match=r"sum: give dim .* or axis .*, not both"):
        ag.tensor(M).sum(0, axis=1)
    with pytest.raises(TypeError, match="softmax: give dim"):
        ag.tensor(M).softmax(0, axis=1)


def test_var_takes_unbiased_and_correction() -> None:
    x = ag.tensor(M)
    row = M[0]
    assert x.var(1)[0].item() == pytest.approx(((row - 3) ** 2).sum() / 2)  # PyTorch's default: n - 1
    assert x.var(1, unbiased=False)[0].item() == pytest.approx(((row - 3) ** 2).sum() / 3)
    assert x.var(dim=1, correction=0)[0].item() == pytest.approx(((row - 3) ** 2).sum() / 3)
    with pytest.raises(TypeError, match=r"unbiased= .* or correction=, not both"):
        x.var(1, unbiased=True, correction=0)


def test_shape_methods_take_dim() -> None:
    x = ag.tensor(np.ones((2, 1, 3)))
    assert x.squeeze(dim=1).shape == (2, 3) and x.squeeze(axis=1).shape == (2, 3)
    assert x.unsqueeze(dim=0).shape == (1, 2, 1, 3) and ag.unsqueeze(x, -1).shape == (2, 1, 3, 1)
    assert ag.cat([x, x], dim=2).shape == (2, 1, 6) and ag.cat([x, x], axis=0).shape == (4, 1, 3)
    assert ag.stack([x, x], dim=1).shape == (2, 2, 1, 3)
    assert [p.shape for p in x.split(2, dim=2)] == [(2, 1, 2), (2, 1, 1)]
    np.testing.assert_allclose(ag.tensor(M).softmax(dim=0).data.sum(axis=0), [1.0, 1.0, 1.0])


# --------------------------------------------------------------------------- max and min


def test_max_with_a_dim_returns_values_and_indices() -> None:
    x = leaf(M)
    values, indices = x.max(1)
    assert values.tolist() == [5.0, 6.0] and indices.tolist() == [1, 2] and indices.dtype == np.int64
    result = ag.max(x, dim=1, keepdim=True)
    assert result.values.shape == (2, 1) and result.indices.tolist() == [[1], [2]]
    low = x.min(0)
    assert low.values.tolist() == [1.0, 2.0, 3.0] and low.indices.tolist() == [0, 1, 0]
    values.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


def test_the_classic_accuracy_line_counts_predictions() -> None:
    logits = ag.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    labels = ag.tensor([1, 0, 0])
    _, predicted = ag.max(logits, 1)
    assert (predicted == labels).sum().item() == 2


def test_numpy_spellings_keep_numpy_meaning() -> None:
    x = ag.tensor(M)
    assert x.max(axis=1).tolist() == [5.0, 6.0]  # values only, as numpy
    assert np.max(x, axis=1).tolist() == [5.0, 6.0]
    assert x.max().item() == 6.0 and ag.min(x).item() == 1.0
    assert ag.max(x, ag.tensor(4.0)).tolist() == [[4.0, 5.0, 4.0], [4.0, 4.0, 6.0]]  # elementwise, as torch.max(a, b)


def test_argmax_and_argmin() -> None:
    x = ag.tensor(M)
    assert x.argmax().item() == 5 and x.argmax(dim=1).tolist() == [1, 2] and x.argmin(1, keepdim=True).shape == (2, 1)
    assert ag.argmax(x, axis=0).tolist() == [1, 0, 1]


# --------------------------------------------------------------------------- size, dim, conversions


def test_size_is_both_numpys_count_and_pytorchs_method() -> None:
    x = ag.tensor(np.zeros((2, 3)))
    assert x.size == 6 and x.size + 1 == 7 and isinstance(x.size, int)
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-2) == 2
    assert x.numel() == 6 and x.dim() == 2 and x.ndimension() == 2
    with pytest.raises(IndexError, match=r"size\(2\): dim out of range for a tensor of shape \(2, 3\)"):
        x.size(2)


def test_conversions() -> None:
    x = leaf([1.5, -2.5])
    y = x.float()
    assert y.dtype == np.float32 and y.requires_grad
    (y * 2).sum().backward()
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [2.0, 2.0]
    assert x.long().tolist() == [1, -2] and not x.long().requires_grad
    assert x.int().dtype == np.int32 and x.bool().tolist() == [True, True] and x.half().dtype == np.float16
    assert x.double() is x and x.type(np.float32).dtype == np.float32 and x.type() == "autograd.DoubleTensor"
    assert x.to(np.float32).dtype == np.float32 and x.to("cpu") is x
    assert x.to(ag.tensor([1], dtype=np.int64)).dtype == np.int64
    assert x.cpu() is x and x.device == ag.device("cpu") and str(x.device) == "cpu"


def test_asking_for_a_gpu_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match=r"'cuda' is not available: this build .* CPU only"):
        ag.tensor([1.0]).to("cuda")
    assert not ag.cuda.is_available() and not ag.backends.mps.is_available() and not ag.accelerator.is_available()
    assert ag.cuda.device_count() == 0


# --------------------------------------------------------------------------- other names


def test_other_method_names() -> None:
    x = ag.tensor(M)
    assert x.pow(2).tolist() == (M**2).tolist() and ag.pow(x, 2).tolist() == (M**2).tolist()
    assert x.t().shape == (3, 2) and ag.tensor([1.0, 2.0]).t().shape == (2,)
    assert x.mm(x.t()).tolist() == (M @ M.T).tolist() and ag.mm(x, x.t()).shape == (2, 2)
    with pytest.raises(ValueError, match="mm needs two 2-D tensors"):
        ag.tensor([1.0, 2.0]).mm(x)
    assert ag.tensor([0.5, 1.5, 2.5, -0.5]).round().tolist() == [0.0, 2.0, 2.0, -0.0]  # half to even
    assert x.eq(5.0).tolist() == [[False, True, False], [False, False, False]]
    assert x.gt(3).sum().item() == 3 and x.le(2).sum().item() == 2 and x.ne(1).sum().item() == 5
    assert x.lt(2).sum().item() == 1 and x.ge(6).sum().item() == 1
    assert x.contiguous() is x and x.clone().tolist() == M.tolist() and x.view(3, 2).shape == (3, 2)
    assert x.repeat(2, 1).tolist() == np.tile(M, (2, 1)).tolist() and x.repeat(1, 2, 1).shape == (1, 4, 3)
    assert x.gather(1, np.array([[2, 0], [1, 1]])).tolist() == [[3.0, 1.0], [2.0, 2.0]]
    assert x.prod(1).tolist() == [15.0, 48.0] and x.cumsum(1).tolist() == [[1.0, 6.0, 9.0], [4.0, 6.0, 12.0]]
    assert x.norm().item() == pytest.approx(np.sqrt((M**2).sum())) and x.norm(1, dim=1).tolist() == [9.0, 12.0]
    assert ag.logaddexp(ag.tensor(0.0), ag.tensor(0.0)).item() == pytest.approx(np.log(2))


def test_norm_at_zero_has_a_zero_gradient() -> None:
    x = leaf([0.0, 0.0])
    x.norm().backward()
    assert x.grad.tolist() == [0.0, 0.0]  # PyTorch's convention, not 0 / 0


def test_prod_gradient_with_zeros_is_exact() -> None:
    x = leaf([2.0, 0.0, 3.0])
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 6.0, 0.0]  # d/dx_i of x0 x1 x2: the product of the others


def test_cumsum_needs_a_dim() -> None:
    with pytest.raises(TypeError, match=r"cumsum needs a dim"):
        ag.tensor(M).cumsum()


# --------------------------------------------------------------------------- graph walking


def test_next_functions_walk_the_graph_as_in_pytorch() -> None:
    w = leaf([1.0, 2.0])
    y = (w * 2.0 + ag.tensor([1.0, 1.0])).sum()
    assert y.grad_fn.name() == "Sum"
    ((add, index),) = y.grad_fn.next_functions
    assert add.name() == "Add" and index == 0
    (mul, _), (constant, _) = add.next_functions
    assert mul.name() == "Mul" and constant is None
    (accumulate, _), (scalar, _) = mul.next_functions
    assert accumulate.name() == "AccumulateGrad" and accumulate.variable is w and scalar is None


# --------------------------------------------------------------------------- dtypes of new tensors


def test_integer_data_stays_integer() -> None:
    labels = ag.tensor([1, 0, 2])
    assert labels.dtype == np.int64 and ag.tensor(3).dtype == np.int64 and ag.tensor([True, False]).dtype == np.bool_
    assert ag.tensor([1.0, 2.0]).dtype == np.float64 and ag.tensor([1, 2.5]).dtype == np.float64
    assert ag.tensor([1, 2], requires_grad=True).dtype == np.float64  # promoted so it can have a gradient
    assert ag.Tensor([1, 2]).dtype == np.float64  # the legacy constructor makes floats, as torch.Tensor does
    assert ag.tensor(np.array([1, 2], dtype=np.int32)).dtype == np.int32


def test_the_default_dtype_governs_python_floats() -> None:
    ag.set_default_dtype(ag.float32)
    try:
        assert ag.tensor([1.5]).dtype == np.float32 and ag.Tensor([1, 2]).dtype == np.float32
        assert ag.tensor([1, 2], requires_grad=True).dtype == np.float32 and ag.tensor([1]).dtype == np.int64
    finally:
        ag.set_default_dtype(ag.float64)
    assert ag.tensor([1.5]).dtype == np.float64


def test_legacy_constructors() -> None:
    assert ag.FloatTensor([1, 2]).dtype == np.float32 and ag.FloatTensor([1, 2]).tolist() == [1.0, 2.0]
    assert ag.DoubleTensor([1.5]).dtype == np.float64 and ag.LongTensor([1.9, 2.0]).tolist() == [1, 2]
    assert ag.ByteTensor([1, 255]).dtype == np.uint8 and ag.FloatTensor(2, 3).shape == (2, 3)
    with pytest.raises(TypeError, match=r"takes data .* or sizes"):
        ag.FloatTensor([1.0], [2.0])


def test_arithmetic_names_and_set_grad_enabled() -> None:
    a, b = leaf([1.0, 2.0]), ag.tensor([3.0, 4.0])
    assert a.add(b, alpha=2).tolist() == [7.0, 10.0] and ag.sub(a, b).tolist() == [-2.0, -2.0]
    assert ag.mul(a, b).tolist() == [3.0, 8.0] and a.div(b).tolist() == [1 / 3, 0.5] and a.neg().tolist() == [-1, -2]
    assert ag.square(a).tolist() == [1.0, 4.0] and ag.clamp(a, min=1.5).tolist() == [1.5, 2.0]
    assert a.sign().tolist() == [1.0, 1.0] and a.view_as(b).shape == (2,) and ag.is_tensor(a) and not ag.is_tensor(1)
    with ag.set_grad_enabled(False):
        assert not (a * 2).requires_grad
    assert (a * 2).requires_grad  # back on after the block
    ag.set_grad_enabled(False)
    try:
        assert not ag.is_grad_enabled()
    finally:
        ag.set_grad_enabled(True)


# --------------------------------------------------------------------------- edges


def test_max_with_a_dim_at_the_edges() -> None:
    with pytest.raises(IndexError, match=r"max\(\): expected reduction dim 0 to have non-zero size.*\(0, 3\)"):
        ag.zeros(0, 3).max(0)
    empty_rows = ag.zeros(0, 3).max(1)
    assert empty_rows.values.shape == (0,) and empty_rows.indices.shape == (0,)
    x = leaf(3.0)
    values, indices = x.max(0)  # PyTorch reduces a 0-d tensor along dim 0 to itself
    assert values.item() == 3.0 and indices.item() == 0
    values.backward()
    assert x.grad.item() == 1.0


def test_prod_of_nothing() -> None:
    x = leaf(np.zeros((2, 0)))
    out = x.prod(1)
    assert out.tolist() == [1.0, 1.0]  # the empty product
    out.sum().backward()
    assert x.grad.shape == (2, 0)


def test_the_default_device_is_the_cpu() -> None:
    ag.set_default_device("cpu")
    assert ag.get_default_device() == ag.device("cpu") and str(ag.get_default_device()) == "cpu"
    with pytest.raises(RuntimeError, match=r"device 'mps' is not available: this build .* CPU only"):
        ag.set_default_device("mps")
    assert ag.zeros(2, device="cpu").device == ag.device("cpu")
    with pytest.raises(RuntimeError, match=r"'cuda' is not available"):
        ag.ones(2, device="cuda")
