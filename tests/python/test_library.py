"""Library-level functions, the header contract as seen from ctypes, and the lookup rules."""

from __future__ import annotations

import ctypes
import re
import subprocess
import sys
import textwrap

import pytest

from temporal_testlib import REPO

HEADER = REPO / "include" / "temporal.h"


def header_functions() -> list:
    """Names of every function the header declares."""
    text = HEADER.read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    names = re.findall(r"\b(temporal_[a-z0-9_]+)\s*\(", text)
    inline = set(re.findall(r"static inline \w+ (temporal_[a-z0-9_]+)\s*\(", text))
    return sorted(set(names) - inline)


def test_version_and_abi(temporal):
    v = temporal.version()
    assert isinstance(v, str) and re.fullmatch(r"\d+\.\d+\.\d+.*", v), v
    assert temporal.abi_version() == temporal.ABI_VERSION


def test_binding_abi_matches_header(temporal):
    m = re.search(r"#define\s+TEMPORAL_ABI_VERSION\s+(\d+)", HEADER.read_text())
    assert m, "TEMPORAL_ABI_VERSION not found in include/temporal.h"
    assert int(m.group(1)) == temporal.ABI_VERSION


def test_status_codes_match_header(temporal):
    from temporal import errors

    text = HEADER.read_text()
    codes = {name: int(v) for name, v in re.findall(r"\b(TEMPORAL_(?:OK|ERR_\w+))\s*=\s*(\d+)", text)}
    assert codes, "no status codes found in the header"
    assert {v: k for k, v in codes.items()} == errors.STATUS_NAMES
    for status in codes.values():
        if status:
            cls = errors.error_class(status)
            assert issubclass(cls, temporal.TemporalError) and cls is not temporal.TemporalError


_C_SCALARS = {
    "int": (4, True), "temporal_status": (4, True), "int32_t": (4, True), "uint32_t": (4, False),
    "int64_t": (8, True), "uint64_t": (8, False), "temporal_model": (8, False),
    "temporal_trainer": (8, False),
    "size_t": (ctypes.sizeof(ctypes.c_size_t), False),
}


def _c_kind(decl: str):
    """('ptr',) or (size, signed) for one C parameter or return type."""
    decl = decl.strip()
    if "*" in decl:
        return ("ptr",)
    words = [w for w in decl.split() if w not in ("const",)]
    # drop the parameter name when there is one
    base = words[0] if len(words) <= 2 else " ".join(words[:-1])
    if base in ("temporal_log_fn", "temporal_progress_fn"):  # function pointer typedefs
        return ("ptr",)
    return _C_SCALARS[base]


def _ctypes_kind(t):
    if t in (ctypes.c_void_p, ctypes.c_char_p) or (
        isinstance(t, type) and issubclass(t, (ctypes._Pointer, ctypes._CFuncPtr))
    ):
        return ("ptr",)
    return (ctypes.sizeof(t), t(-1).value < 0)


def header_signatures() -> dict:
    """name -> (return type text, [parameter texts]) for every non-inline function."""
    text = re.sub(r"/\*.*?\*/", "", HEADER.read_text(), flags=re.S)
    sigs = {}
    for ret, name, params in re.findall(r"([A-Za-z_][\w \t\*]*?)\s*\b(temporal_[a-z0-9_]+)\s*\(([^)]*)\)\s*;", text):
        ps = [] if params.strip() in ("", "void") else [p.strip() for p in params.split(",")]
        sigs[name] = (ret.strip(), ps)
    return sigs


def test_every_header_function_is_declared(temporal):
    """argtypes and restype are set for every function the header declares, with matching
    widths and signedness (a missing argtypes would pass the 64-bit handles as C ints)."""
    from temporal import _library

    not_wrapped = set()
    declared = {}
    for attr in dir(_library):
        fn = getattr(_library, attr)
        if attr.startswith("f_") and fn is not None:
            declared[fn.__name__] = fn
    sigs = header_signatures()
    assert set(header_functions()) == set(sigs), "header parse disagrees with itself"
    for name, (ret, params) in sigs.items():
        if name in not_wrapped:
            continue
        assert name in declared, f"{name} is declared in temporal.h but not in the binding"
        fn = declared[name]
        assert fn.argtypes is not None, f"{name} has no argtypes"
        assert len(fn.argtypes) == len(params), f"{name}: {len(fn.argtypes)} argtypes for {params}"
        for i, (p, t) in enumerate(zip(params, fn.argtypes)):
            assert _c_kind(p) == _ctypes_kind(t), f"{name} argument {i} ({p!r}) declared as {t}"
        assert _c_kind(ret) == _ctypes_kind(fn.restype), f"{name} returns {ret!r}, restype {fn.restype}"


def test_cuda_queries(temporal):
    assert isinstance(temporal.cuda_available(), bool)
    n = temporal.cuda_device_count()
    assert n >= 0
    assert (n > 0) == temporal.cuda_available()


def test_pip_cublas_is_found_newest_major_first(temporal, tmp_path):
    from temporal import _library

    for site, majors in (("a", [11]), ("b", [12, 13])):
        lib = tmp_path / site / "nvidia" / "cublas" / "lib"
        lib.mkdir(parents=True)
        for n in majors:
            (lib / f"libcublas.so.{n}").write_bytes(b"")
        (lib / "libcublasLt.so.99").write_bytes(b"")  # not cuBLAS itself
    dirs = [str(tmp_path / "a"), str(tmp_path / "b")]
    assert _library.find_pip_cublas(dirs) == str(tmp_path / "b" / "nvidia" / "cublas" / "lib" / "libcublas.so.13")
    assert _library.find_pip_cublas([str(tmp_path / "nothing")]) is None


def test_set_num_threads(temporal):
    before = temporal.get_num_threads()
    try:
        temporal.set_num_threads(1)
        assert temporal.get_num_threads() == 1
        temporal.set_num_threads(0)  # back to one per core
        assert temporal.get_num_threads() >= 1
    finally:
        temporal.set_num_threads(0)
    assert temporal.get_num_threads() == before or before >= 1


@pytest.mark.parametrize("n", [-1, 4097, 2**31, -(2**40)])
def test_set_num_threads_rejects_out_of_range(temporal, n):
    with pytest.raises(temporal.InvalidArgumentError) as e:
        temporal.set_num_threads(n)
    assert e.value.status == 1 and e.value.message
    assert temporal.get_num_threads() >= 1


def test_last_error_is_per_call_and_sized_like_snprintf(temporal, tmp_path):
    from temporal import _library

    with pytest.raises(temporal.TemporalIOError):
        temporal.Model.load(tmp_path / "missing.safetensors")
    full = _library.f_last_error(None, 0)
    assert full > 0
    buf = ctypes.create_string_buffer(8)
    assert _library.f_last_error(buf, 8) == full
    assert len(buf.value) == 7  # truncated and NUL-terminated
    # A successful call leaves the message alone.
    temporal.version()
    temporal.set_num_threads(0)
    assert _library.f_last_error(None, 0) == full


def _run_python(code: str, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=300
    )


def test_missing_library_is_an_import_error_naming_the_path(subprocess_env, tmp_path):
    env = dict(subprocess_env, TEMPORAL_LIBRARY=str(tmp_path / "nope" / "libtemporal.so"))
    r = _run_python(
        """
        try:
            import temporal
        except ImportError as e:
            print("IMPORTERROR", e)
        else:
            print("LOADED")
        """,
        env,
    )
    assert "IMPORTERROR" in r.stdout, r.stdout + r.stderr
    assert "nope" in r.stdout and "TEMPORAL_LIBRARY" in r.stdout


def test_abi_mismatch_is_an_import_error(subprocess_env, tmp_path):
    """A library reporting another ABI is refused at import with a message saying both."""
    gcc = "gcc"
    src = tmp_path / "fake.c"
    src.write_text(
        textwrap.dedent(
            """
            #include <stddef.h>
            const char *temporal_version(void) { return "9.9.9"; }
            int temporal_abi_version(void) { return 2; }
            size_t temporal_last_error(char *buf, size_t cap) { if (cap) buf[0] = 0; return 0; }
            """
        )
    )
    so = tmp_path / "libtemporal.so.2"
    try:
        subprocess.run([gcc, "-shared", "-fPIC", "-o", str(so), str(src)], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"no C compiler to build a fake library: {e}")
    env = dict(subprocess_env, TEMPORAL_LIBRARY=str(so))
    r = _run_python(
        """
        try:
            import temporal
        except ImportError as e:
            print("IMPORTERROR", e)
        """,
        env,
    )
    assert "IMPORTERROR" in r.stdout, r.stdout + r.stderr
    assert "ABI 2" in r.stdout and "ABI 1" in r.stdout


def _library_file(temporal) -> str:
    import os

    return os.path.realpath(temporal.library_path)


def test_library_next_to_the_package_is_found(temporal, subprocess_env, tmp_path):
    """Lookup step 2: without TEMPORAL_LIBRARY, a libtemporal.so* inside the package directory."""
    import shutil
    from pathlib import Path

    pkg = Path(temporal.__file__).parent
    dest = tmp_path / "site" / "temporal"
    shutil.copytree(pkg, dest, ignore=shutil.ignore_patterns("__pycache__", "libtemporal.so*"))
    shutil.copy(_library_file(temporal), dest / "libtemporal.so.1")
    env = {k: v for k, v in subprocess_env.items() if k != "TEMPORAL_LIBRARY"}
    env["PYTHONPATH"] = str(tmp_path / "site")
    r = _run_python("import temporal; print('FROM', temporal.library_path, temporal.version())", env)
    assert f"FROM {dest / 'libtemporal.so.1'}" in r.stdout, r.stdout + r.stderr


def test_library_from_the_system_loader(temporal, subprocess_env, tmp_path):
    """Lookup step 3: the dynamic loader's search path (here LD_LIBRARY_PATH) by soname."""
    import shutil
    from pathlib import Path

    pkg = Path(temporal.__file__).parent
    site = tmp_path / "site"
    shutil.copytree(pkg, site / "temporal", ignore=shutil.ignore_patterns("__pycache__", "libtemporal.so*"))
    libdir = tmp_path / "lib"
    libdir.mkdir()
    shutil.copy(_library_file(temporal), libdir / "libtemporal.so.1")
    env = {k: v for k, v in subprocess_env.items() if k != "TEMPORAL_LIBRARY"}
    env["PYTHONPATH"] = str(site)
    env["LD_LIBRARY_PATH"] = str(libdir)
    r = _run_python("import temporal; print('FROM', temporal.library_path, temporal.version())", env)
    assert "FROM " in r.stdout and "libtemporal.so" in r.stdout, r.stdout + r.stderr


def test_log_callback_receives_messages_and_none_silences(temporal, tmp_path):
    got = []
    temporal.set_log_callback(lambda level, msg: got.append((level, msg)), temporal.LOG_DEBUG)
    try:
        with temporal.Model.create(dict(feature_dim=4, hidden_dim=4, num_heads=2, num_classes=2, classifier_widths=[4])):
            pass
        with pytest.raises(temporal.TemporalIOError):
            temporal.Model.load(tmp_path / "missing.safetensors")
    finally:
        temporal.set_log_callback(None)
    assert got, "the library logs creating and freeing a model at INFO/DEBUG"
    assert all(isinstance(l, int) and 1 <= l <= 4 and isinstance(m, str) and m for l, m in got)
    n = len(got)
    with temporal.Model.create(dict(feature_dim=4, hidden_dim=4, num_heads=2, num_classes=2, classifier_widths=[4])):
        pass
    assert len(got) == n, "no messages after set_log_callback(None)"


def test_log_callback_level_filter_and_errors(temporal):
    got = []
    temporal.set_log_callback(lambda level, msg: got.append(level), temporal.LOG_ERROR)
    try:
        with temporal.Model.create(dict(feature_dim=4, hidden_dim=4, num_heads=2, num_classes=2, classifier_widths=[4])):
            pass
    finally:
        temporal.set_log_callback(None)
    assert all(level <= temporal.LOG_ERROR for level in got)
    for bad in (0, 5):
        with pytest.raises(temporal.InvalidArgumentError):
            temporal.set_log_callback(print, bad)
    with pytest.raises(TypeError):
        temporal.set_log_callback("not callable")


def test_log_callback_exception_does_not_escape(temporal, capfd):
    def boom(level, msg):
        raise RuntimeError("callback failed")

    temporal.set_log_callback(boom, temporal.LOG_DEBUG)
    try:
        with temporal.Model.create(dict(feature_dim=4, hidden_dim=4, num_heads=2, num_classes=2, classifier_widths=[4])) as m:
            assert m.config.num_classes == 2  # the call itself succeeded
    finally:
        temporal.set_log_callback(None)
    assert "callback failed" in capfd.readouterr().err


def test_calls_release_the_gil(temporal):
    """ctypes releases the GIL around a foreign call unless the library was opened as a PyDLL
    (FUNCFLAG_PYTHONAPI); every declared function must come from the CDLL."""
    from temporal import _library

    assert type(_library.lib) is ctypes.CDLL
    assert not _library.lib._func_flags_ & ctypes._FUNCFLAG_PYTHONAPI
    for attr in dir(_library):
        fn = getattr(_library, attr)
        if attr.startswith("f_"):
            assert not fn._flags_ & ctypes._FUNCFLAG_PYTHONAPI, attr
