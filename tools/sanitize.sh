#!/usr/bin/env bash
# CPU tests under AddressSanitizer + UndefinedBehaviorSanitizer (CPU-only build in build-asan/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/setup.sh"
PG_BUILD_DIR="${PG_BUILD_DIR:-$ROOT/build-asan}" bash "$ROOT/tools/build.sh" \
  -DPG_CUDA=OFF -DPG_SANITIZE=ON -DPG_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
cd "${PG_BUILD_DIR:-$ROOT/build-asan}"
# detect_leaks=0: OpenMP's runtime keeps thread pools alive at exit, which LSan reports as leaks.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --output-on-failure "$@"
