"""`assert_grad_close` and `assert_gradgrad_close`: gradcheck, with a failure report to act on.

The verdict is always `autograd.gradcheck`'s (or `gradgradcheck`'s). When it fails, the
report adds, for every input out of tolerance, its worst elements side by side (index,
input value, autograd, numerical, allowed difference) and what the pattern suggests: a
scaled gradient, a flipped sign, a transposed one, a missing one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..numerical import GradcheckError, gradcheck, gradgradcheck, gradient_comparison
from ..tensor import Tensor

SHOWN = 5  # elements listed per wrong input, worst first


def assert_grad_close(
    fn: Callable[..., Any], *inputs: Any, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0
) -> None:
    """Assert that autograd's gradient of `fn(*inputs)` matches central differences.

    Every input Tensor with requires_grad=True is checked, in float64 on a copy (float32
    inputs too); anything else goes to `fn` unchanged. As with `autograd.gradcheck`, the
    inputs may also come as one list or tuple: `assert_grad_close(fn, [x, y])` checks
    `fn(x, y)`. A non-scalar output is weighted by a random upstream gradient drawn from
    `seed`. Raises `autograd.GradcheckError` naming the input, the worst indices, both
    values and the tolerances.

    >>> assert_grad_close(lambda x: (x * x).sum(), Tensor([1.0, 2.0], requires_grad=True))
    """
    __tracebackhide__ = True  # pytest shows the report, not this frame
    inputs = unpacked(inputs)
    try:
        gradcheck(fn, list(inputs), eps=eps, atol=atol, rtol=rtol, seed=seed)
    except GradcheckError as err:
        report = mismatch_report(f"the gradient of {describe(fn)}", fn, inputs, err, eps, atol, rtol, seed)
        raise GradcheckError(report) from None


def assert_gradgrad_close(
    fn: Callable[..., Any], *inputs: Any, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0
) -> None:
    """Assert that autograd's second derivatives of `fn(*inputs)` match central differences.

    Checks the derivative of the vector-Jacobian product v . d fn / d inputs (with a random
    v from `seed`) with respect to the inputs and to v, as `autograd.gradgradcheck` does.
    The inputs come as for `assert_grad_close`. Check first derivatives with
    `assert_grad_close` first: a wrong one shows here too.
    """
    __tracebackhide__ = True
    inputs = unpacked(inputs)
    try:
        gradgradcheck(fn, list(inputs), eps=eps, atol=atol, rtol=rtol, seed=seed)
    except GradcheckError as err:
        n = len(inputs)
        raise GradcheckError(
            f"the second derivative of {describe(fn)} does not match central differences\n"
            f"  gradgradcheck: {err}\n"
            f"  (inputs 0 to {n - 1} there are the inputs of {describe(fn)}; inputs {n} onwards are the upstream\n"
            f"  gradients v, one per output, of the product v . d output / d inputs whose gradient was checked)"
        ) from None


def unpacked(inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    """The inputs of `fn`, given one by one or, as `autograd.gradcheck` takes them, as one list or tuple.

    A lone list or tuple holding a Tensor stands for its items. Any other list or tuple
    holding a Tensor that requires grad is a TypeError: gradcheck checks only Tensors passed
    directly, so that gradient would go unchecked.
    """
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)) and any(isinstance(x, Tensor) for x in inputs[0]):
        inputs = tuple(inputs[0])
    for i, x in enumerate(inputs):
        if isinstance(x, (list, tuple)) and any(isinstance(t, Tensor) and t.requires_grad for t in x):
            raise TypeError(
                f"input {i} of {len(inputs)} is a {type(x).__name__} holding Tensors that require grad, and only "
                "Tensors passed directly are checked: pass the inputs one by one, check(fn, x, y), or all as one "
                "list or tuple, check(fn, [x, y]) (to check a function that takes a list, wrap it: "
                "lambda x, y: fn([x, y])); options such as eps go by keyword"
            )
    return inputs


def describe(fn: Any) -> str:
    """A short name for a function, a Function's `apply` or a callable object, for reports."""
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type):  # a classmethod such as MyOp.apply
        return f"{owner.__name__}.{fn.__name__}"
    name = getattr(fn, "__qualname__", None)
    if name is None:
        return type(fn).__name__
    return "the lambda" if name.endswith("<lambda>") else name


def identifier(fn: Any) -> str:
    """`describe(fn)` as a Python identifier, for naming generated tests."""
    return re.sub(r"\W+", "_", describe(fn)).strip("_") or "fn"


def mismatch_report(
    what: str,
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    error: GradcheckError,
    eps: float,
    atol: float,
    rtol: float,
    seed: int,
    labels: Sequence[str] | None = None,
    index_of: Sequence[Callable[[int], tuple[int, ...]]] | None = None,
) -> str:
    """The worst elements of each input out of tolerance, after gradcheck failed with `error`.

    `labels[i]` names input i and `index_of[i]` turns a flat position in it into the index
    to show (both default to the input's own).
    """
    lines = [f"{what} does not match central differences"]
    try:
        result = gradient_comparison(fn, list(inputs), eps, seed)
    except Exception as err:  # the verdict stands; only the details are lost
        return "\n".join([*lines, f"  {error}", f"  (no side-by-side table: recomputing the gradients raised {err!r})"])
    for i, a, n in zip(result.checked, result.analytic, result.numerical):
        label = labels[i] if labels else _label(i, inputs[i])
        locate = index_of[i] if index_of else _unravel(a.shape)
        lines += _table(label, result.inputs[i].data, a, n, atol, rtol, locate)
    if len(lines) == 1:  # the tables found nothing: let gradcheck's own words speak
        lines.append(f"  {error}")
    lines.append(
        f"  rule: |autograd - numerical| <= atol {atol:g} + rtol {rtol:g} * |numerical|; central differences "
        f"with step {eps:g}; non-scalar outputs weighted by a random upstream gradient (seed {seed})"
    )
    return "\n".join(lines)


def _unravel(shape: tuple[int, ...]) -> Callable[[int], tuple[int, ...]]:
    return lambda j: tuple(int(k) for k in np.unravel_index(j, shape))


def _label(i: int, x: Tensor) -> str:
    name = f" ({x.name!r})" if x.name else ""
    precision = f"{x.dtype}, checked in float64" if x.dtype != np.float64 else str(x.dtype)
    return f"input {i}{name}, shape {x.shape}, {precision}"


def _table(
    label: str, values: np.ndarray, a: np.ndarray, n: np.ndarray, atol: float, rtol: float,
    locate: Callable[[int], tuple[int, ...]],
) -> list[str]:  # fmt: skip
    allowed = atol + rtol * np.abs(n)
    excess = np.abs(a - n) - allowed
    bad = ~(excess <= 0)  # NaN counts as wrong
    if not bad.any():
        return []
    hint = _diagnose(a, n, bad, atol, rtol)
    lines = [f"  {label}: {int(bad.sum())} of {bad.size} elements out of tolerance" + (f"; {hint}" if hint else "")]
    lines.append(f"    {'index':<16}{'value':>13}{'autograd':>15}{'numerical':>15}{'|difference|':>14}{'allowed':>11}")
    flat_excess = np.where(np.isnan(excess), np.inf, excess).reshape(-1)
    worst = [int(j) for j in np.argsort(-flat_excess, kind="stable")[: min(SHOWN, int(bad.sum()))]]
    for j in worst:
        av, nv, v = a.reshape(-1)[j], n.reshape(-1)[j], values.reshape(-1)[j]
        lines.append(
            f"    {locate(j)!s:<16}{v:>13.6g}{av:>15.8g}{nv:>15.8g}{abs(av - nv):>14.3g}{allowed.reshape(-1)[j]:>11.3g}"
        )
    if bad.sum() > SHOWN:
        lines.append(f"    ... and {int(bad.sum()) - SHOWN} more")
    return lines


def _diagnose(a: np.ndarray, n: np.ndarray, bad: np.ndarray, atol: float, rtol: float) -> str:
    """What the wrong elements have in common, when it is one of the usual mistakes."""
    if np.isnan(a[bad]).any():
        return "autograd gives NaN"
    if not np.any(a[bad]):
        return "autograd gives 0 where the gradient is not: a gradient that is missing, None or masked away?"
    sized = bad & (np.abs(n) > atol)
    if sized.any():
        ratios = a[sized] / n[sized]
        r = float(np.median(ratios))
        if np.allclose(ratios, r, rtol=1e-3, atol=0):
            if abs(r + 1) < 1e-3:
                return "autograd = -numerical: a flipped sign?"
            if ratios.size > 1:  # one ratio is always "constant"
                return f"autograd = {r:.6g} x numerical: a scaled gradient?"
    if a.ndim >= 2 and a.shape[-1] == a.shape[-2] and np.allclose(a, np.swapaxes(n, -1, -2), rtol=rtol, atol=atol):
        return "autograd equals the numerical gradient with its last two axes swapped: a transposed gradient?"
    return ""
