#!/usr/bin/env bash
# The test job: set up, build (CUDA sources too when nvcc exists), run every test with ctest,
# then build the CUDA emulation configuration (build-emu/, PG_CUDA=EMULATE: the .cu files as
# host C++ on tests/cuda_emu) and run the CUDA parity suite and the emulator's own tests on it,
# so every kernel executes on every run even without a GPU. The real-build cuda_parity test
# reports "skipped" (exit 77) when no device is usable.
# PG_TEST_SANITIZE=1 adds the emulation build under ASan + UBSan (build-emu-asan/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${PG_BUILD_DIR:-$ROOT/build}"
bash "$ROOT/tools/setup.sh"
bash "$ROOT/tools/build.sh"
(cd "$BUILD" && ctest --output-on-failure "$@")
bash "$ROOT/tools/test_emulator.sh"
if [ "${PG_TEST_SANITIZE:-0}" = "1" ]; then
  PG_EMU_SANITIZE=1 bash "$ROOT/tools/test_emulator.sh"
fi
