"""Arithmetic: + - * / ** @ and negation. Forward and backward side by side.

Each backward may return a gradient in the broadcast (output) shape: the engine sums it
back to each input's shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Op
from ..registry import register
from ..tensor import Tensor, install_methods
from .arguments import tensor_of


class Add(Op):
    """a + b: each input gets the output's gradient unchanged (summed back over broadcast axes)."""

    rule = "grad_a = grad,  grad_b = grad"

    @staticmethod
    def forward(ctx, a, b):
        return np.add(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


def scaled(other: Any, alpha: float) -> Any:
    """alpha * other, in the graph when other is a tensor: the second operand of add and sub with alpha."""
    return other * alpha if isinstance(other, Tensor) else np.multiply(other, alpha)


@register(numpy=np.add)
def add(x: Any, other: Any, *, alpha: float = 1) -> Tensor:
    """x + alpha * other, as PyTorch's add."""
    return Add.apply(x, other if alpha == 1 else scaled(other, alpha))


class Sub(Op):
    """a - b: a gets the gradient, b its negative."""

    rule = "grad_a = grad,  grad_b = -grad"

    @staticmethod
    def forward(ctx, a, b):
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad


@register(numpy=np.subtract)
def sub(x: Any, other: Any, *, alpha: float = 1) -> Tensor:
    """x - alpha * other, as PyTorch's sub."""
    return Sub.apply(x, other if alpha == 1 else scaled(other, alpha))


class Mul(Op):
    """a * b: each input's gradient is the output's gradient times the other input."""

    rule = "grad_a = grad * b,  grad_b = grad * a"

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)  # only what backward reads
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ga = grad * b if ctx.needs_input_grad[0] else None
        gb = grad * a if ctx.needs_input_grad[1] else None
        return ga, gb


@register(numpy=np.multiply)
def mul(x: Any, other: Any) -> Tensor:
    """x * other."""
    return Mul.apply(x, other)


class Div(Op):
    """a / b: d/da = 1 / b, d/db = -a / b²; exact for tiny divisors."""

    rule = "grad_a = grad / b,  grad_b = -grad * a / b²"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)  # only what backward reads
        return np.true_divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ga = grad / b if ctx.needs_input_grad[0] else None
        # -a / b**2 as (a / b) / b: b * b would underflow to 0 (or overflow) long before the quotient does
        gb = -grad * ((a / b) / b) if ctx.needs_input_grad[1] else None
        return ga, gb


@register(numpy=np.true_divide)
def div(x: Any, other: Any) -> Tensor:
    """x / other."""
    return Div.apply(x, other)


class Neg(Op):
    """-a: the gradient with its sign flipped."""

    rule = "grad_a = -grad"

    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, grad):
        return -grad


@register(numpy=np.negative)
def neg(x: Any) -> Tensor:
    """-x."""
    return Neg.apply(x if isinstance(x, Tensor) else Tensor(x))


def _is_number(x: Any) -> bool:
    """A plain Python or numpy scalar (not an array or tensor): the exponent of `x ** 2`."""
    return isinstance(x, (int, float, np.number))


class Pow(Op):
    """a ** b, for a tensor or a constant on either side.

    d/da = b * a**(b-1), 0 where b == 0; d/db = a**b * log(a), 0 where a == 0 and b >= 0
    (a**b is constant in b there): PyTorch's values. Where a**(b-1) or log(a) would be
    infinite, the masked elements use a base of 1 instead, so no inf is formed (nor 0 * inf,
    not even in second derivatives). nan for a < 0, as in PyTorch.
    """

    rule = "grad_a = grad * b * a**(b-1), 0 at b = 0;  grad_b = grad * out * log(a), 0 at a = 0 ≤ b"

    @staticmethod
    def forward(ctx, a, b):
        out = np.power(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        ga = _pow_grad_base(grad, a, b) if ctx.needs_input_grad[0] else None
        gb = _pow_grad_exponent(grad, a, b, out) if ctx.needs_input_grad[1] else None
        return ga, gb


@register(numpy=np.power)
def pow(x: Any, exponent: Any) -> Tensor:
    """x ** exponent."""
    return Pow.apply(x, exponent)


@register()
def square(x: Any) -> Tensor:
    """x ** 2."""
    return Pow.apply(x if isinstance(x, Tensor) else Tensor(x), 2)


def _pow_grad_base(grad: Any, a: Any, b: Any) -> Any:
    if _is_number(b):  # the usual x ** 2: no masks
        return np.zeros(np.shape(a)) if b == 0 else grad * (b * a ** (b - 1))
    # Only where a ** (b - 1) is not finite: elsewhere b * a ** (b - 1) is 0 by itself at b == 0,
    # and its derivative in b (a ** -1 there) must stay.
    masked = np.logical_and(b == 0, np.logical_or(a == 0, np.logical_not(np.isfinite(a))))
    with np.errstate(divide="ignore"):  # 0 ** -1 = inf where b == -1 is the true value
        return np.where(masked, 0.0, grad * (b * np.where(masked, 1.0, a) ** (b - 1)))


def _pow_grad_exponent(grad: Any, a: Any, b: Any, out: Any) -> Any:
    if _is_number(a) and a != 0:  # the usual 2 ** x: no masks
        return grad * (out * np.log(a))
    flat = np.logical_and(a == 0, b >= 0)  # a ** b is 0 (or 1) for all b near here
    base = np.where(flat, 1.0, a)
    power = out if type(out) is np.ndarray else base**b  # recorded from the masked base: finite derivatives
    with np.errstate(divide="ignore"):  # log(0) = -inf where b < 0 is the true value
        return np.where(flat, 0.0, grad * (power * np.log(base)))


def _matmul_error(a: Any, b: Any) -> ValueError:
    sa, sb = np.shape(a), np.shape(b)
    if len(sa) == 0 or len(sb) == 0:
        return ValueError(
            f"matmul: both operands need at least 1 dimension, got shapes {sa} and {sb}; use * for scalars"
        )
    inner_b = sb[0] if len(sb) == 1 else sb[-2]
    if sa[-1] != inner_b:
        where_b = "only" if len(sb) == 1 else "second-to-last"
        return ValueError(
            f"matmul: shapes {sa} and {sb} are not aligned: the last dimension of the first ({sa[-1]}) "
            f"must equal the {where_b} dimension of the second ({inner_b})"
        )
    return ValueError(f"matmul: the batch dimensions of shapes {sa} and {sb} do not broadcast")


class MatMul(Op):
    """a @ b with numpy's rules: 1-D operands are promoted to matrices, batch dims broadcast."""

    rule = "grad_a = grad @ bᵀ,  grad_b = aᵀ @ grad  (1-D a taken as a row, 1-D b as a column)"

    @staticmethod
    def forward(ctx, a, b):
        a, b = np.asarray(a), np.asarray(b)  # the same objects when they are arrays already
        try:
            out = np.matmul(a, b)
        except ValueError:
            raise _matmul_error(a, b) from None
        ctx.save_for_backward(a, b)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a_vec, b_vec = a.ndim == 1, b.ndim == 1
        # Undo numpy's promotion of 1-D operands, so both rules below are matrix rules:
        # a 1-D `a` is a row (1, k), a 1-D `b` a column (k, 1), and grad gets those axes back.
        if a_vec:
            a = a.reshape((1, -1))
        if b_vec:
            b = b.reshape((-1, 1))
        if a_vec and b_vec:
            grad = grad.reshape((1, 1))
        elif a_vec:
            grad = grad.reshape(grad.shape[:-1] + (1,) + grad.shape[-1:])
        elif b_vec:
            grad = grad.reshape(grad.shape + (1,))
        ga = grad @ b.mT if ctx.needs_input_grad[0] else None
        gb = a.mT @ grad if ctx.needs_input_grad[1] else None
        # The engine sums broadcast batch dims away; squeeze the promoted axes here.
        if ga is not None and a_vec:
            ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:])
        if gb is not None and b_vec:
            gb = gb.reshape(gb.shape[:-1])
        return ga, gb


@register(numpy=np.matmul)
def matmul(x: Any, other: Any) -> Tensor:
    """Matrix product with numpy's rules (1-D operands promoted, batch dims broadcast)."""
    return MatMul.apply(x, other)


@register()
def mm(x: Any, other: Any) -> Tensor:
    """Matrix product of two 2-D tensors (PyTorch's mm; `@` and matmul broadcast)."""
    x = tensor_of(x)
    other_shape = other.shape if isinstance(other, Tensor) else np.shape(other)
    if x.ndim != 2 or len(other_shape) != 2:
        raise ValueError(f"mm needs two 2-D tensors, got shapes {x.shape} and {other_shape}; use @ for others")
    return MatMul.apply(x, other)


class TensorOperators:
    """Tensor's arithmetic operators, installed on Tensor below (see tensor.py's docstring)."""

    def __add__(self, other: Any) -> Tensor:
        return Add.apply(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return Add.apply(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return Sub.apply(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return Sub.apply(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return Mul.apply(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return Mul.apply(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return Div.apply(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return Div.apply(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return Pow.apply(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return Pow.apply(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return MatMul.apply(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return MatMul.apply(other, self)

    def __neg__(self) -> Tensor:
        return Neg.apply(self)


install_methods(TensorOperators)
