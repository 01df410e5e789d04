"""nn: module registration, state dicts, layers and losses (values and gradients), data, save/load."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
import nn
import nn.functional as F
from autograd.testing import assert_module_grad_close


class TwoLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        rng = np.random.default_rng(0)
        self.fc1 = nn.Linear(3, 4, generator=rng)
        self.act = nn.Sigmoid()
        self.fc2 = nn.Linear(4, 2, generator=rng)

    def forward(self, x: Any) -> ag.Tensor:
        return self.fc2(self.act(self.fc1(x)))


# ----------------------------------------------------------------------------- modules


def test_parameters_are_registered_in_order_and_named_by_path() -> None:
    net = TwoLayer()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [p.name for p in net.parameters()] == names
    assert net.fc1.weight.shape == (4, 3)  # (out_features, in_features), as in PyTorch
    assert all(p.requires_grad for p in net.parameters())


def test_nested_modules_get_full_paths_and_shared_parameters_appear_once() -> None:
    inner = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    outer = nn.Sequential(inner, nn.Linear(2, 1))
    assert [n for n, _ in outer.named_parameters()] == ["0.0.weight", "0.0.bias", "1.weight", "1.bias"]
    assert outer[0][0].weight.name == "0.0.weight"
    shared = nn.Linear(2, 2)
    twice = nn.Sequential(shared, shared)
    assert len(list(twice.parameters())) == 2


def test_reassigning_an_attribute_unregisters_it() -> None:
    net = TwoLayer()
    net.fc2 = None
    assert [n for n, _ in net.named_parameters()] == ["fc1.weight", "fc1.bias"]


def test_forgetting_super_init_says_what_to_do() -> None:
    class Broken(nn.Module):
        def __init__(self) -> None:
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_zero_grad_train_eval_and_repr() -> None:
    net = TwoLayer()
    net(ag.tensor(np.ones((5, 3)))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.eval() is net and not net.training and not net.fc1.training
    net.train()
    assert net.fc2.training
    text = repr(net)
    assert "(fc1): Linear(in_features=3, out_features=4, bias=True)" in text and "(act): Sigmoid()" in text


def test_state_dict_round_trip_copies_values_in_place() -> None:
    a, b = TwoLayer(), TwoLayer()
    for p in b.parameters():
        p.data[...] = 7.0
    alias = b.fc1.weight.data  # an array that shares memory with the parameter
    b.load_state_dict(a.state_dict())
    for (name, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.data, pb.data, err_msg=name)
    assert alias is b.fc1.weight.data and np.array_equal(alias, a.fc1.weight.data)
    state = a.state_dict()
    state["fc1.weight"][...] = 0  # a state dict shares memory with the parameters, as in PyTorch
    assert np.all(a.fc1.weight.data == 0)


def test_load_state_dict_names_the_parameter_and_both_shapes() -> None:
    net = TwoLayer()
    state = net.state_dict()
    state["fc2.weight"] = np.zeros((3, 4))
    before = net.fc1.weight.data.copy()
    with pytest.raises(ValueError, match=r"'fc2.weight'.*\(3, 4\).*\(2, 4\)"):
        net.load_state_dict(state)
    np.testing.assert_array_equal(net.fc1.weight.data, before)  # nothing written on failure
    del state["fc2.weight"]
    with pytest.raises(RuntimeError, match=r"missing key\(s\) \['fc2.weight'\]"):
        net.load_state_dict(state)


def test_save_and_load_round_trip(tmp_path: Any) -> None:
    a, b = TwoLayer(), nn.Sequential()
    path = tmp_path / "weights.npz"
    nn.save(a, path)
    loaded = nn.load(path)
    assert sorted(loaded) == sorted(a.state_dict())
    fresh = TwoLayer()
    for p in fresh.parameters():
        p.data[...] = 0
    fresh.load_state_dict(loaded)
    x = ag.tensor(np.linspace(-1, 1, 6).reshape(2, 3))
    np.testing.assert_array_equal(fresh(x).data, a(x).data)
    assert len(list(b.parameters())) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["weights.npz"]  # no temporary file left behind


def test_loading_a_file_saved_from_another_model_names_the_mismatch(tmp_path: Any) -> None:
    path = tmp_path / "other.npz"
    nn.save(nn.Sequential(nn.Linear(3, 5), nn.Sigmoid(), nn.Linear(5, 2)), path)
    net = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 2))
    with pytest.raises(ValueError, match=r"'0.weight'.*\(5, 3\).*\(4, 3\)"):
        net.load_state_dict(nn.load(path))


def test_loading_a_file_never_unpickles(tmp_path: Any) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, payload=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match=r"not a weights file written by nn\.save: member 'payload\.npy'"):
        nn.load(path)


# ----------------------------------------------------------------------------- layers


def test_linear_computes_x_w_transpose_plus_b() -> None:
    layer = nn.Linear(3, 2)
    x = np.arange(6.0).reshape(2, 3)
    expected = x @ layer.weight.data.T + layer.bias.data
    np.testing.assert_allclose(layer(ag.tensor(x)).data, expected, rtol=1e-15)
    assert nn.Linear(3, 2, bias=False).bias is None
    with pytest.raises(ValueError, match=r"last dimension is 3, got shape \(2, 4\)"):
        layer(ag.tensor(np.ones((2, 4))))


def test_linear_initialisation_is_seedable_and_bounded() -> None:
    a = nn.Linear(16, 8, generator=np.random.default_rng(1))
    b = nn.Linear(16, 8, generator=np.random.default_rng(1))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert np.abs(a.weight.data).max() <= 1 / np.sqrt(16)


def test_dropout_is_inverted_and_off_in_eval() -> None:
    layer = nn.Dropout(0.25, generator=np.random.default_rng(0))
    x = ag.tensor(np.ones((200, 50)))
    out = layer(x).data
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / 0.75)
    assert 0.7 < kept.mean() < 0.8
    layer.eval()
    assert layer(x) is x
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        nn.Dropout(1.0)


def test_activation_modules_match_their_functions() -> None:
    x = ag.tensor(np.linspace(-3, 3, 12).reshape(3, 4))
    v = x.data
    cases = [
        (nn.Sigmoid(), 1 / (1 + np.exp(-v))),
        (nn.ReLU(), np.maximum(v, 0)),
        (nn.Tanh(), np.tanh(v)),
        (nn.LeakyReLU(0.2), np.where(v > 0, v, 0.2 * v)),
        (nn.Step(), (v > 0).astype(float)),
        (nn.Softmax(dim=1), np.exp(v) / np.exp(v).sum(1, keepdims=True)),
        (nn.LogSoftmax(dim=0), v - np.log(np.exp(v).sum(0, keepdims=True))),
        (nn.Flatten(0), v.reshape(-1)),
    ]
    for module, expected in cases:
        np.testing.assert_allclose(module(x).data, expected, rtol=1e-12, err_msg=repr(module))


# ----------------------------------------------------------------------------- losses

batch_and_classes = st.tuples(st.integers(1, 5), st.integers(2, 5))


def _logits(shape: tuple[int, int]) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, shape, elements=st.floats(-4, 4))


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


@settings(max_examples=25)
@given(data=st.data(), sizes=batch_and_classes, reduction=st.sampled_from(["mean", "sum", "none"]))
def test_cross_entropy_and_nll_match_the_formula_and_central_differences(data: Any, sizes: Any, reduction: str) -> None:
    n, c = sizes
    z = data.draw(_logits((n, c)))
    labels = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, c - 1)))
    per_sample = -_log_softmax(z)[np.arange(n), labels]
    expected = {"mean": per_sample.mean(), "sum": per_sample.sum(), "none": per_sample}[reduction]
    one_hot = np.eye(c)[labels]
    for target in (labels, one_hot):
        loss = nn.CrossEntropyLoss(reduction)(ag.tensor(z), target)
        np.testing.assert_allclose(loss.data, expected, rtol=1e-12, atol=1e-12)
        def loss_of(t: ag.Tensor, tgt: np.ndarray = target) -> ag.Tensor:
            return F.cross_entropy(t, tgt, reduction)

        assert ag.gradcheck(loss_of, [ag.tensor(z, requires_grad=True)])
        assert ag.gradgradcheck(loss_of, [ag.tensor(z, requires_grad=True)])
    nll = nn.NLLLoss(reduction)(ag.tensor(_log_softmax(z)), labels)
    np.testing.assert_allclose(nll.data, expected, rtol=1e-12, atol=1e-12)
    assert ag.gradcheck(lambda t: F.nll_loss(t, labels, reduction), [ag.tensor(z, requires_grad=True)])


def test_cross_entropy_takes_probability_rows_as_targets() -> None:
    z = np.array([[0.2, -1.0, 3.0], [1.0, 1.0, 0.0]])
    soft = np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]])
    expected = -(soft * _log_softmax(z)).sum(axis=1).mean()
    np.testing.assert_allclose(F.cross_entropy(ag.tensor(z), soft).item(), expected, rtol=1e-13)
    assert ag.gradcheck(lambda t: F.cross_entropy(t, soft * 1.5), [ag.tensor(z, requires_grad=True)])


def test_cross_entropy_with_leading_axes_and_a_retained_graph() -> None:
    rng = np.random.default_rng(5)
    z = rng.normal(size=(2, 3, 4))
    labels = rng.integers(0, 4, size=(2, 3))
    shifted = z - z.max(axis=-1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    expected = -np.take_along_axis(log_softmax, labels[..., None], axis=-1)[..., 0]
    t = ag.tensor(z, requires_grad=True)
    loss = F.cross_entropy(t, labels, "none")
    np.testing.assert_allclose(loss.data, expected, rtol=1e-12)
    total = loss.sum()
    total.backward(retain_graph=True)
    first = t.grad.data.copy()
    np.testing.assert_allclose(first, np.exp(log_softmax) - np.eye(4)[labels], rtol=1e-12, atol=1e-15)
    t.grad = None
    total.backward()  # the second pass sees the same saved softmax
    np.testing.assert_array_equal(t.grad.data, first)
    assert ag.gradcheck(lambda v: F.cross_entropy(v, labels), [ag.tensor(z, requires_grad=True)])


def test_cross_entropy_is_stable_at_extreme_logits() -> None:
    z = ag.tensor([[1000.0, -1000.0], [-1000.0, 1000.0]], requires_grad=True)
    loss = nn.CrossEntropyLoss()(z, np.array([1, 1]))
    assert loss.item() == 1000.0  # (2000 + 0) / 2
    loss.backward()
    np.testing.assert_allclose(z.grad.data, [[0.5, -0.5], [0.0, 0.0]])


@settings(max_examples=25)
@given(
    pair=hnp.arrays(np.float64, (2, 3, 2), elements=st.floats(-3, 3)),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    halved=st.booleans(),
)
def test_mse_matches_the_formula_and_central_differences(pair: np.ndarray, reduction: str, halved: bool) -> None:
    y, t = pair
    sq = (y - t) ** 2
    expected = {"mean": sq.mean(), "sum": sq.sum(), "none": sq}[reduction] * (0.5 if halved else 1.0)
    loss = nn.MSELoss(reduction, halved=halved)(ag.tensor(y), t)
    np.testing.assert_allclose(loss.data, expected, rtol=1e-12)
    assert ag.gradcheck(lambda v: F.mse_loss(v, t, reduction, halved), [ag.tensor(y, requires_grad=True)])
    assert ag.gradgradcheck(lambda v: F.mse_loss(v, t, reduction, halved), [ag.tensor(y, requires_grad=True)])


def test_halved_mse_has_the_seeds_gradient() -> None:
    y = ag.tensor([[1.0, 2.0], [3.0, 5.0]], requires_grad=True)
    t = np.array([[0.0, 2.0], [1.0, 1.0]])
    nn.MSELoss(halved=True)(y, t).backward()
    np.testing.assert_allclose(y.grad.data, (y.data - t) / y.data.size)


@settings(max_examples=25)
@given(
    z=hnp.arrays(np.float64, (3, 2), elements=st.floats(-6, 6)),
    t=hnp.arrays(np.float64, (3, 2), elements=st.sampled_from([0.0, 1.0, 0.3])),
    reduction=st.sampled_from(["mean", "sum", "none"]),
)
def test_binary_cross_entropies_match_the_formula_and_central_differences(
    z: np.ndarray, t: np.ndarray, reduction: str
) -> None:
    p = 1 / (1 + np.exp(-z))
    per = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    expected = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    np.testing.assert_allclose(nn.BCELoss(reduction)(ag.tensor(p), t).data, expected, rtol=1e-9)
    np.testing.assert_allclose(nn.BCEWithLogitsLoss(reduction)(ag.tensor(z), t).data, expected, rtol=1e-9)
    assert ag.gradcheck(lambda v: F.binary_cross_entropy(v, t, reduction), [ag.tensor(p, requires_grad=True)])
    assert ag.gradcheck(
        lambda v: F.binary_cross_entropy_with_logits(v, t, reduction), [ag.tensor(z, requires_grad=True)]
    )


def test_bce_with_logits_is_stable_where_bce_of_sigmoid_is_not() -> None:
    loss = nn.BCEWithLogitsLoss()(ag.tensor([800.0, -800.0]), np.array([0.0, 1.0]))
    assert loss.item() == 800.0


def test_loss_errors_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss("average")
    with pytest.raises(ValueError, match=r"input shape \(2, 1\) and target shape \(2,\)"):
        nn.MSELoss()(ag.tensor(np.ones((2, 1))), np.ones(2))
    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 3\)"):
        nn.CrossEntropyLoss()(ag.tensor(np.ones((2, 3))), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"class indices of shape \(2,\)"):
        nn.CrossEntropyLoss()(ag.tensor(np.ones((2, 3))), np.array([0.5, 1.0]))


@settings(max_examples=10)
@given(x=hnp.arrays(np.float64, (2, 3), elements=st.floats(-2, 2)))
def test_every_parameter_of_a_module_gets_the_central_difference_gradient(x: np.ndarray) -> None:
    net = TwoLayer()
    labels = np.array([0, 1])

    def loss(out: ag.Tensor) -> ag.Tensor:
        return nn.CrossEntropyLoss()(out, labels)

    assert_module_grad_close(net, ag.tensor(x), loss=loss)
    # backward() stores in each parameter's .grad exactly what autograd.grad (checked above) returns
    expected = ag.grad(loss(net(ag.tensor(x))), list(net.parameters()))
    loss(net(ag.tensor(x))).backward()
    for p, g in zip(net.parameters(), expected):
        np.testing.assert_array_equal(p.grad.data, g.data, err_msg=p.name)


# ----------------------------------------------------------------------------- init


def test_initialisers_have_the_documented_spread() -> None:
    rng = np.random.default_rng(0)
    w = nn.Parameter(np.empty((400, 300)))
    cases = [
        (lambda: nn.init.normal_(w, std=0.01, generator=rng), 0.01),
        (lambda: nn.init.lecun_normal_(w, generator=rng), 1 / np.sqrt(300)),
        (lambda: nn.init.xavier_normal_(w, generator=rng), np.sqrt(2 / 700)),
        (lambda: nn.init.xavier_uniform_(w, generator=rng), np.sqrt(6 / 700) / np.sqrt(3)),
        (lambda: nn.init.kaiming_normal_(w, generator=rng), np.sqrt(2 / 300)),
        (lambda: nn.init.kaiming_uniform_(w, generator=rng), np.sqrt(6 / 300) / np.sqrt(3)),
    ]
    for fill, std in cases:
        assert fill() is w
        assert abs(w.data.std() / std - 1) < 0.02 and abs(w.data.mean()) < 0.05 * std
    assert np.all(nn.init.zeros_(w).data == 0) and np.all(nn.init.ones_(w).data == 1)
    a = nn.init.normal_(nn.Parameter(np.empty(5)), generator=np.random.default_rng(3)).data.copy()
    b = nn.init.normal_(nn.Parameter(np.empty(5)), generator=np.random.default_rng(3)).data
    np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- data


@given(n=st.integers(1, 40), batch=st.integers(1, 12), shuffle=st.booleans(), drop_last=st.booleans())
def test_a_dataloader_epoch_covers_every_sample_exactly_once(
    n: int, batch: int, shuffle: bool, drop_last: bool
) -> None:
    x = np.arange(n * 2, dtype=float).reshape(n, 2)
    y = np.arange(n)
    loader = nn.DataLoader(nn.TensorDataset(x, y), batch_size=batch, shuffle=shuffle, drop_last=drop_last, seed=0)
    seen = []
    batches = 0
    for xb, yb in loader:
        assert isinstance(xb, ag.Tensor) and xb.shape == (len(yb), 2)
        np.testing.assert_array_equal(xb.data[:, 0], 2 * yb.data)  # features stay with their labels
        assert len(yb) == batch or not drop_last
        seen.extend(yb.data.tolist())
        batches += 1
    assert batches == len(loader)
    expected = n - n % batch if drop_last else n
    assert len(seen) == expected and len(set(seen)) == expected
    if not shuffle:
        assert seen == list(range(expected))


def test_shuffling_is_seeded_and_changes_between_epochs() -> None:
    data = nn.TensorDataset(np.arange(20))
    first = [b[0].data.tolist() for b in nn.DataLoader(data, 5, shuffle=True, seed=7)]
    again = [b[0].data.tolist() for b in nn.DataLoader(data, 5, shuffle=True, seed=7)]
    assert first == again
    loader = nn.DataLoader(data, 20, shuffle=True, seed=7)
    assert next(iter(loader))[0].data.tolist() != next(iter(loader))[0].data.tolist()


def test_a_plain_dataset_is_batched_by_stacking() -> None:
    class Squares:
        def __len__(self) -> int:
            return 5

        def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
            return np.array([i, i * i]), i

    assert isinstance(Squares(), nn.Dataset)
    (xb, yb), *_ = nn.DataLoader(Squares(), batch_size=3)
    np.testing.assert_array_equal(xb.data, [[0, 0], [1, 1], [2, 4]])
    np.testing.assert_array_equal(yb.data, [0, 1, 2])


def test_data_errors() -> None:
    with pytest.raises(ValueError, match=r"equally long.*\[3, 2\]"):
        nn.TensorDataset(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        nn.DataLoader(nn.TensorDataset(np.ones(3)), batch_size=0)


# ----------------------------------------------------------------------------- training


def test_training_a_tiny_net_lowers_its_loss() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2))
    labels = (x[:, 0] * x[:, 1] > 0).astype(int)  # XOR of signs: needs the hidden layer
    net = nn.Sequential(nn.Linear(2, 16, generator=rng), nn.Tanh(), nn.Linear(16, 2, generator=rng))
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(300):
        net.zero_grad()
        loss = loss_fn(net(ag.tensor(x)), labels)
        loss.backward()
        for p in net.parameters():
            p.data -= 0.5 * p.grad.data
        losses.append(loss.item())
    assert losses[-1] < 0.25 * losses[0]
    accuracy = (net(ag.tensor(x)).data.argmax(1) == labels).mean()
    assert accuracy > 0.9


# ----------------------------------------------------------------------------- monitoring


def test_progress_is_silent_off_a_terminal_and_on_request() -> None:
    from nn.monitor import progress

    bar = progress(range(3))  # pytest captures stderr: not a terminal
    bar.set_postfix(loss=1.0)
    assert list(bar) == [0, 1, 2]
    assert list(progress([4, 5], quiet=True)) == [4, 5]
    shown = progress(range(2), quiet=False)
    assert type(shown).__name__ == "tqdm" and list(shown) == [0, 1]


def test_plot_history_writes_a_png(tmp_path: Any) -> None:
    from nn.monitor import plot_history

    path = plot_history({"loss": [2.0, 1.0, 0.5], "train acc": [0.5, 0.7, 0.9], "test acc": [0.4, 0.6, 0.8]},
                        tmp_path / "curves.png")  # fmt: skip
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]


# ----------------------------------------------------------------------------- the fused linear op


@st.composite
def linear_inputs(draw: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    floats = st.floats(-2, 2)
    x = draw(hnp.arrays(np.float64, (*batch, n_in), elements=floats))
    w = draw(hnp.arrays(np.float64, (n_out, n_in), elements=floats))
    b = draw(st.none() | hnp.arrays(np.float64, (n_out,), elements=floats))
    return x, w, b


@settings(max_examples=30)
@given(linear_inputs())
def test_the_linear_op_matches_numpy_and_central_differences(inputs: Any) -> None:
    x, w, b = inputs
    expected = x @ w.T + (0 if b is None else b)
    tensors = [ag.tensor(v, requires_grad=True) for v in (x, w, b) if v is not None]
    np.testing.assert_allclose(F.linear(*tensors).data, expected, rtol=1e-12, atol=1e-12)
    assert ag.gradcheck(F.linear, tensors)
    assert ag.gradgradcheck(F.linear, tensors)
