"""Code generation: a trace becomes the Python source of a function of numpy calls, one line per operation.

Before writing, two passes over the straight-line program:
- common values computed once: a pure operation repeating an earlier one on the same values
  (none of them written in place in between) reuses the earlier result;
- dead code removed: an operation whose result nobody reads, and which writes nothing that is
  read later or seen from outside, is left out.
"""

from __future__ import annotations

import keyword
import math
import re
import sys
from typing import Any

import numpy as np

from .trace import Const, Instr, Ref, Trace

# array makers whose result, if the step never writes into it, is the same constant on every call
_CONSTANT_MAKERS = {"np.ones", "np.zeros", "np.full"}
# operations that must run every time they appear (fresh memory, or effects)
_NOT_SHARED = {"copy", "astype", "fill", "flatten", "np.empty", "np.empty_like", "np.zeros_like", "np.ones_like",
               "np.copy", "np.zeros", "np.ones", "np.full", "np.full_like"}  # fmt: skip

_DEFAULTS = {"dtype": None, "keepdims": False, "where": True, "out": None, "casting": "same_kind", "subok": True}
_SYMBOLS = {"np.add": "+", "np.subtract": "-", "np.multiply": "*", "np.true_divide": "/", "np.divide": "/",
            "np.matmul": "@", "np.power": "**"}  # fmt: skip


def identifier(name: str) -> str:
    """A readable Python identifier from a parameter name ('fc1.weight' -> 'fc1_weight')."""
    text = re.sub(r"\W+", "_", name).strip("_") or "v"
    if text[0].isdigit():
        text = "p" + text
    return text + "_" if keyword.iskeyword(text) or text in ("np", "C") else text


def share_common(trace: Trace) -> list[Instr]:
    """Drop pure operations that repeat an earlier one on unchanged values; later reads use the first result."""
    written_roots = {trace.root[w] for instr in trace.instrs for w in instr.writes}
    version: dict[int, int] = {}
    seen: dict[Any, int] = {}
    alias: dict[int, Any] = {}  # value -> the value (or Const) that stands for it
    kept = []
    for instr in trace.instrs:
        if alias:
            instr.args, instr.kwargs = _rename((instr.args, instr.kwargs), alias)
            instr.reads = [t for t in (alias.get(r, r) for r in instr.reads) if not isinstance(t, Const)]
        constant = _constant(trace, instr, written_roots)
        if constant is not None:  # made from constants only and never written: computed once, here
            alias[instr.outs[0]] = constant
            continue
        same = _no_op(trace, instr, written_roots)
        if same is not None:  # `x * 1`, `1 * x`, `x ** 1`: the result is x, bit for bit
            alias[instr.outs[0]] = same
            continue
        shareable = (len(instr.outs) == 1 and not instr.writes and instr.kind not in ("opaque", "check", "rates")
                     and instr.fn not in _NOT_SHARED and trace.root[instr.outs[0]] not in written_roots)  # fmt: skip
        if shareable:
            try:
                key = (instr.kind, instr.fn, _key(instr.args), _key(instr.kwargs),
                       tuple(version.get(trace.root.get(r, r), 0) for r in instr.reads))  # fmt: skip
                hash(key)
            except TypeError:
                key = None
            if key is not None:
                if key in seen:
                    alias[instr.outs[0]] = seen[key]
                    continue
                seen[key] = instr.outs[0]
        for w in instr.writes:
            root = trace.root[w]
            version[root] = version.get(root, 0) + 1
        kept.append(instr)
    trace.alias = alias  # type: ignore[attr-defined]
    return kept


def _constant(trace: Trace, instr: Instr, written_roots: set[int]) -> Const | None:
    """The value of `instr` as a Const, if it reads no traced value and its result is never written: an array
    np.zeros and the like made (kept from the trace), or a ufunc of constants (computed now, by the same call)."""
    if instr.kind != "call" or instr.reads or instr.writes or len(instr.outs) != 1:
        return None
    out = instr.outs[0]
    if trace.root[out] in written_roots:
        return None
    if instr.fn in _CONSTANT_MAKERS and out in trace.made:
        return trace.const(trace.made.pop(out))
    module, _, name = instr.fn.partition(".")
    ufunc = getattr(np, name, None) if module == "np" else None
    if not isinstance(ufunc, np.ufunc) or "out" in instr.kwargs:
        return None
    values = [trace.consts[a.index] if isinstance(a, Const) else a for a in instr.args]
    return trace.const(np.asarray(ufunc(*values, **instr.kwargs)))


def _no_op(trace: Trace, instr: Instr, written_roots: set[int]) -> int | None:
    """The value `instr` returns unchanged, if it is `x * 1`, `1 * x` or `x ** 1` with a scalar one (a number,
    or a 0-d array) that changes neither x's dtype nor its shape, or `x.reshape(...)` to x's own shape, and
    neither x nor the result is written in place (they become one array); else None."""
    if instr.kind == "method" and instr.fn == "reshape" and len(instr.outs) == 1 and isinstance(instr.args[0], Ref):
        x, out = instr.args[0].tid, instr.outs[0]
        if trace.shapes.get(out) == trace.shapes.get(x) and trace.root[x] not in written_roots:
            return x
        return None
    if instr.kind != "call" or instr.fn not in ("np.multiply", "np.power") or instr.kwargs or instr.writes:
        return None
    if len(instr.args) != 2 or len(instr.outs) != 1:
        return None
    a, b = instr.args
    if instr.fn == "np.multiply" and not isinstance(a, Ref):
        a, b = b, a
    if not isinstance(a, Ref) or not _is_one(trace.consts[b.index] if isinstance(b, Const) else b):
        return None
    out = instr.outs[0]
    if trace.root[out] in written_roots or trace.root[a.tid] in written_roots:
        return None
    if trace.dtypes.get(out) != trace.dtypes.get(a.tid) or trace.shapes.get(out) != trace.shapes.get(a.tid):
        return None
    return a.tid


def _is_one(value: Any) -> bool:
    """A scalar exactly 1 (not a bool); a 0-d array counts only if the trace alone holds it (made while tracing,
    like backward's seed): one held from outside may be written between calls."""
    if isinstance(value, np.ndarray):
        if value.ndim != 0 or sys.getrefcount(value) > 3:  # trace.consts, this frame, getrefcount's argument
            return False
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    return bool(value == 1)


def _key(value: Any) -> Any:
    if isinstance(value, Ref):
        return ("ref", value.tid)
    if isinstance(value, Const):
        return ("const", value.index)
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(_key(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((k, _key(v)) for k, v in value.items()))
    if isinstance(value, slice):
        return ("slice", _key(value.start), _key(value.stop), _key(value.step))
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    return (type(value).__name__, value)


def _rename(value: Any, alias: dict[int, Any]) -> Any:
    if isinstance(value, Ref):
        target = alias.get(value.tid, value.tid)
        return target if isinstance(target, Const) else Ref(target)
    if isinstance(value, tuple):
        return tuple(_rename(v, alias) for v in value)
    if isinstance(value, list):
        return [_rename(v, alias) for v in value]
    if isinstance(value, dict):
        return {k: _rename(v, alias) for k, v in value.items()}
    if isinstance(value, slice):
        return slice(_rename(value.start, alias), _rename(value.stop, alias), _rename(value.step, alias))
    return value


def eliminate_dead(trace: Trace, instrs: list[Instr], live: set[int]) -> list[Instr]:
    """Keep the operations whose results are read later, by a kept operation or from outside (`live`)."""
    live_roots = {trace.root[t] for t in live}
    live = set(live)
    kept = []
    for instr in reversed(instrs):
        needed = instr.kind in ("opaque", "check", "rates") or any(o in live for o in instr.outs) or any(
            trace.root[w] in live_roots for w in instr.writes)  # fmt: skip
        if not needed:
            continue
        kept.append(instr)
        for r in instr.reads:
            live.add(r)
            live_roots.add(trace.root[r])
        for o in instr.outs:  # a view read later keeps the writes into its memory
            live_roots.add(trace.root[o])
    kept.reverse()
    return kept


# Results of at least this many elements get a buffer of their own (below it, numpy's allocation is cheaper than
# parsing `out=`; measured on the MNIST step's 100x10 and 100x50 arrays).
MIN_BUFFER = 1024


def plan_buffers(trace: Trace, instrs: list[Instr], escaping: set[int]) -> tuple[dict[int, int], list[np.ndarray]]:
    """Which results live in arrays made once and rewritten through `out=` on every call; returns value ->
    buffer index, and the buffers.

    Candidates are the results of numpy ufuncs (elementwise ops, matmul): fresh arrays (not views) of
    MIN_BUFFER elements or more whose memory is never handed out (`escaping`: returned, set as a grad
    or as data, kept by an optimiser; the next call would overwrite what the caller holds). A buffer
    is shared by values whose lifetimes do not overlap (a value lives, with its views, until its last
    read or write), so the program touches little memory; an elementwise op may write over an input
    that it reads for the last time (numpy handles that exact overlap)."""
    escaping_roots = {trace.root[t] for t in escaping}
    last: dict[int, int] = {}
    for i, instr in enumerate(instrs):
        for t in (*instr.reads, *instr.writes, *instr.outs):
            last[trace.root[t]] = i
    assigned: dict[int, int] = {}
    buffers: list[np.ndarray] = []
    free: dict[tuple, list[int]] = {}
    releases: dict[int, list[int]] = {}  # instruction index -> values whose buffer is free after it
    for i, instr in enumerate(instrs):
        for value in releases.pop(i - 1, ()):
            free.setdefault(_buffer_key(trace, value), []).append(assigned[value])
        out = _candidate(trace, instr, escaping_roots)
        if out is None:
            continue
        key = _buffer_key(trace, out)
        index = None
        if free.get(key):
            index = free[key].pop()
        elif instr.fn != "np.matmul":  # write over an input read here for the last time, if it has a buffer
            for r in instr.reads:
                if r in assigned and last[r] == i and r in releases.get(i, ()) and _buffer_key(trace, r) == key:
                    index = assigned[r]
                    releases[i].remove(r)  # its buffer passes to `out` instead of going back to the pool
                    break
        if index is None:
            index = len(buffers)
            buffers.append(np.empty(trace.shapes[out], trace.dtypes[out]))
        assigned[out] = index
        releases.setdefault(last[out], []).append(out)
    return assigned, buffers


def _buffer_key(trace: Trace, value: int) -> tuple:
    return trace.shapes[value], trace.dtypes[value]


def _candidate(trace: Trace, instr: Instr, escaping_roots: set[int]) -> int | None:
    """The result of `instr` if it may live in a buffer (see plan_buffers), else None."""
    if instr.kind != "call" or len(instr.outs) != 1 or "out" in instr.kwargs or instr.writes:
        return None
    module, _, name = instr.fn.partition(".")
    if module != "np" or not isinstance(getattr(np, name, None), np.ufunc):
        return None
    out = instr.outs[0]
    if trace.root[out] != out or out in escaping_roots or math.prod(trace.shapes[out]) < MIN_BUFFER:
        return None
    return out


# Elementwise ufuncs whose Python-number operand may become a 0-d array of the other operand's dtype: the same
# loop runs on the same values (numpy converts a Python number to that dtype), but numpy dispatches an array
# operand in about half the time of a Python number (measured: 1 + a, 430 ns; one + a, 224 ns, for a tiny a).
# Not np.power, whose Python-number exponents take other paths (x ** 2 is a square).
_NUMBER_OPERAND_UFUNCS = {"np.add", "np.subtract", "np.multiply", "np.divide", "np.true_divide", "np.maximum",
                          "np.minimum", "np.less", "np.less_equal", "np.greater", "np.greater_equal", "np.equal",
                          "np.not_equal"}  # fmt: skip
_NUMBER_WORDS = {0: "ZERO", 1: "ONE", 2: "TWO", 3: "THREE", 4: "FOUR", 5: "FIVE", 10: "TEN"}


class Named:
    """An argument the program reads by name (a number made a 0-d array once, see numbers_as_arrays)."""

    def __init__(self, name: str):
        self.name = name


def numbers_as_arrays(trace: Trace, instrs: list[Instr], namespace: dict[str, Any]) -> list[str]:
    """Make the Python numbers that elementwise float ops take into 0-d arrays of that op's dtype, made once and
    named by value (ONE, TWO, K_0_01); returns the program lines that say so."""
    made: dict[tuple, str] = {}
    comments: list[str] = []
    for instr in instrs:
        if instr.kind != "call" or instr.fn not in _NUMBER_OPERAND_UFUNCS or set(instr.kwargs) - {"out"}:
            continue
        dtypes = {_dtype_of(trace, a) for a in instr.args if not _is_python_number(a)}
        if len(dtypes) != 1 or None in dtypes or next(iter(dtypes)).kind != "f":
            continue
        dtype = next(iter(dtypes))
        args = list(instr.args)
        for i, a in enumerate(args):
            if isinstance(a, np.floating):  # a numpy scalar keeps its own dtype (numpy treats both alike)
                value = np.asarray(a)
            elif _is_python_number(a) and (not isinstance(a, int) or abs(a) < 2**24):
                value = np.asarray(a, dtype)  # as numpy converts a Python number for this op
            else:
                continue
            key = (value.item(), value.dtype.str)
            if key not in made:
                made[key] = _number_name(a, value.dtype, set(made.values()))
                namespace[made[key]] = value
                comments.append(f"    #   {made[key]} = {value.item()!r} ({value.dtype.name})")
            args[i] = Named(made[key])
        instr.args = tuple(args)
    return comments


def _is_python_number(a: Any) -> bool:
    return isinstance(a, (int, float)) and not isinstance(a, bool)


def _dtype_of(trace: Trace, a: Any) -> np.dtype | None:
    if isinstance(a, np.generic):
        return a.dtype
    if isinstance(a, Ref):
        return None if trace.kinds.get(a.tid) == "scalar" else trace.dtypes.get(a.tid)
    if isinstance(a, Const):
        value = trace.consts[a.index]
        return value.dtype if isinstance(value, np.ndarray) else None
    return None


def _number_name(number: Any, dtype: np.dtype, taken: set[str]) -> str:
    """ONE, TWO... for small whole numbers, else K_ and the number ('K_0_01'); a dtype other than float64 added."""
    number = number.item() if isinstance(number, np.generic) else number
    name = _NUMBER_WORDS.get(int(number)) if float(number).is_integer() else None
    if name is None:
        name = "K_" + re.sub(r"\W", "_", repr(number).replace("-", "minus_").replace(".", "_"))
    if dtype != np.float64:
        name += "_" + dtype.name.upper()
    while name in taken:
        name += "_"
    return name


class Namer:
    """Readable, unique variable names: inputs by their parameter names, results by their op."""

    def __init__(self, trace: Trace):
        self.trace = trace
        self.names: dict[int, str] = {}
        self.taken: set[str] = {"np", "C"}
        self.counts: dict[str, int] = {}

    def assign(self, tid: int, base: str) -> str:
        base = identifier(base)
        name = base
        while name in self.taken:
            self.counts[base] = self.counts.get(base, 0) + 1
            name = f"{base}_{self.counts[base]}"
        self.taken.add(name)
        self.names[tid] = name
        return name

    def __getitem__(self, tid: int) -> str:
        return self.names[tid]


class Buffer:
    """The buffer `B<index>` a result is written into (see plan_buffers)."""

    def __init__(self, index: int):
        self.index = index


def render(value: Any, names: Namer) -> str:
    """A Python expression for an instruction's argument."""
    if isinstance(value, Ref):
        return names[value.tid]
    if isinstance(value, Buffer):
        return f"B{value.index}"
    if isinstance(value, Named):
        return value.name
    if isinstance(value, Const):
        return f"C{value.index}"
    if isinstance(value, tuple):
        inner = ", ".join(render(v, names) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(render(v, names) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {render(v, names)}" for k, v in value.items()) + "}"
    if isinstance(value, slice):
        return f"slice({render(value.start, names)}, {render(value.stop, names)}, {render(value.step, names)})"
    if value is Ellipsis:
        return "..."
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, np.generic):
        return f"np.{type(value).__name__}({render(value.item(), names)})"
    if isinstance(value, np.dtype):
        return f"np.dtype({value.str!r})"
    if isinstance(value, type) and getattr(np, value.__name__, None) is value:
        return f"np.{value.__name__}"
    if value in (float, int, bool):
        return value.__name__
    raise TypeError(f"cannot write {value!r} into the program")


def render_index(index: Any, names: Namer) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    for p in parts:
        if isinstance(p, slice) and not any(isinstance(v, (Ref, Const)) for v in (p.start, p.stop, p.step)):
            text = ("" if p.start is None else repr(p.start)) + ":" + ("" if p.stop is None else repr(p.stop))
            out.append(text + ("" if p.step is None else f":{p.step!r}"))
        else:
            out.append(render(p, names))
    return ", ".join(out) if out else "()"


def line(instr: Instr, names: Namer, opaque_names: dict[int, str], buffered: Any = ()) -> str:
    """One line of source for one instruction (its result names must already be assigned; a result in
    `buffered` is written into the array its name is bound to)."""
    outs = ", ".join(names[o] for o in instr.outs)
    target = f"{outs} = " if instr.outs else ""
    if instr.outs and instr.outs[0] in buffered:  # written into its buffer, B<n>
        kwargs = {**_non_default(instr.kwargs), "out": Buffer(buffered[instr.outs[0]])}
        return f"{target}{instr.fn}({_call_args(instr.args, kwargs, names)})"
    if instr.kind == "getitem":
        array, index = instr.args
        return f"{target}{render(array, names)}[{render_index(index, names)}]"
    if instr.kind == "setitem":
        array, index, value = instr.args
        return f"{render(array, names)}[{render_index(index, names)}] = {render(value, names)}"
    if instr.kind == "method":
        self, *args = instr.args
        if instr.fn == "transpose" and not args and not instr.kwargs:
            return f"{target}{render(self, names)}.T"
        if instr.fn == "swapaxes" and not instr.kwargs and isinstance(self, Ref) \
                and len(names.trace.shapes[self.tid]) == 2 and sorted(args) in ([-2, -1], [0, 1], [-1, 0], [-2, 1]):
            return f"{target}{render(self, names)}.T"  # the two axes of a matrix  # fmt: skip
        return f"{target}{render(self, names)}.{instr.fn}({_call_args(args, instr.kwargs, names)})"
    if instr.kind == "check":
        where = instr.fn.rsplit("/", 1)[-1]
        return (f"if bool({render(instr.args[0], names)}) is not {instr.opaque}: "
                f"_check_failed({where!r})  # a check the library made while tracing")
    if instr.kind == "opaque":
        return f"{opaque_names[id(instr)]}({_call_args(instr.args, {}, names)})  # {instr.fn}"
    if instr.kind == "rates":
        return f"{outs}{',' if len(instr.outs) == 1 else ''} = {opaque_names[id(instr)]}  # {instr.fn}"
    kwargs = _non_default(instr.kwargs)
    out = kwargs.get("out")
    args = instr.args
    symbol = _SYMBOLS.get(instr.fn)
    if symbol and len(args) == 2 and not (set(kwargs) - {"out"}):
        a, b = (render(x, names) for x in args)
        if out is None:
            return f"{target}{a} {symbol} {b}"
        out_ref = out[0] if isinstance(out, tuple) else out
        if len(out if isinstance(out, tuple) else (out,)) == 1 and isinstance(out_ref, Ref) and isinstance(
                args[0], Ref) and out_ref.tid == args[0].tid and symbol != "@":  # fmt: skip
            return f"{a} {symbol}= {b}"
    if isinstance(out, tuple) and len(out) == 1:
        kwargs["out"] = out[0]
    return f"{target}{instr.fn}({_call_args(args, kwargs, names)})"


def _non_default(kwargs: dict) -> dict:
    return {k: v for k, v in kwargs.items() if not (k in _DEFAULTS and _DEFAULTS[k] == v
            and type(_DEFAULTS[k]) is type(v))}  # fmt: skip


def _call_args(args: Any, kwargs: dict, names: Namer) -> str:
    parts = [render(a, names) for a in args]
    parts += [f"{k}={render(v, names)}" for k, v in kwargs.items()]
    return ", ".join(parts)


def op_name(instr: Instr) -> str:
    """The base of a result's variable name: the op ('matmul', 'exp', 'sum', 'getitem')."""
    if instr.kind in ("getitem", "method"):
        return {"getitem": "item", "transpose": "T"}.get(instr.kind if instr.kind == "getitem" else instr.fn,
                                                          instr.fn)  # fmt: skip
    name = instr.fn.split(".")[-1] if not instr.fn.endswith(".reduce") else instr.fn.split(".")[-2] + "_r"
    return {"true_divide": "div", "subtract": "sub", "multiply": "mul", "add_r": "sum", "maximum_r": "max",
            "negative": "neg", "_fn_": "f"}.get(name, name).lstrip("_")  # fmt: skip
