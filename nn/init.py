"""Weight initialisers. Each fills a tensor in place and returns it; pass `generator` to repeat a run.

fan_in / fan_out follow PyTorch: for a (out_features, in_features) weight, fan_in is
in_features; for a 1-D tensor both are its length.
"""

from __future__ import annotations

import math

import numpy as np

from autograd import Tensor, no_grad


def _rng(generator: np.random.Generator | None) -> np.random.Generator:
    return generator if generator is not None else np.random.default_rng()


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    with no_grad():  # a parameter's values change in place, as PyTorch's init does under no_grad
        return tensor.copy_(values)


def _fans(tensor: Tensor) -> tuple[int, int]:
    shape = tensor.shape
    if len(shape) == 0:
        raise ValueError("initialisers that use fan_in/fan_out need a tensor with at least one dimension")
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def zeros_(tensor: Tensor) -> Tensor:
    return _fill(tensor, np.zeros(tensor.shape))


def ones_(tensor: Tensor) -> Tensor:
    return _fill(tensor, np.ones(tensor.shape))


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    return _fill(tensor, _rng(generator).uniform(a, b, tensor.shape))


def normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Normal values; std=0.01 is the seeds' `weight_init_std`."""
    return _fill(tensor, mean + std * _rng(generator).standard_normal(tensor.shape))


def lecun_normal_(tensor: Tensor, generator: np.random.Generator | None = None) -> Tensor:
    """randn / sqrt(fan_in): seed 003's (Nielsen's) weight initialisation."""
    fan_in, _ = _fans(tensor)
    return normal_(tensor, 0.0, 1 / math.sqrt(fan_in), generator)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    """Glorot: uniform in +/- gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    """Glorot: normal with std gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor: Tensor, generator: np.random.Generator | None = None) -> Tensor:
    """He, for ReLU nets: uniform in +/- sqrt(6 / fan_in)."""
    fan_in, _ = _fans(tensor)
    bound = math.sqrt(6 / fan_in)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, generator: np.random.Generator | None = None) -> Tensor:
    """He, for ReLU nets: normal with std sqrt(2 / fan_in)."""
    fan_in, _ = _fans(tensor)
    return normal_(tensor, 0.0, math.sqrt(2 / fan_in), generator)
