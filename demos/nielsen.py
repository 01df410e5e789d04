"""Nielsen's `Network([784, 30, 10])` of seed 003 trained on MNIST (or Fashion-MNIST), with autograd doing `backprop`.

The data is handed over in Nielsen's format: training pairs of a (784, 1) image column and a
(10, 1) one-hot column, test pairs of a (784, 1) column and the digit. Training is his
`SGD(training_data, epochs, mini_batch_size, eta, ...)`, with his cross-entropy cost and
eta 0.5; `--lmbda` turns on his L2 regularisation. Without a network connection (or with
`--source sample`) the data is the offline sample of 5,000 real digits, 4,000 / 1,000.
`--dataset fashion` hands over Fashion-MNIST's 60,000 / 10,000 clothing images the same way.

Run with `python -m demos.nielsen`; `--help` lists the options.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from demos._cli import DATASETS, add_data_options, load_dataset, positive_int
from nn.models import CrossEntropyCost, Network, QuadraticCost

DESCRIPTION = (
    "Train Nielsen's Network([784, 30, 10]) on MNIST (or Fashion-MNIST) with his mini-batch SGD and cross-entropy cost."
)
COSTS = {"cross-entropy": CrossEntropyCost, "quadratic": QuadraticCost}
NIELSEN_ETA = {"cross-entropy": 0.5, "quadratic": 3.0}  # the learning rates his book uses with each cost

Pair = tuple[np.ndarray, Any]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m demos.nielsen", description=DESCRIPTION)
    parser.add_argument(
        "--epochs", type=positive_int, default=10,
        help="passes over the training data (default 10: about 2 s on the sample, 30 s on full MNIST)",
    )  # fmt: skip
    parser.add_argument("--mini-batch-size", type=positive_int, default=10, help="mini-batch size (default 10)")
    parser.add_argument(
        "--eta", type=float, default=None, help="learning rate (default Nielsen's: 0.5 cross-entropy, 3.0 quadratic)"
    )
    parser.add_argument(
        "--lmbda", type=float, default=0.0, help="L2 regularisation (default 0; Nielsen uses 5.0 on 50,000 images)"
    )
    parser.add_argument("--hidden", type=positive_int, default=30, help="hidden sigmoid units (default 30)")
    parser.add_argument("--cost", choices=list(COSTS), default="cross-entropy", help="default cross-entropy")
    add_data_options(parser)
    parser.add_argument("--seed", type=int, default=0, help="seed for the weights and the shuffling (default 0)")
    return parser.parse_args(argv)


def nielsen_training_data(images: np.ndarray, labels: np.ndarray) -> list[Pair]:
    """Nielsen's training data: ((784, 1) image column, (10, 1) one-hot column) per digit."""
    one_hot = np.eye(10)
    return [(image.reshape(-1, 1), one_hot[label].reshape(-1, 1)) for image, label in zip(images, labels)]


def nielsen_test_data(images: np.ndarray, labels: np.ndarray) -> list[Pair]:
    """Nielsen's test data: ((784, 1) image column, the digit as an int) per digit."""
    return [(image.reshape(-1, 1), int(label)) for image, label in zip(images, labels)]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    eta = NIELSEN_ETA[args.cost] if args.eta is None else args.eta
    dataset = DATASETS[args.dataset]
    ((x_train, t_train), (x_test, t_test)), used = load_dataset(args.dataset, args.source)
    training_data, test_data = nielsen_training_data(x_train, t_train), nielsen_test_data(x_test, t_test)
    print(
        f"data: {dataset}, {len(training_data):,} training pairs ((784, 1) image, (10, 1) one-hot) "
        f"and {len(test_data):,} test pairs ((784, 1) image, label)"
    )

    rng = np.random.default_rng(args.seed)
    net = Network([784, args.hidden, 10], cost=COSTS[args.cost], generator=rng)
    print(
        f"model: Network([784, {args.hidden}, 10]), {args.cost} cost, SGD with mini-batch {args.mini_batch_size}, "
        f"eta {eta}, lmbda {args.lmbda}, {args.epochs} epochs (seed {args.seed})"
    )

    accuracies, epoch_seconds = [], []
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        # One epoch per call: the same generator keeps shuffling, so this equals a single SGD(epochs=...) call.
        epoch_start = time.perf_counter()
        (correct,) = net.SGD(
            training_data, 1, args.mini_batch_size, eta, test_data=test_data, lmbda=args.lmbda,
            generator=rng, verbose=False,
        )  # fmt: skip
        accuracies.append(correct / len(test_data))
        epoch_seconds.append(time.perf_counter() - epoch_start)
        print(
            f"epoch {epoch:2d}: {correct} / {len(test_data)} test images correct ({accuracies[-1]:.1%}), "
            f"{epoch_seconds[-1]:.1f} s"
        )
    seconds = time.perf_counter() - start
    print(
        f"final test accuracy: {accuracies[-1]:.4f} ({dataset}, {len(test_data):,} test images; chance: 0.1), "
        f"{seconds:.1f} s of training, {seconds / args.epochs:.1f} s per epoch"
    )
    return {
        "test_accuracy": accuracies[-1], "accuracies": accuracies, "dataset": args.dataset, "source": used,
        "seconds": seconds, "epoch_seconds": epoch_seconds,
    }  # fmt: skip


if __name__ == "__main__":
    main()
