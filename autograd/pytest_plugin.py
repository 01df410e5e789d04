"""seedgrad's pytest plugin (entry point `seedgrad`): a `gradcheck` fixture and two Hypothesis profiles.

Installed with seedgrad, so any suite gets them with no set-up:

- `ci`: derandomized (the same examples on every run, so CI never flakes), failures print
  a `@reproduce_failure` blob, no deadline (gradient checks are slow by nature);
- `dev`: random examples, 25 per test, no deadline.

Which profile runs: the one you ask for, with `--hypothesis-profile` (applied by Hypothesis's
own plugin, after this one) or the HYPOTHESIS_PROFILE environment variable; else the one your
conftest.py loaded, left alone; else, when none was loaded, `ci` if the CI environment
variable is set and `dev` if not. Re-register either name in a conftest.py
(`settings.register_profile("ci", settings.get_profile("ci"), max_examples=40)`) to tune it
without loading it.

This file lives outside `autograd.testing` so that pytest still starts where Hypothesis is
not installed; only the fixture then fails, saying why.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

try:
    from hypothesis import settings
    from hypothesis.errors import InvalidArgument
except ImportError:  # the fixture explains; pytest itself must keep working
    settings = None

if settings is not None:  # both on Hypothesis's defaults, whichever profile is active now
    settings.register_profile("ci", settings.get_profile("default"), derandomize=True, print_blob=True, deadline=None)
    settings.register_profile("dev", settings.get_profile("default"), deadline=None, max_examples=25)
    # What was loaded before any conftest.py ran: "default", or the "ci" Hypothesis loads by itself
    # when it sees a CI environment. Anything else at configure time was the user's choice.
    _LOADED_BEFORE_CONFTESTS = settings.get_current_profile_name()


@pytest.hookimpl(tryfirst=True)  # before Hypothesis's own plugin, which then applies --hypothesis-profile
def pytest_configure(config: pytest.Config) -> None:
    """Register the `no_mutation` marker, and load the profile chosen by the rule in the module docstring,
    never over one the user chose."""
    config.addinivalue_line(
        "markers",
        "no_mutation: the mutation check (python -m autograd.testing.mutants) leaves this test out, e.g. one that "
        "traces a step with autograd.compile, where a mutated backward would be recorded into a program",
    )
    if settings is None or config.getoption("--hypothesis-profile", default=None):
        return
    asked = os.environ.get("HYPOTHESIS_PROFILE")
    if asked:
        try:
            settings.load_profile(asked)
        except InvalidArgument as err:  # not registered (yet: a conftest.py below the rootdir loads later)
            raise pytest.UsageError(
                f"HYPOTHESIS_PROFILE={asked!r} names no registered Hypothesis profile ({err}); register it in "
                "a top-level conftest.py, or use 'ci' or 'dev'"
            ) from None
    elif settings.get_current_profile_name() in ("default", _LOADED_BEFORE_CONFTESTS):
        settings.load_profile("ci" if os.environ.get("CI") else "dev")


class GradCheck:
    """What the `gradcheck` fixture gives a test: autograd.testing's checks, no imports needed.

    `gradcheck(fn, x, y)` checks first derivatives (`second_order=True`: second ones too);
    like `autograd.gradcheck`, it also takes the inputs as one list or tuple, `gradcheck(fn,
    [x, y])`. `gradcheck.module(model, *inputs, loss=...)` checks every parameter of a model.
    Keyword arguments (atol, rtol, eps, seed...) go to the underlying check.
    """

    def __call__(self, fn: Any, *inputs: Any, second_order: bool = False, **options: Any) -> None:
        __tracebackhide__ = True
        from autograd.testing import assert_grad_close, assert_gradgrad_close

        assert_grad_close(fn, *inputs, **options)
        if second_order:
            assert_gradgrad_close(fn, *inputs, **options)

    def module(self, module: Any, *inputs: Any, **options: Any) -> None:
        __tracebackhide__ = True
        from autograd.testing import assert_module_grad_close

        assert_module_grad_close(module, *inputs, **options)


@pytest.fixture
def gradcheck() -> GradCheck:
    """Check gradients against central differences: `gradcheck(fn, x, y)` or `gradcheck(fn, [x, y])`,
    `gradcheck.module(model, x)`."""
    return GradCheck()
