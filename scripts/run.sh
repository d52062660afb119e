#!/usr/bin/env bash
# The quick start: installs dependencies, builds enclave-os into build/, and
# runs the server in the foreground in development mode with the simulated
# TEE on 127.0.0.1:8443. Extra arguments are passed to `enclave-os serve`
# (a repeated flag wins over the default given here, e.g. --listen).
# Stop it with Ctrl-C (graceful shutdown).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

# A failed install is reported but not fatal: when what the build needs is
# already present (e.g. npm from another source), the build below proceeds,
# and when it is not, the build says what is missing.
if ! "$here/scripts/install-deps.sh"; then
  echo "run.sh: scripts/install-deps.sh failed; trying to build with what is installed" >&2
fi
cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$here/build" -j "$(nproc)"

bin="$here/build/src/cli/enclave-os"

# Example app: once loading is available, the example app is loaded here,
# after the server is up (start the server in the background, wait for
# `enclave-os ping`, run `enclave-os load`, then wait on the server).

exec "$bin" serve --dev --tee sim --data-dir .eos-data --listen 127.0.0.1:8443 "$@"
