"""Devices, honestly: this engine computes with numpy on the CPU, so "cpu" is the only device.

PyTorch code names devices everywhere (`device=`, `.to(device)`, `torch.cuda.is_available()`);
those spellings work here and mean the CPU. Asking for anything else is an error that says so,
never a silent fallback that would make a user think a GPU was used.
"""

from __future__ import annotations

from typing import Any


class device:
    """A device, as `torch.device`: only `device("cpu")` (or "cpu:0") exists in this build."""

    __slots__ = ("index", "type")

    def __init__(self, spec: Any = "cpu", index: int | None = None):
        if isinstance(spec, device):
            spec, index = spec.type, spec.index if index is None else index
        if not isinstance(spec, str):
            raise TypeError(f"device() takes a string such as 'cpu', got {type(spec).__name__}")
        kind, _, number = spec.partition(":")
        if number:
            if index is not None or not number.isdigit():
                raise ValueError(f"invalid device string {spec!r}; use 'cpu'")
            index = int(number)
        if kind != "cpu":
            raise RuntimeError(
                f"device {spec!r} is not available: this build of autograd computes with numpy on the CPU only. "
                "Use device('cpu') (PyTorch code that picks 'cuda' if torch.cuda.is_available() picks 'cpu' here)."
            )
        if index not in (None, 0):
            raise RuntimeError(f"device 'cpu:{index}' does not exist; the CPU is device 'cpu' (or 'cpu:0')")
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a device is immutable")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, ValueError):
                return False
        return isinstance(other, device) and other.type == self.type

    def __hash__(self) -> int:
        return hash(self.type)

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")


def as_device(spec: Any) -> device:
    """`spec` (None, a string or a device) as the device it names; None is the default device, the CPU."""
    return CPU if spec is None else device(spec)


def set_default_device(spec: Any) -> None:
    """Set the device factories use by default: only the CPU exists, so anything else is an error."""
    as_device(spec)


def get_default_device() -> device:
    return CPU
