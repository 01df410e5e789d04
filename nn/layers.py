"""Layers: Linear, the containers (Sequential, ModuleList, ModuleDict), Identity, Flatten, Dropout, activations."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from typing import Any

import numpy as np

from autograd import Tensor
from autograd.device import as_device
from autograd.dtypes import as_dtype, get_default_dtype
from autograd.random import as_generator

from . import functional as F
from . import init
from .module import Module, Parameter


class Linear(Module):
    """y = x @ weight.T + bias, weight of shape (out_features, in_features) as in PyTorch.

    Initialised like PyTorch: uniform in +/- 1/sqrt(in_features), drawn from the default
    generator (`autograd.manual_seed`) unless `generator` is given. `dtype` defaults to
    `autograd.get_default_dtype()`; `device` is the CPU.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: np.random.Generator | None = None,
    ):
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"Linear needs positive sizes, got in_features={in_features}, out_features={out_features}")
        as_device(device)
        dtype = get_default_dtype() if dtype is None else as_dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Linear's parameters need a floating-point dtype, got {dtype}")
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / np.sqrt(in_features)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        init.uniform_(self.weight, -bound, bound, generator=generator)
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=dtype))
            init.uniform_(self.bias, -bound, bound, generator=generator)
        else:
            self.bias = None

    def forward(self, x: Any) -> Tensor:
        shape = x.shape if isinstance(x, Tensor) else np.shape(x)
        if shape[-1:] != (self.in_features,):
            raise ValueError(
                f"Linear({self.in_features}, {self.out_features}) expects inputs whose last dimension is "
                f"{self.in_features}, got shape {shape}"
            )
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Sequential(Module):
    """Modules applied one after another; children are named 0, 1, 2, ... or by the keys of an OrderedDict.

    >>> Sequential(Linear(2, 3), ReLU())
    >>> Sequential(OrderedDict([("fc", Linear(2, 3)), ("act", ReLU())]))
    """

    def __init__(self, *layers: Module | OrderedDict[str, Module]):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], OrderedDict):
            for name, layer in layers[0].items():
                self.add_module(name, _module("Sequential", name, layer))
            return
        for i, layer in enumerate(layers):
            self.add_module(str(i), _module("Sequential", f"argument {i}", layer))

    def forward(self, x: Any) -> Any:
        for layer in self._modules.values():
            x = layer(x)
        return x

    def __getitem__(self, index: int | slice) -> Any:
        """The module at `index`, or for a slice a Sequential of those modules under their names."""
        items = list(self._modules.items())
        if isinstance(index, slice):
            return type(self)(OrderedDict(items[index]))
        return items[_position("Sequential", index, len(items))][1]

    def __setitem__(self, index: int, module: Module) -> None:
        name = list(self._modules)[_position("Sequential", index, len(self._modules))]
        setattr(self, name, _module("Sequential", f"item {index}", module))

    def __delitem__(self, index: int | slice) -> None:
        """Remove the module(s) at `index`; the rest are renumbered 0, 1, ... as in PyTorch."""
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[_position("Sequential", index, len(modules))]
        _renumber(self, modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def append(self, module: Module) -> Sequential:
        """Add `module` at the end, named by its position; returns self."""
        self.add_module(str(len(self._modules)), _module("Sequential", "append()", module))
        return self


class ModuleList(Module):
    """A list of modules, registered as children "0", "1", ... so their parameters are the owner's.

    It has no forward: iterate over it in the owner's forward.

    >>> self.layers = ModuleList(Linear(4, 4) for _ in range(3))
    """

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index: int | slice) -> Any:
        """The module at `index`, or for a slice a new ModuleList of those modules."""
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return type(self)(modules[index])
        return modules[_position("ModuleList", index, len(modules))]

    def __setitem__(self, index: int, module: Module) -> None:
        i = _position("ModuleList", index, len(self._modules))
        setattr(self, str(i), _module("ModuleList", f"item {index}", module))

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[_position("ModuleList", index, len(modules))]
        _renumber(self, modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return type(self)([*self, *other])

    def append(self, module: Module) -> ModuleList:
        """Add `module` at the end; returns self."""
        setattr(self, str(len(self._modules)), _module("ModuleList", "append()", module))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append each of `modules`; returns self."""
        if isinstance(modules, Module) and not isinstance(modules, (ModuleList, Sequential)):
            raise TypeError(f"ModuleList.extend takes an iterable of Modules, got a single {type(modules).__name__}")
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert `module` before position `index` (list semantics); later modules are renumbered."""
        modules = list(self._modules.values())
        modules.insert(index, _module("ModuleList", "insert()", module))
        _renumber(self, modules)

    def pop(self, index: int = -1) -> Module:
        """Remove and return the module at `index`; later modules are renumbered."""
        module = self[index]
        del self[index]
        return module


class ModuleDict(Module):
    """A dict of modules, registered as children under their keys, in insertion order.

    >>> self.heads = ModuleDict({"class": Linear(8, 10), "box": Linear(8, 4)})
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(key)
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, _module("ModuleDict", repr(key), module))

    def __delitem__(self, key: str) -> None:
        if key not in self._modules:
            raise KeyError(key)
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> KeysView[str]:
        return self._modules.keys()

    def values(self) -> ValuesView[Module]:
        return self._modules.values()

    def items(self) -> ItemsView[str, Module]:
        return self._modules.items()

    def clear(self) -> None:
        for key in list(self._modules):
            delattr(self, key)

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace entries from a mapping or from (key, module) pairs."""
        if isinstance(modules, (Mapping, ModuleDict)):
            pairs = list(modules.items())
        else:
            pairs = []
            for i, pair in enumerate(modules):
                if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                    raise TypeError(f"ModuleDict.update: element {i} should be a (key, module) pair, got {pair!r}")
                pairs.append(tuple(pair))
        for key, module in pairs:
            self[key] = module


class Identity(Module):
    """Returns its input unchanged; constructor arguments are accepted and ignored, as in PyTorch."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Merge dimensions start_dim..end_dim (by default all but the batch dimension); numpy input is wrapped."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Any) -> Tensor:
        return F._tensor(x).flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


def _renumber(container: Module, modules: list[Module]) -> None:
    """Register `modules` as `container`'s only children, named by position."""
    for name in list(container._modules):
        delattr(container, name)
    for i, module in enumerate(modules):
        setattr(container, str(i), module)


def _module(owner: str, where: str, value: Any) -> Module:
    """`value` if it is a Module, else a TypeError naming the container and the position."""
    if not isinstance(value, Module):
        raise TypeError(f"{owner} takes Modules, {where} is a {type(value).__name__}")
    return value


def _position(owner: str, index: Any, length: int) -> int:
    """`index` (negative counts from the end) as a position in [0, length), else an IndexError."""
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"{owner} indices must be integers or slices, not {type(index).__name__}")
    i = int(index) + length if index < 0 else int(index)
    if not 0 <= i < length:
        raise IndexError(f"index {index} is out of range for a {owner} of length {length}")
    return i


class Dropout(Module):
    """Inverted dropout: zeroes elements with probability p while training; the identity in eval mode."""

    def __init__(self, p: float = 0.5, generator: np.random.Generator | None = None):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.generator = generator  # None: draw from autograd's default generator (autograd.manual_seed seeds it)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, as_generator(self.generator))

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Sigmoid(Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class ReLU(Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class Tanh(Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class Step(Module):
    """The seeds' step function (1 where x > 0); its gradient is zero, so it does not train."""

    def forward(self, x: Tensor) -> Tensor:
        return F.step(x)


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Softmax(Module):
    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, self.dim)
