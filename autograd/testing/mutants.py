"""Mutation check: would the test suite notice a wrong backward?

    python -m autograd.testing.mutants [--package autograd] [--package nn] [pytest arguments; default: tests]

Every op is a `Function` subclass. A mutant wraps one op's `backward` for the length of its
run (monkeypatched in memory; no file is edited) and corrupts the gradient it returns for
one input, in one of these ways:

- scale: times 1.01, a slightly wrong constant;
- negate: the sign flipped;
- transpose: the last two axes swapped (where they are equal, so the shape still fits);
- broadcast: averaged instead of summed over the axes the input was broadcast along.

The suite first runs unmutated (it must pass), recording which tests send a gradient
through which op that a mutant would change: a test that never runs the mutated code
cannot notice it. Then each mutant re-runs those tests, fastest first, until one fails:
the mutant is killed. A mutant that no test fails survives: a wrong gradient the suite
would let through. Hypothesis uses the `ci` profile, without shrinking; it also draws
constants from the modules loaded, so the examples can differ slightly from a plain
pytest run (a kill that hinges on one lucky example is fragile either way). The exit
status is 0 when every mutant is killed, 1 when some survive, 2 when nothing could be
measured (the suite fails unmutated, or no test reaches the ops).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from _pytest.runner import runtestprotocol
from hypothesis import Phase, settings

from ..engine import broadcast_axes
from ..function import Function
from ..tensor import Tensor

Shape = tuple[int, ...]


def _values(g: Any) -> np.ndarray:
    return g._data if isinstance(g, Tensor) else np.asarray(g)  # only to decide, never to compute


def _scaled(g: Any, shape: Shape) -> Any:
    return g * 1.01 if np.any(_values(g)) else None


def _negated(g: Any, shape: Shape) -> Any:
    return -g if np.any(_values(g)) else None


def _transposed(g: Any, shape: Shape) -> Any:
    v = _values(g)
    if v.ndim < 2 or v.shape[-1] != v.shape[-2] or np.array_equal(v, np.swapaxes(v, -1, -2)):
        return None
    return g.mT


def _averaged(g: Any, shape: Shape) -> Any:
    """Mean where the engine sums a broadcast gradient back to the input's shape."""
    v = _values(g)
    try:
        axes = broadcast_axes(v.shape, shape)
    except ValueError:  # more axes than the gradient: not a broadcast
        return None
    if int(np.prod([v.shape[a] for a in axes])) == 1 or not np.any(v.sum(axis=axes)):
        return None
    return g.mean(axis=axes, keepdims=True).reshape(shape)


# Each kind returns the corrupted gradient, or None where it would change nothing.
KINDS: dict[str, Callable[[Any, Shape], Any]] = {
    "scale": _scaled,
    "negate": _negated,
    "transpose": _transposed,
    "broadcast": _averaged,
}
DESCRIPTIONS = {
    "scale": "scaled by 1.01",
    "negate": "sign flipped",
    "transpose": "last two axes swapped",
    "broadcast": "averaged, not summed, over broadcast axes",
}


@dataclass(frozen=True)
class Mutant:
    """One op's gradient for one input, corrupted in one way."""

    op: type
    position: int
    kind: str

    def __str__(self) -> str:
        return f"{self.op.__name__}.backward, input {self.position}: {DESCRIPTIONS[self.kind]}"

    def corrupt(self, op: type, ctx: Any, grads: tuple[Any, ...]) -> tuple[Any, ...]:
        g = grads[self.position] if self.position < len(grads) else None
        if g is None or not ctx.needs_input_grad[self.position]:
            return grads
        wrong = KINDS[self.kind](g, ctx._inputs[self.position].shape)
        if wrong is None:
            return grads
        return grads[: self.position] + (wrong,) + grads[self.position + 1 :]


def function_classes(packages: Sequence[str]) -> list[type]:
    """The Function subclasses defined in `packages` (imported here), in a stable order."""
    for name in packages:
        importlib.import_module(name)
    found, stack = [], list(Function.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        module = cls.__module__
        has_backward = cls.backward is not Function.backward  # not an abstract base such as Op
        if any(module == p or module.startswith(p + ".") for p in packages) and not module.startswith(__package__) \
                and has_backward:
            found.append(cls)
    return sorted(set(found), key=lambda c: (c.__module__, c.__qualname__))


@contextmanager
def intercepted(ops: Sequence[type], transform: Callable[[type, Any, tuple[Any, ...]], tuple[Any, ...]]) -> Iterator:
    """Route what each op's backward returns through transform(op, ctx, grads), then restore every op."""
    saved = {op: op.__dict__.get("backward") for op in ops}
    for op in ops:
        original = op.backward

        def backward(ctx: Any, grad: Any, op: type = op, original: Callable = original) -> Any:
            out = original(ctx, grad)
            if type(ctx) is not op:  # a subclass that inherits this backward: not the op mutated
                return out
            single = not isinstance(out, tuple)
            result = transform(op, ctx, (out,) if single else out)
            return result[0] if single else result

        op.backward = staticmethod(backward)
    try:
        yield
    finally:
        for op, attribute in saved.items():
            if attribute is None:
                del op.backward
            else:
                op.backward = attribute


class _Recorder:
    """Notes, for the running test, every mutant that would change a gradient it computes."""

    def __init__(self) -> None:
        self.current: Any = None
        self.touched: dict[Any, set[Mutant]] = {}

    def __call__(self, op: type, ctx: Any, grads: tuple[Any, ...]) -> tuple[Any, ...]:
        seen = self.touched.setdefault(self.current, set())
        for i, g in enumerate(grads):
            if g is None or not ctx.needs_input_grad[i]:
                continue
            for kind, corrupt in KINDS.items():
                mutant = Mutant(op, i, kind)
                if mutant not in seen and corrupt(g, ctx._inputs[i].shape) is not None:
                    seen.add(mutant)
        return grads


def _passes(item: pytest.Item) -> bool:
    return not any(report.failed for report in runtestprotocol(item, log=False, nextitem=None))


class MutationRun:
    """A pytest plugin that replaces the test loop with the mutation check."""

    def __init__(self, ops: Sequence[type]) -> None:
        self.ops = list(ops)
        self.status = 2
        self.survivors: list[Mutant] = []

    @pytest.hookimpl(trylast=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        phases = [p for p in Phase if p not in (Phase.shrink, Phase.explain)]  # the first failure is enough
        settings.register_profile("seedgrad-mutants", settings.get_profile("ci"), phases=phases)
        settings.load_profile("seedgrad-mutants")

    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        if session.testsfailed:
            raise session.Interrupted(f"{session.testsfailed} errors during collection")
        reporter = session.config.pluginmanager.getplugin("terminalreporter")
        write = reporter.write_line
        items = [item for item in session.items if item.get_closest_marker("no_mutation") is None]
        if len(items) < len(session.items):
            left_out = len(session.items) - len(items)
            session.config.pluginmanager.getplugin("terminalreporter").write_line(
                f"mutation check: leaving out {left_out} tests marked no_mutation"
            )
        recorder, took, failed = _Recorder(), {}, []
        write(f"mutation check: running {len(items)} tests unmutated, recording what each one exercises")
        with intercepted(self.ops, recorder):
            for item in items:
                recorder.current, start = item, time.perf_counter()
                if not _passes(item):
                    failed.append(item.nodeid)
                took[item] = time.perf_counter() - start
        if failed:
            write("the suite fails without any mutant, so nothing can be measured; fix these first:", red=True)
            for nodeid in failed:
                write(f"  {nodeid}")
            return True
        if not any(recorder.touched.values()):
            write("no test sent a gradient through these ops' backward, so no mutant can be made: are the right "
                  "--package and tests given, and does the engine call each Function's backward?", red=True)
            return True
        order = {(op, kind): k for k, (op, kind) in enumerate((op, kind) for op in self.ops for kind in KINDS)}
        mutants = sorted(set().union(*recorder.touched.values()), key=lambda m: (order[(m.op, m.kind)], m.position))
        killers: dict[type, Any] = {}  # the test that last killed a mutant of each op: tried first
        for mutant in mutants:
            candidates = sorted((item for item in items if mutant in recorder.touched.get(item, ())),
                                key=lambda item: (item is not killers.get(mutant.op), took[item]))  # fmt: skip
            killer = None
            with intercepted([mutant.op], mutant.corrupt):
                for item in candidates:
                    if not _passes(item):
                        killer = item
                        break
            if killer is None:
                self.survivors.append(mutant)
                shown = ", ".join(item.nodeid for item in candidates[:3]) + (", ..." if len(candidates) > 3 else "")
                tests = f"{len(candidates)} test" + ("s" if len(candidates) != 1 else "")
                write(f"SURVIVED  {mutant}  (run by {tests}: {shown})", red=True)
            else:
                killers[mutant.op] = killer
                write(f"killed    {mutant}  by {killer.nodeid}")
        self._summary(write, mutants)
        self.status = 1 if self.survivors else 0
        reporter.stats["mutants killed"] = [m for m in mutants if m not in self.survivors]  # pytest's last line
        reporter.stats["mutants survived"] = self.survivors
        return True

    def _summary(self, write: Callable[..., None], mutants: list[Mutant]) -> None:
        killed = len(mutants) - len(self.survivors)
        rate = 100.0 * killed / len(mutants) if mutants else 0.0
        exercised = {m.op for m in mutants}
        write("")
        headline = f"mutation check: {killed} of {len(mutants)} mutants killed ({rate:.1f}%), {len(self.survivors)} "
        write(headline + f"survived; {len(exercised)} of {len(self.ops)} ops mutated", bold=True)
        for mutant in self.survivors:
            write(f"  survivor: {mutant}", red=True)
        idle = [op.__name__ for op in self.ops if op not in exercised]
        if idle:
            write(f"  never mutated (no test sends a gradient a mutant would change through them): {', '.join(idle)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograd.testing.mutants",
        description="Re-run the test suite against deliberately wrong backward rules; report how many it catches. "
        "Arguments not listed here go to pytest (default: tests).",
    )
    parser.add_argument("--package", action="append", help="mutate the Functions defined in this package "
                        "(repeatable; default: autograd)")  # fmt: skip
    args, pytest_args = parser.parse_known_args(argv)
    run = MutationRun(function_classes(args.package or ["autograd"]))
    quiet = ["-q", "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    pytest.main([*quiet, *(pytest_args or ["tests"])], plugins=[run])
    return run.status


if __name__ == "__main__":
    sys.exit(main())
