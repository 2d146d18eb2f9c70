"""temporal — Python binding of libtemporal, a BiLSTM + multi-head self-attention video
classifier over per-frame CNN feature vectors.

    import numpy as np, temporal
    with temporal.Model.load("model.safetensors") as model:
        logits = model.predict(features)            # features: float32 [batch, frames, F]
        probs = model.predict_proba(features, lengths=[30, 12])
        probs = model.predict_proba(features, tta=True)     # test-time augmentation

    temporal.write_dataset("train.h5", x, y, lengths=n, class_names=["a", "b"])
    report = temporal.train("train.h5", "val.h5", "out", progress=print, epochs=20)
    with temporal.Trainer(model, lr=1e-3) as tr:        # custom loops
        loss = tr.step(x, y, lengths=n)

The binding is ctypes + numpy over ``libtemporal.so`` (found through ``$TEMPORAL_LIBRARY``, then
next to this package, then the system loader). Importing it loads the library and checks its
ABI version; a mismatch raises ImportError.

Host caveats: do not use the library in a child made by ``os.fork()`` after import (use
multiprocessing's "spawn" or "forkserver"); the library reads its environment variables when it
is loaded, i.e. at ``import temporal``.
"""

from __future__ import annotations

import os

from . import _library as _lib
from .errors import (
    BadHandleError,
    CancelledError,
    DeviceError,
    ForkedProcessError,
    FormatError,
    InternalError,
    InvalidArgumentError,
    NumericError,
    OutOfMemoryError,
    ShapeError,
    TemporalError,
    TemporalIOError,
    UnsupportedError,
)
from ._logging import LOG_DEBUG, LOG_ERROR, LOG_INFO, LOG_WARN, log_to_logging, set_log_callback
from .model import Config, Model, ensemble_predict_proba
from .training import TRAIN_DEFAULTS, Progress, Trainer, TrainReport, hdf5_available, train, write_dataset

__all__ = [
    "set_cublas_path",
    "ABI_VERSION",
    "Config",
    "Model",
    "ensemble_predict_proba",
    "Trainer",
    "train",
    "TrainReport",
    "Progress",
    "TRAIN_DEFAULTS",
    "write_dataset",
    "hdf5_available",
    "version",
    "abi_version",
    "library_path",
    "cuda_available",
    "cuda_device_count",
    "set_num_threads",
    "get_num_threads",
    "set_log_callback",
    "log_to_logging",
    "LOG_ERROR",
    "LOG_WARN",
    "LOG_INFO",
    "LOG_DEBUG",
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
]

#: The C ABI version this binding implements (TEMPORAL_ABI_VERSION of include/temporal.h).
ABI_VERSION: int = _lib.ABI_VERSION

#: Path or soname the library was loaded from.
library_path: str = _lib.library_path

__version__ = "0.1.0"


def version() -> str:
    """The library's version string, e.g. ``"0.1.0"``."""
    _lib.ensure_usable()
    return _lib.f_version().decode("utf-8", errors="replace")


def abi_version() -> int:
    """The library's ABI version (equal to :data:`ABI_VERSION`; checked at import)."""
    _lib.ensure_usable()
    return int(_lib.f_abi_version())


def cuda_available() -> bool:
    """Whether a CUDA device can be used (a driver, cuInit and at least one device)."""
    _lib.ensure_usable()
    return bool(_lib.f_cuda_available())


def set_cublas_path(path: "os.PathLike[str] | str") -> None:
    """Load cuBLAS from ``path`` (a ``libcublas.so.N``) when the first CUDA model loads, instead of
    searching. Process-wide; effective only before the first CUDA model. Without it, loading a
    model on ``"cuda"`` first looks for the cuBLAS of a pip-installed ``nvidia-cublas-cu*``
    wheel (``site-packages/nvidia/cublas/lib``), then ``TEMPORAL_CUBLAS``, then the system's.

    Raises:
        InvalidArgumentError: cuBLAS is already loaded from elsewhere.
    """
    _lib.ensure_usable()
    _lib.check(_lib.f_cuda_set_cublas_path(os.fsencode(path)))


def cuda_device_count() -> int:
    """The number of visible CUDA devices the library can use."""
    _lib.ensure_usable()
    return int(_lib.f_cuda_device_count())


def set_num_threads(n: int) -> None:
    """Set how many worker threads one library call may use (0: one per core, the default).
    Results depend only on this setting and the shapes, never on timing. Process-wide; the host's
    own BLAS (numpy's, torch's) is not affected.

    Raises:
        InvalidArgumentError: ``n < 0`` or ``n > 4096``.
    """
    _lib.ensure_usable()
    if isinstance(n, bool) or not isinstance(n, int):
        import numpy as np

        if not isinstance(n, np.integer):
            raise TypeError(f"n must be an integer, got {type(n).__name__}")
    n = int(n)
    if not -(2**31) <= n < 2**31:
        raise InvalidArgumentError(1, f"set_num_threads: n = {n} is out of range [0, 4096]")
    _lib.check(_lib.f_set_num_threads(n))


def get_num_threads() -> int:
    """The current worker-thread setting (the number of cores when set to 0)."""
    _lib.ensure_usable()
    return int(_lib.f_get_num_threads())
