"""Feedback on long runs: a progress bar with live figures, and a plot of the training curves.

tqdm and matplotlib come with the `demo` extra and are imported only when used.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from autograd.files import write_atomically


class _Silent:
    """Stands in for a progress bar when none should be shown."""

    def __init__(self, iterable: Iterable[Any]):
        self._iterable = iterable

    def __iter__(self) -> Iterator[Any]:
        return iter(self._iterable)

    def set_postfix(self, **figures: Any) -> None:
        pass

    def close(self) -> None:
        pass


def progress(
    iterable: Iterable[Any], desc: str | None = None, total: int | None = None, quiet: bool | None = None
) -> Any:
    """Wrap `iterable` in a tqdm bar; show figures with `bar.set_postfix(loss=..., acc=...)`.

    By default the bar is shown only on a terminal, so logs and CI stay clean; `quiet=True`
    hides it, `quiet=False` forces it.
    """
    if quiet is None:
        quiet = not sys.stderr.isatty()
    if quiet:
        return _Silent(iterable)
    try:
        from tqdm import tqdm
    except ImportError:
        return _Silent(iterable)
    return tqdm(iterable, desc=desc, total=total, leave=False, dynamic_ncols=True)


def plot_history(history: Mapping[str, Sequence[float]], path: str | os.PathLike, title: str = "") -> Path:
    """Save a PNG of per-epoch curves: `loss` on the left, every `*acc*` series on the right.

    `history` maps names to one value per epoch, e.g. {"loss": [...], "train acc": [...],
    "test acc": [...]}. The file is written atomically. Returns the path.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError("plotting needs matplotlib: pip install matplotlib (or the project's demo extra)") from err
    path = Path(path)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for name, values in history.items():
        axis = ax_acc if "acc" in name else ax_loss
        axis.plot(range(1, len(values) + 1), values, label=name)
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for axis in (ax_loss, ax_acc):
        axis.grid(alpha=0.3)
        if axis.lines:
            axis.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    try:
        write_atomically(path, lambda f: fig.savefig(f, format="png", dpi=100))
    finally:
        plt.close(fig)
    return path
