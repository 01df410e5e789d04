"""demos.compile (the program and the timing table) and the picture of a compiled step (autograd.render)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
from autograd.compiler.picture import PHASE_COLOURS, program_lines
from demos import compile as demo
from nn.models import Net221

# Traces steps with autograd.compile (the benchmark through its compiled rows): the mutation check's
# wrapped backward would run inside a trace, so it leaves these tests out.
pytestmark = pytest.mark.no_mutation

ROOT = Path(__file__).resolve().parent.parent


def net221_step() -> tuple[ag.compiler.CompiledStep, ag.Tensor, ag.Tensor]:
    net = Net221(generator=np.random.default_rng(4))
    step = ag.compile(demo.sgd_step(net, lambda x, t: ((net(x) - t) ** 2).mean()))
    return step, ag.Tensor(np.array([[-2.0, -1.0], [25.0, 6.0]])), ag.Tensor(np.array([[1.0], [0.0]]))


def test_help() -> None:
    result = subprocess.run([sys.executable, "-m", "demos.compile", "--help"], cwd=ROOT, capture_output=True,
                            text=True, check=True)  # fmt: skip
    assert "--repeat" in result.stdout and "--one-sample" in result.stdout


def test_prints_the_source_and_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    found = demo.main(["--repeat", "2", "--rounds", "1", "--one-sample"])
    out = capsys.readouterr().out
    assert found["source"] in out and found["source"].startswith("def step(")
    for line in ("# forward", "# backward", "# update", "hidden_weight -= "):
        assert line in found["source"]
    assert set(found["times"]) == {"seed 004 Net221, 1 point", "MNIST 784-50-10, batch 100"}
    for name, times in found["times"].items():
        assert set(times) == {"eager", "compiled", "numpy"} and all(v > 0 for v in times.values())
        row = re.search(rf"^{re.escape(name)} +[\d.]+ us +[\d.]+x +[\d.]+ us +[\d.]+x +[\d.]+ us$", out, re.MULTILINE)
        assert row, f"no table row for {name} in:\n{out}"
    for losses in found["first_losses"].values():  # the three variants start from the same weights and data
        np.testing.assert_allclose([losses["eager"], losses["compiled"]], losses["numpy"], rtol=1e-9)


def test_the_picture_has_a_node_per_program_line_in_three_colours() -> None:
    step, x, t = net221_step()
    with pytest.raises(RuntimeError, match="call it once"):
        ag.to_dot(step)
    step(x, t)
    source = ag.to_dot(step).source
    lines = program_lines(step.program)
    body = [text.strip() for text in step.source.splitlines() if text.strip() and not text.strip().startswith("#")]
    assert lines == body[body.index(lines[0]) : body.index(lines[0]) + len(lines)]  # in the source, in order
    nodes = re.findall(r"^\s*line(\d+) \[label=(\"[^\"]*\"|\S+)", source, re.MULTILINE)
    assert [int(i) for i, _ in nodes] == list(range(len(lines)))
    assert [label.strip('"') for _, label in nodes] == lines  # each node is labelled with its line
    for phase, colour in PHASE_COLOURS.items():
        count = source.count(f'fillcolor="{colour}"')
        assert count == sum(instr.phase == phase for instr in step.program.instrs) > 0, phase
    for name in ("hidden_weight", "output_bias", "arg0"):  # the arrays read from outside are boxes too
        assert re.search(rf"label={name} ", source)


def test_step_graph_is_the_rendered_picture() -> None:
    step, x, t = net221_step()
    step(x, t)
    assert step.graph.source == ag.to_dot(step).source


def test_render_writes_the_picture(tmp_path: Path) -> None:
    step, x, t = net221_step()
    step(x, t)
    path = ag.render(step, tmp_path / "step.svg")
    svg = path.read_text()
    assert "grad_hidden_weight" in svg and all(colour in svg for colour in PHASE_COLOURS.values())
