"""Exceptions raised by the binding.

Every failing library call returns a ``temporal_status`` code; the binding raises the subclass of
:class:`TemporalError` registered for that code, carrying the code and the message the library
stored for the calling thread (``temporal_last_error``). Codes this binding does not know yet
(the enum is append-only) raise the base class itself.

The argument-shaped errors also derive from the matching builtin (``ValueError``,
``MemoryError``) so that generic ``except ValueError`` handlers keep working.
"""

from __future__ import annotations

from typing import Dict, Optional, Type

__all__ = [
    "TemporalError",
    "InvalidArgumentError",
    "BadHandleError",
    "TemporalIOError",
    "FormatError",
    "ShapeError",
    "DeviceError",
    "CancelledError",
    "OutOfMemoryError",
    "InternalError",
    "NumericError",
    "UnsupportedError",
    "ForkedProcessError",
    "STATUS_NAMES",
]

# temporal_status values (include/temporal.h). Append-only on the C side.
OK = 0
ERR_INVALID_ARGUMENT = 1
ERR_BAD_HANDLE = 2
ERR_IO = 3
ERR_FORMAT = 4
ERR_SHAPE = 5
ERR_DEVICE = 6
ERR_CANCELLED = 7
ERR_OUT_OF_MEMORY = 8
ERR_INTERNAL = 9
ERR_NUMERIC = 10
ERR_UNSUPPORTED = 11

STATUS_NAMES: Dict[int, str] = {
    OK: "TEMPORAL_OK",
    ERR_INVALID_ARGUMENT: "TEMPORAL_ERR_INVALID_ARGUMENT",
    ERR_BAD_HANDLE: "TEMPORAL_ERR_BAD_HANDLE",
    ERR_IO: "TEMPORAL_ERR_IO",
    ERR_FORMAT: "TEMPORAL_ERR_FORMAT",
    ERR_SHAPE: "TEMPORAL_ERR_SHAPE",
    ERR_DEVICE: "TEMPORAL_ERR_DEVICE",
    ERR_CANCELLED: "TEMPORAL_ERR_CANCELLED",
    ERR_OUT_OF_MEMORY: "TEMPORAL_ERR_OUT_OF_MEMORY",
    ERR_INTERNAL: "TEMPORAL_ERR_INTERNAL",
    ERR_NUMERIC: "TEMPORAL_ERR_NUMERIC",
    ERR_UNSUPPORTED: "TEMPORAL_ERR_UNSUPPORTED",
}


class TemporalError(Exception):
    """A libtemporal call failed.

    Attributes:
        status: the ``temporal_status`` code (an ``int``).
        message: the library's message for this failure (may be empty only if the library
            stored none, which it documents it never does for a failing call).
    """

    status: int
    message: str

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = int(status)
        self.message = message

    @property
    def status_name(self) -> str:
        """The enum name of :attr:`status`, e.g. ``"TEMPORAL_ERR_SHAPE"``."""
        return STATUS_NAMES.get(self.status, f"temporal_status({self.status})")

    def __str__(self) -> str:
        return f"{self.message} [{self.status_name}]" if self.message else self.status_name

    def __reduce__(self):  # keep (status, message) through pickling (multiprocessing)
        return (type(self), (self.status, self.message))


class InvalidArgumentError(TemporalError, ValueError):
    """TEMPORAL_ERR_INVALID_ARGUMENT: a bad argument value (NULL, negative size, bad option)."""


class BadHandleError(TemporalError):
    """TEMPORAL_ERR_BAD_HANDLE: the model was freed/closed, or the handle was never issued."""


class TemporalIOError(TemporalError):
    """TEMPORAL_ERR_IO: a file could not be opened, read or written (missing, a directory, ...)."""


class FormatError(TemporalError):
    """TEMPORAL_ERR_FORMAT: a file is not a valid checkpoint (truncated, corrupted, bad header)."""


class ShapeError(TemporalError, ValueError):
    """TEMPORAL_ERR_SHAPE: dimensions disagree with the model or the buffers."""


class DeviceError(TemporalError):
    """TEMPORAL_ERR_DEVICE: the requested device (e.g. ``"cuda"``) is unavailable."""


class CancelledError(TemporalError):
    """TEMPORAL_ERR_CANCELLED: a callback asked the library to stop."""


class OutOfMemoryError(TemporalError, MemoryError):
    """TEMPORAL_ERR_OUT_OF_MEMORY: a size derived from the input exceeds the library's limits."""


class InternalError(TemporalError):
    """TEMPORAL_ERR_INTERNAL: a bug or a fault caught inside the library; the process lives on."""


class NumericError(TemporalError, ValueError):
    """TEMPORAL_ERR_NUMERIC: non-finite input, or training diverged."""


class UnsupportedError(TemporalError):
    """TEMPORAL_ERR_UNSUPPORTED: the feature is not in this build (e.g. HDF5 in a nohdf5 build)."""


class ForkedProcessError(UnsupportedError):
    """The library was loaded before ``os.fork()``; it cannot be used in the forked child.

    The Go runtime inside libtemporal does not survive ``fork`` (its threads are not copied).
    Use ``multiprocessing`` with the ``"spawn"`` or ``"forkserver"`` start method instead.
    """


_BY_STATUS: Dict[int, Type[TemporalError]] = {
    ERR_INVALID_ARGUMENT: InvalidArgumentError,
    ERR_BAD_HANDLE: BadHandleError,
    ERR_IO: TemporalIOError,
    ERR_FORMAT: FormatError,
    ERR_SHAPE: ShapeError,
    ERR_DEVICE: DeviceError,
    ERR_CANCELLED: CancelledError,
    ERR_OUT_OF_MEMORY: OutOfMemoryError,
    ERR_INTERNAL: InternalError,
    ERR_NUMERIC: NumericError,
    ERR_UNSUPPORTED: UnsupportedError,
}


def error_class(status: int) -> Type[TemporalError]:
    """The exception class for a status code; unknown codes map to :class:`TemporalError`."""
    return _BY_STATUS.get(int(status), TemporalError)


def make_error(status: int, message: Optional[str]) -> TemporalError:
    """Build the exception for ``status`` with ``message``."""
    return error_class(status)(status, message or "")
