"""Optimisers and learning-rate schedules, with PyTorch's names and update rules.

>>> from nn import optim
>>> opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
>>> for x, y in loader:
...     opt.zero_grad()
...     loss_fn(model(x), y).backward()
...     opt.step()
"""

from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["lr_scheduler", "Adam", "AdamW", "Optimizer", "SGD"]
