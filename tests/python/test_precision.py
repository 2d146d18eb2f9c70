"""Model.set_precision / Model.precision: the opt-in bf16 recurrent-weight mode (issue 5). The
default stays float32 and bitwise unchanged; bf16 is close to float32 but not equal; bad
arguments raise; the setting is per model and not saved."""

from __future__ import annotations

import numpy as np
import pytest

from temporal_testlib import SMALL_CONFIG


@pytest.fixture()
def model(temporal):
    with temporal.Model.create(SMALL_CONFIG, seed=3) as m:
        yield m


def _close(a, b):
    scale = float(np.abs(b).max())
    np.testing.assert_allclose(a, b, rtol=0, atol=2e-2 * scale + 1e-4)


def test_default_float32_and_round_trip(temporal, model, batch):
    x, lengths = batch
    assert model.precision == "float32"
    ref, ref_w = model.predict(x, lengths, return_frame_weights=True)
    model.set_precision("bf16")
    assert model.precision == "bf16"
    got, got_w = model.predict(x, lengths, return_frame_weights=True)
    _close(got, ref)
    assert not np.array_equal(got, ref)
    np.testing.assert_allclose(got_w.sum(axis=1), 1, rtol=1e-5)
    model.precision = "float32"  # the property setter
    assert model.precision == "float32"
    again, again_w = model.predict(x, lengths, return_frame_weights=True)
    assert again.tobytes() == ref.tobytes() and again_w.tobytes() == ref_w.tobytes()


def test_bf16_reaches_proba_tta_and_ensembles(temporal, model, batch):
    x, lengths = batch
    p32 = model.predict_proba(x, lengths, tta=True)
    e32 = temporal.ensemble_predict_proba([model, model], x, lengths)
    model.set_precision("bf16")
    p16 = model.predict_proba(x, lengths, tta=True)
    e16 = temporal.ensemble_predict_proba([model, model], x, lengths)
    _close(p16, p32)
    _close(e16, e32)
    assert not np.array_equal(p16, p32) and not np.array_equal(e16, e32)


@pytest.mark.parametrize("bad", ["fp16", "BF16", "", None, 1, 0.0])
def test_bad_precision(temporal, model, bad):
    model.set_precision("bf16")
    with pytest.raises(temporal.InvalidArgumentError):
        model.set_precision(bad)
    with pytest.raises(temporal.InvalidArgumentError):
        model.precision = bad
    assert model.precision == "bf16"


def test_invalid_enum_through_the_c_function(temporal, model):
    from temporal import _library as lib

    for value in (-1, 2, 99):
        with pytest.raises(temporal.InvalidArgumentError, match="temporal_precision"):
            lib.check(lib.f_model_set_precision(model.handle, value))
    assert model.precision == "float32"


def test_not_saved(temporal, model, batch, tmp_path):
    x, lengths = batch
    ref = model.predict(x, lengths)
    model.set_precision("bf16")
    path = tmp_path / "m.safetensors"
    model.save(path)
    with temporal.Model.load(path) as loaded:
        assert loaded.precision == "float32"
        assert loaded.predict(x, lengths).tobytes() == ref.tobytes()
    assert model.precision == "bf16"


def test_closed_model(temporal, batch):
    m = temporal.Model.create(SMALL_CONFIG, seed=4)
    m.close()
    with pytest.raises(temporal.BadHandleError):
        m.set_precision("bf16")
    with pytest.raises(temporal.BadHandleError):
        m.precision
