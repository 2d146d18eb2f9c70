"""The :class:`Model` class and its :class:`Config`."""

from __future__ import annotations

import ctypes
import dataclasses
import os
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _library as _lib
from . import errors
from .errors import InvalidArgumentError, ShapeError

__all__ = ["Config", "Model", "ensemble_predict_proba"]

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1


def _invalid(msg: str) -> InvalidArgumentError:
    return InvalidArgumentError(errors.ERR_INVALID_ARGUMENT, msg)


def _int32(name: str, value: Any) -> int:
    """``value`` as a Python int that fits a C int32_t (ctypes would silently wrap it)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    v = int(value)
    if not _INT32_MIN <= v <= _INT32_MAX:
        raise _invalid(f"{name} = {v} does not fit a 32-bit signed integer")
    return v


# ---------------------------------------------------------------------------------------------
# Config


@dataclasses.dataclass(frozen=True)
class Config:
    """A model configuration (DESIGN §2). The defaults are the reference model.

    Attributes:
        feature_dim: F, per-frame feature width (1280 for EfficientNet-V2, 2048 for ResNet-50).
        hidden_dim: H, LSTM hidden width.
        num_layers: L, LSTM layers.
        num_heads: attention heads; must divide D = (2 if bidirectional else 1) * hidden_dim.
        num_classes: C, output classes (>= 2).
        dropout: training dropout p, in [0, 1) (inference ignores it).
        bidirectional: whether the LSTM runs both directions.
        classifier_widths: hidden classifier widths (1 to 8 entries).
        class_names: one name per class, or ``None``.
        num_params: the total parameter count. Computed from the sizes when not given; a
            model's :attr:`Model.config` carries the library's own count.
    """

    feature_dim: int = 1280
    hidden_dim: int = 768
    num_layers: int = 4
    num_heads: int = 12
    num_classes: int = 4
    dropout: float = 0.4
    bidirectional: bool = True
    classifier_widths: Tuple[int, ...] = (768, 512, 256)
    class_names: Optional[Tuple[str, ...]] = None
    num_params: Optional[int] = None

    def __post_init__(self) -> None:
        # Normalise sequences to tuples so the dataclass stays hashable and immutable.
        object.__setattr__(self, "classifier_widths", tuple(self.classifier_widths))
        if self.class_names is not None:
            if isinstance(self.class_names, (str, bytes)):
                raise TypeError("class_names must be a sequence of str, not a single string")
            object.__setattr__(self, "class_names", tuple(self.class_names))
        if self.num_params is None:
            object.__setattr__(self, "num_params", self._count_params())

    @property
    def directions(self) -> int:
        """2 for a bidirectional LSTM, else 1."""
        return 2 if self.bidirectional else 1

    @property
    def d(self) -> int:
        """D, the LSTM output width: ``directions * hidden_dim``."""
        return self.directions * int(self.hidden_dim)

    def _count_params(self) -> Optional[int]:
        try:
            H, F, D = int(self.hidden_dim), int(self.feature_dim), self.d
            P = D // 2
            n = H * F + 3 * H  # input_projection Linear + LayerNorm
            for k in range(int(self.num_layers)):
                inp = H if k == 0 else D
                n += self.directions * (4 * H * inp + 4 * H * H + 8 * H)
            n += 3 * D * D + 3 * D + D * D + D + 2 * D  # attention + attention_norm
            n += P * D + 3 * P + P + 1  # attention_pooling
            prev = D
            for w in self.classifier_widths:
                n += int(w) * prev + 3 * int(w)
                prev = int(w)
            n += int(self.num_classes) * prev + int(self.num_classes)
            return n
        except (TypeError, ValueError):
            return None  # not a valid config; the library will say why at create

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Config":
        """A Config from a mapping with the field names above (``input_dim`` is accepted for
        ``feature_dim``, as in the reference trainer's configs). Unknown keys raise TypeError."""
        d = dict(d)
        if "input_dim" in d and "feature_dim" not in d:
            d["feature_dim"] = d.pop("input_dim")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise TypeError(f"unknown config keys {unknown}; known keys: {sorted(names)}")
        return cls(**d)

    def to_dict(self) -> Dict[str, Any]:
        """The config as a plain dict (JSON-serialisable)."""
        d = dataclasses.asdict(self)
        d["classifier_widths"] = list(self.classifier_widths)
        d["class_names"] = list(self.class_names) if self.class_names is not None else None
        return d

    def _to_struct(self) -> "_lib.ModelConfigStruct":
        c = _lib.model_config_default()
        c.feature_dim = _int32("feature_dim", self.feature_dim)
        c.hidden_dim = _int32("hidden_dim", self.hidden_dim)
        c.num_layers = _int32("num_layers", self.num_layers)
        c.num_heads = _int32("num_heads", self.num_heads)
        c.num_classes = _int32("num_classes", self.num_classes)
        try:
            c.dropout = float(self.dropout)
        except (TypeError, ValueError):
            raise TypeError(f"dropout must be a number, got {self.dropout!r}") from None
        if not isinstance(self.bidirectional, (bool, np.bool_, int, np.integer)):
            raise TypeError(f"bidirectional must be a bool, got {self.bidirectional!r}")
        c.bidirectional = 1 if self.bidirectional else 0
        widths = self.classifier_widths
        if not 1 <= len(widths) <= _lib.MAX_CLASSIFIER_WIDTHS:
            raise _invalid(
                f"classifier_widths needs 1..{_lib.MAX_CLASSIFIER_WIDTHS} entries, has {len(widths)}"
            )
        c.num_classifier_widths = len(widths)
        for i in range(_lib.MAX_CLASSIFIER_WIDTHS):
            c.classifier_widths[i] = _int32(f"classifier_widths[{i}]", widths[i]) if i < len(widths) else 0
        return c


def _config_from_struct(c: "_lib.ModelConfigStruct", class_names: Optional[Tuple[str, ...]]) -> Config:
    return Config(
        feature_dim=c.feature_dim,
        hidden_dim=c.hidden_dim,
        num_layers=c.num_layers,
        num_heads=c.num_heads,
        num_classes=c.num_classes,
        dropout=c.dropout,
        bidirectional=bool(c.bidirectional),
        classifier_widths=tuple(c.classifier_widths[: c.num_classifier_widths]),
        class_names=class_names,
        num_params=int(c.num_params),
    )


# ---------------------------------------------------------------------------------------------
# Argument conversion


def _cstring(name: str, value: Optional[str]) -> Optional[bytes]:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    b = value.encode("utf-8")
    if b"\0" in b:
        raise _invalid(f"{name} {value!r} contains a NUL character")
    return b


def _cpath(path: PathLike) -> bytes:
    """A path as the bytes the OS sees (``os.fsencode``), so non-UTF-8 names work."""
    b = os.fsencode(path)
    if b"\0" in b:
        raise _invalid(f"path {path!r} contains a NUL byte")
    return b


def _encode_class_names(names: Optional[Sequence[str]], num_classes: int) -> Optional[Any]:
    """A ``const char *[n]`` ctypes array for temporal_model_set_class_names (None: no names)."""
    if not names:
        return None
    if isinstance(names, (str, bytes)):
        raise TypeError("class_names must be a sequence of str, not a single string")
    enc = []
    for i, n in enumerate(names):
        if not isinstance(n, str):
            raise TypeError(f"class_names[{i}] must be a str, got {type(n).__name__}")
        b = n.encode("utf-8")
        if b"\0" in b:
            raise _invalid(f"class_names[{i}] {n!r} contains a NUL character")
        enc.append(b)
    if len(enc) != num_classes:
        raise _invalid(f"{len(enc)} class names for {num_classes} classes")
    return (ctypes.c_char_p * len(enc))(*enc)


_PADDING = {"masked": _lib.PADDING_MASKED, "reference": _lib.PADDING_REFERENCE}


def _padding_value(padding: Any) -> int:
    try:
        return _PADDING[padding]
    except (KeyError, TypeError):
        raise _invalid(f"padding must be 'masked' or 'reference', got {padding!r}") from None


def _prepare_features(features: Any) -> Tuple[np.ndarray, bool]:
    """(features as a C-contiguous float32 [B, T, F] array, whether one [T, F] clip was given).

    A C-contiguous, aligned, native-endian float32 ndarray is used as it is (no copy); anything
    else numeric is converted with one copy. Non-numeric data and wrong ranks are rejected.
    """
    arr = features if isinstance(features, np.ndarray) else np.asarray(features)
    if arr.dtype.kind not in "fiu":
        raise TypeError(
            f"features must be a real numeric array (float32 preferred, other float and integer "
            f"types are converted), got dtype {arr.dtype}"
        )
    single = arr.ndim == 2
    if single:
        arr = arr[np.newaxis]  # a view: no copy
    elif arr.ndim != 3:
        raise ShapeError(
            errors.ERR_SHAPE,
            f"features must have shape [batch, frames, feature_dim] or [frames, feature_dim], "
            f"got {arr.ndim} dimension(s) {arr.shape}",
        )
    if not (arr.dtype == np.float32 and arr.flags.c_contiguous and arr.flags.aligned):
        # Values beyond float32's range become inf here; the library then reports them as
        # TEMPORAL_ERR_NUMERIC with their index, so numpy's overflow warning adds nothing.
        with np.errstate(over="ignore"):
            arr = np.ascontiguousarray(arr, dtype=np.float32)
    return arr, single


def _prepare_lengths(lengths: Any, batch: int, single: bool) -> Optional[np.ndarray]:
    """Lengths as a C-contiguous int32 [batch] array (None stays None)."""
    if lengths is None:
        return None
    arr = np.asarray(lengths)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"lengths must be an integer array, got dtype {arr.dtype}")
    if single and arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.shape != (batch,):
        raise ShapeError(
            errors.ERR_SHAPE,
            f"lengths must have shape ({batch},) for a batch of {batch} clip(s), got {arr.shape}",
        )
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if lo < _INT32_MIN or hi > _INT32_MAX:
            bad = lo if lo < _INT32_MIN else hi
            i = int(np.argmax(arr == bad))
            raise _invalid(f"lengths[{i}] = {bad} is outside [1, frames] (it does not even fit int32)")
    return np.ascontiguousarray(arr, dtype=np.int32)


# ---------------------------------------------------------------------------------------------
# Model


class Model:
    """A libtemporal model: a handle to weights held by the library.

    Create one with :meth:`load`, :meth:`load_bytes` or :meth:`create`. Use it as a context
    manager, or call :meth:`close`, to release it; the garbage collector releases it otherwise.
    Any number of threads may call :meth:`predict` on one model at once (the GIL is released
    during the computation, and concurrent calls give bitwise the same results as serial ones).
    """

    __slots__ = ("_handle", "_closed", "_config", "_device", "__weakref__")

    def __init__(self, handle: int, device: Optional[str]) -> None:
        """Internal: wrap an issued handle. Use :meth:`load`, :meth:`load_bytes` or :meth:`create`."""
        self._handle = int(handle)
        self._closed = False
        self._device = device if device is not None else "cpu"
        try:
            self._config = self._read_config()
        except BaseException:
            self.close()
            raise

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def load(cls, path: PathLike, device: Optional[str] = "cpu", num_heads: Optional[int] = None) -> "Model":
        """Load a safetensors checkpoint (ours, or a PyTorch state_dict saved with safetensors).

        Args:
            path: file path (str, bytes or os.PathLike; bytes are passed unchanged).
            device: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``. The device is fixed for the model's
                life. Without a usable CUDA driver, cuBLAS or device, CUDA raises DeviceError.
            num_heads: override the number of attention heads (needed only for files without
                metadata, whose default is 12).

        Raises:
            TemporalIOError: missing, unreadable, or a directory. FormatError: not a valid
            checkpoint. NumericError: non-finite weights. DeviceError, InvalidArgumentError.
        """
        _lib.ensure_usable()
        p = _cpath(path)
        opt = cls._load_options(device, num_heads)
        h = _lib.temporal_model(0)
        _lib.check(_lib.f_model_load_ex(p, ctypes.byref(opt), ctypes.byref(h)))
        return cls(h.value, device)

    @classmethod
    def load_bytes(
        cls, data: Union[bytes, bytearray, memoryview, np.ndarray], device: Optional[str] = "cpu",
        num_heads: Optional[int] = None,
    ) -> "Model":
        """Load a checkpoint from memory (the bytes of a safetensors file). No copy is made on
        the Python side; the library parses the bytes during the call and keeps none of them.
        Raises as :meth:`load`, without TemporalIOError."""
        _lib.ensure_usable()
        try:
            buf = np.frombuffer(data, dtype=np.uint8)  # any contiguous buffer, read-only is fine
        except (TypeError, ValueError) as e:
            raise TypeError(f"data must be a contiguous bytes-like object: {e}") from None
        opt = cls._load_options(device, num_heads)
        h = _lib.temporal_model(0)
        ptr = buf.ctypes.data if buf.size else None
        _lib.check(_lib.f_model_load_memory_ex(ptr, buf.size, ctypes.byref(opt), ctypes.byref(h)))
        return cls(h.value, device)

    @classmethod
    def create(cls, config: Union[Config, Mapping[str, Any], None] = None, seed: int = 0) -> "Model":
        """A model with freshly initialised weights (PyTorch's distributions, deterministic in
        ``seed``), on the CPU.

        Args:
            config: a :class:`Config`, or a dict of its fields (missing fields take the
                reference defaults); ``None`` is the reference model.
            seed: a non-negative integer below 2**64.

        Raises:
            InvalidArgumentError: a size rule is broken (including more than 2**33 parameters),
            or class_names not one per class.
        """
        _lib.ensure_usable()
        if config is None:
            config = Config()
        elif isinstance(config, Mapping):
            config = Config.from_dict(config)
        elif not isinstance(config, Config):
            raise TypeError(f"config must be a Config or a dict, got {type(config).__name__}")
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an integer, got {type(seed).__name__}")
        if not 0 <= int(seed) < 2**64:
            raise _invalid(f"seed = {int(seed)} must be in [0, 2**64)")
        cfg = config._to_struct()
        names = _encode_class_names(config.class_names, config.num_classes)
        h = _lib.temporal_model(0)
        _lib.check(_lib.f_model_create(ctypes.byref(cfg), int(seed), ctypes.byref(h)))
        if names is None:
            return cls(h.value, "cpu")
        try:
            _lib.check(_lib.require(_lib.f_model_set_class_names, "temporal_model_set_class_names")(h.value, names, len(names)))
        except BaseException:
            _lib.f_model_free(h.value)
            raise
        return cls(h.value, "cpu")

    @staticmethod
    def _load_options(device: Optional[str], num_heads: Optional[int]) -> "_lib.LoadOptionsStruct":
        opt = _lib.load_options_default()
        opt.device = _cstring("device", device)
        if isinstance(device, str) and device.startswith("cuda"):
            _lib.use_pip_cublas()
        if num_heads is not None:
            n = _int32("num_heads", num_heads)
            if n == 0:
                raise _invalid("num_heads must be positive (None reads it from the file)")
            opt.num_heads = n
        return opt

    # -- queries -----------------------------------------------------------------------------

    def _read_config(self) -> Config:
        info = _lib.model_config_default()
        _lib.check(_lib.f_model_info(self._handle, ctypes.byref(info)))
        names: Optional[Tuple[str, ...]] = None
        if info.num_class_names > 0:
            names = tuple(self._class_name(i) for i in range(info.num_classes))
        return _config_from_struct(info, names)

    def _class_name(self, index: int) -> str:
        n = ctypes.c_size_t(0)
        _lib.check(_lib.f_model_class_name(self._handle, index, None, 0, ctypes.byref(n)))
        buf = ctypes.create_string_buffer(n.value + 1)
        _lib.check(_lib.f_model_class_name(self._handle, index, buf, n.value + 1, ctypes.byref(n)))
        return buf.raw[: n.value].decode("utf-8", errors="replace")

    @property
    def config(self) -> Config:
        """The model's configuration (read from the library when the model was opened)."""
        return self._config

    @property
    def num_classes(self) -> int:
        """C, the number of output classes."""
        return self._config.num_classes

    @property
    def device(self) -> str:
        """The device the model was opened on."""
        return self._device

    @property
    def handle(self) -> int:
        """The raw ``temporal_model`` handle (for debugging and interop with C code)."""
        return self._handle

    def set_class_names(self, names: Optional[Sequence[str]]) -> None:
        """Replace the class names (one per class; ``None`` or empty clears them). They are
        saved with the model. Waits for predicts running on this model.

        Raises:
            InvalidArgumentError: not exactly ``num_classes`` names, or a name longer than 4096
            bytes (UTF-8) or containing NUL. BadHandleError: the model is closed.
        """
        _lib.ensure_usable()
        arr = _encode_class_names(tuple(names) if names else None, self.num_classes)
        if arr is None:
            _lib.check(_lib.require(_lib.f_model_set_class_names, "temporal_model_set_class_names")(self._handle, None, 0))
        else:
            _lib.check(_lib.require(_lib.f_model_set_class_names, "temporal_model_set_class_names")(self._handle, arr, len(arr)))
        self._config = self._read_config()

    _PRECISIONS = {"float32": _lib.PRECISION_FLOAT32, "bf16": _lib.PRECISION_BF16_RECURRENT}

    def set_precision(self, precision: str) -> None:
        """Select the arithmetic of later CPU predicts on this model: ``"float32"`` (the default,
        PyTorch's arithmetic, bitwise as a model never switched) or ``"bf16"`` (opt-in: the LSTM's
        recurrent weights W_hh rounded once to bfloat16, products accumulated in float32; faster
        at batch 1, logits within ~2e-3 of their largest magnitude of float32's). Applies to
        :meth:`predict`, :meth:`predict_proba` (TTA included) and :func:`ensemble_predict_proba`.
        Not saved with the model. Safe while other threads predict on it.

        Raises:
            InvalidArgumentError: not ``"float32"`` or ``"bf16"``. UnsupportedError: ``"bf16"``
            on a CUDA model, or a library without the function. BadHandleError: the model is
            closed.
        """
        _lib.ensure_usable()
        try:
            value = self._PRECISIONS[precision]
        except (KeyError, TypeError):
            raise _invalid(f"precision must be 'float32' or 'bf16', got {precision!r}") from None
        _lib.check(_lib.require(_lib.f_model_set_precision, "temporal_model_set_precision")(self._handle, value))

    @property
    def precision(self) -> str:
        """The precision of this model's predicts: ``"float32"`` or ``"bf16"`` (see
        :meth:`set_precision`; assigning to this property calls it)."""
        _lib.ensure_usable()
        out = ctypes.c_int32(-1)
        _lib.check(_lib.require(_lib.f_model_get_precision, "temporal_model_get_precision")(self._handle, ctypes.byref(out)))
        for name, value in self._PRECISIONS.items():
            if value == out.value:
                return name
        raise errors.InternalError(errors.ERR_INTERNAL, f"unknown precision {out.value}")

    @precision.setter
    def precision(self, precision: str) -> None:
        self.set_precision(precision)

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    # -- compute -----------------------------------------------------------------------------

    def predict(
        self,
        features: Any,
        lengths: Any = None,
        padding: str = "masked",
        return_frame_weights: bool = False,
    ) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]:
        """Classify clips; returns logits.

        Args:
            features: ``[batch, frames, feature_dim]``, or ``[frames, feature_dim]`` for one
                clip. A C-contiguous float32 array is read in place (no copy); other numeric
                arrays are converted to float32 first. Every value must be finite.
            lengths: ``None`` (every clip has all frames) or an integer array ``[batch]``
                (a scalar for one clip) with ``1 <= lengths[b] <= frames``.
            padding: ``"masked"`` (default: clip b's output equals ``features[b, :lengths[b]]``
                run alone) or ``"reference"`` (PyTorch's batch behaviour, where a padded clip's
                output depends on the rest of the batch). Both agree for a single clip or a
                batch of full-length clips.
            return_frame_weights: also return the attention-pooling weight of every frame,
                ``[batch, frames]`` (each clip's weights sum to 1; 0 on padding frames).

        Returns:
            float32 logits ``[batch, num_classes]`` (``[num_classes]`` for a single 2-D clip),
            or ``(logits, frame_weights)`` when ``return_frame_weights``.

        Raises:
            ShapeError: wrong rank, or feature_dim differs from the model's.
            InvalidArgumentError: empty batch or frames, a length outside [1, frames], unknown
            padding. NumericError: a NaN or Inf feature. BadHandleError: the model is closed.
            TypeError: non-numeric features or lengths.
        """
        return self._predict(features, lengths, padding, return_frame_weights, _lib.OUTPUT_LOGITS)

    def predict_proba(
        self,
        features: Any,
        lengths: Any = None,
        padding: str = "masked",
        return_frame_weights: bool = False,
        tta: bool = False,
    ) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]:
        """As :meth:`predict`, but returns class probabilities (softmax of the logits, computed
        by the library); each row sums to 1.

        With ``tta=True``: test-time augmentation (DESIGN §3), the mean of the softmax over the
        modes that apply to each clip of n frames: original, reversed, and for n > 10 speed-up
        (n // 2 frames) and speed-down (n + n // 2 frames). Frame weights are those of the
        original clips. TTA runs on the CPU copy of the weights."""
        return self._predict(features, lengths, padding, return_frame_weights, _lib.OUTPUT_PROBABILITIES, tta)

    def _predict(
        self, features: Any, lengths: Any, padding: str, return_frame_weights: bool, output: int, tta: bool = False
    ):
        _lib.ensure_usable()
        pad = _padding_value(padding)
        x, single = _prepare_features(features)
        B, T, F = x.shape
        lens = _prepare_lengths(lengths, B, single)
        C = self._config.num_classes
        out = np.empty((B, C), dtype=np.float32)
        fw = np.empty((B, T), dtype=np.float32) if return_frame_weights else None
        opt = _lib.predict_options_default()
        opt.padding = pad
        opt.output = output
        opt.tta = _lib.TTA_ALL if tta else _lib.TTA_NONE
        # x, lens, out and fw stay referenced by locals until the call returns.
        _lib.check(
            _lib.f_predict(
                self._handle,
                x.ctypes.data,
                B,
                T,
                F,
                lens.ctypes.data if lens is not None else None,
                ctypes.byref(opt),
                out.ctypes.data,
                out.size,
                fw.ctypes.data if fw is not None else None,
                fw.size if fw is not None else 0,
            )
        )
        if single:
            out = out[0]
            fw = fw[0] if fw is not None else None
        return (out, fw) if fw is not None else out

    # -- persistence and lifetime ------------------------------------------------------------

    def save(self, path: PathLike) -> None:
        """Write the model to ``path`` as a safetensors checkpoint, atomically (temporary file
        in the same directory, then rename). Waits for predicts running on this model.

        Raises:
            TemporalIOError: cannot write there. BadHandleError: the model is closed.
        """
        _lib.ensure_usable()
        _lib.check(_lib.f_model_save(self._handle, _cpath(path)))

    def close(self) -> None:
        """Release the model. Idempotent. Predicts already running in other threads finish
        normally; later calls raise BadHandleError."""
        if self._closed:
            return
        self._closed = True
        if _lib.forked():
            return  # the handle belongs to the parent's library; nothing to do in a child
        _lib.check(_lib.f_model_free(self._handle))

    def __reduce__(self):
        raise TypeError(
            "a temporal.Model cannot be pickled: its handle is valid only in this process. "
            "Save it (model.save(path)) and load it in the other process, or pass the bytes of "
            "the file to Model.load_bytes there."
        )

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not getattr(self, "_closed", True):
                self.close()
        except Exception:
            pass  # never raise from a finaliser (e.g. during interpreter shutdown)

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"handle={self._handle:#x}"
        c = self._config
        return (
            f"<temporal.Model {state} device={self._device!r} F={c.feature_dim} H={c.hidden_dim} "
            f"L={c.num_layers} heads={c.num_heads} C={c.num_classes} params={c.num_params}>"
        )


# ---------------------------------------------------------------------------------------------
# Ensembles


def ensemble_predict_proba(
    models: Sequence[Model],
    features: Any,
    lengths: Any = None,
    padding: str = "masked",
    tta: bool = False,
    return_frame_weights: bool = False,
) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]:
    """Class probabilities of an ensemble: the mean over ``models`` of each model's softmax
    (with ``tta=True``, of each model's TTA mean), computed by the library in one call
    (``temporal_ensemble_predict``). Inputs as :meth:`Model.predict`; every model must take the
    same feature_dim and have the same number of classes. ``return_frame_weights`` also returns
    the models' mean attention-pooling weights ``[batch, frames]``.

    Raises:
        InvalidArgumentError: no model. ShapeError: the models disagree on feature_dim or
        classes, or the features do not fit them. BadHandleError: a model is closed.
        Others as :meth:`Model.predict`.
    """
    _lib.ensure_usable()
    fn = _lib.require(_lib.f_ensemble_predict, "temporal_ensemble_predict")
    models = list(models)
    if not models:
        raise _invalid("ensemble_predict_proba needs at least one model")
    for i, m in enumerate(models):
        if not isinstance(m, Model):
            raise TypeError(f"models[{i}] must be a temporal.Model, got {type(m).__name__}")
    pad = _padding_value(padding)
    x, single = _prepare_features(features)
    B, T, F = x.shape
    lens = _prepare_lengths(lengths, B, single)
    C = models[0].num_classes
    handles = np.array([m.handle for m in models], dtype=np.uint64)
    out = np.empty((B, C), dtype=np.float32)
    fw = np.empty((B, T), dtype=np.float32) if return_frame_weights else None
    opt = _lib.predict_options_default()
    opt.padding = pad
    opt.output = _lib.OUTPUT_PROBABILITIES
    opt.tta = _lib.TTA_ALL if tta else _lib.TTA_NONE
    _lib.check(
        fn(
            handles.ctypes.data,
            len(handles),
            x.ctypes.data,
            B,
            T,
            F,
            lens.ctypes.data if lens is not None else None,
            ctypes.byref(opt),
            out.ctypes.data,
            out.size,
            fw.ctypes.data if fw is not None else None,
            fw.size if fw is not None else 0,
        )
    )
    if single:
        out = out[0]
        fw = fw[0] if fw is not None else None
    return (out, fw) if fw is not None else out
