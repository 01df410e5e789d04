"""Stochastic gradient descent, with optional momentum, Nesterov momentum, dampening and L2 weight decay."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from autograd import Tensor, no_grad
from autograd.inplace import bump

from .optimizer import BLOCK, Optimizer, finite

# SGD's rule makes two to six passes over a parameter: up to this size its arrays stay in cache (L2) without
# blocks, which would only add calls (measured: mnist-step's 784x50 layer, 2% slower in float32 with blocks).
WHOLE = 4 * BLOCK


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

    rate_names = ("lr",)
    rates_per_group = True

    def _rates(self, group: Mapping[str, Any], p: Tensor) -> tuple[float, ...]:
        """The numbers of p's update that may change from step to step: the learning rate (a scheduler sets it)."""
        return (float(group["lr"]),)

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
            # Python floats: numpy casts them to the parameter's dtype, so float32 is computed in float32.
            momentum, dampening = float(group["momentum"]), float(group["dampening"])
            weight_decay, nesterov = float(group["weight_decay"]), bool(group["nesterov"])
            count = 2 if nesterov and weight_decay else 1  # scratch arrays the rule needs
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                w = p._data
                (lr,) = self._rates(group, p)
                buf, first = None, False
                if momentum:
                    state = states[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = np.empty_like(w)  # in p's dtype; set to g below
                        first = True
                if w.size <= WHOLE:  # the common case, without _blocks' bookkeeping (small nets feel it)
                    _update(w, grad._data, buf, self._buffers(p, count), lr, momentum, dampening, weight_decay,
                            nesterov, first)  # fmt: skip
                else:
                    for wb, gb, bb, scratch in self._blocks(p, (w, grad._data, buf), count):
                        _update(wb, gb, bb, scratch, lr, momentum, dampening, weight_decay, nesterov, first)
                bump(w)  # the parameter's version counts the update, once
        return loss


def _update(w: np.ndarray, g: np.ndarray, buf: np.ndarray | None, scratch: list[np.ndarray], lr: float,
            momentum: float, dampening: float, weight_decay: float, nesterov: bool, first: bool) -> None:  # fmt: skip
    """SGD's rule on one parameter (or one block of it), in place: one ufunc per operation of the rule, in its
    order, into the scratch array s (and a second, with both nesterov and weight decay), so the values are the
    rule's. (`out` is passed positionally: for tiny parameters, numpy parses it faster than `out=`.)"""
    s = scratch[0]
    if weight_decay:
        np.multiply(w, weight_decay, s)
        s += g  # g + weight_decay * p
        g = s
    if buf is not None:
        if first:
            np.copyto(buf, g)  # the first step's buffer is g itself
        else:
            buf *= momentum
            if dampening:  # g may live in s: nesterov, which needs g below, forbids dampening
                np.multiply(g, 1 - dampening, s)
                buf += s
            else:
                buf += g  # (1 - 0) * g is g
        if nesterov:
            u = scratch[1] if g is s else s
            np.multiply(buf, momentum, u)
            u += g  # g + momentum * buf
            g = u
        else:
            g = buf
    np.multiply(g, lr, s)
    w -= s  # p -= lr * g, in place: arrays sharing the parameter's memory see it
