"""autograd.testing, the public toolkit: strategies, gradient assertions, check_op, module checks,
the pytest plugin and the mutation check."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import autograd as ag
import nn
from autograd.engine import broadcast_axes
from autograd.numerical import gradient_comparison
from autograd.ops.reduction import Max
from autograd.testing import (
    arrays,
    assert_grad_close,
    assert_gradgrad_close,
    assert_module_grad_close,
    away_from,
    broadcastable_shapes,
    check_op,
    matmul_shapes,
    shapes,
    tensors,
)
from autograd.testing.mutants import Mutant, function_classes, intercepted
from autograd.testing.strategies import LOW, MARGIN
from tests.functions import CubeWithConstantDerivative, wrong_square

pytest_plugins = ["pytester"]


def leaf(values: Any) -> ag.Tensor:
    return ag.tensor(np.array(values, dtype=np.float64), requires_grad=True)


# --------------------------------------------------------------------------- strategies


def _square_ended(shape: tuple[int, ...]) -> bool:
    return len(shape) >= 2 and shape[-1] == shape[-2] >= 2


@given(shapes(min_dims=1, max_dims=3, min_side=2, max_side=3))
def test_shapes_stay_within_their_bounds(shape: tuple[int, ...]) -> None:
    assert 1 <= len(shape) <= 3 and all(2 <= n <= 3 for n in shape)


def test_shapes_often_end_in_a_square_so_transposed_gradients_show() -> None:
    seen: list[tuple[int, ...]] = []

    @settings(max_examples=100, derandomize=True, database=None)
    @given(shapes())
    def collect(shape: tuple[int, ...]) -> None:
        seen.append(shape)

    collect()
    assert sum(map(_square_ended, seen)) >= len(seen) // 5
    assert any(len(s) == 0 for s in seen) and any(len(s) == 1 for s in seen)  # 0-d and 1-d too


@given(broadcastable_shapes(3, max_dims=3, max_side=3))
def test_broadcastable_shapes_broadcast_together(shapes3: tuple[tuple[int, ...], ...]) -> None:
    assert len(shapes3) == 3
    result = np.broadcast_shapes(*shapes3)
    assert all(len(s) <= 3 and all(1 <= n <= 3 for n in s) for s in shapes3) and len(result) <= 3


@given(matmul_shapes(max_batch_dims=1))
def test_matmul_shapes_are_accepted_by_matmul(pair: tuple[tuple[int, ...], tuple[int, ...]]) -> None:
    a, b = pair
    out = np.matmul(np.zeros(a), np.zeros(b))
    assert len(a) <= 3 and len(b) <= 3 and out.ndim <= 3


@given(st.lists(away_from([0.0, 1.0], margin=0.05, low=-1.0, high=1.0), min_size=1))
def test_away_from_keeps_values_in_range_and_off_the_points(values: list[float]) -> None:
    for v in values:
        assert -1.0 <= v <= 1.0
        assert abs(v) >= 0.05 and abs(v - 1.0) >= 0.05


@given(away_from([1.0], margin=0.1, low=0.0, high=1.0))
def test_away_from_a_point_on_the_edge_of_the_range_pushes_inwards(v: float) -> None:
    assert 0.0 <= v <= 0.9


def test_away_from_moves_only_the_values_that_are_too_close() -> None:
    assert find(away_from([0.0], margin=0.5, low=-1.0, high=1.0), lambda v: v > 0) == 0.5  # 0 itself moves out
    assert 0.1 < find(away_from([0.0]), lambda v: 0.1 < v < 0.2) < 0.2  # a value far enough stays put
    assert MARGIN == 0.01 and LOW == -3.0


@given(arrays(shapes(min_dims=1), elements=st.floats(-1, 1), min_gap=0.05))
def test_min_gap_keeps_every_two_elements_apart(a: np.ndarray) -> None:
    gaps = np.diff(np.sort(a.reshape(-1)))
    assert a.dtype == np.float64 and np.all(gaps >= 0.05 - 1e-12)


@given(tensors((2, 3), dtype=np.float32), tensors(requires_grad=False))
def test_tensors_have_the_shape_dtype_and_requires_grad_asked_for(t: ag.Tensor, c: ag.Tensor) -> None:
    assert isinstance(t, ag.Tensor) and t.shape == (2, 3) and t.dtype == np.float32 and t.requires_grad
    assert c.dtype == np.float64 and not c.requires_grad and np.all(np.abs(c.data) <= 3)


# --------------------------------------------------------------------------- assert_grad_close


def test_assert_grad_close_passes_correct_gradients() -> None:
    x, w = leaf([0.5, -1.0, 2.0]), leaf([[1.0, 2.0, 3.0]])
    assert_grad_close(lambda w, x: (w @ x).sigmoid().sum(), w, x)
    assert_grad_close(lambda w, x: (w.T * x).tanh(), w, x)  # a matrix output
    assert_grad_close(lambda x: (x.exp(), x.sin()), x)  # several outputs
    assert_grad_close(wrong_square(1.0).apply, ag.tensor(np.float32([0.5, 2.0]), requires_grad=True))
    assert_grad_close(lambda x, k: x * k, x, np.array([1.0, 2.0, 3.0]))  # non-tensors pass through
    assert x.grad is None and w.grad is None


def test_assert_grad_close_reports_the_input_indices_values_and_tolerances() -> None:
    x = leaf([0.5, -1.0, 2.0])
    with pytest.raises(ag.GradcheckError) as info:
        assert_grad_close(lambda t: wrong_square(1.01).apply(t).sum(), x)
    lines = str(info.value).splitlines()
    assert lines[0] == "the gradient of the lambda does not match central differences"
    assert lines[1] == "  input 0, shape (3,), float64: 3 of 3 elements out of tolerance; " + (
        "autograd = 1.01 x numerical: a scaled gradient?"
    )
    assert lines[2].split() == ["index", "value", "autograd", "numerical", "|difference|", "allowed"]
    assert lines[3].split() == ["(2,)", "2", "4.04", "4", "0.04", "0.00401"]  # the worst first
    assert lines[4].split() == ["(1,)", "-1", "-2.02", "-2", "0.02", "0.00201"]
    assert lines[-1].startswith("  rule: |autograd - numerical| <= atol 1e-05 + rtol 0.001 * |numerical|")


@pytest.mark.parametrize(
    ("op", "hint"),
    [
        (wrong_square(-1.0), "autograd = -numerical: a flipped sign?"),
        (wrong_square(0.0), "autograd gives 0 where the gradient is not"),
        (wrong_square(1.0, transpose=True), "last two axes swapped: a transposed gradient?"),
        (wrong_square(np.nan), "autograd gives NaN"),
    ],
)
def test_assert_grad_close_says_what_the_mistake_looks_like(op: type[ag.Function], hint: str) -> None:
    x = leaf([[0.5, -1.0], [2.0, 1.5]])
    with pytest.raises(ag.GradcheckError, match="input 0, shape \\(2, 2\\), float64") as info:
        assert_grad_close(op.apply, x)
    assert hint in str(info.value)


def test_assert_grad_close_names_the_wrong_input_only() -> None:
    a, b = leaf([1.0, 2.0]), leaf([3.0, -4.0])
    with pytest.raises(ag.GradcheckError) as info:
        assert_grad_close(lambda a, b: a * b + wrong_square(1.5).apply(b), a, b)
    report = str(info.value)
    assert "input 1, shape (2,), float64: 2 of 2 elements" in report and "input 0" not in report
    single = ag.tensor(np.float32([1.0, 2.0]), requires_grad=True, name="x")
    with pytest.raises(ag.GradcheckError, match=r"input 0 \('x'\), shape \(2,\), float32, checked in float64"):
        assert_grad_close(wrong_square(2.0).apply, single)


def test_assert_grad_close_needs_an_input_that_requires_grad() -> None:
    with pytest.raises(ValueError, match="no input requires grad"):
        assert_grad_close(ag.tanh, ag.tensor([1.0]))


def test_gradient_comparison_gives_both_gradients_under_gradchecks_weights() -> None:
    x, c = leaf([0.5, -1.0, 2.0]), ag.tensor([3.0, 4.0, 5.0])
    result = gradient_comparison(lambda x, c: x * x * c, [x, c], seed=3)
    assert result.checked == [0]  # c does not require grad
    upstream = np.random.default_rng(3).standard_normal(3)  # a non-scalar output is weighted, as gradcheck does
    np.testing.assert_allclose(result.analytic[0], 2 * x.data * c.data * upstream, rtol=1e-12)
    np.testing.assert_allclose(result.numerical[0], result.analytic[0], rtol=1e-6)
    assert result.inputs[0] is not x and result.inputs[0].dtype == np.float64  # taken at float64 copies
    wrong = gradient_comparison(lambda x: wrong_square(2.0).apply(x).sum(), x)  # a scalar output: weight 1
    np.testing.assert_allclose(wrong.analytic[0], 4 * x.data, rtol=1e-12)
    np.testing.assert_allclose(wrong.numerical[0], 2 * x.data, rtol=1e-6)


def test_assert_gradgrad_close_checks_second_derivatives() -> None:
    x = leaf([0.3, -1.2, 2.0])
    assert_gradgrad_close(lambda t: t.tanh() * t, x)
    assert_grad_close(CubeWithConstantDerivative.apply, x)  # the first derivative is right...
    with pytest.raises(ag.GradcheckError) as info:  # ...the second is not
        assert_gradgrad_close(CubeWithConstantDerivative.apply, x)
    report = str(info.value)
    assert report.startswith("the second derivative of CubeWithConstantDerivative.apply does not match")
    assert "gradgradcheck: gradient check failed for input 0 of shape (3,)" in report
    assert "inputs 1 onwards are the upstream" in report


# --------------------------------------------------------------------------- check_op

test_softplus_by_check_op = check_op(ag.softplus, tensors(), second_order=True)  # the one-liner, collected by pytest
test_where_by_check_op = check_op(ag.where, arrays((2, 2), elements=st.floats(-1, 1)).map(lambda a: a > 0),
                                  tensors((2, 2)), tensors((2,)))  # fmt: skip


def test_check_op_names_its_test_and_runs_anywhere() -> None:
    test = check_op(wrong_square(1.0).apply, tensors(shapes(max_dims=2)), max_examples=5)
    assert test.__name__ == "test_Square_apply_gradient"
    test()


def test_check_op_fails_with_the_report_for_a_wrong_backward() -> None:
    test = check_op(wrong_square(1.01).apply, tensors(shapes(min_dims=1), elements=st.floats(1, 2)), max_examples=5)
    with pytest.raises(ag.GradcheckError) as info:
        test()
    report = str(info.value)
    assert report.startswith("the gradient of Square.apply does not match central differences\n  input 0, shape (")
    assert "index" in report and "autograd" in report and "numerical" in report and "allowed" in report


def test_check_op_honours_max_examples() -> None:
    drawn: list[Any] = []
    test = check_op(ag.tanh, tensors((2,)).map(lambda t: drawn.append(t) or t), max_examples=3)
    test()
    assert 1 <= len(drawn) <= 3


def test_check_op_rejects_a_value_where_a_strategy_belongs() -> None:
    with pytest.raises(TypeError, match=r"input 1 is a ndarray, not a Hypothesis strategy.*just"):
        check_op(ag.maximum, tensors(), np.zeros(2))


# --------------------------------------------------------------------------- modules


class WrongScaleFn(ag.Function):
    """x * w whose gradient for w has the wrong sign."""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x * w

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        return grad * w, -(grad * x)


class WrongScale(nn.Module):
    def __init__(self, n: int, dtype: Any = np.float64) -> None:
        super().__init__()
        self.w = nn.Parameter(np.linspace(0.5, 2.0, n).astype(dtype))

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        return WrongScaleFn.apply(x, self.w)


def small_net(dtype: Any = np.float64) -> nn.Module:
    rng = np.random.default_rng(0)
    return nn.Sequential(
        nn.Linear(3, 4, generator=rng, dtype=dtype), nn.Tanh(), nn.Linear(4, 2, generator=rng, dtype=dtype)
    )


def test_module_check_passes_a_correct_model_with_a_loss() -> None:
    x, labels = np.random.default_rng(1).standard_normal((5, 3)), np.array([0, 1, 1, 0, 1])
    assert_module_grad_close(small_net(), x, loss=lambda out: nn.CrossEntropyLoss()(out, labels))
    assert_module_grad_close(small_net(), leaf(x))  # the input's gradient is checked too


def test_module_check_catches_a_wrong_gradient_in_a_custom_layer() -> None:
    model = nn.Sequential(nn.Linear(3, 4, generator=np.random.default_rng(0)), WrongScale(4), nn.Tanh())
    with pytest.raises(ag.GradcheckError) as info:
        assert_module_grad_close(model, np.ones((2, 3)))
    report = str(info.value)
    assert report.startswith("the gradient of Sequential does not match central differences")
    assert "parameter '1.w', shape (4,), float64 (all entries): 4 of 4 elements out of tolerance; " \
           "autograd = -numerical: a flipped sign?" in report  # fmt: skip
    assert "'0.weight'" not in report and "'0.bias'" not in report  # the right ones are not blamed


def test_module_check_samples_large_parameters_and_reports_their_own_indices() -> None:
    layer = WrongScale(500)
    with pytest.raises(ag.GradcheckError) as info:
        assert_module_grad_close(layer, np.ones(500), max_entries=8)
    report = str(info.value)
    assert "parameter 'w', shape (500,), float64 (8 sampled entries): 8 of 8 elements out of tolerance" in report
    rows = [line.split() for line in report.splitlines() if line.startswith("    (")]
    indices = [int(row[0].strip("(),")) for row in rows]
    assert len(rows) == 5 and max(indices) > 8  # indices into the parameter, not into the sample
    for row, i in zip(rows, indices):
        assert float(row[1]) == pytest.approx(np.linspace(0.5, 2.0, 500)[i], rel=1e-5)


def test_module_check_runs_a_float32_model_in_float64_and_leaves_it_alone() -> None:
    model = small_net(np.float32)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert_module_grad_close(model, np.ones((4, 3), np.float32), loss=lambda out: (out**2).mean())
    for name, p in model.named_parameters():
        assert p.dtype == np.float32 and p.grad is None
        np.testing.assert_array_equal(p.data, before[name])
    with pytest.raises(ag.GradcheckError, match=r"parameter 'w', shape \(3,\), float32, checked in float64"):
        assert_module_grad_close(WrongScale(3, np.float32), np.ones(3, np.float32))


def test_module_check_sees_the_same_dropout_mask_in_every_evaluation() -> None:
    model = nn.Sequential(nn.Linear(3, 6), nn.Dropout(0.5, generator=np.random.default_rng(3)), nn.Tanh())
    assert model.training
    assert_module_grad_close(model, np.ones((4, 3)))


def test_module_check_skips_frozen_parameters_and_rejects_what_it_cannot_check() -> None:
    layer = WrongScale(3)
    layer.w.requires_grad = False
    assert_module_grad_close(layer, leaf([1.0, 2.0, 3.0]))  # only the input is checked, and it is right
    with pytest.raises(ValueError, match="no parameter with requires_grad=True and no input requires grad"):
        assert_module_grad_close(layer, np.ones(3))
    with pytest.raises(TypeError, match="needs a module with named_parameters"):
        assert_module_grad_close(ag.tanh, leaf([1.0]))


# --------------------------------------------------------------------------- the pytest plugin


def test_the_plugin_is_registered_with_its_fixture_and_profiles(pytestconfig: pytest.Config, gradcheck: Any) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("seedgrad")
    assert plugin is not None and plugin.__name__ == "autograd.pytest_plugin"
    ci, dev = settings.get_profile("ci"), settings.get_profile("dev")
    assert ci.derandomize and ci.print_blob and ci.deadline is None
    assert not dev.derandomize and dev.deadline is None
    gradcheck(ag.tanh, leaf([0.5, -1.0]), second_order=True)
    gradcheck.module(small_net(), np.ones((2, 3)))
    with pytest.raises(ag.GradcheckError, match="a scaled gradient"):
        gradcheck(wrong_square(1.01).apply, leaf([1.0, 2.0]))


USER_SUITE = """
    import numpy as np
    from hypothesis import settings
    import autograd as ag

    def test_profile():
        print("profile:", settings.get_current_profile_name(), settings.default.derandomize)

    def test_fixture(gradcheck):
        gradcheck(ag.tanh, ag.tensor([0.5, -1.0], requires_grad=True), second_order=True)

    class Doubled(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, grad):
            return 3 * grad

    def test_wrong(gradcheck):
        gradcheck(Doubled.apply, ag.tensor([1.0, 2.0], requires_grad=True))
"""


@pytest.mark.parametrize(("ci", "profile"), [("1", "ci True"), ("", "dev False")])
def test_a_users_suite_gets_the_fixture_and_profiles_without_set_up(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str, profile: str
) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    pytester.makepyfile(test_user=textwrap.dedent(USER_SUITE))
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([f"*profile: {profile}", "*the gradient of Doubled.apply does not match*",
                                 "*autograd = 1.5 x numerical: a scaled gradient?*"])  # fmt: skip


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env},
                          timeout=120)  # fmt: skip


def test_hypothesis_is_a_test_extra_not_a_runtime_dependency() -> None:
    imported = _python("import sys, autograd, nn; print(sorted(m for m in sys.modules if 'hypothesis' in m))")
    assert imported.stdout.strip() == "[]", imported.stderr
    blocked = "import sys; sys.modules['hypothesis'] = None; "
    missing = _python(blocked + "import autograd.testing")
    assert "ImportError: autograd.testing needs Hypothesis, which is not installed" in missing.stderr
    assert "pip install 'seedgrad[test]'" in missing.stderr
    plugin = _python(blocked + "import autograd as ag, autograd.pytest_plugin as p; print(p.settings)\n"
                     "try:\n    p.GradCheck()(ag.tanh, ag.tensor([1.0], requires_grad=True))\n"
                     "except ImportError as e:\n    print(e)")  # fmt: skip
    assert plugin.stdout.splitlines()[0] == "None", plugin.stderr  # pytest still starts; the fixture explains
    assert "autograd.testing needs Hypothesis" in plugin.stdout


# --------------------------------------------------------------------------- the mutation check


def test_mutants_cover_the_builtin_functions() -> None:
    names = {cls.__name__ for cls in function_classes(["autograd"])}
    assert {"Add", "Mul", "MatMul", "Max", "Min", "GetItem", "Concatenate", "Softmax"} <= names
    assert "LinearFunction" not in names
    assert "LinearFunction" in {cls.__name__ for cls in function_classes(["autograd", "nn"])}


class _Largest(Max):
    """Max under another name: it inherits Max's backward, so a mutant of Max must leave it alone."""


def test_a_mutant_corrupts_one_input_of_one_op_and_is_undone() -> None:
    from autograd.ops.arithmetic import Mul

    ops = (Mul, Max, _Largest)
    originals = {op: op.__dict__.get("backward") for op in ops}  # (wrapped already in a mutation run)
    a, b = leaf([1.0, 2.0]), leaf([3.0, -4.0])
    with intercepted([Mul], Mutant(Mul, 1, "scale").corrupt):
        ga, gb = ag.grad((a * b).sum(), [a, b])
    np.testing.assert_array_equal(ga.data, [3.0, -4.0])
    np.testing.assert_array_equal(gb.data, [1.01, 2.02])
    x = leaf([[1.0, 5.0], [3.0, 2.0]])
    with intercepted([Max], Mutant(Max, 0, "negate").corrupt):
        (g_max,) = ag.grad(x.max(), x)
        (g_largest,) = ag.grad(_Largest.apply(x), x)
    np.testing.assert_array_equal(g_max.data, [[0.0, -1.0], [0.0, 0.0]])
    np.testing.assert_array_equal(g_largest.data, [[0.0, 1.0], [0.0, 0.0]])
    assert {op: op.__dict__.get("backward") for op in ops} == originals


def test_transpose_and_broadcast_mutants_apply_only_where_they_change_something() -> None:
    from autograd.ops.arithmetic import Add

    a, b = leaf([[1.0, 2.0], [3.0, 4.0]]), leaf([10.0, 20.0])
    upstream = np.array([[1.0, 2.0], [3.0, 4.0]])
    with intercepted([Add], Mutant(Add, 0, "transpose").corrupt):
        ga, gb = ag.grad(a + b, [a, b], upstream)
    np.testing.assert_array_equal(ga.data, upstream.T)
    np.testing.assert_array_equal(gb.data, [4.0, 6.0])  # (2,) is not square: left alone
    with intercepted([Add], Mutant(Add, 1, "broadcast").corrupt):
        ga, gb = ag.grad(a + b, [a, b], upstream)
    np.testing.assert_array_equal(ga.data, upstream)
    np.testing.assert_array_equal(gb.data, [2.0, 3.0])  # averaged over the broadcast rows instead of summed


def test_broadcast_axes_are_the_leading_ones_and_those_stretched_from_1() -> None:
    assert broadcast_axes((4, 2, 3), (2, 1)) == (0, 2)
    assert broadcast_axes((2, 1), (2, 1)) == ()  # an axis of 1 in both needs no sum
    assert broadcast_axes((5,), ()) == (0,)
    with pytest.raises(ValueError, match=r"gradient of shape \(3,\) to the larger shape \(2, 3\)"):
        broadcast_axes((3,), (2, 3))


MUTANT_SUITE = """
    import autograd as ag
    from autograd.testing import check_op, tensors

    test_tanh = check_op(ag.tanh, tensors((3,)), max_examples=10)

    def test_only_checks_the_first_factor():
        x = ag.tensor([1.0, 2.0], requires_grad=True)
        y = ag.tensor([3.0, 4.0], requires_grad=True)
        (x * y).sum().backward()
        assert x.grad.tolist() == [3.0, 4.0]
"""


def test_the_mutation_check_reports_kills_and_survivors(tmp_path: Any) -> None:
    (tmp_path / "test_weak.py").write_text(textwrap.dedent(MUTANT_SUITE))
    run = subprocess.run([sys.executable, "-m", "autograd.testing.mutants", "--package", "autograd", str(tmp_path)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300)  # fmt: skip
    out = run.stdout
    assert run.returncode == 1, out + run.stderr
    assert "killed    Tanh.backward, input 0: scaled by 1.01  by test_weak.py::test_tanh" in out
    assert "killed    Mul.backward, input 0: sign flipped  by test_weak.py::test_only_checks_the_first_factor" in out
    assert "mutation check: 6 of 8 mutants killed (75.0%), 2 survived" in out
    assert "  survivor: Mul.backward, input 1: scaled by 1.01" in out
    assert "  survivor: Mul.backward, input 1: sign flipped" in out
