"""PyTorch-style scripts (tests/scripts/) that differ from PyTorch code only in their imports:
each runs unchanged and gives the numbers the maths says PyTorch gives."""

from __future__ import annotations

import ast
import math
import runpy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

SCRIPTS = Path(__file__).parent / "scripts"


def run(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    monkeypatch.chdir(tmp_path)
    return runpy.run_path(str(SCRIPTS / f"{name}.py"), run_name="__main__")


@pytest.mark.parametrize("name", ["fit_cubic", "classify_rings", "custom_relu"])
def test_scripts_use_only_the_pytorch_surface(name: str) -> None:
    tree = ast.parse((SCRIPTS / f"{name}.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"autograd", "nn", "math", "os", "tempfile"}  # torch's names, and the standard library
    attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert not attributes & {"data", "numpy", "_data"}  # no reaching under the tensor surface


def test_a_cubic_fitted_by_gradient_descent_reaches_least_squares(monkeypatch: Any, tmp_path: Path) -> None:
    ns = run("fit_cubic", monkeypatch, tmp_path)
    x = np.linspace(-1, 1, 201)
    design = np.stack([np.ones_like(x), x, x**2, x**3], axis=1)
    best, *_ = np.linalg.lstsq(design, np.sin(math.pi * x), rcond=None)  # where gradient descent must end
    found = [ns[k].item() for k in "abcd"]
    np.testing.assert_allclose(found, best, atol=1e-9)


def test_a_small_mlp_separates_two_rings_and_reloads(monkeypatch: Any, tmp_path: Path) -> None:
    ns = run("classify_rings", monkeypatch, tmp_path)
    assert ns["accuracy"] == 1.0 and ns["reloaded_accuracy"] == ns["accuracy"]
    assert ns["device"] == "cpu"


def test_a_custom_function_in_pytorch_style(monkeypatch: Any, tmp_path: Path) -> None:
    ns = run("custom_relu", monkeypatch, tmp_path)
    x = ns["x"].numpy()
    # d/dx sum(relu(x)^2) = 2 relu(x) where x > 0, else 0
    assert ns["manual_grad"].tolist() == (2 * np.maximum(x, 0) * (x > 0)).tolist()
    assert ns["ok"] is True
