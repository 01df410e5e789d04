"""Hypothesis strategies for gradient tests: shapes, arrays and tensors, kept away from kinks.

Built on `hypothesis.extra.numpy`, with defaults sized for central differences: small
shapes (0-d included) and moderate float64 values, so a gradcheck is quick and exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor

MARGIN = 0.01  # distance kept from a kink: ten thousand times gradcheck's step of 1e-6
LOW, HIGH = -3.0, 3.0  # the default range of values: exp, tanh and friends stay well-conditioned


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4) -> st.SearchStrategy:
    """Array shapes such as (), (3,), (2, 1, 4): small, so a numerical gradient takes milliseconds.

    Where the bounds allow, about half of them end in a square, (..., k, k) with k >= 2:
    only on a square matrix does a gradient transposed by mistake keep its shape, and so
    only there can a check tell it from the right one.
    """
    plain = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)
    if max_dims < 2 or max_side < max(min_side, 2):
        return plain
    return st.one_of(plain, _square_ended(min_dims, max_dims, min_side, max_side))


def broadcastable_shapes(
    n: int = 2, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 3
) -> st.SearchStrategy:
    """Tuples of `n` shapes that broadcast together, e.g. ((2, 1), (3,)): for binary ops and `where`.

    As with `shapes`, about half the tuples broadcast to a square (..., k, k), and one of
    the shapes, at random, is that whole square.
    """
    plain = hnp.mutually_broadcastable_shapes(
        num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    ).map(lambda s: s.input_shapes)
    if max_dims < 2 or max_side < max(min_side, 2):
        return plain
    return st.one_of(plain, _around_a_square(n, min_dims, max_dims, min_side, max_side))


def _square_ended(min_dims: int, max_dims: int, min_side: int, max_side: int) -> st.SearchStrategy:
    lead = hnp.array_shapes(min_dims=max(min_dims - 2, 0), max_dims=max_dims - 2, min_side=min_side, max_side=max_side)
    return st.tuples(lead, st.integers(max(min_side, 2), max_side)).map(lambda ls: (*ls[0], ls[1], ls[1]))


@st.composite
def _around_a_square(draw: Any, n: int, min_dims: int, max_dims: int, min_side: int, max_side: int) -> tuple:
    """One square-ended shape, and n - 1 others that broadcast to it (trailing dims kept, some set to 1)."""
    full = draw(_square_ended(min_dims, max_dims, min_side, max_side))
    found = [full]
    for _ in range(n - 1):
        kept = full[len(full) - draw(st.integers(min_dims, len(full))) :]
        found.append(tuple(1 if min_side <= 1 and draw(st.booleans()) else side for side in kept))
    return tuple(draw(st.permutations(found)))


def matmul_shapes(max_batch_dims: int = 2, min_side: int = 1, max_side: int = 3) -> st.SearchStrategy:
    """Pairs of shapes `a @ b` accepts: 1-D operands and broadcasting batch dimensions included."""
    return hnp.mutually_broadcastable_shapes(
        signature=np.matmul.signature, max_dims=max_batch_dims, min_side=min_side, max_side=max_side
    ).map(lambda s: s.input_shapes)


def away_from(points: Iterable[float] = (), margin: float = MARGIN, low: float = LOW, high: float = HIGH) -> Any:
    """Floats in [low, high] at least `margin` from every point: inputs away from an op's kinks.

    A value that lands closer is moved out to point +/- margin on its own side (the other
    side where that would leave the range), so shrinking still works. Keep the points more
    than 2 * margin apart. Pass it as `elements` to `arrays` or `tensors`.
    """
    points = sorted(float(p) for p in points)
    if not low < high:
        raise ValueError(f"away_from: low ({low}) must be below high ({high})")

    def push(value: float) -> float:
        for p in points:
            if abs(value - p) < margin:
                above = value >= p
                if (above and p + margin > high) or (not above and p - margin < low):
                    above = not above
                value = p + margin if above else p - margin
        return value

    return st.floats(low, high, allow_nan=False, allow_infinity=False).map(push)


def _gapped(values: np.ndarray, gap: float) -> np.ndarray:
    """`values` with no two elements closer than `gap`: each is raised just enough, order kept."""
    flat = values.reshape(-1)
    order = np.argsort(flat, kind="stable")
    steps = gap * np.arange(flat.size)
    raised = np.empty_like(flat)
    raised[order] = np.maximum.accumulate(flat[order] - steps) + steps
    return raised.reshape(values.shape)


def arrays(
    shape: Any = None, dtype: Any = np.float64, elements: Any = None, min_gap: float = 0.0
) -> st.SearchStrategy[np.ndarray]:
    """numpy arrays of `shape` (a tuple or a strategy; default `shapes()`) and `dtype`.

    `elements` draws the values (default: floats in [-3, 3]; see `away_from`). They are drawn
    in float64 and then cast, so any float strategy serves float32 too. `min_gap` > 0 keeps
    every two elements of an array at least that far apart, raising values as needed (by at
    most size * min_gap): ties are kinks for max, min and sorting.
    """
    shape = shapes() if shape is None else shape
    elements = away_from() if elements is None else elements
    drawn = hnp.arrays(np.float64, shape, elements=elements)
    if min_gap > 0:
        drawn = drawn.map(lambda a: _gapped(a, min_gap))
    if np.dtype(dtype) != np.float64:
        drawn = drawn.map(lambda a: a.astype(dtype))
    return drawn


def tensors(
    shape: Any = None, dtype: Any = np.float64, elements: Any = None, requires_grad: bool = True,
    min_gap: float = 0.0,
) -> st.SearchStrategy[Tensor]:  # fmt: skip
    """Tensors drawn like `arrays`, ready for `assert_grad_close` (requires_grad=True by default).

    >>> tensors(shapes(min_dims=1), elements=away_from([0.0], low=-1, high=1)).example().requires_grad
    True
    """
    return arrays(shape, dtype, elements, min_gap).map(lambda a: Tensor(a, requires_grad=requires_grad))
