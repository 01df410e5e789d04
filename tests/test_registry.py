"""The op registry is the one place each op's public surface is declared: these tests check that
Tensor's methods, the autograd functions, `autograd.__all__` and the numpy bridge's tables
are exactly what it declares, that axes are spelled both ways everywhere, and that
tests/op_catalogue.py exercises every registered op."""

from __future__ import annotations

import inspect
import sys
from types import CodeType, FrameType
from typing import Any

import numpy as np

import autograd as ag
from autograd import registry
from autograd.numpy_bridge import _DIFFERENTIABLE_UFUNCS, _FUNCTIONS
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


def test_numpy_function_table_is_the_registered_declarations() -> None:
    declared = {func: entry.fn for entry in registry.ENTRIES for func in entry.array_functions}
    assert _FUNCTIONS == declared
    assert {np.sum, np.max, np.amax, np.reshape, np.concatenate, np.where, np.clip} <= declared.keys()
    assert not any(isinstance(func, np.ufunc) for func in declared)


def test_a_numpy_call_reaches_its_op_with_numpy_names() -> None:
    x = ag.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    out = np.max(x, 1, None, True)  # numpy's positional order: axis, out, keepdims
    assert out.shape == (2, 1) and type(out.grad_fn).__name__ == "Max"
    np.sum(x, axis=0, where=True).sum().backward()  # where=True is numpy's "everywhere"
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 3)))


def test_dims_are_spelled_both_ways_everywhere() -> None:
    """Every registered function taking PyTorch's dim= or keepdim= also takes numpy's axis= and keepdims=
    (gather's dim is its required second argument, as in PyTorch; numpy's take_along_axis differs)."""
    for entry in registry.ENTRIES:
        parameters = inspect.signature(entry.fn).parameters
        if entry.fn is ag.gather:
            continue
        assert ("dim" in parameters) <= ("axis" in parameters), entry.fn.__name__
        assert ("keepdim" in parameters) <= ("keepdims" in parameters), entry.fn.__name__


def test_every_name_is_declared_once() -> None:
    methods = [name for entry in registry.ENTRIES for name in entry.methods]
    functions = [name for entry in registry.ENTRIES for name in entry.functions]
    ufuncs = [ufunc for entry in registry.ENTRIES for ufunc in entry.ufuncs]
    array_functions = [func for entry in registry.ENTRIES for func in entry.array_functions]
    assert len(methods) == len(set(methods)) and len(functions) == len(set(functions))
    assert len(ufuncs) == len(set(ufuncs)) and len(array_functions) == len(set(array_functions))


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
