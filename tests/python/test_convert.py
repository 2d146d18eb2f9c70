"""python -m temporal.convert: a torch.save checkpoint of the reference model becomes a
libtemporal checkpoint that gives PyTorch's logits."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import st_io
from temporal_testlib import REPO

torch = pytest.importorskip("torch")

CASE = REPO / "tests" / "parity" / "fixtures" / "tiny_bi_mixed"


def _fixture():
    weights, _ = st_io.read(f"{CASE}.weights.safetensors")
    io, meta = st_io.read(f"{CASE}.io.safetensors")
    return weights, io, json.loads(meta["config"])


def _close_to(got, want):
    tol = 1e-4 * np.abs(want).max() + 1e-6
    assert np.abs(got - want).max() <= tol


@pytest.mark.parametrize("layout", ["trainer", "module-prefix", "bare"])
def test_convert_reference_checkpoint(temporal, tmp_path, layout):
    from temporal.convert import convert

    weights, io, cfg = _fixture()
    sd = {k: torch.from_numpy(v.copy()) for k, v in weights.items()}
    names = [f"class{i}" for i in range(cfg["num_classes"])]
    if layout == "trainer":
        ckpt = {"model_state_dict": sd, "epoch": 3,
                "config": {"input_dim": cfg["feature_dim"], "num_heads": cfg["num_heads"], "dropout": 0.4},
                "category_mapping": {n: i for i, n in reversed(list(enumerate(names)))}}
    elif layout == "module-prefix":
        ckpt = {"state_dict": {"module." + k: v for k, v in sd.items()}}
    else:
        ckpt = sd
    src = tmp_path / "ckpt.pth"
    torch.save(ckpt, src)
    out = tmp_path / "out.safetensors"
    heads = None if layout == "trainer" else cfg["num_heads"]
    c = convert(src, out, num_heads=heads)
    assert c.num_heads == cfg["num_heads"] and c.feature_dim == cfg["feature_dim"]
    with temporal.Model.load(out) as m:  # everything is in the file now, heads included
        assert m.config == c
        assert m.config.class_names == (tuple(names) if layout == "trainer" else None)
        for padding in ("masked", "reference"):
            _close_to(m.predict(io["features"], io["lengths"], padding=padding), io[f"logits64.{padding}"])


def test_convert_cli(temporal, tmp_path, subprocess_env):
    weights, io, cfg = _fixture()
    src = tmp_path / "ckpt.pth"
    torch.save({"model_state_dict": {k: torch.from_numpy(v.copy()) for k, v in weights.items()}}, src)
    out = tmp_path / "cli.safetensors"
    r = subprocess.run(
        [sys.executable, "-m", "temporal.convert", str(src), str(out), "--num-heads", str(cfg["num_heads"]),
         "--class-names", ",".join("abc"[: cfg["num_classes"]])],
        env=subprocess_env, capture_output=True, text=True, timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stdout
    with temporal.Model.load(out) as m:
        assert m.config.class_names == tuple("abc"[: cfg["num_classes"]])
        _close_to(m.predict(io["features"], io["lengths"]), io["logits64.masked"])


def test_convert_rejects_a_checkpoint_without_weights(temporal, tmp_path, subprocess_env):
    src = tmp_path / "nothing.pth"
    torch.save({"epoch": 1, "optimizer": {}}, src)
    r = subprocess.run([sys.executable, "-m", "temporal.convert", str(src), str(tmp_path / "x.safetensors")],
                       env=subprocess_env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "model_state_dict" in r.stderr
    assert not (tmp_path / "x.safetensors").exists()


def test_convert_wrong_tensors_is_a_format_error(temporal, tmp_path):
    from temporal.convert import convert

    weights, _, cfg = _fixture()
    sd = {k: torch.from_numpy(v.copy()) for k, v in weights.items()}
    del sd["attention.out_proj.bias"]
    torch.save({"model_state_dict": sd}, tmp_path / "bad.pth")
    with pytest.raises(temporal.FormatError, match="out_proj"):
        convert(tmp_path / "bad.pth", tmp_path / "bad.safetensors", num_heads=cfg["num_heads"])
    assert not (tmp_path / "bad.safetensors").exists()
