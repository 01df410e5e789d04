"""Undoing a refused trace.

A compiled step's first call runs the step eagerly while it records, so a refusal (a value read
into Python, a hook, a random draw noticed after the step) can come after the step has changed
parameters, gradients, buffers and optimiser state. `Snapshot` takes all of those before the call
and puts them back, so a refused call changes nothing: running the step eagerly afterwards does
not update twice.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor


class Snapshot:
    """The values (not only the bindings) of the tensors and optimiser state a step can reach."""

    def __init__(self, tensors: list[Tensor], optimizers: list[Any]):
        self.tensors = [(t, t._data, t._data.copy(), t._grad, _grad_values(t)) for t in tensors]
        self.groups = [(group, dict(group)) for opt in optimizers for group in opt.param_groups]
        self.states = [(state, dict(state), {k: v.copy() for k, v in state.items() if isinstance(v, np.ndarray)})
                       for opt in optimizers for state in opt.state.by_param.values()]  # fmt: skip

    def restore(self) -> None:
        """Put every array, binding and number back as it was."""
        for t, data, values, grad, grad_values in self.tensors:
            if data.flags.writeable:
                np.copyto(data, values)
            t._data, t._grad = data, grad
            if grad is not None and grad_values is not None:
                grad_data, saved = grad_values
                if grad_data.flags.writeable:
                    np.copyto(grad_data, saved)
                grad._data = grad_data
        for group, items in self.groups:
            group.clear()
            group.update(items)
        for state, items, arrays in self.states:
            for key, saved in arrays.items():
                np.copyto(items[key], saved)
            state.clear()
            state.update(items)


def _grad_values(t: Tensor) -> tuple[np.ndarray, np.ndarray] | None:
    g = t._grad
    return None if g is None else (g._data, g._data.copy())
