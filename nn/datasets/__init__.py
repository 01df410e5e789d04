"""Datasets as numpy arrays: MNIST (full, or an offline sample) and the seeds' toy problems.

>>> from nn.datasets import load_mnist, xor
>>> (x_train, t_train), (x_test, t_test) = load_mnist(source="sample", verbose=False)
>>> x, y = xor()
"""

from .download import ENV_VAR, DownloadError, cache_root, download_file, md5_of
from .idx import IDXError, parse_idx, read_idx
from .mnist import MIRRORS, MNIST_MD5, load_mnist, mnist_cache_dir, stratified_split
from .toy import four_points, line, plane, two_moons, two_spirals, xor

__all__ = [
    "ENV_VAR", "DownloadError", "cache_root", "download_file", "md5_of", "IDXError", "parse_idx", "read_idx",
    "MIRRORS", "MNIST_MD5", "load_mnist", "mnist_cache_dir", "stratified_split",
    "four_points", "line", "plane", "two_moons", "two_spirals", "xor",
]  # fmt: skip
