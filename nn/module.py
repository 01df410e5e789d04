"""`Module` and `Parameter`: the building blocks of networks, as in PyTorch.

A Module registers the Parameters and sub-Modules assigned to its attributes, in
assignment order, and names each parameter by its path (`fc1.weight`); that name is also
the parameter's `.name`, so graph pictures and error messages use it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from autograd import Tensor, is_grad_enabled, no_grad
from autograd.grad_mode import call_in_scope


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict` could not match: the model's parameters absent from the state, and state keys
    the model has no parameter for (PyTorch's return value)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Parameter(Tensor):
    """A tensor that is a module's learnable state: requires grad by default."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, name: str | None = None):
        array = data.data if isinstance(data, Tensor) else data
        if not (isinstance(array, np.ndarray) and array.dtype.kind == "f"):
            array = np.asarray(array, dtype=np.float64)
        super().__init__(array, requires_grad=requires_grad, name=name)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of layers and networks: subclass it, assign layers in `__init__`, write `forward`.

    >>> class Net(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc1 = Linear(2, 3)
    ...     def forward(self, x):
    ...         return self.fc1(x).sigmoid()
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_name", "")  # the attribute name in its parent ("" for the top module)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() ran; "
                f"call super().__init__() at the start of {type(self).__name__}.__init__"
            )
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
            value.name = name
        elif isinstance(value, Module):
            self._modules[name] = value
            object.__setattr__(value, "_name", name)
            for path, p in value.named_parameters():
                p.name = f"{name}.{path}"
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not is_grad_enabled():  # nothing is recorded, so there is nothing to tag
            return self.forward(*args, **kwargs)
        # The scope tags the ops this call records, so pictures can draw the module as a box.
        return call_in_scope(self._name, type(self).__name__, self.forward, *args, **kwargs)

    # ------------------------------------------------------------------ traversal

    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        yield from self._modules.values()

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every module inside it, depth first, with their paths."""
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(path, parameter) pairs in registration order; a shared parameter appears once."""
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for path, module in modules:
            for name, p in module._parameters.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{path}.{name}" if path else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    # ------------------------------------------------------------------ state

    def zero_grad(self) -> None:
        """Forget the gradients accumulated so far (sets every `.grad` to None)."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        """Switch this module and its children to training (or, with mode=False, evaluation) mode."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Switch to evaluation mode (Dropout off)."""
        return self.train(False)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter's values, keyed by path (`fc1.weight`)."""
        return {path: p.data.copy() for path, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values into the parameters, in place (arrays that alias them see the new values).

        All or nothing: every key, shape and dtype is checked before anything is written. With
        strict=True the keys must match exactly; with strict=False the matching ones are loaded.
        Returns the keys that did not match.
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                "load_state_dict expects a mapping of parameter names to arrays (from state_dict() or nn.load), "
                f"got {type(state).__name__}"
            )
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}: missing key(s) {missing}, "
                f"unexpected key(s) {unexpected}; load a state saved from the same architecture, "
                "or pass strict=False to load only the keys that match"
            )
        updates = [(p, _loadable(key, state[key], p)) for key, p in own.items() if key in state]
        with no_grad():  # in place, so its version counts the write
            for p, array in updates:
                p.copy_(array)
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr

    def extra_repr(self) -> str:
        """Settings shown inside the parentheses of this module's repr."""
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_repr}")
        if len(lines) == 1:
            return lines[0] + ")"
        return "\n".join(lines) + "\n)"


def _loadable(key: str, value: Any, p: Parameter) -> np.ndarray:
    """`value` as an array that can be copied into parameter `p`, or an error naming `key` and what is wrong."""
    try:
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
    except (TypeError, ValueError) as e:
        message = f"parameter {key!r}: the state dict holds a {type(value).__name__} that is not an array ({e})"
        raise TypeError(message) from None
    if array.dtype.kind not in "biufc":
        raise TypeError(
            f"parameter {key!r}: the state dict holds an array of dtype {array.dtype}, not numbers; "
            f"the model's is {p.dtype}"
        )
    if array.shape != p.shape:
        raise ValueError(f"parameter {key!r}: the state dict has shape {array.shape}, the model has {p.shape}")
    if not np.can_cast(array.dtype, p.dtype, casting="same_kind"):
        raise TypeError(
            f"parameter {key!r}: the state dict has dtype {array.dtype}, which cannot be cast to the model's "
            f"dtype {p.dtype}"
        )
    return array
