"""The built-in differentiable ops, each an `Op` (a Function on ndarrays) with forward beside backward.

Importing this package imports every ops module (each registers its ops, and installs the
Tensor methods it provides itself, such as the operators) and then installs the registered
ops on Tensor as methods: t.exp(), t.sum(1)...
"""

from ..registry import methods
from ..tensor import Tensor
from . import arithmetic, indexing, pointwise, reduction, shape  # noqa: F401  (imported to register their ops)

for _name, _function in methods().items():  # each registered op, as a method: t.exp(), t.sum(1)...
    if _name in vars(Tensor):
        raise TypeError(f"the op {_name!r} is registered as a method, but Tensor defines {_name} itself")
    setattr(Tensor, _name, _function)
del _name, _function
