"""seedgrad's pytest plugin: which Hypothesis profile a suite runs under, and the call forms of `gradcheck`.

The profile tests run a small suite in a fresh pytest process, where the plugin loads from
its entry point exactly as it does in a user's project.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd as ag
from autograd.testing import assert_grad_close, assert_gradgrad_close
from tests.functions import CubeWithConstantDerivative, wrong_square

pytest_plugins = ["pytester"]


def leaf(values: Any) -> ag.Tensor:
    return ag.tensor(np.array(values, dtype=np.float64), requires_grad=True)


# --------------------------------------------------------------------------- which profile runs

COUNTING_SUITE = """
    from hypothesis import given, settings, strategies as st

    drawn = []

    @given(st.integers())
    def test_draws(n):
        drawn.append(n)

    def test_report():
        active = settings.default
        print(f"profile={settings.get_current_profile_name()} examples={len(drawn)} "
              f"max_examples={active.max_examples} derandomize={active.derandomize}")
"""

USER_PROFILE = """
    from hypothesis import settings

    settings.register_profile("mine", settings.get_profile("default"), max_examples=7, database=None)
"""


def run_suite(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str, conftest: str | None = None,
    ci: str | None = None, hypothesis_profile: str | None = None,
) -> pytest.RunResult:  # fmt: skip
    """Run COUNTING_SUITE in a new pytest process with exactly the CI and HYPOTHESIS_PROFILE given (None: unset)."""
    for name, value in (("CI", ci), ("HYPOTHESIS_PROFILE", hypothesis_profile)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    if conftest is not None:
        pytester.makeconftest(textwrap.dedent(conftest))
    pytester.makepyfile(test_counting=textwrap.dedent(COUNTING_SUITE))
    return pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider", *args)


def active(result: pytest.RunResult) -> str:
    """The `profile=... examples=...` line the suite printed, after checking that both tests passed."""
    result.assert_outcomes(passed=2)
    lines = [line for line in result.stdout.lines if "profile=" in line]
    assert len(lines) == 1, result.stdout.str()
    return lines[0][lines[0].index("profile=") :]


@pytest.mark.parametrize("ci", [None, "1"])
def test_a_profile_loaded_by_the_users_conftest_is_left_alone(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    conftest = USER_PROFILE + '    settings.load_profile("mine")\n'
    result = run_suite(pytester, monkeypatch, conftest=conftest, ci=ci)
    assert active(result) == "profile=mine examples=7 max_examples=7 derandomize=False"


@pytest.mark.parametrize(
    ("ci", "expected"),
    [
        ("1", "profile=ci examples=100 max_examples=100 derandomize=True"),
        (None, "profile=dev examples=25 max_examples=25 derandomize=False"),
        ("", "profile=dev examples=25 max_examples=25 derandomize=False"),  # set but empty: not CI
    ],
)
def test_with_no_profile_loaded_ci_or_dev_follows_the_ci_variable(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None, expected: str
) -> None:
    assert active(run_suite(pytester, monkeypatch, ci=ci)) == expected
    # a profile registered but not loaded changes nothing
    pytester.makeconftest(textwrap.dedent(USER_PROFILE))
    assert active(pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")) == expected


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("dev", "profile=dev examples=25 max_examples=25 derandomize=False"),
        ("ci", "profile=ci examples=100 max_examples=100 derandomize=True"),
    ],
)
def test_hypothesis_profile_variable_wins_over_the_users_conftest(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, asked: str, expected: str
) -> None:
    conftest = USER_PROFILE + '    settings.load_profile("mine")\n'
    assert active(run_suite(pytester, monkeypatch, conftest=conftest, hypothesis_profile=asked)) == expected


def test_hypothesis_profile_option_wins_over_everything(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_suite(pytester, monkeypatch, "--hypothesis-profile=mine", conftest=USER_PROFILE, ci="1",
                       hypothesis_profile="dev")  # fmt: skip
    assert active(result) == "profile=mine examples=7 max_examples=7 derandomize=False"
    # the variable is not even looked at: an unknown name there is no error when the option is given
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "nope")
    assert active(pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider", "--hypothesis-profile=mine")) == (
        "profile=mine examples=7 max_examples=7 derandomize=False"
    )


def test_an_unregistered_hypothesis_profile_variable_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_suite(pytester, monkeypatch, hypothesis_profile="nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*HYPOTHESIS_PROFILE='nope' names no registered Hypothesis profile*"])


@pytest.mark.parametrize(
    ("ci", "expected"),
    [
        ("1", "profile=ci examples=40 max_examples=40 derandomize=True"),
        (None, "profile=dev examples=25 max_examples=25 derandomize=False"),
    ],
)
def test_this_projects_conftest_tunes_ci_without_loading_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None, expected: str
) -> None:
    conftest = (Path(__file__).parent / "conftest.py").read_text()
    assert active(run_suite(pytester, monkeypatch, conftest=conftest, ci=ci)) == expected


# --------------------------------------------------------------------------- gradcheck's call forms


def product(a: ag.Tensor, b: ag.Tensor) -> ag.Tensor:
    return (a * b).tanh()


def wrong_in_b(a: ag.Tensor, b: ag.Tensor) -> ag.Tensor:
    return a * wrong_square(1.5).apply(b)


def call_forms(*inputs: Any) -> list[tuple[Any, ...]]:
    """The ways `gradcheck` takes these inputs: one by one, as one tuple, as one list."""
    return [inputs, (tuple(inputs),), (list(inputs),)]


FORMS = ["one by one", "as a tuple", "as a list"]


@pytest.mark.parametrize("form", range(3), ids=FORMS)
def test_the_fixture_takes_every_call_form_of_autograd_gradcheck(gradcheck: Any, form: int) -> None:
    a, b = leaf([0.5, -1.0]), leaf([2.0, 0.3])
    assert ag.gradcheck(product, [a, b]) and ag.gradcheck(product, (a, b))  # the forms mirrored
    gradcheck(product, *call_forms(a, b)[form], second_order=True)
    gradcheck(ag.tanh, *call_forms(a)[form], second_order=True)
    gradcheck(lambda x, k: x * k, *call_forms(a, np.array([3.0, 4.0]))[form])  # a non-tensor goes to fn as it is
    assert a.grad is None and b.grad is None


@pytest.mark.parametrize("form", range(3), ids=FORMS)
def test_the_fixture_fails_a_wrong_gradient_in_every_call_form_naming_the_right_input(
    gradcheck: Any, form: int
) -> None:
    a, b = leaf([0.5, -1.0]), leaf([2.0, 0.3])
    with pytest.raises(ag.GradcheckError, match="the gradient of wrong_in_b does not match") as info:
        gradcheck(wrong_in_b, *call_forms(a, b)[form])
    report = str(info.value)
    assert "input 1, shape (2,), float64: 2 of 2 elements out of tolerance" in report and "input 0" not in report
    with pytest.raises(ag.GradcheckError, match=r"input 0, shape \(2,\), float64: .*a scaled gradient\?"):
        gradcheck(wrong_square(1.01).apply, *call_forms(a)[form])


@pytest.mark.parametrize("form", range(3), ids=FORMS)
def test_second_derivatives_take_every_call_form_and_name_the_inputs(form: int) -> None:
    x, y = leaf([0.3, -1.2]), leaf([1.0, 2.0])
    assert_gradgrad_close(product, *call_forms(x, y)[form])
    with pytest.raises(ag.GradcheckError) as info:
        assert_gradgrad_close(lambda u, v: CubeWithConstantDerivative.apply(u) * v, *call_forms(x, y)[form])
    assert "(inputs 0 to 1 there are the inputs of the lambda; inputs 2 onwards" in str(info.value)


def test_a_list_among_several_inputs_is_checked_or_refused_never_skipped(gradcheck: Any) -> None:
    x, y = leaf([0.5, -1.0]), leaf([2.0, 0.3])
    with pytest.raises(TypeError, match="input 0 of 2 is a list holding Tensors that require grad"):
        gradcheck(lambda xs, z: xs[0] * xs[1] * z, [x, y], y)
    with pytest.raises(TypeError, match="options such as eps go by keyword"):
        assert_grad_close(product, [x, y], 1e-6)  # autograd.gradcheck's positional eps
    constants = [ag.tensor([2.0, 3.0])]  # no gradient to check there: handed to fn as it is
    gradcheck(lambda x, ws: x * ws[0], x, constants)
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(ag.tanh, [ag.tensor([1.0])])  # unpacked, and truly nothing to check
