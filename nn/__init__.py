"""nn: modules, layers, losses, initialisers, optimisers and data on top of `autograd`.

>>> import nn
>>> model = nn.Sequential(nn.Linear(784, 50), nn.Sigmoid(), nn.Linear(50, 10))
>>> loss_fn = nn.CrossEntropyLoss()
"""

import os as _os

from autograd.anomaly import register_internal as _register_internal

from . import datasets, functional, init, models, optim
from .convolution import Conv1d, Conv2d
from .data import DataLoader, Dataset, TensorDataset, default_collate
from .layers import (
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ModuleDict,
    ModuleList,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Step,
    Tanh,
)
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .serialization import load, save

_register_internal(_os.path.dirname(_os.path.abspath(__file__)))  # anomaly reports point past nn, at the user's line

__all__ = [
    "datasets", "functional", "init", "models", "optim", "DataLoader", "Dataset", "TensorDataset", "default_collate",
    "Dropout", "Flatten", "Identity", "LeakyReLU", "ModuleDict", "ModuleList",
    "Linear", "LogSoftmax", "ReLU", "Sequential", "Sigmoid", "Softmax", "Step", "Tanh", "BCELoss",
    "BCEWithLogitsLoss", "CrossEntropyLoss", "MSELoss", "NLLLoss", "Module", "Parameter", "load", "save",
    "Conv1d", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm1d", "BatchNorm2d",
]  # fmt: skip
