"""Adam (L2 weight decay added to the gradient) and AdamW (weight decay decoupled from it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from autograd import Tensor, no_grad

from .optimizer import Optimizer, finite


class Adam(Optimizer):
    """Adam (Kingma & Ba), PyTorch's rule, per parameter p with gradient g at its t-th step:

        g = g + weight_decay * p                          (L2 penalty, as in PyTorch's Adam)
        m = beta1 * m + (1 - beta1) * g                   first moment
        v = beta2 * v + (1 - beta2) * g**2                second moment
        m_hat = m / (1 - beta1**t);  v_hat = v / (1 - beta2**t)   bias correction
        p -= lr * m_hat / (sqrt(v_hat) + eps)

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
            lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                g = grad.data
                if weight_decay:
                    if decoupled:
                        p.mul_(1 - lr * weight_decay)  # p -= lr * weight_decay * p
                    else:
                        g = g + weight_decay * p.data
                state = states[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(p.data)  # m, in the parameter's dtype
                    state["exp_avg_sq"] = np.zeros_like(p.data)  # v
                state["step"] += 1
                t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
                m *= beta1
                m += (1 - beta1) * g
                v *= beta2
                v += (1 - beta2) * (g * g)
                m_hat = m / (1 - beta1**t)
                v_hat = v / (1 - beta2**t)
                p.sub_(lr * m_hat / (np.sqrt(v_hat) + eps))
        return loss


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
