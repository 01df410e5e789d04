"""Two tiny classifiers trained with autograd: XOR, and seed 004's four points.

(a) XOR, the classic problem no single linear layer can solve, learned by a 2-4-1 tanh net
    (binary cross-entropy on the logit, full-batch SGD).
(b) Seed 004's 2-2-1 sigmoid net (`nn.models.Net221`) on its four points, trained as the seed
    trains it: 1000 epochs, one sample at a time, SGD lr 0.1, squared error. The points are
    used as the seed gives them, already shifted to lie around zero and not scaled further.

Run with `python -m demos.xor`; `--help` lists the options.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

import autograd as ag
import nn
from demos._cli import positive_int
from nn.datasets import four_points, xor
from nn.models import Net221

DESCRIPTION = "Learn XOR with a small tanh net, then train seed 004's 2-2-1 sigmoid net on its four points."


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m demos.xor", description=DESCRIPTION)
    parser.add_argument("--epochs", type=positive_int, default=1000, help="XOR: full-batch SGD steps (default 1000)")
    parser.add_argument("--lr", type=float, default=0.5, help="XOR: SGD learning rate (default 0.5)")
    parser.add_argument("--hidden", type=positive_int, default=4, help="XOR: tanh hidden units (default 4)")
    parser.add_argument(
        "--net221-epochs", type=positive_int, default=1000, help="four points: epochs (default 1000, the seed's)"
    )
    parser.add_argument(
        "--net221-lr", type=float, default=0.1, help="four points: SGD learning rate (default 0.1, the seed's)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the initial weights (default 0)")
    return parser.parse_args(argv)


def train_xor(hidden: int, epochs: int, lr: float, rng: np.random.Generator) -> tuple[nn.Module, list[float]]:
    """A 2-hidden-1 tanh net on the four XOR points; returns the net and the loss before each step."""
    x, y = xor()
    model = nn.Sequential(nn.Linear(2, hidden, generator=rng), nn.Tanh(), nn.Linear(hidden, 1, generator=rng))
    loss_fn = nn.BCEWithLogitsLoss()  # the net outputs a logit; sigmoid(logit) is P(y = 1)
    optimizer = nn.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses


def train_four_points(epochs: int, lr: float, rng: np.random.Generator) -> tuple[Net221, list[float]]:
    """Seed 004's loop: every epoch visits each point in turn and steps on its squared error alone."""
    x, y = four_points()
    net = Net221(generator=rng)
    loss_fn = nn.MSELoss()  # on one sample: (y_pred - y_true)**2, gradient -2 (y_true - y_pred) as in the seed
    optimizer = nn.optim.SGD(net.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        for xi, yi in zip(x, y):
            optimizer.zero_grad()
            loss_fn(net(xi[None]), yi[None]).backward()
            optimizer.step()
        with ag.no_grad():
            losses.append(loss_fn(net(x), y).item())  # the seed's mse_loss over all four points
    return net, losses


def print_predictions(x: np.ndarray, y: np.ndarray, p: np.ndarray, output: str) -> int:
    """One line per sample: input, target, the net's output and the class it picks (output > 0.5)."""
    print(f"    {'input':>14}  target  {output:>6}  class")
    for xi, yi, pi in zip(x, y.ravel(), p.ravel()):
        inputs = ", ".join(f"{v:g}" for v in xi)
        mark = "" if (pi > 0.5) == (yi > 0.5) else "  <- wrong"
        print(f"    {'(' + inputs + ')':>14}  {yi:6g}  {pi:6.3f}  {int(pi > 0.5):5d}{mark}")
    return int(np.sum((p.ravel() > 0.5) == (y.ravel() > 0.5)))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)

    print(
        f"(a) XOR: 2-{args.hidden}-1 tanh net, BCEWithLogitsLoss, full-batch SGD lr {args.lr}, "
        f"{args.epochs} epochs (seed {args.seed})"
    )
    model, xor_losses = train_xor(args.hidden, args.epochs, args.lr, np.random.default_rng(args.seed))
    x, y = xor()
    with ag.no_grad():
        p_xor = model(x).sigmoid().numpy()
    print(f"    loss {xor_losses[0]:.4f} -> {xor_losses[-1]:.4f}")
    xor_correct = print_predictions(x, y, p_xor, "P(y=1)")
    print(f"    accuracy: {xor_correct} / {len(y)} ({xor_correct / len(y):.0%})")

    print(
        f"(b) seed 004: Net221 (2-2-1 sigmoid), squared error, SGD lr {args.net221_lr} one point at a time, "
        f"{args.net221_epochs} epochs (seed {args.seed})"
    )
    net, losses = train_four_points(args.net221_epochs, args.net221_lr, np.random.default_rng(args.seed))
    x, y = four_points()
    with ag.no_grad():
        p_four = net(x).numpy()
    print(f"    mean squared error over the four points: {losses[0]:.4f} after epoch 1, {losses[-1]:.4f} at the end")
    four_correct = print_predictions(x, y, p_four, "output")
    print(f"    correct: {four_correct} / {len(y)}")

    return {
        "xor_accuracy": xor_correct / len(y),
        "xor_probabilities": p_xor.ravel().tolist(),
        "xor_loss": xor_losses[-1],
        "four_points_correct": four_correct,
        "four_points_predictions": p_four.ravel().tolist(),
        "four_points_loss": losses[-1],
    }


if __name__ == "__main__":
    main()
