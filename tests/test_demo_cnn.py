"""demos.cnn on tiny generated data (a few steps, never the real sets), and demos.graph's --cnn picture."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd as ag
import nn
from demos import _cli, cnn
from nn.models import lenet

ROOT = Path(__file__).resolve().parent.parent
ACCURACY_LINE = re.compile(r"^test accuracy: (\d\.\d{4})$", re.MULTILINE)


def striped_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n float32 rows of 784 pixels whose class k lights image rows 2k and 2k+1 over faint noise: learnable fast."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    images = rng.random((n, 28, 28), dtype=np.float32) * 0.2
    for image, label in zip(images, labels):
        image[2 * label : 2 * label + 2] = 1.0
    return images.reshape(n, 784), labels.astype(np.int64)


@pytest.fixture
def tiny_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Both loaders the demo can reach return 192 training and 64 test rows of (N, 784); returns the calls made."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def fake(name: str, source: str) -> Any:
        def loader(**kwargs: Any) -> Any:
            calls.append((name, kwargs))
            data = (striped_digits(192, 0), striped_digits(64, 1))
            return (data, source) if kwargs.get("return_source") else data

        return loader

    monkeypatch.setattr(_cli, "load_mnist", fake("mnist", "sample"))
    monkeypatch.setattr(_cli, "load_fashion_mnist", fake("fashion", "system"))
    monkeypatch.chdir(tmp_path)  # the default plot folder, demo-output, lands in tmp_path
    return calls


def test_help_describes_the_demo(capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cnn.main(["--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps the text
    assert cnn.DESCRIPTION in out
    for option in ("--dataset {mnist,fashion}", "--epochs", "--batch-size", "--lr", "--channels C1 C2", "--seed",
                   "--batch-norm", "--dropout", "--no-plot", "--quiet", "--out"):  # fmt: skip
        assert option in out


def test_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "demos.cnn", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "usage: python -m demos.cnn" in done.stdout


def test_rejects_a_non_positive_epoch_count_and_a_bad_dropout(capsys: Any) -> None:
    for argv, message in ((["--epochs", "0"], "must be a positive whole number"), (["--dropout", "1"], "[0, 1)")):
        with pytest.raises(SystemExit) as exit_info:
            cnn.main(argv)
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err


def test_each_dataset_has_its_recipe_and_options_override_it() -> None:
    args = cnn.parse_args([])
    assert (args.dataset, args.epochs, args.batch_size, args.lr, args.channels) == ("mnist", 15, 64, 1e-3, (8, 16))
    assert (args.hidden, args.batch_norm, args.dropout, args.lr_schedule) == (64, True, 0.0, "cosine")
    args = cnn.parse_args(["--dataset", "fashion"])
    assert {key: getattr(args, key) for key in cnn.RECIPES["fashion"]} == {
        **cnn.RECIPES["fashion"], "channels": tuple(cnn.RECIPES["fashion"]["channels"])
    }  # fmt: skip
    assert args.channels == (12, 24) and args.batch_norm and args.lr_schedule == "cosine"
    args = cnn.parse_args(["--no-batch-norm", "--lr-schedule", "constant"])  # the plain LeNet
    assert (args.batch_norm, args.lr_schedule, args.channels) == (False, "constant", (8, 16))
    args = cnn.parse_args(["--dataset", "fashion", "--no-batch-norm", "--channels", "4", "6", "--dropout", "0.3"])
    assert (args.batch_norm, args.channels, args.dropout, args.epochs, args.threads) == (False, (4, 6), 0.3, 15, 1)


def test_blas_threads_are_limited_for_the_run_only() -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]
    assert cnn.limit_blas_threads(0) is None  # 0: leave BLAS alone
    limit = cnn.limit_blas_threads(1)
    assert all(pool["num_threads"] == 1 for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas")
    limit.restore_original_limits()
    assert [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"] == before


def test_the_net_is_lenet_in_float32() -> None:
    net = lenet((8, 16), 64, generator=np.random.default_rng(0))
    names = [name for name, _ in net.named_children()]
    assert names == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "fc1", "relu3", "fc2"]
    assert sum(p.size for p in net.parameters()) == 20_522  # PyTorch's count for the same LeNet
    assert all(p.dtype == np.float32 for p in net.parameters())
    logits = net(ag.zeros(3, 1, 28, 28, dtype=ag.float32))
    assert logits.shape == (3, 10) and logits.dtype == np.float32
    wide = lenet((16, 32), 128, batch_norm=True, dropout=0.25)
    names = [name for name, _ in wide.named_children()]
    assert names[:3] == ["conv1", "bn1", "relu1"] and "bn2" in names and names[names.index("fc1") - 1] == "dropout"
    assert isinstance(wide.bn2, nn.BatchNorm2d) and wide.fc1.weight.shape == (128, 512)


def test_accuracy_uses_eval_mode_and_restores_training() -> None:
    net = lenet((4, 8), 16, batch_norm=True, dropout=0.5, generator=np.random.default_rng(0))
    x, t = striped_digits(40, 0)
    images = cnn.as_images(x)
    tracked = int(net.bn1.num_batches_tracked.item())
    first = cnn.accuracy(net, images, t)
    # eval mode: running statistics neither updated nor replaced by batch statistics, and no dropout,
    # so the figure does not change from one call to the next
    assert int(net.bn1.num_batches_tracked.item()) == tracked
    assert cnn.accuracy(net, images, t) == first
    assert net.training and net.bn1.training and net.dropout.training


def test_one_epoch_on_tiny_data_reports_and_plots(tiny_data: list, tmp_path: Path, capsys: Any) -> None:
    result = cnn.main(["--epochs", "1", "--batch-size", "32", "--quiet"])
    out = capsys.readouterr().out
    assert [name for name, _ in tiny_data] == ["mnist"] and tiny_data[0][1]["source"] == "auto"
    match = ACCURACY_LINE.search(out)
    assert match is not None, out
    assert float(match.group(1)) == pytest.approx(result["test_accuracy"], abs=5e-5)
    assert "data: MNIST, 192 training and 64 test images" in out and "epoch   1: loss" in out
    assert len(result["history"]["test acc"]) == 1 and len(result["epoch_seconds"]) == 1
    plot = tmp_path / "demo-output" / "cnn_mnist_accuracy.png"
    assert result["plot"] == str(Path("demo-output") / "cnn_mnist_accuracy.png")
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_a_few_epochs_learn_the_tiny_classes(tiny_data: list, capsys: Any) -> None:
    result = cnn.main(["--epochs", "4", "--batch-size", "16", "--lr", "3e-3", "--quiet", "--no-plot"])
    history = result["history"]
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    # chance is 0.1; the stripes are easy, so a working conv net with a right gradient gets most of them
    assert result["test_accuracy"] >= 0.8
    assert "plot written" not in capsys.readouterr().out


def test_the_fashion_option_reaches_its_loader_and_recipe(tiny_data: list, tmp_path: Path, capsys: Any) -> None:
    out_dir = tmp_path / "pictures"
    argv = ["--dataset", "fashion", "--epochs", "1", "--channels", "4", "8", "--quiet", "--out", str(out_dir)]
    result = cnn.main(argv)
    out = capsys.readouterr().out
    assert [name for name, _ in tiny_data] == ["fashion"]
    assert tiny_data[0][1]["normalize"] is True
    assert "data: Fashion-MNIST" in out and "batch norm" in out and "cosine schedule" in out
    assert ACCURACY_LINE.search(out) is not None
    model = result["model"]
    assert isinstance(model.bn1, nn.BatchNorm2d) and int(model.bn1.num_batches_tracked.item()) == 3  # 192 / 64
    assert model.training  # back in training mode after the test-set evaluation
    assert (out_dir / "cnn_fashion_accuracy.png").read_bytes()[:4] == b"\x89PNG"


def test_the_graph_demo_draws_the_cnn_by_module(tmp_path: Path, capsys: Any) -> None:
    from demos import graph

    written = graph.main(["--out", str(tmp_path), "--formats", "svg", "--cnn", "--explore"])
    out = capsys.readouterr().out
    assert written["cnn"] == [str(tmp_path / "lenet_cnn.svg")] and written["cnn"][0] in out
    svg = (tmp_path / "lenet_cnn.svg").read_text()
    for module in ("conv1 (Conv2d)", "bn1 (BatchNorm2d)", "pool2 (MaxPool2d)", "fc2 (Linear)", "Conv2dFunction"):
        assert module in svg
    assert "grad" in svg
    page = tmp_path / "lenet_cnn_explorer.html"
    assert str(page) in written["explorer"] and "conv1.weight" in page.read_text()
