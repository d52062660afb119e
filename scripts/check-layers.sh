#!/usr/bin/env bash
# Checks the layer rules of docs/architecture.md: every "eos/X.h" included by
# src/<layer>/ or include/eos/<layer>.h, and every eos_X library linked in
# src/<layer>/CMakeLists.txt, must be the layer itself or in its row of the
# table; links are PRIVATE; tests and fuzzers include no other layer's
# internal.h. With a build directory, also that no two files of the server's
# layers (proto, apps, net, client, cli) call each other in a cycle, from
# the symbols their objects define and use. Prints each violation and exits
# 1 when there is any.
#
#   scripts/check-layers.sh [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
doc="$root/docs/architecture.md"

declare -A allowed
# Rows of the table: "| layer | a, b, c |".
while IFS='|' read -r _ layer uses _; do
  layer="$(echo "$layer" | tr -d ' ')"
  [[ "$layer" =~ ^[a-z]+$ ]] || continue
  [ "$layer" = layer ] && continue
  allowed[$layer]=" $(echo "$uses" | tr ',' ' ' | xargs) "
done < <(sed -n '/^### What each layer may use/,/^## /p' "$doc" | grep '^|')

if [ "${#allowed[@]}" -eq 0 ]; then
  echo "check-layers: no layer table found in $doc" >&2
  exit 1
fi

bad=0
fail() {
  echo "check-layers: $*"
  bad=1
}

may_use() { # layer other
  [ "$1" = "$2" ] || [[ "${allowed[$1]}" == *" $2 "* ]]
}

for dir in "$root"/src/*/; do
  layer="$(basename "$dir")"
  if [ -z "${allowed[$layer]+x}" ]; then
    fail "src/$layer is not in the table of docs/architecture.md"
    continue
  fi
  files=("$dir"*.c "$dir"*.h)
  [ -f "$root/include/eos/$layer.h" ] && files+=("$root/include/eos/$layer.h")
  for f in "${files[@]}"; do
    [ -f "$f" ] || continue
    rel="${f#"$root"/}"
    while IFS= read -r inc; do
      other="${inc#eos/}"
      other="${other%.h}"
      may_use "$layer" "$other" || fail "$rel includes eos/$other.h: $layer may not use $other"
    done < <(grep -oE '^#include "eos/[a-z]+\.h"' "$f" | sed -E 's/#include "(.*)"/\1/')
    if grep -nE '^#include "\.\./' "$f" >/dev/null; then
      fail "$rel includes a file of another folder: $(grep -nE '^#include "\.\./' "$f" | head -1)"
    fi
  done
  cm="$dir/CMakeLists.txt"
  [ -f "$cm" ] || continue
  if grep -nE 'target_link_libraries\([^)]*PUBLIC|target_link_libraries\([^)]*INTERFACE' "$cm" >/dev/null ||
    tr '\n' ' ' <"$cm" | grep -qE 'target_link_libraries\([^)]*(PUBLIC|INTERFACE)'; then
    fail "src/$layer/CMakeLists.txt links PUBLIC or INTERFACE: layers link PRIVATE"
  fi
  for lib in $(tr '\n' ' ' <"$cm" | grep -oE 'target_link_libraries\([^)]*\)' | grep -oE '\beos_[a-z]+\b' | sort -u); do
    other="${lib#eos_}"
    [ -n "${allowed[$other]+x}" ] || continue
    may_use "$layer" "$other" || fail "src/$layer/CMakeLists.txt links $lib: $layer may not use $other"
  done
done

# Tests and fuzzers: public headers, or their own layer's internal.h.
for f in $(find "$root/tests" "$root/fuzz" -name '*.[ch]' 2>/dev/null); do
  rel="${f#"$root"/}"
  own="$(echo "$rel" | cut -d/ -f2)"
  while IFS= read -r inc; do
    other="$(echo "$inc" | sed -E 's#.*src/([a-z]+)/.*#\1#')"
    [ "$other" = "$own" ] || fail "$rel includes $inc: only its own layer's internal.h may be used"
  done < <(grep -oE '^#include "[./]*src/[a-z]+/[a-z_]+\.h"' "$f" | sed -E 's/#include "(.*)"/\1/')
done

# No cycle between the files of a server layer (needs the built objects).
build="${1:-}"
if [ -n "$build" ]; then
  for layer in proto apps net client cli; do
    objdir="$build/src/$layer/CMakeFiles/eos_$layer.dir"
    [ "$layer" = cli ] && objdir="$build/src/cli/CMakeFiles/enclave-os.dir"
    if [ ! -d "$objdir" ]; then
      fail "no objects of $layer in $objdir: build first"
      continue
    fi
    if ! out="$(/usr/bin/env python3 - "$objdir" "$root/src/$layer" <<'PY'
import glob, os, subprocess, sys
objdir, srcdir = sys.argv[1], sys.argv[2]
defs, uses = {}, {}
for o in sorted(glob.glob(os.path.join(objdir, "*.c.o"))):
    f = os.path.basename(o)[:-2]
    if not os.path.exists(os.path.join(srcdir, f)):
        continue  # a stale object of a file that is gone
    for line in subprocess.run(["nm", o], capture_output=True, text=True).stdout.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in "TDBR":
            defs[p[2]] = f
        elif len(p) == 2 and p[0] == "U":
            uses.setdefault(f, set()).add(p[1])
graph = {f: {defs[s] for s in u if s in defs and defs[s] != f} for f, u in uses.items()}
state, stack = {}, []
def visit(f):
    state[f] = 1
    stack.append(f)
    for g in sorted(graph.get(f, ())):
        if state.get(g) == 1:
            print(" -> ".join(stack[stack.index(g):] + [g]))
            sys.exit(1)
        if g not in state:
            visit(g)
    stack.pop()
    state[f] = 2
for f in sorted(graph):
    if f not in state:
        visit(f)
PY
)"; then
      fail "src/$layer has a cycle between files: $out"
    fi
  done
fi

if [ "$bad" -ne 0 ]; then
  echo "check-layers: the layer rules of docs/architecture.md are broken (see above)"
  exit 1
fi
echo "check-layers: ${#allowed[@]} layers follow docs/architecture.md"
