#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) into build-fuzz/ and runs
# each one for a while, seeded from its committed corpus (copied, so runs do
# not write into the repository). Stops at the first crash, leak or timeout.
#   scripts/fuzz.sh [--seconds N] [target ...]      (default 60 s per target)
# CI runs a short smoke (--seconds 10); long runs are for people:
#   scripts/fuzz.sh --seconds 600 wasm
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds=60
if [ "${1:-}" = "--seconds" ]; then
  seconds="$2"
  shift 2
fi
build="$here/build-fuzz"

cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEOS_FUZZ=ON -DEOS_BENCH=OFF -DEOS_EXAMPLES=OFF -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null

mapfile -t binaries < <(find "$build/fuzz" -type f -name 'fuzz_*' -perm -u+x | sort)
work="$(mktemp -d "${TMPDIR:-/tmp}/eos-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT

failed=0
ran=0
for bin in "${binaries[@]}"; do
  name="${bin##*/fuzz_}"
  if (($#)); then
    wanted=0
    for t in "$@"; do [ "$t" = "$name" ] && wanted=1; done
    ((wanted)) || continue
  fi
  layer="$(basename "$(dirname "$bin")")"
  suffix="${name#"$layer"_}"
  corpus="$work/$name"
  mkdir -p "$corpus"
  for seed in "$here/fuzz/$layer/corpus-$suffix" "$here/fuzz/$layer/corpus"; do
    if [ -d "$seed" ]; then
      cp -r "$seed"/. "$corpus"/
      break
    fi
  done
  echo "fuzz: $name for ${seconds}s"
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$work/$name-" "$corpus" >"$work/$name.log" 2>&1; then
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/$name.log" | sed 's/^/  /'
  else
    failed=$((failed + 1))
    echo "fuzz: $name FAILED; its log:" >&2
    tail -40 "$work/$name.log" >&2
    ls "$work"/"$name"-* 2>/dev/null | while read -r a; do
      mkdir -p "$here/build-fuzz/artifacts" && cp "$a" "$here/build-fuzz/artifacts/"
      echo "  reproducer kept in build-fuzz/artifacts/$(basename "$a")" >&2
    done
  fi
  ran=$((ran + 1))
done
echo "fuzz: $((ran - failed)) passed, $failed failed"
((failed == 0))
