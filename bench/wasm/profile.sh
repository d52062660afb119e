#!/usr/bin/env bash
# Profiling aids for the engine, on one kernel built by run.sh:
#   profile.sh perf KERNEL [SCALE]   perf record (cpu-clock) of wasm_run; top symbols
#   profile.sh opmix KERNEL [SCALE]  dynamic instruction mix and most frequent adjacent
#                                    pairs (superinstruction candidates), from
#                                    wasm-interp --trace (wabt's lowered opcode names)
# Needs a prior `run.sh` (or --quick) run; uses the same --out/--build-dir
# defaults and the environment variables OUT and RUNNER to override them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${OUT:-$root/build-bench/bench-wasm}"
runner="${RUNNER:-$root/build-bench/bench/wasm/wasm_run}"
mode="${1:-}" kernel="${2:-}" scale="${3:-}"
if [ -z "$mode" ] || [ -z "$kernel" ]; then
  sed -n '2,8p' "$0"
  exit 2
fi
wasm="$out/$kernel.wasm"
[ -e "$wasm" ] || { echo "profile.sh: $wasm missing: run bench/wasm/run.sh first" >&2; exit 1; }

case "$mode" in
  perf)
    scale="${scale:-10}"
    data="$out/$kernel.perf.data"
    perf record -q -e cpu-clock -g -o "$data" "$runner" "$wasm" run "$scale"
    perf report -i "$data" --stdio --no-children --sort symbol -g none 2>/dev/null |
      grep -v '^#' | grep -v '^$' | head -25
    echo "(annotate the hottest function: perf annotate -i $data --stdio SYMBOL)"
    ;;
  opmix)
    # The trace of scale 1 is millions of lines; it is streamed, never stored.
    scale="${scale:-1}"
    src="$here/kernels/$kernel.c"
    traced="$out/$kernel.s$scale.wasm"
    [ -e "$traced" ] || clang --target=wasm32-wasi --sysroot=/usr -O2 -mbulk-memory -nostdlib \
      -Wl,--no-entry -DBENCH_FIXED_SCALE="$scale" -o "$traced" "$src"
    wasm-interp "$traced" --run-all-exports --trace 2>&1 | awk -v top=15 '
      /^#/ {
        i = index($0, "| "); if (!i) next
        split(substr($0, i + 2), a, " "); op = a[1]
        n++; c[op]++
        if (prev != "") b[prev " > " op]++
        prev = op
      }
      END {
        cmd = "sort -rn | head -" top
        print "  -- instructions --"
        for (k in c) printf "%6.2f%%  %s\n", 100 * c[k] / n, k | cmd
        close(cmd)
        print "  -- adjacent pairs --"
        for (k in b) printf "%6.2f%%  %s\n", 100 * b[k] / n, k | cmd
        close(cmd)
        printf "  (%d instructions executed)\n", n
      }'
    ;;
  *)
    echo "profile.sh: unknown mode $mode (perf or opmix)" >&2
    exit 2
    ;;
esac
