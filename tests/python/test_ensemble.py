"""ensemble_predict_proba and predict_proba(tta=True): the library's results against direct
computations through the same API (members' mean; TTA modes built by hand)."""

from __future__ import annotations

import numpy as np
import pytest

from temporal_testlib import SMALL_CONFIG

F = SMALL_CONFIG["feature_dim"]
C = SMALL_CONFIG["num_classes"]


@pytest.fixture(scope="module")
def members(temporal):
    ms = [temporal.Model.create(SMALL_CONFIG, seed=42 + i) for i in range(2)]
    yield ms
    for m in ms:
        m.close()


@pytest.fixture()
def clips():
    rng = np.random.default_rng(3)
    lengths = np.array([14, 3, 11, 9, 1], dtype=np.int32)
    x = rng.standard_normal((5, 14, F), dtype=np.float32)
    for b, n in enumerate(lengths):
        x[b, n:] = 0
    return x, lengths


def softmax(z):
    z = z.astype(np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def tta_by_hand(model, x, lengths):
    out = []
    for b, n in enumerate(lengths):
        clip = x[b, :n]
        versions = [clip, clip[::-1]]
        if n > 10:
            h, m = n // 2, n + n // 2
            versions.append(clip[[i * (n - 1) // (h - 1) for i in range(h)]])
            versions.append(clip[[min(i * (n - 1) // (m - 1), n - 1) for i in range(m)]])
        out.append(np.mean([softmax(model.predict(np.ascontiguousarray(v))) for v in versions], axis=0))
    return np.array(out)


def test_ensemble_is_mean_of_members(temporal, members, clips):
    x, n = clips
    pa, pb = (m.predict_proba(x, n) for m in members)
    pe = temporal.ensemble_predict_proba(members, x, n)
    assert pe.shape == (5, C) and pe.dtype == np.float32
    np.testing.assert_allclose(pe, (pa.astype(np.float64) + pb) / 2, atol=1e-6, rtol=0)
    assert not np.array_equal(pa, pb)
    np.testing.assert_array_equal(temporal.ensemble_predict_proba(members[:1], x, n), pa)
    # One 2-D clip, frame weights.
    one, w = temporal.ensemble_predict_proba(members, x[0], return_frame_weights=True)
    assert one.shape == (C,) and w.shape == (14,)
    np.testing.assert_allclose(w.sum(), 1, atol=1e-5)


def test_tta_equals_modes_by_hand(members, clips):
    x, n = clips
    m = members[0]
    got = m.predict_proba(x, n, tta=True)
    np.testing.assert_allclose(got, tta_by_hand(m, x, n), atol=2e-6, rtol=0)
    np.testing.assert_allclose(got.sum(axis=1), 1, atol=1e-5)
    # Without TTA the result differs (reversal changes the output of a BiLSTM + attention).
    assert not np.allclose(got, m.predict_proba(x, n), atol=1e-6)
    # Frame weights with TTA are the original clips'.
    _, w = m.predict_proba(x, n, tta=True, return_frame_weights=True)
    _, w0 = m.predict_proba(x, n, return_frame_weights=True)
    np.testing.assert_array_equal(w, w0)


def test_ensemble_tta_is_mean_of_members_tta(temporal, members, clips):
    x, n = clips
    want = np.mean([m.predict_proba(x, n, tta=True).astype(np.float64) for m in members], axis=0)
    np.testing.assert_allclose(temporal.ensemble_predict_proba(members, x, n, tta=True), want, atol=1e-6, rtol=0)


def test_ensemble_errors(temporal, members, clips):
    x, n = clips
    with pytest.raises(temporal.InvalidArgumentError):
        temporal.ensemble_predict_proba([], x, n)
    with pytest.raises(TypeError):
        temporal.ensemble_predict_proba([members[0], "model"], x, n)
    with pytest.raises(temporal.InvalidArgumentError):
        temporal.ensemble_predict_proba(members, x, n, padding="nope")
    other = dict(SMALL_CONFIG, num_classes=C + 1)
    with temporal.Model.create(other, seed=1) as m3:
        with pytest.raises(temporal.ShapeError):
            temporal.ensemble_predict_proba([members[0], m3], x, n)
    with pytest.raises(temporal.BadHandleError):
        temporal.ensemble_predict_proba([members[0], m3], x, n)
    with pytest.raises(temporal.ShapeError):
        temporal.ensemble_predict_proba(members, x[:, :, :-1], n)
    xn = x.copy()
    xn[1, 0, 0] = np.nan
    with pytest.raises(temporal.NumericError):
        temporal.ensemble_predict_proba(members, xn, n)
