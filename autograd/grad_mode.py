"""Grad mode: whether operations record a graph. Thread-local, as in PyTorch."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

class _GradState(threading.local):
    enabled = True  # each thread starts with grad mode on


_state = _GradState()


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad record a graph (the default)."""
    return _state.enabled


def set_grad_enabled(mode: bool) -> None:
    """Switch graph recording on or off for the current thread."""
    _state.enabled = bool(mode)


class _GradMode:
    """Context manager and decorator that sets grad mode, restoring the old mode on exit.

    Works with or without parentheses as a decorator: `@no_grad()` and `@no_grad`.
    """

    _mode: bool

    def __new__(cls, func: F | None = None) -> Any:
        self = super().__new__(cls)
        self._previous = []
        return self if func is None else self(func)

    def __enter__(self) -> None:
        self._previous.append(is_grad_enabled())
        set_grad_enabled(self._mode)

    def __exit__(self, *exc: object) -> None:
        set_grad_enabled(self._previous.pop())

    def __call__(self, func: F) -> F:
        mode = self._mode

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            previous = is_grad_enabled()
            set_grad_enabled(mode)
            try:
                return func(*args, **kwargs)
            finally:
                set_grad_enabled(previous)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Record no graph inside this block or function: no op nodes are even created.

    >>> x = Tensor([1.0], requires_grad=True)
    >>> with no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    _mode = False


class enable_grad(_GradMode):
    """Record the graph again inside a `no_grad` block or function."""

    _mode = True
