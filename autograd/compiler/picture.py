"""A picture of a compiled step's program: one node per line of `step.source`, coloured by phase.

    step(x, t)                          # trace it once
    ag.render(step, "step.svg")         # or ag.to_dot(step).source for the DOT text

Forward lines are blue, backward lines red, update lines green; the arrays the program reads
from outside (parameters, arguments, gradients already there) are white boxes. An edge runs
from the line that last wrote a value to each line that reads it, and a dashed edge from an
in-place update back to the parameter it writes. Each node is labelled with its line of the
program, so the picture and `print(step.source)` name everything the same way.
"""

from __future__ import annotations

import re
from typing import Any

import graphviz

from ..drawing import GraphPicture, GraphTooLarge

PHASE_COLOURS = {"forward": "#cfe6ff", "backward": "#f8c9c4", "update": "#c8ecc9"}
INPUT_STYLE = {"shape": "box", "style": "filled", "fillcolor": "white", "color": "#555555"}
_PHASE_LINE = re.compile(r"^    # (forward|backward|update)$")


def program_lines(program: Any) -> list[str]:
    """The source line of each instruction of `program`, in order (the body between the phase comments)."""
    lines: list[str] = []
    started = False
    for text in program.source.splitlines():
        if _PHASE_LINE.match(text):
            started = True
            continue
        if started and len(lines) < len(program.instrs):
            lines.append(text.strip())
    if len(lines) != len(program.instrs) or any(line.startswith("#") for line in lines):
        raise RuntimeError(f"the program's source has {len(lines)} operation lines for {len(program.instrs)} "
                           "instructions; cannot label the picture")  # fmt: skip
    return lines


def program_dot(step: Any, rankdir: str = "TB", max_nodes: int = 400) -> GraphPicture:
    """The latest program of a compiled step (called at least once) as a graphviz.Digraph."""
    program = step.program  # raises, saying what to do, if the step was never called
    trace, names = program.trace, program.names
    lines = program_lines(program)
    if len(lines) > max_nodes:
        raise GraphTooLarge(f"the compiled step has {len(lines)} operations, more than max_nodes={max_nodes}; "
                            "pass a larger max_nodes")  # fmt: skip
    dot = GraphPicture(name="compiled_step", graph_attr={"rankdir": rankdir, "fontname": "Helvetica"},
                       node_attr={"fontname": "Courier", "fontsize": "10"})  # fmt: skip
    dot.attr(label="forward (blue), backward (red), update (green)", labelloc="t", fontsize="12")
    made_by: dict[int, tuple[int, str]] = {}  # value -> (instruction index, node) of the line that made it
    written: dict[int, tuple[int, str]] = {}  # root of memory -> the line that last wrote into it
    inputs: dict[int, str] = {}

    def source_of(tid: int) -> str:
        candidates = [c for c in (made_by.get(tid), written.get(trace.root.get(tid, tid))) if c is not None]
        if candidates:
            return max(candidates)[1]
        if tid not in inputs:  # an array read from outside: a parameter, an argument, a gradient, a buffer
            inputs[tid] = f"in{len(inputs)}"
            dot.node(inputs[tid], graphviz.escape(names.names.get(tid, f"value {tid}")), **INPUT_STYLE)
        return inputs[tid]

    for i, (instr, text) in enumerate(zip(program.instrs, lines)):
        node = f"line{i}"
        sources = []
        for tid in dict.fromkeys(instr.reads):  # each value once, in order
            sources.append(source_of(tid))
        dot.node(node, graphviz.escape(text), shape="box", style="filled,rounded",
                 fillcolor=PHASE_COLOURS.get(instr.phase, "#eeeeee"), tooltip=instr.phase)  # fmt: skip
        for source in dict.fromkeys(sources):
            dot.edge(source, node)
        for tid in instr.outs:
            made_by[tid] = (i, node)
        for tid in instr.writes:
            root = trace.root.get(tid, tid)
            written[root] = (i, node)
            if root in inputs:  # an in-place update of an outside array: point back at it
                dot.edge(node, inputs[root], style="dashed", color="#2e7d32", constraint="false")
    return dot
