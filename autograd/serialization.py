"""`save` and `load` for state dicts, as `torch.save` / `torch.load`, but never with pickle.

A file is a zip archive: `autograd/object.json` holds the structure (dicts, lists, tuples,
numbers, strings, None) as JSON, and each array is a plain `.npy` member beside it. Loading
reads only JSON and numeric arrays, so a file can never run code, whatever its name.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
import zlib
from typing import IO, Any

import numpy as np

from .device import as_device, device
from .files import read_array_member, write_atomically
from .tensor import Tensor

__all__ = ["load", "save"]

FileLike = str | os.PathLike | IO[bytes]

_FORMAT = "autograd.save"
_VERSION = 1
_OBJECT = "autograd/object.json"
_TENSORS = "autograd/tensors/"
_NUMERIC = "biuf"  # what a Tensor holds: bool, signed and unsigned integers, real floats
_STORABLE = "tensors, numpy arrays and scalars, int, float, bool, str and None, in dicts, lists and tuples"
_FROM_TORCH = (
    "To bring weights over from PyTorch, write them there with "
    "safetensors.torch.save_file(model.state_dict(), 'model.safetensors') and read them here with "
    "nn.load('model.safetensors')"
)


def save(obj: Any, f: FileLike) -> None:
    """Write `obj`, such as `model.state_dict()` or `optimizer.state_dict()`, to `f` (a path or a binary file).

    `obj` may nest dicts (string or integer keys), lists and tuples of tensors, numpy arrays and
    scalars, numbers, strings and None. Anything else is a TypeError naming where it is. A path
    is written atomically: readers see the old file or the new one, never part of one.
    """
    encoder = _Encoder()
    tree = encoder.encode(obj, "")
    document = json.dumps({"format": _FORMAT, "version": _VERSION, "object": tree}, allow_nan=False)

    def write(stream: IO[bytes]) -> None:
        _write_archive(stream, document, encoder.arrays)

    if isinstance(f, (str, os.PathLike)):
        write_atomically(f, write)
    elif callable(getattr(f, "write", None)):
        if isinstance(f, io.TextIOBase):
            raise TypeError("autograd.save needs a file opened in binary mode: open(path, 'wb'), not 'w'")
        write(f)
    else:
        raise TypeError(f"autograd.save writes to a path or a binary file object, got {type(f).__name__}")


def load(f: FileLike, map_location: Any = None, *, weights_only: bool | None = True) -> Any:
    """Read what `save` wrote: the same structure, with every array as a Tensor (as torch.load returns tensors).

    Tensors keep dtype and requires_grad; numpy scalars stay numpy scalars.
    `model.load_state_dict(load(path))` and `optimizer.load_state_dict(load(path))` take it as
    it is. The format is read from the content, not the name; pickles (torch.save files
    included) are refused, never unpickled. `map_location` may only name the CPU.
    """
    if weights_only is False:
        raise ValueError(
            "autograd.load never unpickles, so weights_only=False is not supported: unpickling a file can run "
            f"any code in it. Files from autograd.save hold {_STORABLE}, and load with weights_only=True "
            "(the default)."
        )
    if weights_only not in (True, None):
        raise TypeError(f"autograd.load: weights_only must be True (or None), got {weights_only!r}")
    _check_location(map_location)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as stream:  # a missing or unreadable file raises here, as usual
            return _read(stream, os.fspath(f))
    if not callable(getattr(f, "read", None)):
        raise TypeError(f"autograd.load reads a path or a binary file object, got {type(f).__name__}")
    data = f.read()
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("autograd.load needs a file opened in binary mode: open(path, 'rb'), not 'r'")
    name = getattr(f, "name", None)
    return _read(io.BytesIO(data), name if isinstance(name, str) else f"<{type(f).__name__}>")


# ----------------------------------------------------------------------------- writing


class _Encoder:
    """Turns an object into JSON-ready data, collecting its arrays (each object once) in `arrays`."""

    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []
        self._indices: dict[int, int] = {}  # id of a saved tensor or array -> its index
        self._open: set[int] = set()  # ids of the containers being encoded, to catch cycles

    def encode(self, value: Any, path: str) -> Any:
        if value is None or type(value) in (bool, int, str):
            return value
        if type(value) is float:
            return value if math.isfinite(value) else {"float": repr(value)}
        if isinstance(value, Tensor):
            node: dict[str, Any] = {"tensor": self._add(value, value.detach().numpy(), path)}
            if value.requires_grad:
                node["requires_grad"] = True
            return node
        if isinstance(value, np.ndarray):
            return {"tensor": self._add(value, value, path)}
        if isinstance(value, np.generic):
            return {"scalar": self._add(None, np.asarray(value), path)}
        if isinstance(value, dict) or type(value) in (list, tuple):
            if id(value) in self._open:
                raise ValueError(f"autograd.save cannot store {_where(path)}: it contains itself")
            self._open.add(id(value))
            try:
                if isinstance(value, dict):
                    return {"dict": [[_key(k, path), self.encode(v, f"{path}[{k!r}]")] for k, v in value.items()]}
                return {type(value).__name__: [self.encode(v, f"{path}[{i}]") for i, v in enumerate(value)]}
            finally:
                self._open.discard(id(value))
        raise TypeError(_refusal(value, path))

    def _add(self, owner: Any, array: np.ndarray, path: str) -> int:
        if owner is not None and id(owner) in self._indices:
            return self._indices[id(owner)]
        if array.dtype.kind not in _NUMERIC:
            raise TypeError(
                f"autograd.save cannot store {_where(path)}: it holds dtype {array.dtype}, and tensors hold only "
                "bool, integer or real float numbers; convert it first, or save complex arrays with nn.save to .npz"
            )
        self.arrays.append(array)
        if owner is not None:
            self._indices[id(owner)] = len(self.arrays) - 1
        return len(self.arrays) - 1


def _key(key: Any, path: str) -> str | int:
    if type(key) not in (str, int):
        raise TypeError(
            f"autograd.save cannot store the key {key!r} (a {type(key).__name__}) of the dict at "
            f"{path or 'the top level'}: keys must be strings or integers"
        )
    return key


def _where(path: str) -> str:
    return f"the value at {path}" if path else "the object"


def _refusal(value: Any, path: str) -> str:
    kind = type(value).__name__
    if callable(getattr(value, "state_dict", None)):
        return (
            f"autograd.save cannot store {_where(path)} (a {kind}): save its state_dict() instead, as in "
            "autograd.save(model.state_dict(), path), and restore it with model.load_state_dict(autograd.load(path))"
        )
    return (
        f"autograd.save cannot store {_where(path)} (of type {kind}): it stores only {_STORABLE}; it never pickles "
        "objects, so that loading a file cannot run code. Save model.state_dict() and optimizer.state_dict()"
    )


def _write_archive(stream: IO[bytes], document: str, arrays: list[np.ndarray]) -> None:
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.writestr(_member(_OBJECT), document)  # first, so it is found without reading the rest
        for i, array in enumerate(arrays):
            with archive.open(_member(f"{_TENSORS}{i}.npy"), "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _member(name: str) -> zipfile.ZipInfo:
    """A member with a fixed timestamp, so the same object always gives the same bytes."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o644 << 16
    return info


# ----------------------------------------------------------------------------- reading


class _Invalid(ValueError):
    """Why a file is not one that `load` reads."""


def _check_location(map_location: Any) -> None:
    if map_location is None:
        return
    if not isinstance(map_location, (str, device)):
        raise TypeError(
            f"autograd.load: map_location must be None, 'cpu' or autograd.device('cpu'), got "
            f"{type(map_location).__name__}; everything loads onto the CPU, the only device in this build"
        )
    try:
        as_device(map_location)
    except (RuntimeError, ValueError) as e:
        raise type(e)(f"autograd.load(map_location={map_location!r}): {e}") from None


def _read(stream: IO[bytes], name: str) -> Any:
    try:
        head = stream.read(16)
        stream.seek(0)
        _check_head(head)
        with zipfile.ZipFile(stream) as archive:
            return _Decoder(archive).load()
    except RecursionError:
        reason = "its structure is nested too deeply"
    except _Invalid as e:
        reason = str(e)
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError, OSError, NotImplementedError, RuntimeError):
        reason = "it is damaged (a truncated or corrupted archive)"
    raise ValueError(f"autograd.load cannot read {name!r}: {reason}") from None


def _check_head(head: bytes) -> None:
    """Refuse, by their first bytes, files that are not zip archives, saying what they are."""
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return
    if not head:
        raise _Invalid("it is empty")
    if head[0] == 0x80 and 2 <= head[1] <= 5:
        raise _Invalid(
            "it is a Python pickle (as pickle.dump, or torch.save before PyTorch 1.6, writes), which autograd.load "
            f"never unpickles: unpickling can run any code. {_FROM_TORCH}"
        )
    if len(head) > 8 and head[8:9] == b"{":
        raise _Invalid("it is a safetensors file; read it with nn.load (under a name ending in .safetensors)")
    raise _Invalid("it is not a file written by autograd.save (a zip archive), nor any format autograd reads")


class _Decoder:
    """Rebuilds the saved object from an archive, reading each array once."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        self.names = archive.namelist()
        self.arrays: dict[int, np.ndarray] = {}
        self.tensors: dict[int, Tensor] = {}

    def load(self) -> Any:
        if _OBJECT not in self.names:
            if any(n == "data.pkl" or n.endswith("/data.pkl") for n in self.names):
                raise _Invalid(
                    f"it was written by torch.save, whose structure is a pickle, which autograd.load never "
                    f"unpickles: unpickling can run any code. {_FROM_TORCH}"
                )
            if self.names and all(n.endswith(".npy") for n in self.names):
                raise _Invalid("it is a .npz archive of arrays, as nn.save writes; read it with nn.load")
            raise _Invalid(f"it is a zip archive without {_OBJECT}, so not a file written by autograd.save")
        if len(set(self.names)) != len(self.names):
            raise _Invalid("it holds a member twice")
        document = json.loads(self.archive.read(_OBJECT))
        if not (isinstance(document, dict) and document.get("format") == _FORMAT and "object" in document):
            raise _Invalid(f"its {_OBJECT} is not the one autograd.save writes")
        version = document.get("version")
        if type(version) is not int or version < 1:
            raise _Invalid(f"its {_OBJECT} gives no valid format version")
        if version > _VERSION:
            raise _Invalid(
                f"it was written by a newer autograd (format version {version}); upgrade autograd to read it"
            )
        obj = self.decode(document["object"])
        unused = sorted(set(self.names) - {_OBJECT} - {_array_member(i) for i in self.arrays})
        if unused:
            raise _Invalid(f"it holds unexpected members {unused}")
        return obj

    def decode(self, node: Any) -> Any:
        if node is None or type(node) in (bool, int, float, str):
            return node
        if type(node) is dict and len(node) == 1:
            ((tag, content),) = node.items()
            if tag == "dict" and type(content) is list and all(_is_pair(item) for item in content):
                return {key: self.decode(value) for key, value in content}
            if tag in ("list", "tuple") and type(content) is list:
                items = [self.decode(item) for item in content]
                return items if tag == "list" else tuple(items)
            if tag == "float" and content in ("nan", "inf", "-inf"):
                return float(content)
            if tag == "tensor":
                return self.tensor(content, requires_grad=False)
            if tag == "scalar":
                array = self.array(content)
                if array.ndim != 0:
                    raise _Invalid(
                        f"member {_array_member(content)!r} should hold a scalar but has shape {array.shape}"
                    )
                return array[()]
        if type(node) is dict and node.keys() == {"tensor", "requires_grad"} and node["requires_grad"] is True:
            return self.tensor(node["tensor"], requires_grad=True)
        raise _Invalid(f"its {_OBJECT} holds an entry autograd.save does not write: {json.dumps(node)[:80]}")

    def tensor(self, index: Any, requires_grad: bool) -> Tensor:
        if index not in self.tensors:
            array = self.array(index)
            if requires_grad and array.dtype.kind != "f":
                raise _Invalid(f"member {_array_member(index)!r} requires grad but holds dtype {array.dtype}")
            self.tensors[index] = Tensor(array, requires_grad=requires_grad)
        return self.tensors[index]

    def array(self, index: Any) -> np.ndarray:
        if type(index) is not int or index < 0:
            raise _Invalid(f"its {_OBJECT} names an invalid array index {index!r}")
        if index not in self.arrays:
            name = _array_member(index)
            if name not in self.names:
                raise _Invalid(f"the member {name!r} is missing")
            try:
                self.arrays[index] = read_array_member(self.archive, name, _NUMERIC)
            except ValueError as err:
                raise _Invalid(str(err)) from None
        return self.arrays[index]


def _is_pair(item: Any) -> bool:
    return type(item) is list and len(item) == 2 and type(item[0]) in (str, int)


def _array_member(index: int) -> str:
    return f"{_TENSORS}{index}.npy"
