"""Graph pictures: DOT structure, values and gradients on nodes, module boxes, real rendering, errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import drawing as render_module
from nn.models import TwoLayerNet


def _nodes(source: str, prefix: str) -> list[str]:
    return re.findall(rf"^\s*({prefix}\d+) \[", source, flags=re.M)


def _label(source: str, node: str) -> str:
    match = re.search(rf"^\s*{node} \[label=(?:\"(.*?)\"|(\w+))", source, flags=re.M | re.S)
    assert match, f"no label for {node}"
    return match.group(1) or match.group(2)


def _small_graph() -> tuple[ag.Tensor, ag.Tensor, ag.Tensor, ag.Tensor]:
    a = ag.tensor([1.0, 2.0], requires_grad=True, name="a")
    b = ag.tensor([3.0, 4.0], requires_grad=True, name="b")
    c = ag.tensor([0.5, 0.5], name="c")
    y = (a * b + c).sum()
    y.name = "y"
    return a, b, c, y


def test_a_known_graph_has_the_expected_nodes_edges_and_labels() -> None:
    _a, _b, _c, y = _small_graph()
    source = ag.to_dot(y).source
    assert len(_nodes(source, "t")) == 6  # a, b, c, a*b, a*b + c, y
    assert len(_nodes(source, "op")) == 3
    assert len(re.findall(r" -> ", source)) == 8  # 5 inputs into ops, 3 ops into their outputs
    labels = [_label(source, n) for n in _nodes(source, "op")]
    assert labels == ["Mul", "Add", "Sum"]
    assert "a\n(2,) float64\ndata [1., 2.]" in source
    assert "y\nscalar float64\ndata 12." in source  # 1*3 + 2*4 + 0.5 + 0.5
    assert "grad" not in source  # no backward yet


def test_gradients_appear_after_backward_and_the_backward_pass_can_be_drawn() -> None:
    a, _b, _c, y = _small_graph()
    y.backward(retain_graph=True)
    source = ag.to_dot(y).source
    assert "grad [3., 4.]" in source and "grad [1., 2.]" in source  # dy/da = b, dy/db = a
    traced = ag.to_dot(y, show_backward=True).source
    red = re.findall(r'(op\d+) -> (t\d+) \[label="grad (.*?)"', traced)
    assert len(red) == 4  # one gradient edge back along every input edge, but none to the constant c
    assert sorted(text for _, _, text in red) == ["[1., 1.]", "[1., 1.]", "[1., 2.]", "[3., 4.]"]
    assert "mul #0\n(2,) float64\ndata [3., 8.]\ngrad [1., 1.]" in traced  # an intermediate's total gradient
    np.testing.assert_array_equal(a.grad.data, [3.0, 4.0])  # drawing changed no .grad


def test_op_nodes_show_their_settings_and_constants() -> None:
    x = ag.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = (x**3).sum(axis=1, keepdims=True)[0:1, ...]
    labels = [_label(ag.to_dot(y).source, n) for n in _nodes(ag.to_dot(y).source, "op")]
    assert labels == ["Pow\nb=3", "Sum\naxis=1\nkeepdims=True", "GetItem\nindex=[0:1, Ellipsis]"]


def test_large_tensors_are_summarised() -> None:
    x = ag.tensor(np.linspace(-1.0, 3.0, 100), requires_grad=True, name="x")
    source = ag.to_dot(x.tanh()).source
    assert "data min -1  mean 1  max 3" in source


def test_node_kinds_are_styled_apart() -> None:
    _a, _b, _c, y = _small_graph()
    source = ag.to_dot(y).source
    blocks = {name: re.search(rf"^\s*{name} \[(.*?)\]$", source, re.M | re.S).group(1) for name in _nodes(source, "t")}
    fill = {name: re.search(r'fillcolor="?([#\w]+)', block).group(1) for name, block in blocks.items()}
    by_title = {_label(source, n).split("\n")[0]: fill[n] for n in fill}
    assert by_title["a"] == by_title["b"] == render_module.STYLE["parameter"]["fillcolor"]
    assert by_title["c"] == render_module.STYLE["constant"]["fillcolor"]
    assert by_title["y"] == render_module.STYLE["output"]["fillcolor"]
    assert by_title["mul #0"] == "white"


def test_the_same_computation_gives_the_same_picture() -> None:
    first = ag.to_dot(_small_graph()[3]).source
    second = ag.to_dot(_small_graph()[3]).source
    assert first == second


def test_modules_are_drawn_as_nested_boxes() -> None:
    net = TwoLayerNet(784, 50, 10, generator=np.random.default_rng(0))
    x = ag.tensor(np.random.default_rng(1).random((100, 784)), name="images")
    loss = nn.CrossEntropyLoss()(net(x), np.arange(100) % 10)
    source = ag.to_dot(loss, group_modules=True).source
    labels = re.findall(r"label=\"?([^\"\n]*?\(Linear\)|TwoLayerNet|CrossEntropyLoss)\"? style", source)
    assert sorted(labels) == ["CrossEntropyLoss", "TwoLayerNet", "fc1 (Linear)", "fc2 (Linear)"]
    fc1 = source[source.index('label="fc1 (Linear)"') :]
    fc1 = fc1[: fc1.index("}")]
    assert "fc1.weight\n(50, 784) float64" in fc1 and "fc1.bias" in fc1  # parameters inside their module
    assert "images" not in fc1
    assert source.index('label="fc1 (Linear)"') > source.index("label=TwoLayerNet")  # nested in the net's box


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_rendering_writes_a_real_picture(tmp_path: Path, fmt: str) -> None:
    y = _small_graph()[3]
    y.backward(retain_graph=True)
    path = ag.render(y, tmp_path / f"g.{fmt}", show_backward=True)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") if fmt == "png" else b"<svg" in data[:500]
    assert [p.name for p in tmp_path.iterdir()] == [f"g.{fmt}"]


def test_pdf_needs_graphviz_dot(tmp_path: Path) -> None:
    y = _small_graph()[3]
    program = render_module._candidates()[0]
    if Path(program).name.startswith("graphviz-pure"):
        with pytest.raises(ValueError, match="graphviz-pure writes svg and png only"):
            ag.render(y, tmp_path / "g.pdf")
    else:
        assert ag.render(y, tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")


def test_jupyter_gets_an_svg() -> None:
    bundle = ag.to_dot(_small_graph()[3])._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


def test_without_a_layout_program_the_error_says_how_to_get_one(monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.setattr(render_module, "_candidates", lambda: [])
    y = _small_graph()[3]
    with pytest.raises(render_module.LayoutProgramNotFound, match=r"pip install graphviz-pure.*\.source"):
        ag.render(y, tmp_path / "g.svg")
    assert "digraph" in ag.to_dot(y).source  # the DOT text needs no program
    assert "digraph" in ag.to_dot(y)._repr_mimebundle_()["text/plain"]
    assert not list(tmp_path.iterdir())


def test_a_freed_graph_is_reported_not_crashed_on() -> None:
    y = _small_graph()[3]
    y.backward()
    source = ag.to_dot(y).source
    assert "freed by backward" in source and "retain_graph=True" in source
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        ag.to_dot(y, show_backward=True)


def test_any_tensor_of_a_computation_can_be_drawn() -> None:
    _a, _b, _, y = _small_graph()
    middle = y.grad_fn._inputs[0]  # a * b + c
    source = ag.to_dot(middle).source
    assert len(_nodes(source, "op")) == 2 and "Sum" not in source


def test_huge_graphs_stop_with_a_clear_message() -> None:
    x = ag.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(1000):
        y = y * 1.0001
    with pytest.raises(render_module.GraphTooLarge, match=r"max_nodes=100.*depth"):
        ag.to_dot(y, max_nodes=100)
    assert len(_nodes(ag.to_dot(y, depth=5).source, "op")) == 5


def test_render_errors(tmp_path: Path) -> None:
    y = _small_graph()[3]
    with pytest.raises(ValueError, match="unknown format 'jpg'"):
        ag.render(y, tmp_path / "g.jpg")
    with pytest.raises(TypeError, match="one or more Tensors"):
        ag.to_dot(np.ones(3))
    with pytest.raises(ValueError, match="single root"):
        ag.to_dot(y, y, show_backward=True)


# --------------------------------------------------------------------------- detect_anomaly


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's own warning about the NaN
def test_anomaly_in_forward_names_the_op_and_the_users_line() -> None:
    x = ag.tensor([1.0, -1.0], requires_grad=True)
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError, match=r"Log produced NaN in its forward pass") as info:
        x.log()
    assert "test_render.py" in str(info.value) and "x.log()" in str(info.value)
    with ag.detect_anomaly(), ag.no_grad(), pytest.raises(ag.AnomalyError, match="Log produced NaN"):
        x.log()
    assert ag.tensor([-1.0]).log().data.size == 1  # outside the block nothing is checked


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_anomaly_in_backward_names_the_op_and_where_it_was_created() -> None:
    x = ag.tensor([0.0, 4.0], requires_grad=True)
    with ag.detect_anomaly():
        y = x.sqrt().sum()  # fine forward: sqrt(0) = 0; backward divides by 2 * sqrt(0)
        with pytest.raises(ag.AnomalyError, match=r"Sqrt.backward produced inf .*input 0") as info:
            y.backward()
    assert "y = x.sqrt().sum()" in str(info.value)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_anomaly_can_draw_the_graph_around_the_op(tmp_path: Path) -> None:
    x = ag.tensor([0.0, 4.0], requires_grad=True)
    picture = tmp_path / "anomaly.svg"
    with ag.detect_anomaly(render_to=picture):
        y = (x * 2).sqrt().sum()
        with pytest.raises(ag.AnomalyError, match=r"drawn in .*anomaly\.svg"):
            y.backward()
    svg = picture.read_text()
    assert "Sqrt" in svg and "#e74c3c" in svg  # the op outlined in red


def test_name_scope_groups_ops_drawn_from_plain_code() -> None:
    x = ag.tensor([0.5, 1.5], requires_grad=True)
    with ag.name_scope("encoder", "Block"):
        with ag.name_scope("inner"):
            h = x.tanh()
        y = (h * 2).sum()
    assert h.grad_fn._scope.path == "encoder.inner" and y.grad_fn._scope.path == "encoder"
    assert ag.tensor(1.0, requires_grad=True).exp().grad_fn._scope is None  # outside every scope
    source = ag.to_dot(y, group_modules=True).source
    assert 'label="encoder (Block)"' in source and 'label="encoder.inner"' in source
