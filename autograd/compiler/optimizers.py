"""Optimisers in a compiled step: `nn.optim`'s traced into numpy lines, any other one an opaque call.

An optimiser that defines `_rates()` (SGD, Adam, AdamW) runs its real `step()` while tracing,
with its state arrays swapped for recording inputs, `_rates()` handing out `Scalar`s (each call
a line of the program, run afresh on every call: a scheduler's lr, Adam's step count and bias
corrections) and its scratch arrays made the program's. Any other optimiser is one opaque line
that hands the real optimiser the gradients and calls its `step()`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor
from .trace import Trace, TracerArray, refuse, suspended, untrace


class OptimizerTrace:
    """An optimiser whose `step()` is traced into numpy lines (see the module docstring).

    While the step runs, its state arrays are recording inputs, `_rates()` hands out Scalars (each call a
    line of the program), and its scratch arrays are the program's. `guard` is what the program assumes:
    the same param group dicts, their hyperparameters other than lr, and each parameter's state size (a
    first step, which creates the state, is a program of its own)."""

    def __init__(self, trace: Trace, opt: Any, index: int, by_tensor: dict[int, Any]):
        self.trace, self.opt, self.by_tensor = trace, opt, by_tensor
        self.name = type(opt).__name__.lower() + (str(index) if index else "")
        self.inputs: dict[tuple[int, str], TracerArray] = {}  # (id(param), key) -> the recording input
        self.state_reads: list[tuple[Tensor, str, TracerArray]] = []
        self.state_finals: list[tuple[Tensor, str, Any]] = []
        groups = list(opt.param_groups)
        params = [p for group in groups for p in group["params"]]
        by_param = opt.state.by_param
        settings = [(len(g["params"]), tuple((k, v) for k, v in g.items() if k not in ("params", "param_names", "lr")))
                    for g in groups]  # fmt: skip
        self.guard = (groups, settings, [(p, len(by_param.get(p, ()))) for p in params])
        self.state_read: set[int] = set()  # id(param) of those whose state the step looked at
        for p in params:
            state = by_param.get(p, {})
            for key, value in state.items():
                if isinstance(value, np.ndarray) and not isinstance(value, TracerArray):
                    tracer = trace.new_value(value, kind="input")
                    trace.names[tracer._tid] = f"{key}_{self.param_name(p)}"
                    state[key] = tracer
                    self.inputs[(id(p), key)] = tracer
                    self.state_reads.append((p, key, tracer))
        self._patch()

    def param_name(self, p: Tensor) -> str:
        holder = self.by_tensor.get(id(p))
        return holder.name if holder is not None else "param"

    def expr(self, p: Tensor) -> str:
        """The program's expression for parameter p (a name the program binds to the tensor)."""
        return self.by_tensor[id(p)].expr

    def _patch(self) -> None:
        trace, opt = self.trace, self.opt
        rates, buffers, blocks, step = opt._rates, opt._buffers, opt._blocks, opt.step

        per_group: dict[int, tuple[Any, ...]] = {}  # group index -> its Scalars, where rates_per_group

        def traced_rates(group: Any, p: Tensor) -> tuple[Any, ...]:
            if trace.suspended:
                return rates(group, p)
            index = next(i for i, g in enumerate(opt.param_groups) if g is group)
            if index in per_group:
                return per_group[index]
            values = rates(group, p)
            scalars = tuple(trace.scalar(float(v)) for v in values)
            of = f"group {index}" if opt.rates_per_group else self.param_name(p)
            for scalar, name in zip(scalars, type(opt).rate_names):
                if opt.rates_per_group:
                    trace.names[scalar._tid] = name if index == 0 else f"{name}_{index}"
                else:
                    trace.names[scalar._tid] = f"{name}_{of}"
            trace.record("rates", f"{type(opt).__name__}'s numbers for this step of {of}", (), {}, list(scalars), [],
                         opaque=(self, index, p))  # fmt: skip
            if opt.rates_per_group:
                per_group[index] = scalars
            return scalars

        def traced_buffers(p: Tensor, count: int) -> list[Any]:
            data = p._data
            p._data = untrace(data)
            try:
                plain = buffers(p, count)
            finally:
                p._data = data
            scratch = [trace.scratch(b) for b in plain]
            for b in scratch:
                trace.names.setdefault(b._tid, f"scratch_{self.param_name(p)}")
            return scratch

        def traced_blocks(p: Tensor, arrays: tuple, count: int) -> list[tuple[Any, ...]]:
            return [(*parts[:-1], [s if isinstance(s, TracerArray) else trace.scratch(s) for s in parts[-1]])
                    for parts in blocks(p, arrays, count)]  # fmt: skip

        def traced_step(closure: Any = None) -> Any:
            if closure is not None:
                raise refuse("optimizer.step(closure)",
                             "Call the closure's code in the step and then optimizer.step().")  # fmt: skip
            return step()

        opt._rates, opt._buffers, opt._blocks, opt.step = traced_rates, traced_buffers, traced_blocks, traced_step
        self.by_param = opt.state.by_param
        opt.state.by_param = _Recording(self.by_param)  # which parameters' state the step looks at

    def finish(self) -> None:
        """Undo the patches; put plain arrays back in the state, noting which entries the step (re)bound."""
        for attr in ("_rates", "_buffers", "_blocks", "step"):
            self.opt.__dict__.pop(attr, None)
        recording = self.opt.state.by_param
        if isinstance(recording, _Recording):
            self.opt.state.by_param = self.by_param
            self.state_read = recording.read
        by_param = self.opt.state.by_param
        for group in self.opt.param_groups:
            for p in group["params"]:
                state = by_param.get(p, {})
                for key, value in list(state.items()):
                    if isinstance(value, TracerArray):
                        if value is not self.inputs.get((id(p), key)):
                            self.state_finals.append((p, key, self.trace.encode(value)))
                        state[key] = untrace(value)


class _Recording(dict):  # type: ignore[type-arg]
    """An optimiser's per-parameter state dicts, noting which parameters' state is looked up while tracing (the
    guard checks only theirs: plain SGD never looks)."""

    def __init__(self, by_param: dict) -> None:
        super().__init__(by_param)
        self.original, self.read = by_param, set()

    def __getitem__(self, p: Any) -> Any:
        self.read.add(id(p))
        return self.original[p]

    def get(self, p: Any, default: Any = None) -> Any:
        self.read.add(id(p))
        return self.original.get(p, default)


def record_opaque(trace: Trace, opt: Any) -> Callable[[], None]:
    """Make `opt.step()` one opaque instruction: recorded with the gradients it reads, run for real."""
    original = opt.step

    def step(closure: Any = None) -> Any:
        if closure is not None:
            raise refuse("optimizer.step(closure)", "Call the closure's code in the step and then optimizer.step().")
        params = [p for group in opt.param_groups for p in group["params"]]
        grads = [p._grad._data if p._grad is not None else None for p in params]
        trace.record("opaque", f"{type(opt).__name__}.step(), in place", tuple(grads), {}, [],
                     [p._data for p in params], opaque=(opt, params))  # fmt: skip
        saved = [(p._data, p._grad) for p in params]
        try:
            for p, g in zip(params, grads):
                p._data = untrace(p._data)
                p._grad = None if g is None else Tensor._wrap(untrace(g))
            with suspended():
                return original()
        finally:
            for p, (data, grad) in zip(params, saved):
                p._data, p._grad = data, grad

    opt.step = step

    def undo() -> None:
        del opt.step

    return undo


def opaque_step(opt: Any, params: list[Tensor]) -> Callable[..., None]:
    """The program's call into a real optimiser: hand it the gradients, run its step."""
    wrap = Tensor._wrap

    def opaque(*grads: Any) -> None:
        for p, g in zip(params, grads):
            p._grad = None if g is None else wrap(g)
        opt.step()

    return opaque
