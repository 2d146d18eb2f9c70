"""Every error path reachable from Python raises the class of the status the header documents,
with a non-empty message, and the process (and the model) stays usable afterwards."""

from __future__ import annotations

import os

import numpy as np
import pytest

from temporal_testlib import SMALL_CONFIG

F = SMALL_CONFIG["feature_dim"]


def _raises(exc, fn, *args, match=None, **kwargs):
    with pytest.raises(exc) as e:
        fn(*args, **kwargs)
    err = e.value
    if hasattr(err, "message"):
        assert err.message, f"{type(err).__name__} without a message"
        assert err.status_name in str(err)
    if match is not None:
        assert match in str(err), f"{match!r} not in {str(err)!r}"
    return err


@pytest.fixture()
def saved(small_model, tmp_path):
    p = tmp_path / "m.safetensors"
    small_model.save(p)
    return p


@pytest.fixture(autouse=True)
def still_alive(small_model, batch):
    """After each test, the shared model still predicts the same."""
    x, lengths = batch
    before = small_model.predict(x, lengths)
    yield
    np.testing.assert_array_equal(small_model.predict(x, lengths), before)


# -- files ------------------------------------------------------------------------------------


def test_missing_file_is_io_error(temporal, tmp_path):
    err = _raises(temporal.TemporalIOError, temporal.Model.load, tmp_path / "missing.safetensors")
    assert err.status == 3 and "missing.safetensors" in err.message


def test_directory_is_io_error(temporal, tmp_path):
    _raises(temporal.TemporalIOError, temporal.Model.load, tmp_path)


def test_non_utf8_missing_path_is_io_error(temporal, tmp_path):
    _raises(temporal.TemporalIOError, temporal.Model.load, os.fsencode(tmp_path) + b"/\xff\xfe.safetensors")


def test_path_with_nul_is_rejected_before_the_library(temporal, tmp_path):
    _raises(temporal.InvalidArgumentError, temporal.Model.load, str(tmp_path) + "/a\0b")


def test_empty_path_is_an_error(temporal, small_model):
    with pytest.raises((temporal.InvalidArgumentError, temporal.TemporalIOError)):
        temporal.Model.load("")
    _raises(temporal.InvalidArgumentError, small_model.save, "")


@pytest.mark.parametrize("keep", [0, 4, 8, 20, "half-header", "header", "half-data", "minus-one"])
def test_truncated_file_is_format_error(temporal, saved, tmp_path, keep):
    data = saved.read_bytes()
    n = int.from_bytes(data[:8], "little")
    cut = {"half-header": 8 + n // 2, "header": 8 + n, "half-data": (8 + n + len(data)) // 2,
           "minus-one": len(data) - 1}.get(keep, keep)
    p = tmp_path / "cut.safetensors"
    p.write_bytes(data[:cut])
    _raises(temporal.FormatError, temporal.Model.load, p)
    _raises((temporal.FormatError, temporal.InvalidArgumentError) if cut == 0 else temporal.FormatError,
            temporal.Model.load_bytes, data[:cut])


def test_corrupt_header_is_format_error(temporal, saved, tmp_path):
    data = bytearray(saved.read_bytes())
    n = int.from_bytes(data[:8], "little")
    for i, b in [(8, ord("[")), (8 + n // 2, ord("}")), (0, 0xFF), (7, 0x7F)]:
        bad = bytearray(data)
        bad[i] = b
        p = tmp_path / "bad.safetensors"
        p.write_bytes(bytes(bad))
        _raises((temporal.FormatError, temporal.OutOfMemoryError) if i in (0, 7) else temporal.FormatError,
                temporal.Model.load, p)


def test_flipped_data_bit_is_caught_by_the_checksum(temporal, saved, tmp_path):
    data = bytearray(saved.read_bytes())
    data[-5] ^= 0x01  # one bit inside the last tensor
    p = tmp_path / "flip.safetensors"
    p.write_bytes(bytes(data))
    _raises(temporal.FormatError, temporal.Model.load, p)


def test_garbage_bytes_are_format_error(temporal):
    _raises(temporal.FormatError, temporal.Model.load_bytes, b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")


def test_empty_bytes_are_invalid_argument(temporal):
    _raises(temporal.InvalidArgumentError, temporal.Model.load_bytes, b"")


def test_load_bytes_rejects_non_buffers(temporal):
    with pytest.raises(TypeError):
        temporal.Model.load_bytes("a str is not bytes")


def test_save_to_missing_directory_or_directory_is_io_error(temporal, small_model, tmp_path):
    _raises(temporal.TemporalIOError, small_model.save, tmp_path / "no" / "such" / "dir" / "m.safetensors")
    _raises(temporal.TemporalIOError, small_model.save, tmp_path)
    f = tmp_path / "plain-file"
    f.write_text("x")
    _raises(temporal.TemporalIOError, small_model.save, f / "under-a-file.safetensors")


# -- devices ----------------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["tpu", "CPU0", "cuda:x", "cuda:-1", ""])
def test_unknown_device_is_invalid_argument(temporal, saved, device):
    _raises(temporal.InvalidArgumentError, temporal.Model.load, saved, device=device)


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:7"])
def test_cuda_without_a_backend_is_device_error(temporal, saved, batch, device):
    if temporal.cuda_available() and device != "cuda:7":
        with temporal.Model.load(saved, device=device) as m:
            assert m.predict(batch[0]).shape == (4, SMALL_CONFIG["num_classes"])
        return
    err = _raises(temporal.DeviceError, temporal.Model.load, saved, device=device)
    assert "cuda" in err.message.lower()
    # and the process goes on: CPU loading still works
    with temporal.Model.load(saved) as m:
        m.predict(batch[0])


def test_device_none_means_cpu(temporal, saved):
    with temporal.Model.load(saved, device=None) as m:
        assert m.device == "cpu"


# -- create -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        dict(num_heads=5),  # does not divide D = 24
        dict(num_classes=1),
        dict(feature_dim=0),
        dict(hidden_dim=-3),
        dict(num_layers=0),
        dict(dropout=1.0),
        dict(dropout=float("nan")),
        dict(classifier_widths=()),
        dict(classifier_widths=(4,) * 9),
        dict(classifier_widths=(8, 0)),
        dict(hidden_dim=1, bidirectional=False, num_heads=1),  # D = 1 < 2
        dict(feature_dim=2**40),  # does not fit int32: caught before ctypes would wrap it
    ],
)
def test_bad_config_is_invalid_argument(temporal, change):
    _raises(temporal.InvalidArgumentError, temporal.Model.create, dict(SMALL_CONFIG, **change))


def test_too_many_parameters_is_invalid_argument(temporal):
    """More than 2^33 parameters breaks a size rule (header: INVALID_ARGUMENT), checked before
    anything is allocated."""
    cfg = dict(SMALL_CONFIG, hidden_dim=1 << 20, num_heads=2, feature_dim=1 << 20)
    err = _raises(temporal.InvalidArgumentError, temporal.Model.create, cfg)
    assert "parameters" in err.message


def test_bad_config_types(temporal):
    with pytest.raises(TypeError):
        temporal.Model.create(dict(SMALL_CONFIG, no_such_key=1))
    with pytest.raises(TypeError):
        temporal.Model.create(dict(SMALL_CONFIG, hidden_dim=12.0))
    with pytest.raises(TypeError):
        temporal.Model.create("not a config")
    with pytest.raises(temporal.InvalidArgumentError):
        temporal.Model.create(SMALL_CONFIG, seed=-1)
    with pytest.raises(TypeError):
        temporal.Model.create(dict(SMALL_CONFIG, class_names="abcde"))
    with pytest.raises(TypeError):
        temporal.Model.create(dict(SMALL_CONFIG, class_names=[1, 2, 3, 4, 5]))
    _raises(temporal.InvalidArgumentError, temporal.Model.create, dict(SMALL_CONFIG, class_names=["a", "b"]))
    _raises(temporal.InvalidArgumentError, temporal.Model.create, dict(SMALL_CONFIG, class_names=list("abcd") + ["x\0y"]))
    _raises(temporal.InvalidArgumentError, temporal.Model.create, dict(SMALL_CONFIG, class_names=list("abcd") + ["x" * 5000]))


# -- predict ----------------------------------------------------------------------------------


def test_wrong_feature_dim_is_shape_error(temporal, small_model, rng):
    err = _raises(temporal.ShapeError, small_model.predict, rng.standard_normal((2, 5, F + 1), dtype=np.float32))
    assert err.status == 5 and str(F) in err.message


@pytest.mark.parametrize("shape", [(F,), (1, 2, 3, F), ()])
def test_wrong_rank_is_shape_error(temporal, small_model, shape):
    _raises(temporal.ShapeError, small_model.predict, np.zeros(shape, np.float32))


@pytest.mark.parametrize("shape", [(0, 5, F), (2, 0, F)])
def test_empty_batch_or_frames_is_invalid_argument(temporal, small_model, shape):
    _raises(temporal.InvalidArgumentError, small_model.predict, np.zeros(shape, np.float32))


@pytest.mark.parametrize("bad", [0, -1, 11, 2**31 - 1, 2**31, -(2**31) - 1, 2**62])
def test_length_out_of_range_is_invalid_argument(temporal, small_model, batch, bad):
    x, lengths = batch  # T = 10
    lengths = lengths.astype(np.int64)
    lengths[2] = bad
    err = _raises(temporal.InvalidArgumentError, small_model.predict, x, lengths)
    assert "length" in err.message


def test_lengths_of_wrong_shape_or_type(temporal, small_model, batch):
    x, lengths = batch
    _raises(temporal.ShapeError, small_model.predict, x, lengths[:3])
    _raises(temporal.ShapeError, small_model.predict, x, lengths.reshape(2, 2))
    with pytest.raises(TypeError):
        small_model.predict(x, lengths.astype(np.float64))
    with pytest.raises(TypeError):
        small_model.predict(x, lengths > 0)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_features_are_numeric_error(temporal, small_model, batch, value):
    x, lengths = batch
    y = x.copy()
    y[1, 2, 3] = value
    err = _raises(temporal.NumericError, small_model.predict, y, lengths)
    assert err.status == 10
    # float64 input that overflows float32 becomes inf and is caught the same way
    z = x.astype(np.float64)
    z[0, 0, 0] = 1e300
    _raises(temporal.NumericError, small_model.predict, z)


@pytest.mark.parametrize(
    "features", [np.array([["a", "b"]]), np.zeros((2, 3, F), complex), np.zeros((2, 3, F), bool), [[object()]]]
)
def test_non_numeric_features_are_type_error(temporal, small_model, features):
    with pytest.raises(TypeError, match="numeric"):
        small_model.predict(features)


def test_unknown_padding_is_invalid_argument(temporal, small_model, batch):
    _raises(temporal.InvalidArgumentError, small_model.predict, batch[0], padding="zeros")


# -- handles ----------------------------------------------------------------------------------


def test_closed_model_is_bad_handle(temporal, batch, tmp_path):
    m = temporal.Model.create(SMALL_CONFIG, seed=3)
    m.close()
    err = _raises(temporal.BadHandleError, m.predict, batch[0])
    assert err.status == 2
    _raises(temporal.BadHandleError, m.save, tmp_path / "x.safetensors")
    _raises(temporal.BadHandleError, m.predict_proba, batch[0])


def test_zero_and_never_issued_handles_are_bad_handle(temporal):
    from temporal import _library

    for h in (0, 1, 0x1234_5678_9ABC_DEF0, 2**64 - 1):
        assert _library.f_model_free(h) == 2
        assert _library.last_error()


def test_models_are_not_picklable(temporal, small_model):
    import pickle

    with pytest.raises(TypeError, match="save"):
        pickle.dumps(small_model)


def test_unmapped_buffers_are_internal_errors_not_crashes(temporal, small_model, batch):
    """Straight through ctypes (the binding itself never does this): a wild input or output
    pointer is caught by the library's probes (header: Faults)."""
    import ctypes

    from temporal import _library

    x, lengths = batch
    out = np.empty((4, SMALL_CONFIG["num_classes"]), np.float32)
    opt = _library.predict_options_default()
    B, T, Fd = x.shape
    for feats, o in ((0xDEAD0000, out.ctypes.data), (x.ctypes.data, 0xDEAD0000)):
        st = _library.f_predict(small_model.handle, feats, B, T, Fd, None, ctypes.byref(opt), o, out.size, None, 0)
        assert st == 9
        assert "0xdead0000" in _library.last_error()
    st = _library.f_predict(small_model.handle, None, B, T, Fd, None, ctypes.byref(opt), out.ctypes.data, out.size, None, 0)
    assert st == 1
    st = _library.f_predict(small_model.handle, x.ctypes.data, B, T, Fd, None, ctypes.byref(opt), out.ctypes.data, out.size - 1, None, 0)
    assert st == 5
