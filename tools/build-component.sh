#!/usr/bin/env bash
# Compiles a C reactor to a component: clang (wasm32-wasi, wasi-libc) makes the
# core module, then componentize.mjs embeds the WIT world and wraps it.
# Usage: build-component.sh APP.c WORLD.wit WORLD_NAME OUT.wasm [componentize.mjs options]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The Node.js of scripts/install-deps.sh (.tools/node) when the system's is too old.
[ -d "$here/../.tools/node/bin" ] && PATH="$here/../.tools/node/bin:$PATH"
[ $# -ge 4 ] || { echo "usage: $0 APP.c WORLD.wit WORLD_NAME OUT.wasm [--wasi VERSION]" >&2; exit 2; }
src=$1 wit=$2 world=$3 out=$4
shift 4
core="$out.core.wasm"
"${CLANG:-clang}" --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor \
    -Wl,--export=cabi_realloc -o "$core" "$src"
node "$here/componentize.mjs" "$core" "$wit" "$world" "$out" "$@"
rm -f "$core"
