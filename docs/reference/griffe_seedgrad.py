"""A Griffe extension for the documentation site (mkdocs.yml loads it; nothing imports it).

The API reference is built by importing the packages (`force_inspection`), because Tensor's
methods are installed when `import autograd` runs and a static reading of the source never
sees them. Four things make the pages read as the code is used:

- the docstrings' doctest examples (`>>> ...`, then the output) become `pycon` code blocks,
  where Markdown would otherwise read `>>>` as nested quotes;
- an attribute whose only docstring is its value's type's (`tuple`'s, for `saved_tensors = ()`)
  shows none, and a `__slots__` entry no `<member ...>` value;
- a default that is a bare sentinel (`UNSET = object()`) shows its name, not a memory address;
- an op installed as a Tensor method takes the tensor first under another name (`x`); shown as
  a method it is `self`, so the signature reads `t.sum(dim=None, ...)` as it is called.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import griffe

_TENSOR = "autograd.tensor.Tensor"
_DOCTEST_FLAGS = re.compile(r"\s*#\s*doctest:\s*[+-]\w+(\s*,\s*[+-]\w+)*\s*$")


def doctests_as_code(text: str) -> str:
    """Wrap every run of doctest lines (from a `>>>` line to the next blank line) in a pycon fence,
    without their `# doctest: +SKIP`-style flags. An indented `>>>` is left alone: Markdown
    already shows an indented block as code."""
    out: list[str] = []
    in_example = in_fence = False
    for line in text.split("\n"):
        if in_example and not line.strip():
            out.append("```")
            in_example = False
        elif not in_example and line.startswith("```"):
            in_fence = not in_fence
        elif not in_example and not in_fence and line.startswith(">>>"):
            if out and out[-1].strip():
                out.append("")
            out.append("```pycon")
            in_example = True
        out.append(_DOCTEST_FLAGS.sub("", line) if in_example else line)
    if in_example:
        out.append("```")
    return "\n".join(out)


def _sentinel_names(func: Any) -> dict[str, str]:
    """Parameter name -> the global name of its default, for defaults that are bare `object()`s."""
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return {}
    module_globals = getattr(func, "__globals__", {})
    names = {}
    for parameter in parameters:
        if type(parameter.default) is object:
            found = [name for name, value in module_globals.items() if value is parameter.default]
            if found:
                names[parameter.name] = found[0]
    return names


class SeedgradDocs(griffe.Extension):
    """Doctests as code blocks, no borrowed docstrings, sentinel defaults by name, op methods with `self`."""

    def on_instance(self, *, node: Any, obj: griffe.Object, agent: Any, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = doctests_as_code(obj.docstring.value)

    def on_attribute_instance(self, *, node: Any, attr: griffe.Attribute, agent: Any, **kwargs: Any) -> None:
        runtime = getattr(node, "obj", None)
        if attr.docstring is not None and attr.docstring.value == inspect.getdoc(type(runtime)):
            attr.docstring = None
        if inspect.ismemberdescriptor(runtime):  # a __slots__ entry: its value is no default
            attr.value = None

    def on_function_instance(self, *, node: Any, func: griffe.Function, agent: Any, **kwargs: Any) -> None:
        runtime = getattr(node, "obj", None)
        if runtime is None:
            return
        for name, sentinel in _sentinel_names(runtime).items():
            if name in func.parameters:
                func.parameters[name].default = sentinel

    def on_class_members(self, *, node: Any, cls: griffe.Class, agent: Any, **kwargs: Any) -> None:
        if cls.path != _TENSOR:
            return
        for name, member in list(cls.members.items()):
            runtime = vars(node.obj).get(name)
            if member.is_alias and inspect.isfunction(runtime):  # an op installed from autograd.ops
                cls.set_member(name, _as_method(name, runtime, agent))


def _as_method(name: str, func: Any, agent: Any) -> griffe.Function:
    """A registered op as the Tensor method it is: its first parameter shown as `self`."""
    sentinels = _sentinel_names(func)
    parameters = []
    for i, parameter in enumerate(inspect.signature(func).parameters.values()):
        default = None
        if parameter.default is not inspect.Parameter.empty:
            default = sentinels.get(parameter.name, repr(parameter.default))
        parameters.append(
            griffe.Parameter(
                "self" if i == 0 else parameter.name,
                kind=griffe.ParameterKind(parameter.kind.description),
                default=default,
            )
        )
    method = griffe.Function(name, parameters=griffe.Parameters(*parameters))
    doc = inspect.getdoc(func)
    if doc:
        method.docstring = griffe.Docstring(
            doctests_as_code(doc), parser=agent.docstring_parser, parser_options=agent.docstring_options, parent=method
        )
    return method
