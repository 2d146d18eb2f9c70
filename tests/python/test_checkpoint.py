"""Saving and loading: round trips are exact; PyTorch parity fixtures load and agree."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import st_io
from temporal_testlib import REPO, SMALL_CONFIG

PARITY = REPO / "tests" / "parity" / "fixtures"
DATA = REPO / "tests" / "data"


def test_save_load_round_trip_is_exact(temporal, small_model, batch, tmp_path):
    x, lengths = batch
    path = tmp_path / "m.safetensors"
    small_model.save(path)
    with temporal.Model.load(path) as m:
        assert m.config == small_model.config
        for padding in ("masked", "reference"):
            a, wa = small_model.predict(x, lengths, padding=padding, return_frame_weights=True)
            b, wb = m.predict(x, lengths, padding=padding, return_frame_weights=True)
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(wa, wb)
        # Saving the reloaded model writes the same bytes.
        m.save(tmp_path / "again.safetensors")
    assert (tmp_path / "again.safetensors").read_bytes() == path.read_bytes()


def test_saved_file_is_safetensors_with_pytorch_names_and_metadata(temporal, small_model, tmp_path):
    path = tmp_path / "m.safetensors"
    small_model.save(str(path))
    tensors, meta = st_io.read(path)
    assert "input_projection.0.weight" in tensors and "lstm.weight_hh_l1_reverse" in tensors
    assert tensors["input_projection.0.weight"].shape == (SMALL_CONFIG["hidden_dim"], SMALL_CONFIG["feature_dim"])
    assert sum(t.size for t in tensors.values()) == small_model.config.num_params
    cfg = json.loads(meta["temporal_config"])
    assert cfg["num_heads"] == SMALL_CONFIG["num_heads"]


def test_class_names_are_set_at_create_saved_and_loaded(temporal, tmp_path):
    names = ("walk", "run", "jump", "swim", "café ☕")
    cfg = temporal.Config(**SMALL_CONFIG, class_names=names)
    with temporal.Model.create(cfg, seed=2) as m:
        assert m.config.class_names == names
        assert m.config == cfg
        m.save(tmp_path / "named.safetensors")
        m.set_class_names(None)
        assert m.config.class_names is None
        m.set_class_names(["a", "b", "c", "d", "e"])
        assert m.config.class_names == ("a", "b", "c", "d", "e")
    with temporal.Model.load(tmp_path / "named.safetensors") as m:
        assert m.config.class_names == names


def test_load_bytes_equals_load(temporal, small_model, batch, tmp_path):
    x, lengths = batch
    path = tmp_path / "m.safetensors"
    small_model.save(path)
    data = path.read_bytes()
    want = small_model.predict(x, lengths)
    for buf in (data, bytearray(data), memoryview(data), np.frombuffer(data, np.uint8)):
        with temporal.Model.load_bytes(buf) as m:
            assert m.config == small_model.config
            np.testing.assert_array_equal(m.predict(x, lengths), want)


def test_paths_as_str_bytes_pathlike_and_non_utf8(temporal, small_model, batch, tmp_path):
    x, _ = batch
    want = small_model.predict(x)
    odd = os.fsencode(tmp_path) + b"/caf\xe9-\xff.safetensors"  # not valid UTF-8
    small_model.save(odd)
    assert os.path.exists(odd)
    for p in (odd, os.fsdecode(odd), Path(os.fsdecode(odd))):
        with temporal.Model.load(p) as m:
            np.testing.assert_array_equal(m.predict(x), want)


def test_context_manager_and_close(temporal, batch):
    x, _ = batch
    with temporal.Model.create(SMALL_CONFIG, seed=1) as m:
        assert not m.closed
        m.predict(x)
    assert m.closed
    m.close()  # idempotent
    assert "closed" in repr(m)


def _parity_cases():
    return sorted(p.name[: -len(".io.safetensors")] for p in PARITY.glob("*.io.safetensors"))


@pytest.mark.parametrize("case", _parity_cases())
@pytest.mark.parametrize("padding", ["masked", "reference"])
def test_pytorch_parity_fixture(temporal, case, padding):
    """A PyTorch state_dict (no metadata: heads passed explicitly) gives PyTorch's logits and
    frame weights, within DESIGN §8's tolerance max|a-b| <= 1e-4·max|b| + 1e-6."""
    io, meta = st_io.read(PARITY / f"{case}.io.safetensors")
    cfg = json.loads(meta["config"])
    with temporal.Model.load(PARITY / f"{case}.weights.safetensors", num_heads=cfg["num_heads"]) as m:
        for k in ("feature_dim", "hidden_dim", "num_layers", "num_heads", "num_classes", "bidirectional"):
            assert getattr(m.config, k) == cfg[k], k
        assert m.config.classifier_widths == tuple(cfg["classifier_widths"])
        logits, w = m.predict(io["features"], io.get("lengths"), padding=padding, return_frame_weights=True)
    for got, want in ((logits, io[f"logits64.{padding}"]), (w, io[f"frame_weights64.{padding}"])):
        tol = 1e-4 * np.abs(want).max() + 1e-6
        assert np.abs(got - want).max() <= tol, (case, padding, np.abs(got - want).max(), tol)


def read_golden(path):
    """tests/data/small.case.bin (format in tests/golden/main.go), as a dict of arrays."""
    raw = path.read_bytes()
    assert raw[:4] == b"TGLD" and int.from_bytes(raw[4:8], "little") == 1, "not a version-1 golden case"
    B, T, F, C = np.frombuffer(raw, "<i4", 4, 8)
    off = 24
    out = {"B": int(B), "T": int(T), "F": int(F), "C": int(C)}

    def take(name, dtype, shape):
        nonlocal off
        n = int(np.prod(shape))
        out[name] = np.frombuffer(raw, dtype, n, off).reshape(shape)
        off += n * 4

    take("lengths", "<i4", (B,))
    take("features", "<f4", (B, T, F))
    for mode in ("masked", "reference"):
        take(f"logits_{mode}", "<f4", (B, C))
        take(f"fw_{mode}", "<f4", (B, T))
    take("probs_masked", "<f4", (B, C))
    take("logits_full", "<f4", (B, C))
    assert off == len(raw), "trailing bytes in the golden case"
    return out


GOLDEN_CONFIG = dict(feature_dim=16, hidden_dim=8, num_layers=2, num_heads=2, num_classes=3, dropout=0.4,
                     bidirectional=True, classifier_widths=(12, 8))


@pytest.fixture(scope="module")
def golden():
    case = DATA / "small.case.bin"
    if not case.exists():
        pytest.skip("tests/data/small.case.bin is not there (go run ./tests/golden -out tests/data)")
    return read_golden(case)


def _check_golden(m, g):
    np.testing.assert_allclose(m.predict(g["features"], g["lengths"]), g["logits_masked"], atol=1e-6, rtol=0)
    for mode in ("masked", "reference"):
        logits, w = m.predict(g["features"], g["lengths"], padding=mode, return_frame_weights=True)
        np.testing.assert_allclose(logits, g[f"logits_{mode}"], atol=1e-6, rtol=0)
        np.testing.assert_allclose(w, g[f"fw_{mode}"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(m.predict_proba(g["features"], g["lengths"]), g["probs_masked"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(m.predict(g["features"]), g["logits_full"], atol=1e-6, rtol=0)


def test_committed_small_checkpoint_gives_the_go_core_outputs(temporal, golden):
    """tests/data/small.safetensors reproduces the Go core's logits, frame weights and
    probabilities (tests/data/small.case.bin) within 1e-6, as the C and C++ tests check."""
    with temporal.Model.load(DATA / "small.safetensors") as m:
        assert m.config == temporal.Config(**GOLDEN_CONFIG, class_names=("walk", "run", "jump"),
                                           num_params=m.config.num_params)
        assert m.config.num_params == temporal.Config(**GOLDEN_CONFIG).num_params
        _check_golden(m, golden)


def test_create_with_the_golden_seed_gives_the_same_model(temporal, golden):
    """Initialisation is deterministic in the seed across languages: create(config, 1234) is the
    committed model."""
    with temporal.Model.create(GOLDEN_CONFIG, seed=1234) as m:
        _check_golden(m, golden)


@pytest.mark.parametrize("threads", [1, 2, 5])
def test_golden_under_each_thread_setting(temporal, golden, threads):
    """Results depend only on the thread setting and the shapes: each setting reproduces the
    golden case to rounding, and repeats itself bitwise."""
    try:
        temporal.set_num_threads(threads)
        assert temporal.get_num_threads() == threads
        with temporal.Model.load(DATA / "small.safetensors") as m:
            _check_golden(m, golden)
            a = m.predict(golden["features"], golden["lengths"], return_frame_weights=True)
            b = m.predict(golden["features"], golden["lengths"], return_frame_weights=True)
            np.testing.assert_array_equal(a[0], b[0])
            np.testing.assert_array_equal(a[1], b[1])
    finally:
        temporal.set_num_threads(0)
