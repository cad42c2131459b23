#!/usr/bin/env bash
# Mutation check: applies each single-line mutation of tools/mutations.txt on its own, rebuilds
# pg_tests incrementally, runs the mutation's Catch2 tag and expects a FAILURE (the mutation is
# "killed"). The source file is always restored (trap), also on Ctrl-C or a failed build.
#
#   tools/mutation_check.sh [BUILD_DIR] [NAME_FILTER]
#     BUILD_DIR    a configured CPU build (default: build-cpu)
#     NAME_FILTER  run only mutations whose name contains this string
#
# Prints one line per mutation (KILLED / SURVIVED / BUILD-FAILED / NOT-FOUND) and the kill rate;
# exits 0 only when every mutation was applied, built and killed. See docs/testing.md.
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build-cpu}
FILTER=${2:-}
LIST=tools/mutations.txt
JOBS=${PG_MUTATION_JOBS:-2}
TIMEOUT=${PG_MUTATION_TIMEOUT:-900}
LOG_DIR=${PG_MUTATION_LOG_DIR:-$BUILD/mutation_logs}
mkdir -p "$LOG_DIR"

TESTS=$(find "$BUILD" -name pg_tests -type f -perm -u+x | head -1)
if [[ -z "$TESTS" ]]; then
  echo "mutation_check: no pg_tests under $BUILD (build it first: cmake --build $BUILD --target pg_tests)" >&2
  exit 2
fi

BACKUP=""
TARGET=""
restore() {
  if [[ -n "$BACKUP" && -f "$BACKUP" ]]; then
    cp "$BACKUP" "$TARGET"   # cp gives the file a new mtime: the next build recompiles it
    rm -f "$BACKUP"
  fi
  BACKUP=""
}
trap restore EXIT
trap 'restore; exit 130' INT TERM

# apply FILE FROM TO: replaces the one line whose stripped text is FROM, keeping its indentation.
apply() {
  python3 - "$1" "$2" "$3" <<'PY'
import sys
path, old, new = sys.argv[1], sys.argv[2].strip(), sys.argv[3].strip()
lines = open(path).read().split('\n')
hits = [i for i, l in enumerate(lines) if l.strip() == old]
if len(hits) != 1:
    print(f"{len(hits)} matching lines", file=sys.stderr)
    sys.exit(1)
i = hits[0]
indent = lines[i][:len(lines[i]) - len(lines[i].lstrip())]
lines[i] = indent + new
open(path, 'w').write('\n'.join(lines))
PY
}

total=0; killed=0; bad=0
run_one() {
  local name=$1 file=$2 tag=$3 from=$4 to=$5
  [[ -n "$FILTER" && "$name" != *"$FILTER"* ]] && return
  total=$((total + 1))
  local log="$LOG_DIR/$name.log"
  TARGET=$file
  BACKUP=$(mktemp)
  cp "$file" "$BACKUP"
  if ! apply "$file" "$from" "$to" 2> "$log"; then
    printf '%-28s NOT-FOUND     %s (%s)\n' "$name" "$file" "$(cat "$log")"
    bad=$((bad + 1)); restore; return
  fi
  if ! nice -n 5 cmake --build "$BUILD" --target pg_tests -j"$JOBS" >> "$log" 2>&1; then
    printf '%-28s BUILD-FAILED  %s (see %s)\n' "$name" "$file" "$log"
    bad=$((bad + 1)); restore; return
  fi
  local t0=$SECONDS
  if timeout "$TIMEOUT" "$TESTS" "$tag" >> "$log" 2>&1; then
    printf '%-28s SURVIVED      %s %s\n' "$name" "$file" "$tag"
  else
    killed=$((killed + 1))
    printf '%-28s KILLED        %s %s (%ds; %s)\n' "$name" "$file" "$tag" $((SECONDS - t0)) \
      "$(grep -m1 -E '^test cases:' "$log" | tr -s ' ')"
  fi
  restore
}

# Parse the blocks of the list.
name=""; file=""; tag=""; from=""; to=""
flush() {
  if [[ -n "$name" ]]; then run_one "$name" "$file" "$tag" "$from" "$to"; fi
  name=""; file=""; tag=""; from=""; to=""
}
while IFS= read -r line || [[ -n "$line" ]]; do
  case "$line" in
    \#*) ;;
    "") flush ;;
    name:*) name=$(echo "${line#name:}" | xargs) ;;
    file:*) file=$(echo "${line#file:}" | xargs) ;;
    tag:*) tag=$(echo "${line#tag:}" | xargs) ;;
    from:*) from=${line#from:} ;;
    to:*) to=${line#to:} ;;
    *) echo "mutation_check: cannot parse line: $line" >&2; exit 2 ;;
  esac
done < "$LIST"
flush

# Leave the build matching the restored sources.
nice -n 5 cmake --build "$BUILD" --target pg_tests -j"$JOBS" > "$LOG_DIR/final_rebuild.log" 2>&1 ||
  echo "mutation_check: the final rebuild of the restored sources failed (see $LOG_DIR/final_rebuild.log)" >&2
echo "mutation_check: killed $killed of $total mutations ($bad not applied or not built)"
[[ $total -gt 0 && $killed -eq $total ]]
