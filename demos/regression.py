"""Two regressions trained with autograd, from seeds 001 and 004.

(a) Seed 001's 2-10-1 ReLU net (`nn.models.RegressionNet`) learning y = 3*x0 + 2*x1 from
    points uniform in [0, 1)^2, by online SGD at lr 0.07 on the halved squared error. The
    seed stops after 1000 samples (one epoch here); a few more epochs bring the test error
    well under 1e-3.
(b) Seed 004's warm-up: fit y = w*x + b to x = y = [1, 2, 3, 4, 5] by gradient descent on the
    mean squared error, from the seed's starting point w = 2, b = 1; the answer is w = 1, b = 0.

Run with `python -m demos.regression`; `--help` lists the options.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

import autograd as ag
import nn
from demos._cli import positive_int
from nn.datasets import line, plane
from nn.models import RegressionNet

DESCRIPTION = "Fit seed 001's 2-10-1 net to y = 3*x0 + 2*x1 by online SGD, then seed 004's line y = w*x + b."


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m demos.regression", description=DESCRIPTION)
    parser.add_argument(
        "--epochs", type=positive_int, default=5,
        help="plane: passes over the training points, one sample per step (default 5; the seed stops after 1)",
    )  # fmt: skip
    parser.add_argument("--lr", type=float, default=0.07, help="plane: SGD learning rate (default 0.07, the seed's)")
    parser.add_argument("--train-size", type=positive_int, default=1000, help="plane: training points (default 1000)")
    parser.add_argument("--hidden", type=positive_int, default=10, help="plane: hidden units (default 10)")
    parser.add_argument(
        "--activation", choices=["relu", "sigmoid"], default="relu",
        help="plane: hidden activation (default relu, the seed's; sigmoid is its 'let's try' variant)",
    )  # fmt: skip
    parser.add_argument("--line-steps", type=positive_int, default=1000, help="line: gradient steps (default 1000)")
    parser.add_argument("--line-lr", type=float, default=0.05, help="line: learning rate (default 0.05)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the data, weights and sample order (default 0)")
    return parser.parse_args(argv)


def mean_squared_error(net: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """Plain mean squared error (not halved) of the net's predictions."""
    with ag.no_grad():
        return float(np.mean((net(x).numpy() - y) ** 2))


def fit_plane(args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    x_train, y_train = plane(args.train_size, generator=rng)
    x_test, y_test = plane(1000, generator=rng)
    net = RegressionNet(hidden=args.hidden, activation=args.activation, generator=rng)
    loss_fn = nn.MSELoss(halved=True)  # the seed's mean_squared_error: 0.5 * (y - d)**2 on one sample
    optimizer = nn.optim.SGD(net.parameters(), lr=args.lr)
    print(
        f"(a) seed 001: y = 3*x0 + 2*x1 with a 2-{args.hidden}-1 {args.activation} net, online SGD lr {args.lr}, "
        f"{args.train_size:,} training and {len(x_test):,} test points (seed {args.seed})"
    )
    history = [mean_squared_error(net, x_test, y_test)]
    print(f"    before training: test MSE {history[0]:.2e}")
    for epoch in range(1, args.epochs + 1):
        for i in rng.permutation(len(x_train)):
            optimizer.zero_grad()
            loss_fn(net(x_train[i : i + 1]), y_train[i : i + 1]).backward()
            optimizer.step()
        history.append(mean_squared_error(net, x_test, y_test))
        print(f"    epoch {epoch} ({epoch * len(x_train):,} steps): test MSE {history[-1]:.2e}")
    probe = np.array([[0.5, 0.25]])
    with ag.no_grad():
        guess = net(probe).item()
    print(f"    f(0.5, 0.25) = 3*0.5 + 2*0.25 = 2; the net says {guess:.4f}")
    return {"test_mse": history[-1], "test_mse_history": history, "probe": guess}


def fit_line(steps: int, lr: float) -> dict[str, Any]:
    x, y = line()
    w = ag.tensor(2.0, requires_grad=True, name="w")  # the seed's starting point
    b = ag.tensor(1.0, requires_grad=True, name="b")
    loss_fn = nn.MSELoss()
    optimizer = nn.optim.SGD([w, b], lr=lr)  # stable for lr < 0.085: the loss's steepest curvature is about 23.7
    print(f"(b) seed 004: y = w*x + b on x = y = [1, 2, 3, 4, 5], full-batch gradient descent lr {lr}, {steps} steps")
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(w * x + b, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with ag.no_grad():
        final = loss_fn(w * x + b, y).item()
    print(f"    start: w = 2, b = 1, mean squared error {losses[0]:.4f}")
    print(f"    learned: w = {w.item():.4f}, b = {b.item():.4f}, mean squared error {final:.1e} (answer w = 1, b = 0)")
    return {"w": w.item(), "b": b.item(), "line_mse": final}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    result = fit_plane(args)
    result.update(fit_line(args.line_steps, args.line_lr))
    return result


if __name__ == "__main__":
    main()
