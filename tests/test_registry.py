"""The op registry is the one place each op's public surface is declared: these tests check that
Tensor's methods, the autograd functions, `autograd.__all__` and the numpy bridge's ufunc table
are exactly what it declares, and that tests/op_catalogue.py exercises every registered op."""

from __future__ import annotations

import inspect
import sys
from types import CodeType, FrameType
from typing import Any

import numpy as np

import autograd as ag
from autograd import registry
from autograd.numpy_bridge import _DIFFERENTIABLE_UFUNCS
from tests.op_catalogue import CATALOGUE
from tests.test_ops import example


def test_tensor_methods_are_the_registered_functions() -> None:
    for name, fn in registry.methods().items():
        assert getattr(ag.Tensor, name) is fn, name
    assert inspect.signature(ag.Tensor.sum) == inspect.signature(ag.sum)
    assert "self" not in inspect.signature(ag.Tensor.exp).parameters  # the function itself, full signature


def test_autograd_functions_and_all_are_the_registered_functions() -> None:
    for name, fn in registry.functions().items():
        assert getattr(ag, name) is fn, name
        assert name in ag.__all__, name


def test_numpy_ufunc_table_is_the_registered_declarations() -> None:
    declared = {ufunc: entry.fn for entry in registry.ENTRIES for ufunc in entry.ufuncs}
    assert _DIFFERENTIABLE_UFUNCS == declared
    assert {np.exp, np.add, np.matmul, np.maximum} <= declared.keys()


def test_every_name_is_declared_once() -> None:
    methods = [name for entry in registry.ENTRIES for name in entry.methods]
    functions = [name for entry in registry.ENTRIES for name in entry.functions]
    ufuncs = [ufunc for entry in registry.ENTRIES for ufunc in entry.ufuncs]
    assert len(methods) == len(set(methods)) and len(functions) == len(set(functions))
    assert len(ufuncs) == len(set(ufuncs))


def _called_while(run: Any, codes: dict[CodeType, str]) -> set[str]:
    """The registered functions (by name) that run while `run()` does, traced with sys.setprofile."""
    seen: set[str] = set()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code in codes:
            seen.add(codes[frame.f_code])

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(previous)
    return seen


def test_every_registered_op_is_exercised_by_the_catalogue() -> None:
    codes = {entry.fn.__code__: entry.fn.__name__ for entry in registry.ENTRIES}
    seen: set[str] = set()
    for op in CATALOGUE:
        inputs, kwargs = example(op)
        seen |= _called_while(lambda: op.fn(*inputs, **kwargs), codes)  # noqa: B023  (called at once)
    missing = set(codes.values()) - seen
    assert not missing, f"registered ops no entry of tests/op_catalogue.py calls: {sorted(missing)}"
