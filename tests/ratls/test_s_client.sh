#!/usr/bin/env bash
# `openssl s_client` completes a TLS 1.3 handshake with the RA-TLS test
# server and receives the leaf and the enclave CA, with the evidence
# extension present.
set -euo pipefail
server="$1"
dir="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
"$server" --data-dir "$dir" > "$dir/port" 2>/dev/null &
pid=$!
for _ in $(seq 50); do [ -s "$dir/port" ] && break; sleep 0.1; done
port="$(awk '{print $2}' "$dir/port")"
out="$(openssl s_client -connect "127.0.0.1:$port" -tls1_3 -showcerts </dev/null 2>/dev/null)"
# Here-strings and files, not pipes into grep -q: with pipefail, grep -q
# exiting early would fail the pipeline through SIGPIPE.
grep -q "New, TLSv1.3" <<<"$out"
[ "$(grep -c 'BEGIN CERTIFICATE' <<<"$out")" -eq 2 ]
awk '/BEGIN CERT/{f=1} f{print} /END CERT/{exit}' <<<"$out" > "$dir/leaf.pem"
openssl x509 -in "$dir/leaf.pem" -noout -text > "$dir/leaf.txt"
grep -q "1.2.840.113741.1.13.1.0" "$dir/leaf.txt"
grep -q "1.3.6.1.4.1.65230.1.1" "$dir/leaf.txt"
echo "s_client handshake ok"
