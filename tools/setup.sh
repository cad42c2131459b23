#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and test pointgrad. Near-instant when
# everything is present (it only asks dpkg). The CUDA toolkit is optional: without nvcc the
# build is CPU-only.
set -euo pipefail

PACKAGES=(cmake g++ make libhdf5-dev catch2 libopenblas-dev libbenchmark-dev libcli11-dev libomp-dev libpng-dev libboost-context-dev)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
