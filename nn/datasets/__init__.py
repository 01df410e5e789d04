"""Datasets as numpy arrays: MNIST (full, or an offline sample), Fashion-MNIST, and the seeds' toy problems.

>>> from nn.datasets import load_mnist, xor
>>> (x_train, t_train), (x_test, t_test) = load_mnist(source="sample", verbose=False)
>>> x, y = xor()
>>> from nn.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist
>>> (x_train, t_train), (x_test, t_test) = load_fashion_mnist()  # doctest: +SKIP
"""

from .download import ENV_VAR, DatasetNotFoundError, DownloadError, cache_root, download_file, fetch_verified, md5_of
from .fashion_mnist import (
    FASHION_MIRRORS,
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_SHA256,
    FASHION_SYSTEM_DIRS,
    ChecksumError,
    fashion_mnist_cache_dir,
    load_fashion_mnist,
)
from .idx import IDXError, parse_idx, read_idx
from .mnist import MIRRORS, MNIST_MD5, load_mnist, mnist_cache_dir, stratified_split
from .toy import four_points, line, plane, two_moons, two_spirals, xor

__all__ = [
    "ENV_VAR", "DownloadError", "cache_root", "download_file", "md5_of", "IDXError", "parse_idx", "read_idx",
    "MIRRORS", "MNIST_MD5", "load_mnist", "mnist_cache_dir", "stratified_split",
    "DatasetNotFoundError", "ChecksumError", "fetch_verified", "FASHION_MIRRORS", "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_SHA256", "FASHION_SYSTEM_DIRS", "fashion_mnist_cache_dir", "load_fashion_mnist",
    "four_points", "line", "plane", "two_moons", "two_spirals", "xor",
]  # fmt: skip
