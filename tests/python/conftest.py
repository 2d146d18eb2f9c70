"""pytest setup for the Python binding.

The library under test is found like this:

1. ``$TEMPORAL_LIBRARY`` (a path to libtemporal.so), when the test runner sets it;
2. otherwise ``scripts/build-lib.sh [flags] build/pytest-lib`` is run once per session
   (flags from ``$TEMPORAL_BUILD_FLAGS``, default none; set it to ``--nohdf5`` for the libc-only
   build) and ``build/pytest-lib/libtemporal.so`` is used.

If neither works every test is skipped with the reason. The binding itself is imported from
``bindings/python`` (no installation needed) unless ``temporal`` is already importable, e.g.
after ``pip install -e bindings/python``.

Tests receive the module through the ``temporal`` fixture (importing it loads the library, so
it must not happen at collection time, before the library is located).
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Optional

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # st_io, temporal_testlib

from temporal_testlib import REPO, SMALL_CONFIG  # noqa: E402

BINDING_DIR = REPO / "bindings" / "python"
BUILD_DIR = REPO / "build" / "pytest-lib"

if importlib.util.find_spec("temporal") is None:
    sys.path.insert(0, str(BINDING_DIR))

_library: Optional[str] = None
_skip_reason: Optional[str] = None


def _locate_library() -> None:
    global _library, _skip_reason
    env = os.environ.get("TEMPORAL_LIBRARY")
    if env:
        _library = env
        return
    script = REPO / "scripts" / "build-lib.sh"
    if not script.exists():
        _skip_reason = f"TEMPORAL_LIBRARY is not set and {script} does not exist to build the library"
        return
    flags = shlex.split(os.environ.get("TEMPORAL_BUILD_FLAGS", ""))
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    cmd = ["bash", str(script), *flags, str(BUILD_DIR)]
    r = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lib = BUILD_DIR / "libtemporal.so"
    if r.returncode != 0 or not lib.exists():
        _skip_reason = (
            f"TEMPORAL_LIBRARY is not set and `{' '.join(cmd)}` failed (rc {r.returncode}):\n"
            + r.stdout[-3000:]
        )
        return
    _library = str(lib)
    # The binding reads TEMPORAL_LIBRARY at import; subprocess tests inherit it too.
    os.environ["TEMPORAL_LIBRARY"] = _library


def pytest_configure(config: pytest.Config) -> None:
    _locate_library()


def pytest_report_header(config: pytest.Config) -> str:
    if _library:
        return f"libtemporal: {_library}"
    return f"libtemporal: not available ({(_skip_reason or '').splitlines()[0]})"


@pytest.fixture(scope="session")
def temporal():
    """The imported ``temporal`` package (skips when the library is not available)."""
    if _library is None:
        pytest.skip(_skip_reason or "libtemporal not available")
    import temporal as t

    return t


@pytest.fixture(scope="session")
def subprocess_env():
    """Environment for child Python processes: finds the same binding and library."""
    env = dict(os.environ)
    if _library:
        env["TEMPORAL_LIBRARY"] = _library
    import temporal as t  # noqa: F401  (only to learn where it was imported from)

    pkg_parent = str(Path(t.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([pkg_parent, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


@pytest.fixture(scope="session")
def small_model(temporal):
    """A small model created with a fixed seed; shared by read-only tests."""
    m = temporal.Model.create(SMALL_CONFIG, seed=7)
    yield m
    m.close()


@pytest.fixture()
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture()
def batch(rng):
    """(features float32 [4, 10, 16], lengths int32 [4]) with zeroed padding."""
    x = rng.standard_normal((4, 10, SMALL_CONFIG["feature_dim"]), dtype=np.float32)
    lengths = np.array([10, 3, 1, 7], dtype=np.int32)
    for b, n in enumerate(lengths):
        x[b, n:] = 0
    return x, lengths
