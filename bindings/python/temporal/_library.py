"""Finding, loading and declaring libtemporal.so.

Everything that touches ``ctypes`` declarations lives here: the library lookup, the ABI check,
``argtypes``/``restype`` for every exported function, the struct mirrors of ``temporal.h``,
the per-thread last-error read, and the fork guard.

Lookup order (first hit wins):

1. ``$TEMPORAL_LIBRARY`` — a path to the ``.so`` (read when this module is imported);
2. a ``libtemporal.so*`` file inside this package directory (a wheel or a copied build);
3. the system loader: ``ctypes.util.find_library("temporal")``, then ``libtemporal.so.1``.

The library is never unloaded (it is a Go c-shared library marked NODELETE; ``dlclose`` is
unsupported).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
from ctypes import (
    POINTER,
    c_char,
    c_char_p,
    c_double,
    c_int,
    c_int32,
    c_int64,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)
from typing import Any, List, Optional, Tuple

from . import errors

#: The ABI this binding was written against (``TEMPORAL_ABI_VERSION`` in include/temporal.h).
ABI_VERSION = 1

# temporal_model is a uint64_t handle; 0 is never valid.
temporal_model = c_uint64
temporal_status = c_int


# ---------------------------------------------------------------------------------------------
# Struct mirrors of include/temporal.h. Field order and types must match the header exactly;
# tests/python/test_structs.py compiles a C program against the header and compares sizeof/offsetof.


MAX_CLASSIFIER_WIDTHS = 8  # TEMPORAL_MAX_CLASSIFIER_WIDTHS

# temporal_padding, temporal_output, temporal_tta
PADDING_MASKED = 0
PADDING_REFERENCE = 1
OUTPUT_LOGITS = 0
OUTPUT_PROBABILITIES = 1
TTA_NONE = 0
TTA_ALL = 1

# temporal_precision
PRECISION_FLOAT32 = 0
PRECISION_BF16_RECURRENT = 1
# temporal_loss, temporal_progress_phase
LOSS_FOCAL = 0
LOSS_CROSS_ENTROPY = 1
PROGRESS_STEP = 0
PROGRESS_EPOCH = 1


class ModelConfigStruct(ctypes.Structure):
    """Mirror of ``temporal_model_config``."""

    _fields_ = [
        ("struct_size", c_uint32),
        ("feature_dim", c_int32),
        ("hidden_dim", c_int32),
        ("num_layers", c_int32),
        ("num_heads", c_int32),
        ("num_classes", c_int32),
        ("dropout", c_double),
        ("bidirectional", c_int32),
        ("num_classifier_widths", c_int32),
        ("classifier_widths", c_int32 * MAX_CLASSIFIER_WIDTHS),
        ("num_params", c_int64),
        ("num_class_names", c_int32),
        ("reserved", c_uint32),
    ]


class PredictOptionsStruct(ctypes.Structure):
    """Mirror of ``temporal_predict_options``."""

    _fields_ = [
        ("struct_size", c_uint32),
        ("padding", c_int32),
        ("output", c_int32),
        ("tta", c_int32),
    ]


class LoadOptionsStruct(ctypes.Structure):
    """Mirror of ``temporal_load_options``."""

    _fields_ = [
        ("struct_size", c_uint32),
        ("num_heads", c_int32),
        ("device", c_char_p),
    ]


class TrainConfigStruct(ctypes.Structure):
    """Mirror of ``temporal_train_config``."""

    _fields_ = [
        ("struct_size", c_uint32),
        ("epochs", c_int32),
        ("batch_size", c_int32),
        ("patience", c_int32),
        ("lr", c_double),
        ("weight_decay", c_double),
        ("seed", c_uint64),
        ("padding", c_int32),
        ("loss", c_int32),
        ("gamma", c_double),
        ("label_smoothing", c_double),
        ("dropout", c_int32),
        ("augment", c_int32),
        ("checkpoint_every_steps", c_int64),
        ("resume", c_int32),
        ("class_weights", c_int32),
        ("clip_norm", c_double),
    ]


class TrainProgressStruct(ctypes.Structure):
    """Mirror of ``temporal_train_progress``."""

    _fields_ = [
        ("struct_size", c_uint32),
        ("phase", c_int32),
        ("epoch", c_int32),
        ("epochs", c_int32),
        ("step", c_int64),
        ("step_in_epoch", c_int32),
        ("steps_per_epoch", c_int32),
        ("loss", c_double),
        ("lr", c_double),
        ("val_loss", c_double),
        ("val_accuracy", c_double),
        ("val_macro_f1", c_double),
        ("best_val_accuracy", c_double),
        ("best_epoch", c_int32),
        ("reserved", c_int32),
        ("elapsed_seconds", c_double),
        ("eta_seconds", c_double),
    ]


REPORT_PATH_CAP = 4096


class TrainReportStruct(ctypes.Structure):
    """Mirror of ``temporal_train_report``."""

    _fields_ = [
        ("struct_size", c_uint32),
        ("epochs_run", c_int32),
        ("best_epoch", c_int32),
        ("stopped_early", c_int32),
        ("final_step", c_int64),
        ("best_val_accuracy", c_double),
        ("final_train_loss", c_double),
        ("best_model_path", c_char * REPORT_PATH_CAP),
    ]


def train_config_default() -> TrainConfigStruct:
    """``temporal_train_config_default()`` (the reference recipe)."""
    return TrainConfigStruct(
        ctypes.sizeof(TrainConfigStruct), 150, 48, 25, 1e-3, 5e-4, 42, PADDING_MASKED, LOSS_FOCAL,
        2.0, 0.1, 1, 1, 0, 0, 1, 1.0,
    )


def train_report_default() -> TrainReportStruct:
    """``temporal_train_report_default()``."""
    r = TrainReportStruct()
    r.struct_size = ctypes.sizeof(TrainReportStruct)
    r.final_train_loss = -1.0
    return r


def model_config_default() -> ModelConfigStruct:
    """``temporal_model_config_default()`` (the header's static inline initialiser)."""
    c = ModelConfigStruct()
    c.struct_size = ctypes.sizeof(ModelConfigStruct)
    c.feature_dim, c.hidden_dim, c.num_layers, c.num_heads, c.num_classes = 1280, 768, 4, 12, 4
    c.dropout = 0.4
    c.bidirectional = 1
    c.num_classifier_widths = 3
    c.classifier_widths[0], c.classifier_widths[1], c.classifier_widths[2] = 768, 512, 256
    return c


def predict_options_default() -> PredictOptionsStruct:
    """``temporal_predict_options_default()``."""
    return PredictOptionsStruct(ctypes.sizeof(PredictOptionsStruct), PADDING_MASKED, OUTPUT_LOGITS, TTA_NONE)


def load_options_default() -> LoadOptionsStruct:
    """``temporal_load_options_default()``."""
    return LoadOptionsStruct(ctypes.sizeof(LoadOptionsStruct), 0, None)


# ---------------------------------------------------------------------------------------------
# Lookup and load.


class LibraryNotFound(ImportError):
    """libtemporal.so could not be found or loaded."""


def _candidates() -> List[Tuple[str, str]]:
    """(how it was found, path or soname) in lookup order."""
    out: List[Tuple[str, str]] = []
    env = os.environ.get("TEMPORAL_LIBRARY")
    if env:
        # An explicit request is not silently bypassed: if it fails, we stop there.
        return [("TEMPORAL_LIBRARY", env)]
    here = os.path.dirname(os.path.abspath(__file__))
    for p in sorted(glob.glob(os.path.join(here, "libtemporal.so*"))):
        out.append(("package directory", p))
    found = ctypes.util.find_library("temporal")
    if found:
        out.append(("ctypes.util.find_library", found))
    out.append(("system loader", "libtemporal.so.1"))
    return out


def _load() -> Tuple[ctypes.CDLL, str]:
    tried: List[str] = []
    for how, name in _candidates():
        try:
            # ctypes.CDLL releases the GIL around every call (unlike PyDLL), which is what lets
            # Python threads predict concurrently. RTLD_LOCAL keeps the Go runtime's symbols
            # private (the version script already exports only temporal_*).
            lib = ctypes.CDLL(name, mode=os.RTLD_NOW | os.RTLD_LOCAL)
        except OSError as e:
            tried.append(f"  {how}: {name}: {e}")
            if how == "TEMPORAL_LIBRARY":
                break
            continue
        return lib, name
    hint = ""
    if any("static TLS" in t for t in tried):
        # The .so is DF_STATIC_TLS (Go c-shared); glibc must fit its thread-local block into
        # the small surplus left at startup. A correct build has 8 bytes of TLS (check with
        # `readelf -lW libtemporal.so | grep TLS`); a larger one is a build bug.
        hint = (
            "\nThe library's thread-local storage does not fit glibc's static TLS surplus: the "
            "build is broken (a correct build has 8 bytes of TLS; check `readelf -lW` on it). "
            "Stopgap: start Python with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384."
        )
    raise LibraryNotFound(
        "libtemporal could not be loaded. Tried:\n"
        + "\n".join(tried)
        + hint
        + "\nSet TEMPORAL_LIBRARY to the path of libtemporal.so (build it with "
        "scripts/build-lib.sh OUTDIR), copy it into the temporal package directory, or install "
        "it where the system loader finds it."
    )


lib, library_path = _load()


# ---------------------------------------------------------------------------------------------
# Declarations: argtypes and restype for EVERY function we call. Handles are 64-bit values
# from a sparse high range, so a missing argtypes (ctypes would pass a C int) fails at once.


def _declare(name: str, restype: Any, argtypes: List[Any], required: bool = True) -> Optional[Any]:
    try:
        fn = getattr(lib, name)
    except AttributeError:
        if required:
            raise LibraryNotFound(
                f"{library_path} does not export {name}; it is not a libtemporal "
                f"built for ABI {ABI_VERSION}"
            ) from None
        return None
    fn.restype = restype
    fn.argtypes = argtypes
    return fn


f_version = _declare("temporal_version", c_char_p, [])
f_abi_version = _declare("temporal_abi_version", c_int, [])
f_last_error = _declare("temporal_last_error", c_size_t, [POINTER(c_char), c_size_t])

_abi = f_abi_version()
if _abi != ABI_VERSION:
    raise ImportError(
        f"libtemporal ABI mismatch: the library at {library_path} reports ABI {_abi}, this "
        f"Python binding was written for ABI {ABI_VERSION}. Install a matching libtemporal "
        f"(the soname carries the ABI: libtemporal.so.{ABI_VERSION}) or a matching binding."
    )


# ---------------------------------------------------------------------------------------------
# Errors.


def last_error() -> str:
    """The calling thread's last error message (``temporal_last_error``), decoded."""
    n = f_last_error(None, 0)
    if n == 0:
        return ""
    buf = ctypes.create_string_buffer(n + 1)
    f_last_error(buf, n + 1)
    return buf.value.decode("utf-8", errors="replace")


def check(status: int) -> None:
    """Raise the TemporalError subclass for ``status`` unless it is TEMPORAL_OK.

    The message is read right away on the same thread: the library keeps one last error per OS
    thread, and ctypes runs the call and this read on the calling thread.
    """
    if status != errors.OK:
        raise errors.make_error(status, last_error())


# ---------------------------------------------------------------------------------------------
# Fork guard. The Go runtime's threads do not exist in a forked child, so any call into the
# library there can deadlock or crash. After fork, every entry point raises instead.

_forked = False


def _after_fork_in_child() -> None:
    global _forked
    _forked = True


os.register_at_fork(after_in_child=_after_fork_in_child)


def forked() -> bool:
    """True in a child created by ``os.fork()`` after the library was loaded."""
    return _forked


def ensure_usable() -> None:
    """Raise ForkedProcessError in a forked child; call before every library call."""
    if _forked:
        raise errors.ForkedProcessError(
            errors.ERR_UNSUPPORTED,
            "libtemporal was loaded in the parent before os.fork(); it cannot be used in the "
            "forked child (the Go runtime's threads are not copied by fork). Use "
            "multiprocessing with the 'spawn' or 'forkserver' start method "
            "(multiprocessing.get_context('spawn')), or import temporal only in the workers.",
        )


# ---------------------------------------------------------------------------------------------
# The rest of the API. Pointer arguments that receive numpy buffers are c_void_p (we pass
# ``arr.ctypes.data``, an int address, so no ctypes array object and no copy is made).

f_status_string = _declare("temporal_status_string", c_char_p, [temporal_status])
f_set_num_threads = _declare("temporal_set_num_threads", temporal_status, [c_int])
f_get_num_threads = _declare("temporal_get_num_threads", c_int, [])
f_cuda_available = _declare("temporal_cuda_available", c_int, [])
f_cuda_device_count = _declare("temporal_cuda_device_count", c_int, [])
f_cuda_device_name = _declare(
    "temporal_cuda_device_name",
    temporal_status,
    [c_int, POINTER(c_char), c_size_t, POINTER(c_size_t)],
    required=False,
)
f_cuda_memory = _declare(
    "temporal_cuda_memory", temporal_status, [c_int, POINTER(c_uint64), POINTER(c_uint64)], required=False
)
f_cuda_set_cublas_path = _declare("temporal_cuda_set_cublas_path", temporal_status, [c_char_p], required=False)
f_model_create = _declare(
    "temporal_model_create",
    temporal_status,
    [POINTER(ModelConfigStruct), c_uint64, POINTER(temporal_model)],
)
f_model_load = _declare(
    "temporal_model_load", temporal_status, [c_char_p, c_char_p, POINTER(temporal_model)]
)
f_model_load_ex = _declare(
    "temporal_model_load_ex",
    temporal_status,
    [c_char_p, POINTER(LoadOptionsStruct), POINTER(temporal_model)],
)
f_model_load_memory = _declare(
    "temporal_model_load_memory",
    temporal_status,
    [c_void_p, c_size_t, c_char_p, POINTER(temporal_model)],
)
f_model_load_memory_ex = _declare(
    "temporal_model_load_memory_ex",
    temporal_status,
    [c_void_p, c_size_t, POINTER(LoadOptionsStruct), POINTER(temporal_model)],
)
f_model_save = _declare("temporal_model_save", temporal_status, [temporal_model, c_char_p])
f_model_free = _declare("temporal_model_free", temporal_status, [temporal_model])
f_model_info = _declare(
    "temporal_model_info", temporal_status, [temporal_model, POINTER(ModelConfigStruct)]
)
f_model_class_name = _declare(
    "temporal_model_class_name",
    temporal_status,
    [temporal_model, c_int32, POINTER(c_char), c_size_t, POINTER(c_size_t)],
)
# Added to ABI 1 after its first header; optional so that an early ABI-1 build still imports.
f_model_set_class_names = _declare(
    "temporal_model_set_class_names",
    temporal_status,
    [temporal_model, POINTER(c_char_p), c_int32],
    required=False,
)
# Added to ABI 1 with the opt-in bf16 mode; optional so that older ABI-1 builds still import.
f_model_set_precision = _declare(
    "temporal_model_set_precision", temporal_status, [temporal_model, c_int32], required=False
)
f_model_get_precision = _declare(
    "temporal_model_get_precision", temporal_status, [temporal_model, POINTER(c_int32)], required=False
)
f_predict = _declare(
    "temporal_predict",
    temporal_status,
    [
        temporal_model,  # m
        c_void_p,  # const float *features
        c_int64,  # batch
        c_int64,  # frames
        c_int64,  # feature_dim
        c_void_p,  # const int32_t *lengths (None: all full)
        POINTER(PredictOptionsStruct),  # opt
        c_void_p,  # float *out
        c_size_t,  # out_len
        c_void_p,  # float *frame_weights (None)
        c_size_t,  # frame_weights_len
    ],
)
# Training, datasets, ensembles (appended to ABI 1; optional so that an older ABI-1 build still
# imports, and the functions that need them raise UnsupportedError there).
temporal_trainer = c_uint64
f_ensemble_predict = _declare(
    "temporal_ensemble_predict",
    temporal_status,
    [
        c_void_p,  # const temporal_model *models
        c_size_t,  # n_models
        c_void_p,  # const float *features
        c_int64,
        c_int64,
        c_int64,
        c_void_p,  # const int32_t *lengths
        POINTER(PredictOptionsStruct),
        c_void_p,  # float *probs_out
        c_size_t,
        c_void_p,  # float *frame_weights
        c_size_t,
    ],
    required=False,
)
f_hdf5_available = _declare("temporal_hdf5_available", c_int, [], required=False)
# int (*temporal_progress_fn)(const temporal_train_progress *p, void *user)
PROGRESS_FN = ctypes.CFUNCTYPE(c_int, POINTER(TrainProgressStruct), c_void_p)
f_train = _declare(
    "temporal_train",
    temporal_status,
    [
        c_char_p,  # train_h5
        c_char_p,  # val_h5 (None)
        c_char_p,  # out_dir
        POINTER(ModelConfigStruct),  # model_cfg (None)
        POINTER(TrainConfigStruct),  # cfg
        PROGRESS_FN,  # cb (None)
        c_void_p,  # user
        POINTER(TrainReportStruct),  # report_out
    ],
    required=False,
)
f_dataset_write = _declare(
    "temporal_dataset_write",
    temporal_status,
    [
        c_char_p,  # path
        c_void_p,  # const float *features
        c_int64,  # n
        c_int64,  # max_frames
        c_int64,  # feature_dim
        c_void_p,  # const int32_t *lengths
        c_void_p,  # const int64_t *labels
        POINTER(c_char_p),  # class_names (None)
        c_int32,  # num_classes
    ],
    required=False,
)
f_trainer_create = _declare(
    "temporal_trainer_create",
    temporal_status,
    [temporal_model, POINTER(TrainConfigStruct), POINTER(temporal_trainer)],
    required=False,
)
f_trainer_step = _declare(
    "temporal_trainer_step",
    temporal_status,
    [temporal_trainer, c_void_p, c_int64, c_int64, c_int64, c_void_p, c_void_p, POINTER(ctypes.c_float)],
    required=False,
)
f_trainer_lr = _declare(
    "temporal_trainer_lr", temporal_status, [temporal_trainer, POINTER(c_double)], required=False
)
f_trainer_free = _declare("temporal_trainer_free", temporal_status, [temporal_trainer], required=False)
f_trainer_set_class_weights = _declare(
    "temporal_trainer_set_class_weights", temporal_status, [temporal_trainer, c_void_p, c_int32], required=False
)
f_trainer_save_state = _declare(
    "temporal_trainer_save_state", temporal_status, [temporal_trainer, c_char_p], required=False
)
f_trainer_load_state = _declare(
    "temporal_trainer_load_state", temporal_status, [temporal_trainer, c_char_p], required=False
)

# void (*temporal_log_fn)(int level, const char *message, void *user)
LOG_FN = ctypes.CFUNCTYPE(None, c_int, c_char_p, c_void_p)
f_set_log_callback = _declare("temporal_set_log_callback", temporal_status, [LOG_FN, c_int, c_void_p])


def require(fn: Optional[Any], name: str) -> Any:
    """``fn``, or UnsupportedError when the loaded library does not export ``name``."""
    if fn is None:
        raise errors.UnsupportedError(
            errors.ERR_UNSUPPORTED, f"{name} is not exported by {library_path}: update libtemporal"
        )
    return fn


# -- cuBLAS from a pip wheel ------------------------------------------------------------------

_pip_cublas_done = False


def find_pip_cublas(dirs: Optional[List[str]] = None) -> Optional[str]:
    """The newest ``nvidia/cublas/lib/libcublas.so.N`` under the given directories (default:
    ``sys.path``, which holds site-packages), as pip's ``nvidia-cublas-cu*`` wheels install it."""
    import glob
    import re
    import sys

    best: Optional[Tuple[int, str]] = None
    for d in dirs if dirs is not None else list(sys.path):
        for f in glob.glob(os.path.join(d or ".", "nvidia", "cublas", "lib", "libcublas.so.*")):
            m = re.fullmatch(r"libcublas\.so\.(\d+)", os.path.basename(f))
            if m and (best is None or int(m.group(1)) > best[0]):
                best = (int(m.group(1)), f)
    return best[1] if best else None


def use_pip_cublas() -> None:
    """Before the first CUDA model: point the library at a pip-installed cuBLAS, unless the
    caller chose one with ``TEMPORAL_CUBLAS`` (DESIGN §6). Once per process."""
    global _pip_cublas_done
    if _pip_cublas_done:
        return
    _pip_cublas_done = True
    path = find_pip_cublas()
    if path and not os.environ.get("TEMPORAL_CUBLAS"):
        # INVALID_ARGUMENT when cuBLAS was already loaded (e.g. by set_cublas_path): keep it.
        f_cuda_set_cublas_path(os.fsencode(path))
