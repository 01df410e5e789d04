"""The built-in differentiable ops, each a `Function` with forward beside backward."""
