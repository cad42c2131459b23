#!/usr/bin/env bash
# The test job: set up, build (CUDA sources too when nvcc exists), run every test with ctest.
# CUDA parity tests report "skipped" (exit 77) when no device is usable.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${PG_BUILD_DIR:-$ROOT/build}"
bash "$ROOT/tools/setup.sh"
bash "$ROOT/tools/build.sh"
cd "$BUILD"
ctest --output-on-failure "$@"
