"""`check_op`: a gradient property test in one line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from .gradients import assert_grad_close, assert_gradgrad_close, identifier


def check_op(
    fn: Callable[..., Any],
    *inputs: st.SearchStrategy,
    second_order: bool = False,
    max_examples: int | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> Callable[[], None]:
    """A Hypothesis test: for every set of inputs drawn, `fn`'s gradient matches central differences.

    `inputs` holds one strategy per argument of `fn`: `tensors(...)` for what is
    differentiated, `hypothesis.strategies.just(value)` for a constant. Assign the result to
    a name starting with `test_` and pytest runs it (with the active Hypothesis profile);
    call it to run it anywhere else. `second_order=True` checks second derivatives as well;
    `max_examples` overrides the profile's number of examples.

    >>> import autograd
    >>> from autograd.testing import tensors
    >>> test_softplus = check_op(autograd.softplus, tensors())
    >>> test_softplus()
    """
    for i, strategy in enumerate(inputs):
        if not isinstance(strategy, st.SearchStrategy):
            raise TypeError(
                f"check_op: input {i} is a {type(strategy).__name__}, not a Hypothesis strategy; "
                "draw tensors with autograd.testing.tensors(...), or wrap a fixed value in "
                "hypothesis.strategies.just(...)"
            )
    if not inputs:
        raise TypeError("check_op needs one strategy per argument of the function, e.g. check_op(fn, tensors())")

    def check(inputs: tuple[Any, ...]) -> None:
        assert_grad_close(fn, *inputs, eps=eps, atol=atol, rtol=rtol)
        if second_order:
            assert_gradgrad_close(fn, *inputs, eps=eps, atol=atol, rtol=rtol)

    check.__name__ = check.__qualname__ = f"test_{identifier(fn)}_gradient"  # as Hypothesis reports it
    test = given(st.tuples(*inputs))(check)
    if max_examples is not None:
        test = settings(max_examples=max_examples)(test)
    test.__name__ = test.__qualname__ = check.__name__
    return test
