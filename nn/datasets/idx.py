"""Read IDX files, the format MNIST ships in: a big-endian header, then the raw array bytes.

The header is a 4-byte magic number (two zero bytes, a type byte, the number of dimensions)
followed by one big-endian uint32 per dimension. MNIST images have magic 2051 (0x00000803:
uint8, 3 dimensions), labels 2049 (0x00000801: uint8, 1 dimension).
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

# Type byte -> element type, as the format defines it (multi-byte types are big-endian).
IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """An IDX file whose header or length does not describe a whole array."""


def describe_magic(magic: int) -> str:
    """Say in words what a magic number announces, e.g. 2051 -> 'uint8 array with 3 dimensions'."""
    dtype = IDX_DTYPES.get((magic >> 8) & 0xFF)
    kind = dtype.name if dtype is not None else "unknown type"
    return f"{kind} array with {magic & 0xFF} dimensions"


def read_idx(path: str | os.PathLike, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file, gzip-compressed or raw (told apart by content, not by name), into a numpy array.

    `expected_magic` (e.g. 2051 for images) rejects a file of the wrong kind, such as swapped
    image and label files.

    >>> images = read_idx("train-images-idx3-ubyte.gz", expected_magic=2051)  # doctest: +SKIP
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise IDXError(f"{path}: gzip data damaged or cut short ({e}); delete the file and fetch it again") from e
    return parse_idx(raw, str(path), expected_magic)


def parse_idx(raw: bytes, name: str = "<bytes>", expected_magic: int | None = None) -> np.ndarray:
    """Turn the bytes of an (uncompressed) IDX file into an array; `name` labels any error."""
    if len(raw) < 4:
        raise IDXError(f"{name}: only {len(raw)} bytes, too short for an IDX header (a 4-byte magic number first)")
    magic = int.from_bytes(raw[:4], "big")
    type_code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    if magic >> 16 != 0 or type_code not in IDX_DTYPES or ndim == 0:
        raise IDXError(
            f"{name}: bad magic number {magic} (0x{magic:08x}); an IDX file starts with two zero bytes, a type byte "
            f"(0x08 for uint8) and the number of dimensions, e.g. 2051 for MNIST images, 2049 for labels. "
            f"Is this an IDX file, and is it decompressed correctly?"
        )
    if expected_magic is not None and magic != expected_magic:
        raise IDXError(
            f"{name}: magic number {magic} ({describe_magic(magic)}), expected {expected_magic} "
            f"({describe_magic(expected_magic)}); is this the right file?"
        )
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise IDXError(f"{name}: header cut short: {ndim} dimensions need {header_size} header bytes, got {len(raw)}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = IDX_DTYPES[type_code]
    expected, actual = math.prod(shape) * dtype.itemsize, len(raw) - header_size
    if actual < expected:
        raise IDXError(
            f"{name}: data truncated: the header promises shape {shape}, {expected} bytes, but only {actual} follow; "
            f"the file is incomplete, fetch it again"
        )
    if actual > expected:
        raise IDXError(
            f"{name}: wrong counts: the header says shape {shape}, {expected} bytes of data, but {actual} follow; "
            f"the sizes in the header do not match the data"
        )
    array = np.frombuffer(raw, dtype, count=math.prod(shape), offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable copy in native byte order
