"""The seeds' two-layer MNIST net (784-50-10, sigmoid, batch 100, SGD lr 0.1), trained with autograd.

Then the seeds' story in numbers: one numerical-gradient step (their method: two forward
passes per parameter) against one autograd step on the same batch, and the largest
difference between the two gradients. `--dataset fashion` trains on Fashion-MNIST instead;
`--model mlp` trains a 784-256-128-10 ReLU net with Adam (the data set's published MLP baseline).

Run with `python -m demos.mnist` (or `make demo`); `--help` lists the options.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path
from typing import Any

import numpy as np

import autograd as ag
import nn
from demos._cli import DATASETS, add_data_options, duration, load_dataset, positive_int, train_epoch
from nn.models import TwoLayerNet
from nn.monitor import plot_history

DESCRIPTION = (
    "Train the seeds' two-layer MNIST net with autograd and compare it with numerical gradients; "
    "or, with --model mlp, a 784-256-128-10 ReLU net with Adam; on MNIST or, with --dataset fashion, Fashion-MNIST."
)
MODELS = ("two-layer", "mlp")
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {  # what --model sets when the option is not given
    "two-layer": {"epochs": 50, "batch_size": 100, "lr": 0.1, "optimizer": "sgd", "lr_schedule": "constant"},
    "mlp": {"epochs": 20, "batch_size": 128, "lr": 1e-3, "optimizer": "adam", "lr_schedule": "constant"},
}
MLP_SIZES = (784, 256, 128, 10)
EVAL_BATCH = 10_000  # rows per forward pass when measuring accuracy


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The options, with each one left out filled in from `MODEL_DEFAULTS[--model]`."""
    two, mlp = MODEL_DEFAULTS["two-layer"], MODEL_DEFAULTS["mlp"]
    parser = argparse.ArgumentParser(prog="python -m demos.mnist", description=DESCRIPTION)
    parser.add_argument(
        "--model", choices=MODELS, default="two-layer",
        help="two-layer: the seeds' 784-50-10 sigmoid net with SGD (default); mlp: nn.Sequential 784-256-128-10 "
        "with ReLU, trained with Adam on cross-entropy",
    )  # fmt: skip
    add_data_options(parser)
    parser.add_argument(
        "--epochs", type=positive_int, default=None,
        help=f"passes over the training set (default {two['epochs']}; {mlp['epochs']} with --model mlp)",
    )  # fmt: skip
    parser.add_argument(
        "--batch-size", type=positive_int, default=None,
        help=f"mini-batch size (default {two['batch_size']}, as the seeds; {mlp['batch_size']} with --model mlp)",
    )  # fmt: skip
    parser.add_argument(
        "--lr", type=float, default=None,
        help=f"learning rate (default {two['lr']}, the book's SGD rate; {mlp['lr']:g} with --model mlp)",
    )  # fmt: skip
    parser.add_argument(
        "--optimizer", choices=["sgd", "adam"], default=None,
        help="sgd (default for two-layer) or adam (default for mlp; with two-layer try --lr 1e-3)",
    )  # fmt: skip
    parser.add_argument(
        "--lr-schedule", choices=["constant", "cosine"], default=None,
        help="constant (default) or cosine: anneal the lr to 0 over the epochs (CosineAnnealingLR)",
    )  # fmt: skip
    parser.add_argument("--hidden", type=positive_int, default=None, help="two-layer only: hidden units (default 50)")
    parser.add_argument(
        "--activation", choices=["sigmoid", "relu"], default=None,
        help="two-layer only: hidden activation (default sigmoid, the seeds')",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed for weights and shuffling (default 0)")
    parser.add_argument(
        "--plot", type=Path, default=None,
        help="where to write the PNG plot (default demo-output/<dataset>_accuracy.png, e.g. mnist_accuracy.png; "
        "<dataset>_mlp_accuracy.png with --model mlp)",
    )  # fmt: skip
    parser.add_argument("--no-plot", action="store_true", help="do not write the plot")
    parser.add_argument(
        "--skip-numerical", action="store_true",
        help="skip timing one numerical-gradient step (two-layer only; about 25 s on a 784-50-10 net)",
    )  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.model == "mlp" and (args.hidden is not None or args.activation is not None):
        parser.error("--hidden and --activation set the two-layer net; the mlp is always 784-256-128-10 with ReLU")
    for key, value in MODEL_DEFAULTS[args.model].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.hidden = 50 if args.hidden is None else args.hidden
    args.activation = args.activation or "sigmoid"
    if args.plot is None:
        suffix = "_mlp" if args.model == "mlp" else ""
        args.plot = Path(f"demo-output/{args.dataset}{suffix}_accuracy.png")
    return args


def build_mlp(generator: np.random.Generator | None = None) -> nn.Sequential:
    """784-256-128-10 with ReLU between the layers, PyTorch's Linear initialisation."""
    layers: list[nn.Module] = []
    for n_in, n_out in itertools.pairwise(MLP_SIZES):
        layers += [nn.Linear(n_in, n_out, generator=generator), nn.ReLU()]
    return nn.Sequential(*layers[:-1])  # no ReLU after the output layer: it gives logits


def build_model(args: argparse.Namespace, generator: np.random.Generator) -> tuple[nn.Module, nn.optim.Optimizer, str]:
    """The network chosen by --model, its optimiser, and a one-line description of both."""
    if args.model == "mlp":
        model: nn.Module = build_mlp(generator)
        name = "784-256-128-10 ReLU MLP"
    else:
        init_std = 0.01 if args.activation == "sigmoid" else float(np.sqrt(2 / 784))  # He init for ReLU
        model = TwoLayerNet(784, args.hidden, 10, weight_init_std=init_std, generator=generator,
                            activation=args.activation)  # fmt: skip
        name = f"784-{args.hidden}-10 {args.activation} net"
    optimizer_class = nn.optim.SGD if args.optimizer == "sgd" else nn.optim.Adam
    optimizer = optimizer_class(model.parameters(), lr=args.lr)
    schedule = "" if args.lr_schedule == "constant" else f", {args.lr_schedule} schedule"
    return model, optimizer, f"{name}, {args.optimizer.upper()} lr {args.lr:g}{schedule}, batch {args.batch_size}"


def accuracy(model: nn.Module, x: np.ndarray, t: np.ndarray) -> float:
    """Share of rows of `x` whose highest logit is the label, in batches of EVAL_BATCH without a graph."""
    correct = 0
    with ag.no_grad():
        for start in range(0, len(x), EVAL_BATCH):
            logits = model(x[start : start + EVAL_BATCH]).data
            correct += int(np.sum(logits.argmax(axis=1) == t[start : start + EVAL_BATCH]))
    return correct / max(len(x), 1)


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
    dataset = DATASETS[args.dataset]
    ((x_train, t_train), (x_test, t_test)), used = load_dataset(args.dataset, args.source, normalize=True, flatten=True)
    print(f"data: {dataset}, {len(x_train):,} training and {len(x_test):,} test images")

    rng = np.random.default_rng(args.seed)
    model, optimizer, description = build_model(args, rng)
    scheduler = None
    if args.lr_schedule == "cosine":
        scheduler = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    loader = nn.DataLoader(nn.TensorDataset(x_train, t_train), args.batch_size, shuffle=True, seed=args.seed)
    print(f"model: {description}, {args.epochs} epochs (seed {args.seed})")

    history: dict[str, list[float]] = {"loss": [], "train acc": [], "test acc": []}
    epoch_seconds: list[float] = []
    steps = 0
    run_start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        losses, _, seconds = train_epoch(model, optimizer, loader, f"epoch {epoch}", args.quiet)
        epoch_seconds.append(seconds)
        if scheduler is not None:
            scheduler.step()
        steps += len(losses)
        history["loss"].append(float(np.mean(losses)))
        history["train acc"].append(accuracy(model, x_train, t_train))
        history["test acc"].append(accuracy(model, x_test, t_test))
        print(
            f"epoch {epoch:3d}: loss {history['loss'][-1]:.4f}, train acc {history['train acc'][-1]:.4f}, "
            f"test acc {history['test acc'][-1]:.4f} ({duration(epoch_seconds[-1])} training)"
        )

    total_s = time.perf_counter() - run_start
    step_ms = 1000 * sum(epoch_seconds) / max(steps, 1)
    result: dict[str, Any] = {
        "dataset": args.dataset, "source": used, "model": model, "optimizer": optimizer,
        "test_accuracy": history["test acc"][-1], "step_ms": step_ms, "history": history,
        "epoch_seconds": epoch_seconds, "total_seconds": total_s,
    }  # fmt: skip
    print(f"final test accuracy: {result['test_accuracy']:.4f} ({dataset}, {len(x_test):,} test images)")
    print(f"time per training step (forward, backward, update): {step_ms:.2f} ms")
    print(
        f"time per epoch: {duration(np.mean(epoch_seconds))} training; {total_s:.1f} s for {args.epochs} epochs "
        f"with the accuracy measurements"
    )

    params = sum(p.size for p in model.parameters())
    if not args.skip_numerical and not isinstance(model, TwoLayerNet):
        print(f"numerical-gradient comparison skipped: it is for the two-layer net ({2 * params:,} passes here)")
    elif not args.skip_numerical:
        print(f"one numerical-gradient step on a batch of {args.batch_size} ({2 * params:,} forward passes)...")
        figures = compare_with_numerical(model, x_train[: args.batch_size], t_train[: args.batch_size])
        result.update(figures)
        print(
            f"  numerical gradient: {figures['numerical_s']:.1f} s; autograd: {1000 * figures['autograd_s']:.2f} ms; "
            f"backprop is {figures['numerical_s'] / figures['autograd_s']:,.0f}x faster"
        )
        print(f"  largest difference between the two gradients: {figures['max_abs_diff']:.2e}")

    if not args.no_plot:
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        name = "MLP 784-256-128-10" if args.model == "mlp" else "two-layer net"
        path = plot_history(history, args.plot, title=f"{name} on {dataset}")
        result["plot"] = str(path)
        print(f"plot written to {path}")
    return result


if __name__ == "__main__":
    main()
