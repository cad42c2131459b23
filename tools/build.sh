#!/usr/bin/env bash
# Configures and builds pointgrad into $PG_BUILD_DIR (default: build/). CUDA is compiled when
# nvcc is available (PG_CUDA=AUTO); pass extra CMake arguments after the script name.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${PG_BUILD_DIR:-$ROOT/build}"
if [ -z "${CUDACXX:-}" ] && ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
LAUNCHERS=()
if command -v ccache >/dev/null 2>&1; then
  LAUNCHERS=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release "${LAUNCHERS[@]}" "$@" >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
