"""Concurrency from Python threads: the GIL is released during predict, and concurrent calls on
one model give bitwise the same results as serial calls (DESIGN §5)."""

from __future__ import annotations

import threading

import numpy as np

from temporal_testlib import SMALL_CONFIG

F = SMALL_CONFIG["feature_dim"]


def _inputs(n):
    rng = np.random.default_rng(99)
    out = []
    for i in range(n):
        B, T = 1 + i % 4, 3 + (i * 5) % 17
        x = rng.standard_normal((B, T, F), dtype=np.float32)
        lengths = rng.integers(1, T + 1, size=B)
        out.append((x, lengths, "masked" if i % 3 else "reference"))
    return out


def test_eight_threads_on_one_model_equal_serial(temporal, small_model):
    inputs = _inputs(24)
    serial = [small_model.predict(x, l, padding=p, return_frame_weights=True) for x, l, p in inputs]
    results = [[None] * len(inputs) for _ in range(8)]
    errors = []
    start = threading.Barrier(8)

    def work(k):
        try:
            start.wait()
            for rep in range(5):
                for j in range(len(inputs)):
                    i = (j + k * 3 + rep) % len(inputs)  # threads run different inputs at once
                    x, l, p = inputs[i]
                    results[k][i] = small_model.predict(x, l, padding=p, return_frame_weights=True)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for k in range(8):
        for i, (logits, w) in enumerate(results[k]):
            np.testing.assert_array_equal(logits, serial[i][0], err_msg=f"thread {k} input {i}")
            np.testing.assert_array_equal(w, serial[i][1], err_msg=f"thread {k} input {i}")


def test_threads_on_several_models(temporal):
    x = np.random.default_rng(5).standard_normal((3, 9, F), dtype=np.float32)
    models = [temporal.Model.create(SMALL_CONFIG, seed=s) for s in range(4)]
    try:
        serial = [m.predict(x) for m in models]
        out = {}

        def work(k):
            out[k] = [models[k % 4].predict(x) for _ in range(10)]

        threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for k, rs in out.items():
            for r in rs:
                np.testing.assert_array_equal(r, serial[k % 4])
    finally:
        for m in models:
            m.close()


def test_close_while_other_threads_predict(temporal):
    """Closing invalidates the model for later calls; calls in flight finish normally; no crash."""
    m = temporal.Model.create(SMALL_CONFIG, seed=11)
    x = np.random.default_rng(6).standard_normal((4, 20, F), dtype=np.float32)
    want = m.predict(x)
    outcomes = []
    running = threading.Barrier(5)

    def work():
        running.wait()
        while True:
            try:
                r = m.predict(x)
            except temporal.BadHandleError:
                outcomes.append("closed")
                return
            if not np.array_equal(r, want):
                outcomes.append("wrong")
                return

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    running.wait()
    for _ in range(3):
        m.predict(x)  # let the workers get going
    m.close()
    for t in threads:
        t.join(timeout=120)
    assert outcomes == ["closed"] * 4
