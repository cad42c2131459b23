#!/usr/bin/env bash
# The CUDA parity suite and the emulator's tests on the CUDA emulator (PG_CUDA=EMULATE), no GPU
# needed. By default under ASan + UBSan (the kernels, the emulator and the CUDA tests
# instrumented; build-emu-asan/), as CI runs it; PG_EMU_SANITIZE=0 for the faster plain build in
# build-emu/. Extra arguments go to ctest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ARGS=(-DPG_CUDA=EMULATE -DPG_BUILD_BENCH=OFF)
if [ "${PG_EMU_SANITIZE:-1}" = "1" ]; then
  # ASan + UBSan on the kernels, the emulator and the CUDA tests (ctest sets the sanitizer
  # options and PG_CUDA_NO_CACHING=1).
  BUILD="${PG_EMU_BUILD_DIR:-$ROOT/build-emu-asan}"
  ARGS+=(-DPG_EMU_SANITIZE=ON -DCMAKE_BUILD_TYPE=Release)
else
  BUILD="${PG_EMU_BUILD_DIR:-$ROOT/build-emu}"
  ARGS+=(-DCMAKE_BUILD_TYPE=Release)
fi
if command -v ccache >/dev/null 2>&1; then ARGS+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$ROOT" -B "$BUILD" "${ARGS[@]}" >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target pg_cuda_tests pg_emu_tests
cd "$BUILD"
ctest --output-on-failure -R '^(cuda_parity|cuda_emulator)$' "$@"
