"""Stochastic gradient descent, with optional momentum, Nesterov momentum, dampening and L2 weight decay."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from autograd import Tensor, no_grad

from .optimizer import Optimizer, finite


class SGD(Optimizer):
    """PyTorch's SGD rule, per parameter p with gradient g:

        g = g + weight_decay * p
        if momentum:  buf = g on the first step, else momentum * buf + (1 - dampening) * g
                      g = g + momentum * buf if nesterov else buf
        p -= lr * g

    The default lr is PyTorch's, 1e-3.

    >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[Mapping[str, Any]],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ):
        settings = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, settings)

    def _validate(self, settings: Mapping[str, Any]) -> None:
        lr = finite("SGD", "lr", settings["lr"], "0.01 to 0.1 is typical")
        momentum = finite("SGD", "momentum", settings["momentum"], "0 turns it off, 0.9 is typical")
        dampening = finite("SGD", "dampening", settings["dampening"], "0 is typical")
        weight_decay = finite("SGD", "weight_decay", settings["weight_decay"], "0 turns it off")
        nesterov = settings["nesterov"]
        if lr < 0:
            raise ValueError(
                f"SGD: invalid learning rate lr={settings['lr']}; it must be >= 0 (0.01 to 0.1 is typical)"
            )
        if momentum < 0:
            raise ValueError(
                f"SGD: invalid momentum={settings['momentum']}; it must be >= 0 (0 turns it off, 0.9 is typical)"
            )
        if not 0 <= dampening <= 1:
            raise ValueError(f"SGD: invalid dampening={settings['dampening']}; it must lie in [0, 1]")
        if weight_decay < 0:
            raise ValueError(f"SGD: invalid weight_decay={settings['weight_decay']}; it must be >= 0 (0 turns it off)")
        if not isinstance(nesterov, (bool, np.bool_)):
            raise TypeError(f"SGD: nesterov must be True or False, got {nesterov!r}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"SGD: Nesterov momentum requires momentum > 0 and dampening = 0, got momentum={momentum}, "
                f"dampening={dampening}; set momentum (0.9 is typical) or pass nesterov=False"
            )

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter whose `.grad` is set, with its group's settings; parameters without a
        gradient are skipped. `closure`, if given, is called first (with gradients on) and its loss returned."""
        loss = self._evaluate(closure)
        states = self.state.by_param
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov = group["weight_decay"], group["nesterov"]
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                g = grad.data
                if weight_decay:
                    g = g + weight_decay * p.data
                if momentum:
                    state = states[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = np.array(g, dtype=p.dtype)  # a copy, in the parameter's dtype
                    else:
                        buf = state["momentum_buffer"]
                        buf *= momentum
                        buf += (1 - dampening) * g
                    buf = state["momentum_buffer"]
                    g = g + momentum * buf if nesterov else buf
                p.sub_(lr * g)  # in place: arrays sharing the parameter's memory see it, its version counts it
        return loss
