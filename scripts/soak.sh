#!/usr/bin/env bash
# Soak and chaos run on loopback, by hand (see scripts/soak.py for what it does):
#   scripts/soak.sh [--seconds 600] [--kill-every 60] [--bin ...] [--hello ...]
#                   [--counter ...] [--hello-js ...]
# Apps default to the build tree's (EOS_BUILD, default build/). Ends with one
# verdict line; exit status 0 on PASS.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec timeout --kill-after=30 $((${SOAK_MAX_SECONDS:-90000})) python3 "$here/soak.py" "$@"
