"""Command-line helpers shared by the demos (not a demo itself)."""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

import nn
from nn.datasets import DownloadError, load_fashion_mnist, load_mnist
from nn.monitor import progress

DATASETS = {"mnist": "MNIST", "fashion": "Fashion-MNIST"}  # --dataset value -> the name printed and plotted


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """Add --dataset (MNIST, the default, or Fashion-MNIST) and --source (where MNIST comes from)."""
    parser.add_argument(
        "--dataset", choices=list(DATASETS), default="mnist",
        help="mnist (the seeds' digits, default) or fashion (Fashion-MNIST: 60,000 / 10,000 clothing images, "
        "from the cache, Debian's dataset-fashion-mnist or the public mirror)",
    )  # fmt: skip
    parser.add_argument(
        "--source", choices=["auto", "full", "sample"], default="auto",
        help="MNIST only: full MNIST (downloaded once), the offline 5,000-digit sample, or auto: full if reachable "
        "(default); Fashion-MNIST is always the full set",
    )  # fmt: skip


def load_dataset(dataset: str, source: str = "auto", **kwargs: Any) -> tuple[tuple[Any, Any], str]:
    """((train, test), where it came from) for `--dataset`; a missing data set exits with the loader's advice.

    `kwargs` go to `load_mnist` or `load_fashion_mnist` (normalize, flatten, ...).
    """
    try:
        if dataset == "mnist":
            return load_mnist(source=source, return_source=True, **kwargs)
        if dataset != "fashion":
            raise ValueError(f"dataset must be one of {list(DATASETS)}, got {dataset!r}")
        if source == "sample":
            raise SystemExit(
                "--source sample is MNIST's offline sample; Fashion-MNIST has none: leave --source out (or use full)"
            )
        return load_fashion_mnist(return_source=True, **kwargs)
    except DownloadError as e:  # say why and how to get the files, without a traceback
        raise SystemExit(str(e)) from e


def duration(seconds: float) -> str:
    """A duration for people: '34 ms' under a second, else '2.4 s'."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def train_epoch(model: Any, optimizer: Any, loader: Any, desc: str, quiet: bool) -> tuple[list[float], int, float]:
    """One pass of cross-entropy training over `loader` with a progress bar: each batch's loss, the number of
    training images classified right as they were trained, and the seconds it took."""
    bar = progress(loader, desc=desc, quiet=quiet or None)
    losses, correct = [], 0
    start = time.perf_counter()
    for xb, tb in bar:
        optimizer.zero_grad()
        logits = model(xb)
        loss = nn.functional.cross_entropy(logits, tb)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        hits = int(np.sum(logits.data.argmax(axis=1) == tb.data))
        correct += hits
        bar.set_postfix(loss=f"{losses[-1]:.3f}", acc=f"{hits / len(tb):.3f}")
    return losses, correct, time.perf_counter() - start
