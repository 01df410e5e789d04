"""The built-in differentiable ops, each an `Op` (a Function on ndarrays) with forward beside backward."""
