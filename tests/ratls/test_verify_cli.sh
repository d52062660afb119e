#!/usr/bin/env bash
# The verify command as a separate process against the RA-TLS test server:
# exit status 0 when every check passes, 1 naming the failed step otherwise.
set -euo pipefail
server="$1"
verify() { "$cli" verify "$@"; }
cli="$2"
dir="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
hash="$(printf 'ab%.0s' $(seq 32))"
"$server" --data-dir "$dir" --app "shop:/shop:shop.test:$hash" > "$dir/port" 2>/dev/null &
pid=$!
for _ in $(seq 50); do [ -s "$dir/port" ] && break; sleep 0.1; done
target="127.0.0.1:$(awk '{print $2}' "$dir/port")"

verify "$target" --allow-simulated --require-manifest --expect-code-hash "shop=$hash" \
    > "$dir/ok.txt"
grep -q "RESULT: PASS" "$dir/ok.txt"

status=0
verify "$target" > "$dir/sim.txt" || status=$?
[ "$status" -eq 1 ]
grep -q 'FAIL at step "simulated"' "$dir/sim.txt"

status=0
verify "$target" --allow-simulated --expect-root "$(printf '0%.0s' $(seq 64))" --json \
    > "$dir/root.json" || status=$?
[ "$status" -eq 1 ]
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["failed_step"]=="expect-root", d' \
    "$dir/root.json"

root="$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["merkle_root"])' "$dir/root.json")"
verify "$target" --allow-simulated --challenge --expect-root "$root" --json > "$dir/ch.json"
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["binding"].startswith("nonce:"), d' \
    "$dir/ch.json"
echo "verify command ok"
