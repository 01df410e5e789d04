"""The benchmark (demos.benchmark), run in-process with almost no repetitions: every row is built and checked
against the numpy floor, the table prints and the JSON has its schema. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from demos import benchmark
from demos.bench import numpy_ref, workloads
from demos.bench.problems import CheckResult, chain_problem, compare, mnist_problem
from demos.bench.runner import Row
from demos.bench.timing import Stats

# Traces steps with autograd.compile (the benchmark through its compiled rows): the mutation check's
# wrapped backward would run inside a trace, so it leaves these tests out.
pytestmark = pytest.mark.no_mutation

HAVE_FASHION_MNIST = not isinstance(workloads.fashion_mnist_train(), str)

ROW_KEYS = {"workload", "engine", "kind", "unit", "median", "q1", "q3", "min", "max", "samples", "per_sample",
            "cpu_per_wall", "ratio", "target", "met", "miss", "achieved", "check", "note"}  # fmt: skip


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    """One smoke run of every workload, our engine and the references only: (returned document, written JSON)."""
    path = tmp_path_factory.mktemp("bench") / "out.json"
    doc = benchmark.main(["--smoke", "--engines", "numpy,seedgrad", "--json", str(path)])
    return doc, json.loads(path.read_text(encoding="utf-8"))


def test_every_workload_has_its_floor_and_our_engine(smoke: Any) -> None:
    doc, _ = smoke
    rows = doc["rows"]
    for workload in workloads.WORKLOADS:
        mine = [r for r in rows if r["workload"].startswith(workload)]
        if workload == "epoch" and not HAVE_FASHION_MNIST:
            assert not mine and any(note.startswith("epoch: skipped") for note in doc["notes"])
            continue
        assert mine, f"no rows for {workload}"
        assert any(r["engine"].startswith("seedgrad") for r in mine), workload
    for name in ("mnist-step float64", "mnist-step float32", "xor-step", "op-overhead (per op)", "mlp-large float32",
                 "inference float64", "numerical-gradient"):  # fmt: skip
        first = next(r for r in rows if r["workload"] == name)
        assert first["kind"] == "floor" and first["ratio"] == 1.0, name


def test_every_engine_row_passed_its_check_against_the_floor(smoke: Any) -> None:
    doc, _ = smoke
    engine_rows = [r for r in doc["rows"] if r["kind"] == "engine"]
    assert len(engine_rows) >= 15
    for row in engine_rows:
        assert row["check"]["passed"], f"{row['workload']} / {row['engine']}: {row['check']['detail']}"
        assert row["median"] is not None, row
    assert doc["summary"]["checks_failed"] == []


def test_the_json_has_the_schema(smoke: Any) -> None:
    doc, written = smoke
    assert written["schema"] == "seedgrad-benchmark/1"
    assert set(written) >= {"machine", "config", "rows", "notes", "summary", "peers", "peers_missing", "runtime_s"}
    machine = written["machine"]
    assert set(machine) >= {"cpu", "cores", "python", "numpy", "blas", "threads", "date"}
    assert machine["threads"]["requested"] == 1
    for row in written["rows"]:
        assert set(row) == ROW_KEYS
        assert set(row["check"]) == {"passed", "max_rel_error", "tolerance", "detail"}
        assert row["kind"] in ("floor", "reference", "engine", "peer")
        if row["samples"]:
            assert row["min"] <= row["q1"] <= row["median"] <= row["q3"] <= row["max"]
    assert written["summary"]["targets"] == sum(r["met"] is not None for r in written["rows"])
    assert written["rows"] == json.loads(json.dumps(doc["rows"]))  # the file is the document


def test_the_table_prints_every_row_and_the_machine(capsys: pytest.CaptureFixture[str]) -> None:
    doc = benchmark.main(["--smoke", "--only", "xor-step,inference", "--engines", "seedgrad"])
    out = capsys.readouterr().out
    assert "machine:" in out and "threads: 1 requested" in out and doc["machine"]["cpu"] in out
    for heading in ("workload", "engine", "median", "spread (IQR)", "x floor", "target", "met?"):
        assert heading in out
    for row in doc["rows"]:
        assert row["engine"] in out
    assert {r["workload"] for r in doc["rows"]} == {"xor-step", "inference float64"}


def test_the_cli_lists_the_same_workloads_as_the_runner() -> None:
    assert benchmark.WORKLOADS == workloads.WORKLOADS  # the CLI cannot import numpy before pinning threads


def test_unknown_workloads_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        benchmark.main(["--only", "mnist"])
    assert exit_info.value.code == 2
    assert "unknown workload" in capsys.readouterr().err


def test_a_wrong_gradient_fails_the_check() -> None:
    p = mnist_problem(np.float32)
    reference = numpy_ref.two_layer_minimal(p).check()
    assert compare(reference, numpy_ref.layer_classes(p).check(), 1e-4).passed
    broken = dict(reference, W1=reference["W1"] * 1.001)
    result = compare(reference, broken, 1e-4)
    assert not result.passed and "W1" in result.detail


def test_the_chain_is_the_identity_with_a_unit_gradient() -> None:
    p = chain_problem(800)
    out = numpy_ref.chain_minimal(p).check()
    assert np.allclose(out["x.grad"], 1.0) and np.isclose(out["out"], p.x.sum())  # the chain is the identity


@pytest.mark.skipif(not HAVE_FASHION_MNIST, reason="Fashion-MNIST is not installed")
def test_epoch_rows_run_each_net_and_dtype_against_the_floor_with_pytorch_as_the_target(smoke: Any) -> None:
    doc, _ = smoke
    epochs = [r for r in doc["rows"] if r["workload"].startswith("epoch")]
    assert {r["workload"] for r in epochs} == {
        "epoch 784-50-10 sigmoid SGD float64", "epoch 784-50-10 sigmoid SGD float32",
        "epoch 784-256-128-10 ReLU Adam float64", "epoch 784-256-128-10 ReLU Adam float32",
    }  # fmt: skip
    for row in epochs:
        if row["kind"] == "floor":
            assert row["engine"] == "numpy minimal" and row["ratio"] == 1.0
        else:
            assert row["kind"] == "engine" and row["target"] == "≤ PyTorch" and row["check"]["passed"], row
    assert any("epochs are timed on 4 of their 600 steps" in note for note in doc["notes"])


def test_the_epoch_workload_is_skipped_with_a_note_when_the_data_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workloads, "fashion_mnist_train", lambda: "system: not found")
    doc = benchmark.main(["--smoke", "--only", "epoch", "--engines", "numpy,seedgrad"])
    assert doc["rows"] == [] and doc["summary"]["checks_failed"] == []
    assert any(note.startswith("epoch: skipped") and "system: not found" in note for note in doc["notes"])


def test_epoch_rows_are_judged_by_their_time_against_pytorchs() -> None:
    def row(engine: str, kind: str, seconds: float) -> Row:
        return Row("epoch", engine, kind, "s", CheckResult(True, 0.0, 0.0, ""), Stats.of([seconds]))

    rows = [row("numpy minimal", "floor", 1.0), row("fast", "engine", 1.8), row("slow", "engine", 2.2),
            row("PyTorch", "peer", 2.0)]  # fmt: skip
    workloads._against_pytorch(rows)
    assert (rows[1].met, rows[1].achieved) == (True, "0.90x PyTorch")
    assert (rows[2].met, rows[2].miss) == (False, "1.10x PyTorch")
    assert rows[0].met is rows[3].met is None
    alone = [row("numpy minimal", "floor", 1.0), row("ours", "engine", 1.5)]
    workloads._against_pytorch(alone)  # no PyTorch: the target is shown, not judged
    assert alone[1].target == "≤ PyTorch" and alone[1].met is None


def test_importing_the_benchmark_leaves_numpy_unloaded() -> None:
    """The BLAS thread count can only be pinned before numpy loads, so the CLI module must not import it."""
    code = "import sys, demos.benchmark; print('numpy' in sys.modules)"
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    assert out.stdout.strip() == "False"


def test_cnn_step_rows_are_checked_against_the_floor_with_targets_against_pytorch_and_im2col(smoke: Any) -> None:
    doc, _ = smoke
    steps = [r for r in doc["rows"] if r["workload"] == "cnn-step float32"]
    assert [r["kind"] for r in steps] == ["floor", "engine"]
    assert steps[0]["engine"] == "numpy im2col" and steps[0]["ratio"] == 1.0
    ours = steps[1]
    assert ours["target"] == "≤ 2x PyTorch" and ours["check"]["passed"] and ours["median"] > 0
    assert ours["met"] is None  # no PyTorch row in this run: shown, not judged
    (memory,) = [r for r in doc["rows"] if r["workload"] == "memory: cnn-step peak"]
    assert memory["unit"] == "B" and memory["target"] == f"≤ {workloads.CNN_MEMORY_TARGET:g}x the largest im2col"
    assert memory["met"] is True and memory["median"] > workloads.im2col_bytes(workloads.cnn_problem())


def test_the_cnn_floor_agrees_with_our_lenet_on_loss_gradients_and_parameters() -> None:
    from demos.bench import seedgrad_rows

    p = workloads.cnn_problem(batch=8)
    reference = numpy_ref.lenet_minimal(p).check()
    assert {"loss", "grad conv1.weight", "conv1.weight", "fc2.bias"} <= set(reference)
    assert compare(reference, seedgrad_rows.cnn_lenet(p).check(), 1e-4).passed
    broken = dict(reference, **{"grad conv2.weight": reference["grad conv2.weight"] * 1.001})
    assert not compare(reference, broken, 1e-4).passed


def test_against_pytorch_takes_a_factor() -> None:
    def row(engine: str, kind: str, seconds: float) -> Row:
        return Row("cnn", engine, kind, "s", CheckResult(True, 0.0, 0.0, ""), Stats.of([seconds]))

    rows = [row("numpy", "floor", 1.0), row("ours", "engine", 3.0), row("PyTorch", "peer", 2.0)]
    workloads._against_pytorch(rows, 2.0)
    assert (rows[1].target, rows[1].met, rows[1].achieved) == ("≤ 2x PyTorch", True, "1.50x PyTorch")
    workloads._against_pytorch(rows, 1.2)
    assert (rows[1].met, rows[1].miss) == (False, "1.50x PyTorch")
