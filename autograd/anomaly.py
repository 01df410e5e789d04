"""`detect_anomaly()`: stop at the first NaN or inf, naming the op and where your code created it.

Under it every op checks its result, forward and backward, and every recorded op keeps
the stack of the code that created it, so the error points at your line, not the engine's.
It costs a check per op: use it to hunt a NaN, not for ordinary training.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from .grad_mode import _state

# Frames from these folders are the library's own, not the user's code (nn adds its own).
INTERNAL_DIRS = [os.path.dirname(os.path.abspath(__file__))]


class AnomalyError(FloatingPointError):
    """A NaN or inf appeared under detect_anomaly()."""


def user_stack() -> traceback.StackSummary:
    """The current call stack without the library's own frames (innermost last)."""
    frames = traceback.extract_stack()
    return traceback.StackSummary.from_list(
        [f for f in frames if not any(os.path.abspath(f.filename).startswith(d + os.sep) for d in INTERNAL_DIRS)]
    )


class detect_anomaly:
    """Raise AnomalyError as soon as an op produces NaN or inf, in forward or in backward.

    With `render_to` (a path ending in .svg or .png), the graph around the op is drawn
    there too, the op outlined in red.

    >>> with detect_anomaly():
    ...     loss = model(x).log().sum()   # AnomalyError at the first log of a non-positive value
    ...     loss.backward()
    """

    def __init__(self, render_to: str | os.PathLike | None = None):
        self.render_to = None if render_to is None else Path(render_to)

    def __enter__(self) -> detect_anomaly:
        self._previous = _state.anomaly
        _state.anomaly = self
        return self

    def __exit__(self, *exc: object) -> None:
        _state.anomaly = self._previous


def _describe(values: np.ndarray) -> str | None:
    """'NaN', 'inf' or 'NaN and inf' if `values` holds any, else None."""
    if values.dtype.kind not in "fc" or np.isfinite(values).all():
        return None
    kinds = [k for k, test in (("NaN", np.isnan), ("inf", np.isinf)) if test(values).any()]
    return " and ".join(kinds)


def _where(stack: traceback.StackSummary | None) -> str:
    if not stack:
        return ""
    last = stack[-1]
    lines = "".join(traceback.format_list(stack[-3:]))
    return f"\nThe op was created at {last.filename}:{last.lineno}, in {last.name}:\n{lines}"


def check_forward(op: str, out: np.ndarray, node: Any) -> None:
    found = _describe(out)
    if found is None:
        return
    where = node._created_at if node is not None else user_stack()
    message = f"detect_anomaly: {op} produced {found} in its forward pass (output shape {out.shape}).{_where(where)}"
    if node is not None:
        message += _render(node._inputs, node)
    raise AnomalyError(message)


def check_backward(node: Any, index: int, grad: Any, output: Any) -> None:
    values = grad._data if isinstance(grad, Tensor) else grad
    found = _describe(np.asarray(values))
    if found is None:
        return
    message = (
        f"detect_anomaly: {type(node).__name__}.backward produced {found} in the gradient for its input {index} "
        f"(shape {np.shape(values)}).{_where(node._created_at)}"
    )
    raise AnomalyError(message + _render((output,), node))


def _render(roots: Any, node: Any) -> str:
    """Draw the graph around `node` if detect_anomaly was asked to; say where, or why not."""
    settings = _state.anomaly
    if not isinstance(settings, detect_anomaly) or settings.render_to is None:
        return ""
    from .drawing import render  # only now: drawing is optional

    tensors = [t for t in roots if isinstance(t, Tensor)]
    try:
        path = render(tensors, settings.render_to, highlight=node, depth=3, show_grad=False)
    except Exception as err:  # the anomaly is the news; a failed picture only gets a mention
        return f"\n(could not draw the graph: {err})"
    return f"\nThe graph around it is drawn in {path}."


from .tensor import Tensor  # noqa: E402
