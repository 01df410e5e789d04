"""Save and load weights as `.npz`: plain arrays only, so loading a file never runs code."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from autograd.files import write_atomically

from .module import Module


def save(state: Module | Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write a module's state_dict (or any dict of arrays) to `path`, atomically."""
    arrays = state.state_dict() if isinstance(state, Module) else {k: np.asarray(v) for k, v in state.items()}
    write_atomically(path, lambda f: np.savez(f, **arrays))


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a dict of arrays written by `save`; refuses pickled objects."""
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}
