"""Helpers for the end-to-end tests: start an enclave-os server on a free
port and speak the framed protocol exactly as the seed's client does (ssl
with verification off, struct '>I' length prefix, JSON payloads)."""
import json
import os
import socket
import ssl
import struct
import subprocess
import time

EOS_BIN = os.environ.get("EOS_BIN", os.path.join(os.path.dirname(__file__), "../../build/src/cli/enclave-os"))
DEFAULT_TIER = os.environ.get("EOS_E2E_TIER") or "interp"
# On the compiled tier a load answers once its code is compiled (minutes for
# the 13 MB JavaScript apps on a busy machine) and a stop waits for it.
SLOW = 30 if DEFAULT_TIER == "compiled" else 1
# A sanitizer build (EOS_SANITIZED=ON): it keeps freed memory in quarantine
# and adds shadow memory, so resident size says nothing about live memory.
SANITIZED = os.environ.get("EOS_SANITIZED") in ("ON", "1")
# How much the server's peak resident size may grow while 100 MB pass
# through it: buffers, app instances and thread stacks, not the body.
RSS_BOUND_MB = 24
# EOS_E2E_CODE_CACHE=DIR: every server that does not choose its tier shares
# one code cache, so a run on the compiled tier compiles each module once and
# later servers link it (tests of the cache itself choose their tier and
# keep their own).
CODE_CACHE = os.environ.get("EOS_E2E_CODE_CACHE")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """An enclave-os serve process on 127.0.0.1 and a free port."""

    def __init__(self, tmp_path, *extra):
        self.proc = None
        for _ in range(5):  # another process may grab the port between probe and bind
            self.port = free_port()
            self.log_path = os.path.join(str(tmp_path), "serve-%d.log" % self.port)
            self.log = open(self.log_path, "wb")
            # The interpreter unless a test asks for a tier: background compiles
            # of the 13 MB JavaScript apps would take a core for minutes per
            # server (test_tiers.py covers the compiled tier). EOS_E2E_TIER
            # (interp, auto, compiled) sets the default for the whole suite.
            tier = [] if "--tier" in extra else ["--tier", DEFAULT_TIER]
            if CODE_CACHE and tier and "--code-cache" not in extra:
                tier += ["--code-cache", CODE_CACHE]
            args = [EOS_BIN, "serve", "--listen", "127.0.0.1:%d" % self.port,
                    "--data-dir", os.path.join(str(tmp_path), "data"), "--tee", "sim"] + tier + list(extra)
            self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
            if self._wait_listening():
                return
            self.proc.kill()
            self.proc.wait()
            self.log.close()
        raise RuntimeError("server did not start: " + self.output())

    def _wait_listening(self):
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=20 * SLOW):
        if self.proc.poll() is None:
            self.proc.send_signal(15)
        try:
            rc = self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.log.close()
        return rc


def status_kb(pid, field):
    """A field of /proc/PID/status in kB (VmRSS, VmHWM); 0 when absent."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def peak_rss_mb(srv):
    return status_kb(srv.proc.pid, "VmHWM") / 1024


def check_rss(srv, before, what):
    """The server's peak resident size grew by less than RSS_BOUND_MB since
    before (peak_rss_mb's); no check on a sanitizer build."""
    if SANITIZED:
        return
    grown = peak_rss_mb(srv) - before
    assert grown < RSS_BOUND_MB, "server grew by %.1f MB during %s" % (grown, what)


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def connect(port, timeout=10 * SLOW, ctx=None):
    sock = (ctx or tls_context()).wrap_socket(
        socket.create_connection(("127.0.0.1", port), timeout=timeout),
        server_hostname="127.0.0.1")
    sock.settimeout(timeout)
    return sock


def frame(data):
    return struct.pack(">I", len(data)) + data


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def recv_frame(sock):
    (length,) = struct.unpack(">I", recv_exact(sock, 4))
    return json.loads(recv_exact(sock, length))


def request(sock, payload):
    """Sends a payload (bytes, or an object encoded as JSON) and returns the reply."""
    if not isinstance(payload, bytes):
        payload = json.dumps(payload).encode()
    sock.sendall(frame(payload))
    return recv_frame(sock)


def call(port, doc, timeout=120):
    """One framed Data request (doc, an object) on a fresh connection: the
    inner answer document."""
    with connect(port, timeout=timeout) as s:
        return inner(request(s, data_request(doc)))


def data_request(inner):
    """The seed's double encoding: {"Data": [bytes of the inner JSON]}."""
    return {"Data": list(json.dumps(inner).encode())}


def error_text(reply):
    assert isinstance(reply, dict) and list(reply) == ["Error"], reply
    return bytes(reply["Error"]).decode()


def inner(reply):
    """The inner JSON document of a {"Data": [...]} reply."""
    assert isinstance(reply, dict) and list(reply) == ["Data"], reply
    return json.loads(bytes(reply["Data"]))


def closed_by_peer(sock, timeout=5):
    """True when the server closes the connection (EOF) within timeout."""
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(4096):
                return True
    except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def read_until_closed(sock):
    """Everything the peer sends until it closes (or resets, or times out)."""
    out = b""
    try:
        while True:
            piece = sock.recv(65536)
            if not piece:
                break
            out += piece
    except (ConnectionResetError, ssl.SSLError, socket.timeout):
        pass
    return out


def body_of(resp):
    """The body of a whole HTTP/1.1 response (head and body bytes), its
    chunked transfer coding undone."""
    head, _, body = resp.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        out = b""
        while body:
            size_line, _, rest = body.partition(b"\r\n")
            n = int(size_line, 16)
            if n == 0:
                break
            out += rest[:n]
            body = rest[n + 2:]
        return out
    return body
