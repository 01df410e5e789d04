"""The data cache, and downloads that only ever leave a complete, checksum-verified file in it.

A download streams into a temporary file in the cache folder itself, is fsynced, checked
(against its MD5 sum, or by any `verify` function, e.g. a SHA-256 of the decompressed content),
and only then renamed into place with `os.replace`. So a reader finds either no file or the
whole verified file, never half of one, whatever interrupts the transfer.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

ENV_VAR = "SEEDGRAD_DATA"
CHUNK_SIZE = 1 << 16
USER_AGENT = "seedgrad (numpy autograd; python urllib)"
T = TypeVar("T")


class DownloadError(OSError):
    """No mirror delivered the file with the expected checksum; `failures` holds (url, reason) per mirror."""

    def __init__(self, message: str, filename: str, failures: Sequence[tuple[str, str]]):
        super().__init__(message)
        self.filename, self.failures = filename, list(failures)

    def __str__(self) -> str:
        return self.args[0]


class DatasetNotFoundError(DownloadError, FileNotFoundError):
    """No place (cache, system copy, mirror) had a verified copy; `failures` holds (place, reason) per place tried."""


class _BadTransfer(ValueError):
    """The server answered, but the bytes were incomplete or not the expected ones."""


def cache_root() -> Path:
    """Where datasets are cached: $SEEDGRAD_DATA if set, else $XDG_CACHE_HOME/seedgrad, else ~/.cache/seedgrad."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "seedgrad"


def md5_of(path: str | os.PathLike) -> str:
    """The MD5 hex digest of a file, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def download_file(
    filename: str, md5: str, directory: str | os.PathLike, mirrors: Sequence[str], timeout: float = 10.0
) -> Path:
    """Return `directory/filename`, first fetching it from the first of `mirrors` that serves the right bytes.

    A cached file is used only if its MD5 matches; a download that fails its checksum is never kept.
    Raises DownloadError listing every mirror tried and why it failed.

    >>> download_file("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", "data",
    ...          ["https://ossci-datasets.s3.amazonaws.com/mnist/"])  # doctest: +SKIP
    PosixPath('data/t10k-labels-idx1-ubyte.gz')
    """
    directory = Path(directory)
    target = directory / filename
    note = ""
    if target.is_file():
        found = md5_of(target)
        if found == md5:
            return target
        note = f" The file already at {target} has MD5 {found}, not {md5}; it is damaged or a different file."
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DownloadError(
            f"cannot create the cache folder {directory} ({e}); set {ENV_VAR} to a writable folder", filename, []
        ) from e
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + filename
        try:
            _fetch_into(url, target, md5, timeout)
            return target
        except (OSError, http.client.HTTPException, _BadTransfer) as e:
            failures.append((url, _reason(e)))
    tried = "".join(f"\n  {url}: {reason}" for url, reason in failures) or " (no mirrors given)"
    raise DownloadError(f"could not download {filename}; mirrors tried:{tried}.{note}", filename, failures)


def _fetch_into(url: str, target: Path, md5: str, timeout: float) -> None:
    """Download `url` to `target` atomically, keeping it only if its MD5 is `md5`."""
    fetch_verified(url, target, lambda tmp: _check_md5(tmp, md5), timeout)


def _check_md5(path: Path, md5: str) -> None:
    found = md5_of(path)
    if found != md5:
        raise _BadTransfer(f"checksum mismatch: MD5 {found}, expected {md5}")


def fetch_verified(url: str, target: str | os.PathLike, verify: Callable[[Path], T], timeout: float = 10.0) -> T:
    """Stream `url` into a temporary file beside `target`; rename it into place only if it is whole and verified.

    `verify(temporary_path)` raises ValueError (or OSError) to refuse the bytes, which are then deleted; what it
    returns is returned, so a caller can verify and parse in one pass instead of reading the file twice.

    >>> data = fetch_verified("http://example.org/x.gz", "cache/x.gz", lambda p: p.read_bytes())  # doctest: +SKIP
    """
    target = Path(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
            announced = response.headers.get("Content-Length")
            received = 0
            while chunk := response.read(CHUNK_SIZE):
                out.write(chunk)
                received += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        if announced is not None and received != int(announced):
            raise _BadTransfer(f"transfer cut short: received {received} of {announced} bytes")
        result = verify(Path(tmp))
        os.replace(tmp, target)
    except BaseException:  # any failure, Ctrl-C included: leave no temporary file behind
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(target.parent)
    return result


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable where the platform allows opening a folder (POSIX); skip it elsewhere."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _reason(error: BaseException) -> str:
    """A short human reason for one mirror's failure."""
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return f"unreachable ({error.reason})"
    if isinstance(error, http.client.IncompleteRead):
        return "transfer cut short: the connection closed in the middle of the file"
    return str(error) or type(error).__name__
