#!/usr/bin/env python3
"""Turn a UEA multivariate time-series classification set shipped inside the `aeon` PyPI
package (JapaneseVowels by default: 9 speakers, 12 LPC cepstrum channels, 7-29 frames per
utterance) into libtemporal's HDF5 dataset layout (DESIGN §4):

    features   float32 [N, T_max, F]  zero-padded after each clip's frames
    labels     int64   [N]
    num_frames int32   [N]
    attrs: category_mapping (JSON name->index), feature_dim, max_frames, num_videos

Each time step of the series is one "frame" and each channel one feature. Channels are
z-scored with the mean/std of the training split's valid frames. The UEA training split is
divided into train/val (stratified, --val-fraction) for early stopping; the UEA test split is
the test set, untouched until the end.

Needs aeon and h5py (see run.sh, which installs both into a venv under build/). aeon ships the
.ts files inside the wheel, so nothing is downloaded.
"""
import argparse
import json
import os
import sys

import h5py
import numpy as np


def load_split(name, split):
    import aeon.datasets
    from aeon.datasets import load_from_ts_file

    path = os.path.join(os.path.dirname(aeon.datasets.__file__), "data", name, f"{name}_{split}.ts")
    if not os.path.exists(path):
        sys.exit(f"prepare_uea: {path} not found: this aeon does not ship {name}")
    X, y = load_from_ts_file(path)
    # Equal-length sets come back as an array [N, C, T]; unequal-length ones as a list of [C, T_i].
    series = [np.asarray(x, dtype=np.float64).T for x in X]  # each [T_i, C]
    return series, np.asarray(y).astype(str), path


def write_h5(path, series, labels, classes, mean, std):
    T = max(len(s) for s in series)
    F = series[0].shape[1]
    N = len(series)
    feats = np.zeros((N, T, F), dtype=np.float32)
    nf = np.zeros(N, dtype=np.int32)
    for i, s in enumerate(series):
        feats[i, : len(s)] = ((s - mean) / std).astype(np.float32)
        nf[i] = len(s)
    index = {c: i for i, c in enumerate(classes)}
    lab = np.array([index[c] for c in labels], dtype=np.int64)
    with h5py.File(path, "w") as f:
        f.create_dataset("features", data=feats)
        f.create_dataset("labels", data=lab)
        f.create_dataset("num_frames", data=nf)
        f.attrs["category_mapping"] = json.dumps(index)
        f.attrs["feature_dim"] = F
        f.attrs["max_frames"] = T
        f.attrs["num_videos"] = N
    return N, T, F


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="JapaneseVowels")
    ap.add_argument("--out", required=True, help="output directory (train.h5, val.h5, test.h5)")
    ap.add_argument("--val-fraction", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    tr, ytr, ptr = load_split(a.dataset, "TRAIN")
    te, yte, _ = load_split(a.dataset, "TEST")
    classes = sorted({str(c) for c in ytr} | {str(c) for c in yte}, key=lambda c: (len(c), c))
    frames = np.concatenate(tr, axis=0)
    mean, std = frames.mean(axis=0), frames.std(axis=0) + 1e-8
    rng = np.random.default_rng(a.seed)
    val_idx = []
    for c in classes:  # stratified split of the UEA training set
        idx = np.flatnonzero(ytr == c)
        rng.shuffle(idx)
        val_idx.extend(idx[: int(round(len(idx) * a.val_fraction))])
    is_val = np.zeros(len(tr), dtype=bool)
    is_val[val_idx] = True
    parts = {
        "train": ([s for s, v in zip(tr, is_val) if not v], ytr[~is_val]),
        "val": ([s for s, v in zip(tr, is_val) if v], ytr[is_val]),
        "test": (te, yte),
    }
    print(f"{a.dataset} from {os.path.dirname(ptr)}: {len(classes)} classes {classes}")
    for name, (s, y) in parts.items():
        N, T, F = write_h5(os.path.join(a.out, name + ".h5"), s, y, classes, mean, std)
        lens = [len(x) for x in s]
        print(f"  {name}.h5: {N} clips, {F} features, frames {min(lens)}..{max(lens)} (T_max {T})")


if __name__ == "__main__":
    main()
