"""Grad mode: whether operations record a graph. Thread-local, as in PyTorch."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _GradState(threading.local):
    """Per-thread switches the engine reads on every op (each thread starts with the defaults)."""

    enabled = True  # record graphs
    anomaly = False  # check every op for NaN/inf (see detect_anomaly)
    scope: Any = None  # innermost name_scope, recorded on nodes for grouped pictures
    backward_of: Any = None  # the node whose backward is being recorded (create_graph=True), if any


_state = _GradState()


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad record a graph (the default)."""
    return _state.enabled


class set_grad_enabled:
    """Switch graph recording on or off for the current thread, as PyTorch's does: called
    plainly it stays switched; used as `with set_grad_enabled(training):` it switches back
    at the end of the block."""

    def __init__(self, mode: bool):
        self._previous = _state.enabled
        _state.enabled = bool(mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _state.enabled = self._previous


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
        _state.enabled = self._mode

    def __exit__(self, *exc: object) -> None:
        _state.enabled = self._previous.pop()

    def __call__(self, func: F) -> F:
        mode = self._mode

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            previous = is_grad_enabled()
            _state.enabled = mode
            try:
                return func(*args, **kwargs)
            finally:
                _state.enabled = previous

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


class Scope:
    """A named region of code (an nn module call, say); nodes created inside remember it."""

    __slots__ = ("kind", "name", "parent")

    def __init__(self, name: str, kind: str, parent: Scope | None):
        self.name, self.kind, self.parent = name, kind, parent

    @property
    def path(self) -> str:
        """Dotted names from the outermost scope in, e.g. "encoder.fc1" (unnamed scopes add nothing)."""
        names = []
        scope: Scope | None = self
        while scope is not None:
            if scope.name:
                names.append(scope.name)
            scope = scope.parent
        return ".".join(reversed(names))


def anomaly_mode() -> Any:
    """The innermost active `detect_anomaly` on this thread, or False when ops are not being checked."""
    return _state.anomaly


def set_anomaly_mode(mode: Any) -> Any:
    """Make `mode` (a `detect_anomaly`, or False) this thread's anomaly mode; returns the previous one."""
    previous, _state.anomaly = _state.anomaly, mode
    return previous


def call_in_scope(name: str, kind: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """`fn(*args, **kwargs)` with the ops it records tagged by a scope `name` of `kind`: the function form of
    `name_scope`, for hot paths (nn.Module.__call__ uses it; it costs less than a `with` block).

    >>> y = call_in_scope("encoder", "Block", forward, x)   # as `with name_scope("encoder", "Block"): forward(x)`
    """
    parent = _state.scope
    _state.scope = Scope(name, kind, parent)
    try:
        return fn(*args, **kwargs)
    finally:
        _state.scope = parent


class name_scope:
    """Tag the ops created inside with a name, so graph pictures can group them.

    `nn.Module.__call__` opens one per module with the module's attribute name, which is
    how `to_dot(..., group_modules=True)` draws each module as a cluster.

    >>> with name_scope("encoder"):
    ...     h = x.tanh()          # drawn inside an "encoder" box by to_dot(h, group_modules=True)
    """

    def __init__(self, name: str, kind: str = ""):
        self.name, self.kind = name, kind

    def __enter__(self) -> Scope:
        scope = Scope(self.name, self.kind, _state.scope)
        _state.scope = scope
        return scope

    def __exit__(self, *exc: object) -> None:
        _state.scope = _state.scope.parent
