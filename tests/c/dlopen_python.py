"""Loads libtemporal with ctypes after numpy and torch, the tightest static-TLS budget measured
(capi recipe §1: about 1 KiB left). Exit 77 (CTest: skipped) when numpy or torch is missing.

    python3 dlopen_python.py LIBRARY DATA_DIR
"""
import ctypes
import sys

try:
    import numpy  # noqa: F401  (loaded first on purpose: it takes static TLS)
    import torch  # noqa: F401
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

lib = ctypes.CDLL(sys.argv[1])  # raises OSError on "cannot allocate memory in static TLS block"
lib.temporal_abi_version.restype = ctypes.c_int
lib.temporal_model_load.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint64)]
lib.temporal_model_load.restype = ctypes.c_int
lib.temporal_model_free.argtypes = [ctypes.c_uint64]
lib.temporal_model_free.restype = ctypes.c_int
assert lib.temporal_abi_version() == 1
h = ctypes.c_uint64(0)
st = lib.temporal_model_load((sys.argv[2] + "/small.safetensors").encode(), b"cpu", ctypes.byref(h))
assert st == 0 and h.value != 0, st
assert lib.temporal_model_free(h) == 0
print("loaded with numpy", numpy.__version__, "and torch", torch.__version__)
