#!/usr/bin/env bash
# The main job on built-in data, on the CPU, in one command — the project's point: a learned
# sampler (SampleNet) picks the few points a frozen classifier needs better than random
# sampling or farthest point sampling (FPS) do.
#
#   1. set up, build a CPU-only `pg` in build-main/ (a few minutes on 2 cores; the job needs no
#      GPU), generate the built-in shape data set (12 procedural classes, ModelNet40 HDF5 layout);
#   2. train the vanilla PointNet classifier and evaluate it on all points;
#   3. freeze it and train SampleNet (classification protocol) to sample m of those points;
#   4. `pg eval sampling`: the PointNet's test accuracy on m points per shape chosen by random
#      sampling, FPS and SampleNet (matched: the generated points snapped to input points — the
#      number to compare; soft: the soft-projected points training optimises), printed side by
#      side from the tool's --json output;
#   5. render one test shape with the FPS and the SampleNet points highlighted (two PNGs).
#
# Settings that differ from the paper's, so that SampleNet gets ahead within minutes on 2 cores
# (why: docs/results.md, "main job"): every cloud is its first 256 points (paper: 1024) for both
# networks; SampleNet α = 1 (paper 30: the simplification term swamps the task term in a short
# run); initial temperature 0.1 and a floor of 0.01 on σ = t² (paper: t = 1 and no floor; σ = 1
# is far wider than the point spacing, so the projection averages its k neighbours and passes
# almost no task gradient, and λ·σ can drive σ to 0, where no gradient passes either); 10 epochs
# (paper 500). λ = 1, k = 7, Adam lr 0.01, batch 32 as in the paper.
#
# Environment overrides: PG_MAIN_BUILD_DIR (build-main/), PG_MAIN_RUN_DIR (runs/main/),
# PG_MAIN_EPOCHS (PointNet epochs, 3), PG_MAIN_POINTS (256), PG_MAIN_SAMPLE_M (16),
# PG_MAIN_SAMPLE_EPOCHS (10), PG_MAIN_SEED (seed of both trainings and of random sampling, 1),
# PG_MAIN_RENDER_INDEX (test shape drawn, 0). Extra arguments go to `pg train pointnet`
# (e.g. --threads 2, --variant full).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${PG_MAIN_BUILD_DIR:-$ROOT/build-main}"
RUN="${PG_MAIN_RUN_DIR:-$ROOT/runs/main}"
EPOCHS="${PG_MAIN_EPOCHS:-3}"
POINTS="${PG_MAIN_POINTS:-256}"
M="${PG_MAIN_SAMPLE_M:-16}"
SAMPLE_EPOCHS="${PG_MAIN_SAMPLE_EPOCHS:-10}"
SEED="${PG_MAIN_SEED:-1}"
INDEX="${PG_MAIN_RENDER_INDEX:-0}"
START=$(date +%s)

bash "$ROOT/tools/setup.sh"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPG_CUDA=OFF -DPG_BUILD_TESTS=OFF -DPG_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD" --target pg -j"$(nproc)"
PG="$BUILD/bin/pg"

"$PG" info
"$PG" datagen --out "$RUN/data"
"$PG" train pointnet --data "$RUN/data" --out "$RUN/pointnet" --device cpu --epochs "$EPOCHS" --points "$POINTS" \
  --seed "$SEED" "$@"
TASK="$RUN/pointnet/last.h5"  # the network the samplers are compared with (best.h5 is chosen on the test split)
"$PG" eval pointnet --data "$RUN/data" --checkpoint "$TASK" --device cpu --points "$POINTS" | tee "$RUN/eval.txt"

SAMPLER="$RUN/samplenet/last.h5"  # likewise the last epoch
"$PG" train samplenet --task cls --m "$M" --task-model "$TASK" --data "$RUN/data" --out "$RUN/samplenet" \
  --points "$POINTS" --epochs "$SAMPLE_EPOCHS" --alpha 1 --init-temperature 0.1 --min-sigma 0.01 --seed "$SEED" --device cpu

eval_sampling() {
  "$PG" eval sampling --m "$M" --points "$POINTS" --task-model "$TASK" --data "$RUN/data" --device cpu --json "$@"
}
{
  eval_sampling --method random --seed "$SEED"
  eval_sampling --method fps
  eval_sampling --method samplenet --sampler "$SAMPLER"
} > "$RUN/sampling.jsonl"
# One row per method (two for SampleNet) from the JSON objects; the figures are pg's.
awk -v m="$M" -v n="$POINTS" '
  function field(key,   v) { v = $0; sub(".*\"" key "\": *", "", v); sub("[,}].*", "", v); gsub("\"", "", v); return v }
  BEGIN { printf "\nPointNet test accuracy with m = %d of %d points per shape:\n", m, n }
  {
    method = field("method"); name = method == "fps" ? "FPS" : method == "samplenet" ? "SampleNet" : method
    if (field("soft") == "null") printf "  %-20s %6.2f %%\n", name, 100 * field("matched")
    else printf "  %-20s %6.2f %%\n  %-20s %6.2f %%\n", name " matched", 100 * field("matched"), name " soft", 100 * field("soft")
  }' "$RUN/sampling.jsonl" | tee "$RUN/sampling.txt"

# Pictures: the samplers applied to every cloud of the data set, then test shape INDEX drawn
# (all its points in grey, the m chosen from its first POINTS in red).
"$PG" sample --method fps --m "$M" --points "$POINTS" --in "$RUN/data" --out "$RUN/samples/fps" >/dev/null
"$PG" sample --method samplenet --sampler "$SAMPLER" --m "$M" --in "$RUN/data" --out "$RUN/samples/samplenet" >/dev/null
for method in fps samplenet; do
  "$PG" render "$RUN/data/ply_data_test0.h5" "$RUN/test${INDEX}_${method}.png" --index "$INDEX" \
    --highlight "$RUN/samples/$method/ply_data_test0.h5" >/dev/null
  echo "picture: $RUN/test${INDEX}_${method}.png"
done
echo "main job finished in $(( $(date +%s) - START )) s; run folder: $RUN"
