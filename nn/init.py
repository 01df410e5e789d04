"""Weight initialisers with torch.nn.init's names and formulas. Each fills a tensor in place and returns it.

Random ones draw from `generator` if given, else from the default generator, so
`autograd.manual_seed(n)` makes a model's initial weights repeatable. fan_in / fan_out follow
PyTorch: for a (out_features, in_features, *kernel) weight, fan_in is in_features * prod(kernel)
and fan_out is out_features * prod(kernel); they need at least two dimensions.
"""

from __future__ import annotations

import math
import statistics
import warnings
from typing import Any

import numpy as np

from autograd import Tensor, no_grad
from autograd.random import as_generator

Generator = np.random.Generator


def _fill(tensor: Tensor, values: Any) -> Tensor:
    with no_grad():  # a parameter's values change in place, as PyTorch's init does under no_grad
        return tensor.copy_(values)


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel), as torch.nn.init computes them."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(
            f"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (got shape {shape}); "
            "use uniform_ / normal_ with explicit bounds for biases"
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain torch.nn.init recommends for a nonlinearity: 1 (linear, conv, sigmoid), 5/3 (tanh), sqrt(2) (relu),
    sqrt(2 / (1 + negative_slope**2)) (leaky_relu, slope `param`, default 0.01), 3/4 (selu)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
    if nonlinearity in linear or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def zeros_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 1)


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _fill(tensor, val)


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix (ones on the diagonal of a 2-D tensor, zeros elsewhere)."""
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported, got shape {tensor.shape}")
    return _fill(tensor, np.eye(*tensor.shape))


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Uniform values in [a, b)."""
    if a > b:
        raise RuntimeError(f"uniform_ expects a [from, to) range, but found from={a} > to={b}")
    return _fill(tensor, as_generator(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Normal values with the given mean and standard deviation (std=0.01 is the seeds' `weight_init_std`)."""
    if std < 0:
        raise RuntimeError(f"normal_ expects std >= 0.0, but found std {std}")
    return _fill(tensor, mean + std * as_generator(generator).standard_normal(tensor.shape))


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Generator | None = None,
) -> Tensor:
    """Normal(mean, std) values conditioned on lying in [a, b] (a and b are values, not multiples of std)."""
    if not a <= b:
        raise ValueError(f"trunc_normal_ needs a <= b, got a={a}, b={b}")
    if std < 0:
        raise ValueError(f"trunc_normal_ expects std >= 0.0, but found std {std}")
    if std == 0 or a == b:
        return _fill(tensor, min(max(mean, a), b))
    rng = as_generator(generator)
    unit = statistics.NormalDist()
    low, high = (a - mean) / std, (b - mean) / std  # the interval for a standard normal z
    flip = low > 0  # work in the lower tail, where the CDF keeps its precision
    if flip:
        low, high = -high, -low
    lo, hi = unit.cdf(low), unit.cdf(high)
    size = math.prod(tensor.shape)
    if hi - lo >= 0.05:  # redraw the values that fall outside the interval
        z = np.empty(size)
        filled = 0
        while filled < size:
            draws = rng.standard_normal(math.ceil((size - filled) / (hi - lo) * 1.1) + 16)
            kept = draws[(draws >= low) & (draws <= high)][: size - filled]
            z[filled : filled + kept.size] = kept
            filled += kept.size
    else:  # a narrow or tail interval: invert the CDF of uniform draws in [cdf(low), cdf(high)]
        probabilities = np.clip(rng.uniform(lo, hi, size), 1e-300, 1 - 1e-16)
        z = np.array([unit.inv_cdf(p) for p in probabilities.tolist()])
    values = mean + std * (-z if flip else z)
    return _fill(tensor, np.clip(values, a, b).reshape(tensor.shape))


def lecun_normal_(tensor: Tensor, generator: Generator | None = None) -> Tensor:
    """randn / sqrt(fan_in): seed 003's (Nielsen's) weight initialisation."""
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, 1 / math.sqrt(fan_in), generator)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Glorot: uniform in +/- gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Glorot: normal with std gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2 / (fan_in + fan_out)), generator)


def _no_elements(tensor: Tensor) -> bool:
    """True, with PyTorch's warning, for a tensor with no elements: there is nothing to initialise."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    """He: uniform in +/- gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a); sqrt(6 / fan_in) by default.

    a=sqrt(5) gives +/- 1/sqrt(fan_in), PyTorch's default for Linear and Conv weights.
    """
    if _no_elements(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    """He: normal with std gain / sqrt(fan), gain = calculate_gain(nonlinearity, a); sqrt(2 / fan_in) by default."""
    if _no_elements(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """A (semi-)orthogonal matrix times gain: rows or columns of the tensor viewed as (shape[0], rest) are orthonormal.

    PyTorch's method: the QR decomposition of a standard normal matrix, signs fixed by R's diagonal.
    """
    if tensor.ndim < 2:
        raise ValueError(f"Only tensors with 2 or more dimensions are supported, got shape {tensor.shape}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flattened = as_generator(generator).standard_normal((rows, cols))
    if rows < cols:
        flattened = flattened.T
    q, r = np.linalg.qr(flattened)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))
