"""`autograd.compile`: trace a training step once, replay it as straight-line numpy.

>>> step = autograd.compile(train_step)      # or @autograd.compile above its definition
>>> loss = step(x, t)                          # first call: runs eagerly while tracing
>>> loss = step(x, t)                          # later calls: only the generated numpy program
>>> print(step.source)

The first call with a given signature (shapes, dtypes and requires_grad of the tensor
arguments and of the tensors the step reads from outside; grad mode) runs the step eagerly on
recording arrays (see trace.py). Every numpy operation it causes -- forward, the backward pass
of `loss.backward()`, in-place updates under `no_grad()` -- becomes one line of a generated
function (codegen.py), compiled with `compile()`. Later calls with that signature run only that
function on the tensors' arrays, then set `.grad` and build the returned tensors, so what the
user sees is eager's state.

An `nn.optim` optimiser's `step()` becomes numpy lines too: its state arrays (momentum, Adam's
moments) are read from its state dicts on each call, and the numbers that change from step to
step (the learning rate a scheduler sets, Adam's bias corrections and step count) come from a
call to its `_rates()` in the program, so they are never frozen. Its other hyperparameters are
part of what the program assumed: change momentum, say, and the next call traces again. An
optimiser without `_rates` runs as one opaque call of its real `step()`.

Non-tensor arguments are part of the signature: `step(x, t, lr=0.1)` then `step(x, t, lr=0.2)`
traces again (an unhashable argument, such as a set, is refused). Numbers the step reads from
closures, globals or objects' attributes are constants of the program, as in `jax.jit`: change
them and compile again, or pass them as arguments. Random draws while tracing (dropout in
training mode, `np.random.*`, any numpy Generator) are refused: the program would replay the
same numbers. Every outside array the step writes in place gets its version bumped on each
call, so an older graph that saved it raises, as in eager.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import inplace
from ..grad_mode import _state
from ..tensor import Tensor
from . import codegen, randomness
from .discover import discover
from .trace import _READ_ADVICE, Const, Ref, Trace, TraceError, TracerArray, leaves, refuse, suspended, tracing, untrace

__all__ = ["CompiledStep", "TraceError", "compile"]

CACHE_LIMIT = 8  # programs per step (one per signature); past it, warn once and run eagerly


def compile(fn: Callable | None = None, *, cache_limit: int = CACHE_LIMIT) -> Any:
    """Compile a training step; usable as `compile(fn)`, `@compile` or `@compile(cache_limit=4)`.

    >>> step = compile(lambda x: (w * x).sum())
    """
    if fn is None:
        return lambda f: CompiledStep(f, cache_limit)
    return CompiledStep(fn, cache_limit)


class Program:
    """One traced signature: the generated function, its source, and what it reads and sets.

    `guard` is what the trace assumed about the outside: the shapes, dtypes, requires_grad and
    grad-or-None of the tensors it read, and the `training` flag of every module it reached
    (BatchNorm, Dropout... behave differently in eval mode). A call replays only when it holds.
    """

    def __init__(self, run: Callable, source: str, leaves: list[Tensor], modules: list[Any], trace: Trace,
                 instrs: list[Any], names: codegen.Namer, optimizers: list[_OptimizerTrace]) -> None:  # fmt: skip
        self.run, self.source, self.leaves, self.modules = run, source, leaves, modules
        self.guard = _guard_state(leaves, modules)
        self.optimizers = [o.guard for o in optimizers]
        self.trace, self.instrs, self.names = trace, instrs, names

    def holds(self) -> bool:
        """Whether the outside is still as the trace saw it (else the step must trace again)."""
        for t, (shape, dtype, requires_grad, grad_none) in zip(self.leaves, self.guard[0]):
            d = t._data
            if (t._grad is None) is not grad_none or d.shape != shape or d.dtype != dtype \
                    or t._requires_grad != requires_grad:  # fmt: skip
                return False
        for m, training in zip(self.modules, self.guard[1]):
            if m.training != training:
                return False
        for opt, groups, settings, state_sizes in self.optimizers:
            if len(opt.param_groups) != len(groups):
                return False
            for group, traced, fixed in zip(opt.param_groups, groups, settings):
                if group is not traced or len(group["params"]) != fixed[0]:
                    return False
                for key, value in fixed[1]:
                    if group.get(key) != value:
                        return False
            by_param = opt.state.by_param
            for p, size in state_sizes:
                if len(by_param.get(p, ())) != size:
                    return False
        return True


def _leaf_state(leaves: list[Tensor]) -> tuple:
    return tuple((t._data.shape, t._data.dtype, t._requires_grad, t._grad is None) for t in leaves)


def _guard_state(leaves: list[Tensor], modules: list[Any]) -> tuple:
    return _leaf_state(leaves), tuple(m.training for m in modules)


def _all_modules(modules: list[Any]) -> list[Any]:
    """Every module reachable from `modules` (their submodules too) that has a `training` flag, once each."""
    out: list[Any] = []
    seen: set[int] = set()
    for m in modules:
        subs = m.modules() if callable(getattr(m, "modules", None)) else [m]
        for sub in subs:
            if id(sub) not in seen and isinstance(getattr(sub, "training", None), bool):
                seen.add(id(sub))
                out.append(sub)
    return out


class CompiledStep:
    """A step compiled by `autograd.compile`: call it like the function; `source` is its latest program."""

    def __init__(self, fn: Callable, cache_limit: int = CACHE_LIMIT):
        self.fn = fn
        self.cache_limit = cache_limit

        self._programs: dict[Any, list[Program]] = {}  # signature -> its programs, one per guard state
        self._warned = False
        self._last: Program | None = None
        functools.update_wrapper(self, fn)

    def to_dot(self, rankdir: str = "TB", max_nodes: int = 400) -> Any:
        """The latest program as a picture: one node per line of `source`, forward, backward and update in three
        colours (what `autograd.render(step, path)` draws)."""
        from .picture import program_dot

        return program_dot(self, rankdir=rankdir, max_nodes=max_nodes)

    @property
    def source(self) -> str:
        """The Python source of the program the latest call ran (trace it first by calling the step)."""
        if self._last is None:
            raise RuntimeError("step.source: the step has not been called yet; call it once to trace it")
        return self._last.source

    @property
    def program(self) -> Program:
        if self._last is None:
            raise RuntimeError("the step has not been called yet; call it once to trace it")
        return self._last

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        key = _signature(args, kwargs)
        programs = self._programs.get(key, [])
        for program in programs:
            if program.holds():
                self._last = program
                return program.run(*args, **kwargs)
        if sum(len(p) for p in self._programs.values()) >= self.cache_limit:
            if not self._warned:
                warnings.warn(f"autograd.compile: {getattr(self.fn, '__name__', 'step')} was traced for "
                              f"{self.cache_limit} signatures already; running the others eagerly",
                              stacklevel=2)  # fmt: skip
                self._warned = True
            return self.fn(*args, **kwargs)
        result, program = _trace(self.fn, args, kwargs)
        self._programs.setdefault(key, []).append(program)
        self._last = program
        return result


def _signature(args: tuple, kwargs: dict) -> tuple:
    """The cache key of a call: grad mode, the tensor arguments' shapes and dtypes, the other arguments' values."""
    parts: list[Any] = [_state.enabled]
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            d = a._data
            parts.append((d.shape, d.dtype, a._requires_grad, a._grad is None))
        elif isinstance(a, np.ndarray):
            parts.append((a.shape, a.dtype))
        else:
            parts.append(_value_key(a, i))
    for k, a in kwargs.items():
        parts.append(k)
        if isinstance(a, Tensor):
            d = a._data
            parts.append((d.shape, d.dtype, a._requires_grad, a._grad is None))
        elif isinstance(a, np.ndarray):
            parts.append((a.shape, a.dtype))
        else:
            parts.append(_value_key(a, k))
    return tuple(parts)


def _value_key(a: Any, where: int | str) -> Any:
    """A non-tensor argument's part of the key: its value (a new value traces again), tensors inside by identity."""
    if isinstance(a, float):  # by its bits: 0.0 and -0.0 differ, and every nan is the same
        return ("float", type(a), a.hex())
    if isinstance(a, (tuple, list)):
        return (type(a), tuple(_value_key(v, where) for v in a))
    if isinstance(a, dict):
        return (type(a), tuple((_value_key(k, where), _value_key(v, where)) for k, v in a.items()))
    if isinstance(a, (Tensor, np.ndarray)):  # read by reference: keyed (and kept alive) by identity
        return ("object", id(a), a)
    try:
        hash(a)
    except TypeError:
        raise TraceError(
            f"autograd.compile: {_where(where)} is an unhashable {type(a).__name__}. The values of a compiled step's "
            "non-tensor arguments are part of its signature (a new value traces again), so they must be hashable: "
            "pass numbers, strings, tuples, tensors or arrays, or run this step eagerly."
        ) from None
    return ("value", type(a), a)


def _where(where: int | str) -> str:
    return f"argument {where}" if isinstance(where, int) else f"argument {where}="


# ------------------------------------------------------------------ tracing


class _Holder:
    """A tensor the program reads or sets, and the expression naming it in the generated code."""

    def __init__(self, tensor: Tensor, expr: str, name: str):
        self.tensor, self.expr, self.name = tensor, expr, name
        self.data: np.ndarray = tensor._data
        self.data_tracer: TracerArray | None = None
        self.grad_in: Tensor | None = tensor._grad
        self.grad_tracer: TracerArray | None = None


def _trace(fn: Callable, args: tuple, kwargs: dict) -> tuple[Any, Program]:
    if _state.anomaly:
        raise refuse("a step under detect_anomaly()", "Anomaly checks read every value; run the step eagerly.")
    trace = Trace()
    holders: list[_Holder] = []
    arg_exprs: dict[int, str] = {}
    call_args, call_kwargs = list(args), dict(kwargs)
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            holders.append(_Holder(a, f"a{i}", f"arg{i}"))
            arg_exprs[id(a)] = f"a{i}"
    for k, a in kwargs.items():
        if isinstance(a, Tensor):
            holders.append(_Holder(a, f"kw_{k}", k))
    extra = [(f"arg{i}", a) for i, a in enumerate(args)] + list(kwargs.items())
    found = discover(fn, extra)
    in_args = {id(h.tensor) for h in holders}
    for i, (t, name) in enumerate(zip(found.tensors, found.names)):
        if id(t) not in in_args:
            holders.append(_Holder(t, f"T{i}", name))
    with tracing(trace):
        for h in holders:  # swap in recording views of the same memory
            h.data_tracer = trace.new_value(h.data, kind="input")
            trace.names[h.data_tracer._tid] = h.name
            h.tensor._data = h.data_tracer
            if h.grad_in is not None:
                h.grad_tracer = trace.new_value(h.grad_in._data, kind="input")
                trace.names[h.grad_tracer._tid] = f"grad_{h.name}"
                h.grad_in._data = h.grad_tracer
        for i, a in enumerate(args):
            if isinstance(a, np.ndarray) and not isinstance(a, TracerArray):
                call_args[i] = trace.new_value(a, kind="input")
                trace.names[call_args[i]._tid] = f"arg{i}"
                arg_exprs[id(call_args[i])] = f"a{i}"
        engine_patch = _refuse_hooks()
        by_tensor = {id(h.tensor): h for h in holders}
        optimizers: list[_OptimizerTrace] = []
        opaque = []
        for opt in found.optimizers:
            if getattr(type(opt), "rate_names", ()):
                optimizers.append(_OptimizerTrace(trace, opt, len(optimizers), by_tensor))
            else:
                opaque.append(_record_optimizer(trace, opt))
        inplace._trace_hook[0] = trace.bumped
        try:
            with randomness.refused(found.generators) as check_random:
                result = fn(*call_args, **call_kwargs)
                check_random()
            outputs = _encode_result(trace, result)
        finally:
            inplace._trace_hook[0] = None
            for undo in opaque:
                undo()
            for o in optimizers:
                o.finish()
            engine_patch()
            finals = _restore(trace, holders)
    bumps = [(trace.inputs[tid], n) for tid, n in trace.bumps.items()]
    for array, n in bumps:  # the outside arrays' versions, as eager's writes left them
        inplace.bump(array, n)
    program = _generate(trace, holders, outputs, call_args, args, finals, _all_modules(found.modules), optimizers)
    return _plain_result(result), program


def _refuse_hooks() -> Callable[[], None]:
    """Make the engine refuse hooks, and tensors refuse .numpy(), while tracing; returns the undo."""
    from .. import engine

    original, run = engine._call_hooks, engine._run
    numpy = Tensor.numpy

    def refused_numpy(self: Tensor) -> np.ndarray:
        if isinstance(self._data, TracerArray) and _active_trace().suspended == 0:
            raise refuse(".numpy() of a traced tensor", _READ_ADVICE)
        return numpy(self)

    trace = _active_trace()

    def traced_run(*args: Any, **kwargs: Any) -> Any:
        trace.phase = "backward"
        try:
            return run(*args, **kwargs)
        finally:
            trace.phase = "update"

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise refuse("a tensor hook (register_hook / retain_grad)",
                     "Hooks run Python on gradient values; remove them from the compiled step or run it eagerly.")

    engine._call_hooks, engine._run = refused, traced_run
    Tensor.numpy = refused_numpy  # type: ignore[method-assign]

    def undo() -> None:
        engine._call_hooks, engine._run = original, run
        Tensor.numpy = numpy  # type: ignore[method-assign]

    return undo


def _active_trace() -> Trace:
    from .trace import _active

    trace = _active[0]
    assert trace is not None
    return trace


class _OptimizerTrace:
    """An optimiser whose `step()` is traced into numpy lines (see the module docstring).

    While the step runs, its state arrays are recording inputs, `_rates()` hands out Scalars (each call a
    line of the program), and its scratch arrays are the program's. `guard` is what the program assumes:
    the same param group dicts, their hyperparameters other than lr, and each parameter's state size (a
    first step, which creates the state, is a program of its own)."""

    def __init__(self, trace: Trace, opt: Any, index: int, by_tensor: dict[int, _Holder]):
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
        self.guard = (opt, groups, settings, [(p, len(by_param.get(p, ()))) for p in params])
        for p in params:
            state = by_param.get(p, {})
            for key, value in state.items():
                if isinstance(value, np.ndarray) and not isinstance(value, TracerArray):
                    tracer = trace.new_value(value, kind="input")
                    trace.names[tracer._tid] = f"{key}_{self._param_name(p)}"
                    state[key] = tracer
                    self.inputs[(id(p), key)] = tracer
                    self.state_reads.append((p, key, tracer))
        self._patch()

    def _param_name(self, p: Tensor) -> str:
        holder = self.by_tensor.get(id(p))
        return holder.name if holder is not None else "param"

    def expr(self, p: Tensor) -> str:
        """The program's expression for parameter p (a name the program binds to the tensor)."""
        return self.by_tensor[id(p)].expr

    def _patch(self) -> None:
        trace, opt = self.trace, self.opt
        rates, buffers, blocks, step = opt._rates, opt._buffers, opt._blocks, opt.step

        def traced_rates(group: Any, p: Tensor) -> tuple[Any, ...]:
            values = rates(group, p)
            if trace.suspended:
                return values
            index = next(i for i, g in enumerate(opt.param_groups) if g is group)
            scalars = [trace.scalar(float(v)) for v in values]
            for scalar, name in zip(scalars, type(opt).rate_names):
                trace.names[scalar._tid] = f"{name}_{self._param_name(p)}"
            trace.record("rates", f"{type(opt).__name__}'s numbers for this step of {self._param_name(p)}", (), {},
                         scalars, [], opaque=(self, index, p))  # fmt: skip
            return tuple(scalars)

        def traced_buffers(p: Tensor, count: int) -> list[Any]:
            data = p._data
            p._data = untrace(data)
            try:
                plain = buffers(p, count)
            finally:
                p._data = data
            scratch = [trace.scratch(b) for b in plain]
            for b in scratch:
                trace.names.setdefault(b._tid, f"scratch_{self._param_name(p)}")
            return scratch

        def traced_blocks(p: Tensor, arrays: tuple, count: int) -> list[tuple[Any, ...]]:
            return [(*parts[:-1], [s if isinstance(s, TracerArray) else trace.scratch(s) for s in parts[-1]])
                    for parts in blocks(p, arrays, count)]  # fmt: skip

        def traced_step(closure: Any = None) -> Any:
            if closure is not None:
                raise refuse("optimizer.step(closure)", "Call the closure's code in the step and then optimizer.step().")
            return step()

        opt._rates, opt._buffers, opt._blocks, opt.step = traced_rates, traced_buffers, traced_blocks, traced_step

    def finish(self) -> None:
        """Undo the patches; put plain arrays back in the state, noting which entries the step (re)bound."""
        for attr in ("_rates", "_buffers", "_blocks", "step"):
            self.opt.__dict__.pop(attr, None)
        by_param = self.opt.state.by_param
        for group in self.opt.param_groups:
            for p in group["params"]:
                state = by_param.get(p, {})
                for key, value in list(state.items()):
                    if isinstance(value, TracerArray):
                        if value is not self.inputs.get((id(p), key)):
                            self.state_finals.append((p, key, self.trace.encode(value)))
                        state[key] = untrace(value)


def _record_optimizer(trace: Trace, opt: Any) -> Callable[[], None]:
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


def _encode_result(trace: Trace, value: Any) -> Any:
    if isinstance(value, Tensor):
        return ("tensor", trace.encode(value._data))
    if isinstance(value, TracerArray):
        return ("array", trace.encode(value))
    if isinstance(value, tuple):
        return ("tuple", [_encode_result(trace, v) for v in value])
    if isinstance(value, list):
        return ("list", [_encode_result(trace, v) for v in value])
    if isinstance(value, dict):
        return ("dict", [(k, _encode_result(trace, v)) for k, v in value.items()])
    if value is None or isinstance(value, (int, float, str, bool)):
        return ("value", value)
    raise TraceError(f"autograd.compile: the step returned a {type(value).__name__}; return tensors, arrays, "
                     "numbers or tuples, lists and dicts of them")  # fmt: skip


def _plain_result(value: Any) -> Any:
    if isinstance(value, Tensor):
        value._data = untrace(value._data)
        return value
    if isinstance(value, TracerArray):
        return untrace(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_plain_result(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain_result(v) for k, v in value.items()}
    return value


def _restore(trace: Trace, holders: list[_Holder]) -> list[tuple[str, Any, Any]]:
    """Put plain arrays back in the tensors; returns what each holder's data and grad became."""
    finals = []
    for h in holders:
        t = h.tensor
        data = t._data
        data_final: Any = None  # None: unchanged binding
        if data is not h.data_tracer:
            data_final = trace.encode(data) if isinstance(data, (np.ndarray, Tensor)) else None
            t._data = untrace(data)
        else:
            t._data = h.data
        g = t._grad
        if g is None:
            grad_final: Any = ("none",) if h.grad_in is not None else ("keep",)
        elif g is h.grad_in and g._data is h.grad_tracer:
            grad_final = ("keep",)
        else:
            grad_final = ("set", trace.encode(g._data))
        if h.grad_in is not None:
            h.grad_in._data = untrace(h.grad_in._data)
        if g is not None:
            g._data = untrace(g._data)
        finals.append((h.expr, data_final, grad_final))
    return finals


# ------------------------------------------------------------------ the program


def _optimise(trace: Trace, holders: list[_Holder], outputs: Any, finals: list,
              optimizers: list[_OptimizerTrace]) -> tuple[list, Any, list]:  # fmt: skip
    """Share common values and drop dead ones; returns the instructions, outputs and finals renamed."""
    live: set[int] = set()
    _refs(outputs, live)
    for _, data_final, grad_final in finals:
        _refs(data_final, live)
        _refs(grad_final, live)
    for o in optimizers:
        _refs([value for _, _, value in o.state_finals], live)
        live.update(tracer._tid for _, _, tracer in o.state_reads)
    instrs = codegen.share_common(trace)
    alias = getattr(trace, "alias", {})
    outputs = codegen._rename(outputs, alias)
    finals = [(e, codegen._rename(d, alias), codegen._rename(g, alias)) for e, d, g in finals]
    for o in optimizers:
        o.state_finals = [(p, key, codegen._rename(value, alias)) for p, key, value in o.state_finals]
    live = {alias.get(t, t) for t in live}
    for h in holders:
        live.add(h.data_tracer._tid)
        if h.grad_tracer is not None:
            live.add(h.grad_tracer._tid)
    instrs = codegen.eliminate_dead(trace, instrs, live)

    return instrs, outputs, finals


def _generate(trace: Trace, holders: list[_Holder], outputs: Any, call_args: list, args: tuple,
              finals: list[tuple[str, Any, Any]], modules: list[Any], optimizers: list[_OptimizerTrace]
              ) -> Program:  # fmt: skip
    """Write the program's source (inputs, one line per operation, what the caller sees) and compile it."""
    instrs, outputs, finals = _optimise(trace, holders, outputs, finals, optimizers)
    names = codegen.Namer(trace)
    names.taken.update(("_wrap", "_bump", "_check_failed"))
    names.taken.update(o.name for o in optimizers)
    namespace: dict[str, Any] = {"np": np, "_wrap": Tensor._wrap, "_check_failed": _check_failed}
    lines: list[str] = []
    params = [f"a{i}" for i in range(len(args))] + ["**kw"]
    head = ["    # the arrays of the tensors it reads"]
    head += [f"    {h.expr} = kw[{h.expr[3:]!r}]" for h in holders if h.expr.startswith("kw_")]
    for h in holders:
        expr = h.expr
        if expr.startswith("T"):
            namespace[expr] = h.tensor
        head.append(f"    {names.assign(h.data_tracer._tid, h.name)} = {expr}._data")
        if h.grad_tracer is not None:
            head.append(f"    {names.assign(h.grad_tracer._tid, 'grad_' + h.name)} = {expr}._grad._data")
    for i, a in enumerate(call_args):
        if isinstance(a, TracerArray):
            head.append(f"    {names.assign(a._tid, f'arg{i}')} = a{i}")
    for o in optimizers:
        namespace[o.name] = o.opt
        for gi, group in enumerate(o.guard[1]):
            namespace[f"{o.name}_group{gi}"] = group  # the program checks it is still the optimiser's
        for p, key, tracer in o.state_reads:
            head.append(f"    {names.assign(tracer._tid, trace.names[tracer._tid])} = "
                        f"{o.name}.state.by_param[{o.expr(p)}][{key!r}]")  # fmt: skip
    const_refs: set[int] = set()
    for instr in instrs:
        _consts((instr.args, instr.kwargs), const_refs)
    _consts((outputs, finals), const_refs)
    for index in sorted(const_refs):
        namespace[f"C{index}"] = trace.consts[index]
    grad_names = {g[1].tid: "grad_" + h.name for h, (_, _, g) in zip(holders, finals)
                  if g[0] == "set" and isinstance(g[1], Ref)}  # fmt: skip
    for tid, (array, initial) in trace.adopted.items():  # scratch arrays written by the step
        index = len(trace.consts)
        if initial is not None and sys.getrefcount(array) <= 4:  # made during the trace: start from its values
            trace.consts.append(initial)
            head.append(f"    {names.assign(tid, 'buffer')} = C{index}.copy()")
        else:  # held from outside (an optimiser's scratch): the program writes it, as eager does
            trace.consts.append(array)
            head.append(f"    {names.assign(tid, trace.names.get(tid, 'buffer'))} = C{index}")
        namespace[f"C{index}"] = trace.consts[index]
    opaque_names: dict[int, str] = {}
    phase = None
    for instr in instrs:
        if instr.phase != phase:
            phase = instr.phase
            lines.append(f"    # {phase}")
        for o in instr.outs:
            names.assign(o, trace.names.get(o) or _result_name(o, grad_names, instr))
        if instr.kind == "rates":
            o, gi, p = instr.opaque
            opaque_names[id(instr)] = f"{o.name}._rates({o.name}_group{gi}, {o.expr(p)})"
        elif instr.kind == "opaque":
            opt, opt_params = instr.opaque
            name = f"{type(opt).__name__.lower()}_step_{len(opaque_names)}"
            opaque_names[id(instr)] = name
            namespace[name] = _opaque_step(opt, opt_params)
        lines.append("    " + codegen.line(instr, names, opaque_names))
    lines += _bump_lines(trace, names, namespace)
    tail = _tail(trace, finals, outputs, names, optimizers)
    source = "\n".join([f"def step({', '.join(params)}):", *head, *lines, *tail]) + "\n"
    code = builtins_compile(source, f"<compiled step {getattr(trace, 'name', '')}>", "exec")
    exec(code, namespace)
    guard_leaves = [h.tensor for h in holders if h.expr.startswith("T")]
    return Program(namespace["step"], source, guard_leaves, modules, trace, instrs, names, optimizers)


def _bump_lines(trace: Trace, names: codegen.Namer, namespace: dict[str, Any]) -> list[str]:
    """Bump the version of every outside array the step wrote in place, as many times as eager did."""
    if not trace.bumps:
        return []
    namespace["_bump"] = inplace.bump
    lines = ["    # version counters: an older graph that saved these arrays must see the writes"]
    for tid, n in trace.bumps.items():
        lines.append(f"    _bump({names[tid]}, {n})" if n != 1 else f"    _bump({names[tid]})")
    return lines


def _tail(trace: Trace, finals: list, outputs: Any, names: codegen.Namer,
          optimizers: list[_OptimizerTrace]) -> list[str]:  # fmt: skip
    """The program's last lines: set optimiser state, the tensors' data and gradients, return the results."""
    tail = ["    # what the caller sees: optimiser state, gradients, tensors, results"]
    for o in optimizers:
        for p, key, value in o.state_finals:
            tail.append(f"    {o.name}.state.by_param[{o.expr(p)}][{key!r}] = {_fresh_expr(trace, value, names)}")
    for expr, data_final, grad_final in finals:
        if data_final is not None:
            tail.append(f"    {expr}._data = {_fresh_expr(trace, data_final, names)}")
        if grad_final[0] == "none":
            tail.append(f"    {expr}._grad = None")
        elif grad_final[0] == "set":
            tail.append(f"    {expr}._grad = _wrap({_fresh_expr(trace, grad_final[1], names)})")
    tail.append(f"    return {_render_output(trace, outputs, names)}")
    return tail


def builtins_compile(source: str, filename: str, mode: str) -> Any:
    import builtins

    return builtins.compile(source, filename, mode)


def _result_name(tid: int, grad_names: dict[int, str], instr: Any) -> str:
    return grad_names.get(tid) or codegen.op_name(instr)


def _fresh_expr(trace: Trace, value: Any, names: codegen.Namer) -> str:
    """The expression for a value handed to the caller: copied if it is a view of persistent memory."""
    if isinstance(value, Const):
        return f"C{value.index}.copy()"
    text = codegen.render(value, names)
    if isinstance(value, Ref) and trace.kinds.get(trace.root[value.tid]) != "value":
        return f"{text}.copy()"
    return text


def _render_output(trace: Trace, out: Any, names: codegen.Namer) -> str:
    kind, value = out
    if kind == "tensor":
        return f"_wrap({_fresh_expr(trace, value, names)})"
    if kind == "array":
        return _fresh_expr(trace, value, names)
    if kind in ("tuple", "list"):
        inner = ", ".join(_render_output(trace, v, names) for v in value)
        if kind == "tuple":
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        return f"[{inner}]"
    if kind == "dict":
        return "{" + ", ".join(f"{k!r}: {_render_output(trace, v, names)}" for k, v in value) + "}"
    return repr(value)


def _check_failed(where: str) -> None:
    raise ValueError(f"autograd.compile: a check made at {where} while tracing (an argument's range, say) fails on "
                     "this call's values; run the step eagerly to see the library's own error")


def _opaque_step(opt: Any, params: list[Tensor]) -> Callable[..., None]:
    """The program's call into a real optimiser: hand it the gradients, run its step."""
    wrap = Tensor._wrap

    def opaque(*grads: Any) -> None:
        for p, g in zip(params, grads):
            p._grad = None if g is None else wrap(g)
        opt.step()

    return opaque


def _refs(value: Any, into: set[int]) -> None:
    into.update(v.tid for v in leaves(value) if isinstance(v, Ref))


def _consts(value: Any, into: set[int]) -> None:
    into.update(v.index for v in leaves(value) if isinstance(v, Const))
