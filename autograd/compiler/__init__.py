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
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import inplace
from ..function import Op, _node_counter
from ..grad_mode import _state
from ..tensor import Tensor
from . import codegen, randomness
from .discover import discover
from .guard import Guard
from .optimizers import OptimizerTrace, opaque_step, record_opaque
from .rollback import Snapshot
from .trace import (
    _READ_ADVICE,
    Const,
    Ref,
    Trace,
    TraceError,
    TracerArray,
    is_compiling,
    leaves,
    one_at_a_time,
    refuse,
    strided,
    tracing,
    untrace,
)

__all__ = ["CompiledStep", "TraceError", "compile", "is_compiling"]

_MISS = object()  # what a program's guarded call returns when its guard does not hold
CACHE_LIMIT = 8  # programs per step (one per signature); past it, warn once and run eagerly


def compile(fn: Callable | None = None, *, cache_limit: int = CACHE_LIMIT) -> Any:
    """Compile a training step; usable as `compile(fn)`, `@compile` or `@compile(cache_limit=4)`.

    >>> step = compile(lambda x: (w * x).sum())
    """
    if fn is None:
        return lambda f: CompiledStep(f, cache_limit)
    return CompiledStep(fn, cache_limit)


class Program:
    """One traced signature: the generated function, its source, its guard, and what it reads and sets.

    `holds()` checks what the trace assumed about the outside, as it was when the trace began: the
    shapes, dtypes, requires_grad and grad-or-None of the tensors it reads, the `training` flag of
    every module it reached (BatchNorm, Dropout... behave differently in eval mode), and the
    optimisers' param groups, fixed hyperparameters and state sizes. `accepts(*args)` checks the
    call's tensor arguments as well (None when the step takes other arguments: the cache key
    decides those). Both are generated straight-line Python, like the program: see `guard_source`.
    Where `accepts` exists, `run` is the program behind it, in one function (`call`): it returns
    `_MISS` rather than run where the guard does not hold; else `run` is the program (`step`).
    """

    def __init__(self, run: Callable, source: str, guard_source: str, namespace: dict[str, Any], n_args: int,
                 trace: Trace, instrs: list[Any], names: codegen.Namer,
                 described: list[tuple[str, str]]) -> None:  # fmt: skip
        self.run, self.source, self.guard_source = run, source, guard_source
        self.holds: Callable[[], bool] = namespace["holds"]
        self.accepts: Callable[..., bool] | None = namespace.get("accepts")
        self.call: Callable[..., Any] | None = namespace.get("call")  # the program if accepts(), else _MISS
        self.n_args = n_args
        self.thread = threading.get_ident()  # the thread it was traced in, the only one that runs it
        self.trace, self.instrs, self.names = trace, instrs, names
        self._namespace, self._described = namespace, described

    def why_not(self) -> str | None:
        """In words, the first of the guard's checks that fails now (None if it holds)."""
        for check, said in self._described:
            try:
                ok = eval(check, self._namespace)  # the guard's own generated expressions
            except (KeyError, IndexError, AttributeError):
                ok = False
            if not ok:
                return said
        return None


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
    def graph(self) -> Any:
        """The latest program as a picture (the graphviz graph `autograd.render(step)` draws; Jupyter shows it)."""
        return self.to_dot()

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
        last = self._last
        if last is not None and last.call is not None and len(args) == last.n_args and not kwargs \
                and last.thread == threading.get_ident():  # fmt: skip
            result = last.call(*args)  # the common case: what the last call ran, if its guard holds
            if result is not _MISS:
                return result
        key = _signature(args, kwargs)
        programs = self._programs.get(key, [])
        for program in programs:
            try:
                holds = program.holds()
            except (KeyError, IndexError):
                holds = False
            if holds:
                result = program.run(*args, **kwargs)
                if result is not _MISS:  # (a program behind its guard checks the arguments again)
                    self._last = program
                    return result
        if sum(len(p) for p in self._programs.values()) >= self.cache_limit:
            if not self._warned:
                why = programs[-1].why_not() if programs else None
                why = (f"the last program traced for these arguments assumed {why}, which no longer holds" if why
                       else "these arguments (shapes, dtypes, values) are new")  # fmt: skip
                warnings.warn(f"autograd.compile: {getattr(self.fn, '__name__', 'step')} was traced for "
                              f"{self.cache_limit} signatures already; running the others eagerly. Here, {why}. "
                              "A step that changes a number it reads on every call (a counter, an attribute) "
                              "traces every time: pass the number as an argument, or run the step eagerly.",
                              stacklevel=2)  # fmt: skip
                self._warned = True
            return self.fn(*args, **kwargs)
        result, program = _trace(self.fn, args, kwargs)
        self._programs.setdefault(key, []).append(program)
        self._last = program
        return result


def _signature(args: tuple, kwargs: dict) -> tuple:
    """The cache key of a call: the thread (a program's buffers are its own), grad mode, the tensor arguments'
    shapes and dtypes, the other arguments' values."""
    parts: list[Any] = [threading.get_ident(), _state.enabled]
    parts += [_argument_key(a, i) for i, a in enumerate(args)]
    for k, a in kwargs.items():
        parts += [k, _argument_key(a, k)]
    return tuple(parts)


def _argument_key(a: Any, where: int | str) -> Any:
    """One argument's part of the key: a tensor's or array's shape and dtype (and requires_grad, grad or not),
    any other value itself."""
    if isinstance(a, Tensor):
        d = a._data
        return (d.shape, d.dtype, a._requires_grad, a._grad is None)
    if isinstance(a, np.ndarray):
        return (a.shape, a.dtype)
    return _value_key(a, where)


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


class CompiledOutput(Op):
    """The grad_fn of a tensor a compiled step returns where eager's would require grad: the program keeps no
    graph, so a backward that reaches it raises, saying what to do, rather than give no gradient."""

    rule = "grad: none -- a compiled step returns values, not a graph to differentiate"

    @staticmethod
    def forward(ctx: Any, anchor: np.ndarray, x: np.ndarray) -> np.ndarray:
        return x

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> Any:
        raise RuntimeError("backward reached a tensor returned by a compiled step (autograd.compile), which runs "
                           "its recorded numpy without building a graph; call backward() inside the step, or "
                           "run the step eagerly")  # fmt: skip


_GRAPH_ANCHOR = Tensor._wrap(np.zeros(()))  # a leaf that "requires grad", so outputs get a CompiledOutput node
_GRAPH_ANCHOR._requires_grad = True


def _graphless(data: np.ndarray) -> Tensor:
    """A returned tensor that requires grad, as eager's did, with a CompiledOutput grad_fn: the node
    `CompiledOutput.apply(_GRAPH_ANCHOR, data)` makes, made directly (a fifth of the time, on every call)."""
    if not _state.enabled:
        return Tensor._wrap(data)
    node = object.__new__(CompiledOutput)
    node.needs_input_grad, node._inputs, node._seq = (True, False), (_GRAPH_ANCHOR, None), next(_node_counter)
    return Tensor._wrap(data, node)


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
    """Run the step once on recording arrays; returns its result (plain again) and the program it recorded."""
    if _state.anomaly:
        raise refuse("a step under detect_anomaly()", "Anomaly checks read every value; run the step eagerly.")
    with one_at_a_time:  # another thread's trace must not be swapping these tensors' arrays meanwhile
        return _trace_alone(fn, args, kwargs)


def _trace_alone(fn: Callable, args: tuple, kwargs: dict) -> tuple[Any, Program]:
    trace = Trace()
    holders, found = _holders(fn, args, kwargs)
    guard = Guard(args, kwargs, holders, _all_modules(found.modules), found.numbers, found.sizes)
    snapshot = Snapshot([h.tensor for h in holders], found.optimizers)
    try:
        result, outputs, finals, optimizers, call_args = _record(trace, fn, args, kwargs, holders, found, guard)
    except TraceError as error:  # a refused call changes nothing: running the step eagerly next is safe
        snapshot.restore()
        error.args = (f"{error} (This call was undone: the parameters, gradients and optimiser state are as "
                      "they were before it.)",)  # fmt: skip
        raise
    for tid, n in trace.bumps.items():  # the outside arrays' versions, as eager's writes left them
        inplace.bump(trace.inputs[tid], n)
    program = _generate(trace, holders, outputs, call_args, args, finals, guard, optimizers)
    return _plain_result(result), program


def _record(trace: Trace, fn: Callable, args: tuple, kwargs: dict, holders: list[_Holder], found: Any,
            guard: Guard) -> tuple[Any, Any, list, list[OptimizerTrace], list]:  # fmt: skip
    """Run the step on recording arrays, with the engine and the optimisers set up to record it; returns its
    result, the encoded outputs, what each tensor's data and grad became, the traced optimisers and the
    arguments as the step got them (array arguments as their recording stand-ins, which the program names)."""
    call_args, call_kwargs = list(args), dict(kwargs)
    with tracing(trace):
        _swap_in(trace, holders, call_args)
        engine_patch = _refuse_hooks()
        by_tensor = {id(h.tensor): h for h in holders}
        optimizers: list[OptimizerTrace] = []
        opaque = []
        for opt in found.optimizers:
            if getattr(type(opt), "rate_names", ()):
                optimizers.append(OptimizerTrace(trace, opt, len(optimizers), by_tensor))
                guard.optimizer(optimizers[-1])
            else:
                opaque.append(record_opaque(trace, opt))
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
    return result, outputs, finals, optimizers, call_args


def _holders(fn: Callable, args: tuple, kwargs: dict) -> tuple[list[_Holder], Any]:
    """The tensors the step reads: its tensor arguments, then every tensor `discover` finds it can reach."""
    holders: list[_Holder] = []
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            holders.append(_Holder(a, f"a{i}", f"arg{i}"))
    for k, a in kwargs.items():
        if isinstance(a, Tensor):
            holders.append(_Holder(a, f"kw_{k}", k))
    found = discover(fn, [(f"arg{i}", a) for i, a in enumerate(args)] + list(kwargs.items()))
    in_args = {id(h.tensor) for h in holders}
    for i, (t, name) in enumerate(zip(found.tensors, found.names)):
        if id(t) not in in_args:
            holders.append(_Holder(t, f"T{i}", name))
    return holders, found


def _swap_in(trace: Trace, holders: list[_Holder], call_args: list) -> None:
    """Give the tensors (and their grads, and array arguments) recording views of the same memory."""
    for h in holders:
        h.data_tracer = trace.new_value(h.data, kind="input")
        trace.names[h.data_tracer._tid] = h.name
        h.tensor._data = h.data_tracer
        if h.grad_in is not None:
            h.grad_tracer = trace.new_value(h.grad_in._data, kind="input")
            trace.names[h.grad_tracer._tid] = f"grad_{h.name}"
            h.grad_in._data = h.grad_tracer
    for i, a in enumerate(call_args):
        if isinstance(a, np.ndarray) and not isinstance(a, TracerArray):
            call_args[i] = trace.new_value(a, kind="input")
            trace.names[call_args[i]._tid] = f"arg{i}"


def _refuse_hooks() -> Callable[[], None]:
    """Make the engine refuse hooks, and tensors refuse .numpy(), while tracing, and note which tensors' `.grad`
    the step reads or resets first; returns the undo."""
    from .. import engine

    original, run = engine._call_hooks, engine._run
    numpy = Tensor.numpy

    trace = _active_trace()  # each patch acts only for the code it records (trace.mine()): not other threads

    def refused_numpy(self: Tensor) -> np.ndarray:
        if isinstance(self._data, TracerArray) and trace.mine():
            raise refuse(".numpy() of a traced tensor", _READ_ADVICE)
        return numpy(self)

    def traced_run(*args: Any, **kwargs: Any) -> Any:
        if not trace.mine():
            return run(*args, **kwargs)
        trace.phase = "backward"
        try:
            return run(*args, **kwargs)
        finally:
            trace.phase = "update"

    def refused(*args: Any, **kwargs: Any) -> Any:
        if not trace.mine():
            return original(*args, **kwargs)
        raise refuse("a tensor hook (register_hook / retain_grad)",
                     "Hooks run Python on gradient values; remove them from the compiled step or run it eagerly.")

    grad = Tensor.grad

    def read_grad(self: Tensor) -> Any:
        if trace.mine():
            trace.grad_read.add(id(self))
        return self._grad

    def set_grad(self: Tensor, value: Any) -> None:  # `p.grad = None` before backward: the old grad is not read
        if trace.mine() and trace.phase == "forward" and id(self) not in trace.grad_read:
            trace.grad_reset.add(id(self))
        grad.fset(self, value)

    engine._call_hooks, engine._run = refused, traced_run
    Tensor.numpy = refused_numpy  # type: ignore[method-assign]
    Tensor.grad = property(read_grad, set_grad, doc=grad.__doc__)  # type: ignore[method-assign, assignment]

    def undo() -> None:
        engine._call_hooks, engine._run = original, run
        Tensor.numpy = numpy  # type: ignore[method-assign]
        Tensor.grad = grad  # type: ignore[method-assign]

    return undo


def _active_trace() -> Trace:
    from .trace import _active

    trace = _active[0]
    assert trace is not None
    return trace


def _encode_result(trace: Trace, value: Any) -> Any:
    if isinstance(value, Tensor):
        return ("tensor" if not value._requires_grad else "tensor with grad", trace.encode(value._data))
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
    if isinstance(value, Tensor):  # an op's result: its values, without the trace's graph, as later calls give
        data = untrace(value._data)
        if value.grad_fn is None:  # a leaf the step returned as it is
            value._data = data
            return value
        return _graphless(data)
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
        if g is None:  # (a step that resets the grad first may find one there on a later call)
            grad_final: Any = ("none",) if h.grad_in is not None or id(t) in trace.grad_reset else ("keep",)
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
              optimizers: list[OptimizerTrace]) -> tuple[list, Any, list]:  # fmt: skip
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
    live = {a for a in (alias.get(t, t) for t in live) if not isinstance(a, Const)}
    for h in holders:
        live.add(h.data_tracer._tid)
        if h.grad_tracer is not None and id(h.tensor) not in trace.grad_reset:
            live.add(h.grad_tracer._tid)
    live.update(trace.adopted)  # outside arrays the step writes: the writes are seen from outside
    instrs = codegen.eliminate_dead(trace, instrs, live)

    return instrs, outputs, finals


def _generate(trace: Trace, holders: list[_Holder], outputs: Any, call_args: list, args: tuple,
              finals: list[tuple[str, Any, Any]], guard: Guard, optimizers: list[OptimizerTrace]
              ) -> Program:  # fmt: skip
    """Write the program's source (inputs, one line per operation, what the caller sees) and compile it, with its
    guard (guard.py) and, where the call takes only tensors and arrays, the two in one function `call`."""
    instrs, outputs, finals = _optimise(trace, holders, outputs, finals, optimizers)
    names = codegen.Namer(trace)
    names.taken.update(("_wrap", "_bump", "_check_failed", "_MISS", "_graphless", "_strided"))
    names.taken.update(f"B{i}" for i in range(len(instrs)))  # buffers' names
    names.taken.update(o.name for o in optimizers)
    namespace: dict[str, Any] = {"np": np, "_wrap": Tensor._wrap, "_check_failed": _check_failed, "_MISS": _MISS,
                                 "_graphless": _graphless, "_strided": strided}  # fmt: skip
    numbers = codegen.numbers_as_arrays(trace, instrs, namespace)
    names.taken.update(k for k in namespace if k.isupper())
    head = _head(trace, holders, call_args, optimizers, names, namespace)
    if numbers:
        head += ["    # numbers as 0-d arrays made once (numpy takes an array operand faster than a Python number):",
                 *numbers]  # fmt: skip
    const_refs: set[int] = set()
    for instr in instrs:
        _consts((instr.args, instr.kwargs), const_refs)
    _consts((outputs, finals), const_refs)
    for index in sorted(const_refs):
        namespace[f"C{index}"] = trace.consts[index]
    head += _buffer_lines(trace, names, namespace)
    buffered, buffers = codegen.plan_buffers(trace, instrs, _escaping(instrs, outputs, finals, optimizers))
    if buffers:
        head.append("    # arrays made once, which the lines below rewrite through out=, each for values that do not "
                    "overlap in time")  # fmt: skip
    for index, array in enumerate(buffers):
        namespace[f"B{index}"] = array
        head.append(f"    #   B{index}: {array.shape} {array.dtype}")
    lines = _body(trace, instrs, holders, finals, buffered, names, namespace)
    lines += _bump_lines(trace, names, namespace)
    tail = _tail(trace, finals, outputs, names, optimizers)
    def_line = f"def step({', '.join([f'a{i}' for i in range(len(args))] + ['**kw'])}):"
    body = "\n".join([*head, *lines, *tail]) + "\n"
    source = def_line + "\n" + body
    guard_source = guard.source(len(args), trace.grad_reset)
    namespace.update(guard.values, _Tensor=Tensor, _ndarray=np.ndarray, _grad_mode=_state, _ABSENT=_MISS)
    exec(builtins_compile(guard_source, "<compiled step's guard>", "exec"), namespace)
    if guard.condition is not None:  # the program behind its guard: one call for the common case
        source_run = def_line.replace("def step(", "def call(") + f"\n    if not ({guard.condition}):\n" \
            "        return _MISS\n" + body  # fmt: skip
    else:
        source_run = source
    exec(builtins_compile(source_run, f"<compiled step {getattr(trace, 'name', '')}>", "exec"), namespace)
    run = namespace["call" if guard.condition is not None else "step"]
    return Program(run, source, guard_source, namespace, len(args), trace, instrs, names, guard.described)


def _body(trace: Trace, instrs: list[Any], holders: list[_Holder], finals: list, buffered: dict[int, int],
          names: codegen.Namer, namespace: dict[str, Any]) -> list[str]:  # fmt: skip
    """One line per instruction, under a comment naming each phase (forward, backward, update)."""
    grad_names = {g[1].tid: "grad_" + h.name for h, (_, _, g) in zip(holders, finals)
                  if g[0] == "set" and isinstance(g[1], Ref)}  # fmt: skip
    lines: list[str] = []
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
            namespace[name] = opaque_step(opt, opt_params)
        lines.append("    " + codegen.line(instr, names, opaque_names, buffered))
    return lines


def _escaping(instrs: list[Any], outputs: Any, finals: list, optimizers: list[OptimizerTrace]) -> set[int]:
    """The values whose memory the caller (or an opaque optimiser) gets to keep."""
    escaping: set[int] = set()
    _refs((outputs, finals), escaping)
    for o in optimizers:
        _refs([value for _, _, value in o.state_finals], escaping)
    for instr in instrs:
        if instr.kind == "opaque":
            escaping.update(instr.reads)
    return escaping


def _head(trace: Trace, holders: list[_Holder], call_args: list, optimizers: list[OptimizerTrace],
          names: codegen.Namer, namespace: dict[str, Any]) -> list[str]:  # fmt: skip
    """The program's first lines: bind the arrays it reads (tensors', grads', arguments', optimiser state)."""
    head = ["    # the arrays of the tensors it reads"]
    head += [f"    {h.expr} = kw[{h.expr[3:]!r}]" for h in holders if h.expr.startswith("kw_")]
    for h in holders:
        expr = h.expr
        if expr.startswith("T"):
            namespace[expr] = h.tensor
        head.append(f"    {names.assign(h.data_tracer._tid, h.name)} = {expr}._data")
        if h.grad_tracer is not None and id(h.tensor) not in trace.grad_reset:
            head.append(f"    {names.assign(h.grad_tracer._tid, 'grad_' + h.name)} = {expr}._grad._data")
    for i, a in enumerate(call_args):
        if isinstance(a, TracerArray):
            head.append(f"    {names.assign(a._tid, f'arg{i}')} = a{i}")
    for o in optimizers:
        namespace[o.name] = o.opt
        for gi, group in enumerate(o.guard[0]):
            namespace[f"{o.name}_group{gi}"] = group  # the guard checks it is still the optimiser's
        for p, key, tracer in o.state_reads:
            head.append(f"    {names.assign(tracer._tid, trace.names[tracer._tid])} = "
                        f"{o.name}.state.by_param[{o.expr(p)}][{key!r}]")  # fmt: skip
    return head


def _buffer_lines(trace: Trace, names: codegen.Namer, namespace: dict[str, Any]) -> list[str]:
    """Bind the outside arrays the step writes into (scratch arrays): the same ones on every call, or, for one
    made while tracing, a fresh copy of its first values."""
    lines = []
    for tid, (array, initial) in trace.adopted.items():
        index = len(trace.consts)
        if initial is not None and sys.getrefcount(array) <= 4:  # made during the trace: start from its values
            trace.consts.append(initial)
            lines.append(f"    {names.assign(tid, 'buffer')} = C{index}.copy()")
        else:  # held from outside (an optimiser's scratch): the program writes it, as eager does
            trace.consts.append(array)
            lines.append(f"    {names.assign(tid, trace.names.get(tid, 'buffer'))} = C{index}")
        namespace[f"C{index}"] = trace.consts[index]
    return lines


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
          optimizers: list[OptimizerTrace]) -> list[str]:  # fmt: skip
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
    if kind == "tensor with grad":  # requires grad, as eager's did; backward through it says it cannot
        return f"_graphless({_fresh_expr(trace, value, names)})"
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


def _refs(value: Any, into: set[int]) -> None:
    into.update(v.tid for v in leaves(value) if isinstance(v, Ref))


def _consts(value: Any, into: set[int]) -> None:
    into.update(v.index for v in leaves(value) if isinstance(v, Const))
