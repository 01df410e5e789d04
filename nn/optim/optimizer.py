"""`Optimizer`: the base class that holds parameters, hyperparameters and per-parameter state.

Updates are written into `p.data` in place, never by rebinding it: a model may hand out
arrays that share memory with its parameters, and those must see every step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from autograd import Tensor


class Optimizer:
    """Base class: subclasses validate their hyperparameters, pass them as `defaults` and write `step()`.

    Each hyperparameter is a plain attribute (`opt.lr`), so schedulers and users can change
    it between steps. Per-parameter state (momentum buffers, Adam moments, step counts) lives
    in `self.state[i]`, a dict for the i-th parameter.

    >>> opt = SGD(model.parameters(), lr=0.1)
    >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(self, params: Iterable[Tensor], defaults: Mapping[str, Any]):
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
        self.defaults = dict(defaults)
        for name, value in self.defaults.items():
            setattr(self, name, value)
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients accumulated so far: `.grad = None` (or, with set_to_none=False, zeros)."""
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.data[...] = 0

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
        hyper = {k: _like(state[k], self.defaults[k]) for k in self.defaults}
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


def _like(value: Any, default: Any) -> Any:
    """A loaded hyperparameter (maybe a 0-d array from `nn.load`) as the plain type of its default."""
    if isinstance(default, bool):
        return bool(value)
    if isinstance(default, tuple):
        return tuple(float(v) for v in np.asarray(value).ravel())
    return float(value)
