"""Porting PyTorch scripts: Module API (to, buffers, apply, state dicts), containers, param groups, legacy loss
keywords and the DataLoader's PyTorch arguments.

Every expected value is worked out by hand or with numpy in the test.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from autograd import Tensor
from autograd.device import device
from nn import optim
from nn.optim import lr_scheduler


class Net(nn.Module):
    """fc (2 -> 1) plus a float buffer, an integer buffer and a non-persistent one."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 1, generator=np.random.default_rng(0))
        self.register_buffer("running", np.array([1.0, 2.0]))
        self.register_buffer("count", ag.tensor(np.array([3], dtype=np.int64)))
        self.register_buffer("scratch", np.zeros(1), persistent=False)

    def forward(self, x: Any) -> ag.Tensor:
        return self.fc(x)


def param(values: list[float]) -> nn.Parameter:
    return nn.Parameter(np.array(values))


def set_grad(p: nn.Parameter, values: list[float]) -> None:
    p.grad = ag.tensor(np.array(values, dtype=p.dtype))


# ----------------------------------------------------------------------------- traversal


def test_named_modules_yields_self_first_and_a_shared_module_once() -> None:
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert [name for name, _ in model.named_modules()] == ["", "0", "1"]
    assert next(model.named_modules())[1] is model
    assert [name for name, _ in model.named_modules(remove_duplicate=False)] == ["", "0", "1", "2"]
    assert [name for name, _ in model.named_children()] == ["0", "1"]
    assert [name for name, _ in model.named_modules(prefix="net")] == ["net", "net.0", "net.1"]


def test_apply_visits_children_first_then_self_and_returns_self() -> None:
    model = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU(), nn.Tanh()))
    seen: list[str] = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "ReLU", "Tanh", "Sequential", "Sequential"]


def test_apply_initialises_weights_as_in_pytorch_scripts() -> None:
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))

    def init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)
            nn.init.zeros_(m.bias)

    model.apply(init_weights)
    out = model(ag.tensor(np.array([[1.0, 2.0, 3.0]])))
    np.testing.assert_array_equal(out.data, [[0.5 * 3.0 + 0.5 * 3.0]])  # hidden = [3, 3]


def test_requires_grad_false_freezes_every_parameter() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    assert model.requires_grad_(False) is model
    assert [p.requires_grad for p in model.parameters()] == [False] * 4
    model.requires_grad_()
    assert all(p.requires_grad for p in model.parameters())


def test_module_zero_grad_sets_none_or_zeros_in_place() -> None:
    model = nn.Linear(2, 1)
    model(ag.tensor(np.array([[1.0, 2.0]]))).sum().backward()
    grad = model.weight.grad
    model.zero_grad(set_to_none=False)
    assert model.weight.grad is grad
    np.testing.assert_array_equal(grad.data, [[0.0, 0.0]])
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None


# ----------------------------------------------------------------------------- buffers


def test_buffers_are_registered_and_persistent_ones_are_in_the_state_dict() -> None:
    model = Net()
    assert [name for name, _ in model.named_buffers()] == ["running", "count", "scratch"]
    assert isinstance(model.running, ag.Tensor) and model.running.data.tolist() == [1.0, 2.0]
    assert len(list(model.buffers())) == 3
    assert list(model.state_dict()) == ["running", "count", "fc.weight", "fc.bias"]  # own buffers, then children
    nested = nn.Sequential(Net())
    assert list(nested.state_dict()) == ["0.running", "0.count", "0.fc.weight", "0.fc.bias"]
    assert [name for name, _ in nested.named_buffers()] == ["0.running", "0.count", "0.scratch"]


def test_assigning_to_a_buffer_keeps_it_a_buffer() -> None:
    model = Net()
    model.running = ag.tensor([5.0, 6.0])
    assert model.state_dict()["running"].tolist() == [5.0, 6.0]
    model.running = np.array([7.0, 8.0])  # a numpy array is wrapped
    assert isinstance(model.running, ag.Tensor) and model.state_dict()["running"].tolist() == [7.0, 8.0]
    with pytest.raises(TypeError, match=r"cannot assign 'float' object to buffer 'running'"):
        model.running = 3.0
    del model.running
    assert "running" not in model.state_dict()


@pytest.mark.parametrize(
    ("name", "value", "error", "match"),
    [
        ("fc", np.zeros(1), KeyError, "attribute 'fc' already exists"),
        ("a.b", np.zeros(1), KeyError, r'buffer name must not contain ".", got a.b'),
        ("", np.zeros(1), KeyError, "buffer name must not be empty"),
        (3, np.zeros(1), TypeError, "buffer name should be a string, got int"),
        ("x", [1.0], TypeError, r"cannot assign 'list' object to buffer 'x' \(Tensor, numpy array or None"),
    ],
)
def test_register_buffer_refuses_bad_names_and_values(name: Any, value: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        Net().register_buffer(name, value)


def test_buffers_load_from_a_state_dict_and_survive_save_and_load(tmp_path: Path) -> None:
    source, target = Net(), Net()
    source.running.data[...] = [10.0, 20.0]
    source.count.data[...] = 7
    nn.save(source, tmp_path / "net.npz")
    target.load_state_dict(nn.load(tmp_path / "net.npz"))
    assert target.running.data.tolist() == [10.0, 20.0]
    assert target.count.data.tolist() == [7] and target.count.dtype == np.int64
    with pytest.raises(TypeError, match=r"buffer 'count'.*dtype float64, which cannot be cast.*int64"):
        target.load_state_dict({**target.state_dict(), "count": np.array([1.5])})


# ----------------------------------------------------------------------------- dtype and device


def test_to_float32_converts_in_place_keeping_each_parameter_object() -> None:
    model = Net()
    weight, bias = model.fc.weight, model.fc.bias
    expected = weight.data.astype(np.float32)
    opt = optim.SGD(model.parameters(), lr=0.5)
    model(ag.tensor(np.array([[1.0, 1.0]]))).sum().backward()
    assert model.to(np.float32) is model
    assert model.fc.weight is weight and model.fc.bias is bias
    assert opt.param_groups[0]["params"] == [weight, bias]
    assert weight.dtype == np.float32 and weight.grad.dtype == np.float32
    np.testing.assert_array_equal(weight.data, expected)
    assert model.running.dtype == np.float32 and model.scratch.dtype == np.float32
    assert model.count.dtype == np.int64  # integer buffers keep their dtype
    opt.step()  # the optimiser still updates the model's parameters: grad of sum(x @ w.T + b) is x = [1, 1]
    np.testing.assert_allclose(weight.data, expected - np.float32(0.5), rtol=1e-6)
    assert weight.dtype == np.float32


@pytest.mark.parametrize(
    ("call", "dtype"),
    [
        (lambda m: m.to(np.float32), np.float32),
        (lambda m: m.to(dtype=np.float32), np.float32),
        (lambda m: m.to("cpu", np.float32), np.float32),
        (lambda m: m.to(device("cpu"), dtype=np.dtype("float32")), np.float32),
        (lambda m: m.to(ag.tensor(np.zeros(1, dtype=np.float32))), np.float32),
        (lambda m: m.float(), np.float32),
        (lambda m: m.half(), np.float16),
        (lambda m: m.to(np.float32).double(), np.float64),
        (lambda m: m.to("cpu"), np.float64),
        (lambda m: m.to(device=device("cpu")), np.float64),
        (lambda m: m.cpu(), np.float64),
    ],
)
def test_to_accepts_dtypes_devices_and_tensors(call: Any, dtype: type) -> None:
    model = Net()
    assert call(model) is model
    assert model.fc.weight.dtype == dtype and model.running.dtype == dtype


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m: m.to("cuda"), RuntimeError, r"device 'cuda' is not available"),
        (lambda m: m.to("mps", np.float32), RuntimeError, r"device 'mps' is not available"),
        (lambda m: m.cuda(), RuntimeError, r"device 'cuda' is not available"),
        (lambda m: m.to(np.int64), TypeError, r"only accepts floating-point dtypes, but got desired dtype=int64"),
        (lambda m: m.to(ag.tensor(np.zeros(1, dtype=np.int32))), TypeError, r"dtype=int32"),
        (lambda m: m.to(3.5), TypeError, r"to\(\) takes a dtype, a device or a tensor, got 3.5"),
        (lambda m: m.to(memory_format=None), TypeError, r"unexpected keyword arguments \['memory_format'\]"),
    ],
)
def test_to_refuses_other_devices_and_non_float_dtypes(call: Any, error: type, match: str) -> None:
    model = Net()
    with pytest.raises(error, match=match):
        call(model)
    assert model.fc.weight.dtype == np.float64  # nothing converted


# ----------------------------------------------------------------------------- state dicts


def test_state_dict_shares_memory_with_the_parameters() -> None:
    model = nn.Linear(2, 1, generator=np.random.default_rng(0))
    state = model.state_dict()
    assert isinstance(state["weight"], Tensor) and not state["weight"].requires_grad
    assert state["weight"].data is model.weight.data  # detached, sharing memory, as in PyTorch
    snapshot = {k: v.clone() for k, v in model.state_dict().items()}
    deep = copy.deepcopy(model.state_dict())
    before = model.weight.data.copy()
    opt = optim.SGD(model.parameters(), lr=0.1)
    model.weight.grad = np.array([[1.0, -1.0]])
    opt.step()
    np.testing.assert_array_equal(state["weight"], before - [[0.1, -0.1]])  # sees the step
    np.testing.assert_array_equal(snapshot["weight"], before)  # the copies do not
    np.testing.assert_array_equal(deep["weight"], before)


def test_state_dict_keep_vars_and_prefix() -> None:
    model = nn.Linear(2, 1)
    kept = model.state_dict(keep_vars=True)
    assert kept["weight"] is model.weight and kept["bias"] is model.bias
    assert list(model.state_dict(prefix="head.")) == ["head.weight", "head.bias"]


def test_a_shared_module_is_in_the_state_dict_under_every_path() -> None:
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, shared)
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert len(list(model.parameters())) == 2
    model.load_state_dict(model.state_dict())


def test_loading_a_models_own_state_dict_leaves_it_unchanged() -> None:
    model = Net()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(model.state_dict())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_loading_a_state_that_swaps_a_models_own_arrays_reads_every_value_before_writing() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    state = model.state_dict()
    first, second = state["0.weight"].clone(), state["1.weight"].clone()
    swapped = {**state, "0.weight": state["1.weight"], "1.weight": state["0.weight"][:, :]}  # a view, too
    model.load_state_dict(swapped)
    np.testing.assert_array_equal(model[0].weight.data, second)
    np.testing.assert_array_equal(model[1].weight.data, first)


def test_deepcopy_of_a_model_is_independent() -> None:
    model = Net()
    twin = copy.deepcopy(model)
    twin.fc.weight.data[...] = 0.0
    twin.running.data[...] = 0.0
    assert not np.all(model.fc.weight.data == 0) and model.running.data.tolist() == [1.0, 2.0]
    assert [n for n, _ in twin.named_parameters()] == ["fc.weight", "fc.bias"]


# ----------------------------------------------------------------------------- containers


def test_module_list_registers_children_by_position() -> None:
    class Stack(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList(nn.Linear(2, 2) for _ in range(2))

        def forward(self, x: Any) -> Any:
            for layer in self.layers:
                x = layer(x)
            return x

    model = Stack()
    assert [n for n, _ in model.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
    ]  # fmt: skip
    x = np.array([[1.0, -1.0]])
    first, second = model.layers
    expected = (x @ first.weight.data.T + first.bias.data) @ second.weight.data.T + second.bias.data
    np.testing.assert_allclose(model(ag.tensor(x)).data, expected, rtol=1e-15)


def test_module_list_behaves_as_a_list() -> None:
    a, b, c, d = nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.Identity()
    modules = nn.ModuleList([a, b])
    assert modules.append(c) is modules
    modules.insert(0, d)  # d a b c
    assert list(modules) == [d, a, b, c] and len(modules) == 4
    assert modules[-1] is c and modules[1] is a
    assert [name for name, _ in modules.named_children()] == ["0", "1", "2", "3"]
    part = modules[1:3]
    assert isinstance(part, nn.ModuleList) and list(part) == [a, b]
    assert [name for name, _ in part.named_children()] == ["0", "1"]
    del modules[0]  # a b c, renumbered
    assert list(modules) == [a, b, c] and list(dict(modules.named_children())) == ["0", "1", "2"]
    modules[1] = d  # a d c
    assert list(modules) == [a, d, c]
    modules.extend([b])
    modules += [nn.ReLU()]
    assert len(modules) == 5 and modules.pop(0) is a and len(modules) == 4
    with pytest.raises(IndexError, match="index 9 is out of range for a ModuleList of length 4"):
        modules[9]
    with pytest.raises(TypeError, match="ModuleList takes Modules, append\\(\\) is a int"):
        modules.append(3)
    with pytest.raises(TypeError, match="iterable of Modules, got a single ReLU"):
        nn.ModuleList(nn.ReLU())


def test_module_dict_behaves_as_a_dict() -> None:
    relu, fc = nn.ReLU(), nn.Linear(2, 3)
    heads = nn.ModuleDict({"act": relu, "fc": fc})
    assert list(heads) == ["act", "fc"] and list(heads.keys()) == ["act", "fc"]
    assert heads["fc"] is fc and "act" in heads and len(heads) == 2
    assert list(heads.values()) == [relu, fc] and list(heads.items()) == [("act", relu), ("fc", fc)]
    assert [n for n, _ in heads.named_parameters()] == ["fc.weight", "fc.bias"]
    tanh = nn.Tanh()
    heads["act"] = tanh  # replaced in place: the order is kept
    assert list(heads.items()) == [("act", tanh), ("fc", fc)]
    heads.update([("out", nn.Identity())])
    assert list(heads) == ["act", "fc", "out"]
    assert heads.pop("act") is tanh and list(heads) == ["fc", "out"]
    del heads["out"]
    assert list(heads) == ["fc"]
    with pytest.raises(KeyError, match="missing"):
        heads["missing"]
    with pytest.raises(KeyError, match="attribute 'keys' already exists"):
        nn.ModuleDict({"keys": nn.ReLU()})
    with pytest.raises(TypeError, match="ModuleDict takes Modules, 'x' is a int"):
        heads["x"] = 3
    heads.clear()
    assert len(heads) == 0 and list(heads.parameters()) == []


def test_sequential_takes_an_ordered_dict_and_slices_keep_the_names() -> None:
    fc, act, out = nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)
    model = nn.Sequential(OrderedDict([("fc", fc), ("act", act), ("out", out)]))
    assert [n for n, _ in model.named_parameters()] == ["fc.weight", "fc.bias", "out.weight", "out.bias"]
    assert model.fc is fc and model[-1] is out
    tail = model[1:]
    assert isinstance(tail, nn.Sequential) and [n for n, _ in tail.named_children()] == ["act", "out"]
    x = np.array([[1.0, -2.0]])
    hidden = np.maximum(x @ fc.weight.data.T + fc.bias.data, 0)
    np.testing.assert_allclose(model(ag.tensor(x)).data, hidden @ out.weight.data.T + out.bias.data, rtol=1e-15)
    with pytest.raises(TypeError, match="Sequential takes Modules, argument 0 is a dict"):
        nn.Sequential({"fc": fc})


def test_sequential_append_setitem_and_del_as_in_pytorch() -> None:
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    model = nn.Sequential(a, b)
    assert model.append(c) is model and list(model) == [a, b, c]
    model[0] = nn.Identity()
    assert [type(m).__name__ for m in model] == ["Identity", "Tanh", "Sigmoid"]
    del model[0]  # the rest are renumbered
    assert [(n, m) for n, m in model.named_children()] == [("0", b), ("1", c)]


def test_identity_and_flatten_of_a_numpy_array() -> None:
    x = np.arange(24.0).reshape(2, 3, 4)
    assert nn.Identity(54, unused="argument")(x) is x
    flat = nn.Flatten()(x)
    assert isinstance(flat, ag.Tensor) and flat.shape == (2, 12)
    np.testing.assert_array_equal(flat.data, x.reshape(2, 12))
    np.testing.assert_array_equal(nn.Flatten(0, 1)(x).data, x.reshape(6, 4))


# ----------------------------------------------------------------------------- param groups


def test_param_groups_hold_params_and_every_hyperparameter() -> None:
    p, q = param([1.0, 2.0]), param([3.0])
    opt = optim.SGD([{"params": [p]}, {"params": q, "lr": 0.5, "tag": "head"}], lr=0.1, momentum=0.9)
    assert len(opt.param_groups) == 2
    first, second = opt.param_groups
    assert first["params"] == [p] and second["params"] == [q]
    expected = {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False}
    assert {k: v for k, v in first.items() if k != "params"} == expected
    assert {k: v for k, v in second.items() if k != "params"} == {**expected, "lr": 0.5, "tag": "head"}
    assert opt.defaults == expected


def test_step_uses_each_groups_settings() -> None:
    p, q = param([1.0, 2.0]), param([3.0])
    opt = optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.5, "momentum": 0.0}], lr=0.1, momentum=0.9)
    set_grad(p, [1.0, -1.0])
    set_grad(q, [2.0])
    opt.step()  # p: buf = g, p - 0.1 g; q: plain SGD at lr 0.5
    np.testing.assert_allclose(p.data, [0.9, 2.1], rtol=1e-15)
    np.testing.assert_allclose(q.data, [2.0], rtol=1e-15)
    opt.step()  # p: buf = 0.9 g + g = 1.9 g; q: the same gradient again
    np.testing.assert_allclose(p.data, [0.9 - 0.19, 2.1 + 0.19], rtol=1e-15)
    np.testing.assert_allclose(q.data, [1.0], rtol=1e-15)
    assert opt.state[p] is opt.state[0] and list(opt.state[p]) == ["momentum_buffer"]
    assert opt.state[q] == {}


def test_adam_groups_have_their_own_lr() -> None:
    p, q = param([1.0]), param([1.0])
    opt = optim.Adam([{"params": [p], "lr": 0.1}, {"params": [q]}], lr=0.01)
    set_grad(p, [3.0])
    set_grad(q, [3.0])
    opt.step()  # Adam's first step is lr * sign(g) (up to eps)
    np.testing.assert_allclose(p.data, [0.9], rtol=0, atol=1e-8)
    np.testing.assert_allclose(q.data, [0.99], rtol=0, atol=1e-9)


def test_add_param_group_takes_the_defaults_for_what_it_does_not_give() -> None:
    p, q = param([1.0]), param([2.0])
    opt = optim.Adam([p], lr=0.1, betas=(0.8, 0.9))
    opt.add_param_group({"params": [q], "eps": 1e-6})
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["betas"] == (0.8, 0.9)
    assert opt.param_groups[1]["eps"] == 1e-6 and len(opt.state) == 2
    set_grad(q, [-1.0])
    opt.step()
    np.testing.assert_allclose(q.data, [2.1], rtol=0, atol=1e-6)
    assert opt.state[1]["step"] == 1 and opt.state[0] == {}


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (
            lambda p, q: optim.SGD([{"params": [p]}, {"params": [q], "lr": -1.0}], lr=0.1),
            ValueError,
            r"^param group 1: SGD: invalid learning rate lr=-1.0",
        ),
        (
            lambda p, q: optim.Adam([{"params": [p], "betas": (0.9, 1.5)}]),
            ValueError,
            r"param group 0: Adam: invalid beta2=1.5",
        ),
        (lambda p, q: optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1), ValueError, r"more than one param"),
        (lambda p, q: optim.SGD([{"params": [p]}, [q]], lr=0.1), TypeError, "param_group must be a dict, but got list"),
        (lambda p, q: optim.SGD([{"lr": 0.1}], lr=0.1), KeyError, "param group 0 has no 'params' entry"),
        (lambda p, q: optim.SGD({p, q}, lr=0.1), TypeError, "ordered collection .* not a set"),
        (
            lambda p, q: optim.SGD([{"params": [p]}, {"params": [q * 2]}], lr=0.1),
            ValueError,
            r"parameter 0 of param group 1 \(unnamed\): it is not a leaf",
        ),
    ],
)
def test_bad_param_groups_are_refused(build: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        build(param([1.0]), param([2.0]))


def test_hyperparameter_attributes_read_and_write_every_group() -> None:
    p, q = param([1.0]), param([2.0])
    opt = optim.SGD([p], lr=0.1)
    assert opt.lr == 0.1
    opt.add_param_group({"params": [q], "lr": 0.2})
    with pytest.raises(AttributeError, match=r"SGD.lr differs between param groups \(\[0.1, 0.2\]\)"):
        opt.lr  # noqa: B018
    opt.lr = 0.05
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.05] and opt.lr == 0.05
    with pytest.raises(ValueError, match="SGD: invalid learning rate lr=-1"):
        opt.lr = -1
    assert opt.lr == 0.05
    assert opt.momentum == 0.0
    with pytest.raises(AttributeError, match="'SGD' object has no attribute 'betas'"):
        opt.betas  # noqa: B018


def test_named_parameters_can_be_passed_as_in_pytorch() -> None:
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["params"] == [model.weight, model.bias]
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]


def test_a_custom_optimiser_written_as_in_pytorch() -> None:
    class PlainSGD(optim.Optimizer):
        def __init__(self, params: Any, lr: float = 0.01) -> None:
            super().__init__(params, dict(lr=lr))

        @ag.no_grad()
        def step(self, closure: Any = None) -> None:
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    state["steps"] = state.get("steps", 0) + 1
                    p.add_(p.grad, alpha=-group["lr"])

    w = param([1.0, -1.0])
    opt = PlainSGD([w], lr=0.25)
    set_grad(w, [2.0, 4.0])
    opt.step()
    opt.step()
    np.testing.assert_array_equal(w.data, [1.0 - 2 * 0.5, -1.0 - 2 * 1.0])
    assert opt.state[w] == {"steps": 2} and opt.state_dict() == {"lr": 0.25, "0.steps": 2}


def test_a_deep_copied_optimiser_has_its_own_parameters_and_state() -> None:
    p = param([1.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    set_grad(p, [1.0])
    opt.step()
    twin = copy.deepcopy(opt)
    twin_p = twin.param_groups[0]["params"][0]
    assert twin_p is not p and twin.state[twin_p] is twin.state[0]
    twin.step()  # buf = 0.9 + 1 = 1.9
    np.testing.assert_allclose(twin_p.data, [0.9 - 0.19], rtol=1e-15)
    np.testing.assert_allclose(p.data, [0.9], rtol=1e-15)
    assert opt.state[p]["momentum_buffer"].tolist() == [1.0]


def test_sgd_default_lr_is_pytorchs() -> None:
    assert optim.SGD([param([1.0])]).lr == 1e-3


def test_step_with_a_closure_returns_its_loss() -> None:
    w = param([2.0])
    opt = optim.SGD([w], lr=0.1)

    def closure() -> ag.Tensor:
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 4.0
    np.testing.assert_allclose(w.data, [2.0 - 0.1 * 4.0], rtol=1e-15)  # d(w^2)/dw = 2w = 4
    assert opt.step() is None


def test_schedulers_set_every_groups_lr() -> None:
    p, q = param([1.0]), param([1.0])
    opt = optim.SGD([{"params": [p]}, {"params": [q], "lr": 1.0}], lr=0.1)
    scheduler = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    assert scheduler.base_lrs == [0.1, 1.0] and scheduler.get_last_lr() == [0.1, 1.0]
    scheduler.step()
    scheduler.step()
    assert scheduler.get_last_lr() == [0.025, 0.25]
    assert [g["lr"] for g in opt.param_groups] == [0.025, 0.25]
    set_grad(p, [1.0])
    set_grad(q, [1.0])
    opt.step()
    np.testing.assert_allclose([p.item(), q.item()], [1.0 - 0.025, 1.0 - 0.25], rtol=1e-15)

    cosine = lr_scheduler.CosineAnnealingLR(optim.Adam([{"params": [p]}, {"params": [q], "lr": 2.0}], lr=1.0), T_max=4)
    cosine.step()
    factor = (1 + math.cos(math.pi / 4)) / 2
    np.testing.assert_allclose(cosine.get_last_lr(), [factor, 2.0 * factor], rtol=1e-15)


def test_scheduler_state_round_trips_through_nn_save(tmp_path: Path) -> None:
    def build() -> lr_scheduler.StepLR:
        opt = optim.SGD([{"params": [param([1.0])]}, {"params": [param([1.0])], "lr": 1.0}], lr=0.1)
        return lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

    scheduler = build()
    for _ in range(3):
        scheduler.step()
    nn.save(scheduler.state_dict(), tmp_path / "sched.npz")
    resumed = build()
    resumed.load_state_dict(nn.load(tmp_path / "sched.npz"))
    resumed.step()  # epoch 4: base * 0.5 ** 2
    assert resumed.get_last_lr() == [0.025, 0.25]
    single = lr_scheduler.StepLR(optim.SGD([param([1.0])], lr=0.1), step_size=2)
    with pytest.raises(ValueError, match=r"2 starting lr\(s\), but the optimiser has 1 param group"):
        single.load_state_dict(scheduler.state_dict())


def test_optimiser_state_dict_with_groups_round_trips_through_nn_save(tmp_path: Path) -> None:
    def build(lr_head: float) -> tuple[optim.Optimizer, list[nn.Parameter]]:
        ps = [param([1.0, 2.0]), param([3.0])]
        return optim.SGD([{"params": [ps[0]]}, {"params": [ps[1]], "lr": lr_head}], lr=0.1, momentum=0.9), ps

    opt, (p, q) = build(0.5)
    set_grad(p, [1.0, 1.0])
    set_grad(q, [2.0])
    opt.step()
    state = opt.state_dict()
    assert state["lr"] == 0.1 and state["param_groups.1.lr"] == 0.5
    assert state["param_groups.0.params"].tolist() == [0] and state["param_groups.1.params"].tolist() == [1]
    nn.save(state, tmp_path / "opt.npz")

    restored, (p2, q2) = build(9.0)
    restored.load_state_dict(nn.load(tmp_path / "opt.npz"))
    assert [g["lr"] for g in restored.param_groups] == [0.1, 0.5]
    assert restored.state[q2]["momentum_buffer"].tolist() == [2.0]
    p2.data[...], q2.data[...] = p.data, q.data
    for a, b in ((p, p2), (q, q2)):
        set_grad(a, [1.0] * a.size)
        set_grad(b, [1.0] * b.size)
    opt.step()
    restored.step()
    np.testing.assert_array_equal(p2.data, p.data)
    np.testing.assert_array_equal(q2.data, q.data)

    one_group = optim.SGD([p, q], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"the state dict has 2 param group\(s\), but this SGD has 1"):
        one_group.load_state_dict(state)
    with pytest.raises(ValueError, match="param group 1 of the state dict has 2 parameters, but this SGD's has 1"):
        restored.load_state_dict({**state, "param_groups.1.params": np.array([1, 2])})
    with pytest.raises(ValueError, match=r"invalid setting: param group 1: SGD: invalid learning rate lr=-1.0"):
        restored.load_state_dict({**state, "param_groups.1.lr": -1.0})
    with pytest.raises(KeyError, match=r"unexpected key 'param_groups\.1\.velocity'"):
        restored.load_state_dict({**state, "param_groups.1.velocity": 1.0})


# ----------------------------------------------------------------------------- legacy loss keywords

Y, T = np.array([1.0, 2.0]), np.array([0.0, 0.0])  # squared errors [1, 4]: sum 5, mean 2.5
LEGACY = [  # (size_average, reduce) -> PyTorch's reduction
    ({"size_average": False}, "sum"),
    ({"size_average": True}, "mean"),
    ({"reduce": False}, "none"),
    ({"reduce": True}, "mean"),
    ({"size_average": False, "reduce": True}, "sum"),
    ({"size_average": False, "reduce": False}, "none"),
    ({"size_average": None, "reduce": False}, "none"),
]


@pytest.mark.parametrize(("legacy", "reduction"), LEGACY)
def test_legacy_keywords_on_loss_classes_mean_what_they_mean_in_pytorch(legacy: dict, reduction: str) -> None:
    with pytest.warns(UserWarning, match=rf"^size_average and reduce args will be deprecated, please use "
                      rf"reduction='{reduction}' instead\.$") as record:  # fmt: skip
        loss_fn = nn.MSELoss(**legacy, reduction="sum" if reduction != "sum" else "mean")  # legacy wins
    assert record[0].filename == __file__  # the warning points at the caller
    assert loss_fn.reduction == reduction
    expected = {"sum": 5.0, "mean": 2.5, "none": [1.0, 4.0]}[reduction]
    np.testing.assert_array_equal(loss_fn(ag.tensor(Y), T).data, expected)


@pytest.mark.parametrize(("legacy", "reduction"), LEGACY)
def test_legacy_keywords_on_loss_functions_mean_what_they_mean_in_pytorch(legacy: dict, reduction: str) -> None:
    with pytest.warns(UserWarning, match=rf"please use reduction='{reduction}' instead") as record:
        value = F.mse_loss(ag.tensor(Y), T, **legacy)
    assert record[0].filename == __file__
    np.testing.assert_array_equal(value.data, {"sum": 5.0, "mean": 2.5, "none": [1.0, 4.0]}[reduction])


@pytest.mark.parametrize(
    ("make", "function", "inputs", "row"),
    [
        (nn.CrossEntropyLoss, F.cross_entropy, (np.zeros((2, 3)), np.array([0, 2])), math.log(3)),
        (nn.NLLLoss, F.nll_loss, (np.full((2, 3), math.log(1 / 3)), np.array([1, 0])), math.log(3)),
        (nn.BCELoss, F.binary_cross_entropy, (np.full(2, 0.5), np.array([0.0, 1.0])), math.log(2)),
        (nn.BCEWithLogitsLoss, F.binary_cross_entropy_with_logits, (np.zeros(2), np.array([1.0, 0.0])), math.log(2)),
    ],
    ids=["cross_entropy", "nll", "bce", "bce_with_logits"],
)
def test_every_loss_takes_the_legacy_keywords(make: Any, function: Any, inputs: tuple, row: float) -> None:
    x, t = inputs  # every row's loss is `row`
    with pytest.warns(UserWarning, match="reduction='sum'"):
        np.testing.assert_allclose(make(size_average=False)(ag.tensor(x), t).item(), 2 * row, rtol=1e-15)
    with pytest.warns(UserWarning, match="reduction='none'"):
        np.testing.assert_allclose(function(ag.tensor(x), t, reduce=False).data, [row, row], rtol=1e-15)
    with pytest.warns(UserWarning, match="reduction='mean'"):
        np.testing.assert_allclose(function(ag.tensor(x), t, size_average=True).item(), row, rtol=1e-15)


def test_no_legacy_keyword_no_warning_and_a_positional_bool_is_a_clear_error() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nn.MSELoss(size_average=None, reduce=None).reduction == "mean"
        assert F.mse_loss(ag.tensor(Y), T, "sum", size_average=None).item() == 5.0
    with pytest.raises(ValueError, match=r"got False; PyTorch's deprecated size_average / reduce are taken by keyword"):
        nn.MSELoss(False)
    with pytest.raises(ValueError, match=r"got None; PyTorch's deprecated"):
        F.cross_entropy(ag.tensor(np.zeros((1, 2))), [0], None)


# ----------------------------------------------------------------------------- data


def test_tensor_dataset_items_are_tensors() -> None:
    x, y = np.arange(6.0).reshape(3, 2), np.array([0, 1, 2])
    tensor_x = ag.tensor(x)
    data = nn.TensorDataset(tensor_x, y)
    assert data.tensors[0] is tensor_x and isinstance(data.tensors[1], ag.Tensor)
    xi, yi = data[1]
    assert isinstance(xi, ag.Tensor) and isinstance(yi, ag.Tensor)
    assert xi.data.tolist() == [2.0, 3.0] and yi.item() == 1 and yi.dtype == np.int64
    assert [t.data.tolist() for t in data[1:]] == [[[2.0, 3.0], [4.0, 5.0]], [1, 2]]
    assert len(data) == 3
    with pytest.raises(ValueError, match=r"equally long, got lengths \[3, 2\]"):
        nn.TensorDataset(x, y[:2])


def test_collate_fn_gets_the_list_of_samples() -> None:
    data = nn.TensorDataset(np.arange(5.0), np.arange(5) * 10)
    calls: list[list[Any]] = []

    def collate(samples: list[Any]) -> tuple[float, int]:
        calls.append(samples)
        return sum(x.item() for x, _ in samples), len(samples)

    assert list(nn.DataLoader(data, batch_size=2, collate_fn=collate)) == [(1.0, 2), (5.0, 2), (4.0, 1)]
    assert [(x.item(), y.item()) for x, y in calls[0]] == [(0.0, 0), (1.0, 10)]


def test_default_collate_follows_pytorch() -> None:
    class Records:
        def __len__(self) -> int:
            return 3

        def __getitem__(self, i: int) -> dict[str, Any]:
            return {"x": np.array([i, -i], dtype=np.float32), "label": i, "weight": i / 2, "name": f"r{i}"}

    batch = next(iter(nn.DataLoader(Records(), batch_size=2)))
    assert set(batch) == {"x", "label", "weight", "name"}
    assert batch["x"].dtype == np.float32 and batch["x"].data.tolist() == [[0.0, 0.0], [1.0, -1.0]]
    assert batch["label"].dtype == np.int64 and batch["label"].data.tolist() == [0, 1]
    assert batch["weight"].dtype == np.float64 and batch["weight"].data.tolist() == [0.0, 0.5]
    assert batch["name"] == ["r0", "r1"]

    class Single:
        def __len__(self) -> int:
            return 4

        def __getitem__(self, i: int) -> np.ndarray:
            return np.full(2, float(i))

    batches = list(nn.DataLoader(Single(), batch_size=3))  # a sample that is not a tuple: a Tensor per batch
    assert isinstance(batches[0], ag.Tensor) and batches[1].data.tolist() == [[3.0, 3.0]]
    assert nn.default_collate([(1, 2.0), (3, 4.0)])[0].data.tolist() == [1, 3]


def test_a_dataset_subclass_as_in_pytorch() -> None:
    class Squares(nn.Dataset):
        def __init__(self, n: int) -> None:
            super().__init__()
            self.n = n

        def __len__(self) -> int:
            return self.n

        def __getitem__(self, i: int) -> tuple[np.ndarray, float]:
            return np.array([float(i)]), float(i * i)

    (xb, yb), (xc, yc) = nn.DataLoader(Squares(4), batch_size=2)
    assert xb.data.tolist() == [[0.0], [1.0]] and yb.data.tolist() == [0.0, 1.0]
    assert xc.data.tolist() == [[2.0], [3.0]] and yc.data.tolist() == [4.0, 9.0]


def test_num_workers_and_pin_memory_are_accepted_and_give_the_same_batches() -> None:
    data = nn.TensorDataset(np.arange(7.0))
    plain = [b.data.tolist() for (b,) in nn.DataLoader(data, batch_size=3)]
    assert plain == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0]]
    loader = nn.DataLoader(data, batch_size=3, num_workers=4, pin_memory=True, persistent_workers=True)
    assert [b.data.tolist() for (b,) in loader] == plain and loader.num_workers == 4


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_workers": -1}, ValueError, "num_workers must be >= 0"),
        ({"num_workers": 1.5}, TypeError, "num_workers must be an integer >= 0, got 1.5"),
        ({"persistent_workers": True}, ValueError, "need num_workers > 0"),
        ({"sampler": [0, 1], "shuffle": True}, ValueError, "sampler and shuffle=True cannot both be given"),
        ({"generator": np.random.default_rng(0), "seed": 1}, ValueError, "give generator or seed, not both"),
        ({"generator": 42}, TypeError, "generator must be an autograd.Generator or a numpy Generator .*got int"),
        ({"collate_fn": "stack"}, TypeError, "collate_fn must be callable, got str"),
    ],
)
def test_bad_loader_arguments_are_refused(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        nn.DataLoader(nn.TensorDataset(np.ones(4)), batch_size=2, **kwargs)


def test_shuffling_with_a_numpy_generator_draws_from_it() -> None:
    data = nn.TensorDataset(np.arange(8))
    loader = nn.DataLoader(data, batch_size=8, shuffle=True, generator=np.random.default_rng(5))
    reference = np.random.default_rng(5)
    assert next(iter(loader))[0].data.tolist() == reference.permutation(8).tolist()
    assert next(iter(loader))[0].data.tolist() == reference.permutation(8).tolist()  # the next epoch's draw
    seeded = nn.DataLoader(data, batch_size=8, shuffle=True, seed=5)
    assert next(iter(seeded))[0].data.tolist() == np.random.default_rng(5).permutation(8).tolist()


def test_manual_seed_repeats_shuffling_and_dropout_as_in_pytorch() -> None:
    data = nn.TensorDataset(np.arange(8))
    loader = nn.DataLoader(data, batch_size=8, shuffle=True)
    ag.manual_seed(3)
    first = next(iter(loader))[0].data.tolist()
    ag.manual_seed(3)
    assert next(iter(loader))[0].data.tolist() == first == np.random.default_rng(3).permutation(8).tolist()

    dropout = nn.Dropout(0.5)
    ag.manual_seed(0)
    kept = np.random.default_rng(0).random((2, 4)) >= 0.5
    np.testing.assert_array_equal(dropout(ag.tensor(np.ones((2, 4)))).data, kept * 2.0)


def test_a_sampler_sets_the_order() -> None:
    data = nn.TensorDataset(np.arange(10.0) * 2)
    loader = nn.DataLoader(data, batch_size=2, sampler=[9, 0, 4])
    assert len(loader) == 2
    assert [b.data.tolist() for (b,) in loader] == [[18.0, 0.0], [8.0]]


def test_linear_takes_pytorchs_device_and_dtype_and_the_default_generator() -> None:
    layer = nn.Linear(3, 2, True, "cpu", np.float32)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    assert nn.Linear(3, 2).weight.dtype == np.float64  # the default dtype
    ag.manual_seed(7)
    first = nn.Linear(4, 3).weight.data.copy()
    ag.manual_seed(7)
    assert np.array_equal(nn.Linear(4, 3).weight.data, first)
    with pytest.raises(RuntimeError, match="'cuda' is not available"):
        nn.Linear(3, 2, device="cuda")
    with pytest.raises(TypeError, match="floating-point dtype, got int64"):
        nn.Linear(3, 2, dtype=np.int64)


def test_dropout_masks_repeat_after_manual_seed() -> None:
    x = ag.ones(1000)
    ag.manual_seed(3)
    first = nn.functional.dropout(x, 0.5).tolist()
    ag.manual_seed(3)
    assert nn.functional.dropout(x, 0.5).tolist() == first
    assert 0 < first.count(0.0) < 1000
