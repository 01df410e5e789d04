"""`Module` and `Parameter`: the building blocks of networks, as in PyTorch.

A Module registers the Parameters and sub-Modules assigned to its attributes, in
assignment order, and names each parameter by its path (`fc1.weight`); that name is also
the parameter's `.name`, so graph pictures and error messages use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from autograd import Tensor, call_in_scope, is_grad_enabled, no_grad
from autograd.device import as_device, device


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
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_name", "")  # the attribute name in its parent ("" for the top module)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() ran; "
                f"call super().__init__() at the start of {type(self).__name__}.__init__"
            )
        if isinstance(value, Parameter):  # a name already registered keeps its place in the order
            self._unregister(name, keep=self._parameters)
            self._parameters[name] = value
            value.name = name
        elif isinstance(value, Module):
            self._unregister(name, keep=self._modules)
            self._modules[name] = value
            object.__setattr__(value, "_name", name)
            for path, p in value.named_parameters():
                p.name = f"{name}.{path}"
        elif name in self._buffers:
            value = _as_buffer(name, value)
            self._buffers[name] = value
        else:
            self._parameters.pop(name, None)
            self._modules.pop(name, None)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._unregister(name)
        object.__delattr__(self, name)

    def _unregister(self, name: str, keep: Mapping[str, Any] | None = None) -> None:
        """Remove `name` from every registry but `keep`."""
        for registry in (self._parameters, self._modules, self._buffers):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not is_grad_enabled():  # nothing is recorded, so there is nothing to tag
            return self.forward(*args, **kwargs)
        # The scope tags the ops this call records, so pictures can draw the module as a box.
        return call_in_scope(self._name, type(self).__name__, self.forward, *args, **kwargs)

    # ------------------------------------------------------------------ registration

    def _check_new_name(self, kind: str, name: Any, registry: Mapping[str, Any]) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "":
            raise KeyError(f"{kind} name must not be empty")
        if "." in name:
            raise KeyError(f'{kind} name must not contain ".", got {name}')
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"attribute {name!r} already exists")

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Register a tensor that is state but not a parameter (running statistics, masks).

        Buffers are not trained, move with `to()` (when floating) and, if `persistent`, are saved
        in `state_dict()`. `tensor` is a Tensor, a numpy array (wrapped, sharing memory) or None.
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError(
                f"cannot register buffer {name!r} before Module.__init__() ran; "
                f"call super().__init__() at the start of {type(self).__name__}.__init__"
            )
        self._check_new_name("buffer", name, self._buffers)
        value = _as_buffer(name, tensor)
        self._unregister(name)
        self._buffers[name] = value
        if not persistent:
            self._non_persistent_buffers.add(name)
        object.__setattr__(self, name, value)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register `param` under `name`, as assigning `self.name = param` does."""
        self._check_new_name("parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign {type(param).__name__!r} object to parameter {name!r} (Parameter or None required)"
            )
        setattr(self, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register `module` as a child under `name`, as assigning `self.name = module` does."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_new_name("module", name, self._modules)
        setattr(self, name, module)

    register_module = add_module

    # ------------------------------------------------------------------ traversal

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for each direct child; a module registered twice appears once."""
        seen: set[int] = set()
        for name, module in self._modules.items():
            if id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(
        self, memo: set[Module] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """("", self) first, then every module inside it, depth first, with their paths.

        A module reachable by two paths appears once, unless remove_duplicate=False.
        """
        if remove_duplicate:
            if memo is None:
                memo = set()
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def _named_members(
        self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool
    ) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        if recurse:
            modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        else:
            modules = iter([(prefix, self)])
        for path, module in modules:
            for name, member in getattr(module, registry).items():
                if member is None or (remove_duplicate and id(member) in seen):
                    continue
                seen.add(id(member))
                yield (f"{path}.{name}" if path else name), member

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(path, parameter) pairs in registration order; a shared parameter appears once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """(path, buffer) pairs in registration order, persistent or not; None buffers are skipped."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call `fn` on every child (recursively), then on this module; returns this module."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ dtype and device

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """PyTorch's `to()`: a dtype, a device, both, or a tensor (its dtype); converts in place, returns self.

        Floating parameters and buffers (and their gradients) take the new floating dtype; integer
        buffers keep theirs. Each Parameter stays the same object (optimisers hold it): its array
        is replaced, so arrays taken from `.data` before the conversion no longer alias it. The
        only device is the CPU; any other is the error `autograd.device.as_device` raises.
        """
        dtype, target = _to_arguments(args, kwargs)
        as_device(target)
        if dtype is not None:
            self._convert(dtype)
        return self

    def float(self) -> Module:
        """Floating parameters and buffers to float32."""
        return self._convert(np.dtype(np.float32))

    def double(self) -> Module:
        """Floating parameters and buffers to float64."""
        return self._convert(np.dtype(np.float64))

    def half(self) -> Module:
        """Floating parameters and buffers to float16."""
        return self._convert(np.dtype(np.float16))

    def cpu(self) -> Module:
        """The CPU is the only device: returns self."""
        return self

    def cuda(self, device: Any = None) -> Module:
        """Always an error: this build computes on the CPU only."""
        as_device("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)
        return self

    def _convert(self, dtype: np.dtype) -> Module:
        with no_grad():
            for t in [*self.parameters(), *self.buffers()]:
                if t.dtype.kind == "f" and t.dtype != dtype:
                    t.data = t.data.astype(dtype)
                    if t.grad is not None:
                        t.grad = t.grad.data.astype(dtype)
        return self

    # ------------------------------------------------------------------ state

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set requires_grad on every parameter (False freezes them); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients accumulated so far: `.grad = None` (or, with set_to_none=False, zeros in place)."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                with no_grad():
                    p.grad.zero_()

    def train(self, mode: bool = True) -> Module:
        """Switch this module and its children to training (or, with mode=False, evaluation) mode."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Switch to evaluation mode (Dropout off)."""
        return self.train(False)

    def _state_tensors(self) -> dict[str, Tensor]:
        """Every parameter and persistent buffer by path, as PyTorch's state_dict lists them: each module's
        parameters, then its buffers, then its children's; a module shared by two paths is listed under both."""
        tensors: dict[str, Tensor] = {}
        for path, module in self.named_modules(remove_duplicate=False):
            dot = f"{path}." if path else ""
            for name, p in module._parameters.items():
                tensors[dot + name] = p
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent_buffers:
                    tensors[dot + name] = b
        return tensors

    def state_dict(
        self, *, destination: dict[str, Any] | None = None, prefix: str = "", keep_vars: bool = False
    ) -> dict[str, Any]:
        """Every parameter and persistent buffer keyed by path (`fc1.weight`), as detached tensors that
        SHARE memory with the module, as PyTorch's do: later training changes them.

        For a snapshot clone them: `{k: v.clone() for k, v in model.state_dict().items()}` (or
        `copy.deepcopy`). `keep_vars=True` gives the Parameter and buffer tensors themselves.
        """
        out: dict[str, Any] = {} if destination is None else destination
        for key, t in self._state_tensors().items():
            out[prefix + key] = t if keep_vars else t.detach()
        return out

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values into the parameters and persistent buffers, in place (arrays that alias them see
        the new values).

        All or nothing: every key, shape and dtype is checked before anything is written. With
        strict=True the keys must match exactly; with strict=False the matching ones are loaded.
        A state that aliases this module's own arrays (its own `state_dict()`) loads correctly.
        Returns the keys that did not match.
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                "load_state_dict expects a mapping of parameter names to arrays (from state_dict() or nn.load), "
                f"got {type(state).__name__}"
            )
        own = self._state_tensors()
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}: missing key(s) {missing}, "
                f"unexpected key(s) {unexpected}; load a state saved from the same architecture, "
                "or pass strict=False to load only the keys that match"
            )
        buffers = {id(b) for b in self.buffers()}
        updates = [
            (t, _loadable(key, state[key], t, "buffer" if id(t) in buffers else "parameter"))
            for key, t in own.items()
            if key in state
        ]
        # A source that shares memory with another destination (a state whose keys point at other
        # arrays of this module) is copied first, so no write changes a value still to be read.
        roots = {id(_root(t.data)) for t, _ in updates}
        updates = [
            (t, array.copy() if array is not t.data and id(_root(array)) in roots else array) for t, array in updates
        ]
        with no_grad():  # in place, so its version counts the write
            for t, array in updates:
                t.copy_(array)
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


def _as_buffer(name: str, value: Any) -> Tensor | None:
    """`value` as a buffer: a Tensor or None; a numpy array is wrapped, sharing its memory."""
    if value is None or isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return Tensor(value)
    raise TypeError(
        f"cannot assign {type(value).__name__!r} object to buffer {name!r} (Tensor, numpy array or None required)"
    )


def _root(array: np.ndarray) -> Any:
    """The array that owns `array`'s memory (following `.base` through views)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _to_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[np.dtype | None, Any]:
    """The dtype and device that `to()` was asked for, either None when not given."""
    unknown = set(kwargs) - {"device", "dtype", "non_blocking"}
    if unknown:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(unknown)}")
    dtype, target = kwargs.get("dtype"), kwargs.get("device")
    for arg in args:
        if isinstance(arg, bool):  # non_blocking: nothing to wait for on the CPU
            continue
        if isinstance(arg, (str, device)):
            target = arg
        elif isinstance(arg, Tensor):
            dtype = arg.dtype
        elif arg is not None:
            dtype = arg
    if dtype is None:
        return None, target
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"to() takes a dtype, a device or a tensor, got {dtype!r}") from None
    if dtype.kind != "f":
        raise TypeError(f"Module.to only accepts floating-point dtypes, but got desired dtype={dtype}")
    return dtype, target


def _loadable(key: str, value: Any, p: Tensor, kind: str = "parameter") -> np.ndarray:
    """`value` as an array that can be copied into tensor `p`, or an error naming `key` and what is wrong."""
    try:
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
    except (TypeError, ValueError) as e:
        message = f"{kind} {key!r}: the state dict holds a {type(value).__name__} that is not an array ({e})"
        raise TypeError(message) from None
    if array.dtype.kind not in "biufc":
        raise TypeError(
            f"{kind} {key!r}: the state dict holds an array of dtype {array.dtype}, not numbers; "
            f"the model's is {p.dtype}"
        )
    if array.shape != p.shape:
        raise ValueError(f"{kind} {key!r}: the state dict has shape {array.shape}, the model has {p.shape}")
    if not np.can_cast(array.dtype, p.dtype, casting="same_kind"):
        raise TypeError(
            f"{kind} {key!r}: the state dict has dtype {array.dtype}, which cannot be cast to the model's "
            f"dtype {p.dtype}"
        )
    return array
