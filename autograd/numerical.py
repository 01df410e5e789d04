"""Numerical gradients by central differences, and checks of autograd against them.

This is the seeds' method done right: (f(x + eps) - f(x - eps)) / (2 eps), one element at
a time, always in float64. `gradcheck` passes iff, for every element,
|analytic - numerical| <= atol + rtol * |numerical| (PyTorch's rule and defaults).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .engine import grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Autograd's gradient disagrees with the central difference."""


def _as_list(inputs: Any) -> list[Any]:
    return [inputs] if isinstance(inputs, Tensor) else list(inputs)


def _float64_copy(x: Any) -> Any:
    """A float64 leaf copy of a tensor (same requires_grad), so checks never touch the caller's data."""
    if not isinstance(x, Tensor):
        return x
    copy = Tensor(np.array(x.data, dtype=np.float64), name=x.name)
    copy.requires_grad = x.requires_grad
    return copy


def _outputs(result: Any) -> tuple[Tensor, ...]:
    outs = (result,) if isinstance(result, Tensor) else tuple(result)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"the function must return a Tensor or a tuple of Tensors, got {type(o).__name__}")
    return outs


def _weighted_sum(fn: Callable[..., Any], xs: list[Any], weights: Sequence[np.ndarray]) -> float:
    outs = _outputs(fn(*xs))
    return float(sum(np.sum(np.asarray(o.data, dtype=np.float64) * w) for o, w in zip(outs, weights)))


def numerical_grad(
    fn: Callable[..., Any], inputs: Any, eps: float = 1e-6, grad_outputs: Sequence[Any] | None = None
) -> list[np.ndarray]:
    """Central-difference gradient of sum(grad_outputs * fn(*inputs)) for every input, in float64.

    Without `grad_outputs` this is the gradient of the sum of the outputs (of the output
    itself when it is a scalar). Returns one float64 array per input.

    >>> numerical_grad(lambda x: (x ** 2).sum(), [Tensor([1.0, 2.0])])[0].round(6)
    array([2., 4.])
    """
    xs = [_float64_copy(x) for x in _as_list(inputs)]
    if grad_outputs is None:
        weights = [np.ones(o.shape) for o in _outputs(fn(*xs))]
    else:
        weights = [np.asarray(w.data if isinstance(w, Tensor) else w, dtype=np.float64) for w in grad_outputs]
    result = []
    for x in xs:
        if not isinstance(x, Tensor):
            result.append(None)
            continue
        flat = x.data.reshape(-1)  # a view: writing it perturbs x
        g = np.zeros(flat.size)
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            up = _weighted_sum(fn, xs, weights)
            flat[i] = original - eps
            down = _weighted_sum(fn, xs, weights)
            flat[i] = original
            g[i] = (up - down) / (2 * eps)
        result.append(g.reshape(x.shape))
    return result


def _describe(i: int, x: Tensor) -> str:
    name = f" ({x.name!r})" if x.name else ""
    return f"input {i}{name} of shape {x.shape}"


def _compare(analytic: np.ndarray, numerical: np.ndarray, what: str, atol: float, rtol: float) -> None:
    excess = np.abs(analytic - numerical) - (atol + rtol * np.abs(numerical))
    bad = ~(excess <= 0)  # catches NaN too
    if not bad.any():
        return
    flat = np.where(np.isnan(excess), np.inf, excess).reshape(-1)
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(flat)), analytic.shape))
    a, n = float(analytic[worst]), float(numerical[worst])
    raise GradcheckError(
        f"gradient check failed for {what}: at index {worst} autograd gives {a!r} but the central "
        f"difference gives {n!r} (difference {abs(a - n):.3g} > atol {atol:g} + rtol {rtol:g} * |numerical| "
        f"= {atol + rtol * abs(n):.3g}); {int(bad.sum())} of {bad.size} elements are out of tolerance."
    )


@dataclass(frozen=True)
class GradientComparison:
    """Autograd's and the central-difference gradient of each checked input, side by side, in float64.

    `inputs` are the float64 copies both were taken at; `checked` the positions of the inputs
    that require grad; `analytic[k]` and `numerical[k]` the two gradients of input `checked[k]`
    (zeros where autograd found no path to it).
    """

    inputs: list[Any]
    checked: list[int]
    analytic: list[np.ndarray]
    numerical: list[np.ndarray]


def gradient_comparison(fn: Callable[..., Any], inputs: Any, eps: float = 1e-6, seed: int = 0) -> GradientComparison:
    """Both gradients of `fn` for every input tensor with requires_grad=True, as `gradcheck` compares them.

    A non-scalar output is weighted by a random upstream gradient drawn from `seed` (a scalar
    one by 1), the same weights for both gradients.
    """
    xs = [_float64_copy(x) for x in _as_list(inputs)]
    checked = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("no input requires grad; create the inputs with requires_grad=True")
    outs = _outputs(fn(*xs))
    rng = np.random.default_rng(seed)
    weights = [np.ones(o.shape) if o.size == 1 else rng.standard_normal(o.shape) for o in outs]
    live = [k for k, o in enumerate(outs) if o.requires_grad]
    found: Sequence[Any] = [None] * len(checked)
    if live:
        upstream = [weights[k].astype(outs[k].dtype) for k in live]
        found = grad([outs[k] for k in live], [xs[i] for i in checked], upstream, allow_unused=True)
    analytic = [np.zeros(xs[i].shape) if g is None else np.asarray(g.data, dtype=np.float64)
                for i, g in zip(checked, found)]  # fmt: skip
    numerical = numerical_grad(fn, xs, eps, weights)
    return GradientComparison(xs, checked, analytic, [numerical[i] for i in checked])


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check autograd's gradient of `fn` against central differences, in float64.

    Checks every input tensor with requires_grad=True. A non-scalar output is weighted by a
    random upstream gradient (drawn from `seed`), so every element of the Jacobian counts.
    Returns True, or raises GradcheckError naming the input, the worst index, both values
    and the tolerances. `gradient_comparison` gives the two gradients themselves.

    >>> gradcheck(lambda x: x.tanh(), [Tensor([0.5, -1.0], requires_grad=True)])
    True
    """
    inputs = _as_list(inputs)
    if not any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
        raise ValueError("gradcheck: no input requires grad; create the inputs with requires_grad=True")
    result = gradient_comparison(fn, inputs, eps, seed)
    for i, a, n in zip(result.checked, result.analytic, result.numerical):
        _compare(a, n, _describe(i, result.inputs[i]), atol, rtol)
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check second derivatives: gradcheck of the vector-Jacobian product of `fn`.

    The gradient of fn (weighted by a random upstream gradient `v`) is computed with
    create_graph=True, and its own gradient with respect to the inputs and to `v` is
    checked against central differences.
    """
    xs = [_float64_copy(x) for x in _as_list(inputs)]
    outs = _outputs(fn(*xs))
    rng = np.random.default_rng(seed)
    vs = [Tensor(rng.standard_normal(o.shape), requires_grad=True) for o in outs]
    n = len(xs)

    def first_derivative(*args: Any) -> tuple[Tensor, ...]:
        xs_, vs_ = list(args[:n]), list(args[n:])
        live_outs = _outputs(fn(*xs_))
        wrt = [x for x in xs_ if isinstance(x, Tensor) and x.requires_grad]
        keep = [k for k, o in enumerate(live_outs) if o.requires_grad]
        if not keep:
            return tuple(Tensor(np.zeros(x.shape)) for x in wrt)
        grads = grad(
            [live_outs[k] for k in keep], wrt, [vs_[k] for k in keep], create_graph=True, allow_unused=True
        )
        return tuple(Tensor(np.zeros(x.shape)) if g is None else g for x, g in zip(wrt, grads))

    return gradcheck(first_derivative, xs + vs, eps, atol, rtol, seed + 1)
