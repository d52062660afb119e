#!/usr/bin/env python3
"""Runs an HTTP example under jco serve (Node.js's reference wasi:http host) on a free
loopback port and checks its answers; stops the server and its worker afterwards.

usage: serve_test.py --node NODE --tools DIR --wasm FILE --case hello|echo|hello-js
Exit status 77 (ctest's skip) when node or jco is missing."""
import argparse
import os
import signal
import socket
import subprocess
import sys
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


CASES = {"hello": check_hello, "echo": check_echo, "hello-js": check_hello}


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
    # jco serve runs the component in a child node process: a session of its own lets
    # the test stop both.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
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
        log = out.decode(errors="replace").strip()
        if log:
            print("jco serve said:\n  " + "\n  ".join(log.splitlines()[-20:]))


def shutil_which(cmd):
    import shutil
    return shutil.which(cmd) or (os.path.isfile(cmd) and os.access(cmd, os.X_OK))


if __name__ == "__main__":
    sys.exit(main())
