"""`autograd.backends`, as `torch.backends`: only the answers PyTorch scripts ask for."""

from . import mps

__all__ = ["mps"]
