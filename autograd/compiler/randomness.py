"""Random draws while tracing: refused, so that no random number is frozen into a compiled program.

A trace records arrays, not where they came from: a dropout mask drawn while tracing would be
replayed as the same mask on every call. So while a step is traced, the draws that can be
intercepted raise a TraceError naming the user's line -- the methods of autograd's Generator
(the default generator's class), numpy's `np.random.*` functions and the `random` module's --
and the states of the generators the step can reach (a numpy Generator held by a layer or a
closure, numpy's and Python's global ones) are compared after the trace, so that a draw from a
plain numpy Generator, whose type cannot be patched, is refused too, naming the generator.
"""

from __future__ import annotations

import pickle
import random as _pyrandom
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .. import random as ag_random
from .trace import TraceError, active, refuse, suspended

ADVICE = (
    "Random numbers drawn while tracing would be frozen into the compiled program: every later call would reuse "
    "the same numbers. Put dropout layers in eval mode (model.eval(), or dropout(..., training=False)), draw the "
    "random values outside the step and pass them in as arguments, or run this step eagerly (without "
    "autograd.compile)."
)

GENERATOR_TYPES = (np.random.Generator, np.random.RandomState, np.random.BitGenerator, _pyrandom.Random)


def _refusing(original: Callable, what: str, thread: int) -> Callable:
    def refused(*args: Any, **kwargs: Any) -> Any:
        if active() is None or threading.get_ident() != thread:  # an opaque call, or another thread
            return original(*args, **kwargs)
        raise refuse(f"a random draw ({what})", ADVICE)

    return refused


def _state(g: Any) -> bytes:
    with suspended():  # numpy makes arrays while reading a state: they are not the step's
        return _state_now(g)


def _state_now(g: Any) -> bytes:
    if isinstance(g, np.random.Generator):
        return pickle.dumps(g.bit_generator.state)
    if isinstance(g, np.random.RandomState):
        return pickle.dumps(g.get_state(legacy=False))
    if isinstance(g, np.random.BitGenerator):
        return pickle.dumps(g.state)
    return pickle.dumps(g.getstate())


@contextmanager
def refused(reachable: list[tuple[str, Any]]) -> Iterator[Callable[[], None]]:
    """Refuse random draws while the block runs; yields the check to call once the step has returned."""
    thread = threading.get_ident()
    undo: list[Callable[[], None]] = []
    cls = ag_random.Generator
    for name in dir(np.random.Generator):
        if name.startswith("_") or not callable(getattr(np.random.Generator, name)):
            continue
        own = cls.__dict__.get(name)
        setattr(cls, name, _refusing(getattr(cls, name), f"Generator.{name}", thread))
        undo.append((lambda n=name, o=own: setattr(cls, n, o)) if own is not None else (lambda n=name: delattr(cls, n)))
    legacy = ((np.random, np.random.mtrand._rand, "np.random"), (_pyrandom, _pyrandom._inst, "random"))
    for module, owner, label in legacy:
        for name in dir(module):
            fn = getattr(module, name)
            if getattr(fn, "__self__", None) is owner:
                setattr(module, name, _refusing(fn, f"{label}.{name}", thread))
                undo.append(lambda m=module, n=name, f=fn: setattr(m, n, f))
    watched: dict[int, tuple[str, Any, bytes]] = {}
    everyone = [("autograd's default generator", ag_random.default_generator()),
                ("numpy's global generator (np.random)", np.random.mtrand._rand),
                ("Python's global generator (random)", _pyrandom._inst), *reachable]  # fmt: skip
    for name, g in everyone:
        if id(g) not in watched:
            watched[id(g)] = (name, g, _state(g))

    def check() -> None:
        for name, g, before in watched.values():
            if _state(g) != before:
                raise TraceError(f"autograd.compile: the step drew random numbers from {name} while it was traced "
                                 f"(this call ran eagerly and its effects stand). {ADVICE}")  # fmt: skip

    try:
        yield check
    finally:
        for u in reversed(undo):
            u()
