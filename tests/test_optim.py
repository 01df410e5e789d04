"""nn.optim: SGD, Adam and AdamW against hand-worked updates, state dicts, schedules, validation, training.

Every expected value is worked out by hand in the test (the update rule written out on
small numbers), never taken from the optimiser's own output.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

import autograd as ag
import nn
import nn.optim as optim
from nn.optim import lr_scheduler


def param(values: list[float], dtype: type = np.float64) -> nn.Parameter:
    return nn.Parameter(np.array(values, dtype=dtype))


def set_grad(p: nn.Parameter, values: list[float]) -> None:
    p.grad = ag.tensor(np.array(values, dtype=p.dtype))


def close(actual: np.ndarray, expected: list[float]) -> None:
    np.testing.assert_allclose(actual, np.array(expected), rtol=1e-12, atol=1e-12)


# The gradients fed to the SGD tests, one per step.
G1, G2, G3 = [1.0, -2.0], [0.5, 0.5], [-1.0, 0.0]


# ----------------------------------------------------------------------------- SGD


def test_sgd_plain_step_is_p_minus_lr_times_grad() -> None:
    p = param([1.0, -2.0])
    opt = optim.SGD([p], lr=0.1)
    set_grad(p, [0.5, 0.25])
    opt.step()
    close(p.data, [1.0 - 0.1 * 0.5, -2.0 - 0.1 * 0.25])  # [0.95, -2.025]
    opt.step()  # the same gradient again
    close(p.data, [0.95 - 0.05, -2.025 - 0.025])


def test_sgd_momentum_buffer_starts_at_the_first_gradient() -> None:
    p = param([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    set_grad(p, G1)
    opt.step()  # buf = g1 = [1, -2]
    close(p.data, [0.9, 2.2])
    set_grad(p, G2)
    opt.step()  # buf = 0.9 * [1, -2] + [0.5, 0.5] = [1.4, -1.3]
    close(p.data, [0.9 - 0.14, 2.2 + 0.13])
    set_grad(p, G3)
    opt.step()  # buf = 0.9 * [1.4, -1.3] + [-1, 0] = [0.26, -1.17]
    close(p.data, [0.76 - 0.026, 2.33 + 0.117])
    close(opt.state[0]["momentum_buffer"], [0.26, -1.17])


def test_sgd_dampening_scales_new_gradients_but_not_the_first() -> None:
    p = param([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    set_grad(p, G1)
    opt.step()  # buf = g1 (no dampening on the first step, as in PyTorch)
    close(p.data, [0.9, 2.2])
    set_grad(p, G2)
    opt.step()  # buf = 0.9 * [1, -2] + 0.5 * [0.5, 0.5] = [1.15, -1.55]
    close(p.data, [0.9 - 0.115, 2.2 + 0.155])


def test_sgd_nesterov_steps_along_gradient_plus_momentum_times_buffer() -> None:
    p = param([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    set_grad(p, G1)
    opt.step()  # buf = [1, -2]; step = g1 + 0.9 * buf = [1.9, -3.8]
    close(p.data, [1.0 - 0.19, 2.0 + 0.38])
    set_grad(p, G2)
    opt.step()  # buf = [1.4, -1.3]; step = [0.5 + 1.26, 0.5 - 1.17] = [1.76, -0.67]
    close(p.data, [0.81 - 0.176, 2.38 + 0.067])


def test_sgd_weight_decay_adds_decay_times_p_to_the_gradient() -> None:
    p = param([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1, weight_decay=0.1)
    set_grad(p, G1)
    opt.step()  # g = [1, -2] + 0.1 * [1, 2] = [1.1, -1.8]
    close(p.data, [1.0 - 0.11, 2.0 + 0.18])


def test_sgd_weight_decay_enters_the_momentum_buffer() -> None:
    p = param([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    set_grad(p, G1)
    opt.step()  # g = buf = [1.1, -1.8]; p = [0.89, 2.18]
    close(p.data, [0.89, 2.18])
    set_grad(p, G2)
    opt.step()  # g = [0.5 + 0.089, 0.5 + 0.218]; buf = 0.9 * [1.1, -1.8] + g = [1.579, -0.902]
    close(p.data, [0.89 - 0.1579, 2.18 + 0.0902])


# ----------------------------------------------------------------------------- Adam and AdamW


def test_adam_first_step_moves_each_element_by_lr_times_sign_of_grad() -> None:
    # m = 0.1 g and v = 0.001 g**2, so after bias correction m_hat = g, v_hat = g**2 and the
    # step is lr * g / (|g| + eps): lr * sign(g), whatever the gradient's size.
    p = param([1.0, -2.0, 3.0, 0.5])
    opt = optim.Adam([p], lr=0.1)
    g = np.array([2.0, -0.5, 1e-3, 0.0])
    set_grad(p, list(g))
    opt.step()
    expected = np.array([1.0, -2.0, 3.0, 0.5]) - 0.1 * g / (np.abs(g) + 1e-8)
    close(p.data, list(expected))
    np.testing.assert_allclose(p.data, [0.9, -1.9, 2.9, 0.5], rtol=0, atol=1e-6)


def test_adam_second_step_uses_bias_corrected_moments() -> None:
    p = param([1.0, -1.0])
    opt = optim.Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    set_grad(p, [2.0, -4.0])
    opt.step()  # first step: p - lr * g / (|g| + eps), almost [0.9, -0.9]
    p1 = np.array([1.0 - 0.1 * 2.0 / (2.0 + 1e-8), -1.0 + 0.1 * 4.0 / (4.0 + 1e-8)])
    close(p.data, list(p1))
    set_grad(p, [1.0, 3.0])
    opt.step()
    m = np.array([0.9 * 0.1 * 2.0 + 0.1 * 1.0, 0.9 * 0.1 * -4.0 + 0.1 * 3.0])  # [0.28, -0.06]
    v = np.array([0.999 * 0.001 * 4.0 + 0.001 * 1.0, 0.999 * 0.001 * 16.0 + 0.001 * 9.0])
    m_hat = m / (1 - 0.9**2)
    v_hat = v / (1 - 0.999**2)
    expected = p1 - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8)
    close(p.data, list(expected))
    assert opt.state[0]["step"] == 2
    close(opt.state[0]["exp_avg"], list(m))
    close(opt.state[0]["exp_avg_sq"], list(v))


def test_adam_weight_decay_is_an_l2_term_in_the_gradient() -> None:
    # With a zero gradient the only gradient is weight_decay * p = [0.1, -0.2], so Adam's
    # first step moves by lr * sign(p): decay is rescaled by Adam, a full lr-sized step.
    p = param([1.0, -2.0])
    opt = optim.Adam([p], lr=0.1, weight_decay=0.1)
    set_grad(p, [0.0, 0.0])
    opt.step()
    np.testing.assert_allclose(p.data, [0.9, -1.9], rtol=0, atol=1e-6)
    close(opt.state[0]["exp_avg"], [0.1 * 0.1, 0.1 * -0.2])  # m = (1 - beta1) * weight_decay * p


def test_adamw_decay_is_decoupled_from_the_gradient() -> None:
    # Same start as above: AdamW shrinks p by (1 - lr * weight_decay) = 0.99 and the zero
    # gradient leaves Adam's moments, and so its update, at zero.
    p = param([1.0, -2.0])
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.1)
    set_grad(p, [0.0, 0.0])
    opt.step()
    close(p.data, [0.99, -1.98])
    close(opt.state[0]["exp_avg"], [0.0, 0.0])


def test_adamw_and_adam_with_the_same_decay_take_different_steps() -> None:
    p_adam, p_adamw = param([1.0, -2.0]), param([1.0, -2.0])
    adam = optim.Adam([p_adam], lr=0.1, weight_decay=0.1)
    adamw = optim.AdamW([p_adamw], lr=0.1, weight_decay=0.1)
    set_grad(p_adam, [0.5, 0.5])
    set_grad(p_adamw, [0.5, 0.5])
    adam.step()  # g = [0.5 + 0.1, 0.5 - 0.2] = [0.6, 0.3], both positive: p - lr
    adamw.step()  # p * 0.99, then - lr * sign(0.5)
    np.testing.assert_allclose(p_adam.data, [0.9, -2.1], rtol=0, atol=1e-6)
    np.testing.assert_allclose(p_adamw.data, [0.99 - 0.1, -1.98 - 0.1], rtol=0, atol=1e-6)


def test_adamw_default_weight_decay_is_pytorchs() -> None:
    assert optim.AdamW([param([1.0])]).weight_decay == 0.01
    assert optim.Adam([param([1.0])]).weight_decay == 0.0


# ----------------------------------------------------------------------------- behaviour common to all


OPTIMISERS: dict[str, Callable[[list[nn.Parameter]], optim.Optimizer]] = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1),
    "sgd-nesterov": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.01),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.1),
}


@pytest.mark.parametrize("make", OPTIMISERS.values(), ids=OPTIMISERS.keys())
def test_float32_parameters_and_state_stay_float32(make: Callable) -> None:
    p = param([1.0, -2.0], dtype=np.float32)
    opt = make([p])
    for g in (G1, G2):
        p.grad = ag.tensor(np.array(g, dtype=np.float64))  # even a float64 gradient leaves p float32
        opt.step()
    assert p.data.dtype == np.float32
    for value in opt.state[0].values():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32
    # and the float32 run agrees with a float64 one to float32 precision
    q = param([1.0, -2.0])
    opt64 = make([q])
    for g in (G1, G2):
        set_grad(q, g)
        opt64.step()
    np.testing.assert_allclose(p.data, q.data, rtol=1e-6)


@pytest.mark.parametrize("make", OPTIMISERS.values(), ids=OPTIMISERS.keys())
def test_parameters_without_grad_are_skipped(make: Callable) -> None:
    a, b = param([1.0, 2.0]), param([3.0, 4.0])
    opt = make([a, b])
    set_grad(a, [1.0, 1.0])
    opt.step()
    close(b.data, [3.0, 4.0])
    assert opt.state[1] == {}
    assert not np.allclose(a.data, [1.0, 2.0])


def test_adam_counts_steps_per_parameter() -> None:
    a, b = param([1.0]), param([1.0])
    opt = optim.Adam([a, b], lr=0.1)
    set_grad(a, [1.0])
    opt.step()
    opt.step()
    set_grad(b, [1.0])
    a.grad = None
    opt.step()  # b's first step: a full lr * sign(g), bias-corrected with t = 1
    assert (opt.state[0]["step"], opt.state[1]["step"]) == (2, 1)
    np.testing.assert_allclose(b.data, [0.9], rtol=0, atol=1e-6)


@pytest.mark.parametrize("make", OPTIMISERS.values(), ids=OPTIMISERS.keys())
def test_updates_are_in_place(make: Callable) -> None:
    p = param([1.0, -2.0, 3.0])
    array = p.data
    view = p.data[1:]  # like a model's params dict sharing memory with its Parameters
    opt = make([p])
    set_grad(p, [1.0, 1.0, 1.0])
    opt.step()
    assert p.data is array
    assert np.shares_memory(view, p.data)
    np.testing.assert_array_equal(view, p.data[1:])
    assert p.data[1] != -2.0  # it moved


def test_step_does_not_record_a_graph_or_touch_the_gradient() -> None:
    p = param([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    set_grad(p, [1.0, -1.0])
    opt.step()
    opt.step()
    assert p.is_leaf and p.requires_grad
    close(p.grad.data, [1.0, -1.0])


def test_zero_grad_sets_gradients_to_none_or_zeros() -> None:
    model = nn.Linear(2, 1, generator=np.random.default_rng(0))
    opt = optim.SGD(model.parameters(), lr=0.1)
    model(ag.tensor([[1.0, 2.0]])).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    opt.zero_grad(set_to_none=False)
    for p in model.parameters():
        np.testing.assert_array_equal(p.grad.data, np.zeros(p.shape))
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model(ag.tensor([[1.0, 2.0]])).sum().backward()  # a fresh gradient, not an accumulated one
    close(model.weight.grad.data, [[1.0, 2.0]])


def test_hyperparameters_are_attributes_the_next_step_reads() -> None:
    p = param([1.0])
    opt = optim.SGD([p], lr=0.1)
    assert opt.lr == 0.1
    opt.lr = 0.5
    set_grad(p, [1.0])
    opt.step()
    close(p.data, [0.5])
    assert "lr=0.5" in repr(opt)


# ----------------------------------------------------------------------------- state dicts


def train_steps(opt: optim.Optimizer, model: nn.Module, steps: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x = rng.normal(size=(4, 2))
        opt.zero_grad()
        ((model(ag.tensor(x)) - 1.0) ** 2).mean().backward()
        opt.step()


@pytest.mark.parametrize("make", OPTIMISERS.values(), ids=OPTIMISERS.keys())
def test_state_dict_round_trip_gives_identical_next_steps(make: Callable) -> None:
    model_a = nn.Linear(2, 1, generator=np.random.default_rng(0))
    opt_a = make(list(model_a.parameters()))
    train_steps(opt_a, model_a, steps=3, seed=1)
    opt_a.lr = 0.05  # as a scheduler would

    model_b = nn.Linear(2, 1, generator=np.random.default_rng(99))
    model_b.load_state_dict(model_a.state_dict())
    opt_b = make(list(model_b.parameters()))
    opt_b.load_state_dict(opt_a.state_dict())
    assert opt_b.lr == 0.05

    train_steps(opt_a, model_a, steps=2, seed=2)
    train_steps(opt_b, model_b, steps=2, seed=2)
    for pa, pb in zip(model_a.parameters(), model_b.parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)


def test_state_dict_is_flat_numbers_and_array_copies() -> None:
    p = param([1.0, 2.0])
    opt = optim.Adam([p], lr=0.1)
    set_grad(p, [1.0, 1.0])
    opt.step()
    state = opt.state_dict()
    assert set(state) == {"lr", "betas", "eps", "weight_decay", "0.step", "0.exp_avg", "0.exp_avg_sq"}
    assert state["0.step"] == 1 and state["betas"] == (0.9, 0.999)
    close(state["0.exp_avg"], [0.1, 0.1])
    opt.step()
    close(state["0.exp_avg"], [0.1, 0.1])  # a snapshot: later steps do not change it

    other = optim.Adam([p], lr=0.1)
    other.load_state_dict(state)
    other.step()
    close(state["0.exp_avg"], [0.1, 0.1])  # and loading copies it: the restored optimiser's steps leave it alone
    assert other.state[0]["step"] == 2 and state["0.step"] == 1


def test_optimiser_state_survives_nn_save_and_load(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = nn.Linear(2, 1, generator=np.random.default_rng(0))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    train_steps(opt, model, steps=2, seed=1)
    nn.save(opt.state_dict(), tmp_path / "opt.npz")

    restored = optim.SGD(model.parameters(), lr=1.0)
    restored.load_state_dict(nn.load(tmp_path / "opt.npz"))
    assert (restored.lr, restored.momentum, restored.nesterov) == (0.1, 0.9, True)
    assert type(restored.lr) is float and type(restored.nesterov) is bool
    for a, b in zip(opt.state, restored.state):
        np.testing.assert_array_equal(a["momentum_buffer"], b["momentum_buffer"])


def test_load_state_dict_rejects_a_mismatched_state() -> None:
    opt = optim.SGD([param([1.0, 2.0])], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"shape \(3,\) but parameter 0 \(unnamed\) has shape \(2,\)"):
        opt.load_state_dict({**opt.state_dict(), "0.momentum_buffer": np.zeros(3)})
    with pytest.raises(ValueError, match="state for parameter 1, but this SGD has only 1 parameters"):
        opt.load_state_dict({**opt.state_dict(), "1.momentum_buffer": np.zeros(2)})
    with pytest.raises(KeyError, match=r"lacks hyperparameters \['momentum'"):
        opt.load_state_dict({"lr": 0.1})
    with pytest.raises(KeyError, match="unexpected key 'velocity'"):
        opt.load_state_dict({**opt.state_dict(), "velocity": 1.0})
    assert opt.state == [{}]  # nothing was written by the failed loads


# ----------------------------------------------------------------------------- schedulers


def lrs(scheduler: lr_scheduler.LRScheduler, epochs: int) -> list[float]:
    out = [scheduler.get_last_lr()[0]]
    for _ in range(epochs):
        scheduler.step()
        out.append(scheduler.get_last_lr()[0])
        assert scheduler.optimizer.lr == out[-1]
    return out


def test_step_lr_multiplies_by_gamma_every_step_size_epochs() -> None:
    opt = optim.SGD([param([1.0])], lr=0.1)
    scheduler = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    np.testing.assert_allclose(lrs(scheduler, 6), [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125], rtol=1e-15)


def test_cosine_annealing_follows_half_a_cosine() -> None:
    opt = optim.Adam([param([1.0])], lr=1.0)
    scheduler = lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    h = math.sqrt(2) / 2  # cos(pi / 4)
    np.testing.assert_allclose(lrs(scheduler, 4), [1.0, (1 + h) / 2, 0.5, (1 - h) / 2, 0.0], rtol=1e-12, atol=1e-15)

    opt = optim.SGD([param([1.0])], lr=1.0)
    scheduler = lr_scheduler.CosineAnnealingLR(opt, T_max=2, eta_min=0.2)
    np.testing.assert_allclose(lrs(scheduler, 2), [1.0, 0.2 + 0.8 * 0.5, 0.2], rtol=1e-12)


def test_scheduler_changes_the_lr_the_optimiser_steps_with() -> None:
    p = param([1.0])
    opt = optim.SGD([p], lr=0.1)
    scheduler = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    scheduler.step()
    set_grad(p, [1.0])
    opt.step()
    close(p.data, [1.0 - 0.05])


def test_scheduler_state_dict_resumes_the_schedule() -> None:
    opt = optim.SGD([param([1.0])], lr=0.1)
    scheduler = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        scheduler.step()
    resumed = lr_scheduler.StepLR(optim.SGD([param([1.0])], lr=0.1), step_size=2, gamma=0.5)
    resumed.load_state_dict(scheduler.state_dict())
    resumed.step()
    assert resumed.get_last_lr() == [0.025]  # epoch 4: 0.1 * 0.5 ** 2


# ----------------------------------------------------------------------------- validation


def p1() -> list[nn.Parameter]:
    return [param([1.0])]


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: optim.SGD(p1(), lr=-0.1), ValueError, r"SGD: invalid learning rate lr=-0.1; it must be >= 0"),
        (lambda: optim.SGD(p1(), lr=0.1, momentum=-0.5), ValueError, r"invalid momentum=-0.5; it must be >= 0"),
        (lambda: optim.SGD(p1(), lr=0.1, weight_decay=-1), ValueError, r"invalid weight_decay=-1; it must be >= 0"),
        (lambda: optim.SGD(p1(), lr=0.1, dampening=2), ValueError, r"invalid dampening=2; it must lie in \[0, 1\]"),
        (lambda: optim.SGD(p1(), lr=0.1, nesterov=True), ValueError, r"Nesterov momentum requires momentum > 0"),
        (
            lambda: optim.SGD(p1(), lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
            ValueError,
            r"requires momentum > 0 and dampening = 0, got momentum=0.9, dampening=0.1",
        ),
        (lambda: optim.Adam(p1(), lr=-1), ValueError, r"Adam: invalid learning rate lr=-1"),
        (lambda: optim.Adam(p1(), betas=(1.0, 0.999)), ValueError, r"invalid beta1=1.0 .* must lie in \[0, 1\)"),
        (lambda: optim.Adam(p1(), betas=(0.9, -0.1)), ValueError, r"invalid beta2=-0.1"),
        (lambda: optim.Adam(p1(), betas=(0.9,)), ValueError, r"betas must be a pair"),
        (lambda: optim.Adam(p1(), eps=0), ValueError, r"invalid eps=0; it must be > 0"),
        (lambda: optim.AdamW(p1(), weight_decay=-0.01), ValueError, r"AdamW: invalid weight_decay=-0.01"),
        (lambda: optim.SGD([], lr=0.1), ValueError, r"SGD got an empty parameter list"),
        (lambda: optim.Adam(iter([])), ValueError, r"Adam got an empty parameter list"),
        (lambda: optim.SGD(param([1.0]), lr=0.1), TypeError, r"iterable of parameters, got a single Tensor"),
        (lambda: optim.SGD([np.zeros(2)], lr=0.1), TypeError, r"can only optimise Tensors, parameter 0 is a ndarray"),
        (lambda: optim.SGD([param([1.0]) * 2], lr=0.1), ValueError, r"parameter 0 \(unnamed\): it is not a leaf"),
        (lambda: optim.SGD(p1() * 2, lr=0.1), ValueError, r"parameter 1 \(unnamed\) appears twice"),
        (lambda: lr_scheduler.StepLR(optim.SGD(p1(), lr=1), step_size=0), ValueError, r"step_size must be a positive"),
        (lambda: lr_scheduler.CosineAnnealingLR(optim.SGD(p1(), lr=1), T_max=0), ValueError, r"T_max must be"),
        (lambda: lr_scheduler.StepLR("sgd", step_size=1), TypeError, r"takes an optimiser such as optim.SGD"),
    ],
)
def test_invalid_settings_raise_clear_errors(build: Callable, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        build()


def test_a_model_generator_can_be_passed_once() -> None:
    model = nn.Linear(2, 1)
    params = model.parameters()
    optim.SGD(params, lr=0.1)
    with pytest.raises(ValueError, match="can only be used once"):
        optim.SGD(params, lr=0.1)


# ----------------------------------------------------------------------------- training


@pytest.mark.parametrize(
    ("make", "steps"),
    [
        (lambda ps: optim.SGD(ps, lr=0.1), 200),
        (lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True), 100),
        (lambda ps: optim.Adam(ps, lr=0.1), 200),
        (lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=1e-4), 200),
    ],
    ids=["sgd", "nesterov", "adam", "adamw"],
)
def test_optimisers_fit_a_linear_regression(make: Callable, steps: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 2))
    y = (3 * x[:, 0] + 2 * x[:, 1])[:, None]
    model = nn.Linear(2, 1, generator=rng)
    loss_fn = nn.MSELoss()
    opt = make(list(model.parameters()))
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(ag.tensor(x)), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-3 * losses[0]
    np.testing.assert_allclose(model.weight.data, [[3.0, 2.0]], atol=0.05)
    np.testing.assert_allclose(model.bias.data, [0.0], atol=0.05)
