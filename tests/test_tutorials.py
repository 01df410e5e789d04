"""The tutorials in docs/tutorials run, top to bottom, from a clean kernel.

Each tutorial is a Jupytext Markdown notebook: readable as Markdown, runnable as a notebook,
with no outputs stored. Every claim in one is an assertion, so executing it is its test. The
kernel is always this interpreter (a kernelspec written for the test, not whatever "python3"
means on the machine), started in a temporary folder, which receives the files a tutorial
writes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "docs" / "tutorials"
EXPECTED = [
    "01-chain-rule.md",
    "02-mnist-two-layer.md",
    "03-test-your-op.md",
    "04-inside-the-engine.md",
    "cnn.md",
    "compile.md",
]
PATHS = sorted(TUTORIALS.glob("*.md"))

try:
    import ipykernel  # noqa: F401  (the kernel itself)
    import jupytext
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
except ImportError as err:
    MISSING = f"running the tutorials needs jupytext, nbclient and ipykernel (pip install -e '.[docs]'): {err}"
else:
    MISSING = None

needs_jupyter = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")


def kernel_manager(spec_dir: Path) -> KernelManager:
    """A kernel manager whose "python3" kernel is this very interpreter, whatever else is installed."""
    kernel_dir = spec_dir / "python3"
    kernel_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (this interpreter)",
        "language": "python",
    }
    (kernel_dir / "kernel.json").write_text(json.dumps(spec))
    return KernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec_dir)]))


def execute(nb, workdir: Path, spec_dir: Path) -> None:
    """Run every cell of `nb` in a fresh kernel started in `workdir`; raises CellExecutionError on failure."""
    km = kernel_manager(spec_dir)
    resources = {"metadata": {"path": str(workdir)}}  # the kernel's working directory
    client = NotebookClient(nb, km=km, timeout=120, kernel_name="python3", resources=resources)
    try:
        client.execute()
    finally:
        if km.has_kernel:
            km.shutdown_kernel(now=True)


@pytest.fixture
def kernel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel inherits this environment: plots without a display, one BLAS thread, this checkout importable."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        # the tutorials' matrices are small: BLAS threads would only fight the other tests for the cores
        monkeypatch.setenv(threads, "1")
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", str(ROOT) if not path else os.pathsep.join([str(ROOT), path]))


def test_the_tutorials_are_there() -> None:
    names = [p.name for p in PATHS]
    assert set(EXPECTED) <= set(names), f"missing tutorials: {sorted(set(EXPECTED) - set(names))}"


def test_no_outputs_or_generated_files_are_committed() -> None:
    """Only Jupytext Markdown belongs in docs/tutorials: no .ipynb (which would carry outputs), and
    none of the files a run writes (pictures, pages, silu.py...) tracked by git."""
    notebooks = sorted(p.name for p in TUTORIALS.glob("*.ipynb"))
    assert not notebooks, f"docs/tutorials holds .ipynb files, which carry outputs: {notebooks}; keep only the .md"
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        return
    listed = subprocess.run(
        [git, "ls-files", "--", "docs/tutorials"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    tracked = sorted(name for name in listed if not name.endswith(".md"))
    assert not tracked, f"files written by running a tutorial are tracked by git: {tracked}"


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_tutorial_has_the_jupytext_header(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\njupyter:\n"), f"{path.name} must start with Jupytext's YAML header"
    header = text.split("\n---\n", 1)[0]
    for line in ("extension: .md", "format_name: markdown", "name: python3", "language: python"):
        assert line in header, f"{path.name}: the Jupytext header lacks {line!r}"
    assert "```python" in text, f"{path.name} has no python code cells"


@needs_jupyter
@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_tutorial_has_no_outputs(path: Path) -> None:
    nb = jupytext.read(path)
    assert nb.metadata["jupytext"]["text_representation"]["format_name"] == "markdown"
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, f"{path.name} has no code cells"
    for cell in code:
        assert not cell.get("outputs") and cell.get("execution_count") is None, f"{path.name}: a cell has outputs"


@needs_jupyter
def test_the_kernel_is_this_interpreter(tmp_path: Path, kernel_env: None) -> None:
    """The notebooks run on the interpreter that runs pytest, in the folder given, with the checkout importable."""
    work = tmp_path / "work"
    work.mkdir()
    cell = (
        "import os, sys, autograd\n"
        "print(sys.executable, sys.prefix, os.getcwd(), os.environ['MPLBACKEND'], autograd.__file__, sep='\\n')"
    )
    nb = jupytext.reads(f"```python\n{cell}\n```\n", fmt="md")
    execute(nb, work, tmp_path / "kernels")
    executable, prefix, cwd, backend, package = nb.cells[0].outputs[0]["text"].split("\n")[:5]
    assert (executable, prefix) == (sys.executable, sys.prefix)  # not merely the same binary: the same environment
    assert Path(cwd).resolve() == work.resolve()
    assert backend == "Agg"
    assert Path(package).resolve().is_relative_to(ROOT), f"the kernel imported autograd from {package}, not {ROOT}"


@needs_jupyter
@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_tutorial_runs(path: Path, tmp_path: Path, kernel_env: None) -> None:
    work = tmp_path / "work"
    work.mkdir()
    nb = jupytext.read(path)
    try:
        execute(nb, work, tmp_path / "kernels")
    except CellExecutionError as err:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", str(err))  # IPython colours its tracebacks
        pytest.fail(f"{path.relative_to(ROOT)} failed:\n{plain}", pytrace=False)
