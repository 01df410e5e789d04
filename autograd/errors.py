"""Error messages shared by several layers (tensor.py, function.py, numpy_bridge.py), kept
below them all so that none imports another just for a message."""

from __future__ import annotations

from collections.abc import Sequence

_BROADCAST_HINT = (
    "(numpy rules: trailing dimensions must be equal or 1); reshape or unsqueeze one operand so they line up"
)


def broadcast_error(op: str, shapes: Sequence[tuple[int, ...]]) -> ValueError:
    """The error for operands of `op` whose `shapes` do not broadcast together, naming every shape."""
    listed = " and ".join(str(tuple(shape)) for shape in shapes)
    return ValueError(f"{op}: shapes {listed} do not broadcast {_BROADCAST_HINT}")
