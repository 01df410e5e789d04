"""Learning-rate schedules: call `scheduler.step()` once per epoch, after that epoch's optimiser steps.

Each schedule is a closed-form function of the epoch count, written into `optimizer.lr`.

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

from .optimizer import Optimizer


class LRScheduler:
    """Base class: remembers the optimiser's starting lr (`base_lr`) and counts epochs (`last_epoch`)."""

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__} takes an optimiser such as optim.SGD(...), got a {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.base_lr: float = optimizer.lr
        self.last_epoch = 0
        self.optimizer.lr = self.get_lr()

    def get_lr(self) -> float:
        """The learning rate at epoch `self.last_epoch`."""
        raise NotImplementedError(f"{type(self).__name__} must define get_lr()")

    def step(self) -> None:
        """Move to the next epoch and set the optimiser's lr for it."""
        self.last_epoch += 1
        self.optimizer.lr = self.get_lr()

    def get_last_lr(self) -> list[float]:
        """The lr the scheduler last set, as a one-element list (PyTorch's form: one entry per param group)."""
        return [self.optimizer.lr]

    def state_dict(self) -> dict[str, Any]:
        """Where the schedule stands (starting lr and epoch count), for resuming training."""
        return {"base_lr": self.base_lr, "last_epoch": self.last_epoch}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore `state_dict()` into a scheduler built with the same settings, and set the lr it implies."""
        self.base_lr = float(state["base_lr"])
        self.last_epoch = int(state["last_epoch"])
        self.optimizer.lr = self.get_lr()


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

    def get_lr(self) -> float:
        return self.base_lr * self.gamma ** (self.last_epoch // self.step_size)


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

    def get_lr(self) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
