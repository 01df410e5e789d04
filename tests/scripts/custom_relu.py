"""A custom autograd Function written as in PyTorch's tutorial style: forward gets tensors,
backward gets a tensor gradient and edits a clone of it in place.

A PyTorch script with only its imports changed (torch -> autograd, torch.autograd.Function ->
autograd.Function); it ends with `x`, `manual_grad`, `ok`.
"""

import autograd


class ClampedReLU(autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


x = autograd.tensor([-2.0, -0.5, 0.25, 1.5, 3.0], dtype=autograd.float64, requires_grad=True)
out = ClampedReLU.apply(x)
(out * out).sum().backward()
manual_grad = x.grad.clone()
ok = autograd.gradcheck(ClampedReLU.apply, (x,))
print(out, manual_grad, ok)
