"""Every op in `autograd` and `nn` states its chain-rule step in symbols (`rule`), which the
backprop explorer shows beside the words of its docstring; a user's Function has none."""

from __future__ import annotations

import autograd as ag
from autograd.function import Function, Op
from tests.functions import library_functions


def _defining(cls: type, name: str) -> type:
    """The class in cls's MRO whose body defines `name`."""
    return next(base for base in cls.__mro__ if name in vars(base))


def test_every_library_op_states_its_rule() -> None:
    library = library_functions()
    assert len(library) > 40  # the walk really found the ops
    assert Op not in library
    missing = [c.__qualname__ for c in library if not (isinstance(c.rule, str) and c.rule.strip())]
    assert not missing, f"ops with no `rule` (the chain-rule step in symbols): {missing}"
    for cls in library:
        # The rule describes the backward, so it sits on the class that defines the backward.
        assert _defining(cls, "rule") is _defining(cls, "backward"), cls.__qualname__
        assert "\n" not in cls.rule and len(cls.rule) <= 100, cls.__qualname__
        assert "grad" in cls.rule, cls.__qualname__


def test_user_functions_have_no_rule() -> None:
    assert Function.rule is None

    class Square(Function):
        """x * x."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    y = Square.apply(ag.tensor([3.0], requires_grad=True))
    assert Square.rule is None
    assert y.grad_fn.rule is None
