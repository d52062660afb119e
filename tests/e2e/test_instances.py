"""Instances and their limits in the server. Memory that comes back: load
the 12.8 MB JavaScript example (hello-js), serve requests on all eight app
threads at once, unload it (or replace it), and again; the server's resident
size after the last cycle stays within 1.2x of its size after the first
(EOS_CYCLES cycles: 20 by hand, fewer in CI).
The time budget: a spinning app stops with a 500 that says why, and one that
runs out in the middle of its body leaves a chunked body unfinished."""
import json
import os
import threading
import time

import pytest

from eosnet import SANITIZED, Server, status_kb

from test_server_apps import MISBEHAVE, body_of, connect_sni, get, https, load

HELLO_JS = os.environ.get("EOS_HELLO_JS_WASM", "")
CYCLES = int(os.environ.get("EOS_CYCLES", "20"))
THREADS = int(os.environ.get("EOS_APP_THREADS", "8"))
REQUESTS = int(os.environ.get("EOS_REQUESTS", "8"))
TOKEN = "s3cret-token-0123456789"

needs_js = pytest.mark.skipif(not HELLO_JS or not os.path.exists(HELLO_JS),
                              reason="examples/hello-js not built (needs node + componentize-js)")
needs_apps = pytest.mark.skipif(not os.path.exists(MISBEHAVE),
                                reason="test components not built (needs node + jco)")


def js_requests(port, n):
    """n requests to hello-js at once, so that every app thread makes, pools
    and frees instances of its own."""
    bodies = [None] * n

    def one(i):
        bodies[i] = body_of(get(port, "/js/hello"))
    workers = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert bodies == [b"Hello from inside SGX!"] * n, bodies


@needs_js
@pytest.mark.parametrize("replace", [False, True], ids=["unload", "replace"])
def test_load_request_unload_cycles(tmp_path, replace):
    """Load, REQUESTS requests at once, unload (or, with replace, load the
    app again over itself, as a redeploy does): the server's RSS after the
    last cycle is within 1.2x of that after the first."""
    with open(HELLO_JS, "rb") as f:
        data = f.read()
    srv = Server(tmp_path, "--token", TOKEN, "--workers", "1", "--app-threads", str(THREADS))
    auth = "Authorization: Bearer %s\r\n" % TOKEN
    sizes = []
    try:
        for cycle in range(CYCLES):
            head = ("PUT /.well-known/enclave-os/apps/js HTTP/1.1\r\nHost: x\r\n"
                    "Content-Length: %d\r\nx-enclave-os-route: /js\r\n%sConnection: close\r\n\r\n"
                    % (len(data), auth))
            r = https(srv.port, head.encode() + data, timeout=120)
            assert r.startswith(b"HTTP/1.1 200 "), r[:300]
            assert json.loads(body_of(r))["app"]["route"] == "/js"
            js_requests(srv.port, REQUESTS)
            if not replace:
                r = https(srv.port, ("DELETE /.well-known/enclave-os/apps/js HTTP/1.1\r\nHost: x\r\n"
                                     "%sConnection: close\r\n\r\n" % auth).encode())
                assert r.startswith(b"HTTP/1.1 200 ") and b'"unloaded"' in r
            sizes.append(status_kb(srv.proc.pid, "VmRSS"))
        print("server RSS after each %s cycle (MB):" % ("replace" if replace else "unload"),
              " ".join("%.1f" % (k / 1024) for k in sizes))
        if not SANITIZED:
            assert sizes[-1] <= sizes[0] * 1.2, sizes
    finally:
        assert srv.stop() == 0, srv.output()


def stream_get(port, path):
    """GET path; returns (the first bytes, the last bytes, the total size)
    without keeping a body of gigabytes."""
    s = connect_sni(port, "127.0.0.1", timeout=20)
    s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
               % path).encode())
    head, tail, total = b"", b"", 0
    try:
        while True:
            piece = s.recv(1 << 20)
            if not piece:
                break
            if len(head) < 512:
                head += piece[:512 - len(head)]
            tail = (tail + piece)[-16:]
            total += len(piece)
    except (ConnectionResetError, OSError):
        pass
    s.close()
    return head, tail, total


@needs_apps
def test_time_budget(tmp_path):
    srv = Server(tmp_path, "--dev", "--workers", "1", "--max-request-ms", "300")
    try:
        with open(MISBEHAVE, "rb") as f:
            data = f.read()
        # Fuel for hours: the server's budget stops it.
        assert load(srv.port, "spin", data, max_fuel=10_000_000_000)["status"] == "loaded"
        t0 = time.time()
        r = get(srv.port, "/spin/spin")
        took = time.time() - t0
        assert r.startswith(b"HTTP/1.1 500 "), r[:200]
        assert b"time budget" in r, r[:400]
        assert took < 10, took
        # An app's own budget, given at load, wins over the server's.
        assert load(srv.port, "quick", data, max_fuel=10_000_000_000,
                     max_request_ms=50)["status"] == "loaded"
        r = get(srv.port, "/quick/spin")
        assert r.startswith(b"HTTP/1.1 500 ") and b"time budget" in r
        # Out of time in the middle of a 4 GB body: the chunked body never
        # gets its last chunk, and the log says why.
        head, tail, total = stream_get(srv.port, "/spin/stream?4000000000")
        assert head.startswith(b"HTTP/1.1 200 "), head[:200]
        assert b"transfer-encoding: chunked" in head.lower()
        assert total < 4000000000 and not tail.endswith(b"\r\n0\r\n\r\n"), (total, tail)
        deadline = time.time() + 5
        while "time budget" not in srv.output() and time.time() < deadline:
            time.sleep(0.1)
        assert "time budget" in srv.output()
    finally:
        assert srv.stop() == 0, srv.output()
