"""dtypes under PyTorch's names, and the default floating-point dtype.

Each name is the numpy scalar type itself, so `np.zeros(3, dtype=autograd.float32)` works and
`t.dtype == autograd.float32` is True. As in PyTorch, `float` is float32, `double` float64,
`half` float16, `int` int32, `long` int64 and `short` int16. Tensors hold bool, integer or real
floating-point values only, so there are no complex dtypes.

The default dtype is what floating-point factories (`zeros`, `rand`, ...) use when given no
dtype. It is float64 here (PyTorch's is float32) unless `set_default_dtype` changes it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

float16 = half = np.float16
float32 = float = np.float32
float64 = double = np.float64
int8 = np.int8
int16 = short = np.int16
int32 = int = np.int32
int64 = long = np.int64
uint8 = np.uint8
bool = np.bool_

finfo = np.finfo  # finfo(float32).eps, .tiny, .max ... as torch.finfo
iinfo = np.iinfo

_default: list[np.dtype] = [np.dtype(np.float64)]


def as_dtype(dtype: Any) -> np.dtype | None:
    """`dtype` (a numpy dtype, type or string, or one of the names above) as a numpy dtype; None stays None."""
    if dtype is None:
        return None
    try:
        result = np.dtype(dtype)
    except (TypeError, ValueError):
        raise TypeError(
            f"{dtype!r} is not a dtype; use one of autograd.float32, float64, float16, int64, int32, int16, "
            "int8, uint8, bool (or a numpy dtype)"
        ) from None
    if result.kind not in "biuf":
        raise TypeError(
            f"tensors hold bool, integer or real floating-point values; dtype {result} is none of these "
            "(complex, string and object dtypes are not supported)"
        )
    return result if result.isnative else result.newbyteorder("=")


def get_default_dtype() -> np.dtype:
    """The dtype floating-point factories use when given none: float64 unless set_default_dtype changed it."""
    return _default[0]


def set_default_dtype(dtype: Any) -> None:
    """Make `dtype` (float16, float32 or float64) the dtype floating-point factories use by default."""
    try:
        result = as_dtype(dtype)
    except TypeError:
        result = None
    if result is None or result.kind != "f":
        raise TypeError(
            f"only floating-point types are supported as the default type, got {dtype!r}; "
            "use autograd.float32 or autograd.float64"
        )
    _default[0] = result


__all__ = [
    "float16", "half", "float32", "float", "float64", "double", "int8", "int16", "short", "int32", "int",
    "int64", "long", "uint8", "bool", "finfo", "iinfo", "as_dtype", "get_default_dtype", "set_default_dtype",
]  # fmt: skip
