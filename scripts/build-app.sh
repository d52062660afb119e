#!/usr/bin/env bash
# Builds an enclave-os app reproducibly from a source directory and writes its
# provenance: C through the SDK (sdk/app.mk: clang + wasi-libc + jco), one
# JavaScript file through the pinned componentize-js. The same source and the
# same toolchain give the same bytes, whatever the directory or the time.
#
#   scripts/build-app.sh SRC_DIR [--out DIR] [--name NAME] [--world WIT|NAME] [--strict]
#
# SRC_DIR holds *.c files (C) or one *.js file (JavaScript), and world.wit
# unless --world says otherwise (C default: the SDK's http-app world).
# Writes DIR/NAME.wasm and DIR/NAME.provenance.json (DIR defaults to
# ./build-app) and prints the component's SHA-256 as sha256sum does.
# SOURCE_DATE_EPOCH is taken from the environment, else from the last git
# commit that touched SRC_DIR, else 0. --strict refuses a toolchain that
# differs from the pins below instead of warning.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sdk="$root/sdk"
tools="${EOS_TOOLS_DIR:-$root/tools}"

# The pinned toolchain: Debian 12's clang and wasi-libc, the npm tools of
# tools/package.json.
pin_clang="14.0.6"
pin_wasi_libc="0.0~git20220510.9886d3d-2"

die() { echo "build-app: $*" >&2; exit 1; }
usage() { sed -n '7,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

src="" out="build-app" name="" world="" strict=0
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=${2:?}; shift 2 ;;
        --name) name=${2:?}; shift 2 ;;
        --world) world=${2:?}; shift 2 ;;
        --strict) strict=1; shift ;;
        -h|--help) usage ;;
        -*) die "unknown option $1" ;;
        *) [ -z "$src" ] || die "one source directory only"; src=$1; shift ;;
    esac
done
[ -n "$src" ] || usage
[ -d "$src" ] || die "$src is not a directory"
src="$(cd "$src" && pwd)"
name=${name:-$(basename "$src")}
[[ "$name" =~ ^[a-z0-9][a-z0-9._-]{0,62}$ ]] || die "app name '$name' must match [a-z0-9][a-z0-9._-]{0,62} (use --name)"

shopt -s nullglob
c_files=("$src"/*.c)
js_files=("$src"/*.js)
shopt -u nullglob
if [ ${#c_files[@]} -gt 0 ]; then
    lang=c
elif [ ${#js_files[@]} -eq 1 ]; then
    lang=javascript
else
    die "$src holds no *.c file and not exactly one *.js file"
fi
if [ -z "$world" ]; then
    if [ -f "$src/world.wit" ]; then world="$src/world.wit"
    elif [ $lang = c ]; then world=http-app
    else die "a JavaScript app needs $src/world.wit or --world FILE"; fi
elif [ -f "$world" ]; then
    world="$(cd "$(dirname "$world")" && pwd)/$(basename "$world")"
fi

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git -C "$src" log -1 --format=%ct -- . 2>/dev/null || true)
    SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}
fi
export SOURCE_DATE_EPOCH
export TZ=UTC LC_ALL=C

# The source tree hash: SHA-256 of `sha256sum` lines of every file, sorted by
# path (hidden files and build output excepted), as the console hash is made.
tree_listing() {
    (cd "$1" && find . -type f ! -path '*/.*' ! -path './build/*' ! -path './build-app/*' -printf '%P\n' |
        sort | while IFS= read -r f; do sha256sum -- "$f"; done)
}

version_of() { node -e "process.stdout.write(require('$tools/node_modules/$1/package.json').version)" 2>/dev/null || echo missing; }
pinned_of() { node -e "process.stdout.write(require('$tools/package.json').dependencies['$1'] || 'none')"; }
clang_version=$(clang --version 2>/dev/null | sed -n '1s/.*clang version \([0-9.]*\).*/\1/p')
wasi_libc_version=$(dpkg-query -W -f '${Version}' wasi-libc 2>/dev/null || echo unknown)
node_version=$(node --version 2>/dev/null || die "node is missing (scripts/install-deps.sh)")
jco_version=$(version_of @bytecodealliance/jco)
cjs_version=$(version_of @bytecodealliance/componentize-js)
wizer_version=$(version_of @bytecodealliance/wizer)
fe_sha=$(sha256sum "$sdk/tools/eos-fixed-entropy.c" | cut -d' ' -f1)

check_pin() { # what have want
    [ "$2" = "$3" ] && return 0
    if [ $strict = 1 ]; then die "$1 is $2, the pinned version is $3"; fi
    echo "build-app: warning: $1 is $2, the pinned version is $3; the output may differ" >&2
}
check_pin jco "$jco_version" "$(pinned_of @bytecodealliance/jco)"
if [ $lang = c ]; then
    check_pin clang "${clang_version:-missing}" "$pin_clang"
    check_pin wasi-libc "$wasi_libc_version" "$pin_wasi_libc"
else
    check_pin componentize-js "$cjs_version" "$(pinned_of @bytecodealliance/componentize-js)"
fi

# Build in a scratch directory whose path never reaches the output: sources
# are copied in and every absolute path is mapped to a fixed one.
work=$(mktemp -d "${TMPDIR:-/tmp}/eos-build-app.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$work/out" "$out"
(cd "$src" && tree_listing . | sed 's/^[0-9a-f]*  //' | while IFS= read -r f; do
    mkdir -p "$work/src/$(dirname "$f")"; cp -p -- "$f" "$work/src/$f"; done)
find "$work/src" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
if [ -f "$world" ]; then cp "$world" "$work/world.wit"; world_arg="$work/world.wit"; else world_arg=$world; fi

if [ $lang = c ]; then
    sources=$(cd "$work/src" && ls -1 -- *.c | tr '\n' ' ')
    maps="-ffile-prefix-map=$work=/eos-build -ffile-prefix-map=$sdk=/eos-sdk -ffile-prefix-map=$root=/eos"
    (cd "$work/src" && make -s -f "$sdk/app.mk" APP="$name" SOURCES="$sources" WORLD="$world_arg" \
        BUILD="$work/out" EOS_TOOLS_DIR="$tools" \
        WASM_CFLAGS="-O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wvla $maps" >&2) ||
        die "the C build failed"
else
    # componentize-js snapshots the engine with wizer; eos-componentize-js.mjs runs
    # wizer with fixed entropy and clocks (sdk/tools/eos-fixed-entropy.c) so that
    # the snapshot, and so the component, is the same in every build.
    js=$(cd "$work/src" && ls -1 -- *.js)
    # componentize-js strips the working directory from paths: run from one that
    # is not a prefix of its own temporary directory.
    cd "$work"
    node "$sdk/tools/eos-componentize-js.mjs" --js "$work/src/$js" --wit "$world_arg" \
        --out "$work/out/$name.wasm" --tools "$tools" --cache none >&2 || die "the JavaScript build failed"
    cd - >/dev/null
fi

wasm="$out/$name.wasm"
cp "$work/out/$name.wasm" "$wasm"
sum=$(sha256sum "$wasm" | cut -d' ' -f1)
size=$(stat -c %s "$wasm")
listing=$(tree_listing "$src")
tree_sha=$(printf '%s\n' "$listing" | sha256sum | cut -d' ' -f1)
sdk_sha=$(tree_listing "$sdk" | sha256sum | cut -d' ' -f1)
world_desc=$world
[ -f "$world" ] && world_desc="$(basename "$world") sha256:$(sha256sum "$world" | cut -d' ' -f1)"

EOS_P_LISTING="$listing" python3 - "$out/$name.provenance.json" <<PY
import json, os, sys
files = [{"path": l[66:], "sha256": l[:64]} for l in os.environ["EOS_P_LISTING"].splitlines() if l]
doc = {
    "format": "enclave-os-provenance/1",
    "app": "$name",
    "language": "$lang",
    "source": {"tree_sha256": "$tree_sha", "files": files, "world": "$world_desc"},
    "source_date_epoch": int("$SOURCE_DATE_EPOCH"),
    "toolchain": {
        "builder": "scripts/build-app.sh",
        "node": "$node_version",
        "jco": "$jco_version",
        **({"clang": "$clang_version", "wasi-libc": "$wasi_libc_version",
            "sdk_tree_sha256": "$sdk_sha"} if "$lang" == "c" else
           {"componentize-js": "$cjs_version", "wizer": "$wizer_version",
            "pre-initialisation": "fixed entropy and clocks (sdk/tools/eos-fixed-entropy.c sha256:$fe_sha)"}),
    },
    "output": {"file": "$name.wasm", "sha256": "$sum", "size": $size},
    "reproducible": True,
}
with open(sys.argv[1], "w") as f:
    json.dump(doc, f, indent=2, sort_keys=True)
    f.write("\n")
PY
echo "$sum  $wasm"
