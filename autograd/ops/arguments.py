"""The argument conventions the ops' public functions share.

Reductions and shape ops take PyTorch's `dim=` / `keepdim=` (positionally too) or numpy's
`axis=` / `keepdims=`; a dim may be an int, a tuple or list of ints, or None for all. And
every public function accepts a plain number or array where it takes a tensor.
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor

UNSET: Any = object()  # an argument not given (None means "all dims" for dim/axis)


def dims(op: str, dim: Any, keepdim: Any, axis: Any, keepdims: Any, default: Any = None) -> tuple[Any, bool]:
    """PyTorch's dim/keepdim or numpy's axis/keepdims, whichever was given: the axis and keepdims to use."""
    if axis is not UNSET:
        if dim is not None and dim != default:
            raise TypeError(f"{op}: give dim (PyTorch's name) or axis (numpy's), not both")
        dim = axis
    if keepdims is not UNSET:
        keepdim = keepdims
    return as_axis(dim), bool(keepdim)


def as_axis(dim: Any) -> Any:
    """A list of dims as the tuple numpy wants; anything else unchanged."""
    return tuple(dim) if isinstance(dim, list) else dim


def tensor_of(x: Any) -> Tensor:
    """`x` itself if it is a tensor, else `Tensor(x)`: for bodies that read the input's shape or dtype.

    The ops called once per layer (exp, sum, reshape...) spell this out inline instead,
    `Exp.apply(x if isinstance(x, Tensor) else Tensor(x))`, to keep a call off their path.
    """
    return x if isinstance(x, Tensor) else Tensor(x)
