"""LeNet-style convolutional nets for 1x28x28 images (MNIST, Fashion-MNIST)."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

import autograd as ag

from ..convolution import Conv2d
from ..layers import Dropout, Flatten, Linear, ReLU, Sequential
from ..module import Module
from ..normalization import BatchNorm2d
from ..pooling import MaxPool2d


def lenet(
    channels: tuple[int, int] = (8, 16), hidden: int = 64, batch_norm: bool = False, dropout: float = 0.0,
    generator: np.random.Generator | None = None,
) -> Sequential:  # fmt: skip
    """LeNet for 1x28x28 images, float32: conv 5x5 (-> 24x24), [batch norm], ReLU, max-pool 2 (-> 12x12),
    conv 5x5 (-> 8x8), [batch norm], ReLU, max-pool 2 (-> 4x4), flatten, [dropout], linear, ReLU, linear -> 10 logits.

    The layers are named (conv1, bn1, pool1, ..., fc2), so pictures of the graph read like the net.

    >>> lenet()(ag.zeros(2, 1, 28, 28, dtype=ag.float32)).shape
    (2, 10)
    """
    c1, c2 = channels
    f32 = ag.float32
    layers: list[tuple[str, Module]] = [("conv1", Conv2d(1, c1, 5, dtype=f32, generator=generator))]
    layers += [("bn1", BatchNorm2d(c1, dtype=f32))] if batch_norm else []
    layers += [("relu1", ReLU()), ("pool1", MaxPool2d(2))]
    layers += [("conv2", Conv2d(c1, c2, 5, dtype=f32, generator=generator))]
    layers += [("bn2", BatchNorm2d(c2, dtype=f32))] if batch_norm else []
    layers += [("relu2", ReLU()), ("pool2", MaxPool2d(2)), ("flatten", Flatten())]
    layers += [("dropout", Dropout(dropout, generator=generator))] if dropout else []
    layers += [("fc1", Linear(c2 * 4 * 4, hidden, dtype=f32, generator=generator)), ("relu3", ReLU())]
    layers += [("fc2", Linear(hidden, 10, dtype=f32, generator=generator))]
    return Sequential(OrderedDict(layers))
