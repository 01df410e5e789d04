"""`Optimizer`: the base class that holds parameters, hyperparameters and per-parameter state.

Updates are written into each parameter in place (`p.sub_(...)` under no_grad), never by
rebinding its array: a model may hand out arrays that share memory with its parameters, and
those must see every step; and the write bumps the parameter's version, so a backward through
a graph recorded before the step says the values it saved have changed.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from autograd import Tensor, no_grad


class Optimizer:
    """Base class: subclasses pass their hyperparameters as `defaults`, check them in `_validate` and write `step()`.

    Each hyperparameter is a plain attribute (`opt.lr`), so schedulers and users can change
    it between steps. Per-parameter state (momentum buffers, Adam moments, step counts) lives
    in `self.state[i]`, a dict for the i-th parameter.

    >>> opt = SGD(model.parameters(), lr=0.1)
    >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(self, params: Iterable[Tensor], defaults: Mapping[str, Any]):
        self._validate(defaults)
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__} takes an iterable of parameters, got a single Tensor; "
                "pass model.parameters() or a list such as [w, b]"
            )
        self.params: list[Tensor] = list(params)
        if not self.params:
            raise ValueError(
                f"{type(self).__name__} got an empty parameter list; pass model.parameters() of a model that "
                "has parameters (a generator from model.parameters() can only be used once)"
            )
        seen: set[int] = set()
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{type(self).__name__} can only optimise Tensors, parameter {i} is a {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{type(self).__name__} cannot optimise parameter {i} ({p.name or 'unnamed'}): it is not a leaf "
                    "but the result of an op; pass the tensors you created (or .detach() them)"
                )
            if id(p) in seen:
                raise ValueError(
                    f"parameter {i} ({p.name or 'unnamed'}) appears twice in the list given to {type(self).__name__}; "
                    "it would be updated twice per step. Pass each parameter once."
                )
            seen.add(id(p))
        self.defaults = {name: _plain(value) for name, value in defaults.items()}
        for name, value in self.defaults.items():
            setattr(self, name, value)
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def _validate(self, settings: Mapping[str, Any]) -> None:
        """Raise TypeError or ValueError for a bad hyperparameter; run on the constructor's and on loaded ones."""

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients accumulated so far: `.grad = None` (or, with set_to_none=False, zeros)."""
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                with no_grad():
                    p.grad.zero_()

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        raise NotImplementedError(f"{type(self).__name__} must define step()")

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict[str, Any]:
        """Hyperparameters and copies of the per-parameter state, as a flat dict of numbers and arrays.

        Per-parameter entries are keyed `"{index}.{name}"` (`"0.exp_avg"`), index being the
        parameter's position in the list the optimiser was given; so the dict can be saved
        with `nn.save` and read back with `nn.load`.
        """
        state: dict[str, Any] = {name: getattr(self, name) for name in self.defaults}
        for i, entries in enumerate(self.state):
            for name, value in entries.items():
                state[f"{i}.{name}"] = value.copy() if isinstance(value, np.ndarray) else value
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore hyperparameters and per-parameter state from `state_dict()` (or from `nn.load` of it).

        Everything is checked before anything is written; arrays are copied, in each
        parameter's dtype, so the optimiser never shares memory with `state`.
        """
        name = type(self).__name__
        missing = [k for k in self.defaults if k not in state]
        if missing:
            raise KeyError(
                f"state dict for {name} lacks hyperparameters {missing}; was it saved from another optimiser?"
            )
        hyper = {k: _plain(state[k]) for k in self.defaults}
        try:
            self._validate(hyper)
        except (TypeError, ValueError) as e:
            raise type(e)(f"the state dict holds an invalid setting: {e}") from None
        for k, value in hyper.items():
            if type(value) is not type(self.defaults[k]):
                raise TypeError(
                    f"the state dict holds {k}={value!r}, but {name} expects a {type(self.defaults[k]).__name__} "
                    f"such as {self.defaults[k]!r}"
                )
        per_param: list[dict[str, Any]] = [{} for _ in self.params]
        for key, value in state.items():
            if key in self.defaults:
                continue
            index, _, entry = key.partition(".")
            if not (index.isdigit() and entry):
                raise KeyError(f"unexpected key {key!r} in the state dict for {name}")
            i = int(index)
            if i >= len(self.params):
                raise ValueError(
                    f"the state dict has state for parameter {i}, but this {name} has only {len(self.params)} "
                    "parameters; build it from the same model"
                )
            p = self.params[i]
            array = np.asarray(value)
            if array.dtype.kind not in "biuf":
                raise TypeError(f"state {key!r} is an array of dtype {array.dtype}, not real numbers")
            if array.ndim == 0 and array.dtype.kind in "iu":
                per_param[i][entry] = int(array)
            elif array.shape != p.shape:
                raise ValueError(
                    f"state {key!r} has shape {array.shape} but parameter {i} ({p.name or 'unnamed'}) has shape "
                    f"{p.shape}; build the optimiser from the same model"
                )
            else:
                per_param[i][entry] = np.array(array, dtype=p.dtype)
        for k, value in hyper.items():
            setattr(self, k, value)
        self.state = per_param

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.defaults)
        return f"{type(self).__name__}({settings})"


def _plain(value: Any) -> Any:
    """A setting as a plain Python value: numpy scalars and 0-d arrays unwrapped, numbers as float (bools kept),
    sequences as tuples; anything else unchanged."""
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (tuple, list, np.ndarray)):
        return tuple(_plain(v) for v in value)
    return value


def finite(owner: str, name: str, value: Any, typical: str) -> float:
    """`value` as a float if it is a finite real number, else a TypeError or ValueError naming `name`."""
    number = value.item() if isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0 else value
    if isinstance(number, bool) or not isinstance(number, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number ({typical}), got {value!r} of type {type(value).__name__}")
    if not math.isfinite(number):
        raise ValueError(f"{owner}: invalid {name}={value}; it must be a finite number ({typical})")
    return float(number)
