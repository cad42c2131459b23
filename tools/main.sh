#!/usr/bin/env bash
# The main job on built-in data: set up, build, and run the pointgrad demonstration on the CPU.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/setup.sh"
bash "$ROOT/tools/build.sh"
"${PG_BUILD_DIR:-$ROOT/build}/bin/pg" info
"${PG_BUILD_DIR:-$ROOT/build}/bin/pg" demo --device cpu "$@"
