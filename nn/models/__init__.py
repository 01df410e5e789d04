"""The seeds' networks, rebuilt from `nn` parts (no hand-written gradients)."""

from .nielsen import CrossEntropyCost, Network, QuadraticCost
from .small import Net221, RegressionNet
from .two_layer_net import TwoLayerNet

__all__ = ["CrossEntropyCost", "Network", "QuadraticCost", "Net221", "RegressionNet", "TwoLayerNet"]
