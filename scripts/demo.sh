#!/usr/bin/env bash
# The first command of the README: install what is missing, build the library and the CLI, run
# `temporal demo` (generate a dataset whose classes need temporal order, train with a live
# progress bar, evaluate, plot, save the model, classify clips), then classify the demo's clips
# from Python (ctypes binding) and from a C++ program (temporal.hpp).
#
#   bash scripts/demo.sh            # outputs in build/demo: model.safetensors, curves.png, confusion.png
#   DEMO_ARGS=--quick bash scripts/demo.sh   # seconds instead of about a minute of training
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
step() { printf '\n\033[1m### %s\033[0m\n' "$*"; }

step "dependencies (scripts/install-deps.sh)"
bash scripts/install-deps.sh

step "build: libtemporal.so.1 (cmake + ninja) and the temporal CLI"
cmake -S . -B build -G Ninja >/dev/null
cmake --build build --target temporal_so
go build -o build/bin/temporal ./cmd/temporal
ls -l build/lib/libtemporal.so.1 build/bin/temporal

step "temporal demo --out build/demo ${DEMO_ARGS:-}"
# shellcheck disable=SC2086
build/bin/temporal demo --out build/demo ${DEMO_ARGS:-}

clips=(build/demo/clips/clip-0.npy build/demo/clips/clip-1.npy)
step "classify from Python: examples/python/classify.py (true classes: $(head -2 build/demo/clips/labels.txt | paste -sd' '))"
PYTHONPATH=bindings/python TEMPORAL_LIBRARY=build/lib/libtemporal.so.1 \
  /usr/bin/python3 examples/python/classify.py build/demo/model.safetensors "${clips[@]}"

step "classify from C++: examples/cpp/classify.cpp"
g++ -std=c++17 -O2 -Wall -Wextra -Iinclude -Ibindings/cpp examples/cpp/classify.cpp \
  -Lbuild/lib -ltemporal -Wl,-rpath,"$root/build/lib" -o build/bin/classify
build/bin/classify build/demo/model.safetensors "${clips[@]}"

step "done"
echo "plots: build/demo/curves.png build/demo/confusion.png; model: build/demo/model.safetensors"
echo "try:   build/bin/temporal predict --model build/demo --input ${clips[0]} --explain --tta"
