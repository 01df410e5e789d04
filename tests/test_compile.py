"""autograd.compile: eager and compiled steps side by side for 100 steps, guards, and outside edits."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd as ag
import nn
from autograd.compiler import TraceError
from autograd.compiler.trace import strided
from nn.models import Net221, RegressionNet, TwoLayerNet, lenet
from nn.models.nielsen import Network

# Traces steps with autograd.compile (the benchmark through its compiled rows): the mutation check's
# wrapped backward would run inside a trace, so it leaves these tests out.
pytestmark = pytest.mark.no_mutation

STEPS = 100
RTOL = 1e-12


def close(a: Any, b: Any) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-300)


def assert_same_state(m1: nn.Module, m2: nn.Module) -> None:
    for (n1, p1), (_, p2) in zip(m1.named_parameters(), m2.named_parameters()):
        close(p1.data, p2.data)
        assert (p1.grad is None) == (p2.grad is None), n1
        if p1.grad is not None:
            close(p1.grad.data, p2.grad.data)


def run_side_by_side(make: Callable[[], tuple[nn.Module, Callable[..., Any]]], batches: Callable[[int], tuple]) -> Any:
    """Build two identical setups; run one eagerly and one compiled for STEPS steps, comparing everything."""
    eager_model, eager_step = make()
    model, step = make()
    compiled = ag.compile(step)
    for i in range(STEPS):
        args = batches(i)
        out_eager, out = eager_step(*args), compiled(*args)
        if isinstance(out_eager, dict):
            for k in out_eager:
                close(out_eager[k], out[k])
        else:
            close(out_eager.data, out.data)
        assert_same_state(eager_model, model)
    return compiled


def _training(model_fn: Callable[[], nn.Module], opt_fn: Callable[[Any], Any], loss_fn: nn.Module) -> Callable:
    def make() -> tuple[nn.Module, Callable[..., Any]]:
        model = model_fn()
        opt = opt_fn(model.parameters())

        def step(x: ag.Tensor, t: ag.Tensor) -> ag.Tensor:
            opt.zero_grad()
            loss = loss_fn(model(x), t)
            loss.backward()
            opt.step()
            return loss

        return model, step

    return make


def _data(n: int, d_in: int, d_out: int, seed: int = 1, classes: bool = False) -> Callable[[int], tuple]:
    rng = np.random.default_rng(seed)
    xs = [ag.Tensor(rng.normal(size=(n, d_in))) for _ in range(5)]
    if classes:
        ts = [ag.Tensor(rng.integers(0, d_out, size=n)) for _ in range(5)]
    else:
        ts = [ag.Tensor(rng.uniform(size=(n, d_out))) for _ in range(5)]
    return lambda i: (xs[i % 5], ts[i % 5])


OPTIMISERS = {
    "sgd": lambda ps: nn.optim.SGD(ps, lr=0.1),
    "momentum-wd": lambda ps: nn.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-3),
    "nesterov": lambda ps: nn.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": lambda ps: nn.optim.Adam(ps, lr=1e-2),
    "adamw": lambda ps: nn.optim.AdamW(ps, lr=1e-2),
}


@pytest.mark.parametrize("opt", list(OPTIMISERS))
def test_net221_matches_eager(opt: str) -> None:
    make = _training(lambda: Net221(generator=np.random.default_rng(4)), OPTIMISERS[opt], nn.MSELoss())
    step = run_side_by_side(make, _data(1, 2, 1))
    # the optimiser's arithmetic is in the program, its per-step numbers read afresh on each call
    assert "._rates(" in step.source and "step()" not in step.source


@pytest.mark.parametrize("opt", list(OPTIMISERS))
def test_regression_net_matches_eager(opt: str) -> None:
    make = _training(lambda: RegressionNet(generator=np.random.default_rng(1)), OPTIMISERS[opt], nn.MSELoss())
    run_side_by_side(make, _data(16, 2, 1))


@pytest.mark.parametrize("opt", list(OPTIMISERS))
def test_two_layer_net_trained_by_an_optimiser_matches_eager(opt: str) -> None:
    """The seeds' TwoLayerNet (sigmoid, softmax cross-entropy via its own loss) with each optimiser."""

    def make() -> tuple[nn.Module, Callable[..., Any]]:
        net = TwoLayerNet(784, 30, 10, generator=np.random.default_rng(0))
        return net, _training(lambda: net, OPTIMISERS[opt], nn.CrossEntropyLoss())()[1]

    run_side_by_side(make, _data(10, 784, 10, classes=True))


@pytest.mark.parametrize("opt", ["sgd", "nesterov", "adam"])
def test_sequential_mnist_net_matches_eager(opt: str) -> None:
    def model() -> nn.Module:
        ag.manual_seed(0)
        return nn.Sequential(nn.Linear(784, 50), nn.Sigmoid(), nn.Linear(50, 10))

    make = _training(model, OPTIMISERS[opt], nn.CrossEntropyLoss())
    run_side_by_side(make, _data(20, 784, 10, classes=True))


@pytest.mark.parametrize("opt", list(OPTIMISERS))
def test_nielsen_network_matches_eager(opt: str) -> None:
    make = _training(lambda: Network([4, 6, 3], generator=np.random.default_rng(3)), OPTIMISERS[opt],
                     nn.MSELoss())  # fmt: skip
    run_side_by_side(make, _data(8, 4, 3))


def test_two_layer_net_gradient_matches_eager() -> None:
    def make() -> tuple[nn.Module, Callable[..., Any]]:
        net = TwoLayerNet(784, 50, 10, generator=np.random.default_rng(0))

        def step(x: ag.Tensor, t: ag.Tensor) -> dict[str, np.ndarray]:
            grads = net.gradient(x, t)
            return grads

        return net, step

    data = _data(10, 784, 10, classes=True)
    eager_net, eager_step = make()
    net, step = make()
    compiled = ag.compile(step)
    for i in range(20):  # the seeds' loop: gradients from the net, the update by hand, outside the step
        g1, g2 = eager_step(*data(i)), compiled(*data(i))
        for key in g1:
            close(g1[key], g2[key])
            eager_net.params[key] -= 0.1 * g1[key]
            net.params[key] -= 0.1 * g2[key]
        assert_same_state(eager_net, net)


def test_hand_written_update_matches_eager() -> None:
    def make() -> tuple[nn.Module, Callable[..., Any]]:
        model = Net221(generator=np.random.default_rng(7))
        loss_fn = nn.MSELoss()

        def step(x: ag.Tensor, t: ag.Tensor) -> ag.Tensor:
            loss = loss_fn(model(x), t)
            loss.backward()
            with ag.no_grad():
                for p in model.parameters():
                    p -= 0.5 * p.grad
                    p.grad = None
            return loss

        return model, step

    step = run_side_by_side(make, _data(4, 2, 1))
    assert "-=" in step.source


def test_new_batch_size_traces_again() -> None:
    make = _training(lambda: Net221(generator=np.random.default_rng(4)), OPTIMISERS["sgd"], nn.MSELoss())
    _, step = make()
    compiled = ag.compile(step)
    x4, t4 = _data(4, 2, 1)(0)
    x8, t8 = _data(8, 2, 1)(0)
    compiled(x4, t4)
    first = compiled.source
    compiled(x8, t8)
    compiled(x4, t4)
    assert len(compiled._programs) == 2 and compiled.source == first


def _model_and_data() -> tuple[nn.Module, ag.Tensor]:
    return Net221(generator=np.random.default_rng(0)), ag.Tensor(np.ones((1, 2)))


@pytest.mark.parametrize("read", [lambda y: y.item(), lambda y: float(y), lambda y: bool(y > 0), print])
def test_reading_values_is_refused_naming_the_line(read: Callable[[Any], Any]) -> None:
    model, x = _model_and_data()

    @ag.compile
    def step(x: ag.Tensor) -> Any:
        y = model(x).sum()
        read(y)  # the line the error names
        return y

    with pytest.raises(TraceError, match=r"test_compile\.py:\d+: ") as info:
        step(x)
    assert "Return the tensor" in str(info.value)
    assert type(model.hidden.weight._data) is np.ndarray  # the tensors got their plain arrays back


def test_hooks_and_anomaly_are_refused() -> None:
    model, x = _model_and_data()

    @ag.compile
    def step(x: ag.Tensor) -> Any:
        y = model(x).sum()
        model.hidden.weight.register_hook(lambda g: g * 2)
        y.backward()
        return y

    with pytest.raises(TraceError, match="hook"):
        step(x)

    @ag.compile
    def step2(x: ag.Tensor) -> Any:
        with ag.detect_anomaly():
            return model(x).sum()

    with pytest.raises(TraceError, match="detect_anomaly"):
        step2(x)


def test_outside_edits_are_seen() -> None:
    make = _training(lambda: Net221(generator=np.random.default_rng(4)), OPTIMISERS["sgd"], nn.MSELoss())
    eager_model, eager_step = make()
    model, step = make()
    compiled = ag.compile(step)
    x, t = _data(2, 2, 1)(0)
    for _ in range(3):
        close(eager_step(x, t).data, compiled(x, t).data)
    with ag.no_grad():  # an in-place edit from outside
        eager_model.hidden.weight.mul_(0.5)
        model.hidden.weight.mul_(0.5)
    close(eager_step(x, t).data, compiled(x, t).data)
    state = {k: v * 0 + 0.3 for k, v in eager_model.state_dict().items()}
    eager_model.load_state_dict(state)
    model.load_state_dict(state)
    close(eager_step(x, t).data, compiled(x, t).data)
    assert_same_state(eager_model, model)


# ------------------------------------------------------------------ what a trace must not freeze


def _dropout_net() -> nn.Module:
    return nn.Sequential(nn.Linear(2, 4, generator=np.random.default_rng(0)), nn.Dropout(0.5))


@pytest.mark.parametrize("draw", ["dropout", "np.random", "autograd.randn", "random"])
def test_random_draws_are_refused_naming_the_line(draw: str) -> None:
    import random

    model, x = _dropout_net(), ag.Tensor(np.ones((3, 2)))
    before = (np.random.rand, random.random, ag.Generator.__dict__.get("random"))

    @ag.compile
    def step(x: ag.Tensor) -> Any:
        if draw == "dropout":
            y = model(x)  # the line the error names
        elif draw == "np.random":
            y = model[0](x) * ag.Tensor(np.random.rand(3, 4))  # the line the error names
        elif draw == "autograd.randn":
            y = model[0](x) + ag.randn(3, 4)  # the line the error names
        else:
            y = model[0](x) * random.random()  # the line the error names
        return y.sum()

    with pytest.raises(TraceError, match=r"random draw .*test_compile\.py:\d+: .*the line the error names") as info:
        step(x)
    assert "eval" in str(info.value) and "run this step eagerly" in str(info.value)
    assert (np.random.rand, random.random, ag.Generator.__dict__.get("random")) == before  # all put back
    if draw == "dropout":  # in eval mode dropout draws nothing: compiled, and equal to eager
        model.eval()
        close(step(x).data, model(x).sum().data)
        close(step(x).data, model(x).sum().data)


def test_a_plain_numpy_generator_is_refused() -> None:
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(2, 4, generator=rng), nn.Dropout(0.5, generator=rng))
    x = ag.Tensor(np.ones((3, 2)))
    with pytest.raises(TraceError, match=r"drew random numbers from model\.1\.generator.*eval"):
        ag.compile(lambda x: model(x).sum())(x)

    def noisy(x: ag.Tensor) -> Any:
        return nn.functional.dropout(model[0](x), 0.5, True, rng2).sum()

    rng2 = np.random.default_rng(1)
    with pytest.raises(TraceError, match="drew random numbers from rng2"):
        ag.compile(noisy)(x)


def test_number_arguments_are_part_of_the_signature() -> None:
    def make() -> tuple[nn.Module, Callable[..., Any]]:
        model = Net221(generator=np.random.default_rng(3))

        def step(x: ag.Tensor, t: ag.Tensor, lr: float = 0.1) -> ag.Tensor:
            loss = nn.MSELoss()(model(x), t)
            loss.backward()
            with ag.no_grad():
                for p in model.parameters():
                    p -= lr * p.grad
                    p.grad = None
            return loss

        return model, step

    eager_model, eager_step = make()
    model, step = make()
    compiled = ag.compile(step)
    x, t = _data(4, 2, 1)(0)
    for lr in (0.1, 0.5, 0.1, -0.0, 0.0):
        close(eager_step(x, t=t, lr=lr).data, compiled(x, t=t, lr=lr).data)  # a tensor keyword too
        assert_same_state(eager_model, model)
    assert len(compiled._programs) == 4  # 0.1, 0.5, -0.0 and 0.0 (0.1 again reuses its program)
    with pytest.raises(TraceError, match=r"argument lr= is an unhashable set"):
        compiled(x, t, lr={0.1})


def test_in_place_writes_bump_the_versions() -> None:
    model, x = Net221(generator=np.random.default_rng(0)), ag.Tensor(np.ones((2, 2)))
    opt = nn.optim.SGD([model.output.weight], lr=0.1)

    @ag.compile
    def step(x: ag.Tensor) -> ag.Tensor:
        loss = model(x).sum()
        loss.backward()
        with ag.no_grad():
            model.hidden.weight -= 0.1 * model.hidden.weight.grad  # hand-written: the program bumps it
            model.hidden.weight.grad = None
        opt.step()  # the optimiser bumps its own
        opt.zero_grad()
        return loss

    for _ in range(3):  # the tracing call, then replays
        old = model(x).sum()  # a graph that saved the weights
        v = model.hidden.weight._version
        step(x)
        assert model.hidden.weight._version == v + 1
        with pytest.raises(RuntimeError, match="modified by an in-place operation"):
            old.backward()
    assert "_bump(" in step.source


def test_numpy_of_a_traced_tensor_is_refused() -> None:
    model, x = _model_and_data()

    @ag.compile
    def step(x: ag.Tensor) -> Any:
        y = model(x).sum()
        y.numpy()  # the line the error names
        return y

    with pytest.raises(TraceError, match=r"\.numpy\(\) of a traced tensor at .*the line the error names"):
        step(x)
    assert ag.Tensor.numpy.__name__ == "numpy"


# ------------------------------------------------------------------ module modes are part of the guard


def test_train_eval_train_each_matches_eager() -> None:
    """BatchNorm1d normalises by the batch (and updates its running stats) in training, by the stats in eval."""

    def make() -> tuple[nn.Module, Callable[..., Any]]:
        ag.manual_seed(0)
        # no bias before BatchNorm: its gradient is 0 in training, round-off noise that no rtol can compare
        model = nn.Sequential(nn.Linear(3, 4, bias=False), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 1))
        opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x: ag.Tensor) -> ag.Tensor:
            opt.zero_grad()
            loss = (model(x) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        return model, step

    eager_model, eager_step = make()
    model, step = make()
    compiled = ag.compile(step)
    x = ag.Tensor(np.random.default_rng(0).normal(size=(5, 3)))
    for mode in ("train", "train", "eval", "eval", "train", "train", "eval"):
        eager_model.train(mode == "train")
        model.train(mode == "train")
        close(eager_step(x).data, compiled(x).data)
        assert_same_state(eager_model, model)
        for name in ("running_mean", "running_var"):
            close(getattr(eager_model[1], name).data, getattr(model[1], name).data)
    # one per mode, each reused, and the first step's own (it makes the momentum buffers)
    assert sum(len(p) for p in compiled._programs.values()) == 3


def test_dropout_mode_change_traces_again() -> None:
    """A step traced with dropout in eval mode must not replay once the model trains: it traces, and is refused."""
    model, x = _dropout_net(), ag.Tensor(np.ones((3, 2)))
    model.eval()
    step = ag.compile(lambda x: model(x).sum())
    for _ in range(2):
        close(step(x).data, model(x).sum().data)
    model.train()
    with pytest.raises(TraceError, match="random draw"):
        step(x)
    model[1].eval()  # a submodule's own flag counts too
    close(step(x).data, model(x).sum().data)


# ------------------------------------------------------------------ optimisers traced as numpy lines


def _same_optimizer_state(o1: Any, o2: Any) -> None:
    s1, s2 = o1.state_dict(), o2.state_dict()
    assert s1.keys() == s2.keys()
    for k in s1:
        if isinstance(s1[k], np.ndarray):
            close(s1[k], s2[k])
        else:
            assert s1[k] == s2[k], k


@pytest.mark.parametrize("opt", ["momentum-wd", "nesterov", "adam", "adamw"])
def test_optimizer_state_and_learning_rate_changes_match_eager(opt: str) -> None:
    """The step count, moments and momentum buffers stay eager's; a scheduler (or the user) changing lr between
    calls is read by the next call, without tracing again."""

    def make() -> tuple[nn.Module, Any, Any, Callable[..., Any]]:
        model = Net221(generator=np.random.default_rng(4))
        optimizer = OPTIMISERS[opt](model.parameters())
        scheduler = nn.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)
        return model, optimizer, scheduler, _training(lambda: model, lambda ps: optimizer, nn.MSELoss())()[1]

    eager_model, eager_opt, eager_sched, eager_step = make()
    model, optimizer, sched, step = make()
    compiled = ag.compile(step)
    batches = _data(3, 2, 1)
    for i in range(30):
        close(eager_step(*batches(i)).data, compiled(*batches(i)).data)
        assert_same_state(eager_model, model)
        _same_optimizer_state(eager_opt, optimizer)
        eager_sched.step()
        sched.step()
        if i == 17:
            eager_opt.param_groups[0]["lr"] = optimizer.param_groups[0]["lr"] = 0.2
    assert optimizer.param_groups[0]["lr"] != 0.2  # the scheduler kept halving it after the edit
    # the first step (which makes the state) and every later one: two programs, whatever lr did
    assert sum(len(p) for p in compiled._programs.values()) == 2


def test_changed_hyperparameter_or_reloaded_state_is_seen() -> None:
    """Momentum is fixed in a program (a change traces again); load_state_dict's new arrays are read next call."""

    def make() -> tuple[nn.Module, Any, Callable[..., Any]]:
        model = Net221(generator=np.random.default_rng(4))
        optimizer = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        return model, optimizer, _training(lambda: model, lambda ps: optimizer, nn.MSELoss())()[1]

    eager_model, eager_opt, eager_step = make()
    model, optimizer, step = make()
    compiled = ag.compile(step)
    batches = _data(3, 2, 1)
    saved = None
    for i in range(12):
        if i == 4:
            saved = eager_opt.state_dict()
        if i == 6:
            eager_opt.momentum = optimizer.momentum = 0.5
        if i == 9:
            eager_opt.load_state_dict(saved)
            optimizer.load_state_dict(saved)
        close(eager_step(*batches(i)).data, compiled(*batches(i)).data)
        assert_same_state(eager_model, model)
        _same_optimizer_state(eager_opt, optimizer)
    # first step, momentum 0.9, 0.5; the reload brings back 0.9, whose program is reused
    assert sum(len(p) for p in compiled._programs.values()) == 3


def test_python_arithmetic_on_a_per_step_number_is_refused() -> None:
    """An optimiser whose step() computes with its _rates() in Python would freeze the result: refused by name."""

    class HalfSGD(nn.optim.SGD):
        def step(self, closure: Any = None) -> None:
            for group in self.param_groups:
                for p in group["params"]:
                    (lr,) = self._rates(group, p)
                    p.data -= (lr / 2) * p.grad.data

    w = ag.tensor([1.0, 2.0], requires_grad=True)
    opt = HalfSGD([w], lr=0.1)

    def step() -> None:
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()

    with pytest.raises(TraceError, match=r"Python arithmetic on a number an optimiser reads afresh.*_rates\(\)"):
        ag.compile(step)()


# ------------------------------------------------------------------ the guard is the state the step starts from


def test_gradients_accumulate_across_calls_as_in_eager() -> None:
    """Without zero_grad, backward adds into the .grad the previous call left: the program traced with no grad
    there must not be replayed once there is one."""

    def make() -> tuple[ag.Tensor, Callable[..., Any]]:
        w = ag.tensor([1.0, 2.0], requires_grad=True)

        def step(x: ag.Tensor) -> ag.Tensor:
            (w * x).sum().backward()
            return w.grad * 1

        return w, step

    (w_eager, eager), (w, step) = make(), make()
    compiled = ag.compile(step)
    x = ag.tensor([3.0, 4.0])
    for n in range(1, 5):
        close(eager(x).data, compiled(x).data)
        close(w.grad.data, [3.0 * n, 4.0 * n])
        close(w_eager.grad.data, w.grad.data)
    assert sum(len(p) for p in compiled._programs.values()) == 2  # no grad yet, then a grad to add to


def test_a_step_that_zeroes_grads_first_needs_one_program() -> None:
    """zero_grad() before backward: whether a grad is there when the step starts does not matter, so it is not
    part of the guard, and the program does not read the old grads."""
    make = _training(lambda: Net221(generator=np.random.default_rng(4)), OPTIMISERS["sgd"], nn.MSELoss())
    model, step = make()
    compiled = ag.compile(step)
    x, t = _data(4, 2, 1)(0)
    for _ in range(3):
        compiled(x, t)
        for p in model.parameters():
            assert p.grad is not None
    model.hidden.weight.grad = None  # as after a user's zero_grad outside the step
    compiled(x, t)
    assert len(compiled._programs) == 1 and len(next(iter(compiled._programs.values()))) == 1
    assert "._grad._data" not in compiled.source


# ------------------------------------------------------------------ buffers


def test_buffers_are_shared_and_never_handed_out() -> None:
    """Large intermediate results are written into buffers made once, shared by values whose lifetimes do not
    overlap; a value the caller gets (here the hidden activations) is never one of them, so the next call
    leaves it as it was."""

    def make() -> tuple[nn.Module, Callable[..., Any]]:
        ag.manual_seed(0)
        model = nn.Sequential(nn.Linear(100, 40), nn.Sigmoid(), nn.Linear(40, 10))
        opt = nn.optim.SGD(model.parameters(), lr=0.1)
        loss_fn = nn.CrossEntropyLoss()

        def step(x: ag.Tensor, t: ag.Tensor) -> tuple[ag.Tensor, ag.Tensor]:
            opt.zero_grad()
            hidden = model[1](model[0](x))
            loss = loss_fn(model[2](hidden), t)
            loss.backward()
            opt.step()
            return loss, hidden

        return model, step

    (eager_model, eager), (model, step) = make(), make()
    compiled = ag.compile(step)
    batches = _data(64, 100, 10, classes=True)
    results = []
    for i in range(6):
        (eager_loss, eager_hidden), (loss, hidden) = eager(*batches(i)), compiled(*batches(i))
        close(eager_loss.data, loss.data)
        close(eager_hidden.data, hidden.data)
        assert_same_state(eager_model, model)
        results.append((hidden, hidden.data.copy()))
    for hidden, values in results:  # later calls did not write into what earlier calls returned
        np.testing.assert_array_equal(hidden.data, values)
    source = compiled.source
    written = source.count(", out=B")
    assert written >= 6 and "out=B1" in source and "B2:" not in source  # six results, two arrays


def test_numbers_become_arrays_of_the_dtype_numpy_would_use() -> None:
    """Python numbers in float32 arithmetic become 0-d float32 arrays (numpy converts them so); a numpy float64
    scalar stays float64: the values and dtypes are eager's, bit for bit."""

    def make() -> tuple[ag.Tensor, Callable[..., Any]]:
        w = ag.tensor(np.array([0.3, -1.2, 2.5], np.float32), requires_grad=True)

        def step(x: ag.Tensor) -> tuple[ag.Tensor, ag.Tensor]:
            w.grad = None
            y = (w * 0.1 + 1) / 3 - x * 0.7
            loss = (y * y).sum()
            loss.backward()
            with ag.no_grad():
                w.sub_(w.grad * 0.05)
            return loss, ag.tensor(x.data * np.float64(0.5))

        return w, step

    (w_eager, eager), (w, step) = make(), make()
    compiled = ag.compile(step)
    x = ag.tensor(np.array([1.5, 0.25, -2.0], np.float32))
    for _ in range(4):
        (eager_loss, eager_half), (loss, half) = eager(x), compiled(x)
        for a, b in ((eager_loss, loss), (eager_half, half), (w_eager, w), (w_eager.grad, w.grad)):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a.data, b.data)
    assert w.dtype == np.float32 and half.dtype == np.float64
    assert "ONE_FLOAT32" in compiled.source and "K_0_1_FLOAT32" in compiled.source


# ------------------------------------------------------------------ threads


def test_other_threads_run_plain_numpy_and_the_plain_engine_while_a_step_traces() -> None:
    """A trace swaps numpy's converters and parts of the engine process-wide; other threads must not notice:
    their hooks run, their values are plain arrays (even of a tensor being traced), and a second step's first
    call waits for the trace to end instead of failing."""
    started, release = threading.Event(), threading.Event()
    w = ag.tensor([1.0, 2.0], requires_grad=True)

    def step(x: ag.Tensor) -> ag.Tensor:
        w.grad = None
        y = (w * x).sum()
        started.set()
        release.wait(10)  # the trace is paused here while the main thread works
        y.backward()
        return y

    compiled = ag.compile(step)
    results: dict[str, Any] = {}
    tracer = threading.Thread(target=lambda: results.setdefault("first", compiled(ag.tensor([3.0, 4.0]))))
    tracer.start()
    assert started.wait(10)

    v = ag.tensor([1.0, -1.0], requires_grad=True)
    seen: list[np.ndarray] = []
    v.register_hook(lambda g: seen.append(g.data.copy()))
    (v * v).sum().backward()
    assert v.grad.tolist() == [2.0, -2.0] and len(seen) == 1
    doubled = w * 2  # w's array is being recorded by the other thread; here it is a plain value
    assert type(doubled.data) is np.ndarray and doubled.tolist() == [2.0, 4.0]
    assert type(np.asarray(w)) is np.ndarray

    other = ag.compile(lambda x: (x * 2).sum())
    done = threading.Event()
    second = threading.Thread(target=lambda: (results.setdefault("other", other(ag.tensor([1.5]))), done.set()))
    second.start()
    assert not done.wait(0.3)  # one trace records at a time: this one waits
    release.set()
    tracer.join(10)
    second.join(10)
    assert done.is_set() and results["other"].item() == 3.0
    assert results["first"].item() == 11.0 and w.grad.tolist() == [3.0, 4.0]
    release.set()
    assert compiled(ag.tensor([1.0, 1.0])).item() == 3.0 and w.grad.tolist() == [1.0, 1.0]  # the replay


def test_returned_tensors_require_grad_as_in_eager_and_backward_says_why_not() -> None:
    """A replay returns values, not a graph: a returned tensor requires grad where eager's did, and a backward
    that reaches it (from the first call or any later one) raises, saying what to do."""
    w = ag.tensor([1.0, 2.0], requires_grad=True)

    @ag.compile
    def step(x: ag.Tensor) -> tuple[ag.Tensor, ag.Tensor]:
        return (w * x).sum(), x * 2

    x = ag.tensor([3.0, 4.0])
    for _ in range(3):
        loss, doubled = step(x)
        assert loss.item() == 11.0 and loss.requires_grad and not doubled.requires_grad
        with pytest.raises(RuntimeError, match=r"compiled step .* call backward\(\) inside the step"):
            (loss * 3).backward()
        assert w.grad is None


# ------------------------------------------------------------------ numbers the step reads are checked


def test_changed_numbers_the_step_reads_trace_again() -> None:
    """A number from a closure, a global or a layer's settings is built into the program: a change is seen by
    the next call (it traces again), so the values stay eager's."""

    def make() -> tuple[nn.Module, Callable[..., Any], dict[str, Any]]:
        ag.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 4, bias=False), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 1))
        settings = {"lr": 0.1}

        def step(x: ag.Tensor) -> ag.Tensor:
            for p in model.parameters():
                p.grad = None
            loss = (model(x) ** 2).mean()
            loss.backward()
            with ag.no_grad():
                for p in model.parameters():
                    p -= settings["lr"] * p.grad
            return loss

        return model, step, settings

    (eager_model, eager, eager_settings), (model, step, settings) = make(), make()
    compiled = ag.compile(step)
    x = ag.Tensor(np.random.default_rng(0).normal(size=(5, 3)))
    for i in range(8):
        if i == 3:
            eager_settings["lr"] = settings["lr"] = 0.05
        if i == 5:
            eager_model[1].momentum = model[1].momentum = 0.5
        close(eager(x).data, compiled(x).data)
        assert_same_state(eager_model, model)
        close(eager_model[1].running_mean.data, model[1].running_mean.data)
    assert sum(len(p) for p in compiled._programs.values()) == 3


def test_a_step_that_changes_a_number_it_reads_warns_saying_which() -> None:
    """A counter the step reads and bumps changes on every call: each call traces again, until the cache is full;
    then the step runs eagerly (right values), and the warning names the number."""

    class Counter:
        def __init__(self) -> None:
            self.calls = 0

    def make() -> tuple[Counter, Callable[..., Any]]:
        counter, w = Counter(), ag.tensor([1.0, 2.0], requires_grad=True)

        def step(x: ag.Tensor) -> ag.Tensor:
            counter.calls += 1
            return (w * x * counter.calls).sum()

        return counter, step

    (eager_counter, eager), (counter, step) = make(), make()
    compiled = ag.compile(step, cache_limit=3)
    x = ag.tensor([3.0, 4.0])
    with pytest.warns(UserWarning, match=r"assumed counter\.calls is 2, which no longer holds.*pass the number"):
        for _ in range(6):
            close(eager(x).data, compiled(x).data)
    assert counter.calls == eager_counter.calls == 6


def test_a_step_that_appends_to_a_list_is_not_replayed_without_it() -> None:
    """Appending to a list happens in Python, which a replay does not run: the list's length is part of the guard,
    so the step traces (and appends) each call, then runs eagerly, and the list is eager's."""
    history: list[ag.Tensor] = []
    w = ag.tensor([1.0, 2.0], requires_grad=True)

    def step(x: ag.Tensor) -> ag.Tensor:
        loss = (w * x).sum()
        history.append(loss)
        return loss

    compiled = ag.compile(step, cache_limit=2)
    with pytest.warns(UserWarning, match=r"history has 1 items"):
        for _ in range(4):
            compiled(ag.tensor([3.0, 4.0]))
    assert len(history) == 4


def test_a_refused_call_changes_nothing() -> None:
    """The first call runs the step while tracing, so a refusal can come after the update; the call is undone, so
    running the step eagerly next does not update twice."""

    def make() -> tuple[nn.Module, Any, Callable[..., Any]]:
        model = Net221(generator=np.random.default_rng(4))
        optimizer = nn.optim.Adam(model.parameters(), lr=0.01)

        def step(x: ag.Tensor, t: ag.Tensor, log: bool) -> float | None:
            optimizer.zero_grad()
            loss = nn.MSELoss()(model(x), t)
            loss.backward()
            optimizer.step()
            return loss.item() if log else None  # .item() after the update: refused, after the step ran

        return model, optimizer, step

    x, t = _data(3, 2, 1)(0)
    (eager_model, eager_opt, eager), (model, optimizer, step) = make(), make()
    compiled = ag.compile(step)
    eager(x, t, False)
    compiled(x, t, False)
    with pytest.raises(TraceError, match=r"\.item\(\).*This call was undone"):
        compiled(x, t, True)
    step(x, t, True)  # the same step, eagerly: the one update it makes is the only one
    eager(x, t, True)
    assert_same_state(eager_model, model)
    _same_optimizer_state(eager_opt, optimizer)


@pytest.mark.parametrize("create_graph", [False, True])
def test_autograd_grad_inside_the_step_matches_eager(create_graph: bool) -> None:
    """autograd.grad inside the step is traced like backward; with create_graph, so is the backward of the
    gradient (a gradient penalty: second derivatives in the program)."""

    def make() -> tuple[ag.Tensor, Callable[..., Any]]:
        w = ag.tensor(np.random.default_rng(2).normal(size=(3, 2)), requires_grad=True)

        def step(x: ag.Tensor) -> ag.Tensor:
            loss = (x @ w).tanh().pow(2).mean()
            (gw,) = ag.grad(loss, [w], create_graph=create_graph)
            if create_graph:
                w.grad = None
                penalty = loss + 0.1 * (gw * gw).sum()
                penalty.backward()
                gw = w.grad
            with ag.no_grad():
                w.sub_(0.5 * gw)
            return loss

        return w, step

    (w_eager, eager), (w, step) = make(), make()
    compiled = ag.compile(step)
    x = ag.tensor(np.random.default_rng(3).normal(size=(4, 3)))
    for _ in range(20):
        close(eager(x).data, compiled(x).data)
        close(w_eager.data, w.data)
    assert sum(len(p) for p in compiled._programs.values()) <= 2


def test_each_thread_runs_its_own_program() -> None:
    """A program's buffers are rewritten on every call, so two threads must not share one: each traces its own,
    and concurrent calls with different inputs give each thread its own answers."""
    ag.manual_seed(0)
    layer = nn.Linear(100, 64)
    step = ag.compile(lambda x: (layer(x).sigmoid() * 2).exp().sum(dim=1))
    inputs = {k: ag.tensor(np.random.default_rng(k).normal(size=(32, 100))) for k in range(2)}
    expected = {k: (layer(x).sigmoid() * 2).exp().sum(dim=1).data for k, x in inputs.items()}
    failures: list[str] = []
    together = threading.Barrier(2, timeout=30)  # both alive at once (a finished thread's id can be reused)

    def work(k: int) -> None:
        together.wait()
        for _ in range(200):
            got = step(inputs[k]).data
            if not np.allclose(got, expected[k], rtol=1e-12):
                failures.append(f"thread {k} got another thread's values")
                break
        together.wait()

    threads = [threading.Thread(target=work, args=(k,)) for k in inputs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not failures
    assert "out=B" in step.source and sum(len(p) for p in step._programs.values()) == 2


# ------------------------------------------------------------------ arrays made or viewed inside the step


@pytest.mark.parametrize("batch_norm", [False, True])
def test_a_convolutional_net_matches_eager(batch_norm: bool) -> None:
    """Convolution and pooling make arrays (padding, im2col work arrays, np.zeros for col2im) and strided views
    (as_strided) of traced values; each is recorded, so the replays follow new inputs."""

    def make() -> tuple[nn.Module, Callable[..., Any]]:
        ag.manual_seed(0)
        model = lenet(batch_norm=batch_norm)
        return model, _training(lambda: model, lambda ps: nn.optim.SGD(ps, lr=0.05, momentum=0.9),
                                nn.CrossEntropyLoss())()[1]  # fmt: skip

    rng = np.random.default_rng(0)
    batches = [(ag.Tensor(rng.normal(size=(6, 1, 28, 28))), ag.Tensor(rng.integers(0, 10, 6))) for _ in range(3)]
    (eager_model, eager), (model, step) = make(), make()
    compiled = ag.compile(step)
    for i in range(6):
        eager_loss, loss = eager(*batches[i % 3]), compiled(*batches[i % 3])
        if not batch_norm:
            close(eager_loss.data, loss.data)
            assert_same_state(eager_model, model)
        else:  # float32 (lenet's dtype), and the conv biases before BatchNorm get round-off noise as gradient
            np.testing.assert_allclose(eager_loss.data, loss.data, rtol=1e-5)
            for p1, p2 in zip(eager_model.parameters(), model.parameters()):
                np.testing.assert_allclose(p1.data, p2.data, rtol=1e-5, atol=1e-6)
    assert sum(len(p) for p in compiled._programs.values()) == 2  # the first step, then the momentum steps


def test_writes_into_arrays_made_in_the_step_follow_new_values() -> None:
    """x[index] = v with an index given to the step: its backward marks the written places in an array it makes
    (np.ones, then a write at the index); the program must write at the new index on each call."""
    w = ag.tensor(np.arange(1.0, 7.0), requires_grad=True)

    def step(index: ag.Tensor) -> ag.Tensor:
        w.grad = None
        y = w * 1.0
        y[index] = 0.0
        (y * y).sum().backward()
        return w.grad * 1.0

    compiled = ag.compile(step)
    for index in ([0, 1], [4, 5], [2, 3]):
        got = compiled(ag.tensor(index)).data
        expected = 2 * np.arange(1.0, 7.0)
        expected[index] = 0.0
        np.testing.assert_array_equal(got, expected)


def test_an_array_a_layer_keeps_from_a_traced_call_is_an_outside_array_later() -> None:
    """A layer that makes an array on its first call (np.ones here) and keeps it: made while tracing, it is one
    of the trace's arrays; a later trace (a new batch size) must read it as the outside array it now is."""

    class Scaled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(3, 2)
            self.scale: np.ndarray | None = None

        def forward(self, x: ag.Tensor) -> ag.Tensor:
            if self.scale is None:
                self.scale = np.ones(2) * 0.5
            return self.linear(x) * ag.Tensor(self.scale)

    def make() -> tuple[nn.Module, Callable[..., Any]]:
        ag.manual_seed(0)
        model = Scaled()
        return model, _training(lambda: model, OPTIMISERS["sgd"], nn.MSELoss())()[1]

    (eager_model, eager), (model, step) = make(), make()
    compiled = ag.compile(step)
    for n in (4, 4, 5, 5, 4):
        x, t = _data(n, 3, 2)(n)
        close(eager(x, t).data, compiled(x, t).data)
        assert_same_state(eager_model, model)


def test_an_argument_in_another_memory_layout_gives_the_same_convolution() -> None:
    """The program views its input with the strides of the traced call; an input laid out otherwise (Fortran
    order, same shape and dtype, so the same program) is read through a C-ordered copy, giving eager's values."""
    ag.manual_seed(0)
    conv = nn.Conv2d(1, 2, 3)
    x = np.random.default_rng(0).normal(size=(2, 1, 6, 6))
    c_order, fortran = ag.Tensor(x), ag.Tensor(np.asfortranarray(x))
    assert not fortran.data.flags.c_contiguous
    for first, then in ((c_order, fortran), (fortran, c_order)):
        step = ag.compile(lambda x: conv(x).sum(dim=(1, 2, 3)))
        step(first)
        close(step(then).data, conv(then).sum(dim=(1, 2, 3)).data)
        assert sum(len(p) for p in step._programs.values()) == 1

    strided = ag.Tensor(np.random.default_rng(1).normal(size=(2, 1, 12, 6))[:, :, ::2])  # neither C nor F
    step = ag.compile(lambda x: conv(x).sum(dim=(1, 2, 3)))
    step(c_order)
    close(step(strided).data, conv(strided).sum(dim=(1, 2, 3)).data)


def test_a_strided_view_of_a_base_in_no_contiguous_layout_is_a_clear_error() -> None:
    """Where the traced layout cannot be made again by a copy, the replay says so rather than read wrong memory."""
    traced = np.zeros((4, 6))[:, ::2]  # strides (48, 16): neither C nor F order
    view = strided(traced, (2, 3), traced.strides, traced.strides)
    assert view.shape == (2, 3)
    with pytest.raises(ValueError, match=r"strides \(24, 8\), not \(48, 16\) as when traced .*ascontiguousarray"):
        strided(np.zeros((4, 3)), (2, 3), traced.strides, traced.strides)
