"""Every example app end to end against enclave-os itself: a development server
(`serve --dev --tee sim`) on a free loopback port, each app loaded over the framed
protocol, with `enclave-os load` or by HTTP PUT, then exercised over HTTPS or with
wasm_call / `enclave-os call`. Paths come from the environment (set by ctest):
EOS_BIN (the enclave-os binary) and EOS_EXAMPLE_<APP> (the built component)."""
import hashlib
import http.client
import http.server
import json
import os
import socket
import ssl
import struct
import subprocess
import threading
import time

import pytest

EOS_BIN = os.environ.get("EOS_BIN", "")
# EOS_E2E_TIER=interp|auto|compiled runs every example on that tier (the
# server's default, auto, otherwise).
TIER = ["--tier", os.environ["EOS_E2E_TIER"]] if os.environ.get("EOS_E2E_TIER") else []
# EOS_E2E_CODE_CACHE=DIR: one code cache for every server of the run, so that
# each module is compiled once (see tests/e2e/eosnet.py).
if os.environ.get("EOS_E2E_CODE_CACHE"):
    TIER += ["--code-cache", os.environ["EOS_E2E_CODE_CACHE"]]


def example(app):
    path = os.environ.get("EOS_EXAMPLE_" + app.upper().replace("-", "_"), "")
    if not path or not os.path.exists(path):
        pytest.skip("example %s not built (EOS_EXAMPLE_%s unset or missing)"
                    % (app, app.upper().replace("-", "_")))
    with open(path, "rb") as f:
        return path, f.read()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the attestation is checked by `enclave-os verify`
    return ctx


class Server:
    """`enclave-os serve --dev --tee sim` on a free port over a given data dir."""

    def __init__(self, data_dir, log_dir):
        self.data_dir, self.log_dir, self.proc = str(data_dir), str(log_dir), None
        self.start()

    def start(self):
        for _ in range(5):  # the probed port may be taken before the server binds it
            self.port = free_port()
            self.log_path = os.path.join(self.log_dir, "serve-%d.log" % self.port)
            self.log = open(self.log_path, "wb")
            self.proc = subprocess.Popen(
                [EOS_BIN, "serve", "--dev", "--tee", "sim", "--data-dir", self.data_dir,
                 "--listen", "127.0.0.1:%d" % self.port] + TIER,
                stdout=self.log, stderr=subprocess.STDOUT)
            if self._wait_listening():
                return
            self.stop()
        raise RuntimeError("the server did not start:\n" + self.output())

    def _wait_listening(self):
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            rc = self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.log.close()
        return rc

    # The framed protocol: [u32 big-endian length][JSON], inner documents as byte arrays.
    def manage(self, doc, timeout=300):
        inner = json.dumps(doc).encode()
        payload = json.dumps({"Data": list(inner)}).encode()
        with tls_context().wrap_socket(socket.create_connection(("127.0.0.1", self.port),
                                                                timeout=timeout),
                                       server_hostname="127.0.0.1") as s:
            s.sendall(struct.pack(">I", len(payload)) + payload)
            (length,) = struct.unpack(">I", recv_exact(s, 4))
            reply = json.loads(recv_exact(s, length))
        assert list(reply) == ["Data"], reply
        return json.loads(bytes(reply["Data"]))

    def load(self, name, data, **extra):
        doc = dict({"name": name, "bytes": list(data)}, **extra)
        reply = self.manage({"wasm_load": doc})
        assert reply.get("status") == "loaded", reply
        assert reply["app"]["code_hash"] == hashlib.sha256(data).hexdigest()
        return reply

    def call(self, app, function, params):
        return self.manage({"wasm_call": {"app": app, "function": function, "params": params}})

    def http(self, method, path, body=None, headers=None, chunked=False, timeout=120):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=tls_context(),
                                           timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {},
                         encode_chunked=chunked)
            resp = conn.getresponse()
            return resp.status, resp.getheader("content-type"), resp.read()
        finally:
            conn.close()

    def cli(self, *args, timeout=300):
        return subprocess.run([EOS_BIN] + list(args), capture_output=True, text=True,
                              timeout=timeout)


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


pytestmark = pytest.mark.skipif(not EOS_BIN or not os.path.exists(EOS_BIN),
                                reason="EOS_BIN (the enclave-os binary) not set or missing")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("data"), tmp_path_factory.mktemp("logs"))
    yield srv
    assert srv.proc.poll() is None, "the server died:\n" + srv.output()
    assert srv.stop() == 0, srv.output()


# hello: loaded with `enclave-os load`, then verified with `enclave-os verify`.
def test_hello(server):
    path, data = example("hello")
    r = server.cli("load", path, "--name", "hello", "-s", server.addr, "--allow-simulated")
    assert r.returncode == 0, r.stdout + r.stderr
    status, ctype, body = server.http("GET", "/hello/hello")
    assert (status, body) == (200, b"Hello from inside SGX!")
    assert ctype.startswith("text/plain"), ctype
    status, _, body = server.http("GET", "/hello/other")
    assert (status, body) == (200, b"Unknown path")


def test_verify_hello(server):
    path, data = example("hello")
    server.load("hello", data)
    digest = hashlib.sha256(data).hexdigest()
    r = server.cli("verify", server.addr, "--allow-simulated",
                   "--expect-code-hash", "hello=" + digest)
    assert r.returncode == 0, r.stdout + r.stderr
    r = server.cli("verify", server.addr, "--allow-simulated",
                   "--expect-code-hash", "hello=" + "0" * 64)
    assert r.returncode != 0, r.stdout + r.stderr


# kv-counter: loaded by HTTP PUT; counts persist across unload + reload and a restart.
def test_kv_counter(server, tmp_path):
    _, data = example("kv-counter")
    status, _, body = server.http("PUT", "/.well-known/enclave-os/apps/kv-counter", body=data,
                                  headers={"content-type": "application/wasm"})
    assert status in (200, 201), body
    assert json.loads(body)["app"]["code_hash"] == hashlib.sha256(data).hexdigest()
    counts = [server.http("GET", "/kv-counter/a")[2] for _ in range(3)]
    assert counts == [b"1\n", b"2\n", b"3\n"]
    assert server.http("GET", "/kv-counter/b")[2] == b"1\n"
    listing = server.http("GET", "/kv-counter/_counters")[2].decode()
    assert "/a 3" in listing and "/b 1" in listing, listing

    assert server.manage({"wasm_unload": {"name": "kv-counter"}})["status"] == "unloaded"
    assert server.http("GET", "/kv-counter/a")[0] == 404
    server.load("kv-counter", data)
    assert server.http("GET", "/kv-counter/a")[2] == b"4\n"
    # Another app with the same code has its own store: it counts from 1.
    server.load("kv-other", data)
    assert server.http("GET", "/kv-other/a")[2] == b"1\n"
    assert server.manage({"wasm_unload": {"name": "kv-other"}})["status"] == "unloaded"


def test_storage_survives_restart(tmp_path):
    _, kv_data = example("kv-counter")
    _, files_data = example("files")
    srv = Server(tmp_path / "data", tmp_path)
    try:
        srv.load("kv-counter", kv_data)
        srv.load("files", files_data)
        assert srv.http("GET", "/kv-counter/x")[2] == b"1\n"
        assert srv.http("GET", "/kv-counter/x")[2] == b"2\n"
        assert srv.http("PUT", "/files/kept.txt", body=b"kept")[0] == 201
        assert srv.stop() == 0, srv.output()
        srv.start()  # same data dir; apps are not persisted without --persist-apps
        srv.load("kv-counter", kv_data)
        srv.load("files", files_data)
        assert srv.http("GET", "/kv-counter/x")[2] == b"3\n"
        assert srv.http("GET", "/files/kept.txt")[::2] == (200, b"kept")
    finally:
        srv.stop()


# files: write, read back, list, delete.
def test_files(server):
    _, data = example("files")
    server.load("files", data)
    status, _, body = server.http("PUT", "/files/note.txt", body=b"a note\n")
    assert (status, body) == (201, b"stored\n"), body
    assert server.http("GET", "/files/note.txt")[::2] == (200, b"a note\n")
    server.http("PUT", "/files/other.txt", body=b"x" * 100000)
    assert server.http("GET", "/files/other.txt")[::2] == (200, b"x" * 100000)
    status, _, listing = server.http("GET", "/files/")
    assert status == 200
    assert sorted(listing.decode().split()) == ["note.txt", "other.txt"], listing
    assert server.http("DELETE", "/files/note.txt")[0] == 200
    assert server.http("GET", "/files/note.txt")[0] == 404
    assert server.http("DELETE", "/files/note.txt")[0] == 404
    assert server.http("GET", "/files/")[2].decode().split() == ["other.txt"]
    assert server.http("GET", "/files/.hidden")[0] == 400


# echo: 5 MiB streamed back intact with its content type, Content-Length and chunked.
def test_echo(server):
    _, data = example("echo")
    server.load("echo", data)
    big = os.urandom(5 << 20)
    status, ctype, body = server.http("POST", "/echo/", body=big,
                                      headers={"content-type": "application/x-test"})
    assert (status, ctype, len(body)) == (200, "application/x-test", len(big))
    assert body == big

    def chunks():
        for i in range(0, len(big), 65536):
            yield big[i:i + 65536]
    status, ctype, body = server.http("POST", "/echo/", body=chunks(), chunked=True,
                                      headers={"content-type": "image/x-chunks"})
    assert (status, ctype) == (200, "image/x-chunks")
    assert body == big
    status, ctype, body = server.http("POST", "/echo/", body=b"",
                                      headers={"content-type": "text/plain"})
    assert (status, body) == (200, b"")


# proxy: calls a plain-HTTP upstream the test runs (allow-listed as http://).
class _Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, body, ctype="text/plain"):
        self.send_response(200)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._send(b"hello from upstream at " + self.path.encode())

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        self._send(b"got %d bytes of %s" % (len(body), self.headers.get("content-type", "").encode()))


def test_proxy(server):
    _, data = example("proxy")
    up = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=up.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % up.server_address[1]
    try:
        server.load("proxy", data, env={"UPSTREAM": base}, allow_outbound=[base])
        status, ctype, body = server.http("GET", "/proxy/some/path?q=1")
        assert (status, ctype, body) == (200, "text/plain", b"HELLO FROM UPSTREAM AT /SOME/PATH?Q=1")
        status, _, body = server.http("POST", "/proxy/up", body=b"x" * 70000,
                                      headers={"content-type": "application/x-test"})
        assert (status, body) == (200, b"GOT 70000 BYTES OF APPLICATION/X-TEST")
        # an upstream not on the allow-list
        server.load("proxy-off", data, env={"UPSTREAM": "http://127.0.0.1:9"}, allow_outbound=[base])
        assert server.http("GET", "/proxy-off/")[::2] == (502, b"HTTP-request-denied")
    finally:
        up.shutdown()
        up.server_close()
    # the upstream is gone: nothing listens there any more
    assert server.http("GET", "/proxy/x")[::2] == (502, b"connection-refused")


# typed: every export through wasm_call, with the JSON mapping of SPEC 3.1.
TYPED_CASES = [
    ("hello", ["world"], ["Hello, world!"]),
    ("add", [2, 3], [5]),
    ("add", [-7, 3], [-4]),
    ("translate", [{"x": 1, "y": 2}, 10, -20], [{"x": 11, "y": -18}]),
    ("area", [{"rectangle": [3, 4]}], [12]),
    ("area", [{"square": 5}], [25]),
    ("area", ["empty"], [0]),
    ("find", [["a", "bb"], "bb"], [1]),
    ("find", [[], "x"], [None]),
    ("safe-div", [7, 2], [{"ok": 3}]),
    ("safe-div", [1, 0], [{"err": "division by zero"}]),
    ("sum", [[1, 2, 3]], [6]),
    ("sum", [[]], [0]),
    ("stats", [[1, 2, 3, 4]], [[4, 2.5]]),
    ("stats", [[]], [[0, "NaN"]]),
    ("invert", [["read"]], [["write", "exec"]]),
    ("invert", [[]], [["read", "write", "exec"]]),
    ("next-color", ["blue"], ["red"]),
    ("next-color", ["red"], ["green"]),
]


@pytest.fixture(scope="module")
def typed_loaded(server):
    _, data = example("typed")
    reply = server.load("typed", data)
    return reply


@pytest.mark.parametrize("function,params,want", TYPED_CASES,
                         ids=["%s-%d" % (c[0], i) for i, c in enumerate(TYPED_CASES)])
def test_typed_call(server, typed_loaded, function, params, want):
    reply = server.call("typed", function, params)
    assert reply.get("status") == "ok", reply
    assert reply["returns"] == want


def test_typed_exports_listed(server, typed_loaded):
    apps = {a["name"]: a for a in server.manage({"wasm_list": {}})["apps"]}
    exports = json.dumps(apps["typed"]["exports"])
    for name in ("hello", "add", "translate", "area", "find", "safe-div", "sum", "stats",
                 "invert", "next-color"):
        assert '"%s' % name in exports, exports


def test_typed_bad_params(server, typed_loaded):
    reply = server.call("typed", "add", ["two", 3])
    assert reply.get("status") == "error", reply
    reply = server.call("typed", "no-such-function", [])
    assert reply.get("status") == "error", reply


def test_typed_cli(server, typed_loaded):
    r = server.cli("call", "typed", "hello", '["world"]', "-s", server.addr, "--allow-simulated")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Hello, world!" in r.stdout, r.stdout
    r = server.cli("call", "typed", "safe-div", "[1, 0]", "-s", server.addr,
                   "--allow-simulated", "--json")
    assert r.returncode in (0, 1), r.stdout + r.stderr
    assert "division by zero" in r.stdout, r.stdout


# hello-js: 12.8 MB componentize-js component, same answers as under jco serve.
def test_hello_js(server):
    _, data = example("hello-js")
    status, _, body = server.http("PUT", "/.well-known/enclave-os/apps/hello-js", body=data)
    assert status in (200, 201), body
    status, ctype, body = server.http("GET", "/hello-js/hello")
    assert (status, body) == (200, b"Hello from inside SGX!")
    assert ctype.startswith("text/plain")
    assert server.http("GET", "/hello-js/other")[::2] == (200, b"Unknown path")


def test_hello_js_framed(server):
    _, data = example("hello-js")
    server.load("hello-js-2", data)
    assert server.http("GET", "/hello-js-2/hello")[::2] == (200, b"Hello from inside SGX!")
    assert server.manage({"wasm_unload": {"name": "hello-js-2"}})["status"] == "unloaded"
