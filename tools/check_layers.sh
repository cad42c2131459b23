#!/usr/bin/env bash
# Checks the #include graph against DESIGN.md's layer rule (dependencies point downwards only):
#   core -> core;  kernels -> core;  autograd -> kernels, core;  ops -> autograd, kernels, core;
#   datasets -> core;  models -> ops, autograd, kernels, datasets, core.
# (tools/, tests/, bench/ and examples/ may include any layer.) The link graph enforces the same
# rule for symbols (every layer is a shared library linked with --no-undefined); this script also
# catches header-only uses. Prints every offending line; exit 1 if there is one.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
declare -A allowed=(
  [core]="core"
  [kernels]="kernels core"
  [autograd]="autograd kernels core"
  [ops]="ops autograd kernels core"
  [datasets]="datasets core"
  [models]="models ops autograd kernels datasets core"
)
bad=0
for layer in "${!allowed[@]}"; do
  [ -d "$layer" ] || continue
  while IFS= read -r hit; do
    file=${hit%%:*}
    rest=${hit#*:}
    line=${rest%%:*}
    inc=$(sed -E 's/.*#include "([a-z_]+)\/.*/\1/' <<<"$rest")
    ok=0
    for a in ${allowed[$layer]}; do [ "$inc" = "$a" ] && ok=1; done
    # Project-relative includes must name a layer folder; anything else is a typo or a new layer.
    if [ $ok -eq 0 ]; then
      echo "layering: $file:$line: the $layer layer includes $inc/ (allowed: ${allowed[$layer]})"
      bad=1
    fi
  done < <(grep -rnE '^\s*#\s*include "[a-z_]+/' "$layer" --include='*.h' --include='*.cpp' --include='*.cu' --include='*.cuh' || true)
done
if [ $bad -eq 0 ]; then echo "layering: OK (${!allowed[*]})"; fi
exit $bad
