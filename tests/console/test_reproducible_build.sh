#!/usr/bin/env bash
# Builds each named example twice with scripts/build-app.sh, from copies in two
# different directories, with different file times and a second apart, and
# checks that the components and provenance files are identical. C examples go
# through the SDK, JavaScript ones through componentize-js (a host C compiler
# builds the fixed-entropy preload that makes its snapshot reproducible).
#   test_reproducible_build.sh REPO APP...
set -euo pipefail
repo=$1; shift
command -v clang >/dev/null && [ -f /usr/lib/wasm32-wasi/libc.a ] && command -v node >/dev/null &&
    command -v cc >/dev/null && [ -d "$repo/tools/node_modules/@bytecodealliance/jco" ] &&
    [ -d "$repo/tools/node_modules/@bytecodealliance/componentize-js" ] ||
    { echo "SKIPPED: clang, wasi-libc, cc, node, jco or componentize-js missing (scripts/install-deps.sh)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SOURCE_DATE_EPOCH=1700000000
fail=0
for app in "$@"; do
    a="$tmp/one/$app" b="$tmp/second/deeper/path/$app"
    mkdir -p "$(dirname "$a")" "$(dirname "$b")"
    cp -r "$repo/examples/$app" "$a"
    cp -r "$repo/examples/$app" "$b"
    find "$a" -exec touch -d '2001-02-03 04:05:06' {} +
    start=$(date +%s)
    (cd "$tmp" && "$repo/scripts/build-app.sh" "$a" --out "$tmp/out-a" --strict) > "$tmp/a.txt"
    sleep 1
    (cd "$b" && TMPDIR="$tmp" "$repo/scripts/build-app.sh" "$b" --out "$tmp/out-b/x" --strict) > "$tmp/b.txt"
    echo "$app: two builds in $(($(date +%s) - start)) s"
    if cmp "$tmp/out-a/$app.wasm" "$tmp/out-b/x/$app.wasm" &&
       cmp "$tmp/out-a/$app.provenance.json" "$tmp/out-b/x/$app.provenance.json"; then
        echo "$app: identical, $(cut -d' ' -f1 "$tmp/a.txt")"
    else
        echo "$app: the two builds differ"
        fail=1
    fi
    python3 - "$tmp/out-a/$app.provenance.json" "$tmp/out-a/$app.wasm" <<'PY'
import hashlib, json, sys
p = json.load(open(sys.argv[1]))
h = hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest()
assert p["output"]["sha256"] == h, "provenance output hash differs from the component"
assert p["source_date_epoch"] == 1700000000
assert len(p["source"]["tree_sha256"]) == 64 and p["reproducible"] is True
assert p["toolchain"]["clang" if p["language"] == "c" else "componentize-js"]
PY
done
exit $fail
