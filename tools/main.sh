#!/usr/bin/env bash
# The main job on built-in data, on the CPU: set up, build the `pg` tool, generate the built-in
# shape data set (12 procedural classes, ModelNet40 HDF5 layout), train the vanilla PointNet
# classifier, and evaluate it (overall and per-class test accuracy).
#
# The job needs no GPU, so it builds a CPU-only `pg` in build-main/ (a few minutes on 2 cores,
# instead of the full CUDA build of tools/build.sh). Environment overrides:
#   PG_MAIN_BUILD_DIR (build-main/), PG_MAIN_RUN_DIR (runs/main/), PG_MAIN_EPOCHS (3).
# Extra arguments go to `pg train pointnet` (e.g. --threads 2, --variant full).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${PG_MAIN_BUILD_DIR:-$ROOT/build-main}"
RUN="${PG_MAIN_RUN_DIR:-$ROOT/runs/main}"
EPOCHS="${PG_MAIN_EPOCHS:-3}"
START=$(date +%s)

bash "$ROOT/tools/setup.sh"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPG_CUDA=OFF -DPG_BUILD_TESTS=OFF -DPG_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD" --target pg -j"$(nproc)"
PG="$BUILD/bin/pg"

"$PG" info
"$PG" datagen --out "$RUN/data"
"$PG" train pointnet --data "$RUN/data" --out "$RUN/pointnet" --device cpu --epochs "$EPOCHS" "$@"
"$PG" eval pointnet --data "$RUN/data" --out "$RUN/pointnet" --device cpu | tee "$RUN/eval.txt"
echo "main job finished in $(( $(date +%s) - START )) s; run folder: $RUN"
