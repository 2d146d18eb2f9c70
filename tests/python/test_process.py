"""Process-level behaviour, each in a fresh interpreter: the fork guard, and loading the library
after numpy and torch (the static-TLS check: ctypes dlopens the library, as real hosts do)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import pytest

from temporal_testlib import SMALL_CONFIG


def _run(code: str, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=300
    )


def test_forked_child_gets_the_fork_guard_error(temporal, subprocess_env):
    r = _run(
        f"""
        import os, numpy as np, temporal
        m = temporal.Model.create({SMALL_CONFIG!r}, seed=1)
        x = np.ones((2, 4, {SMALL_CONFIG['feature_dim']}), np.float32)
        before = m.predict(x)
        pid = os.fork()
        if pid == 0:
            code = 0
            for call in (lambda: m.predict(x), temporal.version,
                         lambda: temporal.Model.create({SMALL_CONFIG!r})):
                try:
                    call()
                    code = 1
                except temporal.ForkedProcessError as e:
                    if not (isinstance(e, temporal.TemporalError) and "spawn" in str(e)):
                        code = 2
                except BaseException:
                    code = 3
            m.close()  # must not call into the library (nor raise)
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        print("CHILD", os.waitstatus_to_exitcode(status))
        assert (m.predict(x) == before).all()  # the parent is unaffected
        print("PARENT OK")
        """,
        subprocess_env,
    )
    assert "CHILD 0" in r.stdout and "PARENT OK" in r.stdout, r.stdout + r.stderr


def test_spawned_workers_can_use_the_library(temporal, subprocess_env, tmp_path):
    """The documented way to use several processes: the 'spawn' start method."""
    script = tmp_path / "spawn_workers.py"  # spawn re-imports __main__, so it must be a file
    script.write_text(
        textwrap.dedent(
            f"""
            import multiprocessing as mp
            import numpy as np

            def work(seed):
                import temporal
                with temporal.Model.create({SMALL_CONFIG!r}, seed=seed) as m:
                    return m.predict(np.ones((1, 3, {SMALL_CONFIG['feature_dim']}), np.float32)).tolist()

            if __name__ == "__main__":
                import temporal  # loaded in the parent too: spawn children start fresh
                with mp.get_context("spawn").Pool(2) as pool:
                    out = pool.map(work, [1, 1, 2])
                assert out[0] == out[1] and out[0] != out[2]
                print("SPAWN OK")
            """
        )
    )
    r = subprocess.run([sys.executable, str(script)], env=subprocess_env, capture_output=True, text=True, timeout=120)
    assert "SPAWN OK" in r.stdout, r.stdout + r.stderr


def test_load_after_numpy_and_torch(temporal, subprocess_env):
    if importlib.util.find_spec("torch") is None:
        pytest.skip(f"torch is not installed for {sys.executable}")
    r = _run(
        f"""
        import numpy, torch
        t = torch.nn.Linear(4, 2)(torch.ones(3, 4))          # torch's BLAS and OpenMP are up
        import temporal                                       # now dlopen libtemporal
        with temporal.Model.create({SMALL_CONFIG!r}, seed=3) as m:
            x = numpy.random.default_rng(0).standard_normal((2, 5, {SMALL_CONFIG['feature_dim']}), dtype=numpy.float32)
            logits = m.predict(x)
        assert logits.shape == (2, {SMALL_CONFIG['num_classes']})
        a = numpy.random.default_rng(1).standard_normal((64, 64))
        assert numpy.allclose(a @ numpy.linalg.inv(a), numpy.eye(64), atol=1e-8)   # numpy's BLAS still right
        assert torch.allclose(torch.from_numpy(a) @ torch.from_numpy(a), torch.from_numpy(a @ a))
        print("TORCH OK", temporal.library_path)
        """,
        subprocess_env,
    )
    assert "TORCH OK" in r.stdout, r.stdout + r.stderr
