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

from .grad_mode import anomaly_mode, set_anomaly_mode

# Files and folders of library code, whose frames reports skip (libraries on top add theirs).
_internal_paths: set[str] = set()
_internal_prefixes: tuple[str, ...] = ()


def register_internal(path: str | os.PathLike[str]) -> None:
    """Treat the code in `path` (a folder, or one file) as library code: anomaly reports skip its
    frames and point at the caller's line instead. nn registers its folder; registering again does nothing."""
    global _internal_prefixes
    text = os.fspath(path)
    if not isinstance(text, str):
        raise TypeError(f"register_internal takes a str or os.PathLike path, got {type(path).__name__}")
    if not text:
        raise ValueError("register_internal needs a path; an empty one would hide the current folder's code")
    full = os.path.abspath(text)
    _internal_paths.add(full)
    _internal_prefixes = tuple(sorted(p + os.sep for p in _internal_paths))


register_internal(os.path.dirname(os.path.abspath(__file__)))


class AnomalyError(FloatingPointError):
    """A NaN or inf appeared under detect_anomaly()."""


def user_stack() -> traceback.StackSummary:
    """The current call stack without the library's own frames (innermost last)."""
    frames = traceback.extract_stack()
    return traceback.StackSummary.from_list([f for f in frames if not _is_internal(os.path.abspath(f.filename))])


def _is_internal(filename: str) -> bool:
    return filename in _internal_paths or filename.startswith(_internal_prefixes)


class detect_anomaly:
    """Raise AnomalyError as soon as an op produces NaN or inf, in forward or in backward.

    With `render_to` (a path ending in .svg or .png), the graph around the op is drawn
    there too, the op outlined in red (drawing needs graphviz; without it the error says so instead).

    >>> with detect_anomaly():
    ...     loss = model(x).log().sum()   # AnomalyError at the first log of a non-positive value
    ...     loss.backward()
    """

    def __init__(self, render_to: str | os.PathLike | None = None):
        self.render_to = None if render_to is None else Path(render_to)

    def __enter__(self) -> detect_anomaly:
        self._previous = set_anomaly_mode(self)
        return self

    def __exit__(self, *exc: object) -> None:
        set_anomaly_mode(self._previous)


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


_renderer: list[Any] = [None]  # draws a graph: set by the autograd package (drawing sits above this module)


def set_renderer(render: Any) -> None:
    """Give detect_anomaly(render_to=...) its picture-drawing function (autograd's `render` signature)."""
    _renderer[0] = render


def _render(roots: Any, node: Any) -> str:
    """Draw the graph around `node` if detect_anomaly was asked to; say where, or why not."""
    settings = anomaly_mode()
    if not isinstance(settings, detect_anomaly) or settings.render_to is None:
        return ""
    tensors = [t for t in roots if isinstance(t, Tensor)]
    render = _renderer[0]
    if render is None:
        return "\n(could not draw the graph: no renderer is set; import autograd to set it)"
    try:
        path = render(tensors, settings.render_to, highlight=node, depth=3, show_grad=False)
    except Exception as err:  # the anomaly is the news; a failed picture (or a missing graphviz) only gets a mention
        return f"\n(could not draw the graph: {err})"
    return f"\nThe graph around it is drawn in {path}."


from .tensor import Tensor  # noqa: E402
