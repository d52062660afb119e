#!/usr/bin/env bash
# WebAssembly compute benchmarks: builds each kernel natively (gcc -O2) and to
# wasm (clang -O2), runs it natively, under eos_wasm (wasm_run) on both tiers
# (interpreter and compiled, when the build has LLVM) and under wabt's
# wasm-interp, checks the checksums agree and prints the times, their ratios
# and geometric means, all measured in this one run.
#
# Usage: bench/wasm/run.sh [--quick] [--only "fib sort ..."] [--out DIR]
#                          [--runner PATH/wasm_run] [--instantiate PATH/bench_instantiate]
#                          [--build-dir DIR] [--no-engine] [--no-interp] [--csv FILE]
#                          [--guard]
#   --quick        scale 1 for every kernel, one repetition (a smoke test)
#   --factor F     multiply every default scale by F (e.g. 0.1 for a shorter run)
#   --runner       use this wasm_run; otherwise it is built in --build-dir
#                  (default: <repo>/build-bench), if the engine is present
#   --no-engine    skip eos_wasm (native and wasm-interp only)
#   --csv FILE     also write the rows (times in ms, "-" when not run) to FILE
#   --guard        also run the compiled tier with guard-page bounds checks
#                  (--bounds-checks guard) and instantiation with its memories
# Exit status: 0 all agree, 1 a mismatch or failure, 77 a needed tool is missing.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
kernels_dir="$here/kernels"

# Times are CPU time (the engines are single-threaded), so that a busy shared
# machine skews them less than wall time would.
# Kernel and its default scale (units of ~1 ms native work each), chosen so
# native takes ~50-100 ms on a 2020s x86-64 core and wasm-interp ~10-20 s.
# Kernels named *_simd are built with -msimd128 (fixed-width SIMD).
kernels=(fib:600 sieve:120 matmul:600 nbody:50 mandelbrot:100 memops:2000 sha256:1000
         hash64:2000 sort:80 dispatch:300 dot:30 dot_simd:30)

quick=0 runner="" inst="" out="" build_dir="$root/build-bench" use_engine=1 use_interp=1
only="" csv="" factor=1 guard=0
while (($#)); do
  case "$1" in
    --quick) quick=1; shift ;;
    --only) only="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --runner) runner="$2"; shift 2 ;;
    --instantiate) inst="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --no-engine) use_engine=0; shift ;;
    --no-interp) use_interp=0; shift ;;
    --csv) csv="$2"; shift 2 ;;
    --factor) factor="$2"; shift 2 ;;
    --guard) guard=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || out="$build_dir/bench-wasm"
mkdir -p "$out" || exit 1

CC_NATIVE="${CC_NATIVE:-gcc}"
CC_WASM="${CC_WASM:-clang}"
native_flags=(-std=c11 -O2 -Wall -Wextra)
wasm_flags=(--target=wasm32-wasi --sysroot=/usr -O2 -mbulk-memory -nostdlib
            -Wl,--no-entry -Wall -Wextra)

for tool in "$CC_NATIVE" "$CC_WASM"; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found; skipping" >&2; exit 77; }
done
# clang may lack the wasm32 target or wasm-ld (lld): check with an empty module.
if ! echo 'int run(void) { return 0; }' |
     "$CC_WASM" "${wasm_flags[@]}" -x c - -o "$out/probe.wasm" 2>"$out/probe.err"; then
  echo "run.sh: $CC_WASM cannot build wasm32 modules ($(head -n1 "$out/probe.err")); skipping" >&2
  exit 77
fi
if ((use_interp)) && ! command -v wasm-interp >/dev/null; then
  echo "run.sh: wasm-interp (Debian package wabt) not found; skipping" >&2
  exit 77
fi

# Rebuilds $1 from the kernel source $2 with the remaining arguments unless it
# is newer than the sources (every kernel file: one may include another).
build() {
  local target="$1" src="$2" f
  shift 2
  if [ -e "$target" ] && [ "$target" -nt "$0" ]; then
    for f in "$kernels_dir"/*; do
      [ "$target" -nt "$f" ] || { f=stale; break; }
    done
    [ "$f" = stale ] || return 0
  fi
  "$@" -o "$target" || { echo "run.sh: cannot build $target" >&2; return 1; }
}

# The engine: use --runner, or build wasm_run when the engine is in the tree.
if ((use_engine)) && [ -z "$runner" ]; then
  if cmake -S "$root" -B "$build_dir" -DEOS_WERROR=ON >"$out/cmake.log" 2>&1 &&
     cmake --build "$build_dir" -j2 --target wasm_run bench_instantiate >>"$out/cmake.log" 2>&1; then
    runner="$build_dir/bench/wasm/wasm_run"
    inst="$build_dir/bench/wasm/bench_instantiate"
  else
    echo "run.sh: wasm_run could not be built (see $out/cmake.log): engine missing?" >&2
  fi
fi
engine_missing() {
  use_engine=0
  echo "note: eos_wasm engine missing; comparing native and wasm-interp only"
}
((use_engine)) && [ -n "$runner" ] || engine_missing
# The compiled tier is measured when the runner has it (the build found LLVM).
has_jit=0
if ((use_engine)) && ! "$runner" --tier compiled "$out/probe.wasm" run 2>&1 | grep -q "no compiled tier"; then
  has_jit=1
fi

# Runs a command; sets cpu_ns to its CPU time (user + system) and cmd_out to
# its output.
TIMEFORMAT='%3U %3S'
timed() {
  local t
  t="$( { time "$@" >"$out/cmd.out" 2>&1; } 2>&1 )" || true
  cmd_out="$(cat "$out/cmd.out")"
  cpu_ns="$(awk -v u="${t% *}" -v s="${t#* }" 'BEGIN { printf "%.0f", (u + s) * 1e9 }')"
}
# Prints the checksum in "result 0 i64 N" / "bench() => i64:N" output.
checksum_of() { sed -n -e 's/^result 0 i64 //p' -e 's/^bench() => i64://p' | head -n1; }
call_ms_of() { sed -n 's/^call_ms //p' | head -n1; }

repeat=3
((quick)) && repeat=1
status=0
rows=()
for entry in "${kernels[@]}"; do
  name="${entry%%:*}" scale="${entry#*:}"
  if [ -n "$only" ] && [[ " $only " != *" $name "* ]]; then
    continue
  fi
  scale="$(awk -v s="$scale" -v f="$factor" 'BEGIN { v = int(s * f + 0.5); print v < 1 ? 1 : v }')"
  ((quick)) && scale=1
  src="$kernels_dir/$name.c"
  build "$out/$name.native" "$src" "$CC_NATIVE" "${native_flags[@]}" "$src" \
    "$kernels_dir/native_main.c" -lm || { status=1; continue; }
  # One module serves the engine (run(scale)) and wasm-interp, which cannot
  # pass arguments: BENCH_FIXED_SCALE adds an export bench() == run(scale).
  # $name.wasm links to the latest, for bench_instantiate and profile.sh.
  wasm="$out/$name.s$scale.wasm"
  extra=()
  [[ "$name" == *_simd ]] && extra=(-msimd128)
  build "$wasm" "$src" "$CC_WASM" "${wasm_flags[@]}" "${extra[@]}" -DBENCH_FIXED_SCALE="$scale" "$src" ||
    { status=1; continue; }
  ln -sf "$name.s$scale.wasm" "$out/$name.wasm"

  native_out="$("$out/$name.native" "$scale" "$repeat")" || { echo "$name: native run failed" >&2; status=1; continue; }
  sum_native="$(checksum_of <<<"$native_out")"
  t_native="$(call_ms_of <<<"$native_out")"

  sum_engine="-" t_engine="-"
  if ((use_engine)); then
    engine_rc=0
    engine_out="$("$runner" --repeat "$repeat" "$wasm" run "$scale" 2>"$out/$name.engine.err")" ||
      engine_rc=$?
    if [ "$engine_rc" = 0 ]; then
      sum_engine="$(checksum_of <<<"$engine_out")"
      t_engine="$(call_ms_of <<<"$engine_out")"
    elif [ "$engine_rc" = 3 ]; then
      engine_missing # the placeholder engine: EOS_EUNAVAILABLE
    else
      sum_engine="FAILED"
      echo "$name: eos_wasm failed: $(head -c 400 "$out/$name.engine.err")" >&2
    fi
  fi

  sum_jit="-" t_jit="-"
  if ((use_engine)) && ((has_jit)); then
    if jit_out="$("$runner" --tier compiled --repeat "$repeat" "$wasm" run "$scale" 2>"$out/$name.jit.err")"; then
      sum_jit="$(checksum_of <<<"$jit_out")"
      t_jit="$(call_ms_of <<<"$jit_out")"
    elif grep -q "does not translate" "$out/$name.jit.err"; then
      echo "$name: the compiled tier declines this module: not measured there" >&2
    else
      sum_jit="FAILED"
      echo "$name: eos_wasm compiled failed: $(head -c 400 "$out/$name.jit.err")" >&2
    fi
  fi

  sum_guard="-" t_guard="-"
  if ((guard)) && ((use_engine)) && ((has_jit)); then
    if guard_out="$("$runner" --tier compiled --bounds-checks guard --repeat "$repeat" "$wasm" run "$scale" 2>"$out/$name.guard.err")"; then
      sum_guard="$(checksum_of <<<"$guard_out")"
      t_guard="$(call_ms_of <<<"$guard_out")"
    elif grep -q "does not run SIMD" "$out/$name.guard.err"; then
      : # said above, for the compiled tier
    else
      sum_guard="FAILED"
      echo "$name: eos_wasm compiled-guard failed: $(head -c 400 "$out/$name.guard.err")" >&2
    fi
  fi

  sum_interp="-" t_interp="-"
  if ((use_interp)); then
    # wasm-interp's start-up (process, decode, instantiate) is measured with
    # the scale-0 module and subtracted, except in quick mode.
    base_ns=0
    if ((!quick)); then
      build "$out/$name.s0.wasm" "$src" "$CC_WASM" "${wasm_flags[@]}" "${extra[@]}" -DBENCH_FIXED_SCALE=0 "$src" ||
        { status=1; continue; }
      timed wasm-interp "$out/$name.s0.wasm" --run-all-exports
      base_ns="$cpu_ns"
    fi
    timed wasm-interp "$wasm" --run-all-exports
    run_ns="$cpu_ns"
    sum_interp="$(checksum_of <<<"$cmd_out")"
    [ -n "$sum_interp" ] || { sum_interp="FAILED"; echo "$name: wasm-interp: $cmd_out" >&2; }
    t_interp="$(awk -v d=$((run_ns - base_ns)) 'BEGIN { printf "%.3f", (d > 0 ? d : 0) / 1e6 }')"
  fi

  agree="ok"
  for s in "$sum_engine" "$sum_jit" "$sum_guard" "$sum_interp"; do
    if [ "$s" != "-" ] && [ "$s" != "$sum_native" ]; then
      agree="MISMATCH"
      status=1
    fi
  done
  if [ "$agree" != ok ]; then
    echo "$name: checksums differ: native=$sum_native eos_wasm=$sum_engine compiled=$sum_jit guard=$sum_guard wasm-interp=$sum_interp" >&2
  fi
  rows+=("$name $scale $t_native $t_engine $t_interp $agree $sum_native $t_jit $t_guard")
done

if [ -n "$csv" ]; then
  { echo "kernel,scale,native_ms,eos_ms,interp_ms,checksums,checksum,compiled_ms,guard_ms"
    printf '%s\n' "${rows[@]}" | tr ' ' ','; } >"$csv"
fi

# The table: ratios are per kernel; geometric means over kernels that ran.
# eos = the engine's interpreter, jit = its compiled tier, wabt = wasm-interp.
printf '%s\n' "${rows[@]}" | awk -v quick="$quick" -v guard="$guard" '
function fmt(v) { return v == "-" ? "-" : sprintf("%.2f", v) }
function ratio(a, b) { return (a == "-" || b == "-" || b <= 0 || a <= 0) ? "-" : a / b }
function acc(k, v) { if (v != "-") { lg[k] += log(v); n[k]++ } }
BEGIN {
  printf "%-11s %6s %10s %10s %10s %10s %8s %8s %9s  %s\n", "kernel", "scale", "native_ms",
         "eos_ms", "jit_ms", "wabt_ms", "eos/nat", "jit/nat", "wabt/nat", "checksum"
}
guard { gline = gline sprintf("%s %s/%s=%s", gline ? "," : "", $1, "nat", fmt(ratio($9, $3))) }
{
  en = ratio($4, $3); jn = ratio($8, $3); in_ = ratio($5, $3)
  acc("n", $3); acc("e", $4); acc("j", $8); acc("i", $5); acc("en", en); acc("jn", jn)
  acc("in", in_); acc("gn", ratio($9, $3))
  printf "%-11s %6s %10s %10s %10s %10s %8s %8s %9s  %s %s\n", $1, $2, fmt($3), fmt($4),
         fmt($8), fmt($5), fmt(en), fmt(jn), fmt(in_), $6, $7
}
function gm(k) { return n[k] ? sprintf("%.2f", exp(lg[k] / n[k])) : "-" }
END {
  printf "%-11s %6s %10s %10s %10s %10s %8s %8s %9s\n", "geomean", "", gm("n"), gm("e"), gm("j"),
         gm("i"), gm("en"), gm("jn"), gm("in")
  print ""
  printf "geomean compiled/native: %s\n", gm("jn")
  if (guard) printf "compiled-guard per kernel:%s\n", gline
  if (guard) printf "geomean compiled-guard/native: %s\n", gm("gn")
  printf "geomean interp/native: %s\n", gm("en")
  printf "geomean wasm-interp/native: %s\n", gm("in")
  if (quick) print "(quick mode: scale 1, timings are not meaningful)"
}'

if ((use_engine)) && [ -n "$inst" ]; then
  echo
  echo "instantiation (new store + instantiate + free):"
  inst_args=()
  ((quick)) && inst_args+=(--quick)
  for m in sha256 memops; do [ -e "$out/$m.wasm" ] && inst_args+=("$out/$m.wasm"); done
  "$inst" "${inst_args[@]}" || status=1
  if ((guard)) && ((has_jit)); then
    echo
    echo "instantiation of compiled modules, explicit bounds checks, then guard pages:"
    "$inst" --compiled "${inst_args[@]}" || status=1
    "$inst" --bounds-checks guard "${inst_args[@]}" || status=1
  fi
fi
exit "$status"
