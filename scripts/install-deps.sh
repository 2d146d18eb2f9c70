#!/usr/bin/env bash
# Installs what building and testing libtemporal needs on a fresh Debian 12 machine of this kind
# (Go, gcc, cmake and GoogleTest come with the machine). Idempotent: installs only what is missing.
set -euo pipefail

pkgs=(
  libopenblas-pthread-dev   # static libopenblas.a (PIC, DYNAMIC_ARCH), linked privately
  libhdf5-dev               # datasets (gonum.org/v1/hdf5); not needed by the nohdf5 build
  pkg-config
  cmake ninja-build g++ libgtest-dev   # C/C++ tests
  python3 python3-numpy python3-pytest # Python binding tests under /usr/bin/python3
  python3-torch             # PyTorch 1.13 CPU: parity fixtures and interchange tests (~40 MB)
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
command -v go >/dev/null || { echo "install-deps: Go 1.26 is required (go.mod)"; exit 1; }
go mod download
