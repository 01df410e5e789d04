"""autograd: a numpy tensor that records its operations and computes exact gradients.

>>> import autograd as ag
>>> x = ag.tensor([1.0, 2.0], requires_grad=True)
>>> y = (x.sigmoid() * x).sum()
>>> y.backward()
>>> ag.gradcheck(lambda t: (t.sigmoid() * t).sum(), [x])
True
"""

from .tensor import MaxMin, Size, Tensor, tensor  # noqa: I001  (tensor first: it wires up the ops)
from .engine import grad
from .function import Function
from .functions import (
    abs,
    add,
    clamp,
    div,
    is_tensor,
    mul,
    neg,
    square,
    sub,
    amax,
    amin,
    argmax,
    argmin,
    broadcast_to,
    cat,
    clip,
    concatenate,
    cos,
    cumsum,
    exp,
    flatten,
    gather,
    leaky_relu,
    log,
    log_softmax,
    logaddexp,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mm,
    norm,
    numel,
    permute,
    pow,
    prod,
    relu,
    reshape,
    round,
    sigmoid,
    sin,
    softmax,
    softplus,
    split,
    sqrt,
    squeeze,
    stack,
    step,
    sum,
    tanh,
    transpose,
    unsqueeze,
    var,
    where,
)
from . import accelerator, backends, cuda
from .dtypes import (
    bool,
    double,
    finfo,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from .factories import (
    BoolTensor,
    ByteTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    zeros,
    zeros_like,
)
from .random import Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .serialization import load, save
from .anomaly import AnomalyError, detect_anomaly
from .device import device, get_default_device, set_default_device
from .grad_mode import enable_grad, is_grad_enabled, name_scope, no_grad, set_grad_enabled
from .numerical import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from .drawing import render, to_dot

__version__ = "0.1.0"

__all__ = [
    "Tensor", "tensor", "Function", "grad", "no_grad", "enable_grad", "is_grad_enabled",
    "set_grad_enabled", "name_scope", "detect_anomaly", "AnomalyError", "to_dot", "render",
    "numerical_grad", "gradcheck", "gradgradcheck", "GradcheckError",
    "abs", "broadcast_to", "cat", "clip", "concatenate", "cos", "exp", "flatten", "leaky_relu",
    "log", "log_softmax", "logsumexp", "matmul", "max", "maximum", "mean", "min", "minimum",
    "permute", "relu", "reshape", "sigmoid", "sin", "softmax", "softplus", "split", "sqrt",
    "squeeze", "stack", "step", "sum", "tanh", "transpose", "unsqueeze", "var", "where",
    "MaxMin", "Size", "amax", "amin", "argmax", "argmin", "cumsum", "gather", "logaddexp", "mm", "norm", "numel",
    "pow", "prod", "round", "accelerator", "backends", "cuda", "device", "get_default_device", "set_default_device",
    "bool", "double", "finfo", "float", "float16", "float32", "float64", "get_default_dtype", "half", "iinfo", "int",
    "int8", "int16", "int32", "int64", "long", "set_default_dtype", "short", "uint8",
    "BoolTensor", "ByteTensor", "DoubleTensor", "FloatTensor", "HalfTensor", "IntTensor", "LongTensor", "arange",
    "as_tensor", "empty", "empty_like", "eye", "from_numpy", "full", "full_like", "linspace", "ones", "ones_like",
    "rand", "rand_like", "randint", "randn", "randn_like", "zeros", "zeros_like",
    "Generator", "default_generator", "get_rng_state", "initial_seed", "manual_seed", "seed", "set_rng_state",
    "load", "save", "add", "clamp", "div", "is_tensor", "mul", "neg", "square", "sub",
]  # fmt: skip
