"""The README's main job, demos.mnist, on the offline sample with small settings; and demos.graph."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from demos import mnist
from nn.models import TwoLayerNet


def test_help_describes_the_demo(capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_info:
        mnist.main(["--help"])
    assert exit_info.value.code == 0
    assert "two-layer MNIST net" in capsys.readouterr().out


def test_a_short_run_learns_and_reports(tmp_path: Any, capsys: Any) -> None:
    plot = tmp_path / "acc.png"
    result = mnist.main(["--epochs", "3", "--source", "sample", "--skip-numerical", "--plot", str(plot), "--quiet"])
    out = capsys.readouterr().out
    assert "offline sample" in out and "final test accuracy" in out and "time per training step" in out
    history = result["history"]
    assert len(history["loss"]) == 3 and history["loss"][-1] < history["loss"][0]
    assert result["test_accuracy"] > 0.2  # 3 epochs at lr 0.1 is early days; chance is 0.1
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_the_numerical_and_autograd_gradients_it_compares_agree() -> None:
    rng = np.random.default_rng(0)
    net = TwoLayerNet(30, 8, 10, weight_init_std=0.3, generator=rng)
    figures = mnist.compare_with_numerical(net, rng.random((20, 30)), rng.integers(0, 10, 20))
    assert figures["max_abs_diff"] < 1e-8
    assert figures["numerical_s"] > 0 and figures["autograd_s"] > 0


def test_the_graph_demo_writes_both_pictures_in_both_formats(tmp_path: Any, capsys: Any) -> None:
    from demos import graph

    written = graph.main(["--out", str(tmp_path)])
    out = capsys.readouterr().out
    for paths in written.values():
        assert [p.rsplit(".", 1)[1] for p in paths] == ["svg", "png"]
        for p in paths:
            assert p in out
    svg = (tmp_path / "seed004_backprop.svg").read_text()
    assert "hidden.weight" in svg and "output (Linear)" in svg and "grad" in svg
