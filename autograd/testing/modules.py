"""`assert_module_grad_close`: the gradient of a whole model, for every parameter, against central differences.

The check runs on a float64 deep copy, so a float32 model is checked at full precision and
the model itself (values, dtype, `.grad`) is never touched. A parameter is handed to
gradcheck as a small tensor of its sampled entries, spliced back into the parameter's
place for every evaluation (a fresh copy of the module each time, so a seeded Dropout
draws the same mask in every evaluation). Only `named_parameters()` and a call are
needed, so autograd never imports nn.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from ..numerical import GradcheckError, gradcheck
from ..op_functions import concatenate
from ..tensor import Tensor
from .gradients import describe, mismatch_report


def assert_module_grad_close(
    module: Any,
    *inputs: Any,
    loss: Callable[[Any], Any] | None = None,
    max_entries: int = 32,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> None:
    """Assert that the gradient of `module(*inputs)` (or of `loss(module(*inputs))`) is right.

    Checks every parameter that requires grad, and every input Tensor that does. A parameter
    with more than `max_entries` elements is checked at that many entries, drawn from
    `seed`; smaller ones entirely. Raises `autograd.GradcheckError` naming the parameter
    (by its path, e.g. `fc1.weight`), its index, both values and the tolerances.

    >>> import nn
    >>> model = nn.Sequential(nn.Linear(3, 4, dtype=np.float32), nn.Tanh(), nn.Linear(4, 2, dtype=np.float32))
    >>> assert_module_grad_close(model, np.ones((5, 3), np.float32), loss=lambda out: (out ** 2).mean())
    """
    __tracebackhide__ = True
    if not callable(getattr(module, "named_parameters", None)):
        raise TypeError(
            f"assert_module_grad_close needs a module with named_parameters() (an nn.Module), got "
            f"{type(module).__name__}; for a plain function use assert_grad_close"
        )
    if max_entries < 1:
        raise ValueError(f"max_entries must be at least 1, got {max_entries}")
    base = copy.deepcopy(module)
    params = _float64_parameters(base)
    samples = _sample_positions(params, max_entries, seed)
    entries = [Tensor(p.data.reshape(-1)[pos], requires_grad=True, name=path)
               for (path, p, _), pos in zip(params, samples)]  # fmt: skip
    k = len(entries)
    if k == 0 and not any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
        raise ValueError(
            f"{type(module).__name__} has no parameter with requires_grad=True and no input requires grad, "
            "so there is no gradient to check"
        )

    def evaluate(*args: Any) -> Any:
        """The module's output with the checked entries of each parameter taken from `args`."""
        memo = {id(p): _spliced(p, pos, e) for (_, p, _), pos, e in zip(params, samples, args[:k])}
        out = copy.deepcopy(base, memo)(*args[k:])
        return out if loss is None else loss(out)

    try:
        gradcheck(evaluate, entries + list(inputs), eps=eps, atol=atol, rtol=rtol, seed=seed)
    except GradcheckError as err:
        labels, index_of = _labels_and_locators(params, samples, inputs)
        what = f"the gradient of {describe(module)}" + (" followed by the loss" if loss is not None else "")
        report = mismatch_report(what, evaluate, entries + list(inputs), err, eps, atol, rtol, seed, labels, index_of)
        raise GradcheckError(report) from None


_Checked = tuple[str, Tensor, Any]  # (path, float64 parameter of the copy, its original dtype)


def _float64_parameters(base: Any) -> list[_Checked]:
    """Turn every parameter of the copy `base` to float64 with no grad; return those that require grad."""
    params = []
    for path, p in base.named_parameters():
        original_dtype = p.dtype
        p.data, p.grad = np.asarray(p.data, dtype=np.float64), None
        if p.requires_grad:
            params.append((path, p, original_dtype))
    return params


def _sample_positions(params: list[_Checked], max_entries: int, seed: int) -> list[np.ndarray]:
    """The flat positions checked in each parameter: all of a small one, else `max_entries` drawn from `seed`."""
    rng = np.random.default_rng(seed)
    return [np.arange(p.size) if p.size <= max_entries else np.sort(rng.choice(p.size, max_entries, replace=False))
            for _, p, _ in params]  # fmt: skip


def _labels_and_locators(
    params: list[_Checked], samples: list[np.ndarray], inputs: tuple[Any, ...]
) -> tuple[list[str], list[Callable[[int], tuple[int, ...]]]]:
    """For each checked tensor (parameters, then inputs), a name for the report and a map to its real index."""
    labels = [_label(path, p, dtype, pos) for (path, p, dtype), pos in zip(params, samples)]
    index_of = [_locator(p.shape, pos) for (_, p, _), pos in zip(params, samples)]
    for i, x in enumerate(inputs):
        shape = np.shape(x.data if isinstance(x, Tensor) else x)
        labels.append(f"input {i}, shape {shape}")
        index_of.append(_locator(shape, np.arange(int(np.prod(shape)))))
    return labels, index_of


def _spliced(p: Tensor, positions: np.ndarray, entries: Tensor) -> Tensor:
    """The parameter's values as a graph expression whose checked entries come from `entries`."""
    if positions.size == p.size:
        return entries.reshape(p.shape)
    gather = np.arange(p.size) + positions.size  # every other entry from the constant copy
    gather[positions] = np.arange(positions.size)
    return concatenate([entries, Tensor(p.data.reshape(-1))])[gather].reshape(p.shape)


def _label(path: str, p: Tensor, dtype: Any, positions: np.ndarray) -> str:
    checked = "all entries" if positions.size == p.size else f"{positions.size} sampled entries"
    precision = f"{dtype}, checked in float64" if dtype != np.float64 else str(dtype)
    return f"parameter {path!r}, shape {p.shape}, {precision} ({checked})"


def _locator(shape: tuple[int, ...], positions: np.ndarray) -> Callable[[int], tuple[int, ...]]:
    return lambda j: tuple(int(i) for i in np.unravel_index(int(positions[j]), shape))
