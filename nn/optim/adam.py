"""Adam (L2 weight decay added to the gradient) and AdamW (weight decay decoupled from it)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from autograd import Tensor, no_grad
from autograd.inplace import bump

from .optimizer import Optimizer, finite


class Adam(Optimizer):
    """Adam (Kingma & Ba), PyTorch's rule, per parameter p with gradient g at its t-th step:

        g = g + weight_decay * p                          (L2 penalty, as in PyTorch's Adam)
        m = beta1 * m + (1 - beta1) * g                   first moment
        v = beta2 * v + (1 - beta2) * g**2                second moment
        m_hat = m / (1 - beta1**t);  v_hat = v / (1 - beta2**t)   bias correction
        p -= lr * m_hat / (sqrt(v_hat) + eps)

    computed as PyTorch computes it, with the corrections folded into scalars:
    p -= (lr / (1 - beta1**t)) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps).

    >>> opt = Adam(model.parameters(), lr=1e-3)
    """

    decoupled_weight_decay = False  # AdamW sets True

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[Mapping[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    rate_names = ("step_size", "root_correction2", "decay")

    def _rates(self, group: Mapping[str, Any], p: Tensor) -> tuple[float, ...]:
        """Count p's step t and return the numbers of its update that change from step to step: lr / (1 - beta1**t),
        sqrt(1 - beta2**t) and AdamW's decay factor 1 - lr * weight_decay."""
        state = self.state.by_param[p]
        state["step"] = t = state.get("step", 0) + 1
        lr, (beta1, beta2) = float(group["lr"]), group["betas"]
        return lr / (1 - float(beta1) ** t), math.sqrt(1 - float(beta2) ** t), 1 - lr * float(group["weight_decay"])

    def _validate(self, settings: Mapping[str, Any]) -> None:
        name = type(self).__name__
        lr = finite(name, "lr", settings["lr"], "1e-3 is typical")
        eps = finite(name, "eps", settings["eps"], "1e-8 is typical")
        weight_decay = finite(name, "weight_decay", settings["weight_decay"], "0 turns it off")
        if lr < 0:
            raise ValueError(f"{name}: invalid learning rate lr={settings['lr']}; it must be >= 0 (1e-3 is typical)")
        betas = settings["betas"]
        if isinstance(betas, np.ndarray) and betas.ndim == 1:
            betas = tuple(betas)
        if not isinstance(betas, (tuple, list)):
            raise TypeError(f"{name}: betas must be a pair (beta1, beta2) such as (0.9, 0.999), got {betas!r}")
        if len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2) such as (0.9, 0.999), got {betas!r}")
        for i, beta in enumerate(betas):
            if not 0 <= finite(name, f"beta{i + 1}", beta, "0.9 and 0.999 are typical") < 1:
                raise ValueError(
                    f"{name}: invalid beta{i + 1}={beta} in betas={tuple(betas)}; each must lie in [0, 1) "
                    "(0.9 and 0.999 are typical)"
                )
        if not eps > 0:
            raise ValueError(
                f"{name}: invalid eps={settings['eps']}; it must be > 0 to keep the division finite (1e-8 is typical)"
            )
        if weight_decay < 0:
            raise ValueError(
                f"{name}: invalid weight_decay={settings['weight_decay']}; it must be >= 0 (0 turns it off)"
            )

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter whose `.grad` is set, with its group's settings; parameters without a
        gradient are skipped. `closure`, if given, is called first (with gradients on) and its loss returned."""
        loss = self._evaluate(closure)
        states = self.state.by_param
        decoupled = self.decoupled_weight_decay
        for group in self.param_groups:
            # Python floats: numpy casts them to the parameter's dtype, so float32 is computed in float32.
            eps, weight_decay = float(group["eps"]), float(group["weight_decay"])
            beta1, beta2 = (float(beta) for beta in group["betas"])
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                w = p._data
                state = states[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(w)  # m, in the parameter's dtype
                    state["exp_avg_sq"] = np.zeros_like(w)  # v
                settings = (*self._rates(group, p), beta1, beta2, eps, weight_decay, decoupled)
                for wb, gb, mb, vb, (s1, s2) in self._blocks(p, (w, grad._data, state["exp_avg"],
                                                                 state["exp_avg_sq"]), 2):  # fmt: skip
                    _update(wb, gb, mb, vb, s1, s2, *settings)
                bump(w)  # the parameter's version counts the update once (AdamW's decay included)
        return loss


def _update(w: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, s1: np.ndarray, s2: np.ndarray,
            step_size: float, root_correction2: float, decay: float, beta1: float, beta2: float, eps: float,
            weight_decay: float, decoupled: bool) -> None:  # fmt: skip
    """Adam's rule on one parameter (or one block of it), in place: one ufunc per operation of the rule, in its
    order, into the moments and the scratch arrays s1, s2, so the values are the rule's. The numbers that change
    from step to step come from `Adam._rates` and are only ever numpy operands here (see Optimizer._rates)."""
    if weight_decay:
        if decoupled:
            w *= decay  # AdamW: p -= lr * weight_decay * p
        else:
            np.multiply(w, weight_decay, out=s1)
            s1 += g  # g + weight_decay * p
            g = s1
    np.multiply(g, 1 - beta1, out=s2)
    m *= beta1
    m += s2  # m = beta1 * m + (1 - beta1) * g
    np.multiply(g, g, out=s2)
    s2 *= 1 - beta2
    v *= beta2
    v += s2  # v = beta2 * v + (1 - beta2) * g**2
    # lr * m_hat / (sqrt(v_hat) + eps) with the bias corrections folded into two scalars, as PyTorch computes
    # it: (lr / correction1) * m / (sqrt(v) / sqrt(correction2) + eps), two passes fewer than dividing m and v.
    np.sqrt(v, out=s2)
    s2 /= root_correction2
    s2 += eps
    np.divide(m, s2, out=s1)  # g is no longer needed, so s1 is free
    s1 *= step_size
    w -= s1  # in place: arrays sharing the parameter's memory see it


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): before the Adam update,

        p -= lr * weight_decay * p

    instead of adding weight_decay * p to the gradient, so the decay is not rescaled by
    Adam's per-element step sizes. Default weight_decay=1e-2, as in PyTorch.

    >>> opt = AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    """

    decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[Mapping[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
