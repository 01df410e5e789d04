"""Layering: the engine runs without graphviz, drawing loads on first use, nn uses only autograd's public API."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import anomaly, drawing
from autograd.ops.indexing import describe_index

ROOT = Path(__file__).resolve().parents[1]
AUTOGRAD = ROOT / "autograd"
CORE = [
    AUTOGRAD / name
    for name in ("__init__.py", "tensor.py", "function.py", "engine.py", "grad_mode.py", "inplace.py", "anomaly.py")
] + sorted((AUTOGRAD / "ops").glob("*.py"))
OPTIONAL = ("autograd.drawing", "graphviz", "autograd.testing", "hypothesis")  # what the core must not load


def _python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


# --------------------------------------------------------------------------- no graphviz

WITHOUT_GRAPHVIZ = textwrap.dedent(
    """
    import json, sys, tempfile, warnings
    sys.modules["graphviz"] = None  # as if it were not installed
    import numpy as np
    import autograd as ag
    import nn
    from autograd import *  # noqa: F403 - every name in __all__ resolves
    out = {"loaded": sorted(m for m in ("autograd.drawing", "graphviz") if sys.modules.get(m) is not None)}

    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x.sigmoid() * x).sum()
    y.backward()
    out["grad"] = x.grad.data.tolist()
    out["gradcheck"] = ag.gradcheck(lambda t: (t.tanh() * t).sum(), [ag.tensor([0.3, -0.7], requires_grad=True)])

    warnings.simplefilter("ignore", RuntimeWarning)
    with ag.detect_anomaly():
        (x * 2).exp().sum().backward()  # finite: nothing raised
        try:
            ag.tensor([-1.0], requires_grad=True).log()
        except ag.AnomalyError as err:
            out["anomaly"] = str(err)
    with tempfile.TemporaryDirectory() as folder, ag.detect_anomaly(render_to=folder + "/a.svg"):
        z = ag.tensor([0.0, 4.0], requires_grad=True).sqrt().sum()
        try:
            z.backward()
        except ag.AnomalyError as err:
            out["anomaly_picture"] = str(err)

    rng = np.random.default_rng(0)
    data, target = ag.tensor(rng.normal(size=(16, 2))), ag.tensor(rng.integers(0, 2, size=16))
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    optimizer = nn.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for _ in range(20):
        optimizer.zero_grad()
        loss = nn.CrossEntropyLoss()(model(data), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    out["losses"] = [losses[0], losses[-1]]

    try:
        ag.to_dot(y)
    except ImportError as err:
        out["to_dot"] = [type(err).__name__, str(err)]
    try:
        ag.render(y, "never.svg")
    except ImportError as err:
        out["render"] = str(err)
    out["loaded_after"] = sorted(m for m in ("autograd.drawing", "graphviz") if sys.modules.get(m) is not None)
    print(json.dumps(out))
    """
)


def test_the_engine_anomaly_checks_and_nn_training_work_without_graphviz() -> None:
    result = _python(WITHOUT_GRAPHVIZ)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["loaded"] == [] and out["loaded_after"] == []
    assert out["grad"] == pytest.approx([0.9276705, 1.0907842])  # sigmoid(x) + x * sigmoid'(x)
    assert out["gradcheck"] is True
    assert "Log produced NaN in its forward pass" in out["anomaly"]
    assert "Sqrt.backward produced inf" in out["anomaly_picture"]
    assert "could not draw the graph" in out["anomaly_picture"]  # the anomaly still reported, the picture explained
    assert "pip install graphviz graphviz-pure" in out["anomaly_picture"]
    assert out["losses"][1] < out["losses"][0]
    kind, message = out["to_dot"]
    assert kind == "ImportError"
    assert "graph drawing (to_dot, render) needs the graphviz package" in message
    assert "pip install graphviz graphviz-pure" in message and "seedgrad lists both as dependencies" in message
    assert "pip install graphviz graphviz-pure" in out["render"]


def test_importing_the_drawing_module_without_graphviz_says_what_to_install() -> None:
    result = _python("import sys; sys.modules['graphviz'] = None\nimport autograd.drawing")
    assert result.returncode == 1
    assert "ImportError: autograd's graph drawing (to_dot, render) needs the graphviz package" in result.stderr
    assert "pip install graphviz graphviz-pure" in result.stderr


def test_import_autograd_and_nn_load_no_optional_module() -> None:
    result = _python(f"import sys, autograd, nn; print([m for m in {OPTIONAL!r} if m in sys.modules])")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_drawing_functions_keep_their_signatures_and_docstrings() -> None:
    assert ag.to_dot is drawing.to_dot and ag.render is drawing.render
    assert {"to_dot", "render"} <= set(ag.__all__) and {"to_dot", "render"} <= set(dir(ag))
    assert "show_backward" in inspect.signature(ag.to_dot).parameters
    assert ag.render.__doc__ == drawing.render.__doc__ and ag.render.__doc__.startswith("Draw the graph")
    with pytest.raises(AttributeError, match="module 'autograd' has no attribute 'no_such_thing'"):
        ag.no_such_thing  # noqa: B018


# --------------------------------------------------------------------------- register_internal

HELPER = "def take_log(x):\n    return x.log()\n"


def _helper(folder: Path, name: str) -> ModuleType:
    path = folder / f"{name}.py"
    path.write_text(HELPER)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _blamed(fn: object) -> str:
    x = ag.tensor([-1.0], requires_grad=True)
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError, match="Log produced NaN") as info:
        fn(x)  # type: ignore[operator]
    return str(info.value).split("The op was created at ", 1)[1].split(", in ", 1)[0]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_register_internal_moves_the_blame_to_the_callers_line(tmp_path: Path) -> None:
    folder, file_only = tmp_path / "lib", tmp_path / "single"
    folder.mkdir()
    file_only.mkdir()
    helper, single = _helper(folder, "layering_helper"), _helper(file_only, "layering_single")
    assert _blamed(helper.take_log).startswith(f"{folder / 'layering_helper.py'}:2")

    anomaly.register_internal(folder)
    assert _blamed(helper.take_log).startswith(f"{__file__}:")  # this test's line, not the library's
    before = anomaly._internal_prefixes
    anomaly.register_internal(str(folder))  # again, as a str: nothing changes
    assert anomaly._internal_prefixes == before

    assert _blamed(single.take_log).startswith(f"{file_only / 'layering_single.py'}:2")
    anomaly.register_internal(file_only / "layering_single.py")  # a single file
    assert _blamed(single.take_log).startswith(f"{__file__}:")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nn_frames_are_skipped_in_anomaly_reports() -> None:
    layer = nn.Linear(2, 1)
    with ag.no_grad():
        layer.weight.fill_(np.inf)
    x = ag.tensor([[0.0, 1.0]])
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError, match="produced NaN") as info:
        layer(x)
    assert f"The op was created at {__file__}:" in str(info.value)


def test_register_internal_rejects_what_is_not_a_path() -> None:
    with pytest.raises(ValueError, match="register_internal needs a path"):
        anomaly.register_internal("")
    with pytest.raises(TypeError, match=r"register_internal takes a str or os\.PathLike path, got bytes"):
        anomaly.register_internal(b"lib")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"expected str, bytes or os\.PathLike object, not int"):
        anomaly.register_internal(3)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- call_in_scope, describe_index


def test_call_in_scope_tags_ops_like_name_scope_and_restores_the_scope() -> None:
    x = ag.tensor([0.5, 1.5], requires_grad=True)
    y = ag.call_in_scope("encoder", "Block", lambda t, k: t.tanh() * k, x, k=2.0)
    with ag.name_scope("encoder", "Block"):
        z = x.tanh() * 2.0
    assert y.grad_fn._scope.path == z.grad_fn._scope.path == "encoder"
    assert y.grad_fn._scope.kind == "Block"
    with pytest.raises(ZeroDivisionError):
        ag.call_in_scope("broken", "", lambda: 1 / 0)
    assert x.exp().grad_fn._scope is None  # left on error too
    source = ag.to_dot(y.sum(), group_modules=True).source
    assert 'label="encoder (Block)"' in source


def test_describe_index_reads_like_the_index() -> None:
    index = (0, slice(1, 3), np.arange(20), np.array([1, 2]), None, Ellipsis, slice(None, None, 2))
    assert describe_index(index) == "[0, 1:3, array(shape=(20,), dtype=int64), [1, 2], None, Ellipsis, ::2]"
    with pytest.raises(IndexError, match=r"index \[\[0, 7\]\] is invalid for a tensor of shape \(2,\)"):
        ag.tensor([1.0, 2.0], requires_grad=True)[np.array([0, 7])]


# --------------------------------------------------------------------------- static checks


def _absolute(node: ast.ImportFrom, module_path: Path) -> str:
    """The module an import-from names, relative imports resolved against `module_path`'s package."""
    if not node.level:
        return node.module or ""
    package = list(module_path.relative_to(ROOT).with_suffix("").parts)
    base = package[: len(package) - node.level]
    return ".".join([*base, *([node.module] if node.module else [])])


def _module_level_imports(path: Path) -> list[str]:
    """Every module imported when `path` is imported: not inside functions, nor under `if TYPE_CHECKING:`."""
    names: list[str] = []

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                names.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                module = _absolute(node, path)
                names.extend([module, *(f"{module}.{alias.name}" for alias in node.names)])
            for field in ("body", "orelse", "finalbody", "handlers"):
                visit(getattr(node, field, []))

    visit(ast.parse(path.read_text()).body)
    return names


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(AUTOGRAD)))
def test_core_modules_import_no_drawing_or_testing_at_module_level(path: Path) -> None:
    imported = _module_level_imports(path)
    optional = [name for name in imported if any(name == o or name.startswith(o + ".") for o in OPTIONAL)]
    assert optional == [], f"{path.name} imports {optional} when loaded; import it inside the function that needs it"


def _private(dotted: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in dotted.split("."))


def _bindings(tree: ast.AST) -> tuple[dict[str, str], list[str]]:
    """Local names bound to autograd objects (local -> dotted autograd name), and every autograd name imported."""
    bound: dict[str, str] = {}
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "autograd":
                    imported.append(alias.name)
                    bound[alias.asname or "autograd"] = alias.name if alias.asname else "autograd"
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == "autograd":
            for alias in node.names:
                imported.append(f"{node.module}.{alias.name}")
                bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bound, imported


def _dotted(node: ast.expr, bound: dict[str, str]) -> str | None:
    """`ag.grad_mode._state` as "autograd.grad_mode._state" when its root is an autograd name, else None."""
    chain: list[str] = []
    while isinstance(node, ast.Attribute):
        chain.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in bound:
        return ".".join([bound[node.id], *reversed(chain)])
    return None


def private_autograd_names(source: str) -> list[str]:
    """Underscore names of autograd that `source` imports or reaches by attribute (`ag.grad_mode._state`)."""
    tree = ast.parse(source)
    bound, found = _bindings(tree)
    found += [name for node in ast.walk(tree) if isinstance(node, ast.Attribute) and (name := _dotted(node, bound))]
    return sorted({name for name in found if _private(name)})


MUTATORS = {"append", "extend", "insert", "remove", "pop", "clear", "update", "add", "discard", "setdefault"}


def autograd_state_changes(source: str) -> list[str]:
    """Where `source` assigns to, deletes or mutates (`.append(...)`, ...) something reached through autograd."""
    tree = ast.parse(source)
    bound, _ = _bindings(tree)
    found: list[str | None] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            found += [_dotted(t, bound) for t in targets if isinstance(t, ast.Attribute)]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
            target = node.func.value
            if isinstance(target, ast.Attribute):  # a module global's method; a bare local's (`params.append`) is fine
                found.append(_dotted(node.func, bound))
    return sorted({name for name in found if name})


def test_the_private_name_scan_finds_imports_and_attribute_chains() -> None:
    source = (
        "import autograd as ag\nimport autograd.anomaly\nfrom autograd import Tensor, anomaly as an\n"
        "from autograd.grad_mode import _state, call_in_scope\nfrom autograd._impl import thing\n"
        "ag.grad_mode._state.scope\nautograd.anomaly._internal_paths\nan._render\nTensor._data\n"
        "ag.tensor(1.0).data\nan.register_internal\nag.__version__\n"
    )
    assert private_autograd_names(source) == [
        "autograd.Tensor._data", "autograd._impl.thing", "autograd.anomaly._internal_paths",
        "autograd.anomaly._render", "autograd.grad_mode._state", "autograd.grad_mode._state.scope",
    ]  # fmt: skip


def test_the_state_change_scan_finds_assignments_and_mutating_calls() -> None:
    source = (
        "import autograd as ag\nfrom autograd import anomaly as an, Tensor\n"
        "an.INTERNAL_DIRS.append('x')\nag.grad_mode.flag = 1\nTensor.extra += 1\ndel an.thing\n"
        "an.register_internal('x')\nparams = []\nparams.append(ag.tensor(1.0))\nt = ag.tensor(1.0)\nt.name = 'a'\n"
    )
    assert autograd_state_changes(source) == [
        "autograd.Tensor.extra", "autograd.anomaly.INTERNAL_DIRS.append", "autograd.anomaly.thing",
        "autograd.grad_mode.flag",
    ]  # fmt: skip


NN_FILES = sorted((ROOT / "nn").rglob("*.py"))


@pytest.mark.parametrize("path", NN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_nn_uses_no_private_autograd_name_and_changes_no_autograd_state(path: Path) -> None:
    source = path.read_text()
    assert private_autograd_names(source) == []
    assert autograd_state_changes(source) == []


@pytest.mark.parametrize("name", ["drawing.py", "anomaly.py", "__init__.py", "grad_mode.py"])
def test_drawing_and_anomaly_import_no_private_name_from_another_module(name: str) -> None:
    tree = ast.parse((AUTOGRAD / name).read_text())
    private = [
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if _private(alias.name)
    ]
    assert private == []


def test_no_function_in_the_library_is_longer_than_60_lines() -> None:
    root = Path(__file__).resolve().parent.parent
    long = []
    for path in sorted((root / "autograd").rglob("*.py")) + sorted((root / "nn").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > 60:
                    long.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({length} lines)")
    assert not long, "split these into readable steps: " + ", ".join(long)


def _import_graph() -> dict[str, set[str]]:
    """autograd's modules -> the autograd modules each imports, at module level or inside functions
    (imports under `if TYPE_CHECKING:` never run and are left out, as are a package's own submodules)."""
    def name_of(path: Path) -> str:
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    modules = {name_of(path): path for path in AUTOGRAD.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        imported: list[str] = []

        def visit(node: ast.AST, path: Path = path, imported: list[str] = imported) -> None:
            if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
                for child in node.orelse:
                    visit(child)
                return
            if isinstance(node, ast.Import):
                imported.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node, path)
                imported.extend(f"{base}.{alias.name}" for alias in node.names)
            for child in ast.iter_child_nodes(node):
                visit(child)

        visit(ast.parse(path.read_text()))
        targets = set()
        for name in imported:
            while name and name not in modules:  # `from .ops.shape import squeeze` -> autograd.ops.shape
                name = name.rpartition(".")[0]
            if name and name != module and not name.startswith(module + ".") and not module.startswith(name + "."):
                targets.add(name)  # a package importing its submodules, or a module its own package, is no cycle
        graph[module] = targets
    return graph


# Allowed: the ops import Tensor, and their methods are Tensor's.
ALLOWED_CYCLE = re.compile(r"autograd\.(tensor|ops\..*)")


def test_autograd_modules_import_each_other_in_layers_without_cycles() -> None:
    graph = _import_graph()
    assert {"autograd.tensor", "autograd.function", "autograd.engine"} <= graph.keys()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[set[str]] = []

    def connect(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in graph[module]:
            if target not in index:
                connect(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = set()
            while not component or module not in component:
                component.add(stack.pop())
            if len(component) > 1:
                cycles.append(component)

    for module in sorted(graph):
        if module not in index:
            connect(module)
    bad = [
        sorted(cycle) for cycle in cycles
        if not all(ALLOWED_CYCLE.fullmatch(m) for m in cycle)
    ]  # fmt: skip
    assert bad == [], f"import cycles in autograd (only tensor <-> ops is allowed): {bad}"
