"""Tracing: run a step once on recording arrays and write down every numpy operation it causes.

Every array the step touches from outside (the arguments, the parameters, the gradients
already set) is swapped for a `TracerArray`: an ndarray subclass sharing the same memory.
Its `__array_ufunc__` and `__array_function__` and the array methods that do not go through
them (`reshape`, `T`, `t[i]`, `t[i] = v`, `astype`, `copy`...) compute the real value on plain
arrays and append one `Instr` to the trace, so the step runs exactly as eager while it is
recorded. Reading a value into Python (`float`, `bool`, `.item()`, printing) raises
`TraceError`, naming the user's line: the recorded program could not replay that decision.
"""

from __future__ import annotations

import itertools
import math
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..grad_mode import _state

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # autograd/
_SKIPPED = (_PACKAGE, os.path.join(os.path.dirname(_PACKAGE), "nn"), os.path.dirname(np.__file__))


class TraceError(RuntimeError):
    """What a compiled step cannot capture (a value read into Python, a hook, anomaly checks)."""


def user_line() -> str:
    """'file:line: code' of the innermost frame outside autograd, nn and numpy (the user's code)."""
    frame = sys._getframe(1)
    while frame is not None:
        name = os.path.abspath(frame.f_code.co_filename)
        if not name.startswith(_SKIPPED) and "<compiled step" not in name:
            import linecache

            code = linecache.getline(name, frame.f_lineno).strip()
            return f"{name}:{frame.f_lineno}: {code}"
        frame = frame.f_back
    return "<unknown line>"


def refuse(what: str, advice: str) -> TraceError:
    return TraceError(f"autograd.compile cannot trace {what} at {user_line()}. {advice}")


_READ_ADVICE = (
    "A compiled step is recorded once and replayed without Python deciding anything, so it cannot read tensor "
    "values (.item(), float(t), bool(t), print). Return the tensor from the step and read it after the call, or "
    "run this step eagerly (without autograd.compile)."
)


class Ref:
    """A traced value inside an instruction's arguments."""

    __slots__ = ("tid",)

    def __init__(self, tid: int):
        self.tid = tid


class Const:
    """An array (or other object) the program reads by reference: the same object on every call."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index


class Scalar:
    """A number the program reads afresh on each call (an optimiser's learning rate, Adam's bias corrections).

    While tracing it stands for its value in numpy calls; Python arithmetic on it is refused, because the
    program would replay the result as a constant."""

    __slots__ = ("_tid", "value")

    def __init__(self, tid: int, value: float):
        self._tid, self.value = tid, value

    def __repr__(self) -> str:
        return f"Scalar({self.value!r})"

    def _refused(self, *args: Any) -> Any:
        raise refuse("Python arithmetic on a number an optimiser reads afresh on each step",
                     "Compute it in the optimiser's _rates() and use it only as a numpy operand.")  # fmt: skip

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _refused
    __pow__ = __rpow__ = __neg__ = __float__ = __bool__ = __index__ = __lt__ = __gt__ = __le__ = __ge__ = _refused


class Instr:
    """One array operation: `outs = fn(*args, **kwargs)`; `writes` are the values it changes in place."""

    __slots__ = ("kind", "fn", "args", "kwargs", "outs", "writes", "reads", "phase", "opaque")

    def __init__(self, kind: str, fn: str, args: tuple, kwargs: dict, outs: list[int], writes: list[int],
                 phase: str, opaque: Any = None):  # fmt: skip
        self.kind, self.fn, self.args, self.kwargs = kind, fn, args, kwargs
        self.outs, self.writes, self.phase, self.opaque = outs, writes, phase, opaque
        reads: list[int] = []
        _collect_refs((args, kwargs), reads)
        self.reads = reads


def leaves(value: Any) -> Iterator[Any]:
    """Every value nested in `value`'s tuples, lists, dicts and slices (where recorded arguments hide Refs and
    Consts)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, (tuple, list)):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, slice):
            stack.extend((v.start, v.stop, v.step))
        else:
            yield v


def _collect_refs(value: Any, into: list[int]) -> None:
    into.extend(v.tid for v in leaves(value) if isinstance(v, Ref))


class Trace:
    """The recording: instructions in execution order, the values' roots (for views) and the constants."""

    def __init__(self) -> None:
        self.instrs: list[Instr] = []
        self.root: dict[int, int] = {}  # value -> the value whose memory it views (itself if fresh)
        self.names: dict[int, str] = {}  # readable names for inputs
        self.kinds: dict[int, str] = {}  # "input" for values read from outside, "value" for computed ones
        self.consts: list[Any] = []
        self._const_ids: dict[int, int] = {}
        self.shapes: dict[int, tuple[int, ...]] = {}
        self.dtypes: dict[int, np.dtype] = {}
        self.adopted: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # value -> (outside array, its first values)
        self._adopted_ids: dict[int, TracerArray] = {}
        self.inputs: dict[int, np.ndarray] = {}  # input value -> the outside array it records
        self.bumps: dict[int, int] = {}  # input value -> how many times the step bumped its version
        self.made: dict[int, np.ndarray] = {}  # arrays np.zeros and the like made while tracing, by value
        self.grad_read: set[int] = set()  # id(tensor) of tensors whose .grad the step read
        self.grad_reset: set[int] = set()  # ... whose .grad it set before reading it or running backward
        self.phase = "forward"
        self.suspended = 0
        self.thread = threading.get_ident()  # the thread it records; others see plain numpy and the plain engine
        self._ids = itertools.count()

    def new_value(self, array: np.ndarray, root: int | None = None, kind: str = "value") -> TracerArray:
        t = array.view(TracerArray)
        tid = next(self._ids)
        t._tid, t._plain, t._owner = tid, array, self
        self.root[tid] = tid if root is None else self.root[root]
        self.kinds[tid] = kind
        self.shapes[tid] = array.shape
        self.dtypes[tid] = array.dtype
        if kind == "input":
            self.inputs[tid] = array
        return t

    def bumped(self, array: np.ndarray) -> None:
        """`autograd.inplace.bump` was called on `array`: count it if it is (a view of) an outside array."""
        if isinstance(array, TracerArray) and array._tid is not None and self.mine():
            root = self.root[array._tid]
            if root in self.inputs:
                self.bumps[root] = self.bumps.get(root, 0) + 1

    def scalar(self, value: float) -> Scalar:
        """A number the program computes afresh on each call (see Scalar)."""
        tid = next(self._ids)
        self.root[tid], self.kinds[tid], self.shapes[tid], self.dtypes[tid] = tid, "scalar", (), np.dtype(float)
        return Scalar(tid, value)

    def scratch(self, array: np.ndarray) -> TracerArray:
        """An outside array the step uses only as scratch (an optimiser's): the program writes it on every call
        without caring what it held before."""
        t = self._adopted_ids.get(id(array))
        if t is None:
            t = self._adopted_ids[id(array)] = self.new_value(array, kind="adopted")
            self.adopted[t._tid] = (array, None)
        return t

    def mine(self) -> bool:
        """Whether the code running now is the step being recorded (its thread, not inside an opaque call)."""
        return not self.suspended and threading.get_ident() == self.thread

    def adopt(self, array: np.ndarray) -> TracerArray:
        """A plain array from outside that the step writes into (a scratch buffer): a value of the program."""
        t = self._adopted_ids.get(id(array))
        if t is None:
            t = self._adopted_ids[id(array)] = self.new_value(array, kind="adopted")
            self.adopted[t._tid] = (array, array.copy())
        return t

    def const(self, obj: Any) -> Const:
        index = self._const_ids.get(id(obj))
        if index is None:
            index = self._const_ids[id(obj)] = len(self.consts)
            self.consts.append(obj)
        return Const(index)

    def encode(self, value: Any) -> Any:
        """Arguments as the program will name them: traced arrays become Refs, other arrays Consts."""
        if isinstance(value, TracerArray) and value._owner is not self and value._plain is not None:
            value = value._plain  # kept from an earlier trace (a cache made while tracing): an outside array
        if isinstance(value, TracerArray):
            if value._tid is None:
                raise refuse("an array made by a numpy call the tracer does not know",
                             "Please report which call it was; until then, run this step eagerly.")
            return Ref(value._tid)
        if isinstance(value, Scalar):
            return Ref(value._tid)
        if isinstance(value, np.ndarray):
            adopted = self._adopted_ids.get(id(value))
            if adopted is not None:
                return Ref(adopted._tid)
            base = value
            while base is not None:
                if isinstance(base, TracerArray):
                    raise refuse("a traced value that left the trace as a plain array (np.asarray or a view)",
                                 "Use array methods and numpy functions on the value itself.")
                base = base.base if isinstance(base, np.ndarray) else None
            return self.const(value)
        if isinstance(value, (tuple, list)):
            encoded = [self.encode(v) for v in value]
            return tuple(encoded) if isinstance(value, tuple) else encoded
        if isinstance(value, dict):
            return {k: self.encode(v) for k, v in value.items()}
        if isinstance(value, slice):
            return slice(self.encode(value.start), self.encode(value.stop), self.encode(value.step))
        from ..tensor import Tensor

        if isinstance(value, Tensor):
            return self.encode(value._data)
        return value

    def record(self, kind: str, fn: str, args: tuple, kwargs: dict, outs: list[Any], writes: list[Any],
               opaque: Any = None) -> None:  # fmt: skip
        if _state.anomaly:
            raise refuse("detect_anomaly()", "Anomaly checks read every value into Python; run the step eagerly.")
        written = [w if w._owner is self or w._plain is None else self.adopt(w._plain)
                   for w in writes if isinstance(w, TracerArray)]  # fmt: skip
        self.instrs.append(Instr(kind, fn, self.encode(args), self.encode(kwargs), [o._tid for o in outs],
                                 [w._tid for w in written], self.phase, opaque))


_active: list[Trace | None] = [None]
# One trace at a time, from reading the tensors it will record to writing its program: numpy's converters are
# swapped process-wide while it records, and the tensors it reads hold its recording arrays meanwhile.
one_at_a_time = threading.RLock()


def _has_tensor(values: Any) -> bool:
    from ..tensor import Tensor

    return any(isinstance(v, Tensor) for v in values)


def is_compiling() -> bool:
    """Whether the code running now is being recorded by autograd.compile (as `torch.compiler.is_compiling()`):
    an op that keeps arrays between calls (a buffer pool) should make fresh ones instead."""
    return active() is not None


def active() -> Trace | None:
    """The trace recording the code running now: None in other threads, and inside an opaque call."""
    trace = _active[0]
    return trace if trace is not None and trace.mine() else None


def _plain(x: Any) -> Any:
    if isinstance(x, TracerArray):
        p = x._plain
        return p if p is not None else x.view(np.ndarray)
    if isinstance(x, Scalar):
        return x.value
    if isinstance(x, (tuple, list)) and any(isinstance(v, TracerArray) for v in x):
        return type(x)(_plain(v) for v in x)
    return x


def _plain_kwargs(kwargs: dict) -> dict:
    return {k: _plain(v) for k, v in kwargs.items()}


def _fresh(trace: Trace, result: Any, root: int | None = None) -> Any:
    """Wrap op results (arrays or numpy scalars) as new traced values."""
    if isinstance(result, tuple):
        return tuple(_fresh(trace, r, root) for r in result)
    if isinstance(result, (np.ndarray, np.generic)):
        return trace.new_value(np.asarray(result), root)
    return result


def _ufunc_name(ufunc: np.ufunc, method: str) -> str:
    base = f"np.{ufunc.__name__}" if getattr(np, ufunc.__name__, None) is ufunc else f"_ufunc_{ufunc.__name__}"
    return base if method == "__call__" else f"{base}.{method}"


# numpy functions whose result is a view of their first argument (matters for in-place writes)
_VIEW_FUNCTIONS = {"broadcast_to", "expand_dims", "moveaxis", "swapaxes", "transpose", "reshape", "squeeze",
                   "ravel", "atleast_1d", "atleast_2d", "atleast_3d", "diagonal", "real", "imag", "flip",
                   "broadcast_arrays", "split", "array_split", "asarray", "asanyarray"}  # fmt: skip
# numpy functions that write into their first argument
_WRITING_FUNCTIONS = {"copyto", "put", "place", "putmask", "fill_diagonal", "put_along_axis"}
# numpy functions that turn values into text or files: a compiled step cannot do that
_READING_FUNCTIONS = {"array2string", "array_repr", "array_str", "savetxt", "save", "savez", "tofile",
                      "array_equal", "allclose", "isclose_scalar"}  # fmt: skip
# array methods whose result views the array's memory
_VIEW_METHODS = {"reshape", "transpose", "ravel", "squeeze", "swapaxes", "view", "diagonal", "__getitem__"}


class TracerArray(np.ndarray):
    """An ndarray that records what is done with it while a trace is active (see the module docstring)."""

    _tid: int | None = None
    _plain: np.ndarray | None = None
    _owner: Trace | None = None  # the trace that made it (one kept from an earlier trace is a plain array)

    @property
    def base(self) -> Any:
        """The plain array's base: a fresh result reports none, as in eager (the engine copies views)."""
        plain = self._plain
        return plain.base if plain is not None else np.ndarray.base.__get__(self)

    def __array_finalize__(self, obj: Any) -> None:
        self._tid = None  # made by numpy behind the tracer's back: an error if it is ever used
        self._plain = None
        self._owner = None

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        out = kwargs.get("out")
        if _has_tensor(inputs) or (out is not None and _has_tensor(out)):
            return NotImplemented  # `array * tensor`: the Tensor's own __array_ufunc__ answers, as in eager
        trace = active()
        if out is not None and trace is not None and any(type(o) is np.ndarray for o in out):
            out = tuple(trace.adopt(o) if type(o) is np.ndarray else o for o in out)
            kwargs["out"] = out
        plain_kwargs = _plain_kwargs(kwargs)
        if out is not None:
            plain_kwargs["out"] = tuple(_plain(o) for o in out)
        result = getattr(ufunc, method)(*(_plain(x) for x in inputs), **plain_kwargs)
        if method == "at":
            if trace is not None:
                trace.record("call", _ufunc_name(ufunc, method), inputs, kwargs, [], [inputs[0]])
            return None
        if out is not None:
            if trace is not None:
                trace.record("call", _ufunc_name(ufunc, method), inputs, kwargs, [], list(out))
            return out[0] if len(out) == 1 else out
        if trace is None:
            return result
        wrapped = _fresh(trace, result)
        outs = list(wrapped) if isinstance(wrapped, tuple) else [wrapped]
        trace.record("call", _ufunc_name(ufunc, method), inputs, kwargs, outs, [])
        return wrapped

    def __array_function__(self, func: Callable, types: Any, args: tuple, kwargs: dict) -> Any:
        if any(not issubclass(t, np.ndarray) for t in types):
            return NotImplemented  # a Tensor among the arguments: its own __array_function__ answers, as in eager
        name = func.__name__
        trace = active()
        if trace is not None and name in _READING_FUNCTIONS:
            raise refuse(f"np.{name} on a traced value", _READ_ADVICE)
        result = func(*(_plain(a) for a in args), **_plain_kwargs(kwargs))
        if trace is None:
            return result
        if name in _WRITING_FUNCTIONS:
            target = trace.adopt(args[0]) if type(args[0]) is np.ndarray else args[0]  # an outside array written
            trace.record("call", _function_name(func), (target, *args[1:]), kwargs, [], [target])
            return result
        first = args[0] if args else None
        root = first._tid if name in _VIEW_FUNCTIONS and isinstance(first, TracerArray) else None
        wrapped = _fresh(trace, result, root)
        outs = list(wrapped) if isinstance(wrapped, (tuple, list)) else [wrapped]
        outs = [o for o in outs if isinstance(o, TracerArray)]
        trace.record("call", _function_name(func), args, kwargs, outs, [])
        return wrapped

    # ------------------------------------------------------------ methods that bypass the two protocols

    def _method(self, name: str, args: tuple, kwargs: dict) -> Any:
        result = getattr(np.ndarray, name)(_plain(self), *(_plain(a) for a in args), **_plain_kwargs(kwargs))
        trace = active()
        if trace is None:
            return result
        wrapped = _fresh(trace, result, self._tid if name in _VIEW_METHODS else None)
        trace.record("method", name, (self, *args), kwargs, [wrapped] if isinstance(wrapped, TracerArray) else [],
                     [])  # fmt: skip
        return wrapped

    def reshape(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("reshape", args, kwargs)

    def transpose(self, *args: Any) -> Any:
        return self._method("transpose", args, {})

    @property
    def T(self) -> Any:
        return self._method("transpose", (), {})

    @property
    def mT(self) -> Any:
        return self._method("swapaxes", (-1, -2), {})

    def ravel(self, *args: Any) -> Any:
        return self._method("ravel", args, {})

    def squeeze(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("squeeze", args, kwargs)

    def swapaxes(self, *args: Any) -> Any:
        return self._method("swapaxes", args, {})

    def copy(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("copy", args, kwargs)

    def __copy__(self) -> Any:
        return self._method("copy", (), {})

    def __deepcopy__(self, memo: Any) -> Any:
        return self._method("copy", (), {})

    def astype(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("astype", args, kwargs)

    def flatten(self, *args: Any) -> Any:
        return self._method("flatten", args, {})

    def dot(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("dot", args, kwargs)

    def argmax(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("argmax", args, kwargs)

    def argmin(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("argmin", args, kwargs)

    def take(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("take", args, kwargs)

    def repeat(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("repeat", args, kwargs)

    def diagonal(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("diagonal", args, kwargs)

    def argsort(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("argsort", args, kwargs)

    def view(self, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs:
            return self._method("view", (), {})
        if args and isinstance(args[0], type) and issubclass(args[0], np.ndarray):
            return np.ndarray.view(self, *args, **kwargs)  # numpy's own re-typing
        return self._method("view", args, kwargs)

    def __getitem__(self, index: Any) -> Any:
        result = np.ndarray.__getitem__(_plain(self), _plain(index))
        trace = active()
        if trace is None:
            return result
        basic = all(isinstance(i, (int, slice, type(None), type(Ellipsis)))
                    for i in (index if isinstance(index, tuple) else (index,)))  # fmt: skip
        wrapped = _fresh(trace, result, self._tid if basic else None)
        trace.record("getitem", "", (self, index), {}, [wrapped], [])
        return wrapped

    def __setitem__(self, index: Any, value: Any) -> None:
        np.ndarray.__setitem__(_plain(self), _plain(index), _plain(value))
        trace = active()
        if trace is not None:
            trace.record("setitem", "", (self, index, value), {}, [], [self])

    def fill(self, value: Any) -> None:
        _plain(self).fill(_plain(value))
        trace = active()
        if trace is not None:
            trace.record("method", "fill", (self, value), {}, [], [self])

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self)))

    # ------------------------------------------------------------ reading values into Python: refused

    def _read(self, how: str) -> Any:
        if active() is None:
            return getattr(np.ndarray, how)(_plain(self)) if how != "item" else _plain(self).item()
        raise refuse(f"{how}() of a traced value", _READ_ADVICE)

    def item(self, *args: Any) -> Any:
        if active() is None:
            return _plain(self).item(*args)
        raise refuse(".item() / float(t) of a traced value", _READ_ADVICE)

    def tolist(self) -> Any:
        if active() is None:
            return _plain(self).tolist()
        raise refuse(".tolist() of a traced value", _READ_ADVICE)

    def __float__(self) -> float:
        if active() is None:
            return float(_plain(self))
        raise refuse("float() of a traced value", _READ_ADVICE)

    def __int__(self) -> int:
        if active() is None:
            return int(_plain(self))
        raise refuse("int() of a traced value", _READ_ADVICE)

    def __index__(self) -> int:
        if active() is None:
            return _plain(self).__index__()
        raise refuse("using a traced value as a Python index", _READ_ADVICE)

    def __bool__(self) -> bool:
        trace = active()
        if trace is None:
            return bool(_plain(self))
        frame = sys._getframe(1)
        caller = os.path.abspath(frame.f_code.co_filename)
        # a check inside the library (a target's range, say): replayed as a guard
        if caller.startswith(_SKIPPED[:2]) and frame.f_code.co_name != "__bool__":
            value = bool(_plain(self))
            trace.record("check", f"{caller}:{sys._getframe(1).f_lineno}", (self,), {}, [], [], opaque=value)
            return value
        raise refuse("bool() of a traced value (an `if` or `while` on a tensor)", _READ_ADVICE)

    def __repr__(self) -> str:
        if active() is None:
            return repr(_plain(self))
        raise refuse("printing a traced value", _READ_ADVICE)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if active() is None:
            return format(_plain(self), spec)
        raise refuse("formatting a traced value", _READ_ADVICE)


def _function_name(func: Callable) -> str:
    module = getattr(func, "__module__", "") or ""
    name = func.__name__
    if getattr(np, name, None) is func:
        return f"np.{name}"
    if module.startswith("numpy.linalg") and getattr(np.linalg, name, None) is func:
        return f"np.linalg.{name}"
    return f"_fn_{name}"


# ------------------------------------------------------------------ numpy's converters, patched while tracing

_original = {"asarray": np.asarray, "array": np.array, "ascontiguousarray": np.ascontiguousarray,
             "empty": np.empty, "zeros": np.zeros, "ones": np.ones, "full": np.full}  # fmt: skip
_MADE = ("empty", "zeros", "ones", "full")  # numpy's array makers: what the step writes into them is recorded


def _maker(name: str) -> Callable[..., Any]:
    """np.zeros and the like, while tracing: a recorded array of the program, so that writes into it (x[i] = v,
    np.copyto(x, v)) are recorded too; otherwise numpy's own."""
    original = _original[name]

    def make(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        trace = active()
        if trace is None or kwargs.get("like") is not None or sys._getframe(1).f_globals.get(
                "__name__", "").startswith("numpy"):  # numpy's own workings (its functions get plain arrays)
            return result  # fmt: skip
        made = trace.new_value(result)
        trace.made[made._tid] = result  # its value, should the step never write into it (a constant then)
        trace.record("call", f"np.{name}", args, kwargs, [made], [])
        return made

    make.__name__ = name
    return make


_MAKERS = {name: _maker(name) for name in _MADE}


def strided(base: np.ndarray, shape: tuple, strides: tuple, base_strides: tuple) -> np.ndarray:
    """np.lib.stride_tricks.as_strided as a program replays it. The strides were taken for `base`'s memory layout
    when traced: a base laid out otherwise (an argument in Fortran order, say) is read through a C-ordered copy
    when that was the traced layout, the view then read-only (a write to the copy would be lost); else an error."""
    if base.strides != base_strides:
        for order in "CF":  # the traced layout, if it was a contiguous one, made again
            if base_strides == np.empty(base.shape, base.dtype, order=order).strides:
                copy = np.array(base, order=order)
                return np.lib.stride_tricks.as_strided(copy, shape, strides, writeable=False)
        raise ValueError(f"autograd.compile: an array the step views with fixed strides has strides {base.strides}, "
                         f"not {base_strides} as when traced (another memory layout); pass contiguous arrays "
                         "(np.ascontiguousarray) or run the step eagerly")  # fmt: skip
    return np.lib.stride_tricks.as_strided(base, shape, strides)


def _strided_view(a: Any) -> Any:
    """np.asarray of as_strided's helper object over a traced array: the view, recorded (else None)."""
    base = getattr(a, "base", None)
    trace = active()
    if trace is None or not isinstance(base, TracerArray) or base._tid is None:
        return None
    interface = a.__array_interface__
    view = _original["asarray"](a)
    shape, strides = tuple(interface["shape"]), tuple(view.strides)
    traced = trace.new_value(view, root=base._tid)
    trace.record("call", "_strided", (base, shape, strides, tuple(base.strides)), {}, [traced], [])
    return traced


def _tensor_data(a: Any) -> Any:
    from ..tensor import Tensor

    return a._data if isinstance(a, Tensor) else a


def _asarray(a: Any, dtype: Any = None, order: Any = None, **kwargs: Any) -> Any:
    a = _tensor_data(a)
    if not isinstance(a, np.ndarray) and dtype is None and not kwargs:  # as_strided's view of a traced array
        view = _strided_view(a)
        if view is not None:
            return view
    if isinstance(a, TracerArray) and active() is not None and not kwargs.get("copy"):
        if dtype is None or np.dtype(dtype) == a.dtype:
            return a
        return a.astype(dtype)
    return _original["asarray"](a, dtype, order, **kwargs)


def _array(a: Any, dtype: Any = None, *args: Any, copy: Any = True, **kwargs: Any) -> Any:
    a = _tensor_data(a)
    kwargs.pop("subok", None) if isinstance(a, TracerArray) and active() is not None else None  # stays recorded
    if isinstance(a, TracerArray) and active() is not None and not args and not kwargs:
        if copy or copy is None:
            return a.astype(a.dtype if dtype is None else dtype)  # astype copies
        return _asarray(a, dtype)
    return _original["array"](a, dtype, *args, copy=copy, **kwargs)


def _ascontiguousarray(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
    a = _tensor_data(a)
    if isinstance(a, TracerArray) and active() is not None and not kwargs:
        if a.flags.c_contiguous and (dtype is None or np.dtype(dtype) == a.dtype):
            return a
        return np.copy(a).astype(dtype or a.dtype, copy=False)
    return _original["ascontiguousarray"](a, dtype, **kwargs)


@contextmanager
def tracing(trace: Trace) -> Iterator[Trace]:
    """Make `trace` the active recording, with numpy's array converters keeping traced values traced.

    One trace records at a time: a second thread's first call waits for the first's trace to end (while
    it records, other threads run plain numpy and the plain engine: see `active`)."""
    current = _active[0]
    if current is not None and current.thread == threading.get_ident():
        raise TraceError("autograd.compile: a compiled step called another while tracing; compile the outer one only")
    with one_at_a_time:
        _active[0] = trace
        np.asarray, np.array, np.ascontiguousarray = _asarray, _array, _ascontiguousarray
        for name in _MADE:
            setattr(np, name, _MAKERS[name])
        try:
            yield trace
        finally:
            np.asarray, np.array, np.ascontiguousarray = (_original["asarray"], _original["array"],
                                                          _original["ascontiguousarray"])  # fmt: skip
            for name in _MADE:
                setattr(np, name, _original[name])
            _active[0] = None


@contextmanager
def suspended() -> Iterator[None]:
    """Run real code on real arrays inside a trace without recording it (an opaque call)."""
    trace = _active[0]
    if trace is not None and trace.thread != threading.get_ident():
        trace = None  # another thread's trace: nothing of ours is recorded anyway
    if trace is not None:
        trace.suspended += 1
    try:
        yield
    finally:
        if trace is not None:
            trace.suspended -= 1


def untrace(value: Any) -> Any:
    """A traced value as the plain array it wraps (for what the first call hands back)."""
    if isinstance(value, TracerArray):
        return _plain(value)
    return value


def is_finite_number(x: Any) -> bool:
    return isinstance(x, float) and math.isfinite(x)
