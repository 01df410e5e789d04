"""load_fashion_mnist: the lookup order (cache, system copy, mirror), content verification, atomic downloads.

Runs on tiny generated IDX files whose SHA-256 sums are passed as `checksums`, against a mirror the
test serves on 127.0.0.1 (no network); one slow test loads the real files where Debian's
dataset-fashion-mnist package installed them.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nn import datasets
from nn.datasets import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_SHA256,
    FASHION_SYSTEM_DIRS,
    DatasetNotFoundError,
    DownloadError,
    load_fashion_mnist,
)
from tests.mirror import Mirror, closed_port_url, serving

NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS = NAMES



@pytest.fixture
def mirror(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mirror]:
    yield from serving(monkeypatch)

def idx_bytes(array: np.ndarray) -> bytes:
    """An uncompressed uint8 IDX file, written from the format's definition."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def tiny() -> dict[str, bytes]:
    """The decompressed IDX bytes of a tiny Fashion-MNIST: 6 training images, 4 test images."""
    rng = np.random.default_rng(0)
    return {
        TRAIN_IMAGES: idx_bytes(rng.integers(0, 256, (6, 28, 28))),
        TRAIN_LABELS: idx_bytes(np.array([0, 1, 2, 3, 4, 9])),
        TEST_IMAGES: idx_bytes(rng.integers(0, 256, (4, 28, 28))),
        TEST_LABELS: idx_bytes(np.array([5, 6, 7, 8])),
    }


@pytest.fixture
def sums(tiny: dict[str, bytes]) -> dict[str, str]:
    return {name: sha256(data) for name, data in tiny.items()}


def place(folder: Path, files: dict[str, bytes], gz: bool = True, level: int = 9) -> Path:
    """Write the files into `folder` as `<name>.gz` (gzip at `level`) or raw as `<name>`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(data, compresslevel=level, mtime=0))
        else:
            (folder / name).write_bytes(data)
    return folder


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def damaged(data: bytes) -> bytes:
    """The same length, one pixel changed: only the checksum can tell."""
    return data[:-1] + bytes([data[-1] ^ 0xFF])


def load(sums: dict[str, str], **kwargs: Any) -> Any:
    """load_fashion_mnist with the tiny sums, quiet, returning the source; no system copy or mirror unless given."""
    kwargs = {"system_dirs": (), "mirrors": (), "verbose": False, "return_source": True, **kwargs}
    return load_fashion_mnist(checksums=sums, **kwargs)


def assert_is_tiny(data: Any, tiny: dict[str, bytes]) -> None:
    (x_train, t_train), (x_test, t_test) = data
    assert x_train.shape == (6, 784) and x_test.shape == (4, 784) and x_train.dtype == np.float32
    expected = np.frombuffer(tiny[TRAIN_IMAGES], np.uint8, offset=16).reshape(6, 784)
    np.testing.assert_array_equal(x_train, expected.astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(t_train, [0, 1, 2, 3, 4, 9])
    np.testing.assert_array_equal(t_test, [5, 6, 7, 8])


# ----------------------------------------------------------------------------- where the files come from


def test_cache_hit_contacts_no_mirror(
    mirror: Mirror, tiny: dict[str, bytes], sums: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = place(tmp_path / "cache", tiny)
    system = place(tmp_path / "system", tiny)
    url = mirror.serve(tiny, "/fm/")
    data, used = load(sums, cache_dir=cache, system_dirs=[system], mirrors=[url], verbose=True)
    assert used == "cache" and sum(mirror.hits.values()) == 0
    assert_is_tiny(data, tiny)
    out = capsys.readouterr().out
    assert out == f"load_fashion_mnist: Fashion-MNIST (6 train / 4 test) from the cache in {cache}\n"


def test_system_copy_is_used_in_place(
    mirror: Mirror, tiny: dict[str, bytes], sums: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache, system = tmp_path / "cache", place(tmp_path / "system", tiny)
    url = mirror.serve(tiny, "/fm/")
    data, used = load(sums, cache_dir=cache, system_dirs=[tmp_path / "absent", system], mirrors=[url], verbose=True)
    assert used == "system" and sum(mirror.hits.values()) == 0
    assert_is_tiny(data, tiny)
    assert not cache.exists()  # read where it lies: nothing copied, no cache folder even created
    assert f"from the system copy in {system}\n" in capsys.readouterr().out


def test_mirror_download_lands_in_the_cache_atomically(
    mirror: Mirror, tiny: dict[str, bytes], sums: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "data" / "fashion-mnist"  # created on demand
    url = mirror.serve(tiny, "/fm/")
    renames: list[tuple[Path, Path, bool]] = []
    fsynced: list[int] = []
    real_replace, real_fsync = os.replace, os.fsync

    def spy_replace(src: str, dst: str) -> None:
        renames.append((Path(src), Path(dst), len(fsynced) > 0))
        real_replace(src, dst)

    def spy_fsync(fd: int) -> None:
        fsynced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "replace", spy_replace)
    monkeypatch.setattr(os, "fsync", spy_fsync)
    data, used = load(sums, cache_dir=cache, mirrors=[url])
    assert used == "mirror" and mirror.hits == {f"/fm/{name}.gz": 1 for name in NAMES}
    assert_is_tiny(data, tiny)
    assert listing(cache) == sorted(name + ".gz" for name in NAMES)  # no temporary file left beside them
    for name in NAMES:
        assert (cache / (name + ".gz")).read_bytes() == mirror.routes[f"/fm/{name}.gz"]
    assert len(renames) == 4
    for src, dst, after_fsync in renames:  # a temporary file in the same folder, synced, then renamed over
        assert src.parent == dst.parent == cache and src.name.startswith(f".{dst.name}.") and src.suffix == ".part"
        assert after_fsync

    data, used = load(sums, cache_dir=cache, mirrors=[url])
    assert used == "cache" and sum(mirror.hits.values()) == 4  # the second load never asked the mirror


def test_each_file_is_decompressed_once_per_load(
    mirror: Mirror, tiny: dict[str, bytes], sums: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = gzip.decompress
    monkeypatch.setattr(gzip, "decompress", lambda data: calls.append(len(data)) or real(data))
    load(sums, cache_dir=tmp_path / "cache", mirrors=[mirror.serve(tiny, "/fm/")])  # verify, then parse
    assert len(calls) == 4
    load(sums, cache_dir=tmp_path / "cache")
    assert len(calls) == 8


def test_lookup_order_is_cache_then_system_then_mirror(
    mirror: Mirror, tiny: dict[str, bytes], sums: dict[str, str], tmp_path: Path
) -> None:
    cache, system = tmp_path / "cache", tmp_path / "system"
    url = mirror.serve(tiny, "/fm/")
    everywhere = {"cache_dir": cache, "system_dirs": [system], "mirrors": [url]}
    place(system, tiny)
    assert load(sums, **everywhere)[1] == "system" and sum(mirror.hits.values()) == 0
    place(cache, tiny)
    assert load(sums, **everywhere)[1] == "cache"
    for name in NAMES:
        (system / (name + ".gz")).unlink()
        (cache / (name + ".gz")).unlink()
    assert load(sums, **everywhere)[1] == "mirror" and sum(mirror.hits.values()) == 4
    assert load(sums, **everywhere)[1] == "cache"


def test_source_restricts_the_lookup_to_one_place(
    mirror: Mirror, tiny: dict[str, bytes], sums: dict[str, str], tmp_path: Path
) -> None:
    cache, system = tmp_path / "cache", place(tmp_path / "system", tiny)
    url = mirror.serve(tiny, "/fm/")
    everywhere = {"cache_dir": cache, "system_dirs": [system], "mirrors": [url]}
    with pytest.raises(DatasetNotFoundError, match=rf"places tried:\n  {cache / TRAIN_IMAGES}\[\.gz\]: not found"):
        load(sums, source="cache", **everywhere)
    assert load(sums, source="system", **everywhere)[1] == "system"
    assert load(sums, source="mirror", **everywhere)[1] == "mirror" and sum(mirror.hits.values()) == 4
    assert load(sums, source="system", **everywhere)[1] == "system"  # the cache is filled now, but not asked
    assert load(sums, source="cache", **everywhere)[1] == "cache"


def test_gz_and_raw_files_are_both_accepted_told_apart_by_content(
    tiny: dict[str, bytes], sums: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    place(folder, {TRAIN_IMAGES: tiny[TRAIN_IMAGES]}, level=1)  # recompressed differently: other .gz bytes
    place(folder, {TEST_IMAGES: tiny[TEST_IMAGES]}, level=9)
    place(folder, {TRAIN_LABELS: tiny[TRAIN_LABELS]}, gz=False)
    (folder / TEST_LABELS).write_bytes(gzip.compress(tiny[TEST_LABELS]))  # gzip under the raw name
    data, used = load(sums, cache_dir=folder)
    assert used == "cache"
    assert_is_tiny(data, tiny)


# ----------------------------------------------------------------------------- damaged files


def test_a_corrupt_file_is_refused_naming_it_and_both_sums(
    tiny: dict[str, bytes], sums: dict[str, str], tmp_path: Path
) -> None:
    cache = place(tmp_path / "cache", {**tiny, TEST_IMAGES: damaged(tiny[TEST_IMAGES])})
    bad = sha256(damaged(tiny[TEST_IMAGES]))
    with pytest.raises(DatasetNotFoundError) as info:
        load(sums, cache_dir=cache)
    message = str(info.value)
    assert message.startswith(f"load_fashion_mnist: no verified copy of {TEST_IMAGES}; places tried:\n")
    assert (
        f"  {cache / TEST_IMAGES}.gz: checksum mismatch: SHA-256 of the decompressed data is {bad}, "
        f"expected {sums[TEST_IMAGES]} (the file is damaged, cut short or a different file); delete or replace it"
    ) in message
    assert info.value.filename == TEST_IMAGES


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_a_truncated_file_is_refused_naming_it(
    gz: bool, tiny: dict[str, bytes], sums: dict[str, str], tmp_path: Path
) -> None:
    cache = place(tmp_path / "cache", tiny, gz=gz)
    path = cache / (TRAIN_IMAGES + ".gz" if gz else TRAIN_IMAGES)
    path.write_bytes(path.read_bytes()[:-300])
    reason = "gzip data damaged or cut short" if gz else "checksum mismatch: SHA-256 of the decompressed data is"
    with pytest.raises(DatasetNotFoundError, match=rf"\n  {path}: {reason}"):
        load(sums, cache_dir=cache)


def test_a_corrupt_cached_file_falls_through_to_the_system_copy(
    tiny: dict[str, bytes], sums: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = place(tmp_path / "cache", {**tiny, TRAIN_IMAGES: damaged(tiny[TRAIN_IMAGES])})
    system = place(tmp_path / "system", tiny)
    data, used = load(sums, cache_dir=cache, system_dirs=[system], verbose=True)
    assert used == "cache+system"
    assert_is_tiny(data, tiny)
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith(f"from the system copy in {system} and the cache in {cache}")
    assert out[1].startswith(f"  skipped {cache / TRAIN_IMAGES}.gz: checksum mismatch: SHA-256")
    assert len(out) == 2


def test_a_corrupt_cached_file_is_replaced_from_the_mirror(
    mirror: Mirror, tiny: dict[str, bytes], sums: dict[str, str], tmp_path: Path
) -> None:
    cache = place(tmp_path / "cache", {**tiny, TRAIN_LABELS: damaged(tiny[TRAIN_LABELS])})
    url = mirror.serve(tiny, "/fm/")
    data, used = load(sums, cache_dir=cache, mirrors=[url])
    assert used == "cache+mirror" and mirror.hits == {f"/fm/{TRAIN_LABELS}.gz": 1}
    assert_is_tiny(data, tiny)
    assert gzip.decompress((cache / (TRAIN_LABELS + ".gz")).read_bytes()) == tiny[TRAIN_LABELS]
    assert listing(cache) == sorted(name + ".gz" for name in NAMES)


def test_a_corrupt_download_is_never_cached_and_the_next_mirror_is_tried(
    mirror: Mirror, tiny: dict[str, bytes], sums: dict[str, str], tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    bad_url = mirror.serve({**tiny, TRAIN_IMAGES: damaged(tiny[TRAIN_IMAGES])}, prefix="/bad/")
    mirror.routes[f"/cut/{TRAIN_IMAGES}.gz"] = mirror.routes[f"/bad/{TRAIN_IMAGES}.gz"][:-50]  # a truncated gzip
    with pytest.raises(DatasetNotFoundError) as info:
        load(sums, cache_dir=cache, mirrors=[bad_url, mirror.url + "/cut/"])
    message = str(info.value)
    assert f"  {bad_url}{TRAIN_IMAGES}.gz: checksum mismatch: SHA-256 of the decompressed data is" in message
    assert f"  {mirror.url}/cut/{TRAIN_IMAGES}.gz: gzip data damaged or cut short" in message
    assert listing(cache) == []  # nothing kept, no temporary file left

    good_url = mirror.serve(tiny, prefix="/good/")
    _, used = load(sums, cache_dir=cache, mirrors=[bad_url, good_url])
    assert used == "mirror" and mirror.hits[f"/good/{TRAIN_IMAGES}.gz"] == 1
    assert gzip.decompress((cache / (TRAIN_IMAGES + ".gz")).read_bytes()) == tiny[TRAIN_IMAGES]


# ----------------------------------------------------------------------------- when nothing works


def test_the_error_lists_every_place_tried_and_how_to_get_the_data(
    mirror: Mirror, tiny: dict[str, bytes], sums: dict[str, str], tmp_path: Path
) -> None:
    cache, absent = tmp_path / "cache", tmp_path / "absent"
    system = place(tmp_path / "system", {TRAIN_IMAGES: damaged(tiny[TRAIN_IMAGES])})
    mirror.routes[f"/b/{TRAIN_IMAGES}.gz"] = 503
    dead = closed_port_url("/fm/")
    with pytest.raises(DatasetNotFoundError) as info:
        load(sums, cache_dir=cache, system_dirs=[absent, system], mirrors=[mirror.url + "/a/", mirror.url + "/b", dead])
    error = info.value
    assert isinstance(error, DownloadError) and isinstance(error, FileNotFoundError)
    lines = str(error).splitlines()
    assert lines[0] == f"load_fashion_mnist: no verified copy of {TRAIN_IMAGES}; places tried:"
    assert lines[1] == f"  {cache / TRAIN_IMAGES}[.gz]: not found"
    assert lines[2] == f"  {absent / TRAIN_IMAGES}[.gz]: not found"
    assert lines[3].startswith(f"  {system / TRAIN_IMAGES}.gz: checksum mismatch: SHA-256 of the decompressed data")
    assert lines[4] == f"  {mirror.url}/a/{TRAIN_IMAGES}.gz: HTTP 404 Not Found"
    assert lines[5] == f"  {mirror.url}/b/{TRAIN_IMAGES}.gz: HTTP 503 Service Unavailable"
    assert lines[6].startswith(f"  {dead}{TRAIN_IMAGES}.gz: unreachable")
    advice = lines[7]
    assert "apt-get install dataset-fashion-mnist" in advice and "/usr/share/datasets/fashion-mnist" in advice
    assert f"from {mirror.url}/a/, " in advice and f"into {cache}" in advice and "set SEEDGRAD_DATA" in advice
    assert error.failures[0] == (f"{cache / TRAIN_IMAGES}[.gz]", "not found")
    assert len(error.failures) == 6 and len(lines) == 8
    assert listing(cache) == []  # the cache folder may be created for a download, but holds nothing


def test_without_any_place_the_error_says_so_and_names_the_public_mirror(sums: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match=r"(?s)places tried: none .*fashion-mnist\.s3-website"):
        load(sums, source="system", cache_dir=tmp_path)


def test_an_unwritable_cache_is_reported_with_what_to_do(
    mirror: Mirror, tiny: dict[str, bytes], sums: dict[str, str], tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")  # a file where the cache folder should be
    with pytest.raises(DatasetNotFoundError, match=r"cannot create the cache folder .*set SEEDGRAD_DATA to a writable"):
        load(sums, cache_dir=blocker / "fashion-mnist", mirrors=[mirror.serve(tiny, "/fm/")])
    assert sum(mirror.hits.values()) == 0


# ----------------------------------------------------------------------------- arguments and formats


def test_flags_shape_and_type_like_load_mnist(tiny: dict[str, bytes], sums: dict[str, str], tmp_path: Path) -> None:
    cache = place(tmp_path / "cache", tiny)
    (x, t), (x_test, t_test) = load(sums, cache_dir=cache, return_source=False, normalize=False, flatten=False)
    assert x.shape == (6, 1, 28, 28) and x.dtype == np.uint8 and x_test.shape == (4, 1, 28, 28)
    assert t.dtype == np.int64 and t_test.dtype == np.int64
    pixels = np.frombuffer(tiny[TRAIN_IMAGES], np.uint8, offset=16).reshape(6, 784)
    np.testing.assert_array_equal(x.reshape(6, 784), pixels)
    (x, onehot), _ = load(sums, cache_dir=cache, return_source=False, one_hot_label=True)
    assert x.shape == (6, 784) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert onehot.shape == (6, 10) and onehot.dtype == np.float32
    np.testing.assert_array_equal(onehot.argmax(axis=1), [0, 1, 2, 3, 4, 9])
    np.testing.assert_array_equal(onehot.sum(axis=1), np.ones(6))


def test_bad_arguments_say_what_is_allowed(sums: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"source must be one of \('auto', 'cache', 'system', 'mirror'\), got 'full'"):
        load_fashion_mnist(source="full")
    partial = {TRAIN_IMAGES: sums[TRAIN_IMAGES]}
    with pytest.raises(ValueError, match=r"checksums must give a SHA-256 for each of .*missing \['train-labels-idx1"):
        load_fashion_mnist(checksums=partial, verbose=False)


def test_images_and_labels_must_belong_together(tiny: dict[str, bytes], sums: dict[str, str], tmp_path: Path) -> None:
    tiny = {**tiny, TEST_LABELS: idx_bytes(np.array([5, 6, 7]))}
    cache = place(tmp_path / "cache", tiny)
    sums = {name: sha256(data) for name, data in tiny.items()}
    with pytest.raises(ValueError, match=rf"{TEST_IMAGES}.gz holds 4 images but .*{TEST_LABELS}.gz holds 3 labels"):
        load(sums, cache_dir=cache)
    tiny[TEST_LABELS] = idx_bytes(np.array([5, 6, 7, 10]))
    cache = place(tmp_path / "cache", tiny)
    sums = {name: sha256(data) for name, data in tiny.items()}
    with pytest.raises(ValueError, match=rf"{TEST_LABELS}.gz: labels must be classes 0-9, found 10"):
        load(sums, cache_dir=cache)


def test_cache_folder_follows_seedgrad_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SEEDGRAD_DATA", str(tmp_path / "data"))
    assert datasets.fashion_mnist_cache_dir() == tmp_path / "data" / "fashion-mnist"
    monkeypatch.delenv("SEEDGRAD_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert datasets.fashion_mnist_cache_dir() == tmp_path / "xdg" / "seedgrad" / "fashion-mnist"


def test_class_names_in_label_order() -> None:
    assert FASHION_MNIST_CLASSES == (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    )  # fmt: skip
    assert FASHION_SYSTEM_DIRS == ("/usr/share/datasets/fashion-mnist",)


# ----------------------------------------------------------------------------- the real data

PUBLISHED_SHA256 = {  # from the data notes, typed in again here so a changed constant is caught
    TRAIN_IMAGES: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    TRAIN_LABELS: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    TEST_IMAGES: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    TEST_LABELS: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


@pytest.mark.slow
def test_the_real_files_from_the_system_copy(tmp_path: Path) -> None:
    system = Path(FASHION_SYSTEM_DIRS[0])
    if not all((system / (name + ".gz")).is_file() or (system / name).is_file() for name in NAMES):
        pytest.skip(f"Fashion-MNIST is not installed in {system}: apt-get install dataset-fashion-mnist")
    assert FASHION_MNIST_SHA256 == PUBLISHED_SHA256
    ((x_train, t_train), (x_test, t_test)), used = load_fashion_mnist(
        source="system", cache_dir=tmp_path, verbose=False, return_source=True
    )
    assert used == "system" and listing(tmp_path) == []
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
    assert x_train.dtype == x_test.dtype == np.float32 and t_train.dtype == t_test.dtype == np.int64
    assert x_train.min() == 0 and x_train.max() == 1
    np.testing.assert_array_equal(np.bincount(t_train, minlength=10), np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(t_test, minlength=10), np.full(10, 1000))
    for name, expected in PUBLISHED_SHA256.items():  # the files' content, checked here independently of the loader
        packed = system / (name + ".gz")
        content = gzip.decompress(packed.read_bytes()) if packed.is_file() else (system / name).read_bytes()
        assert sha256(content) == expected, name
    assert FASHION_MNIST_CLASSES[t_train[0]] == "Ankle boot"  # the first training image, as published
