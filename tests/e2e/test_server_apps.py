"""The seed's flow end to end through one port: load a component over the
framed protocol exactly as the seed's Python snippet does, reach it over
HTTPS, see it in every certificate, verify it with `enclave-os verify`, and
survive bad input of every kind while other clients keep being served."""
import hashlib
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

import pytest
from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

from eosnet import (EOS_BIN, SLOW, Server, body_of, call, closed_by_peer, connect, data_request,
                    error_text, frame, inner, read_until_closed, recv_frame, request, tls_context)

APPS = os.environ.get("EOS_APPS_DIR", os.path.join(os.path.dirname(__file__),
                                                   "../../build/tests/wasi/apps"))
TYPED = os.environ.get("EOS_TYPED_WASM", "")
HELLO = os.path.join(APPS, "hello.wasm")
MISBEHAVE = os.path.join(APPS, "misbehave.wasm")
TOKEN = "s3cret-token-0123456789"

OID_ROOT = "1.3.6.1.4.1.65230.1.1"
OID_NAME = "1.3.6.1.4.1.65230.2.1"
OID_ROUTE = "1.3.6.1.4.1.65230.2.2"
OID_HASH = "1.3.6.1.4.1.65230.2.3"
OID_APPS = "1.3.6.1.4.1.65230.2.5"

pytestmark = pytest.mark.skipif(not os.path.exists(HELLO),
                                reason="test components not built (needs node + jco)")


def hello_bytes():
    with open(HELLO, "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("apps"), "--dev", "--workers", "2",
                 "--header-timeout", "2", "--max-body-size", "64K")
    yield srv
    assert srv.alive(), srv.output()
    assert srv.stop() == 0, srv.output()


def load(port, name, data, **extra):
    body = {"name": name, "bytes": list(data)}
    body.update(extra)
    return call(port, {"wasm_load": body})


def https(port, raw, server_hostname="127.0.0.1", timeout=10 * SLOW):
    """Sends raw HTTP bytes and reads until the server closes."""
    s = connect_sni(port, server_hostname, timeout)
    try:
        s.sendall(raw)
    except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
        pass  # the server answered and closed before reading everything
    out = read_until_closed(s)
    s.close()
    return out


def connect_sni(port, name, timeout=10 * SLOW):
    sock = tls_context().wrap_socket(socket.create_connection(("127.0.0.1", port),
                                                              timeout=timeout),
                                     server_hostname=name)
    sock.settimeout(timeout)
    return sock


def get(port, path, host="127.0.0.1", headers=""):
    return https(port, ("GET %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n"
                        % (path, host, headers)).encode(), server_hostname=host)


def cert_of(port, name="127.0.0.1"):
    with connect_sni(port, name) as s:
        return x509.load_der_x509_certificate(s.getpeercert(binary_form=True))


def ext(cert, oid):
    try:
        return cert.extensions.get_extension_for_oid(ObjectIdentifier(oid)).value.value
    except x509.ExtensionNotFound:
        return None


def manifest_root(port):
    return call(port, {"config_manifest": {}})["root"]


def run_cli(*args, timeout=60):
    return subprocess.run([EOS_BIN] + list(args), capture_output=True, text=True,
                          timeout=timeout)


SEED = r'''
import json, socket, ssl, struct, sys

def frame(data):
    return struct.pack(">I", len(data)) + data

# Connect to the enclave
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
sock = ctx.wrap_socket(
    socket.create_connection(("127.0.0.1", PORT)),
    server_hostname="127.0.0.1",
)

# Load the WASM app
with open(FILE, "rb") as f:
    wasm_bytes = list(f.read())

load_req = json.dumps({
    "wasm_load": {"name": "my-app", "bytes": wasm_bytes}
}).encode()
sock.sendall(frame(json.dumps({"Data": list(load_req)}).encode()))

# Read response
buf = sock.recv(65536)
length = struct.unpack(">I", buf[:4])[0]
resp = json.loads(buf[4:4+length])
inner = json.loads(bytes(resp["Data"]))
print("Loaded:", json.dumps(inner, indent=2))
'''


def test_seed_snippet_then_curl(server):
    code = SEED.replace("PORT", str(server.port)).replace("FILE", repr(HELLO))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Loaded: {")
    doc = json.loads(r.stdout[len("Loaded: "):])
    assert doc["status"] == "loaded"
    assert doc["app"]["name"] == "my-app" and doc["app"]["route"] == "/my-app"
    assert doc["app"]["code_hash"] == hashlib.sha256(hello_bytes()).hexdigest()
    assert "wasi:http/incoming-handler@0.2.12" in doc["app"]["exports"]
    c = subprocess.run(["curl", "-sk", "https://127.0.0.1:%d/my-app/hello" % server.port],
                       capture_output=True, text=True, timeout=30)
    assert c.stdout == "Hello from inside SGX!"
    c = subprocess.run(["curl", "-sk", "https://127.0.0.1:%d/my-app/other" % server.port],
                       capture_output=True, text=True, timeout=30)
    assert c.stdout == "Unknown path"
    assert call(server.port, {"wasm_unload": {"name": "my-app"}})["status"] == "unloaded"


def test_certificates_follow_loads(server):
    port = server.port
    data = hello_bytes()
    digest = hashlib.sha256(data).digest()
    before = cert_of(port)
    assert ext(before, OID_APPS) == bytes(32)
    assert ext(before, OID_NAME) is None
    a = load(port, "alpha", data, route="/alpha", hostname="alpha.example")
    assert a["status"] == "loaded"
    cert = cert_of(port)
    assert ext(cert, OID_ROOT).hex() == a["merkle_root"] == manifest_root(port)
    assert ext(cert, OID_NAME) == b"alpha"
    assert ext(cert, OID_ROUTE) == b"/alpha"
    assert ext(cert, OID_HASH) == digest
    assert ext(cert, OID_APPS) == hashlib.sha256(b"alpha" + digest).digest()
    b = load(port, "beta", data, route="/beta",
             hostname="beta.example")
    assert b["status"] == "loaded" and b["merkle_root"] != a["merkle_root"]
    cert = cert_of(port)
    assert ext(cert, OID_ROOT).hex() == b["merkle_root"]
    assert ext(cert, OID_APPS) == hashlib.sha256(b"alpha" + digest + b"beta" + digest).digest()
    assert ext(cert, OID_NAME) is None  # two apps: the default certificate names none
    for name in ("alpha", "beta"):
        sni = cert_of(port, name + ".example")
        assert ext(sni, OID_NAME) == name.encode()
        assert ext(sni, OID_ROUTE) == ("/" + name).encode()
        assert ext(sni, OID_HASH) == digest
        assert ext(sni, OID_ROOT).hex() == b["merkle_root"]
    # Hostname routing wins over the path.
    assert body_of(get(port, "/hello", host="beta.example")) == b"Hello from inside SGX!"
    r = run_cli("verify", "127.0.0.1:%d" % port, "--allow-simulated",
                "--expect-code-hash", "alpha=" + digest.hex())
    assert r.returncode == 0, r.stdout + r.stderr
    r = run_cli("verify", "127.0.0.1:%d" % port, "--allow-simulated",
                "--expect-code-hash", "alpha=" + "00" * 32)
    assert r.returncode == 1
    for name in ("alpha", "beta"):
        assert call(port, {"wasm_unload": {"name": name}})["status"] == "unloaded"
    cert = cert_of(port)
    assert ext(cert, OID_APPS) == bytes(32)
    assert ext(cert, OID_NAME) is None
    assert ext(cert_of(port, "alpha.example"), OID_NAME) is None


def test_verify_command(server):
    addr = "127.0.0.1:%d" % server.port
    r = run_cli("verify", addr, "--allow-simulated")
    assert r.returncode == 0 and "PASS" in r.stdout, r.stdout + r.stderr
    r = run_cli("verify", addr)
    assert r.returncode == 1
    r = run_cli("verify", addr, "--allow-simulated", "--expect-root", "ab" * 32)
    assert r.returncode == 1
    r = run_cli("verify", addr, "--allow-simulated", "--expect-root", manifest_root(server.port))
    assert r.returncode == 0, r.stdout + r.stderr
    r = run_cli("verify", addr, "--allow-simulated", "--challenge")
    assert r.returncode == 0 and "nonce" in r.stdout, r.stdout + r.stderr


def test_openssl_s_client(server):
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % server.port,
                        "-tls1_3", "-brief"], input="", capture_output=True, text=True,
                       timeout=30)
    assert "TLSv1.3" in r.stdout + r.stderr


def test_well_known(server):
    port = server.port
    assert body_of(get(port, "/.well-known/enclave-os/healthz")) == b"ok\n"
    man = json.loads(body_of(get(port, "/.well-known/enclave-os/manifest")))
    assert man["status"] == "manifest" and man["root"] == manifest_root(port)
    binary = body_of(get(port, "/.well-known/enclave-os/manifest?format=binary"))
    assert binary[-32:].hex() == man["root"]
    assert struct.unpack("<I", binary[:4])[0] == len(man["entries"])
    binary2 = body_of(get(port, "/.well-known/enclave-os/manifest",
                          headers="Accept: application/octet-stream\r\n"))
    assert binary2 == binary
    pem = body_of(get(port, "/.well-known/enclave-os/certificate"))
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----") and pem.count(b"BEGIN") >= 2
    apps = json.loads(body_of(get(port, "/.well-known/enclave-os/apps")))
    assert apps["status"] == "apps"
    metrics = body_of(get(port, "/.well-known/enclave-os/metrics")).decode()
    for name in ("enclave_os_connections_total", "enclave_os_tls_handshakes_total",
                 "enclave_os_http_requests_total", "enclave_os_request_duration_seconds_bucket",
                 "enclave_os_app_loads_total"):
        assert name in metrics
    assert get(port, "/.well-known/enclave-os/nothing").startswith(b"HTTP/1.1 404 ")


def test_http_put_and_delete(tmp_path):
    srv = Server(tmp_path, "--token", TOKEN, "--workers", "1")
    try:
        data = hello_bytes()

        def put(auth):
            head = ("PUT /.well-known/enclave-os/apps/web HTTP/1.1\r\nHost: x\r\n"
                    "Content-Length: %d\r\nx-enclave-os-route: /w\r\n%sConnection: close\r\n\r\n"
                    % (len(data), auth))
            return https(srv.port, head.encode() + data, timeout=60)

        r = put("")
        assert r.startswith(b"HTTP/1.1 401 "), r[:200]
        r = put("Authorization: Bearer wrong-token-000000000\r\n")
        assert r.startswith(b"HTTP/1.1 401 ")
        # The whole token or nothing: a NUL and more after it, a prefix, or more after it.
        for bad in (TOKEN + "\x00junk", TOKEN[:-1], TOKEN + "x"):
            r = put("Authorization: Bearer %s\r\n" % bad)
            assert r.startswith(b"HTTP/1.1 401 ") or r.startswith(b"HTTP/1.1 400 "), r[:200]
        for bad in (TOKEN + "\u0000junk", TOKEN[:-1], TOKEN + "x", ""):
            reply = call(srv.port, {"wasm_load": {"name": "web", "bytes": list(data)}, "auth": bad})
            assert reply["status"] == "error" and reply["code"] == "unauthorized", reply
        r = put("Authorization: Bearer %s\r\n" % TOKEN)
        assert r.startswith(b"HTTP/1.1 200 "), r[:300]
        doc = json.loads(body_of(r))
        assert doc["app"]["route"] == "/w"
        assert body_of(get(srv.port, "/w/hello")) == b"Hello from inside SGX!"
        # Framed management with the token in "auth"; without it, refused.
        reply = call(srv.port, {"wasm_unload": {"name": "web"}})
        assert reply["status"] == "error" and reply["code"] == "unauthorized"
        with connect(srv.port) as s:
            assert "unauthorized" in error_text(request(s, b'"Shutdown"'))
        r = https(srv.port, b"DELETE /.well-known/enclave-os/apps/web HTTP/1.1\r\nHost: x\r\n"
                  b"Authorization: Bearer " + TOKEN.encode() + b"\r\nConnection: close\r\n\r\n")
        assert r.startswith(b"HTTP/1.1 200 ") and b'"unloaded"' in r
        reply = call(srv.port, {"wasm_load": {"name": "web", "bytes": list(data)}, "auth": TOKEN})
        assert reply["status"] == "loaded"
        # A route another app holds is refused, framed and by PUT; the holder
        # itself may be replaced there.
        reply = call(srv.port, {"wasm_load": {"name": "web", "bytes": list(data), "route": "/w"},
                                "auth": TOKEN})
        assert reply["status"] == "loaded", reply
        reply = call(srv.port, {"wasm_load": {"name": "other", "bytes": list(data), "route": "/w"},
                                "auth": TOKEN})
        assert reply["status"] == "error" and reply["code"] == "conflict", reply
        assert "route '/w'" in reply["message"], reply
        head = ("PUT /.well-known/enclave-os/apps/other HTTP/1.1\r\nHost: x\r\n"
                "Content-Length: %d\r\nx-enclave-os-route: /w\r\nAuthorization: Bearer %s\r\n"
                "Connection: close\r\n\r\n" % (len(data), TOKEN))
        r = https(srv.port, head.encode() + data, timeout=60)
        assert r.startswith(b"HTTP/1.1 409 ") and b'"conflict"' in r, r[:300]
        assert body_of(get(srv.port, "/w/hello")) == b"Hello from inside SGX!"
    finally:
        assert srv.stop() == 0


def test_bad_loads(server):
    port = server.port
    elf = b"\x7fELF\x02\x01\x01" + bytes(100)
    r = load(port, "cw", elf)
    assert r["status"] == "error" and ".cwasm" in r["message"] and ".wasm" in r["message"]
    r = load(port, "bad", b"\0asm\x0d\0\x01\0garbage")
    assert r["status"] == "error" and r["code"] == "invalid_component"
    for name in ["", "UPPER", "-dash", "a/b", "x" * 64, "sp ace", "..", "é"]:
        with connect(port) as s:
            reply = request(s, data_request({"wasm_load": {"name": name,
                                                           "bytes": list(hello_bytes())}}))
        if "Error" in reply:
            assert "name" in error_text(reply), name
        else:
            r = inner(reply)
            assert r["status"] == "error" and r["code"] == "invalid_name", name
    r = call(port, {"wasm_load": {"name": "x", "bytes": list(hello_bytes()), "route": 5}})
    assert r["status"] == "error" and r["code"] == "invalid_request"
    r = call(port, {"wasm_load": {"name": "x", "bytes": list(hello_bytes()),
                                  "route": "/.well-known/enclave-os/x"}})
    assert r["status"] == "error"
    r = call(port, {"wasm_unload": {"name": "nothing"}})
    assert r["code"] == "not_found"
    r = load(port, "greedy", hello_bytes(), max_fuel=10 ** 15)
    assert r["status"] == "error" and "max_fuel" in r["message"]
    with connect(port) as s:
        assert "unknown operation" in error_text(request(s, data_request({"wasm_fly": {}})))
        load_bad = {"Data": list(b'{"wasm_load": {"name": "x", "bytes": [1, 300]}}')}
        assert "0..255" in error_text(request(s, load_bad))
        assert "must be a string" in error_text(request(s, data_request(
            {"wasm_load": {"name": 7}})))
        assert request(s, b'"Ping"') == "Pong"
    # A failed load changed nothing.
    assert call(port, {"wasm_list": {}})["apps"] == []


def test_replace_is_atomic_for_clients(server):
    port = server.port
    data = hello_bytes()
    first = load(port, "rep", data)
    stop = threading.Event()
    errors = []

    def hammer():
        while not stop.is_set():
            body = body_of(get(port, "/rep/hello"))
            if body != b"Hello from inside SGX!":
                errors.append(body)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    for _ in range(5):
        again = load(port, "rep", data)
        assert again["status"] == "loaded"
        assert again["merkle_root"] == first["merkle_root"]
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert [a["name"] for a in call(port, {"wasm_list": {}})["apps"]] == ["rep"]
    call(port, {"wasm_unload": {"name": "rep"}})


@pytest.mark.skipif(not os.path.exists(MISBEHAVE), reason="misbehave.wasm not built")
def test_misbehaving_handlers(server):
    port = server.port
    with open(MISBEHAVE, "rb") as f:
        assert load(port, "bad", f.read(), max_fuel=2000000)["status"] == "loaded"
    for path in ("/bad/trap", "/bad/spin", "/bad/exit"):
        t0 = time.time()
        r = get(port, path)
        assert r.startswith(b"HTTP/1.1 500 "), (path, r[:200])
        assert time.time() - t0 < 20
    r = get(port, "/bad/headers")
    assert r.startswith(b"HTTP/1.1 201 ") and b"x-test: yes" in r
    with connect(port) as s:
        assert request(s, b'"Ping"') == "Pong"
    call(port, {"wasm_unload": {"name": "bad"}})
    noresp = os.path.join(APPS, "noresp.wasm")
    if os.path.exists(noresp):
        with open(noresp, "rb") as f:
            assert load(port, "noresp", f.read())["status"] == "loaded"
        r = get(port, "/noresp/")
        assert r.startswith(b"HTTP/1.1 500 "), r[:200]
        call(port, {"wasm_unload": {"name": "noresp"}})


def test_http_limits_and_malformed(server):
    port = server.port
    with connect(port) as other:
        r = https(port, b"GET /x HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
        assert r.startswith(b"HTTP/1.1 431 "), r[:100]
        r = https(port, b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"zz\r\nabc\r\n0\r\n\r\n")
        assert r.startswith(b"HTTP/1.1 400 "), r[:100]
        r = https(port, b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
        assert r.startswith(b"HTTP/1.1 413 "), r[:100]
        # Not a method: the framed protocol answers with an Error and closes.
        r = https(port, b"GARBAGE\r\n\r\n")
        assert b'{"Error":' in r
        r = https(port, b"GET /x HTTP/9.9.9\r\n\r\n")
        assert r.startswith(b"HTTP/1.1 400 "), r[:100]
        # RFC 9112, each with its status and a clear reason.
        r = https(port, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert r.startswith(b"HTTP/1.1 414 "), r[:100]
        r = https(port, b"GET /x HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (70 << 10) + b"\r\n\r\n")
        assert r.startswith(b"HTTP/1.1 431 "), r[:100]
        r = https(port, b"GET /x HTTP/1.1\r\nConnection: close\r\n\r\n")
        assert r.startswith(b"HTTP/1.1 400 ") and b"Host header is missing" in r, r[:200]
        r = https(port, b"GET /x HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n")
        assert r.startswith(b"HTTP/1.1 400 ") and b"more than one Host" in r, r[:200]
        r = https(port, b"GET /.well-known/enclave-os/metrics HTTP/1.0\r\n\r\n")
        assert r.startswith(b"HTTP/1.1 200 "), r[:100]
        for line in (b"GET /x HTTP/2.0\r\nHost: x\r\n\r\n", b"GET /x HTTP/1.2\r\nHost: x\r\n\r\n",
                     b"GET /x\r\n\r\n"):
            r = https(port, line)
            assert r.startswith(b"HTTP/1.1 505 "), (line, r[:100])
        r = https(port, b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"fffffffffffffffffff\r\nabc\r\n0\r\n\r\n")
        assert r.startswith(b"HTTP/1.1 400 ") and b"chunk size too large" in r, r[:200]
        assert request(other, b'"Ping"') == "Pong"


def test_slowloris_is_cut_without_stalling_others(server):
    port = server.port
    slow = connect(port, timeout=10)
    slow.sendall(b"GET /x HTTP/1.1\r\n")
    t0 = time.time()
    got = b""
    with connect(port) as other:
        while time.time() - t0 < 8:
            try:
                slow.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                break
            assert request(other, b'"Ping"') == "Pong"
            time.sleep(0.5)
            slow.settimeout(0.01)
            try:
                got += slow.recv(4096)
            except (socket.timeout, ssl.SSLWantReadError):
                pass
            except (ConnectionResetError, ssl.SSLError):
                break
            if got:
                break
    assert got.startswith(b"HTTP/1.1 408 "), got
    assert time.time() - t0 < 6
    slow.close()


def test_keep_alive_and_chunked_request(server):
    port = server.port
    load(port, "ka", hello_bytes())
    s = connect(port)
    for _ in range(3):
        s.sendall(b"GET /ka/hello HTTP/1.1\r\nHost: x\r\n\r\n")
        buf = b""
        while not buf.endswith(b"0\r\n\r\n"):
            buf += s.recv(4096)
        assert b"Hello from inside SGX!" in buf
    s.sendall(b"POST /ka/hello HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"3\r\nabc\r\n0\r\n\r\n")
    buf = b""
    while not buf.endswith(b"0\r\n\r\n"):
        buf += s.recv(4096)
    assert buf.startswith(b"HTTP/1.1 200 ")
    s.close()
    assert get(port, "/nothing/here").startswith(b"HTTP/1.1 404 ")
    call(port, {"wasm_unload": {"name": "ka"}})


def test_cli_round_trip(server):
    addr = "127.0.0.1:%d" % server.port
    r = run_cli("load", HELLO, "--name", "cli-app", "--route", "/c", "-s", addr)
    assert r.returncode == 1 and "SIMULATED" in r.stderr
    r = run_cli("load", HELLO, "--name", "cli-app", "--route", "/c", "-s", addr,
                "--allow-simulated", "--env", "A=1", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["app"]["route"] == "/c"
    r = run_cli("list", "-s", addr, "--allow-simulated", "--json")
    assert [a["name"] for a in json.loads(r.stdout)["apps"]] == ["cli-app"]
    r = run_cli("list", "-s", addr, "--allow-simulated")
    assert r.returncode == 0 and "cli-app" in r.stdout
    r = run_cli("unload", "cli-app", "-s", addr, "--insecure")
    assert r.returncode == 0 and "unloaded" in r.stdout
    r = run_cli("unload", "cli-app", "-s", addr, "--insecure")
    assert r.returncode == 1 and "no app named" in r.stderr
    r = run_cli("inspect", HELLO)
    assert r.returncode == 0 and hashlib.sha256(hello_bytes()).hexdigest() in r.stdout
    assert "incoming-handler" in r.stdout
    elf = os.path.join(os.path.dirname(server.log_path), "x.cwasm")
    with open(elf, "wb") as f:
        f.write(b"\x7fELF" + bytes(60))
    r = run_cli("inspect", elf)
    assert r.returncode == 1 and ".wasm component" in r.stderr


@pytest.mark.skipif(not TYPED or not os.path.exists(TYPED), reason="typed example not built")
def test_wasm_call_typed(server):
    port = server.port
    with open(TYPED, "rb") as f:
        assert load(port, "typed", f.read())["status"] == "loaded"

    def wcall(func, params):
        return call(port, {"wasm_call": {"app": "typed", "function": func, "params": params}})

    r = wcall("hello", ["Ada"])
    assert r["status"] == "ok" and r["returns"] == ["Hello, Ada!"] and r["fuel_consumed"] > 0
    assert wcall("add", [2, 3])["returns"] == [5]
    assert wcall("translate", [{"x": 1, "y": 2}, 10, 20])["returns"] == [{"x": 11, "y": 22}]
    assert wcall("area", [{"rectangle": [3, 4]}])["returns"] == [12]
    assert wcall("area", ["empty"])["returns"] == [0]
    assert wcall("find", [["a", "b"], "b"])["returns"] == [1]
    assert wcall("find", [["a"], "z"])["returns"] == [None]
    assert wcall("safe-div", [7, 2])["returns"] == [{"ok": 3}]
    assert wcall("safe-div", [7, 0])["returns"][0]["err"]
    assert wcall("sum", [["9007199254740993", 1]])["returns"] == ["9007199254740994"]
    assert wcall("stats", [[]])["returns"] == [[0, "NaN"]]
    assert wcall("invert", [["read"]])["returns"] == [["write", "exec"]]
    assert wcall("next-color", ["blue"])["returns"] == ["red"]
    bad = wcall("add", [2, 2 ** 40])
    assert bad["status"] == "error" and bad["code"] == "invalid_params"
    bad = wcall("add", ["x"])
    assert bad["status"] == "error"
    assert wcall("nope", [])["code"] == "not_found"
    r = run_cli("call", "typed", "add", "[40, 2]", "-s", "127.0.0.1:%d" % port, "--insecure",
                "--json")
    assert json.loads(r.stdout)["returns"] == [42]
    call(port, {"wasm_unload": {"name": "typed"}})


def test_persist_apps(tmp_path):
    srv = Server(tmp_path, "--dev", "--persist-apps", "--workers", "1")
    try:
        assert load(srv.port, "keep", hello_bytes(), route="/k")["status"] == "loaded"
    finally:
        assert srv.stop() == 0
    srv = Server(tmp_path, "--dev", "--persist-apps", "--workers", "1")
    try:
        apps = call(srv.port, {"wasm_list": {}})["apps"]
        assert [a["name"] for a in apps] == ["keep"] and apps[0]["route"] == "/k"
        assert body_of(get(srv.port, "/k/hello")) == b"Hello from inside SGX!"
        call(srv.port, {"wasm_unload": {"name": "keep"}})
    finally:
        assert srv.stop() == 0
    srv = Server(tmp_path, "--dev", "--persist-apps", "--workers", "1")
    try:
        assert call(srv.port, {"wasm_list": {}})["apps"] == []
    finally:
        assert srv.stop() == 0


def test_persisted_apps_answer_the_first_request_after_kill(tmp_path):
    """After SIGKILL, a restarted server restores its persisted apps before it
    serves app traffic: the first request to each gets its app (it waits for
    the restore), never a 404."""
    srv = Server(tmp_path, "--dev", "--persist-apps", "--workers", "1")
    names = ["keep%d" % i for i in range(6)]
    try:
        for n in names:
            assert load(srv.port, n, hello_bytes(), route="/" + n)["status"] == "loaded"
    finally:
        srv.proc.kill()
        srv.proc.wait()
        srv.log.close()
    srv = Server(tmp_path, "--dev", "--persist-apps", "--workers", "1")
    try:
        # The port is open from the moment the listener exists: these come
        # in while the apps may still be loading.
        for n in names:
            resp = get(srv.port, "/%s/hello" % n)
            assert resp.startswith(b"HTTP/1.1 200 "), resp[:200]
    finally:
        assert srv.stop() == 0


def test_wasm_functions_script(server):
    script = os.path.join(os.path.dirname(__file__), "..", "test_wasm_functions.py")
    r = subprocess.run([sys.executable, script, HELLO, "--port", str(server.port)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Loaded:" in r.stdout and "Hello from inside SGX!" in r.stdout
    assert r.stdout.rstrip().endswith("OK")
    if TYPED and os.path.exists(TYPED):
        r = subprocess.run([sys.executable, script, TYPED, "--port", str(server.port),
                            "--name", "typed2"], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "hello takes parameters" in r.stdout


def make_ca_and_client(tmp_path):
    """A management CA and a client certificate it signed (PEM files)."""
    import datetime
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("ops CA")).issuer_name(name("ops CA"))
          .public_key(ca_key.public_key()).serial_number(1)
          .not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name("operator")).issuer_name(name("ops CA"))
            .public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(ca_key, hashes.SHA256()))
    paths = {}
    for label, data in (("ca", ca.public_bytes(serialization.Encoding.PEM)),
                        ("cert", cert.public_bytes(serialization.Encoding.PEM)),
                        ("key", key.private_bytes(serialization.Encoding.PEM,
                                                  serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))):
        paths[label] = str(tmp_path / (label + ".pem"))
        with open(paths[label], "wb") as f:
            f.write(data)
    return paths


def test_management_ca(tmp_path):
    paths = make_ca_and_client(tmp_path)
    srv = Server(tmp_path, "--management-ca", paths["ca"], "--workers", "1")
    try:
        reply = load(srv.port, "m", hello_bytes())
        assert reply["code"] == "unauthorized"
        ctx = tls_context()
        ctx.load_cert_chain(paths["cert"], paths["key"])
        with connect(srv.port, ctx=ctx) as s:
            reply = inner(request(s, data_request({"wasm_load": {"name": "m",
                                                                 "bytes": list(hello_bytes())}})))
            assert reply["status"] == "loaded", reply
        assert body_of(get(srv.port, "/m/hello")) == b"Hello from inside SGX!"
    finally:
        assert srv.stop() == 0


COUNTER = os.environ.get("EOS_COUNTER_WASM", "")


@pytest.mark.skipif(not COUNTER or not os.path.exists(COUNTER), reason="kv-counter not built")
def test_unload_keeps_data_unless_erase(server):
    port = server.port
    with open(COUNTER, "rb") as f:
        data = f.read()

    def hit():
        r = get(port, "/cnt/x")
        assert r.startswith(b"HTTP/1.1 200 "), r[:300]
        return body_of(r).strip()

    assert load(port, "cnt", data)["status"] == "loaded"
    first = hit()
    second = hit()
    assert first != second
    assert call(port, {"wasm_unload": {"name": "cnt"}})["status"] == "unloaded"
    assert load(port, "cnt", data)["status"] == "loaded"
    third = hit()
    assert third not in (first, second)  # the count went on: data kept
    r = call(port, {"wasm_unload": {"name": "cnt", "erase": True}})
    assert r["status"] == "unloaded"
    assert load(port, "cnt", data)["status"] == "loaded"
    assert hit() == first  # erased: counting starts again
    assert call(port, {"wasm_unload": {"name": "cnt", "erase": "yes"}})["code"] == \
        "invalid_request"
    call(port, {"wasm_unload": {"name": "cnt"}})


def test_sigterm_lets_http_request_finish(tmp_path):
    import signal
    srv = Server(tmp_path, "--dev", "--workers", "1")
    assert load(srv.port, "d", hello_bytes())["status"] == "loaded"
    busy = connect(srv.port)
    busy.sendall(b"GET /d/hello HTTP/1.1\r\nHost: x\r\n")  # a request in flight
    idle = connect(srv.port)
    idle.sendall(b"GET /d/hello HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    while not got.endswith(b"0\r\n\r\n"):
        got += idle.recv(4096)
    time.sleep(0.2)
    srv.proc.send_signal(signal.SIGTERM)
    assert closed_by_peer(idle), "idle keep-alive connection not closed on shutdown"
    busy.sendall(b"Connection: close\r\n\r\n")
    out = b""
    while True:
        chunk = busy.recv(4096)
        if not chunk:
            break
        out += chunk
    assert out.startswith(b"HTTP/1.1 200 ") and b"Hello from inside SGX!" in out
    assert srv.proc.wait(timeout=20) == 0
    srv.log.close()
