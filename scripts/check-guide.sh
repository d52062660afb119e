#!/usr/bin/env bash
# Walks docs/build-a-wasm-app.md on a fresh clone of this repository's HEAD: runs
# the commands of its fenced blocks marked `sh guide` (in order),
# starts the `sh guide-server` block in the background, runs the `python guide`
# snippets, then stops the server with Ctrl-C (SIGINT). The commands come from the
# guide itself, so the two cannot drift. Port 8443 is replaced by a free port.
# A line ending in `# prints: TEXT` must print exactly TEXT. Any failure stops the
# walk with the step, its output and the server log.
#
#   scripts/check-guide.sh [--keep]      (--keep: leave the temporary clone)
#
# Environment: EOS_GUIDE_FRESH_NPM=1 runs the guide's npm install instead of reusing
# this checkout's tools/node_modules (which saves a download).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
keep=0
[ "${1:-}" = "--keep" ] && keep=1
python=/usr/bin/python3
[ -x "$python" ] || python=python3
start_time=$(date +%s)

tmp="$(mktemp -d "${TMPDIR:-/tmp}/eos-guide.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  if [ "$keep" = 1 ]; then
    echo "check-guide: the clone is kept in $tmp/x/enclave-os" >&2
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT

fail() {
  echo >&2
  echo "check-guide: FAILED: $*" >&2
  if [ -f "$tmp/server.log" ]; then
    echo "---- last lines of the server log ($tmp/server.log)" >&2
    tail -n 30 "$tmp/server.log" >&2
  fi
  exit 1
}

# A fresh clone of the committed HEAD, with ../shared beside it as in the workspace.
commit="$(git -C "$here" rev-parse HEAD)"
echo "== check-guide: cloning $commit into $tmp/x/enclave-os"
mkdir -p "$tmp/x"
git clone --quiet --no-checkout "$here" "$tmp/x/enclave-os"
git -C "$tmp/x/enclave-os" checkout --quiet --detach "$commit"
if [ -d "$here/../shared" ]; then
  ln -s "$(cd "$here/../shared" && pwd)" "$tmp/x/shared"
fi
clone="$tmp/x/enclave-os"
if [ "${EOS_GUIDE_FRESH_NPM:-0}" != 1 ] && [ -d "$here/tools/node_modules/@bytecodealliance/jco" ]; then
  # Hard links, not a symbolic link: should the guide's install-deps run `npm ci`
  # in the clone, it replaces the clone's copy and never empties this checkout's.
  cp -al "$(readlink -f "$here/tools/node_modules")" "$clone/tools/node_modules" 2>/dev/null ||
    cp -a "$(readlink -f "$here/tools/node_modules")" "$clone/tools/node_modules"
fi
# The Node.js that install-deps put in .tools/node (when the system's is older than
# 20) serves the clone as well, and the guide's commands find it first on PATH.
if [ -d "$here/.tools/node/bin" ]; then
  mkdir -p "$clone/.tools"
  ln -s "$(readlink -f "$here/.tools/node")" "$clone/.tools/node"
  PATH="$here/.tools/node/bin:$PATH"
fi

port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

# The guide's blocks, in order, one line each: "sh <script>", "server <command>" or
# "python <file>". A `sh guide` block becomes a script that runs its lines one by
# one (so variables carry from line to line), echoing each and checking `# prints:`.
steps="$tmp/steps"
"$python" - "$clone/docs/build-a-wasm-app.md" "$port" "$tmp" > "$steps" <<'EOF'
import re, shlex, sys
doc, port, tmp = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(doc).read()
blocks = re.findall(r"^```(sh guide|sh guide-server|python guide)\n(.*?)^```$", text, re.M | re.S)
kinds = [k for k, _ in blocks]
if "sh guide-server" not in kinds or "python guide" not in kinds or kinds.count("sh guide") < 4:
    sys.exit("the guide lost its marked blocks (```sh guide, ```sh guide-server, ```python guide)")
for n, (kind, body) in enumerate(blocks, 1):
    body = body.replace("8443", port)
    if kind == "python guide":
        path = "%s/block%d.py" % (tmp, n)
        open(path, "w").write(body)
        print("python\t" + path)
        continue
    lines = [l for l in body.splitlines() if l.strip()]
    if kind == "sh guide-server":
        if len(lines) != 1:
            sys.exit("a sh guide-server block holds exactly one command")
        print("server\t" + lines[0])
        continue
    out = ["set -euo pipefail"]
    for line in lines:
        m = re.match(r"(.*?)\s+# prints: (.*)$", line)
        out.append("echo %s" % shlex.quote("$ " + line))
        if m:
            out.append("out=$(%s)" % m.group(1))
            out.append('echo "$out"')
            out.append('if [ "$out" != %s ]; then echo %s >&2; exit 1; fi'
                       % (shlex.quote(m.group(2)),
                          shlex.quote("check-guide: the guide says it prints: " + m.group(2))))
        else:
            out.append(line)
    path = "%s/block%d.sh" % (tmp, n)
    open(path, "w").write("\n".join(out) + "\n")
    print("sh\t" + path)
EOF

cd "$clone"
step=0
while IFS=$'\t' read -r kind arg; do
  step=$((step + 1))
  echo "== block $step ($kind)"
  case "$kind" in
    sh)
      bash "$arg" < /dev/null || fail "block $step: $(grep -c '^echo' "$arg") command(s), see above"
      ;;
    server)
      echo "\$ $arg &"
      bash -c "exec $arg" < /dev/null > "$tmp/server.log" 2>&1 &
      server_pid=$!
      for _ in $(seq 1 200); do
        if build/src/cli/enclave-os ping "127.0.0.1:$port" --timeout 1000 < /dev/null > /dev/null 2>&1; then
          break
        fi
        kill -0 "$server_pid" 2>/dev/null || fail "block $step: the server exited at start"
        sleep 0.1
      done
      build/src/cli/enclave-os ping "127.0.0.1:$port" --timeout 1000 < /dev/null > /dev/null 2>&1 ||
        fail "block $step: the server does not answer on 127.0.0.1:$port"
      grep -q "DEVELOPMENT MODE" "$tmp/server.log" ||
        fail "block $step: the server did not announce development mode"
      echo "(server running, pid $server_pid)"
      ;;
    python)
      echo "\$ $python <the guide's Python snippet>"
      out="$("$python" "$arg" < /dev/null)" || { echo "$out"; fail "block $step: the Python snippet"; }
      echo "$out"
      echo "$out" | grep -q '"status": "loaded"' ||
        fail "block $step: the Python snippet did not load the app"
      ;;
  esac
done < "$steps"

[ -n "$server_pid" ] || fail "the guide never started the server"
echo "== stopping the server (Ctrl-C)"
kill -INT "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
[ "$status" = 0 ] || fail "the server exited with status $status after Ctrl-C"
echo "== check-guide: all $step blocks of the guide passed in $(( $(date +%s) - start_time )) s"
