"""demos.mnist and demos.nielsen with --dataset fashion and --model mlp, on tiny generated Fashion-MNIST files.

The real loader runs: it reads four small IDX files written here, verified by their own SHA-256,
so the demos go through `load_fashion_mnist` exactly as with Debian's copy, in well under a second.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nn
from demos import _cli, mnist, nielsen
from nn.datasets import load_fashion_mnist

N_TRAIN, N_TEST = 400, 100


def labelled_images(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n 28x28 uint8 images whose class k lights rows 2k and 2k+1 over faint noise: learnable in a few steps."""
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    images = rng.integers(0, 60, size=(n, 28, 28), dtype=np.uint8)
    for image, label in zip(images, labels):
        image[2 * label : 2 * label + 2] = 255
    return images, labels.astype(np.uint8)


def write_idx(path: Path, array: np.ndarray) -> str:
    """Write `array` as a gzipped IDX file (magic 2051 for images, 2049 for labels); return the data's SHA-256."""
    magic = 0x803 if array.ndim == 3 else 0x801
    data = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    path.write_bytes(gzip.compress(data))
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def tiny_fashion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Point the demos' Fashion-MNIST loader at tiny generated files; returns the keyword arguments of each call."""
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    (x_train, t_train), (x_test, t_test) = labelled_images(N_TRAIN, rng), labelled_images(N_TEST, rng)
    files = {"train-images-idx3-ubyte": x_train, "train-labels-idx1-ubyte": t_train,
             "t10k-images-idx3-ubyte": x_test, "t10k-labels-idx1-ubyte": t_test}  # fmt: skip
    checksums = {name: write_idx(folder / f"{name}.gz", array) for name, array in files.items()}
    loader = functools.partial(
        load_fashion_mnist, system_dirs=[folder], mirrors=(), checksums=checksums, cache_dir=tmp_path / "cache"
    )
    calls: list[dict[str, Any]] = []

    def recording_loader(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return loader(**kwargs)

    monkeypatch.setattr(_cli, "load_fashion_mnist", recording_loader)
    monkeypatch.chdir(tmp_path)  # the default plot lands in tmp_path/demo-output
    return calls


def test_both_demos_offer_the_dataset_option(capsys: Any) -> None:
    for demo in (mnist, nielsen):
        with pytest.raises(SystemExit):
            demo.main(["--help"])
        assert "--dataset {mnist,fashion}" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        mnist.main(["--help"])
    assert "--model {two-layer,mlp}" in capsys.readouterr().out


def test_mnist_and_the_two_layer_net_stay_the_defaults() -> None:
    args = mnist.parse_args([])
    assert (args.dataset, args.model, args.optimizer, args.activation, args.hidden) == (
        "mnist", "two-layer", "sgd", "sigmoid", 50,
    )  # fmt: skip
    assert (args.epochs, args.batch_size, args.lr) == (50, 100, 0.1)
    assert args.plot == Path("demo-output/mnist_accuracy.png")
    assert nielsen.parse_args([]).dataset == "mnist"


def test_the_mlp_has_its_own_defaults_which_options_override() -> None:
    args = mnist.parse_args(["--model", "mlp", "--dataset", "fashion"])
    assert (args.epochs, args.batch_size, args.lr, args.optimizer) == (20, 128, 1e-3, "adam")
    assert args.plot == Path("demo-output/fashion_mlp_accuracy.png")
    args = mnist.parse_args(["--model", "mlp", "--epochs", "3", "--batch-size", "100", "--lr", "0.01"])
    assert (args.epochs, args.batch_size, args.lr, args.optimizer) == (3, 100, 0.01, "adam")
    assert mnist.parse_args(["--dataset", "fashion"]).plot == Path("demo-output/fashion_accuracy.png")


def test_the_mlp_refuses_the_two_layer_options(capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_info:
        mnist.parse_args(["--model", "mlp", "--hidden", "30"])
    assert exit_info.value.code == 2
    assert "784-256-128-10" in capsys.readouterr().err


def test_the_mlp_is_784_256_128_10_relu_with_adam() -> None:
    args = mnist.parse_args(["--model", "mlp"])
    model, optimizer, description = mnist.build_model(args, np.random.default_rng(0))
    assert isinstance(model, nn.Sequential) and isinstance(optimizer, nn.optim.Adam)
    layers = list(model.children())
    assert [type(layer).__name__ for layer in layers] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert [layer.weight.shape for layer in layers[::2]] == [(256, 784), (128, 256), (10, 128)]
    assert optimizer.param_groups[0]["lr"] == 1e-3
    assert sum(p.size for p in model.parameters()) == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    assert "784-256-128-10 ReLU MLP, ADAM lr 0.001, batch 128" in description


def test_mnist_demo_trains_on_fashion_and_names_it(tiny_fashion: list[dict[str, Any]], capsys: Any) -> None:
    result = mnist.main(["--dataset", "fashion", "--epochs", "2", "--batch-size", "10", "--lr", "0.5",
                         "--skip-numerical", "--quiet"])  # fmt: skip
    out = capsys.readouterr().out
    assert len(tiny_fashion) == 1 and tiny_fashion[0]["normalize"] and tiny_fashion[0]["flatten"]
    assert result["dataset"] == "fashion" and result["source"] == "system"
    assert f"data: Fashion-MNIST, {N_TRAIN} training and {N_TEST} test images" in out
    assert "final test accuracy" in out and "(Fashion-MNIST, 100 test images)" in out
    history = result["history"]
    assert history["loss"][-1] < history["loss"][0]
    assert result["test_accuracy"] > 0.5  # chance is 0.1; the rows that light up give the class away
    assert result["plot"] == str(Path("demo-output/fashion_accuracy.png"))
    assert Path(result["plot"]).read_bytes()[:4] == b"\x89PNG"
    assert not Path("demo-output/mnist_accuracy.png").exists()  # MNIST's plot is left alone
    assert len(result["epoch_seconds"]) == 2 and "time per epoch" in out


def test_the_mlp_trains_with_adam(tiny_fashion: list[dict[str, Any]], capsys: Any) -> None:
    argv = ["--dataset", "fashion", "--model", "mlp", "--epochs", "2", "--batch-size", "32", "--quiet"]
    untrained, _, _ = mnist.build_model(mnist.parse_args(argv), np.random.default_rng(0))
    result = mnist.main(argv)
    out = capsys.readouterr().out
    model, optimizer = result["model"], result["optimizer"]
    assert isinstance(optimizer, nn.optim.Adam)
    for before, after in zip(untrained.parameters(), model.parameters()):
        assert before.shape == after.shape and not np.allclose(before.data, after.data)
    assert result["history"]["loss"][-1] < result["history"]["loss"][0]
    assert result["test_accuracy"] > 0.8
    assert "model: 784-256-128-10 ReLU MLP, ADAM lr 0.001, batch 32, 2 epochs" in out
    assert "numerical-gradient comparison skipped" in out
    assert Path(result["plot"]).name == "fashion_mlp_accuracy.png" and Path(result["plot"]).is_file()


def test_the_cosine_schedule_anneals_the_lr(tiny_fashion: list[dict[str, Any]], capsys: Any) -> None:
    argv = ["--dataset", "fashion", "--model", "mlp", "--epochs", "2", "--lr-schedule", "cosine", "--no-plot"]
    result = mnist.main([*argv, "--quiet"])
    assert result["optimizer"].param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)  # 0 after the last epoch
    assert "cosine schedule" in capsys.readouterr().out


def test_nielsen_trains_on_fashion_and_names_it(tiny_fashion: list[dict[str, Any]], capsys: Any) -> None:
    result = nielsen.main(["--dataset", "fashion", "--epochs", "2"])
    out = capsys.readouterr().out
    assert len(tiny_fashion) == 1 and result["dataset"] == "fashion" and result["source"] == "system"
    assert f"data: Fashion-MNIST, {N_TRAIN} training pairs" in out
    assert f"/ {N_TEST} test images correct" in out and "(Fashion-MNIST, 100 test images" in out
    assert len(result["accuracies"]) == 2 and len(result["epoch_seconds"]) == 2
    assert result["test_accuracy"] > 0.5


def test_fashion_has_no_offline_sample(tiny_fashion: list[dict[str, Any]]) -> None:
    for demo in (mnist, nielsen):
        with pytest.raises(SystemExit, match="Fashion-MNIST has none"):
            demo.main(["--dataset", "fashion", "--source", "sample", "--epochs", "1"])
    assert tiny_fashion == []


def test_missing_fashion_data_exits_with_the_loaders_advice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = functools.partial(load_fashion_mnist, system_dirs=[tmp_path], mirrors=(), cache_dir=tmp_path / "cache")
    monkeypatch.setattr(_cli, "load_fashion_mnist", empty)
    with pytest.raises(SystemExit, match="apt-get install dataset-fashion-mnist"):
        nielsen.main(["--dataset", "fashion"])
