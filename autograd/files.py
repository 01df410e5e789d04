"""Writing files so that nothing is ever half-written: a temporary file, then an atomic rename."""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np


def write_atomically(path: str | os.PathLike, write: Callable[[IO[bytes]], object]) -> Path:
    """Call `write(file)` on a temporary file beside `path`, then rename it to `path`.

    Readers see the old file or the new one, never part of one; on any error the
    temporary file is removed and `path` is untouched. A symlink is written through: it
    stays a link and its target gets the new content. The file gets the usual permissions
    (0666 less the umask), not the private ones of a temporary file. OS errors keep their
    class but name `path`, not the temporary file.
    """
    path = Path(path)
    target = path.resolve()
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as e:
        raise _naming(e, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError) and tmp in (e.filename, e.filename2):
            raise _naming(e, path) from None
        raise
    return path


def _naming(error: OSError, path: Path) -> OSError:
    """The same kind of OS error, about `path` (what the caller asked to write) instead of a temporary file."""
    hint = f"; create the folder {path.parent} first" if isinstance(error, FileNotFoundError) else ""
    return type(error)(error.errno, f"cannot write this file: {error.strerror}{hint}", os.fspath(path))


def read_array_member(archive: zipfile.ZipFile, name: str, kinds: str) -> np.ndarray:
    """The array stored in `archive` member `name`, read without pickle; a ValueError saying what is
    wrong if it is not a plain array whose dtype kind is one of `kinds` (e.g. "biuf")."""
    with archive.open(name) as member:
        try:
            array = np.lib.format.read_array(member, allow_pickle=False)
        except ValueError:
            raise ValueError(f"member {name!r} is not a plain numeric array") from None
    if array.dtype.kind not in kinds:
        raise ValueError(f"member {name!r} holds an array of dtype {array.dtype}, not numbers")
    return array
