"""Minimal safetensors reader/writer for the tests (Debian has no python3-safetensors).

Format: 8-byte little-endian header length N, N bytes of JSON (name -> {dtype, shape,
data_offsets}, optional "__metadata__" of strings), then the raw little-endian tensor bytes.
"""

from __future__ import annotations

import json
import struct
from typing import Dict, Tuple

import numpy as np

_DTYPES = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8", "F16": "<f2", "U8": "u1"}


def read(path) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    """(tensors, metadata) of a safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", {}) or {}
    body = data[8 + n :]
    out = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(body[a:b], dtype=_DTYPES[info["dtype"]]).reshape(info["shape"]).copy()
    return out, meta


def header_span(path) -> Tuple[int, int]:
    """(start, end) byte offsets of the JSON header in the file."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
    return 8, 8 + n
