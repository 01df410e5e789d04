"""Save and load weights as `.npz`: plain arrays only, so loading a file never runs code."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .module import Module


def save(state: Module | Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write a module's state_dict (or any dict of arrays) to `path`, atomically."""
    arrays = state.state_dict() if isinstance(state, Module) else {k: np.asarray(v) for k, v in state.items()}
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)  # readers see the old file or the new one, never half of it
    except BaseException:
        os.unlink(tmp)
        raise


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a dict of arrays written by `save`; refuses pickled objects."""
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}
