"""Reload every parity fixture and check names, shapes and dtypes.

    /usr/bin/python3 -m pytest tests/parity/test_fixtures.py
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "fixtures")
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

import make_fixtures as mf  # noqa: E402

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

CASES = [c["name"] for c in mf.CASES]
TRAIN = [c["name"] for c in mf.CASES if c["train"]]


def load(name):
    return mf.safetensors_read(os.path.join(FIX, name))


def expected_shapes(cfg):
    F, H, L = cfg["feature_dim"], cfg["hidden_dim"], cfg["num_layers"]
    C, widths = cfg["num_classes"], cfg["classifier_widths"]
    bi = cfg["bidirectional"]
    D = 2 * H if bi else H
    s = {"input_projection.0.weight": (H, F), "input_projection.0.bias": (H,),
         "input_projection.1.weight": (H,), "input_projection.1.bias": (H,)}
    for k in range(L):
        for suf in ([""] + (["_reverse"] if bi else [])):
            s["lstm.weight_ih_l%d%s" % (k, suf)] = (4 * H, H if k == 0 else D)
            s["lstm.weight_hh_l%d%s" % (k, suf)] = (4 * H, H)
            s["lstm.bias_ih_l%d%s" % (k, suf)] = (4 * H,)
            s["lstm.bias_hh_l%d%s" % (k, suf)] = (4 * H,)
    s.update({"attention.in_proj_weight": (3 * D, D), "attention.in_proj_bias": (3 * D,),
              "attention.out_proj.weight": (D, D), "attention.out_proj.bias": (D,),
              "attention_norm.weight": (D,), "attention_norm.bias": (D,),
              "attention_pooling.0.weight": (D // 2, D), "attention_pooling.0.bias": (D // 2,),
              "attention_pooling.1.weight": (D // 2,), "attention_pooling.1.bias": (D // 2,),
              "attention_pooling.4.weight": (1, D // 2), "attention_pooling.4.bias": (1,)})
    prev = D
    for i, w in enumerate(widths):
        s["classifier.%d.weight" % (4 * i)] = (w, prev)
        s["classifier.%d.bias" % (4 * i)] = (w,)
        s["classifier.%d.weight" % (4 * i + 1)] = (w,)
        s["classifier.%d.bias" % (4 * i + 1)] = (w,)
        prev = w
    n = 4 * len(widths)
    s["classifier.%d.weight" % n] = (C, prev)
    s["classifier.%d.bias" % n] = (C,)
    return s


def test_safetensors_roundtrip(tmp_path):
    mf.selftest_safetensors(str(tmp_path))


@pytest.mark.parametrize("name", CASES)
def test_weights(name):
    case = next(c for c in mf.CASES if c["name"] == name)
    w, meta = load(name + ".weights.safetensors")
    assert meta is None
    exp = expected_shapes(case["cfg"])
    assert set(w) == set(exp)
    for k, shp in exp.items():
        assert w[k].dtype == np.float32 and w[k].shape == shp, k


@pytest.mark.parametrize("name", CASES)
def test_io(name):
    io, meta = load(name + ".io.safetensors")
    cfg = json.loads(meta["config"])
    case = next(c for c in mf.CASES if c["name"] == name)
    assert cfg == case["cfg"] and meta["description"]
    B, T, F, C = case["B"], case["T"], cfg["feature_dim"], cfg["num_classes"]
    assert io["features"].dtype == np.float32 and io["features"].shape == (B, T, F)
    if case["lengths"] is None:
        assert "lengths" not in io
    else:
        assert io["lengths"].dtype == np.int32 and list(io["lengths"]) == case["lengths"]
    for mode in mf.MODES:
        assert io["logits." + mode].dtype == np.float32 and io["logits." + mode].shape == (B, C)
        assert io["logits64." + mode].dtype == np.float64 and io["logits64." + mode].shape == (B, C)
        assert io["frame_weights." + mode].dtype == np.float32
        assert io["frame_weights64." + mode].dtype == np.float64
        assert io["frame_weights." + mode].shape == io["frame_weights64." + mode].shape == (B, T)
        np.testing.assert_allclose(io["frame_weights64." + mode].sum(1), 1.0, atol=1e-12)
        d = np.abs(io["logits." + mode] - io["logits64." + mode]).max()
        assert d <= 1e-4 * np.abs(io["logits64." + mode]).max() + 1e-6


@pytest.mark.parametrize("name", TRAIN)
def test_train(name):
    case = next(c for c in mf.CASES if c["name"] == name)
    tr, meta = load(name + ".train.safetensors")
    w, _ = load(name + ".weights.safetensors")
    B, C = case["B"], case["cfg"]["num_classes"]
    for k in ("clip_norm", "smoothing", "gamma", "lr", "weight_decay", "betas", "eps", "config"):
        assert k in meta
    assert tr["labels"].dtype == np.int64 and tr["labels"].shape == (B,)
    assert tr["alpha"].dtype == np.float32 and tr["alpha"].shape == (C,)
    for mode in mf.MODES:
        assert tr["loss." + mode].dtype == np.float32 and tr["loss." + mode].shape == (1,)
        assert tr["loss64." + mode].dtype == np.float64 and tr["loss64." + mode].shape == (1,)
        for p, v in w.items():
            assert tr["grad.%s.%s" % (mode, p)].shape == v.shape
            assert tr["grad.%s.%s" % (mode, p)].dtype == np.float32
            assert tr["grad64.%s.%s" % (mode, p)].dtype == np.float64
    for p, v in w.items():
        for pre in ("clipped.", "step1.", "step5."):
            assert tr[pre + p].dtype == np.float32 and tr[pre + p].shape == v.shape
    n = 2 + 2 * 2 + len(w) * (2 * 2 + 3)
    assert len(tr) == n


def test_schedule_and_adamw():
    s, _ = load("schedule.safetensors")
    lr = s["lr"]
    assert lr.dtype == np.float64 and lr.shape == (400,) and lr[0] == 1e-3
    assert [k for k in range(1, 400) if lr[k] > lr[k - 1]] == [20, 60, 140, 300]
    a, meta = load("adamw.safetensors")
    assert set(a) == {"p0", "lr", "m5", "v5"} | {"g%d" % k for k in range(1, 6)} | \
        {"p%d" % k for k in range(1, 6)}
    assert a["lr"].dtype == np.float64 and np.array_equal(a["lr"], lr[:5])
    for k, v in a.items():
        if k != "lr":
            assert v.dtype == np.float32 and v.shape == (20000,), k


@pytest.mark.skipif(torch is None, reason="needs python3-torch")
@pytest.mark.parametrize("name", CASES)
def test_weights_load_into_pytorch(name):
    case = next(c for c in mf.CASES if c["name"] == name)
    w, _ = load(name + ".weights.safetensors")
    io, _ = load(name + ".io.safetensors")
    m = mf.SuperEnhancedTemporalModel(**case["cfg"]).eval()
    m.load_state_dict({k: torch.from_numpy(v) for k, v in w.items()}, strict=True)
    x = torch.from_numpy(io["features"])
    ln = torch.from_numpy(io["lengths"]) if "lengths" in io else None
    for mode in mf.MODES:
        lg, fw = m(x, ln, mode)
        np.testing.assert_array_equal(lg.detach().numpy(), io["logits." + mode])
        np.testing.assert_array_equal(fw.detach().numpy(), io["frame_weights." + mode])


@pytest.mark.skipif(torch is None, reason="needs python3-torch")
def test_regenerates_identically():
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.executable, os.path.join(HERE, "make_fixtures.py"), "--out", d],
                       check=True, stdout=subprocess.DEVNULL)
        mine = sorted(f for f in os.listdir(d) if f.endswith(".safetensors"))
        committed = sorted(f for f in os.listdir(FIX) if f.endswith(".safetensors"))
        assert mine == committed
        for f in mine:
            with open(os.path.join(d, f), "rb") as a, open(os.path.join(FIX, f), "rb") as b:
                assert a.read() == b.read(), f


@pytest.mark.parametrize("name", TRAIN)
def test_clipped_is_grad_times_coef(name):
    tr, meta = load(name + ".train.safetensors")
    coef = np.float32(float(meta["clip_coef_step1"]))
    for k in tr:
        if k.startswith("clipped."):
            p = k[len("clipped."):]
            assert np.array_equal(tr["grad.masked." + p] * coef, tr[k]), p
