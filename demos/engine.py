"""A short tour of the engine: build a graph, backpropagate, check it against central differences.

Run with `python -m demos.engine` (or `make demo`).
"""

from __future__ import annotations

import numpy as np

import autograd as ag


def seed_004_net(x: ag.Tensor, params: dict[str, ag.Tensor]) -> ag.Tensor:
    """Seed 004's 2-2-1 sigmoid net on one sample: h = sigmoid(W1 x + b1), y = sigmoid(w2 . h + b2)."""
    hidden = (params["W1"] @ x + params["b1"]).sigmoid()
    return (params["w2"] @ hidden + params["b2"]).sigmoid()


def main() -> None:
    rng = np.random.default_rng(0)
    params = {
        "W1": ag.tensor(rng.standard_normal((2, 2)), requires_grad=True, name="W1"),
        "b1": ag.tensor(rng.standard_normal(2), requires_grad=True, name="b1"),
        "w2": ag.tensor(rng.standard_normal(2), requires_grad=True, name="w2"),
        "b2": ag.tensor(rng.standard_normal(()), requires_grad=True, name="b2"),
    }
    # Seed 004's four points, as the seed gives them (already shifted to lie around zero).
    points = np.array([[-2.0, -1.0], [25.0, 6.0], [17.0, 4.0], [-15.0, -6.0]])
    targets = np.array([1.0, 0.0, 0.0, 1.0])

    x, y_true = ag.tensor(points[0]), targets[0]
    loss = (y_true - seed_004_net(x, params)) ** 2
    loss.backward()
    print(f"one sample: loss = {loss.item():.6f}")
    for name, p in params.items():
        print(f"  d loss / d {name:2} = {np.array2string(p.grad.numpy(), precision=6)}")

    ok = ag.gradcheck(lambda *ps: (y_true - seed_004_net(x, dict(zip(params, ps)))) ** 2, list(params.values()))
    print(f"gradcheck against central differences: {'passed' if ok else 'failed'}")

    print("training on all four points, 1000 epochs of SGD (lr 0.1):")
    for epoch in range(1000):
        for p in params.values():
            p.grad = None
        total = sum((t - seed_004_net(ag.tensor(row), params)) ** 2 for row, t in zip(points, targets)) / len(points)
        total.backward()
        with ag.no_grad():  # PyTorch's hand-written update: in place, unrecorded
            for p in params.values():
                p -= 0.1 * p.grad
        if epoch % 250 == 0 or epoch == 999:
            print(f"  epoch {epoch:4d}: mean squared error {total.item():.6f}")
    with ag.no_grad():
        predictions = [seed_004_net(ag.tensor(row), params).item() for row in points]
    print("predictions:", ", ".join(f"{p:.3f}" for p in predictions), "(targets 1, 0, 0, 1)")


if __name__ == "__main__":
    main()
