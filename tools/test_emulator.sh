#!/usr/bin/env bash
# The CUDA parity suite and the emulator's tests on the CUDA emulator (PG_CUDA=EMULATE) in
# build-emu/ (PG_EMU_SANITIZE=1: under ASan + UBSan in build-emu-asan/). No GPU needed.
# Extra arguments go to ctest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ARGS=(-DPG_CUDA=EMULATE -DPG_BUILD_BENCH=OFF)
if [ "${PG_EMU_SANITIZE:-0}" = "1" ]; then
  BUILD="${PG_EMU_BUILD_DIR:-$ROOT/build-emu-asan}"
  ARGS+=(-DPG_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
  # detect_leaks=0: OpenMP's runtime keeps thread pools alive at exit (see tools/sanitize.sh).
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:detect_stack_use_after_return=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
else
  BUILD="${PG_EMU_BUILD_DIR:-$ROOT/build-emu}"
  ARGS+=(-DCMAKE_BUILD_TYPE=Release)
fi
if command -v ccache >/dev/null 2>&1; then ARGS+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$ROOT" -B "$BUILD" "${ARGS[@]}" >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target pg_cuda_tests pg_emu_tests
cd "$BUILD"
ctest --output-on-failure -R '^(cuda_parity|cuda_emulator)$' "$@"
