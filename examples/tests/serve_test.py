#!/usr/bin/env python3
"""Runs an HTTP example under jco serve (Node.js's reference wasi:http host) on a free
loopback port and checks its answers; stops the server and its worker afterwards.

usage: serve_test.py --node NODE --tools DIR --wasm FILE --case hello|echo|hello-js|kv-counter|files|sdk-abi
jco serve has no wasi:keyvalue or wasi:logging: for kv-counter, the in-memory stand-ins
in shims/ are mapped in (also for sdk-abi, the SDK's self-test). For files, the guest's "/" is a scratch directory. Exit status 77 (ctest's skip) when node or jco is missing."""
import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, path, method="GET", body=None, headers=None, timeout=30):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body,
                                 method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict((k.lower(), v) for k, v in r.headers.items()), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict((k.lower(), v) for k, v in e.headers.items()), e.read()


def wait_ready(proc, port, deadline):
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def expect(what, got, want):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")
    print(f"ok   {what}")


def check_hello(port):
    status, headers, body = request(port, "/hello")
    expect("GET /hello status", status, 200)
    expect("GET /hello body", body, b"Hello from inside SGX!")
    expect("GET /hello content-type", headers.get("content-type", "").split(";")[0], "text/plain")
    status, _, body = request(port, "/somewhere/else")
    expect("GET /somewhere/else", (status, body), (200, b"Unknown path"))
    status, _, body = request(port, "/hello?lang=en")
    expect("GET /hello?lang=en (query is not part of the path)", (status, body),
           (200, b"Hello from inside SGX!"))


def check_echo(port):
    status, headers, body = request(port, "/", "POST", b'{"a": 1}',
                                    {"content-type": "application/json"})
    expect("POST json status", status, 200)
    expect("POST json body", body, b'{"a": 1}')
    expect("POST json content-type", headers.get("content-type"), "application/json")
    big = os.urandom(3 * 1024 * 1024 + 17)
    status, headers, body = request(port, "/big", "PUT", big,
                                    {"content-type": "application/x-test"})
    expect("PUT 3 MiB status", status, 200)
    expect("PUT 3 MiB body identical", body == big, True)
    expect("PUT 3 MiB content-type", headers.get("content-type"), "application/x-test")
    status, headers, body = request(port, "/empty", "POST", b"")
    expect("POST empty", (status, body), (200, b""))


def check_kv_counter(port):
    for path, want in [("/a", b"1\n"), ("/a", b"2\n"), ("/b", b"1\n"), ("/c/d", b"1\n"),
                       ("/a", b"3\n")]:
        status, _, body = request(port, path)
        expect(f"GET {path}", (status, body), (200, want))
    # Four counters over pages of two keys: the app follows the listing cursor.
    status, _, body = request(port, "/_counters")
    expect("GET /_counters", (status, sorted(body.decode().splitlines())),
           (200, ["/a 3", "/b 1", "/c/d 1"]))


def check_files(port):
    data = os.urandom(100 * 1024 + 3)
    status, _, body = request(port, "/blob.bin", "PUT", data)
    expect("PUT /blob.bin", (status, body), (201, b"stored\n"))
    status, _, body = request(port, "/note.txt", "PUT", b"hi there")
    expect("PUT /note.txt", status, 201)
    status, _, body = request(port, "/blob.bin")
    expect("GET /blob.bin identical", (status, body == data), (200, True))
    status, _, body = request(port, "/")
    expect("GET / lists both", (status, sorted(body.decode().split())), (200, ["blob.bin", "note.txt"]))
    status, _, _ = request(port, "/note.txt", "DELETE")
    expect("DELETE /note.txt", status, 200)
    status, _, _ = request(port, "/note.txt")
    expect("GET /note.txt after delete", status, 404)
    status, _, _ = request(port, "/.hidden")
    expect("GET /.hidden refused", status, 400)
    status, _, _ = request(port, "/note.txt", "POST", b"x")
    expect("POST refused", status, 405)


def check_sdk_abi(port):
    status, headers, body = request(port, "/self?q=1", "POST", b"hello body",
                                    {"x-test": "abc", "content-type": "text/plain"})
    expect("POST /self?q=1 status", status, 200)
    expect("x-selftest header", headers.get("x-selftest"), "1")
    lines = body.decode().splitlines()
    for line in lines:
        print(f"     {line}")
    expect("SDK self-test", lines[-1] if lines else "", "0 failed")


CASES = {"sdk-abi": check_sdk_abi, "files": check_files, "hello": check_hello, "echo": check_echo, "hello-js": check_hello,
         "kv-counter": check_kv_counter}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--node", default="node")
    ap.add_argument("--tools", required=True)
    ap.add_argument("--wasm", required=True)
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()

    jco = os.path.join(args.tools, "node_modules", "@bytecodealliance", "jco", "dist", "jco.js")
    if not os.path.exists(jco) or not shutil_which(args.node):
        print(f"SKIPPED: needs node and jco ({jco}); install them with scripts/install-deps.sh")
        return SKIP
    port = free_port()
    cmd = [args.node, jco, "serve", args.wasm, "--port", str(port), "--host", "127.0.0.1"]
    if args.case == "hello-js":
        # StarlingMonkey's event loop serves one request per instance.
        cmd += ["--isolate-requests", "instance"]
    shims = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shims")
    if args.case in ("kv-counter", "sdk-abi"):
        cmd += ["--jco-map", f"wasi:keyvalue/*={shims}/keyvalue.mjs#*",
                f"wasi:logging/logging={shims}/logging.mjs"]
    # jco serve runs the component in a child node process: a session of its own lets
    # the test stop both.
    env = dict(os.environ)
    env["EOS_SELFTEST"] = "yes"
    scratch = None
    if args.case == "files":
        scratch = tempfile.TemporaryDirectory(prefix="eos-files-")
        env["EOS_FILES_ROOT"] = scratch.name
        env["EOS_PREVIEW2_SHIM"] = preview2_shim(args.tools)
        cmd += ["--jco-import", os.path.join(shims, "preopen.mjs")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, env=env)
    try:
        if not wait_ready(proc, port, time.time() + args.timeout):
            print(f"FAIL: jco serve did not start listening on port {port}")
            return 1
        CASES[args.case](port)
        print(f"{args.case}: all checks passed")
        return 0
    except (AssertionError, OSError) as e:
        print(f"FAIL: {e}")
        return 1
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        if scratch:
            scratch.cleanup()
        log = out.decode(errors="replace").strip()
        if log:
            print("jco serve said:\n  " + "\n  ".join(log.splitlines()[-20:]))


def preview2_shim(tools):
    """The preview2-shim jco serve runs with (jco's own copy when it has one)."""
    base = os.path.join(tools, "node_modules", "@bytecodealliance")
    nested = os.path.join(base, "jco", "node_modules", "@bytecodealliance", "preview2-shim")
    return nested if os.path.isdir(nested) else os.path.join(base, "preview2-shim")


def shutil_which(cmd):
    import shutil
    return shutil.which(cmd) or (os.path.isfile(cmd) and os.access(cmd, os.X_OK))


if __name__ == "__main__":
    sys.exit(main())
