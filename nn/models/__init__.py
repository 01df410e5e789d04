"""The seeds' networks, rebuilt from `nn` parts (no hand-written gradients), and a LeNet for the next chapter."""

from .lenet import lenet
from .nielsen import CrossEntropyCost, Network, QuadraticCost
from .small import Net221, RegressionNet
from .two_layer_net import TwoLayerNet

__all__ = ["lenet", "CrossEntropyCost", "Network", "QuadraticCost", "Net221", "RegressionNet", "TwoLayerNet"]
