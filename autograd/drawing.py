"""Pictures of the computation graph: what flowed forward, and what flowed back.

    loss.backward(retain_graph=True)
    ag.render(loss, "backprop.svg", show_backward=True)

Tensor nodes (boxes) show a name, shape and dtype, the values (small tensors) or their
min / mean / max, and the gradient once there is one. Op nodes (ellipses) show the op and
its settings. Parameters are blue, constants grey, the output gold. `show_backward=True`
adds the backward pass: red edges from each op back to its inputs, labelled with the
gradient that travels on them, so the chain rule can be followed node by node.
`group_modules=True` draws each nn module as a box around its ops.

Layout needs a Graphviz program: the system's `dot` where installed, else `graphviz-pure`
(installed with this package). Without either, `to_dot(...).source` still gives the DOT text.
"""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

try:
    import graphviz
except ImportError as err:
    raise ImportError(
        f"autograd's graph drawing (to_dot, render) needs the graphviz package, which could not be imported ({err}); "
        "install it with `pip install graphviz graphviz-pure` (seedgrad lists both as dependencies)",
        name="graphviz",
    ) from err

from .engine import collect, grad, sum_to
from .files import write_atomically
from .function import Function, inputs_then
from .grad_mode import no_grad
from .ops.indexing import describe_index
from .tensor import Tensor

FORMATS = ("svg", "png", "pdf")

STYLE = {
    "parameter": {"style": "filled", "fillcolor": "#cfe6ff"},
    "constant": {"style": "filled", "fillcolor": "#ececec", "fontcolor": "#555555"},
    "output": {"style": "filled,bold", "fillcolor": "#ffe08a"},
    "intermediate": {"style": "filled", "fillcolor": "white"},
    "op": {"shape": "ellipse", "style": "filled", "fillcolor": "#f3eefc"},
    "freed": {"shape": "ellipse", "style": "dashed", "color": "#c0392b", "fontcolor": "#c0392b"},
}


class LayoutProgramNotFound(RuntimeError):
    """Neither Graphviz's `dot` nor `graphviz-pure` is installed."""


class GraphTooLarge(ValueError):
    """The graph has more nodes than `max_nodes`."""


class GraphPicture(graphviz.Digraph):
    """A `graphviz.Digraph` that displays itself in Jupyter through whichever layout program is here."""

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> dict[str, str]:
        try:
            return {"image/svg+xml": _layout(self.source, "svg").decode()}
        except LayoutProgramNotFound as err:
            return {"text/plain": f"{err}\n\n{self.source}"}


# --------------------------------------------------------------------------- summaries


def summarize(values: np.ndarray, tiny: int = 6) -> str:
    """The values themselves for tiny arrays; min / mean / max for larger ones."""
    values = np.asarray(values)
    if values.size <= tiny:
        text = np.array2string(values, precision=4, separator=", ", suppress_small=False)
        return " ".join(text.split())
    v = values.astype(np.float64)
    return f"min {v.min():.4g}  mean {v.mean():.4g}  max {v.max():.4g}"


def _shape_text(t: Tensor) -> str:
    return f"{'scalar' if t.ndim == 0 else t.shape} {t.dtype}"


def _op_text(node: Function) -> str:
    """The op's name, then its settings and any constant operands, one per line."""
    lines = [type(node).__name__]
    for key, value in node._attrs.items():
        if value is not None and value is not False:  # defaults such as axis=None say nothing
            lines.append(f"{key}={_value_text(key, value)}")
    if node._inputs is not None:
        names = list(inspect.signature(node.forward).parameters)[1:]  # skip ctx
        for i, x in enumerate(node._inputs):
            if not isinstance(x, Tensor):
                name = names[i] if i < len(names) and not names[i].startswith("*") else f"input {i}"
                lines.append(f"{name}={_value_text(name, x)}")
    return "\n".join(lines)


def _value_text(key: str, value: Any) -> str:
    if key == "index" and isinstance(value, tuple):
        return describe_index(value)
    if isinstance(value, np.ndarray):
        return summarize(value) if value.size <= 6 else f"array{value.shape}"
    return repr(value)


# --------------------------------------------------------------------------- the walk


class _Graph:
    """The tensors and op nodes reachable from the roots, in a repeatable order."""

    def __init__(self, roots: Iterable[Tensor], depth: int | None, max_nodes: int):
        self.tensors: dict[int, tuple[str, Tensor]] = {}  # id -> (node name, tensor); ids only for lookup
        self.ops: dict[int, Function] = {}  # seq -> node
        self.edges: list[tuple[str, int, Function]] = []  # (tensor name, input index or -1 for output, op)
        self.freed = False
        stack = [(t, 0) for t in reversed(list(roots))]
        while stack:
            t, level = stack.pop()
            name = self._add_tensor(t)
            node = t.grad_fn
            if node is None or node._seq in self.ops or (depth is not None and level >= depth):
                continue
            self.ops[node._seq] = node
            inputs = inputs_then(node)  # a tensor changed in place since is drawn as it was
            if inputs is None:
                self.freed = True
                continue
            for i, x in enumerate(inputs):
                if isinstance(x, Tensor):
                    self.edges.append((self._add_tensor(x), i, node))
                    stack.append((x, level + 1))
            self.edges.append((name, -1, node))  # op -> its output
            if len(self.tensors) + len(self.ops) > max_nodes:
                raise GraphTooLarge(
                    f"the graph has more than max_nodes={max_nodes} nodes; draw part of it (pass an "
                    "intermediate tensor as the root, or depth=...), or raise max_nodes"
                )

        # Ops are numbered by creation order within this picture, so the same computation
        # gives the same DOT text however many graphs the process built before.
        self.number = {seq: k for k, seq in enumerate(sorted(self.ops))}

    def op_name(self, node: Function) -> str:
        return f"op{self.number[node._seq]}"

    def _add_tensor(self, t: Tensor) -> str:
        if id(t) not in self.tensors:
            self.tensors[id(t)] = (f"t{len(self.tensors)}", t)
        return self.tensors[id(t)][0]


def _title(t: Tensor, index: int, graph: _Graph) -> str:
    if t.name:
        return t.name
    if t.grad_fn is not None and t.grad_fn._seq in graph.number:
        return f"{type(t.grad_fn).__name__.lower()} #{graph.number[t.grad_fn._seq]}"
    return f"tensor #{index}"


def _kind(t: Tensor, roots: list[Tensor]) -> str:
    if any(t is r for r in roots):
        return "output"
    if t.grad_fn is not None:
        return "intermediate"
    return "parameter" if t.requires_grad else "constant"


# --------------------------------------------------------------------------- public


def to_dot(
    *roots: Tensor,
    show_data: bool = True,
    show_grad: bool = True,
    show_backward: bool = False,
    grad: Any = None,
    group_modules: bool = False,
    rankdir: str | None = None,
    max_nodes: int = 400,
    depth: int | None = None,
    highlight: Function | None = None,
) -> GraphPicture:
    """The graph that computed `roots`, as a graphviz.Digraph (`.source` is the DOT text).

    Given a step compiled by `autograd.compile` (and called once) instead of tensors, the picture
    is its program: one node per line of `step.source`, forward, backward and update in three
    colours (see autograd/compiler/picture.py; only `rankdir` and `max_nodes` apply).

    show_data / show_grad: put values and gradients on tensor nodes. show_backward: also
    run a backward pass that changes no `.grad` (the graph must still exist: use
    retain_graph=True if backward already ran), and draw the gradient sent along every edge
    (`grad` as in backward, for a non-scalar root). group_modules: one box per nn module.
    depth: stop that many ops above the roots. highlight: an op node to outline in red.
    """
    if len(roots) == 1 and _is_compiled_step(roots[0]):
        return roots[0].to_dot(rankdir=rankdir or "TB", max_nodes=max_nodes)
    if not roots or not all(isinstance(r, Tensor) for r in roots):
        raise TypeError("to_dot needs one or more Tensors (e.g. to_dot(loss)) or a compiled step (to_dot(step))")
    return draw(
        list(roots), show_data=show_data, show_grad=show_grad, show_backward=show_backward, grad=grad,
        group_modules=group_modules, rankdir=rankdir or "LR", max_nodes=max_nodes, depth=depth, highlight=highlight,
    ).dot  # fmt: skip


@dataclass
class Drawing:
    """A picture and the walk it was drawn from, for tools that find the graph's nodes in its layout.

    Node names are `t<k>` (tensors) and `op<k>` (ops); each is the `<title>` of its group in
    the SVG. A module box is the subgraph `cluster_<n>`; collapsed, it is the node `box<n>`.
    """

    dot: GraphPicture
    graph: _Graph
    boxes: dict[str, tuple[str, str]]  # box key -> (label, enclosing box key; "" for none)
    box_of: dict[str, str]  # node name -> the innermost box it is drawn in ("" for none)
    cluster_names: dict[str, str]  # box key -> its subgraph's name, e.g. cluster_2
    shown_as: dict[str, str]  # node name -> the collapsed box node drawn instead of it
    traced_edges: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)  # (op seq, input) -> gradient
    traced: dict[int, np.ndarray] = field(default_factory=dict)  # id(tensor) -> its total gradient


def draw(
    roots: list[Tensor],
    *,
    show_data: bool = True,
    show_grad: bool = True,
    show_backward: bool = False,
    grad: Any = None,
    group_modules: bool = False,
    rankdir: str = "LR",
    max_nodes: int = 400,
    depth: int | None = None,
    highlight: Function | None = None,
    collapse: Collection[str] = (),
) -> Drawing:
    """What to_dot draws, with the names of its nodes and boxes; `collapse` lists box keys to draw as one node each."""
    graph = _Graph(roots, depth, max_nodes)
    traced_edges: dict[tuple[int, int], np.ndarray] = {}
    traced: dict[int, np.ndarray] = {}
    if show_backward:
        traced_edges, traced = _trace_gradients(roots, graph, grad)

    dot = _new_picture(rankdir, graph.freed)
    nodes = _tensor_nodes(graph, roots, show_data, show_grad, show_backward, traced) + _op_nodes(graph, highlight)
    clusters, boxes = _group_by_module(nodes, group_modules)
    numbers = {key: i for i, key in enumerate(sorted(boxes))}
    box_of = {name: key for key, members in clusters.items() for name, _ in members}
    shown_as = _collapsed_names(box_of, boxes, numbers, set(collapse))
    _emit_clusters(dot, clusters, boxes, shown_as)
    _add_edges(dot, graph, traced_edges, shown_as)
    cluster_names = {key: f"cluster_{n}" for key, n in numbers.items()}
    return Drawing(dot, graph, boxes, box_of, cluster_names, shown_as, traced_edges, traced)


def render(root: Tensor | Iterable[Tensor], path: str | os.PathLike, format: str | None = None, **options: Any) -> Path:
    """Draw the graph of `root` (tensors, or a compiled step) to an svg, png or pdf file; see to_dot for options.

    The format comes from `format` or the file's suffix. The file is written atomically.
    Returns the path.
    """
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ValueError(f"render: unknown format {fmt!r}; use one of {', '.join(FORMATS)} (or a path ending in one)")
    roots = [root] if isinstance(root, Tensor) or _is_compiled_step(root) else list(root)
    picture = to_dot(*roots, **options)
    data = _layout(picture.source, fmt)
    return write_atomically(path, lambda f: f.write(data))


def _is_compiled_step(value: Any) -> bool:
    """A step from `autograd.compile`, which draws its own program (the compiler builds on drawing, not the
    reverse, so it is recognised by its method rather than imported)."""
    return not isinstance(value, Tensor) and callable(getattr(value, "to_dot", None))


# --------------------------------------------------------------------------- to_dot's steps

_Node = tuple[str, dict[str, str], Any]  # (node name, graphviz attributes, module scope or None)


def trace_backward(
    root: Tensor, grad_output: Any = None
) -> tuple[dict[tuple[int, int], np.ndarray], dict[Tensor, np.ndarray]]:
    """Run one backward pass that stores nothing, and report what flowed where (for pictures).

    A retained `grad()` pass gives the gradient arriving at every tensor of the graph; each
    op's backward is then called once more on its output's gradient, to split it along the
    op's input edges. Returns those, keyed (node._seq, input index), and the tensors' gradients.
    No `.grad` changes.
    """
    order, produced = collect([root])
    tensors = list(produced.values())
    for node in order:
        tensors.extend(x for x in inputs_then(node) if isinstance(x, Tensor) and x.requires_grad and not x.grad_fn)
    tensors = list({id(t): t for t in tensors}.values())
    outputs = None if grad_output is None else [grad_output]
    retained = {t: t._grad for t in tensors}  # grad() adds to retain_grad() tensors' .grad, as in PyTorch
    try:
        found = grad(root, tensors, outputs, retain_graph=True, allow_unused=True)
    finally:
        for t, kept in retained.items():
            t._grad = kept
    totals = {t: g.data for t, g in zip(tensors, found) if g is not None}
    edges: dict[tuple[int, int], np.ndarray] = {}
    with no_grad():
        for node in order:
            if produced[node] in totals:
                edges.update(_edge_gradients(node, totals[produced[node]]))
    return edges, totals


def _edge_gradients(node: Function, g: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """What `node`'s backward sends along each input edge, given the gradient at its output."""
    returned = node.backward(node, g if node._array_io else Tensor._wrap(g))
    returned = returned if isinstance(returned, tuple) else (returned,)
    edges = {}
    for i, (x, gx, needed) in enumerate(zip(inputs_then(node), returned, node.needs_input_grad)):
        if gx is not None and needed:
            array = np.asarray(gx.data if isinstance(gx, Tensor) else gx)
            edges[(node._seq, i)] = sum_to(array, x.shape).astype(x.dtype, copy=False)
    return edges


def _trace_gradients(
    roots: list[Tensor], graph: _Graph, grad: Any
) -> tuple[dict[tuple[int, int], np.ndarray], dict[int, np.ndarray]]:
    """Run show_backward's side-effect-free backward pass: the gradient on each edge, and on each tensor (by id)."""
    if len(roots) != 1:
        raise ValueError("show_backward draws one backward pass: give a single root")
    if graph.freed:
        raise RuntimeError(
            "show_backward needs the graph, but backward() already freed it; call "
            "backward(retain_graph=True) before drawing, or draw before backward"
        )
    traced_edges, found = trace_backward(roots[0], grad)
    return traced_edges, {id(t): g for t, g in found.items()}


def _new_picture(rankdir: str, freed: bool) -> GraphPicture:
    """An empty picture in the house style, captioned when backward() freed part of the graph."""
    dot = GraphPicture(
        "backprop",
        graph_attr={"rankdir": rankdir, "fontname": "Helvetica", "fontsize": "11", "nodesep": "0.25"},
        node_attr={"shape": "box", "fontname": "Helvetica", "fontsize": "10"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9"},
    )
    if freed:
        dot.attr(label="parts of this graph were freed by backward(); use backward(retain_graph=True) to keep them")
    return dot


def _tensor_nodes(
    graph: _Graph,
    roots: list[Tensor],
    show_data: bool,
    show_grad: bool,
    show_backward: bool,
    traced: dict[int, np.ndarray],
) -> list[_Node]:
    """A box per tensor: title, shape, and optionally values and gradient (traced, or its own `.grad`)."""
    nodes = []
    for index, (name, t) in enumerate(graph.tensors.values()):
        lines = [_title(t, index, graph), _shape_text(t)]
        if show_data:
            lines.append(f"data {summarize(t.data)}")
        g = traced.get(id(t)) if show_backward else (t.grad.data if t.grad is not None else None)
        if show_grad and g is not None:
            lines.append(f"grad {summarize(g)}")
        attrs = {"label": "\n".join(lines), **STYLE[_kind(t, roots)]}
        scope = t.grad_fn._scope if t.grad_fn is not None else _parameter_scope(t, graph)
        nodes.append((name, attrs, scope))
    return nodes


def _op_nodes(graph: _Graph, highlight: Function | None) -> list[_Node]:
    """An ellipse per op in creation order, dashed red where backward freed it, outlined if highlighted."""
    nodes = []
    for _, node in sorted(graph.ops.items()):
        freed = node._inputs is None
        label = f"{type(node).__name__}\n(freed by backward)" if freed else _op_text(node)
        attrs = {"label": label, **STYLE["freed" if freed else "op"]}
        if node is highlight:
            attrs.update(color="#e74c3c", penwidth="3")
        nodes.append((graph.op_name(node), attrs, node._scope))
    return nodes


def _group_by_module(
    nodes: list[_Node], group_modules: bool
) -> tuple[dict[str, list[tuple[str, dict[str, str]]]], dict[str, tuple[str, str]]]:
    """The nodes of each module box ("" = no box), and each box's (label, enclosing box); one box without grouping."""
    clusters: dict[str, list[tuple[str, dict[str, str]]]] = {}  # box key -> its nodes ("" = no box)
    boxes: dict[str, tuple[str, str]] = {}  # box key -> (label, enclosing box key)
    for name, attrs, scope in nodes:
        key = _cluster_key(scope) if group_modules else ""
        while group_modules and scope is not None:  # this module's box, and every enclosing one
            boxes.setdefault(_cluster_key(scope), (_box_label(scope), _cluster_key(scope.parent)))
            scope = scope.parent
        clusters.setdefault(key, []).append((name, attrs))
    return clusters, boxes


def _box_label(scope: Any) -> str:
    """A module box's caption: its path and class (`fc1 (Linear)`), or whichever of the two it has."""
    path = scope.path
    return f"{path} ({scope.kind})" if path and scope.kind else path or scope.kind


def _add_edges(
    dot: graphviz.Digraph, graph: _Graph, traced_edges: dict[tuple[int, int], np.ndarray], shown_as: dict[str, str]
) -> None:
    """Forward edges (input -> op -> output), plus a dashed red gradient edge back wherever one was traced.

    An end inside a collapsed box is drawn as the box's node: edges within it vanish, the forward
    edges into and out of it are drawn once each, and the gradient edges are left out.
    """
    drawn: set[tuple[str, str]] = set()
    for tensor_name, i, node in graph.edges:
        op_name = graph.op_name(node)
        ends = (op_name, tensor_name) if i < 0 else (tensor_name, op_name)
        if shown_as.keys() & set(ends):
            tail, head = (shown_as.get(end, end) for end in ends)
            if tail != head and (tail, head) not in drawn:
                drawn.add((tail, head))
                dot.edge(tail, head)
            continue
        dot.edge(*ends)
        if i >= 0 and (node._seq, i) in traced_edges:
            dot.edge(
                op_name, tensor_name,
                label=f"grad {summarize(traced_edges[(node._seq, i)])}",
                color="#c0392b", fontcolor="#c0392b", style="dashed", constraint="false",
            )  # fmt: skip


# --------------------------------------------------------------------------- helpers


def _cluster_key(scope: Any) -> str:
    """A module call's box: its path (fc1), or for the top module, which has none, its class."""
    if scope is None:
        return ""
    return scope.path or f"top {scope.kind}"


def _parameter_scope(t: Tensor, graph: _Graph) -> Any:
    """The scope of the module owning a parameter named like `fc1.weight` (found among the ops)."""
    if not t.name or "." not in t.name or not t.requires_grad:
        return None
    owner = t.name.rsplit(".", 1)[0]
    for node in graph.ops.values():
        scope = node._scope
        while scope is not None:
            if scope.path == owner:
                return scope
            scope = scope.parent
    return None


def _collapsed_names(
    box_of: dict[str, str], boxes: dict[str, tuple[str, str]], numbers: dict[str, int], collapse: set[str]
) -> dict[str, str]:
    """For each node inside a collapsed box, the name of the node drawn instead: its outermost collapsed box's."""
    shown_as = {}
    for name, key in box_of.items():
        outermost = None
        while key:
            if key in collapse:
                outermost = key
            key = boxes[key][1]
        if outermost is not None:
            shown_as[name] = f"box{numbers[outermost]}"
    return shown_as


def _emit_clusters(
    dot: graphviz.Digraph, clusters: dict, boxes: dict[str, tuple[str, str]], shown_as: dict[str, str] | None = None
) -> None:
    """Add the nodes, each module's box nested inside its caller's; a box whose nodes are all
    `shown_as` its own box node is drawn as that one node."""
    shown_as = shown_as or {}
    children: dict[str, list[str]] = {}
    for key, (_, parent) in boxes.items():
        children.setdefault(parent, []).append(key)
    numbers = {key: i for i, key in enumerate(sorted(boxes))}
    hidden: dict[str, int] = {}  # box node -> how many nodes it stands for
    for name in shown_as.values():
        hidden[name] = hidden.get(name, 0) + 1

    def emit(graph: graphviz.Digraph, key: str) -> None:
        for name, attrs in clusters.get(key, []):
            if name not in shown_as:
                graph.node(name, **attrs)
        for child in sorted(children.get(key, [])):
            box = f"box{numbers[child]}"
            if box in hidden:
                label = f"{boxes[child][0]}\n{hidden[box]} nodes, collapsed"
                graph.node(box, label=label, style="rounded,filled,dashed", fillcolor="#e3ebf3", color="#7f8c8d")
                continue
            with graph.subgraph(name=f"cluster_{numbers[child]}") as sub:
                sub.attr(label=boxes[child][0], style="rounded,dashed", color="#7f8c8d", fontcolor="#34495e")
                emit(sub, child)

    emit(dot, "")


def _candidates() -> list[str]:
    """Layout programs to try, best first: Graphviz's dot, then graphviz-pure (also next to this Python)."""
    found = [shutil.which("dot"), shutil.which("graphviz-pure")]
    beside = Path(sys.executable).parent / "graphviz-pure"
    found.append(str(beside) if beside.exists() else None)
    return [p for p in found if p]


def _layout(source: str, fmt: str) -> bytes:
    programs = _candidates()
    if not programs:
        raise LayoutProgramNotFound(
            "drawing needs a Graphviz layout program and none was found: install Graphviz "
            "(e.g. apt install graphviz, brew install graphviz) or `pip install graphviz-pure`. "
            "to_dot(...).source gives the DOT text without one."
        )
    program = programs[0]
    if fmt == "pdf" and Path(program).name.startswith("graphviz-pure"):
        raise ValueError("graphviz-pure writes svg and png only; install Graphviz's dot for pdf, or pick svg/png")
    with tempfile.TemporaryDirectory() as folder:
        source_path = Path(folder) / "graph.dot"
        source_path.write_text(source, encoding="utf-8")
        result = subprocess.run([program, f"-T{fmt}", str(source_path)], capture_output=True, check=False)
    if result.returncode != 0 or not result.stdout:
        raise RuntimeError(f"{program} failed to draw the graph: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout
