#!/usr/bin/env bash
# The quick start: installs dependencies, builds enclave-os and the example apps
# into build/, starts the server in development mode
# with the simulated TEE on 127.0.0.1:8443, loads the examples' hello app at
# /hello, then waits on the server in the foreground (Ctrl-C stops it
# gracefully). Extra arguments are passed to `enclave-os serve` (a repeated
# flag wins over the default given here, e.g. --listen). It never touches a
# server it did not start: when the address is taken it says so and exits 1.
# EOS_RUN_NO_BUILD=1 skips the install and the build (build/ must be there, or
# EOS_BIN and EOS_HELLO name the binary and the hello component to use).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

# A failed install is reported but not fatal: when what the build needs is
# already present (e.g. npm from another source), the build below proceeds,
# and when it is not, the build says what is missing.
if [ "${EOS_RUN_NO_BUILD:-0}" != 1 ]; then
  if ! "$here/scripts/install-deps.sh"; then
    echo "run.sh: scripts/install-deps.sh failed; trying to build with what is installed" >&2
  fi
  # The example apps are part of the build (EOS_EXAMPLES).
  cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  if ! cmake --build "$here/build" -j "$(nproc)"; then
    echo "run.sh: the build failed (see above)" >&2
    exit 1
  fi
fi

bin="$here/build/src/cli/enclave-os"
hello="$here/build/examples/hello/hello.wasm"
if [ "${EOS_RUN_NO_BUILD:-0}" = 1 ]; then
  # Tests run it on the binary and component they built.
  bin="${EOS_BIN:-$bin}"
  hello="${EOS_HELLO:-$hello}"
fi
listen=127.0.0.1:8443
prev_arg=""
for arg in "$@"; do
  case "$prev_arg${prev_arg:+=}$arg" in
    --listen=*) listen="${arg#--listen=}" ;;
  esac
  prev_arg=""
  [ "$arg" = "--listen" ] && prev_arg="--listen"
done

# A server already answering there is not ours: leave it alone.
if "$bin" ping "$listen" --timeout 1000 >/dev/null 2>&1; then
  echo "run.sh: a server already listens on $listen; stop it, or pass --listen HOST:PORT" \
       "for another address" >&2
  exit 1
fi

# The server gets its own process group (job control), so a Ctrl-C at the
# terminal reaches only this script, which passes it on once as TERM: the
# server drains and exits, and this script returns its status.
set -m
"$bin" serve --dev --tee sim --data-dir .eos-data --listen 127.0.0.1:8443 "$@" &
server=$!
set +m
trap 'kill -TERM "$server" 2>/dev/null || true' INT TERM

# Ready once our server answers; it is checked to be alive before and after
# each ping, so an answer from another process on the same port (ours failed
# to bind) never counts.
ready=0
for _ in $(seq 1 100); do
  if ! kill -0 "$server" 2>/dev/null; then
    set +e
    wait "$server"
    status=$?
    echo "run.sh: the server did not start (status $status)" >&2
    exit $((status == 0 ? 1 : status))
  fi
  if "$bin" ping "$listen" --timeout 1000 >/dev/null 2>&1 && kill -0 "$server" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.1
done
if [ "$ready" != 1 ]; then
  echo "run.sh: the server did not answer on $listen; stopping it" >&2
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" || true
  exit 1
fi

if [ -f "$hello" ]; then
  if "$bin" load "$hello" --name hello --route /hello -s "$listen" --allow-simulated; then
    echo "run.sh: try: curl -k https://$listen/hello/hello" >&2
  fi
else
  echo "run.sh: $hello is not built (the examples build needs clang for wasm32, wasi-libc and" \
       "node with tools/node_modules; see scripts/install-deps.sh); the server runs empty" >&2
fi

set +e
wait "$server"
status=$?
# wait returns early when a trapped signal arrives; wait again for the drain.
if kill -0 "$server" 2>/dev/null; then
  wait "$server"
  status=$?
fi
exit "$status"
