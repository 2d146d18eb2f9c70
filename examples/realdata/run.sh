#!/usr/bin/env bash
# Real data: train libtemporal's model on the UEA JapaneseVowels set (shipped inside the `aeon`
# PyPI package) with the temporal CLI and report test accuracy. Not part of the default tests.
#
#   bash examples/realdata/run.sh            # ~2-4 minutes on 2 cores after the venv exists
#
# Creates a venv under build/realdata-venv (aeon + h5py, never system-wide), writes
# build/realdata/{train,val,test}.h5, trains an ensemble of 3 seeds into build/realdata/run,
# evaluates each member, the ensemble and the ensemble with TTA on the UEA test split.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=build/realdata-venv
out=build/realdata
dataset=${DATASET:-JapaneseVowels}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import aeon, h5py' 2>/dev/null; then
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q aeon h5py
fi
"$venv/bin/python" examples/realdata/prepare_uea.py --dataset "$dataset" --out "$out"
go build -o build/bin/temporal ./cmd/temporal
rm -rf "$out/run"
# A small model for 270 short clips of 12 features: H=64, 2 layers, 4 heads, classifier 128/64,
# dropout 0.2; otherwise the reference recipe (focal loss, α weights and sampling, augmentation,
# AdamW 1e-3, cosine restarts, early stopping on val accuracy with patience 25).
time build/bin/temporal train --train "$out/train.h5" --val "$out/val.h5" --out "$out/run" \
  --seeds 3 --hidden-dim 64 --num-layers 2 --num-heads 4 --classifier-widths 128,64 --dropout 0.2 \
  --progress lines
for d in "$out"/run/seed-*; do
  printf '%s: ' "$d"
  build/bin/temporal eval --model "$d" --data "$out/test.h5" | head -1
done
build/bin/temporal eval --model "$out/run" --data "$out/test.h5" --confusion "$out/confusion.png" | sed -n '/^ensemble/,$p'
echo "ensemble + TTA:"
build/bin/temporal eval --model "$out/run" --data "$out/test.h5" --tta --no-plot | grep '^clips'
