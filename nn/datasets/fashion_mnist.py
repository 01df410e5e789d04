"""Fashion-MNIST as numpy arrays, called like `load_mnist`, from the cache, a system copy or a public mirror.

Zalando's drop-in replacement for MNIST (Xiao, Rasul, Vollgraf 2017; MIT licence): 60,000 training
and 10,000 test images of clothing, 28 x 28 grey levels, in ten balanced classes, in the same four
IDX files as MNIST. Each file is looked for in the cache folder, then in a system copy (Debian's
`dataset-fashion-mnist` package, used in place), then downloaded from a mirror into the cache.
A file is used only if the SHA-256 of its decompressed IDX data is the published one, so a
`.gz` file recompressed by a distribution verifies like the original, and a raw file as well.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .download import ENV_VAR, DatasetNotFoundError, _reason, cache_root, fetch_verified
from .idx import GZIP_MAGIC, IDXError, parse_idx
from .mnist import IMAGES_MAGIC, LABELS_MAGIC, NUM_CLASSES, Split, _format

FASHION_MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
FASHION_SYSTEM_DIRS = ("/usr/share/datasets/fashion-mnist",)  # where Debian's dataset-fashion-mnist installs it
TRAIN_IMAGES, TRAIN_LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
FASHION_MNIST_SHA256 = {  # of the decompressed IDX data, so any gzip wrapper (or none) verifies
    TRAIN_IMAGES: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    TRAIN_LABELS: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    TEST_IMAGES: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    TEST_LABELS: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
MAGIC = {TRAIN_IMAGES: IMAGES_MAGIC, TRAIN_LABELS: LABELS_MAGIC, TEST_IMAGES: IMAGES_MAGIC, TEST_LABELS: LABELS_MAGIC}
SOURCES = ("auto", "cache", "system", "mirror")
PLACE_NAMES = {"cache": "the cache", "system": "the system copy"}
NOT_FOUND = "not found"


class ChecksumError(ValueError):
    """A file whose decompressed content is not the published Fashion-MNIST file."""


def fashion_mnist_cache_dir() -> Path:
    """The folder Fashion-MNIST is cached in: `cache_root() / "fashion-mnist"` ($SEEDGRAD_DATA/fashion-mnist if set)."""
    return cache_root() / "fashion-mnist"


def load_fashion_mnist(
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    source: str = "auto",
    cache_dir: str | os.PathLike | None = None,
    *,
    verbose: bool = True,
    return_source: bool = False,
    mirrors: Sequence[str] = FASHION_MIRRORS,
    system_dirs: Sequence[str | os.PathLike] = FASHION_SYSTEM_DIRS,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[Split, Split] | tuple[tuple[Split, Split], str]:
    """Return ((x_train, t_train), (x_test, t_test)) of Fashion-MNIST, shaped and typed as `load_mnist` returns them.

    normalize, flatten, one_hot_label: as for `load_mnist` (float32 in [0, 1] or uint8; (N, 784) or (N, 1, 28, 28);
        int64 class indices or float32 one-hot rows). Class names: `FASHION_MNIST_CLASSES[label]`.
    source: where to look for each file: "auto" (the cache, then `system_dirs`, then `mirrors`, the first place
        with a verified copy wins), or only "cache", only "system" or only "mirror" (download into the cache,
        replacing what is there).
    cache_dir: the cache folder; default `fashion_mnist_cache_dir()`, i.e. $SEEDGRAD_DATA/fashion-mnist, else
        $XDG_CACHE_HOME/seedgrad/fashion-mnist, else ~/.cache/seedgrad/fashion-mnist.
    verbose: print one line saying where the data came from (and any damaged file skipped on the way).
    return_source: also return where the files came from: "cache", "system" or "mirror" (several joined by "+",
        in lookup order, if the files came from different places).
    mirrors, system_dirs: the URLs and folders to look in; each holds the four files as `<name>.gz` or `<name>`.
    checksums: the SHA-256 of each file's decompressed IDX data, by name without ".gz"; default the published ones.
    timeout: seconds per network wait.

    Raises DatasetNotFoundError (a DownloadError and a FileNotFoundError) listing every place tried and why it
    failed, with how to get the data.

    >>> (x_train, t_train), (x_test, t_test) = load_fashion_mnist(verbose=False)  # doctest: +SKIP
    >>> x_train.shape, t_train.dtype, FASHION_MNIST_CLASSES[t_train[0]]  # doctest: +SKIP
    ((60000, 784), dtype('int64'), 'Ankle boot')
    """
    if source not in SOURCES:
        raise ValueError(f"load_fashion_mnist: source must be one of {SOURCES}, got {source!r}")
    cache_dir = Path(cache_dir) if cache_dir is not None else fashion_mnist_cache_dir()
    checksums = _complete_checksums(checksums)
    places = _places(source, cache_dir, system_dirs, mirrors)
    arrays, origins, skipped = {}, {}, []
    for name, magic in MAGIC.items():
        data, origins[name], failures = _find(name, checksums[name], places, cache_dir, mirrors, timeout)
        arrays[name] = parse_idx(data, origins[name][1], magic)  # the bytes are verified: parse them as they are
        skipped += [f"{place}: {reason}" for place, reason in failures if reason != NOT_FOUND]
    train = _check_pair(arrays, TRAIN_IMAGES, TRAIN_LABELS, origins)
    test = _check_pair(arrays, TEST_IMAGES, TEST_LABELS, origins)
    used = "+".join(kind for kind in ("cache", "system", "mirror") if any(k == kind for k, _ in origins.values()))
    if verbose:
        print(_message(origins, skipped, cache_dir, len(train[0]), len(test[0])))
    data = (_format(*train, normalize, flatten, one_hot_label), _format(*test, normalize, flatten, one_hot_label))
    return (data, used) if return_source else data


def _complete_checksums(checksums: Mapping[str, str] | None) -> dict[str, str]:
    """The SHA-256 per file name: the published ones by default; a caller's must cover all four files."""
    checksums = dict(FASHION_MNIST_SHA256 if checksums is None else checksums)
    missing = [name for name in FASHION_MNIST_SHA256 if name not in checksums]
    if missing:
        raise ValueError(
            f"load_fashion_mnist: checksums must give a SHA-256 for each of {list(FASHION_MNIST_SHA256)}; "
            f"missing {missing}"
        )
    return checksums


def _places(
    source: str, cache_dir: Path, system_dirs: Sequence[str | os.PathLike], mirrors: Sequence[str]
) -> list[tuple[str, str | Path]]:
    """(kind, folder or URL) for every place `source` allows, in lookup order."""
    places: list[tuple[str, str | Path]] = []
    if source in ("auto", "cache"):
        places.append(("cache", cache_dir))
    if source in ("auto", "system"):
        places += [("system", Path(folder)) for folder in system_dirs]
    if source in ("auto", "mirror"):
        places += [("mirror", url) for url in mirrors]
    return places


def _find(
    name: str,
    sha256: str,
    places: Sequence[tuple[str, str | Path]],
    cache_dir: Path,
    mirrors: Sequence[str],
    timeout: float,
) -> tuple[bytes, tuple[str, str], list[tuple[str, str]]]:
    """The verified decompressed bytes of `name` from the first place that has them, (kind, file or URL) it came
    from, and (place, reason) for each place tried before. Raises DatasetNotFoundError if no place has them."""
    failures: list[tuple[str, str]] = []
    for kind, where in places:
        if kind == "mirror":
            url = str(where).rstrip("/") + "/" + name + ".gz"
            try:
                return _download(url, cache_dir / (name + ".gz"), sha256, timeout), (kind, url), failures
            except (OSError, http.client.HTTPException, ValueError) as e:
                failures.append((url, _reason(e)))
            continue
        candidates = [path for path in (Path(where) / (name + ".gz"), Path(where) / name) if path.is_file()]
        if not candidates:
            failures.append((f"{Path(where) / name}[.gz]", NOT_FOUND))
        for path in candidates:
            try:
                return _verified(path.read_bytes(), sha256), (kind, str(path)), failures
            except (OSError, ValueError) as e:
                failures.append((str(path), f"{e}; delete or replace it"))
    tried = "".join(f"\n  {place}: {reason}" for place, reason in failures) or " none (no places given)"
    raise DatasetNotFoundError(
        f"load_fashion_mnist: no verified copy of {name}; places tried:{tried}\n{_advice(cache_dir, mirrors)}",
        name,
        failures,
    )


def _download(url: str, target: Path, sha256: str, timeout: float) -> bytes:
    """Download `url` into the cache atomically, kept only if it verifies; return its decompressed bytes."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OSError(f"cannot create the cache folder {target.parent} ({e}); set {ENV_VAR} to a writable one") from e
    return fetch_verified(url, target, lambda tmp: _verified(tmp.read_bytes(), sha256), timeout)


def _verified(data: bytes, sha256: str) -> bytes:
    """The IDX bytes in `data` (decompressed if it is gzip, told by content), if their SHA-256 is `sha256`.

    The hash is of the bytes that are then parsed, so each file is decompressed and read once per load."""
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise IDXError(f"gzip data damaged or cut short ({e})") from e
    found = hashlib.sha256(data).hexdigest()
    if found != sha256:
        raise ChecksumError(
            f"checksum mismatch: SHA-256 of the decompressed data is {found}, expected {sha256} "
            f"(the file is damaged, cut short or a different file)"
        )
    return data


def _check_pair(arrays: Mapping[str, np.ndarray], images: str, labels: str, origins: Mapping) -> Split:
    """The images and labels of one half, checked to belong together."""
    x, t = arrays[images], arrays[labels]
    if len(x) != len(t):
        raise ValueError(
            f"{origins[images][1]} holds {len(x)} images but {origins[labels][1]} holds {len(t)} labels; "
            f"they do not belong together: delete both and load again"
        )
    if t.size and t.max() >= NUM_CLASSES:
        raise ValueError(f"{origins[labels][1]}: labels must be classes 0-9, found {t.max()}")
    return x, t


def _message(
    origins: Mapping[str, tuple[str, str]], skipped: Sequence[str], cache_dir: Path, n_train: int, n_test: int
) -> str:
    """One line saying where the four files came from, then any damaged file passed over on the way."""
    places: list[str] = []
    for kind, location in origins.values():
        if kind == "mirror":
            place = f"{location.rsplit('/', 1)[0]}/ (downloaded into {cache_dir})"
        else:
            place = f"{PLACE_NAMES[kind]} in {Path(location).parent}"
        if place not in places:
            places.append(place)
    lines = [f"load_fashion_mnist: Fashion-MNIST ({n_train:,} train / {n_test:,} test) from {' and '.join(places)}"]
    return "\n".join(lines + [f"  skipped {line}" for line in skipped])


def _advice(cache_dir: Path, mirrors: Sequence[str]) -> str:
    sources = ", ".join(mirrors) or FASHION_MIRRORS[0]
    files = ", ".join(name + ".gz" for name in FASHION_MNIST_SHA256)
    return (
        f"To get Fashion-MNIST: on Debian or Ubuntu, apt-get install dataset-fashion-mnist (it installs into "
        f"{FASHION_SYSTEM_DIRS[0]}); or copy the four files ({files}) from {sources} into {cache_dir} "
        f"(or set {ENV_VAR} to a folder whose fashion-mnist/ subfolder holds them)."
    )
