#!/usr/bin/env bash
# Installs what enclave-os needs to build, test and build test apps, when it is
# missing: Debian packages (apt-get, as root or through sudo) and the npm tools
# used to turn core wasm into components. Idempotent; quiet when all is present.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

packages=(
  build-essential cmake pkg-config clang lld-14 libclang-rt-14-dev
  libssl-dev openssl liblmdb-dev lmdb-utils libyajl-dev libhttp-parser-dev
  wabt wasi-libc libclang-rt-14-dev-wasm32
  llvm-15-dev
  python3 python3-pytest python3-cryptography
  wrk curl
  libpq-dev postgresql haproxy
  chromium fonts-liberation
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js may come from elsewhere than Debian (a newer build in /usr/bin or
# /usr/local/bin); only when no node and npm are on PATH are Debian's used.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install packages" >&2; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm tools for building test components (jco, componentize-js), pinned in
# tools/package.json and installed into tools/node_modules.
if [ -f "$here/tools/package.json" ] && [ "${EOS_SKIP_NPM:-0}" != 1 ]; then
  if [ ! -d "$here/tools/node_modules/@bytecodealliance/jco" ] ||
     [ ! -d "$here/tools/node_modules/playwright-core" ]; then
    echo "install-deps: installing npm tools into tools/node_modules"
    (cd "$here/tools" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  fi
fi
