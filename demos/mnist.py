"""The seeds' two-layer MNIST net (784-50-10, sigmoid, batch 100, SGD lr 0.1), trained with autograd.

Then the seeds' story in numbers: one numerical-gradient step (their method: two forward
passes per parameter) against one autograd step on the same batch, and the largest
difference between the two gradients.

Run with `python -m demos.mnist` (or `make demo`); `--help` lists the options.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

import nn
from nn.datasets import load_mnist
from nn.models import TwoLayerNet
from nn.monitor import plot_history, progress


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m demos.mnist",
        description="Train the seeds' two-layer MNIST net with autograd and compare it with numerical gradients.",
    )
    parser.add_argument("--epochs", type=int, default=50, help="passes over the training set (default 50)")
    parser.add_argument("--batch-size", type=int, default=100, help="mini-batch size (default 100, as the seeds)")
    parser.add_argument("--lr", type=float, default=0.1, help="SGD learning rate (default 0.1, the book's)")
    parser.add_argument("--hidden", type=int, default=50, help="hidden units (default 50)")
    parser.add_argument(
        "--activation", choices=["sigmoid", "relu"], default="sigmoid", help="hidden activation (default: the seeds')"
    )
    parser.add_argument(
        "--optimizer", choices=["sgd", "adam"], default="sgd", help="sgd (the seeds', default) or adam (try --lr 1e-3)"
    )
    parser.add_argument(
        "--source", choices=["auto", "full", "sample"], default="auto",
        help="full MNIST (downloaded once), the offline 5,000-digit sample, or auto: full if reachable (default)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed for weights and shuffling (default 0)")
    parser.add_argument(
        "--plot", type=Path, default=Path("demo-output/mnist_accuracy.png"), help="where to write the PNG plot"
    )
    parser.add_argument("--no-plot", action="store_true", help="do not write the plot")
    parser.add_argument(
        "--skip-numerical", action="store_true",
        help="skip timing one numerical-gradient step (it takes about 25 s on a 784-50-10 net)",
    )  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def compare_with_numerical(net: TwoLayerNet, x: np.ndarray, t: np.ndarray) -> dict[str, float]:
    """Time one autograd gradient and one numerical gradient on the same batch; compare them."""
    start = time.perf_counter()
    analytic = net.gradient(x, t)
    autograd_s = time.perf_counter() - start
    start = time.perf_counter()
    numerical = net.numerical_gradient(x, t)
    numerical_s = time.perf_counter() - start
    max_diff = max(float(np.abs(analytic[k] - numerical[k]).max()) for k in analytic)
    return {"autograd_s": autograd_s, "numerical_s": numerical_s, "max_abs_diff": max_diff}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, flatten=True, source=args.source)
    print(f"data: {len(x_train):,} training and {len(x_test):,} test images")

    rng = np.random.default_rng(args.seed)
    init_std = 0.01 if args.activation == "sigmoid" else float(np.sqrt(2 / 784))  # He init for ReLU
    net = TwoLayerNet(784, args.hidden, 10, weight_init_std=init_std, generator=rng, activation=args.activation)
    if args.optimizer == "sgd":
        optimizer = nn.optim.SGD(net.parameters(), lr=args.lr)
    else:
        optimizer = nn.optim.Adam(net.parameters(), lr=args.lr)
    loader = nn.DataLoader(nn.TensorDataset(x_train, t_train), args.batch_size, shuffle=True, seed=args.seed)
    print(
        f"model: 784-{args.hidden}-10 {args.activation} net, {args.optimizer.upper()} lr {args.lr}, "
        f"batch {args.batch_size}"
    )

    history: dict[str, list[float]] = {"loss": [], "train acc": [], "test acc": []}
    steps, train_seconds = 0, 0.0
    for epoch in range(1, args.epochs + 1):
        bar = progress(loader, desc=f"epoch {epoch}", quiet=args.quiet or None)
        losses = []
        start = time.perf_counter()
        for xb, tb in bar:
            optimizer.zero_grad()
            logits = net(xb)
            loss = nn.functional.cross_entropy(logits, tb)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            batch_acc = float(np.mean(logits.data.argmax(axis=1) == tb.data))
            bar.set_postfix(loss=f"{losses[-1]:.3f}", acc=f"{batch_acc:.3f}")
        train_seconds += time.perf_counter() - start
        steps += len(losses)
        history["loss"].append(float(np.mean(losses)))
        history["train acc"].append(net.accuracy(x_train, t_train))
        history["test acc"].append(net.accuracy(x_test, t_test))
        print(
            f"epoch {epoch:3d}: loss {history['loss'][-1]:.4f}, "
            f"train acc {history['train acc'][-1]:.4f}, test acc {history['test acc'][-1]:.4f}"
        )

    step_ms = 1000 * train_seconds / max(steps, 1)
    result: dict[str, Any] = {"test_accuracy": history["test acc"][-1], "step_ms": step_ms, "history": history}
    print(f"final test accuracy: {result['test_accuracy']:.4f}")
    print(f"time per training step (forward, backward, update): {step_ms:.2f} ms")

    if not args.skip_numerical:
        params = sum(p.size for p in net.parameters())
        print(f"one numerical-gradient step on a batch of {args.batch_size} ({2 * params:,} forward passes)...")
        figures = compare_with_numerical(net, x_train[: args.batch_size], t_train[: args.batch_size])
        result.update(figures)
        print(
            f"  numerical gradient: {figures['numerical_s']:.1f} s; autograd: {1000 * figures['autograd_s']:.2f} ms; "
            f"backprop is {figures['numerical_s'] / figures['autograd_s']:,.0f}x faster"
        )
        print(f"  largest difference between the two gradients: {figures['max_abs_diff']:.2e}")

    if not args.no_plot:
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        path = plot_history(history, args.plot, title="two-layer net on MNIST")
        result["plot"] = str(path)
        print(f"plot written to {path}")
    return result


if __name__ == "__main__":
    main()
