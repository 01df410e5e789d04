"""Save and load weights as `.npz`, or as `.safetensors`: plain numeric arrays only, so loading never runs code.

The format follows the name: `*.safetensors` is the safetensors format (the optional
`safetensors` package), which PyTorch reads with `safetensors.torch.load_file`; any other name
is an `.npz` archive written member by member (`<key>.npy`), so any string key round-trips,
and plain `np.load` reads it too.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import numpy as np

from autograd import Tensor
from autograd.files import read_array_member, write_atomically

from .module import Module

_NUMERIC = "biufc"  # bool, signed and unsigned integers, floats, complex
_SAFETENSORS_DTYPES = ("b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8")  # kind + bytes


def save(state: Module | Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write a module's state_dict (or any dict of numeric arrays keyed by strings) to `path`, atomically.

    A name ending in `.safetensors` gives the safetensors format (PyTorch reads it with
    `safetensors.torch.load_file`); any other name, an `.npz` archive.
    """
    if isinstance(state, Module):
        state = state.state_dict()
    if not isinstance(state, Mapping):
        raise TypeError(
            f"nn.save takes a Module or a mapping of names to arrays (such as model.state_dict()), "
            f"got {type(state).__name__}"
        )
    if _is_safetensors(path):
        data = _safetensors_bytes(state)
        write_atomically(path, lambda f: f.write(data))
        return
    arrays = {_member_name(key): _storable(key, value) for key, value in state.items()}
    write_atomically(path, lambda f: _write_npz(f, arrays))


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read the dict of arrays written by `save` (safetensors for a `.safetensors` name, else `.npz`).

    Anything else, pickles included, is refused, never run.
    """
    if _is_safetensors(path):
        return _load_safetensors(path)
    with open(path, "rb") as f:  # a missing or unreadable file raises here, as usual
        try:
            return _read_npz(f)
        except (zipfile.BadZipFile, zlib.error, ValueError, EOFError, OSError, NotImplementedError, RuntimeError) as e:
            reason = str(e) if isinstance(e, _NotWeights) else "it is damaged or not a .npz archive"
            raise ValueError(f"{os.fspath(path)!r} is not a weights file written by nn.save: {reason}") from None


class _NotWeights(ValueError):
    """A readable archive whose contents are not what `save` writes."""


def _member_name(key: Any) -> str:
    """The archive member that holds `key`: `<key>.npy`, as np.savez names them."""
    if not isinstance(key, str):
        raise TypeError(f"nn.save: keys must be strings, got {key!r} of type {type(key).__name__}")
    if "\0" in key:
        raise ValueError(f"nn.save: key {key!r} contains a NUL character, which a file name in the archive cannot hold")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"nn.save: key {key!r} cannot be written as UTF-8; use a key of plain characters") from None
    return f"{key}.npy"


def _storable(key: str, value: Any) -> np.ndarray:
    """`value` as a numeric array, or an error naming `key`."""
    try:
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
    except (TypeError, ValueError) as e:
        raise TypeError(f"nn.save: the value of {key!r} is not an array ({e})") from None
    if array.dtype.kind not in _NUMERIC:
        raise TypeError(
            f"nn.save: the value of {key!r} is an array of dtype {array.dtype}; only arrays of numbers "
            "(bool, int, float, complex) can be saved"
        )
    return array


def _write_npz(f: IO[bytes], arrays: Mapping[str, np.ndarray]) -> None:
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _read_npz(f: IO[bytes]) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(f) as archive:
        for info in archive.infolist():
            key = info.filename.removesuffix(".npy")
            if key == info.filename or key in arrays:
                raise _NotWeights(f"it holds an unexpected member {info.filename!r}")
            try:
                arrays[key] = read_array_member(archive, info.filename, _NUMERIC)
            except ValueError as err:
                raise _NotWeights(str(err)) from None
    return arrays


# ----------------------------------------------------------------------------- safetensors


def _is_safetensors(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() == ".safetensors"


def _safetensors() -> ModuleType:
    """The `safetensors` package (with its numpy API loaded), or an ImportError saying how to install it."""
    try:
        import safetensors
        import safetensors.numpy
    except ImportError as e:
        raise ImportError(
            "nn.save and nn.load need the safetensors package for .safetensors files: pip install safetensors "
            "(or pip install seedgrad[safetensors]); or use a .npz name, which needs nothing more"
        ) from e
    return safetensors


def _safetensors_bytes(state: Mapping[str, Any]) -> bytes:
    """The state as safetensors bytes: each array contiguous and little-endian, its dtype kept."""
    module = _safetensors()
    arrays: dict[str, np.ndarray] = {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise TypeError(f"nn.save: keys must be strings, got {key!r} of type {type(key).__name__}")
        if key == "__metadata__":
            raise ValueError("nn.save: the key '__metadata__' is reserved by the safetensors format; rename it")
        array = _storable(key, value)
        if f"{array.dtype.kind}{array.dtype.itemsize}" not in _SAFETENSORS_DTYPES:
            raise TypeError(
                f"nn.save: the value of {key!r} has dtype {array.dtype}, which safetensors cannot store (it stores "
                "bool, int8 to int64, uint8 to uint64, float16, float32 and float64); convert it, or use a .npz name"
            )
        arrays[key] = np.asarray(array, dtype=array.dtype.newbyteorder("<"), order="C")
    return module.numpy.save(arrays)


def _load_safetensors(path: str | os.PathLike) -> dict[str, np.ndarray]:
    module = _safetensors()
    with open(path, "rb") as f:  # a missing or unreadable file raises here, as usual
        data = f.read()
    try:
        arrays = module.numpy.load(data)
    except KeyError as e:  # a dtype that numpy has no type for, such as bfloat16
        raise ValueError(
            f"{os.fspath(path)!r} holds a tensor of dtype {e.args[0]}, which numpy cannot represent; "
            "convert it to float32 before saving it (in PyTorch: tensor.float())"
        ) from None
    except (module.SafetensorError, ValueError) as e:
        raise ValueError(f"{os.fspath(path)!r} is not a valid safetensors file: {e}") from None
    return {key: array if array.flags.writeable else array.copy() for key, array in arrays.items()}
