"""autograd.testing: property-based gradient tests for your own ops, Functions and models.

    from autograd.testing import assert_grad_close, away_from, check_op, tensors

    test_softplus = check_op(autograd.softplus, tensors())            # a whole property test
    test_relu = check_op(autograd.relu, tensors(elements=away_from([0.0])))
    assert_grad_close(my_op, x)                                       # one check, readable failure
    assert_module_grad_close(model, x, loss=loss_fn)                  # every parameter of a model

The checks build on `autograd.gradcheck` (central differences in float64); the strategies
on `hypothesis.extra.numpy`. Installed with the `test` extra, a pytest plugin adds a
`gradcheck` fixture and the `ci` / `dev` Hypothesis profiles. See docs/testing.md.
Hypothesis is needed here only: `import autograd` never imports it.
"""

try:
    import hypothesis  # noqa: F401
except ImportError as err:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "autograd.testing needs Hypothesis, which is not installed; install the test extra "
        "(pip install 'seedgrad[test]') or Hypothesis itself (pip install hypothesis)"
    ) from err

from .gradients import assert_grad_close, assert_gradgrad_close
from .modules import assert_module_grad_close
from .properties import check_op
from .strategies import arrays, away_from, broadcastable_shapes, matmul_shapes, shapes, tensors

__all__ = [
    "tensors", "arrays", "shapes", "broadcastable_shapes", "matmul_shapes", "away_from",
    "assert_grad_close", "assert_gradgrad_close", "assert_module_grad_close", "check_op",
]  # fmt: skip
