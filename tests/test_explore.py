"""The backprop explorer page, read as data: its steps, its numbers against hand derivations, escaping, errors."""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd as ag
from autograd.explorer import Exploration


def _data(page: str) -> dict[str, Any]:
    """The step data embedded in the page, refusing NaN/Infinity tokens (they are not JSON)."""
    match = re.search(r'<script type="application/json" id="explorer-data">(.*?)</script>', page, flags=re.S)
    assert match, "no step data in the page"

    def refuse(token: str) -> None:
        raise AssertionError(f"{token} in the embedded JSON")

    return json.loads(match.group(1), parse_constant=refuse)


def _number(values: dict[str, str]) -> float:
    """The one number of a scalar's full text (written to round-trip exactly)."""
    return float(values["full"].strip("[]"))


def _sigmoid_unit() -> tuple[ag.Tensor, ag.Tensor, ag.Tensor, ag.Tensor]:
    w = ag.tensor(0.5, requires_grad=True, name="w")
    x = ag.tensor(2.0, requires_grad=True, name="x")
    b = ag.tensor(-0.3, requires_grad=True, name="b")
    y = (w * x + b).sigmoid()
    y.name = "y"
    return w, x, b, y


def _step_ops(data: dict[str, Any], phase: str) -> list[str]:
    return [data["ops"][s["op"]]["name"] for s in data["steps"] if s["phase"] == phase and s["kind"] == "op"]


def test_steps_are_the_leaves_then_forward_by_creation_then_backward_in_the_engines_order() -> None:
    x = ag.tensor([1.0, -2.0], requires_grad=True, name="x")
    a = x * 3.0  # Mul, created first
    b = x.exp()  # Exp, created second, though the walk from c reaches it first
    c = (b * a).sum()
    recorded: list[str] = []
    for t, label in ((a, "Mul a"), (b, "Exp"), (b * a, None)):
        if label:
            t.register_hook(lambda g, label=label: recorded.append(label))
    data = _data(ag.explore(c).html)
    kinds = [(s["phase"], s["kind"]) for s in data["steps"]]
    assert kinds[0] == ("forward", "leaves") and kinds[-1] == ("backward", "done")
    assert _step_ops(data, "forward") == ["Mul", "Exp", "Mul", "Sum"]
    assert _step_ops(data, "backward") == ["Sum", "Mul", "Exp", "Mul"]
    # The engine itself visits the nodes in that order: its hooks fire newest first.
    c.backward(retain_graph=True)
    assert recorded[-2:] == ["Exp", "Mul a"]
    assert data["steps"][0]["tensors"] == [name for name, t in data["tensors"].items() if t["title"] == "x"]


def test_the_numbers_are_the_engines_and_match_a_hand_derivation() -> None:
    w, x, b, y = _sigmoid_unit()
    data = _data(ag.explore(y).html)
    z = 0.5 * 2.0 - 0.3
    s = 1.0 / (1.0 + math.exp(-z))
    ds = s * (1.0 - s)  # d sigmoid / dz
    by_title = {t["title"]: t for t in data["tensors"].values()}
    assert _number(by_title["y"]["value"]) == pytest.approx(s, rel=1e-15)
    assert _number(by_title["w"]["grad"]) == pytest.approx(ds * 2.0, rel=1e-15)
    assert _number(by_title["x"]["grad"]) == pytest.approx(ds * 0.5, rel=1e-15)
    assert _number(by_title["b"]["grad"]) == pytest.approx(ds, rel=1e-15)
    backward = [st for st in data["steps"] if st["phase"] == "backward" and st["kind"] == "op"]
    sigmoid, add, mul = backward
    assert data["ops"][sigmoid["op"]]["name"] == "Sigmoid"
    assert _number(data["tensors"][data["ops"][sigmoid["op"]]["output"]]["grad"]) == 1.0  # the seed
    assert _number(sigmoid["sent"]["0"]) == pytest.approx(ds, rel=1e-15)
    assert _number(add["sent"]["0"]) == _number(add["sent"]["1"]) == pytest.approx(ds, rel=1e-15)
    assert [_number(mul["sent"][i]) for i in "01"] == pytest.approx([ds * 2.0, ds * 0.5], rel=1e-15)
    # Exactly what backward() puts in .grad, to the last bit; and exploring changed no .grad.
    assert w.grad is None
    y.backward()
    for t in (w, x, b):
        assert _number(by_title[t.name]["grad"]) == float(t.grad.data)
    assert data["steps"][-1]["tensors"] == [n for n, t in data["tensors"].items() if t["title"] in ("w", "x", "b")]


def test_the_panel_data_names_each_op_its_settings_and_its_rule() -> None:
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = ((x - 1.0) ** 2).sum()
    ops = {op["name"]: op for op in _data(ag.explore(y).html)["ops"].values()}
    assert ops["Pow"]["settings"] == ["b=2"]
    assert {"constant": "1.0"} in ops["Sub"]["inputs"]
    node_type = type(x.sigmoid().grad_fn)
    sigmoid = _data(ag.explore(x.sigmoid().sum()).html)["ops"]["op0"]
    assert sigmoid["words"] == node_type.__doc__.strip().split("\n")[0]  # the first line of the op's docstring
    assert sigmoid["rule"] == getattr(node_type, "rule", None)

    class Twice(ag.Function):
        """Twice x; gradient 2."""

        @staticmethod
        def forward(ctx: Any, t: ag.Tensor) -> ag.Tensor:
            return t * 2

        @staticmethod
        def backward(ctx: Any, grad: ag.Tensor) -> ag.Tensor:
            return grad * 2

    mine = _data(ag.explore(Twice.apply(x).sum()).html)["ops"]["op0"]
    assert mine["name"] == "Twice" and mine["rule"] is None and mine["words"] == "Twice x; gradient 2."


def test_names_are_escaped_everywhere() -> None:
    x = ag.tensor([1.0, 2.0], requires_grad=True, name="</script><b>bold & 'quoted'")
    page = ag.explore((x * 2).sum()).html
    assert "<b>" not in page and "</script><b>" not in page
    assert page.count("</script>") == 2  # the data block's and the page script's own ends
    titles = [t["title"] for t in _data(page)["tensors"].values()]
    assert "</script><b>bold & 'quoted'" in titles  # intact once read back


def test_nan_and_inf_are_written_as_text() -> None:
    x = ag.tensor([-1.0, 0.0, 4.0], requires_grad=True, name="x")
    with np.errstate(divide="ignore", invalid="ignore"):
        y = x.log().sum()  # nan at -1, -inf at 0, and an inf gradient
        data = _data(ag.explore(y).html)
    x_entry = next(t for t in data["tensors"].values() if t["title"] == "x")
    assert "inf" in x_entry["grad"]["full"]
    log_out = next(t for t in data["tensors"].values() if t["title"].startswith("log"))
    assert "nan" in log_out["value"]["full"] and "-inf" in log_out["value"]["full"]


def test_the_page_is_self_contained(tmp_path: Path) -> None:
    *_, y = _sigmoid_unit()
    page = ag.explore(y).html
    assert not re.search(r"https?://", page)
    assert not re.search(r"\b(src|href)\s*=", page, flags=re.I)
    assert "<link" not in page and "@import" not in page
    assert page.count("<svg") == 1  # one layout: this graph has no module boxes to collapse
    path = ag.explore(y, tmp_path / "page.html")
    assert isinstance(path, Path) and path.read_text(encoding="utf-8") == page  # the same computation, the same page
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically: no temporary file left


def test_jupyter_gets_the_page_in_an_iframe(tmp_path: Path) -> None:
    *_, y = _sigmoid_unit()
    shown = ag.explore(y)
    assert isinstance(shown, Exploration)
    frame = shown._repr_html_()
    match = re.fullmatch(r'<iframe srcdoc="([^"]*)" sandbox="allow-scripts" style="[^"]*"></iframe>', frame)
    assert match and html.unescape(match.group(1)) == shown.html
    assert shown.save(tmp_path / "saved.html").read_text(encoding="utf-8") == shown.html


def test_bad_input_is_refused_with_a_clear_message() -> None:
    with pytest.raises(TypeError, match="explore needs the Tensor"):
        ag.explore(np.ones(3))
    with pytest.raises(ValueError, match="no graph to step through"):
        ag.explore(ag.tensor([1.0], requires_grad=True))
    *_, y = _sigmoid_unit()
    y.backward()  # frees the graph
    with pytest.raises(RuntimeError, match=r"retain_graph=True"):
        ag.explore(y)
    *_, kept = _sigmoid_unit()
    kept.backward(retain_graph=True)
    assert "Sigmoid" in ag.explore(kept).html


def _net_loss() -> ag.Tensor:
    from demos.graph import seed_004_graph

    return seed_004_graph(0)


def test_a_graph_over_the_node_limit_opens_collapsed_with_a_notice() -> None:
    loss = _net_loss()
    small = _data(ag.explore(loss).html)
    assert small["start"] == "full" and small["notice"] == ""
    page = ag.explore(loss, max_nodes=10).html
    big = _data(page)
    assert big["start"] == "compact"
    assert f"has {big['nodeCount']} nodes, more than max_nodes=10" in big["notice"]
    assert 'data-view="full"' in page and 'data-view="compact"' in page  # the full layout is still offered
    # In the compact layout each innermost module (the two Linear layers) is one node.
    assert set(big["compactAs"].values()) == {"box0", "box1"}
    compact_svg = page.split('data-view="compact"')[1]
    assert "hidden (Linear)" in compact_svg and "4 nodes, collapsed" in compact_svg
    labels = {b["label"]: b for b in big["boxes"]}
    assert set(labels) == {"Net221", "hidden (Linear)", "output (Linear)"}
    layers = sorted(labels[name]["cluster"] for name in ("hidden (Linear)", "output (Linear)"))
    assert sorted(labels["Net221"]["inner"]) == layers


def test_every_node_can_be_found_in_the_layout_by_its_title() -> None:
    page = ag.explore(_net_loss()).html
    data = _data(page)
    full_svg = page.split('data-view="full"')[1].split('data-view="compact"')[0]
    titles = set(re.findall(r'<g id="full-[^"]*" class="node">\s*<title>([^<]*)</title>', full_svg))
    assert titles == set(data["tensors"]) | set(data["ops"])
    clusters = set(re.findall(r'class="cluster">\s*<title>([^<]*)</title>', full_svg))
    assert clusters == {b["cluster"] for b in data["boxes"]}


def test_the_graph_demo_writes_explorer_pages(tmp_path: Path, capsys: Any) -> None:
    from demos import graph

    written = graph.main(["--out", str(tmp_path), "--formats", "svg", "--explore"])
    out = capsys.readouterr().out
    assert [Path(p).name for p in written["explorer"]] == ["seed004_explorer.html", "two_layer_net_explorer.html"]
    for p in written["explorer"]:
        assert p in out
        data = _data(Path(p).read_text(encoding="utf-8"))
        assert data["steps"][-1]["kind"] == "done"
    mnist = _data((tmp_path / "two_layer_net_explorer.html").read_text(encoding="utf-8"))
    images = next(t for t in mnist["tensors"].values() if t["title"] == "images")
    assert images["value"]["shape"] == "(100, 784) float64" and "..." in images["value"]["full"]  # elided


def test_pictures_leave_every_grad_as_it_was(tmp_path: Path) -> None:
    """explore and render trace their own backward pass: parameters' and retained tensors' .grad stay put."""
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    a = x.exp()
    a.retain_grad()
    loss = (a * a).sum()
    loss.backward(retain_graph=True)
    before = {"x": x.grad.data.copy(), "a": a.grad.data.copy()}
    ag.explore(loss, tmp_path / "page.html")
    ag.render(loss, tmp_path / "picture.svg", show_backward=True)
    np.testing.assert_array_equal(x.grad.data, before["x"])
    np.testing.assert_array_equal(a.grad.data, before["a"])
    np.testing.assert_allclose(a.grad.data, 2 * np.exp([1.0, 2.0]))  # d(sum a²)/da = 2a, once


def test_a_non_scalar_root_needs_grad_or_forward_only() -> None:
    y = ag.tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"explore: the backward pass starts from a one-element tensor.*shape \(2,\)"):
        ag.explore(y)
    assert "<svg" in ag.explore(y, grad=np.ones(2)).html
    assert "<svg" in ag.explore(y, show_backward=False).html
