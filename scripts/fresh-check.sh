#!/usr/bin/env bash
# Does what a new user does on a fresh Debian 12: debootstraps a minimal bookworm
# (--variant=minbase) into a temporary folder, clones this repository's HEAD into it
# with ../shared beside it, runs the README's test command as written, then its run
# command in the background and the README's follow-up commands (ping, curl, verify,
# list) against it. A test skipped for a missing tool fails the check, as does a
# follow-up whose output differs from the README's comment. Needs root.
#
#   scripts/fresh-check.sh [--keep]       (--keep: leave the system in the temporary folder)
#
# The system uses the host's apt sources and settings, proxy variables, CA bundle and
# NODE_EXTRA_CA_CERTS, so that apt and npm reach the same mirrors as the host. The run
# command and its follow-ups run in a network namespace of their own (loopback only), so
# that the README's fixed port 8443 is free whatever else the machine runs.
# Commands come from README.md itself ("## Two commands"), so the two cannot drift.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
keep=0
[ "${1:-}" = "--keep" ] && keep=1
suite=bookworm
start=$(date +%s)

say() { echo "== fresh-check [$(($(date +%s) - start))s]: $*"; }
fail() { echo "fresh-check: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap, chroot, mounts)"
command -v git >/dev/null || fail "needs git on the host to clone the repository"

bg_pid=""
tmp="$(mktemp -d "${TMPDIR:-/tmp}/eos-fresh.XXXXXX")"
root="$tmp/root"
mkdir -p "$root"

# Whatever happens: stop what runs in the system, unmount, and only then remove it
# (removing a tree with /dev bound into it would remove the host's /dev entries).
mounted() { awk -v r="$root" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/self/mounts; }
cleanup() {
  local status=$? pid left
  set +e
  [ -n "$bg_pid" ] && kill -KILL -- "-$bg_pid" 2>/dev/null
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$root" ] && kill -KILL "$pid" 2>/dev/null
  done
  sleep 0.5
  for m in $(mounted | sort -r); do
    umount -R "$m" 2>/dev/null || umount -R -l "$m" 2>/dev/null
  done
  left="$(mounted)"
  if [ -n "$left" ]; then
    echo "fresh-check: still mounted, $tmp is left in place: $left" >&2
  elif [ "$keep" = 1 ]; then
    echo "fresh-check: the system is kept in $root (clone: $root/root/x/enclave-os)" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Long steps run in the background, in a session of their own that the cleanup can
# stop, and are waited for: bash runs a trap only after the foreground command ends,
# but interrupts `wait` at once.
bg_wait() {
  local st=0
  setsid "$@" &
  bg_pid=$!
  wait "$bg_pid" || st=$?
  bg_pid=""
  return "$st"
}

# The host's Debian mirror: the first source of the suite in its apt sources.
mirror="$(
  { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk -v s="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++;
                                        if ($(i + 1) == s) print $i }'
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      awk -v s="$suite" 'BEGIN { RS = ""; FS = "\n" }
        { uri = ""; ok = 0; deb = 0
          for (i = 1; i <= NF; i++) {
            if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); uri = a[2] }
            if ($i ~ /^Suites:/) { n = split($i, b, /[ \t]+/); for (j = 2; j <= n; j++) if (b[j] == s) ok = 1 }
            if ($i ~ /^Types:.*(^|[ \t])deb([ \t]|$)/) deb = 1
          }
          if (uri != "" && ok && deb) print uri }' "$f"
    done; } | awk 'NR == 1'
)"
mirror="${mirror:-http://deb.debian.org/debian}"

if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap on the host"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq debootstrap >/dev/null ||
    { apt-get -o DPkg::Lock::Timeout=600 update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq debootstrap >/dev/null; }
fi

say "debootstrap --variant=minbase $suite from $mirror into $root"
if ! bg_wait debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$tmp/debootstrap.log" 2>&1; then
  tail -n 20 "$tmp/debootstrap.log" >&2
  fail "debootstrap (log above)"
fi

say "giving it the host's apt sources, apt network settings, CA certificates and proxies"
rm -f "$root/etc/apt/sources.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && cp "$f" "$root$f"
done
# Keyrings the sources name (Signed-By / signed-by=) that the new system lacks.
for key in $(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
               grep -oiE '(signed-by[=:][[:space:]]*)[^] ]+' | sed -E 's/^[^=:]*[=:][[:space:]]*//' | sort -u); do
  if [ -f "$key" ] && [ ! -e "$root$key" ]; then
    mkdir -p "$(dirname "$root$key")"
    cp "$key" "$root$key"
  fi
done
for d in trusted.gpg.d keyrings auth.conf.d; do
  [ -d "/etc/apt/$d" ] && cp -a "/etc/apt/$d/." "$root/etc/apt/$d/" 2>/dev/null || true
done
# apt.conf settings for reaching the mirrors (proxies, a snapshot's Valid-Until...),
# not the host's hooks, which call programs the new system does not have.
[ -f /etc/apt/apt.conf ] && cp /etc/apt/apt.conf "$root/etc/apt/apt.conf"
for f in /etc/apt/apt.conf.d/*; do
  [ -f "$f" ] || continue
  if grep -qiE 'Acquire|proxy' "$f" && ! grep -qiE 'Invoke' "$f"; then
    cp "$f" "$root/etc/apt/apt.conf.d/"
  fi
done
# The host's CA bundle now, and its local CAs for when the new system's ca-certificates
# package rebuilds the bundle.
mkdir -p "$root/etc/ssl/certs" "$root/usr/local/share/ca-certificates"
[ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
[ -d /usr/local/share/ca-certificates ] &&
  cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
env_vars=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
          LANG=C.UTF-8 TERM=dumb)
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  mkdir -p "$root/etc/enclave-os-fresh-check"
  cp "$NODE_EXTRA_CA_CERTS" "$root/etc/enclave-os-fresh-check/node-extra-ca.pem"
  env_vars+=(NODE_EXTRA_CA_CERTS=/etc/enclave-os-fresh-check/node-extra-ca.pem)
fi
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  [ -n "${!v:-}" ] && env_vars+=("$v=${!v}")
done
[ -e "$root/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
  >"$root/etc/hosts"
# The system is thrown away: dpkg need not sync every file (as in Debian's container
# images), which saves minutes of installing.
echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/enclave-os-fresh-check"

mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --rbind /dev "$root/dev"
mount --make-rslave "$root/dev"

commit="$(git -C "$here" rev-parse HEAD)"
say "cloning $commit into /root/x/enclave-os, with a copy of ../shared beside it"
mkdir -p "$root/root/x"
git clone --quiet --no-checkout "$here" "$root/root/x/enclave-os"
git -C "$root/root/x/enclave-os" checkout --quiet --detach "$commit"
if [ -d "$here/../shared" ]; then
  cp -aL "$here/../shared" "$root/root/x/shared"
fi

# The README's commands: its "Two commands" block (run, test) and the block after it
# (the follow-ups, a trailing comment being the expected output).
readme="$root/root/x/enclave-os/README.md"
blocks="$(awk '/^## Two commands/ { on = 1; next } on && /^## / { exit }
               on && /^```sh$/ { n++; inb = 1; next } on && /^```$/ { inb = 0; next }
               on && inb && n <= 2 { print n "\t" $0 }' "$readme")"
command_of() { awk -F'\t' -v w="$1" '$1 == 1 { c = $2; sub(/[ \t]*#.*/, "", c); if (c ~ w) { print c; exit } }' <<<"$blocks"; }
run_cmd="$(command_of run)"
test_cmd="$(command_of test)"
followups="$(awk -F'\t' '$1 == 2 { print $2 }' <<<"$blocks")"
[ -n "$run_cmd" ] && [ -n "$test_cmd" ] && [ -n "$followups" ] ||
  fail "README.md lost its \"## Two commands\" blocks (run and test commands, then the follow-ups)"

in_root() { chroot "$root" /usr/bin/env -i "${env_vars[@]}" bash -c "cd /root/x/enclave-os && $1"; }

say "running the test command: $test_cmd"
test_status=0
{ in_root "$test_cmd" 2>&1 | tee "$tmp/test.log"; exit "${PIPESTATUS[0]}"; } &
wait $! || test_status=$?
[ "$test_status" = 0 ] || fail "\`$test_cmd\` exited $test_status (output above)"
skipped="$(grep -E '\*\*\*Skipped|\(Skipped\)' "$tmp/test.log" || true)"
if [ -n "$skipped" ]; then
  echo "$skipped" >&2
  fail "tests were skipped (a tool the install did not provide): fresh systems must run them all"
fi
ran="$(sed -nE 's/^100% tests passed, 0 tests failed out of ([0-9]+)$/\1/p' "$tmp/test.log" | tail -n 1)"
[ -n "$ran" ] || fail "the test command did not report its tests as passed"

# The run command in the background, then the follow-ups once it says the hello app is
# loaded, then SIGTERM (what its Ctrl-C sends the server). One script, inside a network
# namespace with loopback only, so that port 8443 is ours.
say "running the run command and its follow-ups: $run_cmd"
printf '%s\n' "$followups" >"$root/root/x/followups"
cat >"$root/root/x/run-check.sh" <<'EOF'
set -u
cd /root/x/enclave-os
bash -c "exec $1" >/root/x/run.log 2>&1 &
run=$!
stop() { kill -TERM "$run" 2>/dev/null; wait "$run"; echo "--- the run command's output"; cat /root/x/run.log; }
for _ in $(seq 1 1200); do
  grep -q 'run.sh: try:' /root/x/run.log && break
  if grep -q 'runs empty' /root/x/run.log || ! kill -0 "$run" 2>/dev/null; then
    stop; echo "the run command did not load the hello app"; exit 1
  fi
  sleep 0.5
done
grep -q 'run.sh: try:' /root/x/run.log || { stop; echo "the run command was not ready after 10 minutes"; exit 1; }
while IFS= read -r line; do
  [ -n "$line" ] || continue
  cmd="$(sed -E 's/[[:space:]]*#.*//' <<<"$line")"
  expect=""
  case "$line" in *"#"*) expect="$(sed -E 's/^[^#]*#[[:space:]]*//; s/[[:space:]]+$//' <<<"$line")" ;; esac
  echo "\$ $cmd"
  out="$(bash -c "$cmd" 2>/root/x/stderr)"
  st=$?
  cat /root/x/stderr
  printf '%s\n' "$out"
  if [ "$st" != 0 ]; then stop; echo "exit status $st: $cmd"; exit 1; fi
  if [ -n "$expect" ] && [ "$out" != "$expect" ]; then
    stop; echo "expected \"$expect\" from: $cmd"; exit 1
  fi
done </root/x/followups
kill -TERM "$run"
wait "$run"
st=$?
echo "--- the run command's output"
cat /root/x/run.log
[ "$st" = 0 ] || { echo "the run command exited $st after SIGTERM"; exit 1; }
EOF
netns=(unshare --net sh -c 'ip link set lo up && exec "$@"' sh)
if ! command -v unshare >/dev/null || ! command -v ip >/dev/null || ! unshare --net true 2>/dev/null; then
  echo "fresh-check: no network namespace here (unshare, ip); the run command uses the host's 8443" >&2
  netns=()
fi
if ! bg_wait "${netns[@]}" chroot "$root" /usr/bin/env -i "${env_vars[@]}" \
       bash /root/x/run-check.sh "$run_cmd"; then
  fail "the run command or a follow-up (output above)"
fi

say "PASSED in $(($(date +%s) - start)) s: a fresh $suite ran \`$test_cmd\` ($ran tests, none skipped)," \
    "then \`$run_cmd\` and $(grep -c . <<<"$followups") follow-up commands"
echo "fresh-check: $ran passed, 0 failed"
