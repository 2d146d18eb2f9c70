"""Repeated load/predict/close (and failing calls) keep the resident set flat: a leaked model
(22 KB of weights plus its workspaces) per cycle would add tens of MB over these loops."""

from __future__ import annotations

import os

import numpy as np
import pytest

from temporal_testlib import REPO

SMALL = REPO / "tests" / "data" / "small.safetensors"


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_load_predict_close_cycles_do_not_grow_rss(temporal):
    if not SMALL.exists():
        pytest.skip("tests/data/small.safetensors missing")
    data = SMALL.read_bytes()
    x = np.ones((3, 7, 16), np.float32)

    def cycles(n):
        for _ in range(n):
            with temporal.Model.load_bytes(data) as m:
                m.predict(x, [7, 4, 1], return_frame_weights=True)
            try:
                temporal.Model.load_bytes(data[: len(data) // 2])
            except temporal.FormatError:
                pass
            try:
                m.predict(x)
            except temporal.BadHandleError:
                pass

    cycles(500)  # warm up: Go heap, workspaces, Python caches
    before = _rss_mib()
    cycles(3000)
    grown = _rss_mib() - before
    assert grown < 20, f"RSS grew by {grown:.1f} MiB over 3000 load/predict/close cycles"
