#!/usr/bin/env bash
# Deliberate kernel breakages that the CUDA parity suite on the emulator must catch (issue 9):
# each mutation is applied to one .cu file, pg_cuda_tests is rebuilt in the emulator build
# (build-emu-asan/, ASan + UBSan, as CI runs it; PG_EMU_SANITIZE=0: the plain build-emu/) and
# the named parity cases are run; the script fails if a mutant PASSES. The file is restored
# afterwards (also on error or Ctrl-C).
#
#   bash tools/emu_mutations.sh            # every mutation
#   bash tools/emu_mutations.sh shuffle    # those whose name contains "shuffle"
#
# Not part of ctest (each mutant costs a recompile); run it after changing the emulator or the
# kernels it names. Each line of MUTATIONS: name | file | perl -0 substitution | Catch2 test
# filter [| asan: only the sanitizers can see it (skipped with PG_EMU_SANITIZE=0)].
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SANITIZE="${PG_EMU_SANITIZE:-1}"
if [ "$SANITIZE" = "1" ]; then
  BUILD="${PG_EMU_BUILD_DIR:-$ROOT/build-emu-asan}"
  # As ctest runs cuda_parity in this build (tests/CMakeLists.txt).
  export PG_CUDA_NO_CACHING=1 ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  BUILD="${PG_EMU_BUILD_DIR:-$ROOT/build-emu}"
fi
ONLY="${1:-}"

MUTATIONS=(
  # The barrier between loading a reference tile into shared memory and reading it.
  'removed __syncthreads (chamfer tile load)|kernels/cuda/chamfer.cu|s/(tile\[t\] = P4<T>\{p\[0\], p\[1\], p\[2\], T\(0\)\};\n    \}\n)    __syncthreads\(\);\n/$1/|[parity][chamfer]'
  # The inner tile loop skips the last point of every tile.
  'off-by-one in a tile loop (chamfer)|kernels/cuda/chamfer.cu|s/for \(int j = 0; j < n; \+\+j\) \{/for (int j = 0; j < n - 1; ++j) {/|[parity][chamfer]'
  # The warp reduction tree starts at offset 8: lanes 16..31 never reach lane 0.
  'wrong shuffle offset (reduce warp tree)|kernels/cuda/reduce.cu|s/for \(int d = 16; d > 0; d >>= 1\) a = red\.combine/for (int d = 8; d > 0; d >>= 1) a = red.combine/|[parity][reduce]'
  # The scalar tail of the unary kernel reads and writes one element past the end; the values
  # inside the tensor stay right, so only ASan's bounds (exact-size buffers) can tell.
  'one past the end (unary elementwise tail)|kernels/cuda/elementwise.cu|s/for \(int64_t i = nvec \* 4 \+ tid; i < n; i \+= stride\) out\[i\] = unary_apply/for (int64_t i = nvec * 4 + tid; i <= n; i += stride) out[i] = unary_apply/|[parity][elementwise]|asan'
  # The LSTM forward's grid-stride loop stops one unit early: the last (b, j) of the batch keeps
  # the poisoned (NaN) contents of fresh device memory in h, c and the saved gates.
  'last unit never written (lstm forward grid-stride loop)|kernels/cuda/lstm.cu|s/u < n; u \+= int64_t\(gridDim\.x\) \* blockDim\.x\) \{/u + 1 < n; u += int64_t(gridDim.x) * blockDim.x) {/|[lstm]'
  # The fused decoder's barrier between the gate rows and the cell update (lstm_decode.cu).
  'removed __syncthreads (decoder gates before the cell update)|kernels/cuda/lstm_decode.cu|s/(\n)      __syncthreads\(\);  \/\/ every gate row written[^\n]*\n/$1/|[lstm]'
  # The decoder feeds back the first coordinate group only when D > 4 (second group dropped).
  'second coordinate group never fed back (decoder)|kernels/cuda/lstm_decode.cu|s/d0 < D; d0 \+= 4\) \{/d0 < D \&\& d0 < 4; d0 += 4) {/|[lstm]'
  # The coupling forward's shared-memory log-det tree overwrites instead of adding.
  'log-det tree overwrites (coupling forward)|kernels/cuda/coupling.cu|s/acc\[threadIdx\.x\] \+= acc\[threadIdx\.x \+ w\]/acc[threadIdx.x] = acc[threadIdx.x + w]/|[parity][coupling]'
  # The finishing kernel drops the last chunk's partial of every sample (multi-chunk samples).
  'last log-det chunk dropped (coupling finish)|kernels/cuda/coupling.cu|s/for \(int64_t k = 0; k < G; \+\+k\) s \+= partial/for (int64_t k = 0; k + 1 < G; ++k) s += partial/|[parity][coupling]'
  # The grid kNN's top-K order reverses the index rule on equal distances: the higher index wins
  # a tie (duplicates / lattices must keep the lower index first).
  'grid kNN tie rule reversed|kernels/cuda/knn_grid.cuh|s/\(v == w && j < i\);/(v == w \&\& j > i);/|[knn_grid]'
  # The grid kNN's stopping bound puts the +side of the visited box one cell too far out: the
  # search stops a ring early and misses neighbours just beyond it.
  'grid kNN stops a ring early (box side off by one)|kernels/cuda/knn_grid.cuh|s/static_cast<T>\(c\[a\] \+ r \+ 1\) \* p\.cs\[a\]/static_cast<T>(c[a] + r + 2) * p.cs[a]/|[knn_grid]'
)

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  ARGS=(-DPG_CUDA=EMULATE -DPG_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Release -DPG_EMU_SANITIZE=$([ "$SANITIZE" = 1 ] && echo ON || echo OFF))
  if command -v ccache >/dev/null 2>&1; then ARGS+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  cmake -S "$ROOT" -B "$BUILD" "${ARGS[@]}" >/dev/null
fi
BIN="$BUILD/tests/pg_cuda_tests"

backup=""
target=""
restore() {
  if [ -n "$backup" ] && [ -f "$backup" ]; then
    cp "$backup" "$target"
    rm -f "$backup"
    backup=""
  fi
}
trap restore EXIT INT TERM

fail=0
for m in "${MUTATIONS[@]}"; do
  IFS='|' read -r name file expr filter needs <<<"$m"
  if [ -n "$ONLY" ] && [[ "$name" != *"$ONLY"* ]]; then continue; fi
  if [ "${needs:-}" = "asan" ] && [ "$SANITIZE" != "1" ]; then
    echo "== skipped (needs the sanitizers): $name"
    continue
  fi
  target="$ROOT/$file"
  backup="$(mktemp)"
  cp "$target" "$backup"
  perl -0pi -e "$expr" "$target"
  if cmp -s "$target" "$backup"; then
    echo "MUTATION NOT APPLIED: $name ($file): the substitution matched nothing; update this script"
    restore
    fail=1
    continue
  fi
  echo "== mutant: $name"
  diff "$backup" "$target" | sed 's/^/   /' || true
  cmake --build "$BUILD" -j"$(nproc)" --target pg_cuda_tests >/dev/null
  # --abort: stop at the first failed assertion (a killed mutant costs seconds, not the whole case).
  if PG_CUDA_SYNC=1 "$BIN" --abort "$filter" >"$BUILD/mutant.log" 2>&1; then
    echo "   SURVIVED: $filter passed with the mutant (log: $BUILD/mutant.log)"
    fail=1
  else
    echo "   killed: $(grep -E '^test cases:' "$BUILD/mutant.log" | tail -1)"
  fi
  restore
done
# Leave the build matching the sources again.
cmake --build "$BUILD" -j"$(nproc)" --target pg_cuda_tests >/dev/null
exit $fail
