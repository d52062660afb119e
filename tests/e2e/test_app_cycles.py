"""Memory that comes back: load the 12.8 MB JavaScript example (hello-js),
serve a few requests, unload it, and again; the server's resident size after
the last cycle stays within 1.2x of its size after the first. EOS_CYCLES sets
the number of cycles (20 by hand, fewer in CI)."""
import json
import os

import pytest

from eosnet import Server

from test_server_apps import body_of, get, https

HELLO_JS = os.environ.get("EOS_HELLO_JS_WASM", "")
CYCLES = int(os.environ.get("EOS_CYCLES", "20"))
SANITIZED = os.environ.get("EOS_SANITIZED", "") not in ("", "0", "OFF")
TOKEN = "s3cret-token-0123456789"

pytestmark = pytest.mark.skipif(not HELLO_JS or not os.path.exists(HELLO_JS),
                                reason="examples/hello-js not built (needs node + componentize-js)")


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_load_request_unload_cycles(tmp_path):
    with open(HELLO_JS, "rb") as f:
        data = f.read()
    # Two app threads: each thread's own first-use state (its wasi buffers,
    # OpenSSL's per-thread state) is not what an app leaves behind, and with
    # eight threads the first cycles would only warm more of them.
    srv = Server(tmp_path, "--token", TOKEN, "--workers", "1", "--app-threads", "2")
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
            for _ in range(3):
                assert body_of(get(srv.port, "/js/hello", )) == b"Hello from inside SGX!"
            r = https(srv.port, ("DELETE /.well-known/enclave-os/apps/js HTTP/1.1\r\nHost: x\r\n"
                                 "%sConnection: close\r\n\r\n" % auth).encode())
            assert r.startswith(b"HTTP/1.1 200 ") and b'"unloaded"' in r
            sizes.append(rss_kb(srv.proc.pid))
        print("server RSS after each cycle (MB):", " ".join("%.1f" % (k / 1024) for k in sizes))
        if not SANITIZED:
            assert sizes[-1] <= sizes[0] * 1.2, sizes
    finally:
        assert srv.stop() == 0, srv.output()
