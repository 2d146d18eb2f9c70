"""Training from Python: Trainer.step, train() with a progress callback (fields, cancel by
return value and by exception), write_dataset, and the nohdf5 build's UnsupportedError.
Tiny configs: the whole file runs in a few seconds."""

from __future__ import annotations

import gc
import json
import math

import numpy as np
import pytest

TINY = dict(feature_dim=4, hidden_dim=4, num_layers=1, num_heads=2, num_classes=2, dropout=0.0,
            classifier_widths=(8,))


def ramp_data(n, T=12, F=4, min_len=9, seed=0):
    """Clips whose class is the direction of a ramp in feature 0 (order matters)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, T, F), dtype=np.float32)
    y = np.arange(n, dtype=np.int64) % 2
    lengths = rng.integers(min_len, T + 1, size=n).astype(np.int32)
    for i in range(n):
        k = lengths[i]
        ramp = np.linspace(0, 1, k, dtype=np.float32)
        x[i, :k] = 0.1 * rng.standard_normal((k, F)).astype(np.float32)
        x[i, :k, 0] += ramp if y[i] == 0 else 1 - ramp
        x[i, :k, 1] += 0.5
    return x, y, lengths


@pytest.fixture(scope="module")
def needs_hdf5(temporal):
    if not temporal.hdf5_available():
        pytest.skip("nohdf5 build (see test_nohdf5_build_refuses_datasets)")


@pytest.fixture(scope="module")
def datasets(temporal, needs_hdf5, tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    xt, yt, nt = ramp_data(24, seed=1)
    xv, yv, nv = ramp_data(12, seed=2)
    temporal.write_dataset(d / "train.h5", xt, yt, lengths=nt, class_names=["up", "down"])
    temporal.write_dataset(d / "val.h5", xv, yv, lengths=nv, class_names=["up", "down"])
    return d / "train.h5", d / "val.h5"


FAST = dict(epochs=3, batch_size=8, lr=5e-3, seed=3)


# --- Trainer --------------------------------------------------------------------------------


def run_steps(temporal, seed, steps=10):
    x, y, n = ramp_data(8, T=6, min_len=2, seed=5)
    with temporal.Model.create(TINY, seed=seed) as m, temporal.Trainer(m, seed=seed, lr=1e-2, dropout=False) as tr:
        assert tr.lr == pytest.approx(1e-2)
        losses = [tr.step(x, y, lengths=n) for _ in range(steps)]
        assert tr.lr < 1e-2
        return losses, m.predict_proba(x, n)


def test_trainer_step_decreases_loss_and_is_deterministic(temporal):
    l1, p1 = run_steps(temporal, 7)
    l2, p2 = run_steps(temporal, 7)
    assert all(math.isfinite(v) and v > 0 for v in l1)
    assert l1[-1] < 0.9 * l1[0]
    assert l1 == l2
    np.testing.assert_array_equal(p1, p2)


def test_trainer_state_resumes_a_custom_loop_bitwise(temporal, tmp_path):
    x, y, n = ramp_data(8, T=6, min_len=2, seed=3)
    with temporal.Model.create(TINY, seed=2) as m, temporal.Trainer(m, seed=9, lr=1e-2) as tr:
        for _ in range(3):
            tr.step(x, y, lengths=n)
        m.save(tmp_path / "model.safetensors")
        tr.save_state(tmp_path / "trainer.safetensors")
        rest = [tr.step(x, y, lengths=n) for _ in range(4)]
        want = m.predict_proba(x, n)
    with temporal.Model.load(tmp_path / "model.safetensors") as m2, temporal.Trainer(m2, seed=9, lr=1e-2) as tr2:
        tr2.load_state(tmp_path / "trainer.safetensors")
        assert [tr2.step(x, y, lengths=n) for _ in range(4)] == rest
        np.testing.assert_array_equal(m2.predict_proba(x, n), want)
        with pytest.raises(temporal.FormatError):
            tr2.load_state(tmp_path / "model.safetensors")  # a model file is not a trainer state
        with pytest.raises(temporal.TemporalIOError):
            tr2.load_state(tmp_path / "missing")
        with pytest.raises(temporal.TemporalIOError):
            tr2.save_state(tmp_path / "no-such-dir" / "state")
    with pytest.raises(temporal.BadHandleError):
        tr2.save_state(tmp_path / "after-close")


def test_trainer_class_weights(temporal):
    x, y, n = ramp_data(8, T=6, min_len=2, seed=4)

    def first_loss(weights=None, reset=False):
        with temporal.Model.create(TINY, seed=5) as m, temporal.Trainer(m, seed=1, dropout=False) as tr:
            if weights is not None:
                tr.set_class_weights(weights)
            if reset:
                tr.set_class_weights(None)
            return tr.step(x, y, lengths=n)

    plain = first_loss()
    weighted = first_loss([0.25, 3.0])
    assert math.isfinite(weighted) and weighted != plain
    assert first_loss([0.25, 3.0], reset=True) == plain
    with temporal.Model.create(TINY, seed=5) as m, temporal.Trainer(m) as tr:
        for bad in ([1.0], [1.0, 1.0, 1.0], [1.0, -1.0], [1.0, float("nan")], [], [[1.0, 2.0]] * 2):
            with pytest.raises(temporal.InvalidArgumentError):
                tr.set_class_weights(bad)


def test_trainer_errors(temporal):
    x, y, n = ramp_data(8, T=6, min_len=2)
    with temporal.Model.create(TINY, seed=1) as m:
        with pytest.raises(TypeError):
            temporal.Trainer(m, nonsense=1)
        with pytest.raises(temporal.InvalidArgumentError):
            temporal.Trainer(m, lr=-1.0)
        with pytest.raises(temporal.InvalidArgumentError):
            temporal.Trainer(m, loss="hinge")
        with temporal.Trainer(m) as tr:
            bad = y.copy()
            bad[2] = 2
            with pytest.raises(temporal.InvalidArgumentError, match="labels"):
                tr.step(x, bad, n)
            bad[2] = -1
            with pytest.raises(temporal.InvalidArgumentError):
                tr.step(x, bad, n)
            with pytest.raises(temporal.ShapeError):
                tr.step(x, y[:3], n)
            with pytest.raises(TypeError):
                tr.step(x, y.astype(np.float32), n)
            with pytest.raises(temporal.ShapeError):
                tr.step(x[:, :, :3], y, n)
            xn = x.copy()
            xn[0, 0, 0] = np.nan
            with pytest.raises(temporal.NumericError):
                tr.step(xn, y, n)
            assert tr.lr == pytest.approx(1e-3)  # failed steps changed nothing
            assert tr.step(x, y, n) > 0
        with pytest.raises(temporal.BadHandleError):
            tr.step(x, y, n)
        tr.close()  # idempotent
        # The trainer keeps the weights alive after the model is closed.
        tr2 = temporal.Trainer(m)
    m.close()
    assert tr2.step(x, y, n) > 0
    tr2.close()


# --- datasets and train ---------------------------------------------------------------------


def test_write_dataset_errors(temporal, needs_hdf5, tmp_path):
    x, y, n = ramp_data(6)
    with pytest.raises(temporal.InvalidArgumentError):
        temporal.write_dataset(tmp_path / "a.h5", x, y + 5, lengths=n, num_classes=2)
    with pytest.raises(temporal.InvalidArgumentError):
        temporal.write_dataset(tmp_path / "a.h5", x, y, lengths=n, class_names=["a", "a"])
    with pytest.raises(temporal.InvalidArgumentError):
        temporal.write_dataset(tmp_path / "a.h5", x, y, lengths=n + 20)
    xn = x.copy()
    xn[1, 0, 0] = np.inf
    with pytest.raises(temporal.NumericError):
        temporal.write_dataset(tmp_path / "a.h5", xn, y, lengths=n)
    with pytest.raises(temporal.TemporalIOError):
        temporal.write_dataset(tmp_path / "missing-dir" / "a.h5", x, y, lengths=n)
    temporal.write_dataset(tmp_path / "a.h5", x, y)  # no lengths, no names


def test_write_dataset_reads_back_with_h5py(temporal, needs_hdf5, tmp_path):
    h5py = pytest.importorskip("h5py")
    x, y, n = ramp_data(5)
    x[0, n[0]:] = 7.0  # padding is written as zeros
    temporal.write_dataset(tmp_path / "d.h5", x, y, lengths=n, class_names=["up", "down"])
    with h5py.File(tmp_path / "d.h5", "r") as f:
        np.testing.assert_array_equal(f["labels"][()], y)
        np.testing.assert_array_equal(f["num_frames"][()], n)
        feats = f["features"][()]
        assert feats.shape == x.shape and feats.dtype == np.float32
        assert (feats[0, n[0]:] == 0).all()
        np.testing.assert_array_equal(feats[1, : n[1]], x[1, : n[1]])
        cm = f.attrs["category_mapping"]
        cm = json.loads(cm if isinstance(cm, str) else cm.decode())
        assert cm == {"up": 0, "down": 1}


def test_train_report_and_progress(temporal, datasets, tmp_path):
    train_h5, val_h5 = datasets
    seen = []
    rep = temporal.train(train_h5, val_h5, tmp_path / "run", model_config=dict(TINY, feature_dim=0, num_classes=0),
                         progress=seen.append, **FAST)
    assert isinstance(rep, temporal.TrainReport)
    assert rep.epochs_run == 3 and rep.final_step == 9 and not rep.stopped_early
    assert 1 <= rep.best_epoch <= 3 and 0 < rep.best_val_accuracy <= 1
    assert rep.final_train_loss is not None and rep.final_train_loss > 0
    steps = [p for p in seen if p.phase == "step"]
    epochs = [p for p in seen if p.phase == "epoch"]
    assert len(steps) == 9 and len(epochs) == 3
    assert [p.step for p in steps] == list(range(1, 10))
    for p in seen:
        assert isinstance(p, temporal.Progress)
        assert 1 <= p.epoch <= 3 and p.epochs == 3 and p.steps_per_epoch == 3
        assert p.loss > 0 and p.lr > 0 and p.eta_seconds >= 0 and p.elapsed_seconds >= 0
    assert steps[0].val_accuracy is None  # before the first validation
    for p in epochs:
        assert 0 <= p.val_accuracy <= 1 and 0 <= p.val_macro_f1 <= 1 and p.val_loss > 0
    assert steps[-1].val_accuracy == epochs[1].val_accuracy  # the last finished epoch's
    assert epochs[-1].eta_seconds == 0
    d = epochs[0].to_dict()
    assert d["phase"] == "epoch"
    with temporal.Model.load(rep.best_model_path) as m:
        assert m.config.feature_dim == 4 and m.config.class_names == ("up", "down")
    # Deterministic: the same seed gives the same weights.
    rep2 = temporal.train(train_h5, val_h5, tmp_path / "run2", model_config=dict(TINY), **FAST)
    a = (tmp_path / "run" / "best.safetensors").read_bytes()
    b = (tmp_path / "run2" / "best.safetensors").read_bytes()
    assert rep2.best_epoch == rep.best_epoch and a == b


def test_train_cancel_by_return_value(temporal, datasets, tmp_path):
    train_h5, val_h5 = datasets
    out = tmp_path / "c"
    with pytest.raises(temporal.CancelledError) as e:
        temporal.train(train_h5, val_h5, out, model_config=TINY, progress=lambda p: p.step == 5, **FAST)
    rep = e.value.report
    assert rep.epochs_run == 1 and rep.final_step == 5
    assert (out / "checkpoint.json").exists()
    with temporal.Model.load(out / "last-3.safetensors") as m:
        assert m.num_classes == 2
    with temporal.Model.load(rep.best_model_path):
        pass
    # Resume completes the run from the epoch-1 checkpoint.
    rep = temporal.train(train_h5, val_h5, out, model_config=TINY, resume=True, **FAST)
    assert rep.epochs_run == 3 and rep.final_step == 9


class Boom(Exception):
    pass


def test_train_callback_exception_cancels_and_reraises(temporal, datasets, tmp_path):
    train_h5, val_h5 = datasets
    calls = []

    def cb(p):
        calls.append(p.step)
        if p.phase == "epoch":
            raise Boom("stop here")

    with pytest.raises(Boom, match="stop here"):
        temporal.train(train_h5, val_h5, tmp_path / "x", model_config=TINY, progress=cb, **FAST)
    assert calls == [1, 2, 3, 3]  # three steps, then the epoch report raised; nothing after
    assert (tmp_path / "x" / "checkpoint.json").exists()
    with temporal.Model.load(tmp_path / "x" / "best.safetensors"):
        pass
    gc.collect()
    # The library is still fine afterwards.
    rep = temporal.train(train_h5, None, tmp_path / "y", model_config=TINY, **dict(FAST, epochs=1))
    assert rep.epochs_run == 1 and rep.best_val_accuracy == 0


def test_train_errors(temporal, datasets, tmp_path):
    train_h5, val_h5 = datasets
    with pytest.raises(TypeError):
        temporal.train(train_h5, val_h5, tmp_path, model_config=TINY, bogus=1)
    with pytest.raises(temporal.InvalidArgumentError, match="epochs"):
        temporal.train(train_h5, val_h5, tmp_path, model_config=TINY, epochs=0)
    with pytest.raises(temporal.TemporalIOError):
        temporal.train(tmp_path / "missing.h5", None, tmp_path, model_config=TINY)
    with pytest.raises(temporal.ShapeError):
        temporal.train(train_h5, None, tmp_path, model_config=dict(TINY, feature_dim=5), epochs=1)
    with pytest.raises(TypeError):
        temporal.train(train_h5, None, tmp_path, model_config=TINY, progress=5)


def test_nohdf5_build_refuses_datasets(temporal, tmp_path):
    if temporal.hdf5_available():
        pytest.skip("this build has HDF5 (the nohdf5 build is checked by the C dlopen test and here when loaded)")
    x, y, n = ramp_data(4)
    with pytest.raises(temporal.UnsupportedError, match="HDF5"):
        temporal.write_dataset(tmp_path / "a.h5", x, y, lengths=n)
    with pytest.raises(temporal.UnsupportedError, match="HDF5"):
        temporal.train(tmp_path / "a.h5", None, tmp_path / "out", model_config=TINY, epochs=1)


def test_nohdf5_build_in_a_subprocess(temporal, subprocess_env, tmp_path):
    """Loads the nohdf5 build (CMake builds it next to the default one) in a child process."""
    import subprocess
    import sys
    from pathlib import Path

    from temporal_testlib import REPO

    lib = Path(temporal.library_path).resolve()
    candidates = [lib.parent.parent / "lib-nohdf5" / "libtemporal.so.1", REPO / "build" / "lib-nohdf5" / "libtemporal.so.1"]
    nohdf5 = next((c for c in candidates if c.exists()), None)
    if nohdf5 is None or nohdf5 == lib:
        pytest.skip("no separate nohdf5 build found")
    code = (
        "import numpy as np, temporal\n"
        "assert not temporal.hdf5_available()\n"
        "x = np.zeros((2, 3, 4), np.float32); y = np.array([0, 1])\n"
        "for f in (lambda: temporal.write_dataset('a.h5', x, y), lambda: temporal.train('a.h5', None, 'o')):\n"
        "    try:\n"
        "        f()\n"
        "    except temporal.UnsupportedError as e:\n"
        "        assert 'HDF5' in str(e), e\n"
        "    else:\n"
        "        raise SystemExit('no UnsupportedError')\n"
        "print('ok')\n"
    )
    env = dict(subprocess_env, TEMPORAL_LIBRARY=str(nohdf5))
    r = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr


def test_train_keyboard_interrupt_cancels_without_a_callback(temporal, datasets, tmp_path):
    """SIGINT during train() (no progress callback) cancels at the next step and raises
    KeyboardInterrupt; the checkpoint of the finished epoch stays."""
    import signal
    import threading

    train_h5, _ = datasets
    fired = threading.Event()

    def interrupt():
        fired.set()
        signal.raise_signal(signal.SIGINT)

    # Many tiny epochs so the run is still going when the signal arrives.
    timer = threading.Timer(0.3, interrupt)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            temporal.train(train_h5, None, tmp_path / "k", model_config=TINY, **dict(FAST, epochs=100000))
    finally:
        timer.cancel()
    assert fired.is_set()
    assert (tmp_path / "k" / "checkpoint.json").exists()


def test_progress_callback_may_call_the_library(temporal, datasets, tmp_path):
    """The callback runs between steps on the calling thread: it can load the checkpoint just
    committed and predict with it (no deadlock, no interference with the run)."""
    train_h5, val_h5 = datasets
    out = tmp_path / "re"
    xv, yv, nv = ramp_data(12, seed=2)
    accs = []

    def cb(p):
        if p.phase == "epoch":
            with temporal.Model.load(out / "best.safetensors") as m:
                pred = m.predict_proba(xv, nv).argmax(axis=1)
                accs.append(float((pred == yv).mean()))

    rep = temporal.train(train_h5, val_h5, out, model_config=TINY, progress=cb, **FAST)
    assert len(accs) == 3
    assert rep.best_val_accuracy == pytest.approx(max(accs), abs=1e-9)


def test_predicts_in_threads_during_trainer_steps(temporal):
    """Predict threads share the model with a Trainer; steps take the model's lock, so every
    prediction is one of the whole-step states (checked against a serial run)."""
    import threading

    x, y, n = ramp_data(8, T=6, min_len=2, seed=5)
    states = []
    with temporal.Model.create(TINY, seed=3) as ref, temporal.Trainer(ref, dropout=False, lr=1e-2) as tr:
        states.append(ref.predict(x, n))
        for _ in range(5):
            tr.step(x, y, n)
            states.append(ref.predict(x, n))
    seen = []
    stop = threading.Event()
    with temporal.Model.create(TINY, seed=3) as m, temporal.Trainer(m, dropout=False, lr=1e-2) as tr:
        def worker():
            while not stop.is_set():
                seen.append(m.predict(x, n))

        ts = [threading.Thread(target=worker) for _ in range(3)]
        for t in ts:
            t.start()
        for _ in range(5):
            tr.step(x, y, n)
        stop.set()
        for t in ts:
            t.join()
        np.testing.assert_array_equal(m.predict(x, n), states[-1])
    for out in seen:
        assert any(np.array_equal(out, s) for s in states)
