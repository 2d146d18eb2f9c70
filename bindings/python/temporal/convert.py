"""Convert a PyTorch checkpoint of SuperEnhancedTemporalModel to a libtemporal safetensors file.

    python -m temporal.convert ckpt.pth out.safetensors [--num-heads N] [--class-names a,b,c]

Needs torch. The input is what the reference trainer writes with ``torch.save``: a dict holding
``model_state_dict`` (also accepted: ``state_dict``, ``model``, or a bare state_dict), and
optionally ``config`` (keys ``input_dim``/``feature_dim``, ``num_heads``, ``dropout``, ...) and
class names (``class_names``, or a ``category_mapping``/``class_to_idx`` dict name -> index, or
``idx_to_class``). Sizes are read from the tensor shapes; the head count (which the weights do
not determine) comes from ``--num-heads``, else the checkpoint's config, else 12.

The weights go through the library itself (loaded from memory, then saved), so the output is
exactly what libtemporal writes — full metadata and the SHA-256 of the data — and a file the
library could not load is never written.

``torch.load`` unpickles: convert only checkpoints you trust.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from .model import Config, Model, PathLike

__all__ = ["convert", "state_dict_to_safetensors", "main"]

_PREFIXES = ("module.", "_orig_mod.", "model.")


def _find_state_dict(ckpt: Any) -> Mapping[str, Any]:
    import torch

    if isinstance(ckpt, torch.nn.Module):
        return ckpt.state_dict()
    if not isinstance(ckpt, Mapping):
        raise ValueError(f"expected a dict or an nn.Module in the checkpoint, found {type(ckpt).__name__}")
    for key in ("model_state_dict", "state_dict", "model"):
        v = ckpt.get(key)
        if isinstance(v, torch.nn.Module):
            return v.state_dict()
        if isinstance(v, Mapping) and v and all(isinstance(t, torch.Tensor) for t in v.values()):
            return v
    if ckpt and all(isinstance(t, torch.Tensor) for t in ckpt.values()):
        return ckpt
    raise ValueError(
        "no state_dict found: expected a 'model_state_dict' (or 'state_dict'/'model') entry of "
        f"tensors; top-level keys are {sorted(map(str, ckpt))}"
    )


def _strip_prefixes(sd: Mapping[str, Any]) -> Dict[str, Any]:
    out = dict(sd)
    for p in _PREFIXES:
        if out and all(k.startswith(p) for k in out) and not any(k.startswith("input_projection") for k in out):
            out = {k[len(p):]: v for k, v in out.items()}
    return out


def _class_names(ckpt: Any, cfg: Mapping[str, Any]) -> Optional[List[str]]:
    if not isinstance(ckpt, Mapping):
        return None
    for src in (ckpt, cfg):
        names = src.get("class_names") or src.get("classes")
        if isinstance(names, (list, tuple)) and all(isinstance(n, str) for n in names):
            return list(names)
        for key in ("category_mapping", "class_to_idx", "label_mapping", "label2id"):
            m = src.get(key)
            if isinstance(m, Mapping) and m:
                by_index = sorted(m.items(), key=lambda kv: int(kv[1]))
                return [str(k) for k, _ in by_index]
        for key in ("idx_to_class", "id2label"):
            m = src.get(key)
            if isinstance(m, Mapping) and m:
                return [str(v) for _, v in sorted(m.items(), key=lambda kv: int(kv[0]))]
    return None


def state_dict_to_safetensors(tensors: Mapping[str, np.ndarray], metadata: Optional[Mapping[str, str]] = None) -> bytes:
    """Serialise float32 arrays (+ string metadata) to safetensors bytes."""
    header: Dict[str, Any] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs, off = [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((-len(hj)) % 8)
    return struct.pack("<Q", len(hj)) + hj + b"".join(blobs)


def convert(
    src: PathLike,
    dst: PathLike,
    num_heads: Optional[int] = None,
    class_names: Optional[Sequence[str]] = None,
) -> Config:
    """Convert the PyTorch checkpoint ``src`` to the libtemporal checkpoint ``dst``; returns the
    model's config. Raises ValueError for a checkpoint without a usable state_dict, and the
    library's errors (FormatError for wrong tensor names/shapes) otherwise."""
    import torch

    ckpt = torch.load(src, map_location="cpu")
    sd = _strip_prefixes(_find_state_dict(ckpt))
    cfg = ckpt.get("config", {}) if isinstance(ckpt, Mapping) else {}
    cfg = cfg if isinstance(cfg, Mapping) else getattr(cfg, "__dict__", {})
    tensors = {k: v.detach().to(torch.float32).cpu().numpy() for k, v in sd.items()}
    meta: Dict[str, str] = {}
    heads = num_heads if num_heads is not None else cfg.get("num_heads")
    if heads is not None:
        meta["num_heads"] = str(int(heads))
    if cfg.get("dropout") is not None:
        meta["dropout"] = repr(float(cfg["dropout"]))
    names = list(class_names) if class_names else _class_names(ckpt, cfg)
    data = state_dict_to_safetensors(tensors, meta)
    with Model.load_bytes(data, num_heads=int(heads) if heads is not None else None) as m:
        if names:
            m.set_class_names(names)
        m.save(dst)
        return m.config


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m temporal.convert", description=__doc__.split("\n\n")[0])
    ap.add_argument("src", help="PyTorch checkpoint (.pth/.pt) written with torch.save")
    ap.add_argument("dst", help="output .safetensors")
    ap.add_argument("--num-heads", type=int, default=None, help="attention heads (default: checkpoint config, else 12)")
    ap.add_argument("--class-names", default=None, help="comma-separated class names (default: from the checkpoint)")
    a = ap.parse_args(argv)
    names = a.class_names.split(",") if a.class_names else None
    try:
        cfg = convert(a.src, a.dst, num_heads=a.num_heads, class_names=names)
    except Exception as e:  # a CLI: one line, non-zero exit
        print(f"temporal.convert: {e}", file=sys.stderr)
        return 1
    print(
        f"wrote {a.dst}: F={cfg.feature_dim} H={cfg.hidden_dim} L={cfg.num_layers} heads={cfg.num_heads} "
        f"C={cfg.num_classes} widths={list(cfg.classifier_widths)} params={cfg.num_params} "
        f"classes={list(cfg.class_names) if cfg.class_names else None}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
