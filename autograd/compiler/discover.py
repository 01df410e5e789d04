"""Which tensors a step reads from outside: its arguments, and what its code can reach (closure, globals, self).

The walk follows modules (anything with `named_parameters`), optimisers (anything with
`param_groups` and `step`), lists, tuples, dicts and plain objects' attributes, a few levels
deep, in a fixed order, so names and programs are the same on every run. On the way it notes
the numbers (and strings) it passes -- closure variables, globals the code names, layers'
settings, attributes -- for the guard to check: a program has them built in.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor
from .randomness import GENERATOR_TYPES

_MAX_DEPTH = 4


class Found:
    """The tensors (with readable names) and optimisers a step can reach."""

    def __init__(self) -> None:
        self.tensors: list[Tensor] = []
        self.names: list[str] = []
        self.optimizers: list[Any] = []
        self.modules: list[Any] = []
        self.generators: list[tuple[str, Any]] = []  # random generators, watched while tracing
        # numbers (and strings, None, tuples of them) the step may read: (name, kind, holder, key, value) with
        # kind "attr" (getattr(holder, key)), "item" (holder[key]) or "cell" (a closure cell's contents)
        self.numbers: list[tuple[str, str, Any, Any, Any]] = []
        self.sizes: list[tuple[str, Any, int]] = []  # (name, list or dict, its length)
        self._seen: set[int] = set()

    def number(self, name: str, kind: str, holder: Any, key: Any, value: Any) -> None:
        if _simple(value):
            self.numbers.append((name, kind, holder, key, value))

    def tensor(self, t: Tensor, name: str) -> None:
        if id(t) not in self._seen:
            self._seen.add(id(t))
            self.tensors.append(t)
            self.names.append(t.name or name)


def discover(fn: Callable, extra: list[tuple[str, Any]]) -> Found:
    """The tensors and optimisers that `fn` (and the objects in `extra`) can reach."""
    found = Found()
    visited: set[int] = set()
    stack: list[tuple[str, Any, int]] = [(name, obj, 0) for name, obj in reversed(extra)]
    stack.append(("fn", fn, 0))
    while stack:
        name, obj, depth = stack.pop()
        if id(obj) in visited or depth > _MAX_DEPTH or obj is None:
            continue
        if isinstance(obj, (int, float, str, bool, bytes, np.ndarray, np.generic, type, types.ModuleType)):
            continue
        visited.add(id(obj))
        for child in reversed(_children(found, name, obj)):
            stack.append((child[0], child[1], depth + 1))
    return found


def _children(found: Found, name: str, obj: Any) -> list[tuple[str, Any]]:
    """Note what `obj` is (a tensor, a module, an optimiser, a generator, numbers) and return what to walk next."""
    children: list[tuple[str, Any]] = []
    if isinstance(obj, GENERATOR_TYPES):
        found.generators.append((name, obj))
        return []
    if isinstance(obj, Tensor):
        found.tensor(obj, name)
        return []
    if isinstance(obj, types.MethodType):
        children = [(_owner_name(name), obj.__self__), (name, obj.__func__)]
    elif isinstance(obj, types.FunctionType):
        code = obj.__code__
        cells = obj.__closure__ or ()
        children = [(var, cell.cell_contents) for var, cell in zip(code.co_freevars, cells) if _filled(cell)]
        for var, cell in zip(code.co_freevars, cells):
            if _filled(cell):
                found.number(var, "cell", cell, None, cell.cell_contents)
        for var in _global_names(code):
            if var in obj.__globals__:
                children.append((var, obj.__globals__[var]))
                found.number(var, "item", obj.__globals__, var, obj.__globals__[var])
        children += [(f"{name}_default", d) for d in (obj.__defaults__ or ())]
    elif callable(getattr(obj, "named_parameters", None)):
        found.modules.append(obj)
        prefix = "" if name in ("self", "fn") else name + "."
        _module_generators(found, obj, prefix)
        _module_numbers(found, obj, prefix)
        for pname, p in obj.named_parameters():
            found.tensor(p, prefix + pname)
        named_buffers = getattr(obj, "named_buffers", None)
        if callable(named_buffers):
            for bname, b in named_buffers():
                if isinstance(b, Tensor):
                    found.tensor(b, prefix + bname)
        return []
    elif isinstance(getattr(obj, "param_groups", None), list) and callable(getattr(obj, "step", None)):
        found.optimizers.append(obj)
        for group in obj.param_groups:
            for i, p in enumerate(group["params"]):
                found.tensor(p, f"{name}_param{i}")
        return []
    elif isinstance(obj, dict):
        children = [(f"{name}_{k}" if isinstance(k, str) else name, v) for k, v in obj.items()]
        found.sizes.append((name, obj, len(obj)))  # a step that adds to it would add only while tracing
        for k, v in obj.items():
            found.number(f"{name}[{k!r}]", "item", obj, k, v)
    elif isinstance(obj, (list, tuple)):
        children = [(f"{name}{i}", v) for i, v in enumerate(obj)]
        if isinstance(obj, list):
            found.sizes.append((name, obj, len(obj)))
            for i, v in enumerate(obj):
                found.number(f"{name}[{i}]", "item", obj, i, v)
    elif hasattr(obj, "__dict__") and not isinstance(obj, (types.BuiltinFunctionType, types.FunctionType)):
        if type(obj).__module__.split(".")[0] in ("numpy", "builtins", "threading", "autograd"):
            return []
        children = [(k, v) for k, v in vars(obj).items()]
        for k, v in vars(obj).items():
            found.number(f"{name}.{k}", "attr", obj, k, v)
    return children


def _module_generators(found: Found, module: Any, prefix: str) -> None:
    """A layer's own random generator (Dropout(generator=rng)), for the tracer to watch."""
    submodules = module.named_modules() if callable(getattr(module, "named_modules", None)) else [("", module)]
    for mname, m in submodules:
        for aname, a in vars(m).items():
            if isinstance(a, GENERATOR_TYPES):
                found.generators.append((f"{prefix}{mname}.{aname}".strip("."), a))


def _module_numbers(found: Found, module: Any, prefix: str) -> None:
    """A layer's settings (Dropout's p, BatchNorm's momentum and eps...), which its forward reads."""
    submodules = module.named_modules() if callable(getattr(module, "named_modules", None)) else [("", module)]
    for mname, m in submodules:
        for aname, a in vars(m).items():
            if aname != "training":  # (checked on its own, for every module)
                found.number(f"{prefix}{mname}.{aname}".strip("."), "attr", m, aname, a)


def _simple(value: Any, depth: int = 0) -> bool:
    """A value a step can read as a constant: a number, a string, None, or a short tuple of them."""
    if value is None or isinstance(value, (bool, int, float, complex, str)):
        return True
    return isinstance(value, tuple) and depth < 2 and len(value) <= 8 and all(_simple(v, depth + 1) for v in value)


def _owner_name(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else "self"


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True


def _global_names(code: types.CodeType) -> list[str]:
    """The global names a function's code (and the code nested in it) refers to."""
    names: list[str] = []
    stack = [code]
    while stack:
        c = stack.pop()
        names.extend(c.co_names)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return list(dict.fromkeys(names))
