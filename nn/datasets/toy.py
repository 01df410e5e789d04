"""The seeds' toy problems, and two small 2-D classification sets, as numpy arrays.

Targets for one-output nets (xor, four_points, plane, line) have shape (N, 1), so they match
the output of `nn.Linear(..., 1)` exactly (MSELoss refuses mismatched shapes rather than
broadcasting (N, 1) against (N,)). The classification sets give int64 class indices (N,).
Random sets take `generator`: a numpy Generator, an int seed, or None for fresh entropy.
"""

from __future__ import annotations

import numpy as np

Seed = np.random.Generator | int | None


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points: x (4, 2) float64 and y (4, 1), y = x0 xor x1.

    >>> x, y = xor()
    >>> y.ravel().tolist()
    [0.0, 1.0, 1.0, 0.0]
    """
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return x, np.array([[0.0], [1.0], [1.0], [0.0]])


def four_points() -> tuple[np.ndarray, np.ndarray]:
    """Seed 004's data for its 2-2-1 sigmoid net: x (4, 2) float64 and y (4, 1), [1, 0, 0, 1].

    The inputs are raw (unscaled), as in the seed: large values saturate the sigmoids, which is
    part of what its 1000 epochs at lr 0.1 work through.
    """
    x = np.array([[-2.0, -1.0], [25.0, 6.0], [17.0, 4.0], [-15.0, -6.0]])
    return x, np.array([[1.0], [0.0], [0.0], [1.0]])


def plane(n: int = 1000, generator: Seed = None, low: float = 0.0, high: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Seed 001's regression data: x (n, 2) uniform in [low, high), y (n, 1) = 3 * x0 + 2 * x1.

    The seed draws each input with `np.random.rand(2)`, i.e. uniform in [0, 1); its "let's try"
    variant uses [-5, 5) (pass low=-5, high=5). It trains on 1000 draws, hence the default n.

    >>> x, y = plane(3, generator=0)
    >>> bool(np.allclose(y.ravel(), 3 * x[:, 0] + 2 * x[:, 1]))
    True
    """
    x = np.random.default_rng(generator).uniform(low, high, size=(n, 2))
    return x, (3 * x[:, 0] + 2 * x[:, 1])[:, None]


def line() -> tuple[np.ndarray, np.ndarray]:
    """Seed 004's 1-D regression, y = w * x + b with answer w = 1, b = 0: x and y both [1, 2, 3, 4, 5] as (5, 1)."""
    x = np.arange(1.0, 6.0)[:, None]
    return x, x.copy()


def two_moons(n: int = 200, noise: float = 0.1, generator: Seed = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles: x (n, 2) float64 and class indices y (n,) int64, in shuffled order.

    Class 0 is the upper arc centred at (0, 0), class 1 the lower arc centred at (1, 0.5);
    `noise` is the standard deviation of Gaussian jitter. Not linearly separable: a hidden layer is needed.
    """
    rng = np.random.default_rng(generator)
    n0 = n // 2
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n - n0)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    x = np.concatenate([upper, lower]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n - n0, dtype=np.int64)])
    order = rng.permutation(n)
    return x[order], y[order]


def two_spirals(
    n: int = 200, turns: float = 1.5, noise: float = 0.05, generator: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals of `turns` turns within the unit disc: x (n, 2) float64, class indices y (n,) int64.

    Class 1 is class 0 rotated by half a turn; points are shuffled; `noise` is Gaussian jitter.
    Much harder than two moons: a good test of a deeper net.
    """
    rng = np.random.default_rng(generator)
    y = np.arange(n) % 2
    radius = np.sqrt(rng.uniform(0.0, 1.0, n))  # sqrt spreads points evenly along the arms
    angle = 2 * np.pi * turns * radius + np.pi * y
    x = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1) + noise * rng.standard_normal((n, 2))
    order = rng.permutation(n)
    return x[order], y[order].astype(np.int64)
