"""The ops as functions, for those that read better that way: `ag.exp(x)`, `ag.where(c, a, b)`.

Each accepts tensors or anything `Tensor(...)` accepts and returns a Tensor. They are the
functions the ops modules register (see autograd/registry.py): most are also the matching
Tensor method; the ones without a natural `self` (where, concatenate, stack...) are only
functions. (The base class of the ops, `Function`, is in `autograd/function.py`.)
"""

from __future__ import annotations

from typing import Any

from . import ops  # noqa: F401  (importing it registers every op)
from .registry import functions
from .tensor import Tensor


def is_tensor(obj: Any) -> bool:
    """True for a Tensor (PyTorch's is_tensor)."""
    return isinstance(obj, Tensor)


def numel(x: Any) -> int:
    """Number of elements."""
    return (x if isinstance(x, Tensor) else Tensor(x)).numel()


globals().update(functions())

__all__ = ["is_tensor", "numel", *functions()]
