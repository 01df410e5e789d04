"""autograd: a numpy tensor that records its operations and computes exact gradients.

>>> import autograd as ag
>>> x = ag.tensor([1.0, 2.0], requires_grad=True)
>>> y = (x.sigmoid() * x).sum()
>>> y.backward()
>>> ag.gradcheck(lambda t: (t.sigmoid() * t).sum(), [x])
True
"""

from typing import TYPE_CHECKING, Any  # noqa: I001  (the block is in layer order: each module installs its Tensor methods)

from .tensor import MaxMin, Size, Tensor, tensor
from .function import Function
from . import ops  # noqa: F401   the ops' methods, operators, clone, type, t[i]
from . import inplace  # noqa: F401   in-place methods
from .engine import grad  # backward
from . import numpy_bridge  # noqa: F401   __array_ufunc__, __array_function__
from . import op_functions
from .op_functions import *  # noqa: F403  (the registered ops, is_tensor and numel)
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
from . import anomaly
from .anomaly import AnomalyError, detect_anomaly
from .device import device, get_default_device, set_default_device
from .grad_mode import call_in_scope, enable_grad, is_grad_enabled, name_scope, no_grad, set_grad_enabled
from .numerical import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from .compiler import compile as compile  # autograd.compile (the builtin is untouched outside this namespace)

if TYPE_CHECKING:
    from .drawing import render, to_dot
    from .explorer import explore

__version__ = "0.1.0"

__all__ = [
    "Tensor", "tensor", "Function", "grad", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled",
    "name_scope", "call_in_scope", "detect_anomaly", "AnomalyError", "to_dot", "render", "explore", "numerical_grad",
    "gradcheck", "gradgradcheck", "GradcheckError", "MaxMin", "Size", "accelerator", "backends", "cuda", "device",
    "get_default_device", "set_default_device", "bool", "double", "finfo", "float", "float16", "float32",
    "float64", "get_default_dtype", "half", "iinfo", "int", "int8", "int16", "int32", "int64", "long",
    "set_default_dtype", "short", "uint8", "BoolTensor", "ByteTensor", "DoubleTensor", "FloatTensor", "HalfTensor",
    "IntTensor", "LongTensor", "arange", "as_tensor", "empty", "empty_like", "eye", "from_numpy", "full",
    "full_like", "linspace", "ones", "ones_like", "rand", "rand_like", "randint", "randn", "randn_like", "zeros",
    "zeros_like", "Generator", "default_generator", "get_rng_state", "initial_seed", "manual_seed", "seed",
    "set_rng_state", "load", "save",
    *op_functions.__all__,
]  # fmt: skip

_DRAWING = ("to_dot", "render", "explore")  # imported on first use: drawing needs graphviz, nothing else does


def __getattr__(name: str) -> Any:
    """`to_dot`, `render` (autograd.drawing) and `explore` (autograd.explorer), imported on first use.

    Without graphviz they are stand-ins that raise ImportError saying what to install, so
    `import autograd`, `from autograd import *` and help(autograd) still work.
    """
    if name not in _DRAWING:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        from . import drawing
    except ImportError as err:
        if err.name != "graphviz":
            raise
        return _unavailable(name, err)
    if name == "explore":
        from .explorer import explore as value
    else:
        value = getattr(drawing, name)
    globals()[name] = value
    return value


def _render_for_anomaly(*args: Any, **kwargs: Any) -> Any:
    """detect_anomaly(render_to=...)'s picture: drawing's render, imported only when one is drawn."""
    return __getattr__("render")(*args, **kwargs)


anomaly.set_renderer(_render_for_anomaly)  # anomaly sits below drawing, so the package connects them


def __dir__() -> list[str]:
    return sorted({*globals(), *_DRAWING})


def _unavailable(name: str, err: ImportError) -> Any:
    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise ImportError(str(err), name="graphviz") from err

    unavailable.__name__ = unavailable.__qualname__ = name
    unavailable.__doc__ = f"Unavailable: {err}"
    return unavailable
