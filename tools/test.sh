#!/usr/bin/env bash
# The test job: set up, build (CUDA sources too when nvcc exists), run every test with ctest,
# then build the CUDA emulation configuration (build-emu-asan/, PG_CUDA=EMULATE: the .cu files
# as host C++ on tests/cuda_emu, instrumented with ASan + UBSan) and run the CUDA parity suite
# and the emulator's own tests on it, so every kernel executes, with its memory accesses and
# arithmetic checked, on every run even without a GPU. The real-build cuda_parity test reports
# "skipped" (exit 77) when no device is usable.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${PG_BUILD_DIR:-$ROOT/build}"
bash "$ROOT/tools/setup.sh"
bash "$ROOT/tools/build.sh"
(cd "$BUILD" && ctest --output-on-failure "$@")
bash "$ROOT/tools/test_emulator.sh"
