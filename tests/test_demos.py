"""The small demos (xor, regression, nielsen), run in-process with their defaults or small settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from demos import nielsen, regression, xor

DEMOS = [xor, regression, nielsen]
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("demo", DEMOS, ids=lambda demo: demo.__name__)
def test_help_describes_the_demo(demo: ModuleType, capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_info:
        demo.main(["--help"])
    assert exit_info.value.code == 0
    assert demo.DESCRIPTION in " ".join(capsys.readouterr().out.split())  # argparse wraps the text


@pytest.mark.parametrize("demo", DEMOS, ids=lambda demo: demo.__name__)
def test_runs_as_a_module(demo: ModuleType) -> None:
    done = subprocess.run(
        [sys.executable, "-m", demo.__name__, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert f"usage: python -m {demo.__name__}" in done.stdout


@pytest.mark.parametrize("demo", DEMOS, ids=lambda demo: demo.__name__)
def test_rejects_a_non_positive_epoch_count(demo: ModuleType, capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_info:
        demo.main(["--epochs", "0"])
    assert exit_info.value.code == 2
    assert "must be a positive whole number" in capsys.readouterr().err


def test_xor_and_the_four_points_are_learned(capsys: Any) -> None:
    result = xor.main([])
    out = capsys.readouterr().out
    assert result["xor_accuracy"] == 1.0
    assert "accuracy: 4 / 4 (100%)" in out
    # Not just on the right side of 0.5: each output is confidently near its target.
    assert np.allclose(result["xor_probabilities"], [0, 1, 1, 0], atol=0.05)
    assert result["four_points_correct"] == 4
    assert "correct: 4 / 4" in out
    assert np.allclose(result["four_points_predictions"], [1, 0, 0, 1], atol=0.1)
    assert result["four_points_loss"] < 0.01


def test_regression_reaches_its_stated_error(capsys: Any) -> None:
    result = regression.main([])
    out = capsys.readouterr().out
    assert result["test_mse"] < 1e-3
    assert result["test_mse_history"][0] > 1.0  # it starts far off: the fit is learned, not given
    assert abs(result["probe"] - 2.0) < 0.05  # 3 * 0.5 + 2 * 0.25
    assert "epoch 5 (5,000 steps): test MSE" in out
    assert abs(result["w"] - 1.0) < 1e-4 and abs(result["b"]) < 1e-4
    assert "learned: w = 1.0000, b = 0.0000" in out


def test_nielsen_data_has_his_shapes() -> None:
    images = np.arange(2 * 784, dtype=np.float32).reshape(2, 784) / 2000
    labels = np.array([3, 7])
    training = nielsen.nielsen_training_data(images, labels)
    (x0, y0), (x1, y1) = training
    assert x0.shape == (784, 1) and y0.shape == (10, 1)
    assert np.array_equal(x1.ravel(), images[1])
    assert y0.ravel().tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0] and int(y1.argmax()) == 7
    test = nielsen.nielsen_test_data(images, labels)
    assert test[0][0].shape == (784, 1) and [label for _, label in test] == [3, 7]
    assert all(type(label) is int for _, label in test)


def test_nielsen_learns_digits_in_two_epochs(capsys: Any) -> None:
    result = nielsen.main(["--epochs", "2", "--source", "sample"])
    out = capsys.readouterr().out
    assert result["source"] == "sample" and "offline sample" in out
    assert len(result["accuracies"]) == 2 and "epoch  2:" in out
    # Chance is 0.1. With seed 0 the net gets 0.88 after one epoch and 0.90 after two on the
    # 1,000 sample test digits; 0.6 leaves room for other BLAS builds while still ruling out a
    # net that learned little (a broken gradient stays near chance).
    assert result["test_accuracy"] > 0.6
    assert "final test accuracy" in out
