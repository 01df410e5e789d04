"""The op registry: each op's public surface, declared once beside its forward and backward.

An ops module follows each `Op` class with a plain function that calls it, decorated with
`@register(...)`. The decorator records under which names the function is a Tensor method
and an `autograd.*` function, and which numpy ufuncs and array functions it answers for; it
returns the function unchanged. From these records `tensor.py` installs the methods on
Tensor, `op_functions.py` exports the functions (and `autograd.__all__` lists them), and
`numpy_bridge.py` builds its tables of what `np.exp(t)` or `np.sum(t, axis=1)` records.
So nothing is wired by hand in several places.

A registered function takes the tensor first (it is `self` as a method) and also accepts a
plain number or array there, as `autograd.exp(2.0)` and numpy's `np.exp(t)` pass one.

For a numpy array function (`np.sum`), the bridge binds the call to numpy's own signature
and calls the registered function with numpy's first argument by position and every other
argument that is not at numpy's default by its numpy name (`axis=`, `keepdims=`). An
argument the function does not take is not honoured: numpy computes the call on plain
values, or, when a gradient is needed, the call is refused naming the argument. Where
numpy's arguments mean something the op spells differently (np.var's `ddof`, np.reshape's
`order`), the ops module registers a small adapter that takes numpy's names instead, with
`method=None, function=None`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

_OWN_NAME: Any = object()  # the default of method= and function=: the decorated function's own name


@dataclass(frozen=True)
class Entry:
    """One registered function and the public names it goes by."""

    fn: Callable[..., Any]
    methods: tuple[str, ...]  # names as a Tensor method (empty: not a method)
    functions: tuple[str, ...]  # names in the autograd namespace (empty: not a function)
    ufuncs: tuple[np.ufunc, ...]  # numpy ufuncs it computes when called with tensors
    array_functions: tuple[Callable[..., Any], ...]  # numpy functions it computes, called with numpy's names


ENTRIES: list[Entry] = []


def _names(given: str | tuple[str, ...] | None, own: str) -> tuple[str, ...]:
    if given is _OWN_NAME:
        return (own,)
    if given is None:
        return ()
    return (given,) if isinstance(given, str) else tuple(given)


def register(
    *, method: str | tuple[str, ...] | None = _OWN_NAME, function: str | tuple[str, ...] | None = _OWN_NAME,
    numpy: Any = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:  # fmt: skip
    """Declare a function's public names: `method` and `function` are a name, a tuple of names
    (aliases such as clip and clamp) or None (not public that way), by default the function's
    own name; `numpy` is a numpy ufunc or array function, or a tuple of them, that the function
    computes on tensors (see the module docstring for how array functions' arguments arrive)."""
    given = numpy if isinstance(numpy, tuple) else (numpy,)
    ufuncs = tuple(f for f in given if isinstance(f, np.ufunc))
    array_functions = tuple(f for f in given if not isinstance(f, np.ufunc))

    def record(fn: Callable[..., Any]) -> Callable[..., Any]:
        names = _names(method, fn.__name__), _names(function, fn.__name__)
        ENTRIES.append(Entry(fn, *names, ufuncs, array_functions))
        return fn

    return record


def methods() -> dict[str, Callable[..., Any]]:
    """Tensor method name -> function."""
    return {name: entry.fn for entry in ENTRIES for name in entry.methods}


def functions() -> dict[str, Callable[..., Any]]:
    """autograd function name -> function."""
    return {name: entry.fn for entry in ENTRIES for name in entry.functions}


def ufuncs() -> dict[np.ufunc, Callable[..., Any]]:
    """numpy ufunc -> the function that computes it in the graph."""
    return {ufunc: entry.fn for entry in ENTRIES for ufunc in entry.ufuncs}


def array_functions() -> dict[Callable[..., Any], Callable[..., Any]]:
    """numpy array function -> the function that computes it in the graph, called with numpy's names."""
    return {func: entry.fn for entry in ENTRIES for func in entry.array_functions}
