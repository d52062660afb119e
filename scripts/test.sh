#!/usr/bin/env bash
# Builds enclave-os and runs every test (ctest: unit, spec and end-to-end).
# Usage: scripts/test.sh [--sanitize | --tsan] [--build-dir DIR] [ctest args...]
#   --sanitize  AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/
#   --tsan      ThreadSanitizer build in build-tsan/ (the server's threads: use
#               with -L "net|e2e")
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$here/build"
cmake_args=()
while (($#)); do
  case "$1" in
    --sanitize) build="$here/build-asan"; cmake_args+=(-DEOS_SANITIZE=ON -DEOS_BENCH=OFF); shift ;;
    --tsan) build="$here/build-tsan"; cmake_args+=(-DEOS_TSAN=ON -DEOS_BENCH=OFF); shift ;;
    --build-dir) build="$2"; shift 2 ;;
    *) break ;;
  esac
done
[ "${CI:-}" = true ] && cmake_args+=(-DEOS_WERROR=ON)

"$here/scripts/install-deps.sh"
# The Node.js that install-deps put in .tools/node (when the system's is older than 20)
# serves the build and the tests that run node or npm tools.
[ -d "$here/.tools/node/bin" ] && PATH="$here/.tools/node/bin:$PATH"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${cmake_args[@]}" >/dev/null
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure -j "$(nproc)" "$@"
