"""`Optimizer`: the base class that holds param groups (parameters and their hyperparameters) and per-parameter state.

Updates are written into each parameter's array in place, never by rebinding it: a model may
hand out arrays that share memory with its parameters, and those must see every step; and each
update bumps the parameter's version once (`autograd.inplace.bump`, as `p.sub_` under no_grad
does), so a backward through a graph recorded before the step says the values it saved have
changed. Steps compute with numpy ufuncs into scratch arrays made once and reused (`_buffers`,
`_blocks`), as PyTorch's foreach kernels do: no parameter-sized temporaries, no fresh pages to
fault in, and float32 stays float32. The scratch arrays are not state: they hold nothing between
steps, and `state_dict()` never sees them.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from autograd import Tensor, enable_grad, no_grad
from autograd.compiler import is_compiling

BLOCK = 16_384  # elements a step updates at a time (see Optimizer._blocks): 128 kB of float64 per array


class Optimizer:
    """Base class: subclasses pass their hyperparameters as `defaults`, check them in `_validate` and write `step()`.

    `params` is an iterable of tensors (or of (name, tensor) pairs, as `model.named_parameters()`
    gives) or, as in PyTorch, of dicts ("param groups"): each dict has "params" and may override
    any hyperparameter for those tensors. `param_groups` is the
    list of groups, each holding every hyperparameter; `step()` reads each group's values, and
    schedulers and users may change them between steps. `opt.lr` (any hyperparameter) reads the
    value all groups share and assigning it sets it in every group.

    Per-parameter state (momentum buffers, Adam moments, step counts) is a dict per parameter:
    `self.state[i]` for the i-th parameter over all groups in order, or `self.state[p]`.

    >>> opt = SGD(model.parameters(), lr=0.1)
    >>> opt = SGD([{"params": model.fc1.parameters()}, {"params": model.fc2.parameters(), "lr": 0.01}], lr=0.1)
    >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[Mapping[str, Any]], defaults: Mapping[str, Any]):
        self._validate(defaults)
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__} takes an iterable of parameters, got a single Tensor; "
                "pass model.parameters() or a list such as [w, b]"
            )
        _ordered(type(self).__name__, params)
        self.defaults: dict[str, Any] = {name: _plain(value) for name, value in defaults.items()}
        self.param_groups: list[dict[str, Any]] = []
        self.state = _State()
        self._scratch: dict[Tensor, tuple[np.ndarray, list[np.ndarray]]] = {}  # see _buffers
        self._block_scratch: dict[np.dtype, list[np.ndarray]] = {}  # see _blocks
        groups = list(params)
        if not groups:
            raise ValueError(
                f"{type(self).__name__} got an empty parameter list; pass model.parameters() of a model that "
                "has parameters (a generator from model.parameters() can only be used once)"
            )
        if isinstance(groups[0], Mapping):
            for group in groups:
                self.add_param_group(group)
        else:
            self._add_group({"params": groups}, where="")

    def _validate(self, settings: Mapping[str, Any]) -> None:
        """Raise TypeError or ValueError for a bad hyperparameter; run on the constructor's, each group's and
        loaded ones."""

    def add_param_group(self, param_group: Mapping[str, Any]) -> None:
        """Add a group of parameters with its own settings; those it does not give come from the defaults."""
        if not isinstance(param_group, Mapping):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise KeyError(f"param group {len(self.param_groups)} has no 'params' entry; give the tensors it holds")
        self._add_group(param_group, where=f" of param group {len(self.param_groups)}")

    def _add_group(self, param_group: Mapping[str, Any], where: str) -> None:
        name, index = type(self).__name__, len(self.param_groups)
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(_ordered(name, params))
        names = None
        if params and all(isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str) for x in params):
            names, params = [n for n, _ in params], [p for _, p in params]  # from model.named_parameters()
        taken = {id(p) for group in self.param_groups for p in group["params"]}
        seen: set[int] = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} can only optimise Tensors, parameter {i}{where} is a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(
                    f"{name} cannot optimise parameter {i}{where} ({p.name or 'unnamed'}): it is not a leaf "
                    "but the result of an op; pass the tensors you created (or .detach() them)"
                )
            if id(p) in seen:
                raise ValueError(
                    f"parameter {i}{where} ({p.name or 'unnamed'}) appears twice in the list given to {name}; "
                    "it would be updated twice per step. Pass each parameter once."
                )
            if id(p) in taken:
                raise ValueError(
                    f"parameter {i}{where} ({p.name or 'unnamed'}) is already in another param group of {name}; "
                    "some parameters appear in more than one parameter group"
                )
            seen.add(id(p))
        group = {**param_group, "params": params}
        if names is not None:
            group["param_names"] = names
        for key, default in self.defaults.items():
            group[key] = _plain(group[key]) if key in group else default
        if where:
            try:
                self._validate(group)
            except (TypeError, ValueError) as e:
                raise type(e)(f"param group {index}: {e}") from None
        self.param_groups.append(group)
        self._index_state({**self.state.by_param, **{p: {} for p in params}})

    def _index_state(self, states: Mapping[Tensor, dict[str, Any]]) -> None:
        """Rebuild `self.state` from per-parameter dicts, in the order of the groups."""
        by_param = _ByParam((p, states[p]) for group in self.param_groups for p in group["params"])
        self.state = _State(by_param)

    def _parameters(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    # ------------------------------------------------------------------ hyperparameters as attributes

    def __getattr__(self, name: str) -> Any:
        defaults = self.__dict__.get("defaults")
        groups = self.__dict__.get("param_groups")
        if not defaults or name not in defaults or not groups:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        first = groups[0][name]
        if any(group[name] != first for group in groups[1:]):
            raise AttributeError(
                f"{type(self).__name__}.{name} differs between param groups "
                f"({[group[name] for group in groups]}); read optimizer.param_groups[i][{name!r}]"
            )
        return first

    def __setattr__(self, name: str, value: Any) -> None:
        defaults = self.__dict__.get("defaults")
        if defaults is None or name not in defaults:
            object.__setattr__(self, name, value)
            return
        value = _plain(value)
        for group in self.param_groups:
            self._validate({**group, name: value})
        for group in self.param_groups:
            group[name] = value

    # ------------------------------------------------------------------ steps

    def _buffers(self, p: Tensor, count: int) -> list[np.ndarray]:
        """`count` scratch arrays shaped and typed like p's, made once and reused by every step (they hold
        nothing between steps, so they are not state); made afresh if p's array is replaced."""
        entry = self._scratch.get(p)
        if entry is not None and entry[0] is p._data and len(entry[1]) >= count:
            return entry[1]
        data = p._data
        buffers = entry[1] if entry is not None and entry[0] is data else []
        buffers += [np.empty_like(data) for _ in range(count - len(buffers))]
        self._scratch[p] = (data, buffers)
        return buffers

    def _blocks(self, p: Tensor, arrays: tuple[np.ndarray | None, ...], count: int) -> list[tuple[Any, ...]]:
        """`arrays` (p's, its gradient's, its state's; None passes through) and a list of `count` scratch arrays:
        whole, for a parameter of up to BLOCK elements, else block by block, BLOCK elements at a time.

        A step makes a dozen passes over its arrays; block by block, each block's arrays stay in the
        CPU cache between passes instead of going out to memory (an Adam step of a 784x256 float64
        layer takes about 30% less time). Elementwise ops give the same values either way."""
        size = arrays[0].size
        if size <= BLOCK or not all(a is None or a.flags.c_contiguous for a in arrays):
            return [(*arrays, self._buffers(p, count))]
        dtype = arrays[0].dtype
        scratch = self._block_scratch.get(dtype)
        if scratch is None or len(scratch) < count:
            scratch = [np.empty(BLOCK, dtype) for _ in range(count)]
            if not is_compiling():  # (a compiled step's program makes its own arrays; none may be kept from it)
                self._block_scratch[dtype] = scratch
        flat = [None if a is None else a.reshape(-1) for a in arrays]  # views: the arrays are C-contiguous
        return [
            (*(None if a is None else a[i : i + BLOCK] for a in flat), [s[: min(BLOCK, size - i)] for s in scratch])
            for i in range(0, size, BLOCK)
        ]

    @staticmethod
    def _evaluate(closure: Callable[[], Any] | None) -> Any:
        """step()'s closure, if given, run with gradients on (step itself runs under no_grad); its loss."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients accumulated so far: `.grad = None` (or, with set_to_none=False, zeros)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    with no_grad():
                        p.grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, in place; `closure` (re-evaluating the loss) is called
        first, with gradients enabled, and its result returned."""
        raise NotImplementedError(f"{type(self).__name__} must define step()")

    # The numbers of a parameter's update that change from step to step (a scheduler's lr, Adam's bias
    # corrections), named. `step()` gets them from `_rates` once per parameter and uses them only as numpy
    # operands, never in Python arithmetic, so `autograd.compile` can replay the arithmetic as numpy lines and
    # call `_rates` afresh on every call. An optimiser without `_rates` is one opaque call in a compiled step.
    rate_names: tuple[str, ...] = ()
    rates_per_group = False  # True where _rates depends on the group only and counts nothing (one call per group)

    def _rates(self, group: Mapping[str, Any], p: Tensor) -> tuple[float, ...]:
        """This step's changing numbers for p (and any counting they imply, such as Adam's step)."""
        raise NotImplementedError(f"{type(self).__name__} does not define _rates()")

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict[str, Any]:
        """Hyperparameters and copies of the per-parameter state, as a flat dict of numbers and arrays.

        The first group's hyperparameters are keyed by name (`"lr"`). With several groups, group g
        adds `"param_groups.{g}.{name}"` for g >= 1 and `"param_groups.{g}.params"`, the indices of
        its parameters. Per-parameter entries are keyed `"{index}.{name}"` (`"0.exp_avg"`), index
        being the parameter's position over all groups in order; so the dict can be saved with
        `nn.save` and read back with `nn.load`.
        """
        groups = self.param_groups
        state: dict[str, Any] = {name: groups[0][name] for name in self.defaults}
        if len(groups) > 1:
            start = 0
            for g, group in enumerate(groups):
                if g:
                    state.update({f"param_groups.{g}.{name}": group[name] for name in self.defaults})
                state[f"param_groups.{g}.params"] = np.arange(start, start + len(group["params"]))
                start += len(group["params"])
        for i, entries in enumerate(self.state):
            for name, value in entries.items():
                state[f"{i}.{name}"] = value.copy() if isinstance(value, np.ndarray) else value
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore hyperparameters and per-parameter state from `state_dict()` (or from `nn.load` of it).

        The optimiser must have the same param groups, of the same sizes. Everything is checked
        before anything is written; arrays are copied, in each parameter's dtype, so the
        optimiser never shares memory with `state`.
        """
        self._check_group_count(state)
        hypers = [self._loaded_hyperparameters(state, g) for g in range(len(self.param_groups))]
        params = self._parameters()
        per_param = self._loaded_per_param_state(state, params)
        for group, hyper in zip(self.param_groups, hypers):
            group.update(hyper)
        self._index_state(dict(zip(params, per_param)))

    def _check_group_count(self, state: Mapping[str, Any]) -> None:
        """Refuse a state dict saved from an optimiser with a different number of param groups."""
        n_groups = len(self.param_groups)
        saved_groups = 1 + max((g for g in map(_group_key, state) if g is not None), default=0)
        if saved_groups != n_groups:
            raise ValueError(
                f"the state dict has {saved_groups} param group(s), but this {type(self).__name__} has {n_groups}; "
                "build it with the same param groups"
            )

    def _loaded_hyperparameters(self, state: Mapping[str, Any], g: int) -> dict[str, Any]:
        """Param group g's hyperparameters from `state`, checked to be present, valid and of the defaults' types."""
        prefix = f"param_groups.{g}." if g else ""
        where = f"param group {g}: " if len(self.param_groups) > 1 else ""
        missing = [k for k in self.defaults if prefix + k not in state]
        if missing:
            raise KeyError(
                f"state dict for {type(self).__name__} lacks hyperparameters {missing}"
                + (f" of param group {g}" if g else "")
                + "; was it saved from another optimiser?"
            )
        hyper = {k: _plain(state[prefix + k]) for k in self.defaults}
        try:
            self._validate(hyper)
        except (TypeError, ValueError) as e:
            raise type(e)(f"the state dict holds an invalid setting: {where}{e}") from None
        self._check_setting_types(hyper, where)
        self._check_group_size(state, g)
        return hyper

    def _check_setting_types(self, hyper: Mapping[str, Any], where: str) -> None:
        """Refuse a loaded setting whose type differs from its default's (a float lr saved as a tuple, say)."""
        for k, value in hyper.items():
            if type(value) is not type(self.defaults[k]):
                raise TypeError(
                    f"the state dict holds {where}{k}={value!r}, but {type(self).__name__} expects a "
                    f"{type(self.defaults[k]).__name__} such as {self.defaults[k]!r}"
                )

    def _check_group_size(self, state: Mapping[str, Any], g: int) -> None:
        """Refuse a state dict whose param group g held a different number of parameters than ours."""
        sizes = f"param_groups.{g}.params"
        group = self.param_groups[g]
        if sizes in state and np.size(state[sizes]) != len(group["params"]):
            raise ValueError(
                f"param group {g} of the state dict has {np.size(state[sizes])} parameters, but this "
                f"{type(self).__name__}'s has {len(group['params'])}; build it with the same param groups"
            )

    def _loaded_per_param_state(self, state: Mapping[str, Any], params: list[Tensor]) -> list[dict[str, Any]]:
        """The `"{index}.{name}"` entries of `state` as one dict per parameter; any other unknown key is an error."""
        name = type(self).__name__
        per_param: list[dict[str, Any]] = [{} for _ in params]
        for key, value in state.items():
            if key in self.defaults:
                continue
            if _group_key(key) is not None:
                if key.rpartition(".")[2] not in (*self.defaults, "params"):
                    raise KeyError(f"unexpected key {key!r} in the state dict for {name}")
                continue
            index, _, entry = key.partition(".")
            if not (index.isdigit() and entry):
                raise KeyError(f"unexpected key {key!r} in the state dict for {name}")
            i = int(index)
            if i >= len(params):
                raise ValueError(
                    f"the state dict has state for parameter {i}, but this {name} has only {len(params)} "
                    "parameters; build it from the same model"
                )
            per_param[i][entry] = _loaded_state_value(key, value, i, params[i])
        return per_param

    def __repr__(self) -> str:
        def settings(group: Mapping[str, Any]) -> str:
            return ", ".join(f"{k}={group[k]!r}" for k in self.defaults)

        if len(self.param_groups) == 1:
            return f"{type(self).__name__}({settings(self.param_groups[0])})"
        groups = "; ".join(f"group {g}: {settings(group)}" for g, group in enumerate(self.param_groups))
        return f"{type(self).__name__}({groups})"


class _ByParam(dict):  # type: ignore[type-arg]
    """Per-parameter state dicts keyed by the parameter (by identity); a stranger is a clear KeyError."""

    def __missing__(self, key: Any) -> Any:
        raise KeyError(
            f"{key.name or 'this tensor'} is not a parameter of this optimiser; add it with add_param_group() "
            "rather than by changing a group's 'params' list"
            if isinstance(key, Tensor)
            else key
        )


class _State(list):  # type: ignore[type-arg]
    """The per-parameter state dicts in parameter order: `state[i]`, or `state[p]` as in PyTorch."""

    def __init__(self, by_param: _ByParam | None = None):
        self.by_param = _ByParam() if by_param is None else by_param
        super().__init__(self.by_param.values())

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, Tensor):
            return self.by_param[key]
        return super().__getitem__(key)


def _group_key(key: str) -> int | None:
    """The group index of a `"param_groups.{g}.{name}"` key, else None."""
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "param_groups" and parts[1].isdigit():
        return int(parts[1])
    return None


def _loaded_state_value(key: str, value: Any, i: int, p: Tensor) -> Any:
    """One saved state entry of parameter i: an integer count as int, else a copy in `p`'s shape and dtype."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"state {key!r} is an array of dtype {array.dtype}, not real numbers")
    if array.ndim == 0 and array.dtype.kind in "iu":
        return int(array)
    if array.shape != p.shape:
        raise ValueError(
            f"state {key!r} has shape {array.shape} but parameter {i} ({p.name or 'unnamed'}) has shape "
            f"{p.shape}; build the optimiser from the same model"
        )
    return np.array(array, dtype=p.dtype)


def _ordered(owner: str, params: Any) -> Any:
    """`params` unless it is a set, whose order (and so the state's) would change from run to run."""
    if isinstance(params, (set, frozenset)):
        raise TypeError(
            f"{owner}: parameters must be given in an ordered collection (a list or model.parameters()), "
            "not a set, whose order changes between runs"
        )
    return params


def _plain(value: Any) -> Any:
    """A setting as a plain Python value: numpy scalars and 0-d arrays unwrapped, numbers as float (bools kept),
    sequences as tuples; anything else unchanged."""
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (tuple, list, np.ndarray)):
        return tuple(_plain(v) for v in value)
    return value


def finite(owner: str, name: str, value: Any, typical: str) -> float:
    """`value` as a float if it is a finite real number, else a TypeError or ValueError naming `name`."""
    number = value.item() if isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0 else value
    if isinstance(number, bool) or not isinstance(number, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number ({typical}), got {value!r} of type {type(value).__name__}")
    if not math.isfinite(number):
        raise ValueError(f"{owner}: invalid {name}={value}; it must be a finite number ({typical})")
    return float(number)
