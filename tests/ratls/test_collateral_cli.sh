#!/usr/bin/env bash
# `verify --evidence` with --collateral, --require-tcb and --at, as a
# separate process: Intel's 2023 collateral judges a real TDX quote.
set -euo pipefail
eos="$1"
samples="$2"
vectors="$3"
[ -f "$samples/README.md" ] || { echo "skipped: no samples"; exit 77; }
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
q="$samples/teekit/tdx-v4-edgeless.dat"
base=(--evidence "$q" --sgx-root-ca "$samples/intel_sgx_root_ca.pem"
      --collateral "$vectors/intel-tdx-2023-02")

"$eos" verify "${base[@]}" --at 2023-03-01T00:00:00Z --require-tcb UpToDate > "$dir/ok.txt"
grep -q "tcb             UpToDate" "$dir/ok.txt"
grep -q "RESULT: PASS" "$dir/ok.txt"

"$eos" verify "${base[@]}" --at 1677628800 --json > "$dir/ok.json"
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["tcb_status"]=="UpToDate", d' \
    "$dir/ok.json"

# Today the collateral and its signing certificate have expired.
status=0
"$eos" verify "${base[@]}" > "$dir/old.txt" || status=$?
[ "$status" -eq 1 ]
grep -q 'FAIL at step "tcb"' "$dir/old.txt"

# Bad option values are usage errors.
for bad in "--require-tcb Great" "--require-tcb Revoked" "--at yesterday"; do
  status=0
  # shellcheck disable=SC2086
  "$eos" verify "${base[@]}" $bad > /dev/null 2>&1 || status=$?
  [ "$status" -eq 2 ]
done

# Without a root, bare evidence proves nothing.
status=0
"$eos" verify --evidence "$q" > "$dir/none.txt" || status=$?
[ "$status" -eq 1 ]
grep -q 'FAIL at step "quote-signature"' "$dir/none.txt"
echo "verify --collateral ok"
