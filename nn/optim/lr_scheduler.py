"""Learning-rate schedules: call `scheduler.step()` once per epoch, after that epoch's optimiser steps.

Each schedule is a closed-form function of the epoch count, written into every param group's 'lr'.

>>> opt = SGD(model.parameters(), lr=0.1)
>>> scheduler = StepLR(opt, step_size=30, gamma=0.1)
>>> for epoch in range(100):
...     train_one_epoch(model, opt)
...     scheduler.step()
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .optimizer import Optimizer


class LRScheduler:
    """Base class: remembers each param group's starting lr (`base_lrs`) and counts epochs (`last_epoch`).

    Every group's lr follows the schedule from its own starting lr, as in PyTorch; the
    starting lr is kept in the group as "initial_lr".
    """

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__} takes an optimiser such as optim.SGD(...), got a {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = 0
        self._set_lrs()

    def get_lr(self) -> list[float]:
        """The learning rate of each param group at epoch `self.last_epoch`."""
        raise NotImplementedError(f"{type(self).__name__} must define get_lr()")

    def _set_lrs(self) -> None:
        self._last_lr = [float(lr) for lr in self.get_lr()]
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def step(self) -> None:
        """Move to the next epoch and set every param group's lr for it."""
        self.last_epoch += 1
        self._set_lrs()

    def get_last_lr(self) -> list[float]:
        """The lr the scheduler last set, one entry per param group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Where the schedule stands (starting lrs and epoch count), for resuming training."""
        return {"base_lrs": list(self.base_lrs), "last_epoch": self.last_epoch}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore `state_dict()` (or `nn.load` of it) into a scheduler built with the same settings and param
        groups, and set the lrs it implies."""
        base_lrs = [float(lr) for lr in np.asarray(state["base_lrs"], dtype=float).reshape(-1)]
        if len(base_lrs) != len(self.optimizer.param_groups):
            raise ValueError(
                f"the scheduler state has {len(base_lrs)} starting lr(s), but the optimiser has "
                f"{len(self.optimizer.param_groups)} param group(s)"
            )
        self.base_lrs = base_lrs
        self.last_epoch = int(state["last_epoch"])
        self._set_lrs()


class StepLR(LRScheduler):
    """Multiply the lr by `gamma` every `step_size` epochs: lr = base_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        if not (isinstance(step_size, int) and step_size > 0):
            raise ValueError(f"StepLR: step_size must be a positive whole number of epochs, got {step_size!r}")
        if gamma < 0:
            raise ValueError(f"StepLR: gamma must be >= 0 (0.1 is typical), got {gamma}")
        self.step_size = step_size
        self.gamma = float(gamma)
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from base_lr down to eta_min over T_max epochs:

        lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2

    Past T_max the cosine continues (the lr rises again), as in PyTorch.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):
        if not (isinstance(T_max, int) and T_max > 0):
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive whole number of epochs, got {T_max!r}")
        if eta_min < 0:
            raise ValueError(f"CosineAnnealingLR: eta_min must be >= 0, got {eta_min}")
        self.T_max = T_max
        self.eta_min = float(eta_min)
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        cosine = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base_lr - self.eta_min) * cosine / 2 for base_lr in self.base_lrs]
