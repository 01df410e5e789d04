"""A step-by-step backprop explorer: one self-contained HTML page to click through a graph.

    loss = model(x).sum()
    ag.explore(loss, "backprop.html")   # or ag.explore(loss) in Jupyter

The page shows the graph as `render(..., group_modules=True)` lays it out and steps through
it: the leaves, then each op of the forward pass in creation order, then each op of the
backward pass in the engine's order, with the values, the gradient arriving at the op, its
local rule and the gradient it sends to each input -- the engine's own numbers, traced by a
backward pass that changes no `.grad`. Everything (SVG, CSS, script, data) is inline, so the
page works offline and can be mailed.
"""

from __future__ import annotations

import html
import inspect
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from . import drawing
from .engine import collect
from .files import write_atomically
from .function import Function, inputs_then
from .tensor import Tensor

WALK_LIMIT = 20_000  # op + tensor nodes: beyond this the page is no longer worth building
FULL_VALUES = 2_000  # arrays up to this many elements are embedded in full; larger ones elided as numpy prints them


class Exploration:
    """An explorer page held in memory: `.html` is its text, `.save(path)` writes it; Jupyter shows it inline."""

    def __init__(self, page: str):
        self.html = page

    def save(self, path: str | os.PathLike) -> Path:
        """Write the page to `path` atomically; returns the path."""
        data = self.html.encode("utf-8")
        return write_atomically(path, lambda f: f.write(data))

    def _repr_html_(self) -> str:
        # An iframe runs the page's own script and keeps its styles apart from the notebook's.
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" sandbox="allow-scripts" '
            'style="width:100%;height:720px;border:1px solid #ccc"></iframe>'
        )

    def __repr__(self) -> str:
        return f"<Exploration: {len(self.html):,} characters of HTML; .save(path) writes it>"


def explore(
    root: Tensor,
    path: str | os.PathLike | None = None,
    show_backward: bool = True,
    max_nodes: int = 300,
    grad: Any = None,
) -> Path | Exploration:
    """Write a page that steps through the forward and backward pass of `root`'s graph.

    With `path`, writes the HTML file (atomically) and returns its Path; without, returns an
    `Exploration` that Jupyter displays inline. show_backward: also step through the backward
    pass (`grad` as in backward, for a non-scalar root); the graph must still exist, so call
    backward(retain_graph=True) first or explore before backward. Graphs of more than
    `max_nodes` op and tensor nodes open with each module collapsed to one node.

    >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> ag.explore((x.sigmoid() * x).sum(), "steps.html")   # doctest: +SKIP
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"explore needs the Tensor whose graph to show (e.g. explore(loss)), got {type(root).__name__}")
    if root.grad_fn is None:
        raise ValueError(
            "explore: this tensor was not computed by recorded ops (it is a leaf, or was made under no_grad()), "
            "so there is no graph to step through; pass the result of a computation on tensors with requires_grad=True"
        )
    if show_backward and grad is None and root.size != 1:
        raise ValueError(
            f"explore: the backward pass starts from a one-element tensor, this one has shape {root.shape}; "
            f"explore a scalar such as the loss, pass grad= with shape {root.shape}, or show_backward=False"
        )
    walk = drawing._Graph([root], None, WALK_LIMIT)
    if walk.freed:
        raise RuntimeError(
            "explore needs the whole graph, but backward() already freed part of it; call "
            "loss.backward(retain_graph=True) to keep it, or explore before calling backward()"
        )
    page = _page(root, show_backward, max_nodes, grad)
    if path is None:
        return Exploration(page)
    return Exploration(page).save(path)


# --------------------------------------------------------------------------- building the page


def _page(root: Tensor, show_backward: bool, max_nodes: int, grad: Any) -> str:
    """The HTML text: the laid-out views, the step data as JSON, the page's script and style."""
    from .explorer_page import PAGE

    full = drawing.draw([root], show_backward=show_backward, grad=grad, group_modules=True, max_nodes=WALK_LIMIT)
    graph = full.graph
    count = len(graph.tensors) + len(graph.ops)
    views = {"full": _svg(drawing._layout(full.dot.source, "svg").decode(), "full")}
    innermost = sorted(key for key in full.boxes if not any(parent == key for _, parent in full.boxes.values()))
    compact_as: dict[str, str] = {}
    if innermost:
        compact = drawing.draw([root], show_grad=False, group_modules=True, max_nodes=WALK_LIMIT, collapse=innermost)
        views["compact"] = _svg(drawing._layout(compact.dot.source, "svg").decode(), "compact")
        compact_as = compact.shown_as
    start = "compact" if count > max_nodes and innermost else "full"
    notice = ""
    if count > max_nodes:
        notice = (
            f"This graph has {count} nodes, more than max_nodes={max_nodes}: it opens with each module collapsed "
            "to one node."
            if innermost
            else f"This graph has {count} nodes, more than max_nodes={max_nodes}, and no module boxes to collapse."
        )
    data = {
        "tensors": _tensors(full, root),
        "ops": _ops(full),
        "steps": _steps(full, root, show_backward),
        "boxes": _boxes(full),
        "gradEdges": {f"{graph.op_name(node)}->{name}": graph.op_name(node) for name, i, node in graph.edges if i >= 0},
        "compactAs": compact_as,
        "start": start,
        "notice": notice,
        "nodeCount": count,
    }
    parts = {
        "TITLE": html.escape(f"backprop explorer: {root.name or 'graph'}"),
        "VIEWS": "\n".join(f'<div class="view" data-view="{name}" hidden>{svg}</div>' for name, svg in views.items()),
        "DATA": _json_for_script(data),
    }
    return re.sub(r"@@([A-Z]+)@@", lambda m: parts[m.group(1)], PAGE)  # one pass: inserted text is not rescanned


def _svg(text: str, prefix: str) -> str:
    """Graphviz's SVG made fit to sit inline: no XML prolog, doctype, comments or namespace URLs; ids per view."""
    start = text.find("<svg")
    if start < 0:
        raise RuntimeError("the layout program returned no <svg> element")
    text = re.sub(r"<!--.*?-->", "", text[start:], flags=re.S)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)  # the HTML parser puts <svg> in the SVG namespace itself
    return re.sub(r'\bid="', f'id="{prefix}-', text)


def _json_for_script(data: Any) -> str:
    """JSON that cannot end its <script> element early or be read as markup: <, > and & as \\u escapes."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _values(array: Any) -> dict[str, str]:
    """An array as text: short (drawing's summary) and full (every element, to round-trip, up to FULL_VALUES)."""
    a = np.asarray(array)
    full = np.array2string(
        a, separator=", ", threshold=FULL_VALUES, edgeitems=3, floatmode="unique", max_line_width=100
    )  # fmt: skip
    shape = "scalar" if a.ndim == 0 else str(a.shape)
    return {"short": drawing.summarize(a), "full": full, "shape": f"{shape} {a.dtype}"}


def _tensors(full: drawing.Drawing, root: Tensor) -> dict[str, dict[str, Any]]:
    """Each tensor node: its title, kind, values and (when traced) total gradient."""
    table = {}
    for index, (name, t) in enumerate(full.graph.tensors.values()):
        entry: dict[str, Any] = {
            "title": drawing._title(t, index, full.graph),
            "kind": drawing._kind(t, [root]),
            "value": _values(t.data),
        }
        if id(t) in full.traced:
            entry["grad"] = _values(full.traced[id(t)])
        table[name] = entry
    return table


def _ops(full: drawing.Drawing) -> dict[str, dict[str, Any]]:
    """Each op node: name, settings, the rule in words and symbols, its inputs and output."""
    graph = full.graph
    outputs = {graph.op_name(node): name for name, i, node in graph.edges if i < 0}
    names = {(n._seq, i): name for name, i, n in graph.edges if i >= 0}
    table = {}
    for _, node in sorted(graph.ops.items()):
        op = graph.op_name(node)
        inputs: list[dict[str, Any]] = []
        for i, x in enumerate(inputs_then(node)):
            if isinstance(x, Tensor):
                inputs.append({"tensor": names[(node._seq, i)], "needsGrad": bool(node.needs_input_grad[i])})
            else:
                inputs.append({"constant": drawing._value_text("", x)})
        table[op] = {
            "name": type(node).__name__,
            "settings": drawing._op_text(node).split("\n")[1:],
            "words": _words(node),
            "rule": getattr(type(node), "rule", None),
            "inputs": inputs,
            "output": outputs[op],
        }
    return table


def _words(node: Function) -> str:
    """The first line of the op class's own docstring (not an inherited one): what it is, and its derivative."""
    doc = type(node).__dict__.get("__doc__")
    return inspect.cleandoc(doc).split("\n\n")[0].replace("\n", " ") if doc else ""


def _steps(full: drawing.Drawing, root: Tensor, show_backward: bool) -> list[dict[str, Any]]:
    """The leaves; each op forward, by creation; each op backward in the engine's order; the leaves' gradients."""
    graph = full.graph
    leaves = [name for name, t in graph.tensors.values() if t.grad_fn is None]
    steps: list[dict[str, Any]] = [{"phase": "forward", "kind": "leaves", "tensors": leaves}]
    steps += [{"phase": "forward", "kind": "op", "op": graph.op_name(node)} for _, node in sorted(graph.ops.items())]
    if not show_backward:
        return steps
    order, produced = collect([root])  # the engine's order: newest node first
    for node in order:
        if id(produced[node]) not in full.traced:
            continue  # the engine skips a node no gradient reaches
        sent = {
            str(i): _values(full.traced_edges[(node._seq, i)])
            for i in range(len(inputs_then(node)))
            if (node._seq, i) in full.traced_edges
        }
        steps.append({"phase": "backward", "kind": "op", "op": graph.op_name(node), "sent": sent})
    by_name = {name: t for name, t in graph.tensors.values()}
    with_grad = [name for name in leaves if id(by_name[name]) in full.traced]
    steps.append({"phase": "backward", "kind": "done", "tensors": with_grad})
    return steps


def _boxes(full: drawing.Drawing) -> list[dict[str, Any]]:
    """Each module box: its label, its cluster in the SVG, the boxes inside it and every node it holds."""
    result = []
    for key, (label, parent) in sorted(full.boxes.items()):
        inside = {key}
        changed = True
        while changed:  # the boxes nested in this one, at any depth
            grown = inside | {k for k, (_, p) in full.boxes.items() if p in inside}
            changed, inside = grown != inside, grown
        members = sorted(name for name, box in full.box_of.items() if box in inside)
        result.append(
            {
                "key": key,
                "label": label,
                "cluster": full.cluster_names[key],
                "parent": full.cluster_names.get(parent, ""),
                "inner": sorted(full.cluster_names[k] for k in inside - {key}),
                "members": members,
            }
        )
    return result
