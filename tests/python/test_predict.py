"""Model.predict / predict_proba: shapes, semantics of the padding modes, frame weights, and
how inputs are converted (or not)."""

from __future__ import annotations

import numpy as np
import pytest

from temporal_testlib import SMALL_CONFIG

C = SMALL_CONFIG["num_classes"]
F = SMALL_CONFIG["feature_dim"]


def test_config_of_a_created_model(temporal, small_model):
    cfg = small_model.config
    assert isinstance(cfg, temporal.Config)
    for k, v in SMALL_CONFIG.items():
        assert getattr(cfg, k) == v, k
    assert cfg.class_names is None
    # The library's parameter count equals the formula of DESIGN §2.
    assert cfg.num_params == temporal.Config(**SMALL_CONFIG).num_params
    assert small_model.num_classes == C and small_model.device == "cpu"


def test_logits_shape_and_dtype(small_model, batch):
    x, lengths = batch
    logits = small_model.predict(x, lengths)
    assert logits.shape == (4, C) and logits.dtype == np.float32
    assert np.isfinite(logits).all()


def test_single_clip_2d_gives_1d_logits(small_model, batch):
    x, _ = batch
    one = small_model.predict(x[0])
    assert one.shape == (C,)
    np.testing.assert_array_equal(one, small_model.predict(x[:1])[0])
    logits, w = small_model.predict(x[1], lengths=3, return_frame_weights=True)
    assert logits.shape == (C,) and w.shape == (x.shape[1],)


def test_predict_proba_rows_sum_to_one_and_match_softmax(small_model, batch):
    x, lengths = batch
    p = small_model.predict_proba(x, lengths)
    assert p.shape == (4, C) and p.dtype == np.float32
    assert (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)
    z = small_model.predict(x, lengths).astype(np.float64)
    soft = np.exp(z - z.max(axis=1, keepdims=True))
    soft /= soft.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(p, soft, atol=1e-6)


@pytest.mark.parametrize("padding", ["masked", "reference"])
def test_frame_weights_shape_sum_and_zero_padding(small_model, batch, padding):
    x, lengths = batch
    logits, w = small_model.predict(x, lengths, padding=padding, return_frame_weights=True)
    assert w.shape == x.shape[:2] and w.dtype == np.float32
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-5)
    assert (w >= 0).all()
    cut = lengths if padding == "masked" else np.full_like(lengths, lengths.max())
    for b, n in enumerate(cut):
        assert (w[b, n:] == 0).all(), f"clip {b}: weights past {n} must be 0 in {padding} mode"
    # Asking for frame weights does not change the logits.
    np.testing.assert_array_equal(logits, small_model.predict(x, lengths, padding=padding))


def test_reference_weights_past_max_length_are_zero(small_model, rng):
    """T = 12 but max(lengths) = 9: reference mode cuts to T' = max(lengths) (pad_packed_sequence)."""
    x = rng.standard_normal((3, 12, F), dtype=np.float32)
    lengths = np.array([9, 5, 2])
    _, w = small_model.predict(x, lengths, padding="reference", return_frame_weights=True)
    assert (w[:, 9:] == 0).all()
    assert (w[1, 5:9] > 0).all(), "reference mode gives padded steps below T' a weight, as PyTorch does"


def test_masked_clip_alone_equals_clip_in_padded_batch(small_model, batch):
    """DESIGN §2's normative definition of masked mode, to rounding."""
    x, lengths = batch
    logits, w = small_model.predict(x, lengths, return_frame_weights=True)
    for b, n in enumerate(lengths):
        alone, wa = small_model.predict(x[b, :n], return_frame_weights=True)
        np.testing.assert_allclose(logits[b], alone, atol=1e-5, rtol=0)
        np.testing.assert_allclose(w[b, :n], wa, atol=1e-5, rtol=0)


def test_masked_ignores_padding_values(small_model, batch, rng):
    x, lengths = batch
    y = x.copy()
    for b, n in enumerate(lengths):
        y[b, n:] = rng.standard_normal(y[b, n:].shape) * 100
    np.testing.assert_allclose(small_model.predict(y, lengths), small_model.predict(x, lengths), atol=1e-6, rtol=0)


def test_modes_agree_without_padding(small_model, batch):
    x, _ = batch
    full = np.full(len(x), x.shape[1])
    masked = small_model.predict(x, padding="masked")
    np.testing.assert_allclose(small_model.predict(x, padding="reference"), masked, atol=1e-6, rtol=0)
    np.testing.assert_allclose(small_model.predict(x, full), masked, atol=1e-6, rtol=0)


def test_modes_differ_on_mixed_lengths(small_model, batch):
    x, lengths = batch
    a = small_model.predict(x, lengths, padding="masked")
    b = small_model.predict(x, lengths, padding="reference")
    assert not np.allclose(a[1:], b[1:], atol=1e-4), "padded clips see padding as keys in reference mode"
    # Clip 0 is full length (n = T = max(lengths)): both modes see exactly its own frames.
    np.testing.assert_allclose(a[0], b[0], atol=1e-6, rtol=0)


def test_same_seed_same_weights_other_seed_other_weights(temporal, batch):
    x, lengths = batch
    with temporal.Model.create(SMALL_CONFIG, seed=7) as a, temporal.Model.create(SMALL_CONFIG, seed=7) as b, \
            temporal.Model.create(SMALL_CONFIG, seed=8) as c:
        np.testing.assert_array_equal(a.predict(x, lengths), b.predict(x, lengths))
        assert not np.array_equal(a.predict(x, lengths), c.predict(x, lengths))


def test_c_contiguous_float32_is_passed_without_copy(temporal, small_model, batch, monkeypatch):
    """The pointer handed to temporal_predict is the caller's own buffer."""
    from temporal import _library

    x, lengths = batch
    seen = []
    real = _library.f_predict

    def spy(*args):
        seen.append(args[1])
        return real(*args)

    monkeypatch.setattr(_library, "f_predict", spy)
    small_model.predict(x, lengths)
    small_model.predict(x[2])  # a [T, F] view of a contiguous array: still no copy
    assert seen == [x.ctypes.data, x[2].ctypes.data]


def test_other_layouts_and_dtypes_are_converted(small_model, batch):
    x, lengths = batch
    want = small_model.predict(x, lengths)
    np.testing.assert_array_equal(small_model.predict(x.astype(np.float64), lengths), want)
    np.testing.assert_array_equal(small_model.predict(np.asfortranarray(x), lengths), want)
    np.testing.assert_array_equal(small_model.predict(x.astype(">f4"), lengths), want)
    np.testing.assert_array_equal(small_model.predict(x.tolist(), lengths.tolist()), want)
    strided = np.zeros((4, 10, 2 * F), np.float32)
    strided[:, :, ::2] = x
    np.testing.assert_array_equal(small_model.predict(strided[:, :, ::2], lengths), want)
    ints = np.arange(4 * 10 * F).reshape(4, 10, F) % 7 - 3
    np.testing.assert_array_equal(small_model.predict(ints), small_model.predict(ints.astype(np.float32)))


@pytest.mark.parametrize("dtype", [np.int8, np.uint16, np.int64, np.uint64])
def test_lengths_accept_any_integer_dtype(small_model, batch, dtype):
    x, lengths = batch
    np.testing.assert_array_equal(small_model.predict(x, lengths.astype(dtype)), small_model.predict(x, lengths))


def test_caller_arrays_are_not_modified(small_model, batch):
    x, lengths = batch
    x0, l0 = x.copy(), lengths.copy()
    small_model.predict(x, lengths, return_frame_weights=True)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(lengths, l0)


def test_read_only_input_is_fine(small_model, batch):
    x, lengths = batch
    ro = x.copy()
    ro.flags.writeable = False
    np.testing.assert_array_equal(small_model.predict(ro, lengths), small_model.predict(x, lengths))


def test_repeated_calls_are_bitwise_stable(small_model, batch):
    x, lengths = batch
    first = small_model.predict(x, lengths)
    for _ in range(5):
        np.testing.assert_array_equal(small_model.predict(x, lengths), first)
