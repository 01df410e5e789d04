"""A compiled program's guard: what its trace assumed about the outside, checked by generated Python.

A program replays only where the step would do exactly what the trace recorded: the tensors it
reads (and the call's tensor arguments) have the shapes, dtypes, requires_grad and grad-or-None
they had when the trace began, the modules it reached are in the same training mode, and each
traced optimiser has the same param groups, fixed hyperparameters and state sizes. The checks are
written as one boolean expression, `holds()`, and `accepts(a0, ...)` for the arguments too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..grad_mode import _state
from ..tensor import Tensor
from .optimizers import OptimizerTrace


class Guard:
    """What a trace assumed, taken before the step ran, and the Python expressions that check it."""

    def __init__(self, args: tuple, kwargs: dict, holders: list[Any], modules: list[Any],
                 numbers: list[tuple[str, str, Any, Any, Any]], sizes: list[tuple[str, Any, int]]):  # fmt: skip
        self.checks: list[str] = []
        self.said: dict[str, str] = {}  # check -> what it checks, in words (for the warning when it keeps failing)
        self.arg_checks: list[str] | None = [] if not kwargs else None
        self.values: dict[str, Any] = {}
        self.optimizers: list[tuple[OptimizerTrace, list]] = []
        self.condition: str | None = None  # accepts()'s, once source() has written it
        self.described: list[tuple[str, str]] = []  # holds()'s checks and what each says, likewise
        for i, a in enumerate(args):
            if isinstance(a, Tensor) and self.arg_checks is not None:
                self.arg_checks.append(f"isinstance(a{i}, _Tensor) and " + self._tensor(f"a{i}", tensor_state(a)))
            elif isinstance(a, np.ndarray) and self.arg_checks is not None:
                self.arg_checks.append(f"type(a{i}) is _ndarray and a{i}.shape == {a.shape!r} "
                                       f"and a{i}.dtype == {self._value(a.dtype, 'D')}")  # fmt: skip
            else:
                self.arg_checks = None  # a number, a string...: its value is in the cache key
        self.leaves = [(h.expr, id(h.tensor), tensor_state(h.tensor), h.name) for h in holders
                       if h.expr.startswith("T")]  # fmt: skip
        for m in modules:
            said = f"{type(m).__name__}.training is {m.training}"
            self._check(f"{self._value(m, 'M')}.training is {m.training}", said)
        for name, kind, holder, key, value in numbers:
            self._check(self._number(kind, holder, key, value), f"{name} is {value!r}")
        for name, container, size in sizes:
            self._check(f"len({self._value(container, 'H')}) == {size}", f"{name} has {size} items")

    def _check(self, check: str, said: str) -> None:
        self.checks.append(check)
        self.said[check] = said

    def _number(self, kind: str, holder: Any, key: Any, value: Any) -> str:
        """`value` is still there: the same object, or one of its type and equal to it (1 == 1.0 == True, but
        x * 1 and x * 1.0 differ for integer arrays)."""
        h = self._value(holder, "H")
        if kind == "cell":
            read = f"{h}.cell_contents"
        elif kind == "attr":
            read = f"{h}.{key}" if key.isidentifier() else f"getattr({h}, {key!r}, _ABSENT)"
        elif isinstance(holder, dict):
            read = f"{h}.get({key!r}, _ABSENT)"
        else:
            read = f"{h}[{key!r}]"
        v = self._value(value, "N")
        return f"({read} is {v} or (type({read}) is {self._value(type(value), 'Y')} and {read} == {v}))"

    def _value(self, value: Any, prefix: str) -> str:
        name = f"{prefix}{len(self.values)}"
        self.values[name] = value
        return name

    def _tensor(self, expr: str, state: tuple, grad: bool = True) -> str:
        grad_none, requires_grad, shape, dtype = state
        parts = [f"{expr}._grad is {'' if grad_none else 'not '}None"] if grad else []
        parts += [f"{expr}._requires_grad is {requires_grad}", f"{expr}._data.shape == {shape!r}",
                  f"{expr}._data.dtype == {self._value(dtype, 'D')}"]  # fmt: skip
        return " and ".join(parts)

    def optimizer(self, o: OptimizerTrace) -> None:
        groups, settings, state_sizes = o.guard
        kind = type(o.opt).__name__
        self._check(f"len({o.name}.param_groups) == {len(groups)}", f"{kind} has {len(groups)} param group(s)")
        for gi, (n_params, fixed) in enumerate(settings):
            g = f"{o.name}_group{gi}"
            self._check(f"{o.name}.param_groups[{gi}] is {g} and len({g}['params']) == {n_params}",
                        f"{kind}'s param group {gi} is the same dict, with {n_params} parameters")  # fmt: skip
            for key, value in fixed:
                self._check(f"{g}[{key!r}] == {self._value(value, 'V')}", f"{kind}'s {key} is {value!r}")
        self.optimizers.append((o, state_sizes))

    def _state_checks(self) -> list[str]:
        """Each state size the step looked at (taken before it ran; a first step makes the state)."""
        checks = []
        for o, state_sizes in self.optimizers:
            for p, size in state_sizes:
                if id(p) in o.state_read:
                    checks.append(f"len({o.name}.state.by_param.get({o.expr(p)}, ())) == {size}")
                    self.said[checks[-1]] = f"{type(o.opt).__name__}'s state for {o.param_name(p)} has {size} entries"
        return checks

    def source(self, n_args: int, grad_reset: set[int]) -> str:
        """`def holds()` and, where the call's arguments are all tensors or arrays, `def accepts(a0, ...)`. Whether
        a tensor has a grad is not checked where the step resets it before reading it (`zero_grad()` first)."""
        checks = []
        for expr, key, (grad_none, requires_grad, shape, dtype), name in self.leaves:
            checks.append(self._tensor(expr, (grad_none, requires_grad, shape, dtype), grad=key not in grad_reset))
            grad = "" if key in grad_reset else f"grad {'None' if grad_none else 'set'}, "
            self.said[checks[-1]] = f"{name}: {grad}requires_grad={requires_grad}, shape {shape}, {dtype}"
        checks += self.checks + self._state_checks()
        self.described = [(check, self.said[check]) for check in checks]
        text = "def holds():\n    return (" + ("\n        and ".join(checks) or "True") + ")\n"
        self.condition = None
        if self.arg_checks is not None:  # the same checks and the arguments', in one function: one call less
            params = ", ".join(f"a{i}" for i in range(n_args))
            self.condition = "\n            and ".join([f"_grad_mode.enabled is {_state.enabled}", *self.arg_checks,
                                                        *checks])  # fmt: skip
            text += f"\n\ndef accepts({params}):\n    return ({self.condition})\n"
        return text



def tensor_state(t: Tensor) -> tuple:
    return t._grad is None, t._requires_grad, t._data.shape, t._data.dtype
