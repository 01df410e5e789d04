"""Random number generation with PyTorch's seeding API, on numpy's Generator.

Every random draw that is not given a `generator=` (factories such as `randn`, `nn.init`)
uses one default generator, so `manual_seed(n)` makes a run repeatable. As in PyTorch, the
default generator (and a new `Generator()`) starts from a fixed seed, 67280421310721, and
`seed()` reseeds from the operating system. The numbers differ from PyTorch's: the bit
generator is numpy's PCG64, not PyTorch's Mersenne Twister.
"""

from __future__ import annotations

import copy
import operator
import os
from typing import Any

import numpy as np

from .device import as_device

DEFAULT_SEED = 67280421310721
_MASK = (1 << 64) - 1


def _as_seed(seed: Any) -> int:
    """`seed` as a 64-bit unsigned seed; negative seeds wrap around, as in PyTorch."""
    try:
        value = operator.index(seed)
    except TypeError:
        raise TypeError(f"a seed must be an integer, got {type(seed).__name__} {seed!r}") from None
    if not -(1 << 63) <= value <= _MASK:
        raise ValueError(f"seed {value} does not fit in 64 bits; use an integer in [-2**63, 2**64 - 1]")
    return value & _MASK


class Generator(np.random.Generator):
    """A numpy Generator with torch.Generator's methods: manual_seed, seed, initial_seed, get_state, set_state.

    It is a `np.random.Generator`, so it can be passed wherever one is expected.
    """

    def __init__(self, device: Any = "cpu"):
        if isinstance(device, np.random.BitGenerator):  # numpy's own calls, e.g. spawn(), pass a bit generator
            super().__init__(device)
            self._initial_seed = -1
            return
        as_device(device)
        super().__init__(np.random.PCG64(DEFAULT_SEED))
        self._initial_seed = DEFAULT_SEED

    @property
    def device(self) -> Any:
        return as_device("cpu")

    def manual_seed(self, seed: Any) -> Generator:
        """Reseed in place (objects holding this generator see the new stream); returns the generator."""
        value = _as_seed(seed)
        self.bit_generator.state = np.random.PCG64(value).state
        self._initial_seed = value
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy; returns the seed used."""
        value = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(value)
        return value

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with (-1 if numpy built it from a bit generator)."""
        return self._initial_seed

    def get_state(self) -> dict[str, Any]:
        """A copy of the bit generator's state, for set_state."""
        return copy.deepcopy(self.bit_generator.state)

    def set_state(self, state: dict[str, Any]) -> Generator:
        """Restore a state from get_state; returns the generator."""
        if not isinstance(state, dict) or state.get("bit_generator") != "PCG64":
            raise TypeError("set_state takes the dict that get_state() returned")
        self.bit_generator.state = copy.deepcopy(state)
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.get_state(), self._initial_seed))

    def __repr__(self) -> str:
        return f"Generator(PCG64, initial_seed={self._initial_seed})"

    __str__ = __repr__


def _rebuild(state: dict[str, Any], initial_seed: int) -> Generator:
    generator = Generator()
    generator.set_state(state)
    generator._initial_seed = initial_seed
    return generator


_default = Generator()


def default_generator() -> Generator:
    """The generator every draw without `generator=` uses."""
    return _default


def manual_seed(seed: Any) -> Generator:
    """Seed the default generator (in place); returns it, as torch.manual_seed does."""
    return _default.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from the operating system; returns the seed."""
    return _default.seed()


def initial_seed() -> int:
    """The seed the default generator was last seeded with."""
    return _default.initial_seed()


def get_rng_state() -> dict[str, Any]:
    """The default generator's state (a dict here, not a ByteTensor), for set_rng_state."""
    return _default.get_state()


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the default generator's state from get_rng_state."""
    _default.set_state(state)


def as_generator(generator: Any) -> np.random.Generator:
    """`generator` if it is a numpy Generator, the default generator if None, else a clear TypeError."""
    if generator is None:
        return _default
    if not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"generator must be an autograd.Generator or a numpy Generator (np.random.default_rng(seed)), "
            f"got {type(generator).__name__}"
        )
    return generator


__all__ = [
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
    "as_generator",
]  # fmt: skip
