"""The documentation site builds with `mkdocs build --strict` and has the pages it promises."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ("01-chain-rule", "02-mnist-two-layer", "03-test-your-op", "04-inside-the-engine", "cnn", "compile")

for _module in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"):
    pytest.importorskip(_module, reason="the docs site needs the docs extra: pip install -e '.[docs]'")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site_dir = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir),
         "--config-file", str(ROOT / "mkdocs.yml")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    return site_dir


def page(site: Path, path: str) -> str:
    return (site / path / "index.html").read_text(encoding="utf-8")


def test_tutorials_and_guides_are_built(site: Path) -> None:
    for name in TUTORIALS:
        assert (site / "tutorials" / name / "index.html").is_file(), f"tutorial {name} missing from the site"
    for name in ("testing", "porting", "architecture"):
        assert (site / name / "index.html").is_file(), f"guide {name} missing from the site"
    tutorial = page(site, "tutorials/01-chain-rule")
    assert "jupytext" not in tutorial, "the tutorial's Jupytext front matter leaked into the page"
    assert '<span class="kn">import</span>' in tutorial, "the tutorial's python code is not highlighted"


def test_reference_documents_tensor_methods(site: Path) -> None:
    autograd_page = page(site, "reference/autograd")
    # backward is installed on Tensor at import time: only an imported (inspected) package shows it
    for anchor in ("autograd.Tensor.backward", "autograd.Tensor.sum", "autograd.grad", "autograd.Function",
                   "autograd.gradcheck", "autograd.op_functions.exp"):  # fmt: skip
        assert f'id="{anchor}"' in autograd_page, f"{anchor} is not documented"
    assert "object at 0x" not in autograd_page, "a default shows as a memory address, not its name"
    nn_page = page(site, "reference/nn")
    for anchor in ("nn.Module", "nn.Linear", "nn.CrossEntropyLoss", "nn.optim.SGD", "nn.DataLoader",
                   "nn.datasets.load_mnist", "nn.init.xavier_uniform_", "nn.save"):  # fmt: skip
        assert f'id="{anchor}"' in nn_page, f"{anchor} is not documented"
    assert 'id="autograd.testing.check_op"' in page(site, "reference/testing")


def test_doctests_render_as_code(site: Path) -> None:
    for name in ("autograd", "nn", "testing"):
        html = page(site, f"reference/{name}")
        assert "<blockquote>" not in html, f"reference/{name}: a >>> example rendered as nested quotes"
    assert "&gt;&gt;&gt;" in page(site, "reference/autograd")


def test_search_index(site: Path) -> None:
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    locations = {doc["location"].split("#")[0] for doc in index["docs"]}
    assert {"", "reference/autograd/", "tutorials/01-chain-rule/"} <= locations
