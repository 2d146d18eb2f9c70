"""Training: :class:`Trainer` (optimizer steps for custom loops), :func:`train` (the whole
reference recipe on HDF5 datasets, with a progress callback), :func:`write_dataset` (the HDF5
layout :func:`train` reads) and :func:`hdf5_available`.

Training options (keyword arguments of :class:`Trainer` and :func:`train`; the defaults are the
reference recipe, DESIGN §3):

=========================  =========  =========================================================
``epochs``                 150        maximum epochs (train only)
``batch_size``             48         clips per step (train only)
``patience``               25         early stopping on validation accuracy; 0: off (train only)
``lr``                     1e-3       AdamW learning rate (>= 1e-6)
``weight_decay``           5e-4       AdamW weight decay
``seed``                   42         initialisation, sampling, augmentation, dropout
``padding``                "masked"   or "reference"
``loss``                   "focal"    or "cross_entropy"
``gamma``                  2.0        focal exponent
``label_smoothing``        0.1        in [0, 1)
``dropout``                True       training-mode dropout (the model's p)
``augment``                True       the three augmentations (train only)
``checkpoint_every_steps`` 0          extra mid-epoch checkpoints (train only)
``resume``                 False      continue from out_dir's checkpoint (train only)
``class_weights``          True       α from the training labels (train only; a Trainer uses 1)
``clip_norm``              1.0        gradient clipping; <= 0: none
=========================  =========  =========================================================
"""

from __future__ import annotations

import ctypes
import dataclasses
import os
import signal
import threading
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

from . import _library as _lib
from . import errors
from .errors import InvalidArgumentError, ShapeError
from .model import (
    Config,
    Model,
    PathLike,
    _cpath,
    _encode_class_names,
    _prepare_features,
    _prepare_lengths,
)

__all__ = ["Trainer", "train", "TrainReport", "Progress", "write_dataset", "hdf5_available", "TRAIN_DEFAULTS"]

#: The reference recipe's training options (keyword arguments of Trainer and train).
TRAIN_DEFAULTS = {
    "epochs": 150,
    "batch_size": 48,
    "patience": 25,
    "lr": 1e-3,
    "weight_decay": 5e-4,
    "seed": 42,
    "padding": "masked",
    "loss": "focal",
    "gamma": 2.0,
    "label_smoothing": 0.1,
    "dropout": True,
    "augment": True,
    "checkpoint_every_steps": 0,
    "resume": False,
    "class_weights": True,
    "clip_norm": 1.0,
}

_LOSSES = {"focal": _lib.LOSS_FOCAL, "cross_entropy": _lib.LOSS_CROSS_ENTROPY}
_PADDINGS = {"masked": _lib.PADDING_MASKED, "reference": _lib.PADDING_REFERENCE}


def _invalid(msg: str) -> InvalidArgumentError:
    return InvalidArgumentError(errors.ERR_INVALID_ARGUMENT, msg)


def _int(name: str, v: Any, lo: int, hi: int) -> int:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(v).__name__}")
    v = int(v)
    if not lo <= v <= hi:
        raise _invalid(f"{name} = {v} out of range [{lo}, {hi}]")
    return v


def _float(name: str, v: Any) -> float:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(v).__name__}")
    return float(v)


def _bool(name: str, v: Any) -> int:
    if not isinstance(v, (bool, np.bool_, int, np.integer)) or int(v) not in (0, 1):
        raise TypeError(f"{name} must be a bool, got {v!r}")
    return 1 if v else 0


def _train_config(options: Mapping[str, Any]) -> "_lib.TrainConfigStruct":
    """A temporal_train_config from keyword options (unknown names raise TypeError). Ranges are
    checked by the library, which names the field."""
    unknown = sorted(set(options) - set(TRAIN_DEFAULTS))
    if unknown:
        raise TypeError(f"unknown training options {unknown}; known: {sorted(TRAIN_DEFAULTS)}")
    o = dict(TRAIN_DEFAULTS, **options)
    c = _lib.train_config_default()
    i32 = (-(2**31), 2**31 - 1)
    c.epochs = _int("epochs", o["epochs"], *i32)
    c.batch_size = _int("batch_size", o["batch_size"], *i32)
    c.patience = _int("patience", o["patience"], *i32)
    c.lr = _float("lr", o["lr"])
    c.weight_decay = _float("weight_decay", o["weight_decay"])
    c.seed = _int("seed", o["seed"], 0, 2**64 - 1)
    try:
        c.padding = _PADDINGS[o["padding"]]
    except (KeyError, TypeError):
        raise _invalid(f"padding must be 'masked' or 'reference', got {o['padding']!r}") from None
    try:
        c.loss = _LOSSES[o["loss"]]
    except (KeyError, TypeError):
        raise _invalid(f"loss must be 'focal' or 'cross_entropy', got {o['loss']!r}") from None
    c.gamma = _float("gamma", o["gamma"])
    c.label_smoothing = _float("label_smoothing", o["label_smoothing"])
    c.dropout = _bool("dropout", o["dropout"])
    c.augment = _bool("augment", o["augment"])
    c.checkpoint_every_steps = _int("checkpoint_every_steps", o["checkpoint_every_steps"], -(2**63), 2**63 - 1)
    c.resume = _bool("resume", o["resume"])
    c.class_weights = _bool("class_weights", o["class_weights"])
    c.clip_norm = _float("clip_norm", o["clip_norm"])
    return c


def hdf5_available() -> bool:
    """Whether the loaded library reads and writes HDF5 datasets (False for a nohdf5 build,
    where :func:`train` and :func:`write_dataset` raise UnsupportedError)."""
    _lib.ensure_usable()
    fn = _lib.f_hdf5_available
    return bool(fn()) if fn is not None else False


# ---------------------------------------------------------------------------------------------
# Trainer


def _prepare_labels(labels: Any, batch: int) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"labels must be an integer array, got dtype {arr.dtype}")
    if arr.shape != (batch,):
        raise ShapeError(errors.ERR_SHAPE, f"labels must have shape ({batch},), got {arr.shape}")
    if arr.dtype.kind == "u" and arr.size and int(arr.max()) >= 2**63:
        raise _invalid(f"labels hold {int(arr.max())}, out of range")
    return np.ascontiguousarray(arr, dtype=np.int64)


class Trainer:
    """Optimizer steps of the reference recipe on a model, for custom training loops: loss
    (focal or cross-entropy; class weights via :meth:`set_class_weights`), gradient clipping,
    AdamW and the per-step cosine schedule (DESIGN §3); :meth:`save_state` / :meth:`load_state`
    checkpoint the optimizer for resuming. Options as :func:`train` (the train-only ones are
    ignored)::

        with temporal.Trainer(model, lr=1e-3, dropout=False) as tr:
            for x, y, n in batches:
                loss = tr.step(x, y, lengths=n)

    A step takes the model's lock exclusively: predicts on the same model (other threads) wait
    for it. The trainer keeps the model's weights alive even if the model is closed.
    """

    __slots__ = ("_handle", "_closed", "_model", "__weakref__")

    def __init__(self, model: Model, **config: Any) -> None:
        self._closed = True
        self._handle = 0
        _lib.ensure_usable()
        if not isinstance(model, Model):
            raise TypeError(f"model must be a temporal.Model, got {type(model).__name__}")
        fn = _lib.require(_lib.f_trainer_create, "temporal_trainer_create")
        cfg = _train_config(config)
        h = _lib.temporal_trainer(0)
        _lib.check(fn(model.handle, ctypes.byref(cfg), ctypes.byref(h)))
        self._handle = h.value
        self._closed = False
        self._model = model

    @property
    def model(self) -> Model:
        return self._model

    @property
    def lr(self) -> float:
        """The learning rate the next step will use."""
        _lib.ensure_usable()
        v = ctypes.c_double(0)
        _lib.check(_lib.f_trainer_lr(self._handle, ctypes.byref(v)))
        return v.value

    def step(self, features: Any, labels: Any, lengths: Any = None) -> float:
        """One optimizer step on a batch; returns the batch loss (before the update).

        Args:
            features: ``[batch, frames, feature_dim]`` (as :meth:`Model.predict`).
            labels: integer ``[batch]`` in ``[0, num_classes)``.
            lengths: ``None`` or integer ``[batch]`` in ``[1, frames]``.

        Raises:
            InvalidArgumentError: a label or length out of range. ShapeError: wrong shapes.
            NumericError: NaN/Inf features, or a non-finite loss/gradient (no update applied).
            BadHandleError: the trainer is closed.
        """
        _lib.ensure_usable()
        x, single = _prepare_features(features)
        B, T, F = x.shape
        lens = _prepare_lengths(lengths, B, single)
        labs = _prepare_labels(np.reshape(labels, (1,)) if single and np.ndim(labels) == 0 else labels, B)
        loss = ctypes.c_float(0)
        _lib.check(
            _lib.f_trainer_step(
                self._handle,
                x.ctypes.data,
                B,
                T,
                F,
                lens.ctypes.data if lens is not None else None,
                labs.ctypes.data,
                ctypes.byref(loss),
            )
        )
        return float(loss.value)

    def set_class_weights(self, weights: Optional[Sequence[float]]) -> None:
        """Class weights α of the loss for later steps (one per class, finite, ≥ 0); ``None``
        removes them (every class weighs 1). Not part of :meth:`save_state`.

        Raises:
            InvalidArgumentError: wrong count, or a weight NaN, infinite or negative.
            BadHandleError: the trainer is closed.
        """
        _lib.ensure_usable()
        fn = _lib.require(_lib.f_trainer_set_class_weights, "temporal_trainer_set_class_weights")
        if weights is None:
            _lib.check(fn(self._handle, None, 0))
            return
        w = np.ascontiguousarray(np.asarray(weights, dtype=np.float64).reshape(-1).astype(np.float32))
        if w.size == 0 or w.size > 2**31 - 1:
            raise InvalidArgumentError(errors.ERR_INVALID_ARGUMENT, f"{w.size} class weights")
        _lib.check(fn(self._handle, w.ctypes.data, int(w.size)))

    def save_state(self, path: PathLike) -> None:
        """Write the optimizer state (AdamW moments and step, schedule position, dropout stream)
        to ``path``, atomically. Save the model at the same point (:meth:`Model.save`): a new
        trainer on the reloaded model that calls :meth:`load_state` continues bitwise as this
        one would. The trainer's options are not saved.

        Raises:
            TemporalIOError: ``path`` cannot be written. BadHandleError: the trainer is closed.
        """
        _lib.ensure_usable()
        fn = _lib.require(_lib.f_trainer_save_state, "temporal_trainer_save_state")
        _lib.check(fn(self._handle, _cpath(path)))

    def load_state(self, path: PathLike) -> None:
        """Restore what :meth:`save_state` wrote (for this model's parameters; on any error the
        trainer is unchanged).

        Raises:
            TemporalIOError: ``path`` cannot be read. FormatError: not a trainer state file, or
            another model's. BadHandleError: the trainer is closed.
        """
        _lib.ensure_usable()
        fn = _lib.require(_lib.f_trainer_load_state, "temporal_trainer_load_state")
        _lib.check(fn(self._handle, _cpath(path)))

    def close(self) -> None:
        """Release the trainer. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if _lib.forked():
            return
        _lib.check(_lib.f_trainer_free(self._handle))

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> "Trainer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not getattr(self, "_closed", True):
                self.close()
        except Exception:
            pass

    def __reduce__(self):
        raise TypeError("a temporal.Trainer cannot be pickled: its handle is valid only in this process")

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"handle={self._handle:#x}"
        return f"<temporal.Trainer {state}>"


# ---------------------------------------------------------------------------------------------
# train


def _opt_metric(v: float) -> Optional[float]:
    return None if v < 0 else float(v)


@dataclasses.dataclass(frozen=True)
class Progress:
    """What a :func:`train` progress callback receives, after every step (``phase == "step"``)
    and every epoch (``"epoch"``: validation done, checkpoint committed). Validation fields are
    those of the last finished epoch; ``None`` before the first one or without a validation set."""

    phase: str
    epoch: int  # 1-based
    epochs: int
    step: int  # optimizer steps done in the whole run
    step_in_epoch: int
    steps_per_epoch: int
    loss: float  # step: batch loss; epoch: mean batch loss
    lr: float
    val_loss: Optional[float]
    val_accuracy: Optional[float]
    val_macro_f1: Optional[float]
    best_val_accuracy: float
    best_epoch: int
    elapsed_seconds: float
    eta_seconds: float

    @classmethod
    def _from_struct(cls, p: "_lib.TrainProgressStruct") -> "Progress":
        return cls(
            phase="epoch" if p.phase == _lib.PROGRESS_EPOCH else "step",
            epoch=p.epoch,
            epochs=p.epochs,
            step=p.step,
            step_in_epoch=p.step_in_epoch,
            steps_per_epoch=p.steps_per_epoch,
            loss=p.loss,
            lr=p.lr,
            val_loss=_opt_metric(p.val_loss),
            val_accuracy=_opt_metric(p.val_accuracy),
            val_macro_f1=_opt_metric(p.val_macro_f1),
            best_val_accuracy=p.best_val_accuracy,
            best_epoch=p.best_epoch,
            elapsed_seconds=p.elapsed_seconds,
            eta_seconds=p.eta_seconds,
        )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class TrainReport:
    """The result of :func:`train` (also attached to CancelledError as ``.report``)."""

    epochs_run: int
    best_epoch: int
    best_val_accuracy: float
    stopped_early: bool
    final_step: int
    final_train_loss: Optional[float]
    best_model_path: Optional[str]
    out_dir: str

    @classmethod
    def _from_struct(cls, r: "_lib.TrainReportStruct", out_dir: str) -> "TrainReport":
        path = r.best_model_path
        return cls(
            epochs_run=r.epochs_run,
            best_epoch=r.best_epoch,
            best_val_accuracy=r.best_val_accuracy,
            stopped_early=bool(r.stopped_early),
            final_step=r.final_step,
            final_train_loss=None if r.final_train_loss < 0 else r.final_train_loss,
            best_model_path=os.fsdecode(path) if path else None,
            out_dir=out_dir,
        )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _model_config_struct(model_config: Union[Config, Mapping[str, Any], None]):
    if model_config is None:
        return None
    if isinstance(model_config, Mapping):
        d = dict(model_config)
        d.setdefault("feature_dim", 0)  # 0: from the training set
        d.setdefault("num_classes", 0)
        model_config = Config.from_dict(d)
    elif not isinstance(model_config, Config):
        raise TypeError(f"model_config must be a Config, a dict or None, got {type(model_config).__name__}")
    if model_config.class_names is not None:
        raise _invalid("model_config.class_names: class names come from the training set")
    return model_config._to_struct()


def train(
    train_path: PathLike,
    val_path: Optional[PathLike],
    out_dir: PathLike,
    model_config: Union[Config, Mapping[str, Any], None] = None,
    progress: Optional[Callable[[Progress], Any]] = None,
    **config: Any,
) -> TrainReport:
    """Train a model on HDF5 datasets (the reference layout; see :func:`write_dataset`) with
    the reference recipe, writing ``best.safetensors``, ``last-<step>.safetensors`` (+ its
    ``.train.safetensors`` state) and ``checkpoint.json`` into ``out_dir``.

    Args:
        train_path, val_path: datasets (``val_path=None``: no validation, no early stopping).
        out_dir: output directory (created if missing).
        model_config: a :class:`Config` or a dict of its fields (in a dict, a missing
            ``feature_dim``/``num_classes`` is taken from the training set; in a Config, 0
            means that); ``None``: the reference model sized to the data.
        progress: ``None`` or a callable receiving a :class:`Progress` after every step and
            epoch, on the calling thread. Returning a true value cancels (CancelledError). An
            exception inside it cancels too and is re-raised from ``train`` after the library
            returned. Either way ``out_dir`` keeps the last committed checkpoint. Ctrl-C
            (KeyboardInterrupt) during training cancels the same way, with or without
            ``progress``.
        **config: training options (module docstring; the defaults are the reference recipe).

    Returns:
        a :class:`TrainReport`.

    Raises:
        CancelledError (with ``.report``), UnsupportedError (nohdf5 build), TemporalIOError,
        FormatError, ShapeError, NumericError (diverged), InvalidArgumentError, TypeError.
    """
    _lib.ensure_usable()
    fn = _lib.require(_lib.f_train, "temporal_train")
    tp = _cpath(train_path)
    vp = _cpath(val_path) if val_path is not None else None
    od = _cpath(out_dir)
    mc = _model_config_struct(model_config)
    cfg = _train_config(config)
    report = _lib.train_report_default()
    if progress is not None and not callable(progress):
        raise TypeError("progress must be callable or None")

    failure: list = []

    interrupted: list = []

    def trampoline(p_ptr, _user):  # runs on this thread, inside the library call
        if failure or interrupted:
            return 1
        try:
            if progress is None:
                return 0
            return 1 if progress(Progress._from_struct(p_ptr.contents)) else 0
        except BaseException as e:  # noqa: B902 - re-raised after the call, KeyboardInterrupt too
            failure.append(e)
            return 1

    # The ctypes callback object must stay alive for the whole call: it is a local here. It is
    # installed even without ``progress``: Python runs signal handlers only when it runs Python
    # code, so this is what lets Ctrl-C cancel between steps instead of at the end of the run.
    c_cb = _lib.PROGRESS_FN(trampoline)
    # Ctrl-C: Python's default SIGINT handler raises KeyboardInterrupt wherever the interpreter
    # happens to be, which may be outside the trampoline's try (ctypes would then swallow it).
    # For the call, a handler that only records the signal; the trampoline cancels on it and
    # KeyboardInterrupt is raised after the library returned.
    old_handler = None
    if threading.current_thread() is threading.main_thread():
        try:
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                old_handler = signal.signal(signal.SIGINT, lambda _s, _f: interrupted.append(True))
        except (ValueError, OSError):
            old_handler = None
    try:
        status = fn(
            tp,
            vp,
            od,
            ctypes.byref(mc) if mc is not None else None,
            ctypes.byref(cfg),
            c_cb,
            None,
            ctypes.byref(report),
        )
        msg = _lib.last_error() if status != errors.OK else ""
    finally:
        if old_handler is not None:
            signal.signal(signal.SIGINT, old_handler)
    del c_cb
    result = TrainReport._from_struct(report, os.fsdecode(od))
    if failure:
        raise failure[0]
    if interrupted:
        raise KeyboardInterrupt("temporal.train interrupted (the last committed checkpoint is kept)")
    if status != errors.OK:
        err = errors.make_error(status, msg)
        if status == errors.ERR_CANCELLED:
            err.report = result
        raise err
    return result


# ---------------------------------------------------------------------------------------------
# Datasets


def write_dataset(
    path: PathLike,
    features: Any,
    labels: Any,
    lengths: Any = None,
    class_names: Optional[Sequence[str]] = None,
    num_classes: Optional[int] = None,
) -> None:
    """Write a dataset in the reference HDF5 layout (what :func:`train` reads), atomically.

    Args:
        features: ``[n, max_frames, feature_dim]`` numeric (written as float32; frames at and
            after a clip's length are written as zeros).
        labels: integer ``[n]`` in ``[0, num_classes)``.
        lengths: ``None`` (every clip has max_frames frames) or integer ``[n]``.
        class_names: one distinct non-empty name per class, or ``None`` ("0", "1", ...).
        num_classes: defaults to ``len(class_names)``, else ``max(labels) + 1`` (at least 2).

    Raises:
        UnsupportedError: a nohdf5 build. InvalidArgumentError, ShapeError, NumericError,
        TemporalIOError.
    """
    _lib.ensure_usable()
    fn = _lib.require(_lib.f_dataset_write, "temporal_dataset_write")
    x, single = _prepare_features(features)
    if single:
        raise ShapeError(errors.ERR_SHAPE, "features must have shape [n, max_frames, feature_dim]")
    N, T, F = x.shape
    labs = _prepare_labels(labels, N)
    lens = _prepare_lengths(lengths, N, False)
    if num_classes is None:
        if class_names is not None:
            num_classes = len(class_names)
        else:
            num_classes = max(2, int(labs.max()) + 1 if labs.size else 2)
    C = _int("num_classes", num_classes, -(2**31), 2**31 - 1)
    names = _encode_class_names(class_names, C) if class_names is not None else None
    _lib.check(
        fn(
            _cpath(path),
            x.ctypes.data,
            N,
            T,
            F,
            lens.ctypes.data if lens is not None else None,
            labs.ctypes.data,
            names,
            C,
        )
    )

