"""Convolution, pooling and batch norm follow PyTorch's conventions: layouts, output sizes, which element
a max-pool gradient goes to, how padding counts in an average, how running statistics move, and which
state is a buffer. Expected numbers are worked out by hand here (or by the explicit loops of
tests/op_catalogue.py), never taken from the code under test."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from tests.op_catalogue import _conv1d_loops, _conv2d_loops, _pool_loops


def _t(values, requires_grad: bool = True) -> ag.Tensor:
    return ag.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


# ---------------------------------------------------------------- conv2d


def test_conv2d_is_a_cross_correlation_worked_by_hand() -> None:
    x = _t(np.arange(1.0, 10.0).reshape(1, 1, 3, 3))  # [[1 2 3] [4 5 6] [7 8 9]]
    w = _t([[[[1.0, 2.0], [3.0, 4.0]]]])
    b = _t([0.5])
    out = F.conv2d(x, w, b)
    # out[p, q] = sum_ij w[i, j] x[p + i, q + j] + b (the kernel is not flipped)
    # (0,0): 1*1 + 2*2 + 3*4 + 4*5 = 37   (0,1): 1*2 + 2*3 + 3*5 + 4*6 = 47
    # (1,0): 1*4 + 2*5 + 3*7 + 4*8 = 67   (1,1): 1*5 + 2*6 + 3*8 + 4*9 = 77
    np.testing.assert_array_equal(out.data, [[[[37.5, 47.5], [67.5, 77.5]]]])
    out.sum().backward()
    # grad_w[i, j] = sum of the inputs each kernel element met: x[i:i+2, j:j+2].sum()
    np.testing.assert_array_equal(w.grad.data, [[[[12.0, 16.0], [24.0, 28.0]]]])
    # grad_x[r, c] = sum of the kernel elements that touched (r, c): the corners once, the centre all four
    np.testing.assert_array_equal(x.grad.data, [[[[1.0, 3.0, 2.0], [4.0, 10.0, 6.0], [3.0, 7.0, 4.0]]]])
    np.testing.assert_array_equal(b.grad.data, [4.0])


def test_conv2d_with_stride_2() -> None:
    x = _t(np.arange(25.0).reshape(1, 1, 5, 5))
    out = F.conv2d(x, _t(np.ones((1, 1, 3, 3))), stride=2)
    # windows start at rows / columns 0 and 2: sums of x[0:3, 0:3], x[0:3, 2:5], x[2:5, 0:3], x[2:5, 2:5]
    np.testing.assert_array_equal(out.data, [[[[54.0, 72.0], [144.0, 162.0]]]])
    out.sum().backward()
    # row 2 and column 2 lie in two windows' rows (columns) each: an element's count is the product, 4 at the centre
    reads = np.array([1.0, 1.0, 2.0, 1.0, 1.0])
    expected = np.outer(reads, reads)
    np.testing.assert_array_equal(x.grad.data[0, 0], expected)


def test_conv2d_with_padding_1() -> None:
    x = _t([[[[1.0, 2.0], [3.0, 4.0]]]])
    w = _t(np.arange(9.0).reshape(1, 1, 3, 3))  # [[0 1 2] [3 4 5] [6 7 8]]
    out = F.conv2d(x, w, padding=1)
    # the zero-padded input is 4 x 4 with x in its centre; at (0, 0) the kernel's lower-right 2 x 2 meets x:
    # 4*1 + 5*2 + 7*3 + 8*4 = 67; at (0, 1): 3*1 + 4*2 + 6*3 + 7*4 = 57; (1, 0): 1*1 + 2*2 + 4*3 + 5*4 = 37;
    # (1, 1): 0*1 + 1*2 + 3*3 + 4*4 = 27
    np.testing.assert_array_equal(out.data, [[[[67.0, 57.0], [37.0, 27.0]]]])


def test_conv2d_with_dilation_2() -> None:
    x = _t(np.arange(25.0).reshape(1, 1, 5, 5))
    w = _t([[[[1.0, 2.0], [3.0, 4.0]]]])
    out = F.conv2d(x, w, dilation=2)
    # the kernel's taps are two apart: out[p, q] = x[p, q] + 2 x[p, q+2] + 3 x[p+2, q] + 4 x[p+2, q+2]
    assert out.shape == (1, 1, 3, 3)
    assert out.data[0, 0, 0, 0] == 0 + 2 * 2 + 3 * 10 + 4 * 12
    expected = [[x.data[0, 0, p, q] + 2 * x.data[0, 0, p, q + 2] + 3 * x.data[0, 0, p + 2, q]
                 + 4 * x.data[0, 0, p + 2, q + 2] for q in range(3)] for p in range(3)]  # fmt: skip
    np.testing.assert_array_equal(out.data[0, 0], expected)


def test_conv2d_groups_keep_channels_apart() -> None:
    x = _t(np.arange(8.0).reshape(1, 2, 2, 2))
    w = _t([[[[2.0]]], [[[3.0]]]])  # (out=2, in/groups=1, 1, 1)
    out = F.conv2d(x, w, groups=2)
    np.testing.assert_array_equal(out.data[0, 0], 2 * x.data[0, 0])  # channel 0 sees only input channel 0
    np.testing.assert_array_equal(out.data[0, 1], 3 * x.data[0, 1])
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 4, 5, 5)), rng.normal(size=(6, 2, 3, 2)), rng.normal(size=6)
    np.testing.assert_allclose(
        F.conv2d(_t(x), _t(w), _t(b), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2).data,
        _conv2d_loops(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
        rtol=1e-12,
        atol=1e-12,
    )


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "dilation"),
    list(itertools.product([5, 8], [1, 3], [1, 2, 3], [0, 1, 2], [1, 2])),
)
def test_conv2d_output_shape_follows_the_formula(size: int, kernel: int, stride: int, padding: int,
                                                 dilation: int) -> None:  # fmt: skip
    if size + 2 * padding < dilation * (kernel - 1) + 1:
        pytest.skip("kernel larger than the padded input")
    x, w = ag.zeros(2, 3, size, size + 1), ag.zeros(4, 3, kernel, kernel)
    out = F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation)
    side = [math.floor((s + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1 for s in (size, size + 1)]
    assert out.shape == (2, 4, *side)


def test_conv2d_padding_same_and_valid() -> None:
    x = ag.randn(1, 2, 7, 6)
    assert F.conv2d(x, ag.randn(3, 2, 4, 3), padding="same").shape == (1, 3, 7, 6)
    assert F.conv2d(x, ag.randn(3, 2, 3, 3), padding="same", dilation=2).shape == (1, 3, 7, 6)
    assert F.conv2d(x, ag.randn(3, 2, 3, 3), padding="valid").shape == (1, 3, 5, 4)
    # an even kernel pads one more at the bottom / right, as PyTorch does: the first output sees x[0:3] and 0
    x = _t(np.arange(4.0).reshape(1, 1, 4, 1))
    out = F.conv2d(x, _t(np.ones((1, 1, 4, 1))), padding="same")
    np.testing.assert_array_equal(out.data[0, 0, :, 0], [0 + 1 + 2, 0 + 1 + 2 + 3, 1 + 2 + 3, 2 + 3])


def test_conv2d_takes_unbatched_input() -> None:
    x, w = np.random.default_rng(1).normal(size=(2, 4, 4)), np.ones((3, 2, 2, 2))
    out = F.conv2d(_t(x), _t(w))
    assert out.shape == (3, 3, 3)
    np.testing.assert_allclose(out.data, _conv2d_loops(x[None], w)[0], rtol=1e-12)


def test_conv1d_by_hand_and_against_loops() -> None:
    out = F.conv1d(_t([[[1.0, 2.0, 4.0, 8.0]]]), _t([[[1.0, -1.0]]]))
    np.testing.assert_array_equal(out.data, [[[-1.0, -2.0, -4.0]]])  # x[p] - x[p + 1]
    rng = np.random.default_rng(2)
    x, w, b = rng.normal(size=(2, 4, 9)), rng.normal(size=(2, 2, 3)), rng.normal(size=2)
    np.testing.assert_allclose(
        F.conv1d(_t(x), _t(w), _t(b), stride=2, padding=1, dilation=2, groups=2).data,
        _conv1d_loops(x, w, b, stride=2, padding=1, dilation=2, groups=2),
        rtol=1e-12,
        atol=1e-12,
    )
    layer = nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2)
    assert layer.weight.shape == (6, 2, 3) and layer(ag.zeros(5, 4, 10)).shape == (5, 6, 5)


def test_conv2d_second_derivatives() -> None:
    rng = np.random.default_rng(3)
    x, w, b = _t(rng.normal(size=(2, 2, 5, 4))), _t(rng.normal(size=(2, 1, 2, 3))), _t(rng.normal(size=2))
    assert ag.gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2).tanh(), [x, w, b])
    # a gradient penalty: the input gradient's norm, differentiated with respect to the weight
    (gx,) = ag.grad(F.conv2d(x, w, groups=2).square().sum(), x, create_graph=True)
    (gx * gx).sum().backward()
    assert w.grad is not None and np.all(np.isfinite(w.grad.data))


# ---------------------------------------------------------------- Conv2d layer


def test_conv2d_layer_layout_and_pytorch_initialisation() -> None:
    ag.manual_seed(0)
    layer = nn.Conv2d(4, 6, (3, 2), groups=2)
    assert layer.weight.shape == (6, 2, 3, 2) and layer.bias.shape == (6,)
    bound = 1 / math.sqrt(2 * 3 * 2)  # kaiming_uniform(a=sqrt(5)) gives +/- 1/sqrt(fan_in), fan_in = 2 * 3 * 2
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    big = nn.Conv2d(8, 64, 5)
    bound = 1 / math.sqrt(8 * 25)
    assert 0.95 * bound < np.abs(big.weight.data).max() <= bound  # uniform: it gets close to the bound
    assert abs(big.weight.data.std() - bound / math.sqrt(3)) < 0.05 * bound  # std of U(-a, a) is a / sqrt(3)
    ag.manual_seed(0)
    again = nn.Conv2d(4, 6, (3, 2), groups=2)
    np.testing.assert_array_equal(again.weight.data, layer.weight.data)  # drawn from the default generator
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert nn.Conv2d(1, 2, 3, bias=False).bias is None
    assert "Conv2d(4, 6, kernel_size=(3, 2), stride=(1, 1), groups=2)" == repr(layer)


def test_conv2d_layer_forward_matches_the_functional_form() -> None:
    layer = nn.Conv2d(2, 3, 3, stride=2, padding=1, dtype=np.float32)
    x = ag.randn(4, 2, 7, 7).float()
    out = layer(x)
    assert out.dtype == np.float32 and out.shape == (4, 3, 4, 4)
    expected = _conv2d_loops(x.data.astype(np.float64), layer.weight.data.astype(np.float64),
                             layer.bias.data.astype(np.float64), stride=(2, 2), padding=(1, 1))  # fmt: skip
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-5)
    out.sum().backward()
    assert layer.weight.grad.dtype == np.float32


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: F.conv2d(ag.zeros(5, 5), ag.zeros(2, 3, 3, 3)), "expected a 3-D .* or 4-D .* input"),
        (lambda: F.conv2d(ag.zeros(1, 2, 5, 5), ag.zeros(4, 3, 3, 3)), "expected input with 3 channels"),
        (lambda: F.conv2d(ag.zeros(1, 3, 2, 5), ag.zeros(4, 3, 3, 3)), "kernel can't be larger than the padded"),
        (lambda: F.conv2d(ag.zeros(1, 3, 5, 5), ag.zeros(4, 3, 3)), "weight must be 4-D"),
        (lambda: F.conv2d(ag.zeros(1, 4, 5, 5), ag.zeros(3, 2, 3, 3), groups=2), "out_channels .* divisible by groups"),
        (lambda: F.conv2d(ag.zeros(1, 3, 5, 5), ag.zeros(4, 3, 3, 3), ag.zeros(3)), r"bias must have shape \(4,\)"),
        (lambda: F.conv2d(ag.zeros(1, 3, 5, 5), ag.zeros(4, 3, 3, 3), stride=0), "stride must be positive"),
        (lambda: F.conv2d(ag.zeros(1, 3, 5, 5), ag.zeros(4, 3, 3, 3), padding=-1), "padding must be non-negative"),
        (lambda: F.conv2d(ag.zeros(1, 3, 5, 5), ag.zeros(4, 3, 3, 3), padding="same", stride=2), "strided"),
        (lambda: nn.Conv2d(3, 4, 3, groups=2), r"in_channels \(3\) must be divisible by groups \(2\)"),
        (lambda: nn.Conv2d(4, 3, 3, groups=2), r"out_channels \(3\) must be divisible by groups \(2\)"),
        (lambda: nn.Conv2d(3, 4, 3)(ag.zeros(2, 1, 8, 8)), r"expects 3 input channels, got 1"),
        (lambda: nn.Conv2d(3, 4, 3)(ag.zeros(8, 8)), r"expects a 3-D or 4-D input"),
        (lambda: nn.Conv2d(3, 4, 0), "kernel_size must be positive"),
        (lambda: nn.Conv2d(3, 4, 3, padding_mode="reflect"), "padding_mode='zeros'"),
        (lambda: nn.Conv1d(2, 4, 3)(ag.zeros(1, 2, 3, 3)), r"expects a 2-D or 3-D input"),
    ],
)
def test_convolution_errors_say_what_is_wrong(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------- pooling


def test_max_pool_values_and_routing_by_hand() -> None:
    x = _t([[[[1.0, 9.0, 2.0, 3.0],
              [4.0, 5.0, 8.0, 7.0],
              [0.0, 2.0, 1.0, 1.0],
              [6.0, 3.0, 0.5, 4.0]]]])  # fmt: skip
    out = F.max_pool2d(x, 2)  # stride defaults to the kernel size
    np.testing.assert_array_equal(out.data, [[[[9.0, 8.0], [6.0, 4.0]]]])
    out.backward(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]))
    expected = np.zeros((4, 4))
    expected[0, 1], expected[1, 2], expected[3, 0], expected[3, 3] = 10.0, 20.0, 30.0, 40.0
    np.testing.assert_array_equal(x.grad.data[0, 0], expected)


def test_max_pool_ties_go_to_the_first_maximum_in_window_order() -> None:
    x = _t([[[[5.0, 5.0, 1.0, 7.0],
              [5.0, 5.0, 7.0, 2.0]]]])  # fmt: skip
    F.max_pool2d(x, 2).sum().backward()
    # left window: all four tie, the top-left wins; right window: (0, 3) and (1, 2) tie, row 0 comes first
    np.testing.assert_array_equal(x.grad.data[0, 0], [[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]])


def test_max_pool_overlapping_windows_add_up() -> None:
    x = _t([[[[1.0, 2.0, 3.0], [4.0, 9.0, 5.0], [6.0, 7.0, 8.0]]]])
    out = F.max_pool2d(x, 2, stride=1)
    np.testing.assert_array_equal(out.data, [[[[9.0, 9.0], [9.0, 9.0]]]])
    out.sum().backward()
    assert x.grad.data[0, 0, 1, 1] == 4.0 and x.grad.data.sum() == 4.0  # the centre wins all four windows


def test_max_pool_pads_with_minus_infinity() -> None:
    x = _t(-np.arange(1.0, 5.0).reshape(1, 1, 2, 2))  # [[-1 -2] [-3 -4]], all below the padding's 0 if it were 0
    out = F.max_pool2d(x, 2, stride=1, padding=1)
    # windows at the corners each hold one element of x; padding never wins
    np.testing.assert_array_equal(out.data, [[[[-1.0, -1.0, -2.0], [-1.0, -1.0, -2.0], [-3.0, -3.0, -4.0]]]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data[0, 0], [[4.0, 2.0], [2.0, 1.0]])


def test_max_pool_against_loops_with_dilation() -> None:
    x = np.random.default_rng(4).permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6).astype(np.float64)
    kwargs = {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 1), "dilation": (2, 1)}
    np.testing.assert_array_equal(F.max_pool2d(_t(x), **kwargs).data, _pool_loops(x, **kwargs))
    assert nn.MaxPool2d(2)(ag.zeros(64, 8, 24, 24)).shape == (64, 8, 12, 12)


def test_avg_pool_counts_padding_as_zeros_by_default() -> None:
    x = _t(np.ones((1, 1, 2, 2)))
    out = F.avg_pool2d(x, 2, padding=1)  # each 2 x 2 window holds one element of x and three of padding
    np.testing.assert_array_equal(out.data, np.full((1, 1, 2, 2), 0.25))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((1, 1, 2, 2), 0.25))
    excluded = F.avg_pool2d(_t(np.ones((1, 1, 2, 2))), 2, padding=1, count_include_pad=False)
    np.testing.assert_array_equal(excluded.data, np.ones((1, 1, 2, 2)))  # divided by the one real element
    assert nn.AvgPool2d(2, padding=1)(x).data.tolist() == out.data.tolist()


def test_avg_pool_values_and_overlapping_gradient_by_hand() -> None:
    x = _t(np.arange(9.0).reshape(1, 1, 3, 3))
    out = F.avg_pool2d(x, 2, stride=1)
    np.testing.assert_array_equal(out.data, [[[[(0 + 1 + 3 + 4) / 4, (1 + 2 + 4 + 5) / 4],
                                               [(3 + 4 + 6 + 7) / 4, (4 + 5 + 7 + 8) / 4]]]])  # fmt: skip
    out.sum().backward()
    # each element gets 1/4 from every window that holds it: corners 1, edges 2, the centre 4 windows
    np.testing.assert_array_equal(x.grad.data[0, 0], [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]])


def test_adaptive_avg_pool() -> None:
    x = _t(np.arange(32.0).reshape(1, 2, 4, 4))
    for size in (1, (1, 1)):
        out = F.adaptive_avg_pool2d(x, size)
        np.testing.assert_array_equal(out.data[0, :, 0, 0], [np.arange(16.0).mean(), np.arange(16.0, 32.0).mean()])
    assert nn.AdaptiveAvgPool2d(1)(ag.zeros(3, 5, 7, 7)).shape == (3, 5, 1, 1)
    half = F.adaptive_avg_pool2d(x, 2)  # a size that divides the input: 2 x 2 windows
    assert half.data[0, 0, 0, 0] == (0 + 1 + 4 + 5) / 4
    with pytest.raises(ValueError, match=r"output size \(3, 3\) does not divide the input size \(4, 4\)"):
        F.adaptive_avg_pool2d(x, 3)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: F.max_pool2d(ag.zeros(4, 4), 2), r"expected a 3-D \(C, H, W\) or 4-D"),
        (lambda: F.max_pool2d(ag.zeros(1, 1, 4, 4), 2, padding=2), "padding should be at most half"),
        (lambda: F.avg_pool2d(ag.zeros(1, 1, 2, 2), 3), "larger than the padded input"),
        (lambda: F.max_pool2d(ag.zeros(1, 1, 4, 4), 0), "kernel_size must be positive"),
        (lambda: nn.MaxPool2d(2, stride=0)(ag.zeros(1, 1, 4, 4)), "stride must be positive"),
    ],
)
def test_pooling_errors_say_what_is_wrong(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------- batch norm


def test_batch_norm_training_uses_batch_statistics_and_moves_the_running_ones() -> None:
    bn = nn.BatchNorm1d(2)
    x = _t([[1.0, 10.0], [2.0, 10.0], [3.0, 14.0], [4.0, 14.0]])
    out = bn(x)
    # channel 0: mean 2.5, biased variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25; channel 1: mean 12, variance 4
    np.testing.assert_allclose(out.data[:, 0], (np.array([1, 2, 3, 4]) - 2.5) / math.sqrt(1.25 + 1e-5), rtol=1e-12)
    np.testing.assert_allclose(out.data[:, 1], np.array([-2, -2, 2, 2]) / math.sqrt(4 + 1e-5), rtol=1e-12)
    # running = 0.9 running + 0.1 batch, with the unbiased variance: 5 / 3 and 16 / 3
    np.testing.assert_allclose(bn.running_mean.data, [0.1 * 2.5, 0.1 * 12.0], rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.data, [0.9 + 0.1 * 5 / 3, 0.9 + 0.1 * 16 / 3], rtol=1e-12)
    assert bn.num_batches_tracked.item() == 1 and bn.num_batches_tracked.dtype == np.int64
    bn(x)
    np.testing.assert_allclose(bn.running_mean.data[0], 0.9 * 0.25 + 0.1 * 2.5, rtol=1e-12)
    assert bn.num_batches_tracked.item() == 2


def test_batch_norm_eval_uses_running_statistics() -> None:
    bn = nn.BatchNorm1d(2)
    with ag.no_grad():
        bn.running_mean.copy_(np.array([1.0, -2.0]))
        bn.running_var.copy_(np.array([4.0, 0.25]))
        bn.weight.copy_(np.array([2.0, 1.0]))
        bn.bias.copy_(np.array([0.5, 0.0]))
    bn.eval()
    x = _t([[3.0, -1.0]])  # a batch of one is fine in eval
    out = bn(x)
    np.testing.assert_allclose(out.data, [[2 * (3 - 1) / math.sqrt(4 + 1e-5) + 0.5, (-1 + 2) / math.sqrt(0.25 + 1e-5)]],
                               rtol=1e-12)  # fmt: skip
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, [[2 / math.sqrt(4 + 1e-5), 1 / math.sqrt(0.25 + 1e-5)]], rtol=1e-12)
    np.testing.assert_allclose(bn.weight.grad.data, [(3 - 1) / math.sqrt(4 + 1e-5), 1 / math.sqrt(0.25 + 1e-5)])
    assert bn.num_batches_tracked.item() == 0  # eval leaves the statistics alone
    np.testing.assert_array_equal(bn.running_mean.data, [1.0, -2.0])


def test_batch_norm_2d_normalises_over_batch_and_space() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(3.0, 2.0, size=(4, 3, 5, 5))
    bn = nn.BatchNorm2d(3)
    out = bn(_t(x)).data
    for c in range(3):
        values = x[:, c].reshape(-1)
        mean, var = values.mean(), ((values - values.mean()) ** 2).mean()
        np.testing.assert_allclose(out[:, c], (x[:, c] - mean) / np.sqrt(var + 1e-5), rtol=1e-10)
        np.testing.assert_allclose(bn.running_var.data[c], 0.9 + 0.1 * var * 100 / 99, rtol=1e-12)
    out3 = nn.BatchNorm1d(3)(_t(x[:, :, :, 0]))  # (N, C, L): statistics over N and L
    values = x[:, 0, :, 0].reshape(-1)
    np.testing.assert_allclose(out3.data[:, 0], (x[:, 0, :, 0] - values.mean()) / np.sqrt(values.var() + 1e-5))


def test_batch_norm_momentum_none_is_a_cumulative_average() -> None:
    bn = nn.BatchNorm1d(1, momentum=None)
    for batch in ([[1.0], [3.0]], [[5.0], [7.0]], [[0.0], [0.0]]):
        bn(_t(batch))
    np.testing.assert_allclose(bn.running_mean.data, [(2.0 + 6.0 + 0.0) / 3], rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.data, [(2.0 + 2.0 + 0.0) / 3], rtol=1e-12)  # unbiased: 2, 2, 0


def test_batch_norm_state_is_buffers_under_pytorch_names(tmp_path) -> None:
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                        "1.running_var", "1.num_batches_tracked"]  # fmt: skip
    assert [name for name, _ in model.named_buffers()] == ["1.running_mean", "1.running_var", "1.num_batches_tracked"]
    x = ag.randn(4, 1, 5, 5)
    model(x)
    model(x * 2)
    path = tmp_path / "cnn.npz"
    nn.save(model, path)
    fresh = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    fresh.load_state_dict(nn.load(path))
    assert fresh[1].num_batches_tracked.item() == 2 and fresh[1].num_batches_tracked.dtype == np.int64
    np.testing.assert_array_equal(fresh[1].running_var.data, model[1].running_var.data)
    model.eval()
    fresh.eval()
    np.testing.assert_array_equal(fresh(x).data, model(x).data)
    assert nn.BatchNorm1d(3, track_running_stats=False).state_dict().keys() == {"weight", "bias"}
    assert list(nn.BatchNorm1d(3, affine=False).state_dict()) == ["running_mean", "running_var", "num_batches_tracked"]


def test_batch_norm_float32_module() -> None:
    bn = nn.BatchNorm2d(2, dtype=np.float32)
    out = bn(ag.randn(3, 2, 4, 4).float())
    assert out.dtype == np.float32 and bn.running_mean.dtype == np.float32
    bn.double()
    assert bn.running_var.dtype == np.float64 and bn.num_batches_tracked.dtype == np.int64


def test_batch_norm_second_derivatives() -> None:
    bn = nn.BatchNorm2d(2)
    x = _t(np.random.default_rng(6).normal(size=(3, 2, 2, 2)))
    assert ag.gradgradcheck(lambda x, w, b: bn(x).tanh(), [x, bn.weight, bn.bias])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: nn.BatchNorm1d(3)(ag.zeros(1, 3)), r"Expected more than 1 value per channel when training"),
        (lambda: nn.BatchNorm2d(3)(ag.zeros(1, 3, 1, 1)), r"Expected more than 1 value per channel when training"),
        (lambda: nn.BatchNorm1d(3)(ag.zeros(2, 3, 4, 4)), r"expected 2-D \(N, C\) or 3-D \(N, C, L\) input, got 4-D"),
        (lambda: nn.BatchNorm2d(3)(ag.zeros(2, 3, 4)), r"expected 4-D \(N, C, H, W\) input, got 3-D"),
        (lambda: nn.BatchNorm2d(3)(ag.zeros(2, 4, 2, 2)), r"expects 3 channels \(dim 1\), got 4"),
    ],
)
def test_batch_norm_errors_say_what_is_wrong(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_a_refused_batch_is_not_counted() -> None:
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError):
        bn(ag.zeros(1, 3))
    assert bn.num_batches_tracked.item() == 0
    np.testing.assert_array_equal(bn.running_var.data, np.ones(3))


# ---------------------------------------------------------------- together


def test_a_lenet_trains_on_a_tiny_problem() -> None:
    ag.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2),
    )  # fmt: skip
    rng = np.random.default_rng(7)
    x = rng.normal(size=(32, 1, 8, 8)).astype(np.float64)
    y = rng.integers(0, 2, 32)
    x[y == 1, :, 2:6, 2:6] += 1.5  # class 1 has a bright square in the middle
    optimizer = nn.optim.Adam(model.parameters(), lr=0.05)
    loss_fn = nn.CrossEntropyLoss()
    first = None
    for _ in range(30):
        optimizer.zero_grad()
        loss = loss_fn(model(ag.tensor(x)), y)
        loss.backward()
        optimizer.step()
        first = loss.item() if first is None else first
    assert loss.item() < 0.3 * first
    model.eval()
    assert (model(ag.tensor(x)).argmax(-1).numpy() == y).mean() >= 0.9


# ---------------------------------------------------------------- work buffers (nn.convolution.work_array)


def _lenet_step(model: nn.Module, x: ag.Tensor, t: ag.Tensor) -> tuple[float, dict[str, np.ndarray]]:
    model.zero_grad()
    loss = nn.CrossEntropyLoss()(model(x), t)
    loss.backward()
    return loss.item(), {k: p.grad.data.copy() for k, p in model.named_parameters()}


def _lenet_batch() -> tuple[nn.Module, ag.Tensor, ag.Tensor]:
    rng = np.random.default_rng(3)
    model = nn.models.lenet(generator=np.random.default_rng(4))
    return model, ag.tensor(rng.random((16, 1, 28, 28), dtype=np.float32)), ag.tensor(rng.integers(0, 10, 16))


def test_work_buffers_leave_repeated_steps_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same step twice gives the same loss and gradients bit for bit, with the buffers reused in between, and
    the same as with no pooling at all."""
    from nn import convolution

    model, x, t = _lenet_batch()
    first = _lenet_step(model, x, t)
    pooled = {id(b) for b in convolution._work.buffers}
    second = _lenet_step(model, x, t)
    assert pooled and {id(b) for b in convolution._work.buffers} == pooled  # reused, none made anew
    monkeypatch.setattr(convolution, "_WORK_MIN_BYTES", 1 << 62)  # nothing pooled
    unpooled = _lenet_step(model, x, t)
    for got in (second, unpooled):
        assert got[0] == first[0]
        for k, g in first[1].items():
            np.testing.assert_array_equal(got[1][k], g, err_msg=k)


def test_a_retained_graph_keeps_its_buffers_while_other_steps_run() -> None:
    """A graph kept for a second backward holds its im2col matrices; steps in between get other buffers."""
    model, x, t = _lenet_batch()
    loss = nn.CrossEntropyLoss()(model(x), t)
    loss.backward(retain_graph=True)
    once = {k: p.grad.data.copy() for k, p in model.named_parameters()}
    rng = np.random.default_rng(5)
    for _ in range(2):  # other batches through the same layers: they would overwrite shared buffers
        _lenet_step(model, ag.tensor(rng.random((16, 1, 28, 28), dtype=np.float32)), t)
    model.zero_grad()
    loss.backward()
    for k, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.data, once[k], rtol=1e-6, atol=1e-7, err_msg=k)


def test_outputs_and_gradients_never_share_memory_with_work_buffers() -> None:
    from nn import convolution

    rng = np.random.default_rng(6)
    x = ag.tensor(rng.random((8, 4, 20, 20), dtype=np.float32), requires_grad=True)
    w = ag.tensor(rng.random((6, 4, 5, 5), dtype=np.float32), requires_grad=True)
    out = F.conv2d(x, w, ag.tensor(np.zeros(6, np.float32), requires_grad=True))
    (out * out).sum().backward()
    buffers = convolution._work.buffers
    assert buffers
    for array in (out.data, x.grad.data, w.grad.data):
        assert not any(np.shares_memory(array, b) for b in buffers)


def test_a_referenced_work_array_is_not_handed_out_again() -> None:
    from nn.convolution import work_array

    a = work_array((300, 300), np.float32)
    view = a.reshape(-1)[10:]  # any array made from it keeps the buffer taken
    del a
    b = work_array((300, 300), np.float32)
    assert not np.shares_memory(view, b)
    del view, b
    c = work_array((300, 300), np.float32)
    d = work_array((300, 300), np.float32)
    assert not np.shares_memory(c, d)
    assert work_array((3, 3), np.float32).base is None  # small arrays are not pooled


def test_double_backward_through_a_convolution_with_work_buffers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Second derivatives (create_graph) come out the same twice with the buffers reused, and without them."""
    from nn import convolution

    rng = np.random.default_rng(7)
    xv, wv = rng.standard_normal((8, 4, 24, 24)), rng.standard_normal((5, 4, 3, 3))  # 1.1 MB of columns: pooled

    def second_derivative() -> np.ndarray:
        x, w = _t(xv), _t(wv)
        (gx,) = ag.grad((F.conv2d(x, w) ** 2).sum(), [x], create_graph=True)
        (gw,) = ag.grad((gx * gx).sum(), [w])
        return gw.data

    first, second = second_derivative(), second_derivative()
    monkeypatch.setattr(convolution, "_WORK_MIN_BYTES", 1 << 62)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, second_derivative())


def test_the_input_gradient_in_column_blocks_equals_all_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from nn import convolution

    rng = np.random.default_rng(8)
    xv, wv = rng.standard_normal((4, 6, 11, 11)), rng.standard_normal((6, 3, 3, 3))

    def input_grad() -> np.ndarray:
        x = _t(xv)
        (F.conv2d(x, _t(wv), stride=2, padding=1, groups=2) ** 2).sum().backward()
        return x.grad.data

    whole = input_grad()
    monkeypatch.setattr(convolution, "_COLUMN_BLOCK_BYTES", 1)  # one channel at a time
    np.testing.assert_allclose(input_grad(), whole, rtol=1e-12)


def test_two_step_gather_equals_the_windows() -> None:
    """Short output rows are gathered through column-shifted copies; the columns are the windows themselves."""
    from nn.convolution import Geometry, _im2col, windows

    x = np.random.default_rng(9).standard_normal((2, 3, 13, 12))
    for stride, dilation in (((1, 1), (1, 1)), ((1, 2), (2, 1))):
        geometry = Geometry(stride, ((0, 0), (0, 0)), dilation)
        expected = windows(x, (3, 4), stride, dilation)
        n, c, kh, kw, oh, ow = expected.shape
        np.testing.assert_array_equal(_im2col(x, (3, 4), geometry), expected.reshape(n, 1, c * kh * kw, oh * ow))


def test_max_pool_gradient_of_tiling_windows_on_odd_sizes() -> None:
    """Windows that tile the input (stride = kernel) write each share in place; rows and columns no window
    reaches get 0. Against an index-based scatter."""
    from nn.pooling import _flat_index, _max_pool, _route

    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 3, 7, 9))
    geometry = nn.convolution.Geometry((2, 3), ((0, 0), (0, 0)), (1, 1))
    _, offset = _max_pool(x, (2, 3), geometry)
    grad = rng.standard_normal(offset.shape)
    expected = np.zeros(x.size)
    np.add.at(expected, _flat_index(offset, (2, 3), geometry, x.shape).ravel(), grad.ravel())
    np.testing.assert_array_equal(_route(grad, offset, (2, 3), geometry, x.shape), expected.reshape(x.shape))


def test_pooling_takes_pytorchs_options_and_refuses_the_unsupported_ones_clearly() -> None:
    x = _t(np.arange(16.0).reshape(1, 1, 4, 4))
    # ceil_mode=False and return_indices=False are PyTorch's defaults, often written out: accepted
    pooled = nn.MaxPool2d(2, ceil_mode=False, return_indices=False)(x)
    np.testing.assert_array_equal(pooled.data, [[[[5, 7], [13, 15]]]])
    np.testing.assert_array_equal(nn.AvgPool2d(2, ceil_mode=False)(x).data, [[[[2.5, 4.5], [10.5, 12.5]]]])
    # divisor_override divides every window's sum by that number: (0 + 1 + 4 + 5) / 2 = 5
    np.testing.assert_array_equal(F.avg_pool2d(x, 2, divisor_override=2).data, [[[[5, 9], [21, 25]]]])
    for make, option in [
        (lambda: nn.MaxPool2d(2, ceil_mode=True), "ceil_mode=True is not supported"),
        (lambda: nn.MaxPool2d(2, return_indices=True), "return_indices=True is not supported"),
        (lambda: F.max_pool2d(x, 2, ceil_mode=True), "ceil_mode=True is not supported"),
        (lambda: nn.AvgPool2d(2, ceil_mode=True), "ceil_mode=True is not supported"),
    ]:
        with pytest.raises(NotImplementedError, match=option):
            make()
    with pytest.raises(ValueError, match="divisor_override must be a positive int"):
        F.avg_pool2d(x, 2, divisor_override=0)
