#!/usr/bin/python3
"""Generate the PyTorch parity fixtures for libtemporal (DESIGN.md §2, §3, §8).

Run with Debian's interpreter (python3-torch 1.13, python3-numpy):

    /usr/bin/python3 tests/parity/make_fixtures.py [--out DIR]

Deterministic: rerunning writes byte-identical files.  See README.md for the
file layout.  Debian has no python3-safetensors, so the format is written and
read here (safetensors_write / safetensors_read), matching what
`safetensors.torch.save_file` produces: 8-byte little-endian header length,
compact JSON header padded with spaces to a multiple of 8, raw little-endian
tensor bytes ordered by (dtype descending, name).
"""

import argparse
import copy
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as Fn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

# ---------------------------------------------------------------------------
# safetensors, by hand
# ---------------------------------------------------------------------------

# Order of the Rust `Dtype` enum; the real library sorts tensors by dtype
# descending, then by name.
_DTYPE_ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16",
                "BF16", "I32", "U32", "F32", "F64", "I64", "U64"]
_NP_OF = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8", "U8": "u1",
          "I8": "i1", "I16": "<i2", "U16": "<u2", "F16": "<f2", "U32": "<u4",
          "U64": "<u8", "BOOL": "?"}
_ST_OF = {np.dtype("float32"): "F32", np.dtype("float64"): "F64",
          np.dtype("int32"): "I32", np.dtype("int64"): "I64",
          np.dtype("uint8"): "U8", np.dtype("int8"): "I8",
          np.dtype("int16"): "I16", np.dtype("float16"): "F16",
          np.dtype("bool"): "BOOL"}


def _to_numpy(t):
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu().contiguous().numpy()
    return np.ascontiguousarray(t)


def safetensors_bytes(tensors, metadata=None):
    """Serialise {name: tensor/ndarray} (+ optional {str: str}) to bytes."""
    arrs = {k: _to_numpy(v) for k, v in tensors.items()}
    for k in arrs:
        if k == "__metadata__":
            raise ValueError("reserved name")
    names = sorted(arrs, key=lambda n: (-_DTYPE_ORDER.index(_ST_OF[arrs[n].dtype]), n))
    header = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError("metadata must be str -> str")
        header["__metadata__"] = dict(metadata)
    off = 0
    blobs = []
    for n in names:
        a = arrs[n]
        dt = _ST_OF[a.dtype]
        b = a.astype(_NP_OF[dt], copy=False).tobytes()
        header[n] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((-len(hj)) % 8)
    return struct.pack("<Q", len(hj)) + hj + b"".join(blobs)


def safetensors_write(path, tensors, metadata=None):
    data = safetensors_bytes(tensors, metadata)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return len(data)


def safetensors_read(path):
    """Return ({name: np.ndarray}, metadata or None); validates the header."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError("file too short")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError("header length out of range")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", None)
    body = data[8 + n:]
    out = {}
    spans = []
    for name, info in header.items():
        dt = info["dtype"]
        shape = tuple(info["shape"])
        b, e = info["data_offsets"]
        npdt = np.dtype(_NP_OF[dt])
        if not (0 <= b <= e <= len(body)):
            raise ValueError("offsets out of range: %s" % name)
        if e - b != npdt.itemsize * int(np.prod(shape, dtype=np.int64)):
            raise ValueError("size mismatch: %s" % name)
        spans.append((b, e))
        out[name] = np.frombuffer(body[b:e], dtype=npdt).reshape(shape).copy()
    spans.sort()
    pos = 0
    for b, e in spans:
        if b != pos:
            raise ValueError("data not contiguous")
        pos = e
    if pos != len(body):
        raise ValueError("trailing bytes")
    return out, meta


# ---------------------------------------------------------------------------
# The reference model (DESIGN §2)
# ---------------------------------------------------------------------------

class SuperEnhancedTemporalModel(nn.Module):
    def __init__(self, feature_dim, hidden_dim, num_layers, num_heads, num_classes,
                 dropout=0.4, bidirectional=True, classifier_widths=(768, 512, 256)):
        super().__init__()
        H = hidden_dim
        D = 2 * H if bidirectional else H
        p = dropout
        self.D = D
        self.input_projection = nn.Sequential(
            nn.Linear(feature_dim, H), nn.LayerNorm(H), nn.ReLU(), nn.Dropout(p / 2))
        self.lstm = nn.LSTM(H, H, num_layers, batch_first=True,
                            dropout=p if num_layers > 1 else 0, bidirectional=bidirectional)
        self.attention = nn.MultiheadAttention(D, num_heads, dropout=p, batch_first=True)
        self.attention_norm = nn.LayerNorm(D)
        self.attention_dropout = nn.Dropout(p)
        self.attention_pooling = nn.Sequential(
            nn.Linear(D, D // 2), nn.LayerNorm(D // 2), nn.Tanh(), nn.Dropout(p / 2),
            nn.Linear(D // 2, 1))
        layers = []
        prev = D
        widths = list(classifier_widths)
        for i, w in enumerate(widths):
            last = i == len(widths) - 1
            layers += [nn.Linear(prev, w), nn.LayerNorm(w), nn.ReLU(),
                       nn.Dropout(p / 2 if last else p)]
            prev = w
        layers.append(nn.Linear(prev, num_classes))
        self.classifier = nn.Sequential(*layers)

    def forward(self, x, lengths=None, mode="reference"):
        """Return (logits [B, C], frame_weights [B, T] zero-padded to x's T)."""
        B, T, _ = x.shape
        h = self.input_projection(x)
        if lengths is not None:
            packed = pack_padded_sequence(h, lengths.cpu().to(torch.int64), batch_first=True,
                                          enforce_sorted=False)
            out, _ = self.lstm(packed)
            lo, _ = pad_packed_sequence(out, batch_first=True)
        else:
            lo, _ = self.lstm(h)
        Tp = lo.shape[1]
        if mode == "reference" or lengths is None:
            a = self.attention(lo, lo, lo)[0]
            at = self.attention_norm(lo + self.attention_dropout(a))
            w = torch.softmax(self.attention_pooling(at), 1)
        elif mode == "masked":
            pad = torch.arange(Tp)[None, :] >= lengths.to(torch.int64)[:, None]
            a = self.attention(lo, lo, lo, key_padding_mask=pad)[0]
            at = self.attention_norm(lo + self.attention_dropout(a))
            w = torch.softmax(self.attention_pooling(at).masked_fill(pad[..., None], float("-inf")), 1)
        else:
            raise ValueError(mode)
        logits = self.classifier((at * w).sum(1))
        fw = torch.zeros(B, T, dtype=w.dtype)
        fw[:, :Tp] = w[..., 0]
        return logits, fw


def randomise(model, gen):
    """Non-trivial random weights: every tensor matters to the output."""
    sd = model.state_dict()
    H = model.lstm.hidden_size
    new = {}
    for name, t in sd.items():
        shape = t.shape
        if name.startswith("lstm."):
            k = 1.0 / math.sqrt(H)
            v = (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * k
        elif t.dim() >= 2:
            fan_out, fan_in = shape[0], shape[1]
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            v = (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound
        elif _is_layernorm_weight(model, name):
            v = 1 + 0.1 * torch.randn(shape, generator=gen, dtype=torch.float64)
        else:  # biases (Linear, LayerNorm, in_proj_bias)
            v = 0.1 * torch.randn(shape, generator=gen, dtype=torch.float64)
        new[name] = v.to(torch.float32)
    model.load_state_dict(new, strict=True)


def _is_layernorm_weight(model, name):
    if not name.endswith(".weight"):
        return False
    mod = model.get_submodule(name[: -len(".weight")])
    return isinstance(mod, nn.LayerNorm)


def set_dropout_zero(model):
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0
        elif isinstance(m, nn.LSTM):
            m.dropout = 0.0
        elif isinstance(m, nn.MultiheadAttention):
            m.dropout = 0.0


# ---------------------------------------------------------------------------
# Loss (DESIGN §3)
# ---------------------------------------------------------------------------

SMOOTHING = 0.1
GAMMA = 2.0
CLIP_NORM = 1.0
LR, WD, BETAS, EPS = 1e-3, 5e-4, (0.9, 0.999), 1e-8
T0, TMULT, ETA_MIN = 20, 2, 1e-6


def focal_loss(z, y, alpha, s=SMOOTHING, gamma=GAMMA):
    C = z.shape[1]
    q = torch.full_like(z, s / (C - 1))
    q[torch.arange(z.shape[0]), y] = 1 - s
    ce = -(q * torch.log_softmax(z, 1)).sum(1)
    pt = torch.exp(-ce)
    return (alpha[y] * (1 - pt) ** gamma * ce).mean()


def class_weights(labels, C):
    counts = np.bincount(labels, minlength=C)
    N = len(labels)
    K = int((counts > 0).sum())
    a = np.ones(C, dtype=np.float64)
    for c in range(C):
        if counts[c] > 0:
            a[c] = min(max(N / (K * counts[c]), 0.5), 10.0)
    return a.astype(np.float32)


def make_optimizer(params):
    opt = torch.optim.AdamW(params, lr=LR, betas=BETAS, eps=EPS, weight_decay=WD,
                            foreach=False)
    sch = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=T0, T_mult=TMULT,
                                                               eta_min=ETA_MIN)
    return opt, sch


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

CASES = [
    # name, config, B, T, lengths (None = no lengths), train?
    dict(name="tiny_bi_mixed",
         desc="bidirectional 2 layers, D=24 heads=4 (head_dim 6), mixed lengths incl. 1 and T",
         cfg=dict(feature_dim=10, hidden_dim=12, num_layers=2, num_heads=4, num_classes=3,
                  dropout=0.4, bidirectional=True, classifier_widths=[16, 12, 8]),
         B=4, T=8, lengths=[8, 3, 1, 6], train=True),
    dict(name="h13_short",
         desc="H=13 bidirectional (D=26, heads=2, head_dim 13), C=7, max(lengths)=9 < T=12; "
              "padding frames hold random garbage (must be ignored)",
         cfg=dict(feature_dim=7, hidden_dim=13, num_layers=2, num_heads=2, num_classes=7,
                  dropout=0.4, bidirectional=True, classifier_widths=[20, 10]),
         B=5, T=12, lengths=[9, 5, 1, 9, 3], train=True, pad_garbage=True),
    dict(name="uni_1layer_c2",
         desc="unidirectional, 1 layer, D=12 heads=4 (head_dim 3), C=2, one hidden block",
         cfg=dict(feature_dim=9, hidden_dim=12, num_layers=1, num_heads=4, num_classes=2,
                  dropout=0.4, bidirectional=False, classifier_widths=[8]),
         B=3, T=6, lengths=[6, 2, 4], train=True),
    dict(name="nolen",
         desc="no lengths (all T frames), bidirectional 2 layers, D=16 heads=4, C=4",
         cfg=dict(feature_dim=6, hidden_dim=8, num_layers=2, num_heads=4, num_classes=4,
                  dropout=0.4, bidirectional=True, classifier_widths=[16, 12, 8]),
         B=3, T=5, lengths=None, train=True),
    dict(name="b1",
         desc="B=1 with length 5 < T=7, 3 layers bidirectional, D=12 heads=3 (head_dim 4), C=2",
         cfg=dict(feature_dim=5, hidden_dim=6, num_layers=3, num_heads=3, num_classes=2,
                  dropout=0.4, bidirectional=True, classifier_widths=[12, 6]),
         B=1, T=7, lengths=[5], train=False),
    dict(name="uni_2layer_c7_full",
         desc="unidirectional 2 layers, D=10 heads=5 (head_dim 2), C=7, lengths all = T",
         cfg=dict(feature_dim=8, hidden_dim=10, num_layers=2, num_heads=5, num_classes=7,
                  dropout=0.4, bidirectional=False, classifier_widths=[12, 8]),
         B=4, T=9, lengths=[9, 9, 9, 9], train=False),
    dict(name="h1_edge",
         desc="H=1 bidirectional (D=2, heads=2, head_dim 1, pooling width 1), C=3",
         cfg=dict(feature_dim=3, hidden_dim=1, num_layers=2, num_heads=2, num_classes=3,
                  dropout=0.4, bidirectional=True, classifier_widths=[4]),
         B=3, T=5, lengths=[5, 1, 3], train=False),
    dict(name="medium",
         desc="F=24 H=16 bidirectional 2 layers, D=32 heads=4 (head_dim 8), C=4, B=6 T=16",
         cfg=dict(feature_dim=24, hidden_dim=16, num_layers=2, num_heads=4, num_classes=4,
                  dropout=0.4, bidirectional=True, classifier_widths=[24, 16, 12]),
         B=6, T=16, lengths=[16, 11, 1, 7, 14, 2], train=True),
]

MODES = ("masked", "reference")


def build(cfg, seed):
    torch.manual_seed(seed)
    m = SuperEnhancedTemporalModel(**cfg)
    gen = torch.Generator().manual_seed(seed)
    randomise(m, gen)
    return m


def make_inputs(case, seed):
    gen = torch.Generator().manual_seed(seed + 1000)
    B, T, F = case["B"], case["T"], case["cfg"]["feature_dim"]
    x = torch.randn(B, T, F, generator=gen, dtype=torch.float64).to(torch.float32)
    lengths = None
    if case["lengths"] is not None:
        lengths = torch.tensor(case["lengths"], dtype=torch.int32)
        # Zero the padding, as the HDF5 datasets do, except in pad_garbage cases, whose padding
        # keeps random values: the model must not read it (PyTorch's packed LSTM doesn't).
        if not case.get("pad_garbage"):
            for b, n in enumerate(case["lengths"]):
                x[b, n:] = 0
    return x, lengths


def maxabs(a, b):
    return float((a.double() - b.double()).abs().max()) if a.numel() else 0.0


def forward_case(case, model, x, lengths, report):
    """Eval-mode forward in float32 and float64, grad enabled (composite MHA path)."""
    model.eval()
    m64 = copy.deepcopy(model).double().eval()
    out = {}
    for mode in MODES:
        lg, fw = model(x, lengths, mode)
        lg64, fw64 = m64(x.double(), lengths, mode)
        out["logits." + mode] = lg.detach()
        out["logits64." + mode] = lg64.detach()
        out["frame_weights." + mode] = fw.detach()
        out["frame_weights64." + mode] = fw64.detach()
        report["f32_vs_f64_logits." + mode] = maxabs(lg, lg64)
        report["f32_vs_f64_weights." + mode] = maxabs(fw, fw64)
        # frame-weight zero pattern and sums
        B, T = fw.shape
        for b in range(B):
            n = T if lengths is None else int(lengths[b])
            Tp = T if lengths is None else int(lengths.max())
            lim = n if mode == "masked" else Tp
            assert torch.all(fw64[b, lim:] == 0), (case["name"], mode, b)
            assert abs(float(fw64[b].sum()) - 1) < 1e-12
    # Fast path (eval, no_grad) vs composite path, informational.
    with torch.no_grad():
        lg_ng, _ = model(x, lengths, "reference")
    report["nograd_vs_grad_logits.reference"] = maxabs(lg_ng, out["logits.reference"])
    # With MHA dropout 0 and even heads, eval+no_grad takes the fused fast path (DESIGN §8).
    mz = copy.deepcopy(model).eval()
    mz.attention.dropout = 0.0
    lg_g, _ = mz(x, lengths, "reference")
    with torch.no_grad():
        lg_f, _ = mz(x, lengths, "reference")
    report["fastpath_vs_composite_logits(dropout0)"] = maxabs(lg_f, lg_g)
    # Padding content must not matter.
    if lengths is not None:
        xz = x.clone()
        for b in range(x.shape[0]):
            xz[b, int(lengths[b]):] = 0
        e = 0.0
        for mode in MODES:
            lz, fz = model(xz, lengths, mode)
            e = max(e, maxabs(lz, out["logits." + mode]), maxabs(fz, out["frame_weights." + mode]))
        report["padding_content_effect"] = e
        assert e == 0.0, (case["name"], e)
    # Normative masked definition: clip b alone, no lengths, reference mode.
    err32 = err64 = werr = 0.0
    for b in range(x.shape[0]):
        n = x.shape[1] if lengths is None else int(lengths[b])
        la, fa = model(x[b:b + 1, :n], None, "reference")
        la64, fa64 = m64(x[b:b + 1, :n].double(), None, "reference")
        err32 = max(err32, maxabs(la[0], out["logits.masked"][b]))
        err64 = max(err64, maxabs(la64[0], out["logits64.masked"][b]))
        werr = max(werr, maxabs(fa64[0], out["frame_weights64.masked"][b, :n]))
    report["masked_vs_alone_logits32"] = err32
    report["masked_vs_alone_logits64"] = err64
    report["masked_vs_alone_weights64"] = werr
    assert err32 < 1e-5, (case["name"], err32)
    assert err64 < 1e-12, (case["name"], err64)
    if lengths is None:
        assert maxabs(out["logits64.masked"], out["logits64.reference"]) == 0.0
    return out


def grads_of(model, x, lengths, labels, alpha, mode):
    model.zero_grad(set_to_none=True)
    dt = next(model.parameters()).dtype
    lg, _ = model(x.to(dt), lengths, mode)
    loss = focal_loss(lg, labels, alpha.to(dt))
    loss.backward()
    return loss.detach(), {n: p.grad.detach().clone() for n, p in model.named_parameters()}


def train_case(case, model, x, lengths, seed, report):
    cfg = case["cfg"]
    C = cfg["num_classes"]
    gen = torch.Generator().manual_seed(seed + 2000)
    labels = torch.randint(0, C, (case["B"],), generator=gen, dtype=torch.int64)
    alpha = torch.from_numpy(class_weights(labels.numpy(), C))
    m32 = copy.deepcopy(model)
    set_dropout_zero(m32)
    m32.train()
    m64 = copy.deepcopy(m32).double().train()
    out = {"labels": labels, "alpha": alpha}
    D = m32.D
    for mode in MODES:
        l32, g32 = grads_of(m32, x, lengths, labels, alpha, mode)
        l64, g64 = grads_of(m64, x, lengths, labels, alpha, mode)
        out["loss." + mode] = l32.reshape(1)
        out["loss64." + mode] = l64.reshape(1)
        gmax = max(float(g.abs().max()) for g in g64.values())
        worst = 0.0
        for n in g32:
            out["grad.%s.%s" % (mode, n)] = g32[n]
            out["grad64.%s.%s" % (mode, n)] = g64[n]
            scale = float(g64[n].abs().max())
            worst = max(worst, maxabs(g32[n], g64[n]) / (scale + 1e-30) if scale > 1e-12 * gmax else 0.0)
        report["f32_vs_f64_loss." + mode] = maxabs(l32, l64)
        report["f32_vs_f64_grad_rel." + mode] = worst
        zero = max(float(g64["attention_pooling.4.bias"].abs().max()),
                   float(g64["attention.in_proj_bias"][D:2 * D].abs().max()))
        report["zero_grads64_over_max." + mode] = zero / gmax
    # Optimizer steps, masked mode, float32.
    mo = copy.deepcopy(m32)
    params = list(mo.parameters())
    names = [n for n, _ in mo.named_parameters()]
    opt, sch = make_optimizer(params)
    for step in range(1, 6):
        opt.zero_grad(set_to_none=True)
        lg, _ = mo(x, lengths, "masked")
        loss = focal_loss(lg, labels, alpha)
        loss.backward()
        total = torch.nn.utils.clip_grad_norm_(params, max_norm=CLIP_NORM)
        if step == 1:
            report["grad_total_norm"] = float(total)
            # torch 1.13: clip_coef = max_norm / (total + 1e-6) in float32 tensor arithmetic
            coef = torch.clamp(CLIP_NORM / (total.detach() + 1e-6), max=1.0)
            assert coef.dtype == torch.float32
            report["clip_coef"] = float(coef)
            for n, p in zip(names, params):
                out["clipped." + n] = p.grad.detach().clone()
        opt.step()
        sch.step()
        if step in (1, 5):
            for n, p in zip(names, params):
                out["step%d.%s" % (step, n)] = p.detach().clone()
    return out


def schedule_lrs(n=400):
    p = torch.nn.Parameter(torch.zeros(1))
    opt, sch = make_optimizer([p])
    lrs = []
    for _ in range(n):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sch.step()
    return np.array(lrs, dtype=np.float64)


def adamw_fixture(lrs, N=20000, seed=7):
    gen = torch.Generator().manual_seed(seed)
    p0 = torch.randn(N, generator=gen, dtype=torch.float64).to(torch.float32)
    gs = [(torch.randn(N, generator=gen, dtype=torch.float64) *
           (10.0 ** torch.empty(N, dtype=torch.float64).uniform_(-4, 1, generator=gen)))
          .to(torch.float32) for _ in range(5)]
    p = torch.nn.Parameter(p0.clone())
    opt = torch.optim.AdamW([p], lr=LR, betas=BETAS, eps=EPS, weight_decay=WD, foreach=False)
    out = {"p0": p0, "lr": torch.tensor(lrs[:5], dtype=torch.float64)}
    for k in range(5):
        opt.param_groups[0]["lr"] = float(lrs[k])
        p.grad = gs[k].clone()
        opt.step()
        out["g%d" % (k + 1)] = gs[k]
        out["p%d" % (k + 1)] = p.detach().clone()
    st = opt.state[p]
    out["m5"] = st["exp_avg"].clone()
    out["v5"] = st["exp_avg_sq"].clone()
    return out


def adamw_design_sequence(p0, gs, lrs):
    """DESIGN §3's float32 sequence in numpy (fma emulated via float64; informational)."""
    f32 = np.float32
    p = p0.astype(np.float32).copy()
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    b1, b2 = BETAS
    res = []
    for t, (g, lr) in enumerate(zip(gs, lrs), start=1):
        g = g.astype(np.float32)
        p = (p * f32(1 - lr * WD)).astype(np.float32)
        m = (g.astype(np.float64) * np.float64(f32(1 - b1)) + (m * f32(b1)).astype(np.float64)).astype(np.float32)
        v = ((f32(1 - b2) * g).astype(np.float64) * g.astype(np.float64) + (v * f32(b2)).astype(np.float64)).astype(np.float32)
        bc1 = 1 - b1 ** t
        bc2 = 1 - b2 ** t
        den = (np.sqrt(v) / f32(math.sqrt(bc2)) + f32(EPS)).astype(np.float32)
        p = (p + (f32(-lr / bc1) * m) / den).astype(np.float32)
        res.append(p.copy())
    return res, m, v


def selftest_safetensors(outdir):
    t = {"a": torch.arange(6, dtype=torch.float32).reshape(2, 3),
         "b": torch.tensor([1.5], dtype=torch.float64),
         "c": torch.tensor([3, -4], dtype=torch.int32),
         "d": torch.tensor([7], dtype=torch.int64),
         "e": torch.zeros(0, 4, dtype=torch.float32)}
    data = safetensors_bytes(t, {"k": "v"})
    (n,) = struct.unpack("<Q", data[:8])
    assert n % 8 == 0
    path = os.path.join(outdir, ".selftest.safetensors")
    safetensors_write(path, t, {"k": "v"})
    back, meta = safetensors_read(path)
    os.remove(path)
    assert meta == {"k": "v"}
    for k in t:
        a = t[k].numpy()
        assert back[k].dtype == a.dtype and back[k].shape == a.shape and np.array_equal(back[k], a), k
    # No metadata -> no __metadata__ key, as save_file(state_dict) writes.
    assert b"__metadata__" not in safetensors_bytes({"x": torch.ones(1)})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)
    selftest_safetensors(args.out)

    sizes = {}

    def write(name, tensors, meta=None):
        path = os.path.join(args.out, name)
        sizes[name] = safetensors_write(path, tensors, meta)
        back, bm = safetensors_read(path)
        assert (bm or None) == (meta or None)
        for k, v in tensors.items():
            assert np.array_equal(back[k], _to_numpy(v)), (name, k)

    for i, case in enumerate(CASES):
        seed = 100 + i
        report = {}
        model = build(case["cfg"], seed)
        x, lengths = make_inputs(case, seed)
        write(case["name"] + ".weights.safetensors", model.state_dict())
        fw = forward_case(case, model, x, lengths, report)
        io = {"features": x}
        if lengths is not None:
            io["lengths"] = lengths
        io.update(fw)
        meta = {"config": json.dumps(case["cfg"], sort_keys=True),
                "description": case["desc"]}
        write(case["name"] + ".io.safetensors", io, meta)
        if case["train"]:
            tr = train_case(case, model, x, lengths, seed, report)
            tmeta = {"config": json.dumps(case["cfg"], sort_keys=True),
                     "description": case["desc"] + "; all dropout off, train mode",
                     "loss": "focal", "smoothing": repr(SMOOTHING), "gamma": repr(GAMMA),
                     "clip_norm": repr(CLIP_NORM), "optimizer": "torch.optim.AdamW(foreach=False)",
                     "lr": repr(LR), "weight_decay": repr(WD), "betas": json.dumps(list(BETAS)),
                     "eps": repr(EPS),
                     "scheduler": "CosineAnnealingWarmRestarts(T_0=%d, T_mult=%d, eta_min=%r), "
                                  "stepped after every optimizer step" % (T0, TMULT, ETA_MIN),
                     "steps": "clipped = step-1 gradients after clip_grad_norm_ (masked mode); "
                              "step1/step5 = weights after 1/5 steps on the same batch, masked mode",
                     "grad_total_norm_step1": repr(report["grad_total_norm"]),
                     "clip_coef_step1": repr(report["clip_coef"])}
            write(case["name"] + ".train.safetensors", tr, tmeta)
        print("%-20s B=%d T=%d lengths=%s" % (case["name"], case["B"], case["T"], case["lengths"]))
        for k in sorted(report):
            print("    %-36s %.3e" % (k, report[k]))

    lrs = schedule_lrs(400)
    restarts = [k for k in range(1, 400) if lrs[k] > lrs[k - 1]]
    assert lrs[0] == LR and restarts == [20, 60, 140, 300], restarts
    write("schedule.safetensors", {"lr": torch.from_numpy(lrs)},
          {"description": "lr used by batches 0..399: CosineAnnealingWarmRestarts(T_0=20, "
                          "T_mult=2, eta_min=1e-6), base lr 1e-3, stepped after every step"})
    ad = adamw_fixture(lrs)
    write("adamw.safetensors", ad,
          {"description": "torch.optim.AdamW(foreach=False) on p0 with grads g1..g5, lr[k] at "
                          "step k+1; m5/v5 = exp_avg/exp_avg_sq after step 5",
           "weight_decay": repr(WD), "betas": json.dumps(list(BETAS)), "eps": repr(EPS)})
    ps, m5, v5 = adamw_design_sequence(ad["p0"].numpy(), [ad["g%d" % k].numpy() for k in range(1, 6)],
                                       lrs[:5])
    mism = [int((ps[k].view(np.uint32) != ad["p%d" % (k + 1)].numpy().view(np.uint32)).sum())
            for k in range(5)]
    print("adamw: DESIGN float32 sequence vs torch, differing elements per step:", mism,
          "m5:", int((m5 != ad["m5"].numpy()).sum()), "v5:", int((v5 != ad["v5"].numpy()).sum()))
    total = sum(sizes.values())
    for k in sorted(sizes):
        print("  %-40s %8d bytes" % (k, sizes[k]))
    print("total %d bytes" % total)


if __name__ == "__main__":
    main()
