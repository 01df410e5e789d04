"""Loss modules; each takes reduction="mean" (default), "sum" or "none", as in PyTorch.

PyTorch's deprecated `size_average=` / `reduce=` are accepted by keyword, with PyTorch's meaning
and its UserWarning (see `functional._reduction`).
"""

from __future__ import annotations

from typing import Any

from autograd import Tensor

from . import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean", *, size_average: bool | None = None, reduce: bool | None = None):
        super().__init__()
        reduction = F._reduction(
            reduction, size_average, reduce, stacklevel=3 if type(self).__init__ is _Loss.__init__ else 4
        )
        F.check_reduction(reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error. `halved=True` is the seeds' form, 0.5 * mean((y - t)**2), with gradient (y - t) / N."""

    def __init__(
        self,
        reduction: str = "mean",
        halved: bool = False,
        *,
        size_average: bool | None = None,
        reduce: bool | None = None,
    ):
        super().__init__(reduction, size_average=size_average, reduce=reduce)
        self.halved = halved

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.mse_loss(input, target, self.reduction, self.halved)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy from logits; targets are class indices or one-hot / probability rows."""

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.cross_entropy(input, target, self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (pair it with LogSoftmax)."""

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.nll_loss(input, target, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities (seed 003's cross-entropy cost)."""

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.binary_cross_entropy(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(logits), computed stably from the logits."""

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.reduction)
