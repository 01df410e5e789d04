"""Every bad input gets a clear error: each test checks the exception type and what its message says."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor

A_SHAPE, B_SHAPE = (2, 3), (4,)


def _shapes(*shapes: tuple[int, ...]) -> str:
    """A pattern matching every shape, written as Python prints the tuple, in this order."""
    return ".*".join(re.escape(str(s)) for s in shapes)


# ----------------------------------------------------------------------------- broadcasting

_BINARY = [
    ("add", lambda a, b: a + b),
    ("sub", lambda a, b: a - b),
    ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b),
    ("pow", lambda a, b: a**b),
    ("maximum", ag.maximum),
    ("minimum", ag.minimum),
]


@pytest.mark.parametrize(("name", "fn"), _BINARY, ids=[b[0] for b in _BINARY])
@pytest.mark.parametrize("requires_grad", [False, True], ids=["const", "grad"])
def test_binary_ops_name_both_shapes_that_do_not_broadcast(name: str, fn: Any, requires_grad: bool) -> None:
    a = Tensor(np.ones(A_SHAPE), requires_grad=requires_grad)
    b = Tensor(np.ones(B_SHAPE), requires_grad=requires_grad)
    with pytest.raises(ValueError, match=rf"\b{name}\b.*{_shapes(A_SHAPE, B_SHAPE)}.*broadcast"):
        fn(a, b)


def test_broadcast_error_with_ndarray_operand_on_the_left() -> None:
    t = Tensor(np.ones(A_SHAPE), requires_grad=True)
    with pytest.raises(ValueError, match=rf"add.*{_shapes(B_SHAPE, A_SHAPE)}.*broadcast"):
        np.ones(B_SHAPE) + t


class _Hypot(ag.Function):
    """A user's op whose forward broadcasts: it gets the same error as the built-in ones."""

    @staticmethod
    def forward(ctx, a, b):
        if np.ndim(a) > 2:
            raise ValueError("hypot here takes at most two dimensions")
        return np.hypot(a, b)

    @staticmethod
    def backward(ctx, grad):
        raise AssertionError("not called")


@pytest.mark.parametrize("requires_grad", [False, True], ids=["const", "grad"])
def test_a_custom_op_names_its_shapes_when_they_do_not_broadcast(requires_grad: bool) -> None:
    a = Tensor(np.ones(A_SHAPE), requires_grad=requires_grad)
    with pytest.raises(ValueError, match=rf"^_hypot: shapes {_shapes(A_SHAPE, B_SHAPE)} do not broadcast"):
        _Hypot.apply(a, Tensor(np.ones(B_SHAPE)))
    with pytest.raises(ValueError, match=r"^hypot here takes at most two dimensions$"):  # other errors pass through
        _Hypot.apply(Tensor(np.ones((1, 1, 1)), requires_grad=requires_grad), 1.0)


_COMPARISONS = [
    ("less", lambda a, b: a < b),
    ("less_equal", lambda a, b: a <= b),
    ("greater", lambda a, b: a > b),
    ("greater_equal", lambda a, b: a >= b),
    ("equal", lambda a, b: a == b),
    ("not_equal", lambda a, b: a != b),
]


@pytest.mark.parametrize(("name", "fn"), _COMPARISONS, ids=[c[0] for c in _COMPARISONS])
def test_comparisons_name_both_shapes_that_do_not_broadcast(name: str, fn: Any) -> None:
    a = Tensor(np.ones(A_SHAPE), requires_grad=True)
    with pytest.raises(ValueError, match=rf"\b{name}\b.*{_shapes(A_SHAPE, B_SHAPE)}.*broadcast"):
        fn(a, Tensor(np.ones(B_SHAPE)))
    with pytest.raises(ValueError, match=rf"\b{name}\b.*{_shapes(A_SHAPE, B_SHAPE)}.*broadcast"):
        fn(a, np.ones(B_SHAPE))


# ----------------------------------------------------------------------------- matmul


@pytest.mark.parametrize("requires_grad", [False, True], ids=["const", "grad"])
def test_matmul_inner_dimensions_do_not_align(requires_grad: bool) -> None:
    a = Tensor(np.ones((2, 3)), requires_grad=requires_grad)
    b = Tensor(np.ones((4, 5)), requires_grad=requires_grad)
    with pytest.raises(ValueError, match=rf"matmul.*{_shapes((2, 3), (4, 5))}.*not aligned"):
        a @ b


def test_matmul_matrix_and_vector_do_not_align() -> None:
    with pytest.raises(ValueError, match=rf"matmul.*{_shapes((2, 3), (4,))}.*not aligned"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones(4))
    with pytest.raises(ValueError, match=rf"matmul.*{_shapes((3,), (4,))}.*not aligned"):
        Tensor(np.ones(3), requires_grad=True) @ Tensor(np.ones(4))


def test_matmul_with_a_0d_operand() -> None:
    with pytest.raises(ValueError, match=rf"matmul.*at least 1 dimension.*{_shapes((2, 3), ())}"):
        Tensor(np.ones((2, 3)), requires_grad=True) @ Tensor(2.0)
    with pytest.raises(ValueError, match=rf"matmul.*at least 1 dimension.*{_shapes((), (2, 3))}"):
        ag.matmul(Tensor(2.0), Tensor(np.ones((2, 3))))


def test_matmul_batch_dimensions_do_not_broadcast() -> None:
    a = Tensor(np.ones((2, 3, 4)), requires_grad=True)
    b = Tensor(np.ones((5, 4, 2)))
    with pytest.raises(ValueError, match=rf"matmul.*batch dimensions.*{_shapes((2, 3, 4), (5, 4, 2))}.*broadcast"):
        a @ b


# ----------------------------------------------------------------------------- backward


def test_backward_of_non_scalar_needs_grad() -> None:
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    y = x * 2.0
    with pytest.raises(RuntimeError, match=rf"grad.*{_shapes((2, 3))}") as info:
        y.backward()
    assert "one-element" in str(info.value)
    assert "pass grad" in str(info.value).lower()
    assert x.grad is None


def test_backward_of_tensor_not_requiring_grad() -> None:
    y = Tensor([1.0, 2.0]).sum()
    with pytest.raises(RuntimeError, match=r"does not require grad"):
        y.backward()


def test_backward_of_result_computed_under_no_grad() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    with ag.no_grad():
        y = (x * x).sum()
    with pytest.raises(RuntimeError, match=r"does not require grad"):
        y.backward()


def test_second_backward_through_freed_graph() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"freed.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward() -> None:
    x = Tensor([1.0, -3.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    # two passes of d(sum x^2)/dx = 2x, accumulated
    np.testing.assert_array_equal(x.grad.data, [4.0, -12.0])


def test_second_autograd_grad_through_freed_graph() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    ag.grad(y, x)
    with pytest.raises(RuntimeError, match=r"retain_graph"):
        ag.grad(y, x)


def test_backward_grad_of_the_wrong_shape() -> None:
    y = Tensor(np.ones((2, 3)), requires_grad=True) * 2.0
    with pytest.raises(ValueError, match=rf"grad.*{_shapes((3,), (2, 3))}"):
        y.backward(np.ones(3))
    with pytest.raises(ValueError, match=rf"grad.*{_shapes((3, 2), (2, 3))}"):
        y.backward(Tensor(np.ones((3, 2))))


# ----------------------------------------------------------------------------- indexing


@pytest.mark.parametrize("index", [2, -3, (0, 3), [0, 2], (slice(None), np.array([1, 5]))], ids=str)
def test_index_out_of_range_names_the_shape(index: Any) -> None:
    t = Tensor(np.ones(A_SHAPE), requires_grad=True)
    with pytest.raises(IndexError, match=rf"{_shapes(A_SHAPE)}.*out of bounds"):
        t[index]


@pytest.mark.parametrize(
    "mask",
    [np.array([True, False, True]), [True, False, True], Tensor(np.array([True, False, True])), np.ones((3, 2), bool)],
    ids=["ndarray", "list", "tensor", "2d"],
)
def test_boolean_mask_of_the_wrong_shape(mask: Any) -> None:
    t = Tensor(np.ones(A_SHAPE))
    with pytest.raises(IndexError, match=rf"{_shapes(A_SHAPE)}.*boolean index did not match"):
        t[mask]


@pytest.mark.parametrize(
    "index", [np.array([0.0, 1.0]), [0.0, 1.0], Tensor([0.0, 1.0])], ids=["ndarray", "list", "tensor"]
)
def test_float_index_array(index: Any) -> None:
    t = Tensor(np.ones(A_SHAPE))
    with pytest.raises(IndexError, match=r"integer or boolean.*float64"):
        t[index]


def test_float_scalar_index() -> None:
    with pytest.raises(IndexError, match=rf"{_shapes(A_SHAPE)}.*only integers"):
        Tensor(np.ones(A_SHAPE))[1.5]


# ----------------------------------------------------------------------------- construction


@pytest.mark.parametrize("data", [["a", "b"], "text", [object(), object()], object(), [1j, 2.0]], ids=repr)
@pytest.mark.parametrize("requires_grad", [False, True], ids=["const", "grad"])
def test_non_numeric_data(data: Any, requires_grad: bool) -> None:
    with pytest.raises(TypeError, match=r"must be numeric.*got dtype"):
        Tensor(data, requires_grad=requires_grad)


@pytest.mark.parametrize("data", [[[1.0, 2.0], [3.0]], [1.0, [2.0, 3.0]]], ids=["rows", "nested"])
def test_ragged_lists(data: Any) -> None:
    with pytest.raises(TypeError, match=r"cannot build a tensor from list.*rectangular"):
        Tensor(data)
    with pytest.raises(TypeError, match=r"cannot build a tensor from list.*rectangular"):
        ag.tensor(data, requires_grad=True)


def test_requires_grad_on_integer_tensor() -> None:
    t = Tensor(np.arange(3))
    with pytest.raises(TypeError, match=r"floating-point.*int64"):
        t.requires_grad = True
    assert not t.requires_grad


# ----------------------------------------------------------------------------- item, len, bool


@pytest.mark.parametrize("shape", [(2,), (2, 3), (0,)], ids=str)
def test_item_of_many_elements_names_the_shape(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=rf"item\(\).*one element.*{_shapes(shape)}"):
        Tensor(np.ones(shape)).item()


def test_len_of_0d_tensor() -> None:
    with pytest.raises(TypeError, match=r"len\(\) of a 0-d tensor"):
        len(Tensor(1.0))


def test_bool_of_many_elements() -> None:
    with pytest.raises(ValueError, match=r"2 elements is ambiguous"):
        bool(Tensor([1.0, 2.0]))


# ----------------------------------------------------------------------------- shape ops


def test_reshape_to_incompatible_shape() -> None:
    t = Tensor(np.ones((2, 3, 4)), requires_grad=True)
    with pytest.raises(ValueError, match=rf"reshape.*{_shapes((2, 3, 4))}.*24 elements.*{_shapes((5, 5))}"):
        t.reshape(5, 5)
    with pytest.raises(ValueError, match=rf"reshape.*{_shapes((2, 3, 4), (5, -1))}"):
        t.reshape((5, -1))


@pytest.mark.parametrize("order", [(0, 0, 1), (0, 1), (0, 1, 3), (0, 1, 2, 3)], ids=str)
def test_permute_with_a_bad_order(order: tuple[int, ...]) -> None:
    t = Tensor(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=rf"permute: {re.escape(str(order))} is not an ordering.*{_shapes((2, 3, 4))}"):
        t.permute(*order)


def test_transpose_bad_dims() -> None:
    with pytest.raises(ValueError, match=rf"transpose.*{_shapes((2, 3))}"):
        Tensor(np.ones((2, 3))).transpose(0, 2)
    with pytest.raises(ValueError, match=rf"transpose.*at least 2 dimensions.*{_shapes((3,))}"):
        Tensor(np.ones(3)).transpose(0, 1)


@pytest.mark.parametrize("target", [(3, 3, 4), (2, 3), (2, 3, 5)], ids=str)
def test_broadcast_to_an_impossible_shape(target: tuple[int, ...]) -> None:
    t = Tensor(np.ones((2, 3, 4)), requires_grad=True)
    with pytest.raises(ValueError, match=rf"broadcast_to.*{_shapes((2, 3, 4), target)}"):
        t.broadcast_to(target)


def test_concatenate_mismatched_shapes() -> None:
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)), requires_grad=True)
    with pytest.raises(ValueError, match=rf"concatenate.*{_shapes((2, 3), (2, 4))}.*axis 0"):
        ag.concatenate([a, b])
    with pytest.raises(ValueError, match=rf"concatenate.*{_shapes((2, 3), (2, 4))}"):
        ag.cat([a, b], axis=0)
    with pytest.raises(ValueError, match=r"at least one tensor"):
        ag.concatenate([])


def test_stack_mismatched_shapes() -> None:
    a, b = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones((3, 2)))
    with pytest.raises(ValueError, match=rf"stack.*same shape.*{_shapes((2, 3), (3, 2))}"):
        ag.stack([a, b])
    with pytest.raises(ValueError, match=r"at least one tensor"):
        ag.stack([])


def test_squeeze_of_an_axis_that_is_not_1() -> None:
    t = Tensor(np.ones((1, 3, 1)))
    with pytest.raises(ValueError, match=rf"squeeze: axis 1.*{_shapes((1, 3, 1))}.*size 1"):
        t.squeeze(1)


def test_unsqueeze_out_of_range() -> None:
    with pytest.raises(ValueError, match=rf"unsqueeze: axis 3.*{_shapes((3,))}"):
        Tensor(np.ones(3)).unsqueeze(3)


def test_split_sizes_that_do_not_add_up() -> None:
    t = Tensor(np.arange(5.0), requires_grad=True)
    with pytest.raises(ValueError, match=r"split: sizes \[1, 3\] add up to 4.*length 5"):
        t.split([1, 3])
    with pytest.raises(ValueError, match=r"split: sizes \[4, 3\] add up to 7.*length 5"):
        ag.split(t, [4, 3])
    with pytest.raises(ValueError, match=r"split.*positive.*0"):
        t.split(0)


# ----------------------------------------------------------------------------- custom Functions


class _TooManyGrads(ag.Function):
    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return x * 2.0

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> Any:
        return grad * 2.0, grad


class _WrongShapeGrad(ag.Function):
    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return x * 2.0

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> Any:
        return np.ones(7)


def test_custom_function_returning_the_wrong_number_of_gradients() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = _TooManyGrads.apply(x).sum()
    with pytest.raises(RuntimeError, match=r"_TooManyGrads\.backward returned 2 gradients.*1 input"):
        y.backward()


def test_custom_function_returning_a_gradient_of_the_wrong_shape() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = _WrongShapeGrad.apply(x).sum()
    with pytest.raises(RuntimeError, match=rf"_WrongShapeGrad\.backward.*input 0.*{_shapes((2,))}"):
        y.backward()


# ----------------------------------------------------------------------------- autograd.grad


def test_grad_with_an_unused_input() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    unused = Tensor([3.0], requires_grad=True)
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match=rf"input 1.*{_shapes((1,))}.*not used.*allow_unused=True"):
        ag.grad(y, [x, unused], retain_graph=True)
    gx, gu = ag.grad(y, [x, unused], allow_unused=True)
    assert gu is None
    np.testing.assert_array_equal(gx.data, [2.0, 4.0])


def test_grad_with_an_input_not_requiring_grad() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"input 1 does not require grad"):
        ag.grad((x * c).sum(), [x, c])
