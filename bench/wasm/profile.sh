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
    perf record -q -e cpu-clock -o "$data" "$runner" "$wasm" run "$scale"
    echo "  -- hottest symbols --"
    perf report -i "$data" --stdio --no-children --sort symbol 2>/dev/null |
      grep -v '^#' | grep -v '^$' | head -8
    # Samples of the hottest symbol by source line: in a threaded interpreter
    # each opcode handler is a few lines, so this is a per-opcode profile.
    sym="$(perf report -i "$data" --stdio --no-children --sort symbol 2>/dev/null |
      grep -v '^#' | grep -v '^$' | head -1 | sed 's/.*\] //; s/ .*//')"
    echo "  -- $sym by source line --"
    perf annotate -i "$data" --stdio -s "$sym" 2>/dev/null |
      awk '$2 == ":" && $1 + 0 > 0 { sub(":", "", $3); print $1, $3 }' >"$out/$kernel.perf.lines"
    paste -d' ' <(cut -d' ' -f1 "$out/$kernel.perf.lines") \
      <(sed 's/^[^ ]* /0x/' "$out/$kernel.perf.lines" | addr2line -e "$runner" |
        sed 's| (discriminator.*||') |
      awk '{ pct[$2] += $1 } END { for (k in pct) printf "%6.2f%%  %s\n", pct[k], k }' |
      sort -rn | head -25 | while read -r pct loc; do
        file="${loc%%:*}" line="${loc##*:}"
        text=""
        [ -r "$file" ] && [ "$line" -gt 0 ] 2>/dev/null && text="$(sed -n "${line}p" "$file")"
        printf '%s  %-14s %s\n' "$pct" "${file##*/}:$line" "$(echo "$text" | sed 's/^ *//' | cut -c1-70)"
      done
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
