"""Fit a cubic to sin(pi x) on [-1, 1] by gradient descent on raw tensors, PyTorch style.

A PyTorch script with only its imports changed (torch -> autograd); it ends with `a b c d`.
"""

import math

import autograd

dtype = autograd.float64
x = autograd.linspace(-1, 1, 201, dtype=dtype)
y = autograd.sin(math.pi * x)

a = autograd.zeros((), dtype=dtype, requires_grad=True)
b = autograd.zeros((), dtype=dtype, requires_grad=True)
c = autograd.zeros((), dtype=dtype, requires_grad=True)
d = autograd.zeros((), dtype=dtype, requires_grad=True)

learning_rate = 0.5
for step in range(5000):
    y_pred = a + b * x + c * x**2 + d * x**3
    loss = (y_pred - y).pow(2).mean()
    if step % 1000 == 0:
        print(step, f"{loss:.6f}")
    loss.backward()
    with autograd.no_grad():
        for p in (a, b, c, d):
            p -= learning_rate * p.grad
            p.grad.zero_()

print(f"y = {a.item():.4f} + {b.item():.4f} x + {c.item():.4f} x^2 + {d.item():.4f} x^3")
