"""The load driver shared by scripts/soak.py and bench/net/fair_bench.py:
TLS connections to a server on 127.0.0.1, framed management requests, HTTP
responses read off a keep-alive connection, starting a server and timing a
series of GETs. Standard library only."""
import json
import os
import socket
import ssl
import struct
import subprocess
import time

CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connect(port, timeout=20):
    return CTX.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=timeout),
                           server_hostname="127.0.0.1")


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        c = s.recv(n - len(out))
        if not c:
            raise EOFError("closed")
        out += c
    return out


def framed(port, inner, timeout=60):
    """One framed Data request on a new connection: the inner answer document."""
    payload = json.dumps({"Data": list(json.dumps(inner).encode())}).encode()
    with connect(port, timeout) as s:
        s.sendall(struct.pack(">I", len(payload)) + payload)
        (n,) = struct.unpack(">I", recv_exact(s, 4))
        reply = json.loads(recv_exact(s, n))
    return json.loads(bytes(reply["Data"]))


def load(port, name, data, **extra):
    """wasm_load over the framed protocol (a --dev server); raises unless loaded."""
    body = {"name": name, "bytes": list(data)}
    body.update(extra)
    doc = framed(port, {"wasm_load": body})
    if doc.get("status") != "loaded":
        raise RuntimeError(doc)
    return doc


def read_response(s, buf=b""):
    """One response (content-length or chunked) from s: (status, body, rest)."""
    while b"\r\n\r\n" not in buf:
        c = s.recv(65536)
        if not c:
            raise EOFError("closed before a response")
        buf += c
    head, _, rest = buf.partition(b"\r\n\r\n")
    n, chunked = 0, False
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        k = k.strip().lower()
        if k == b"content-length":
            n = int(v)
        elif k == b"transfer-encoding" and b"chunked" in v.lower():
            chunked = True
    status = int(head.split(b" ")[1])
    if not chunked:
        while len(rest) < n:
            c = s.recv(65536)
            if not c:
                raise EOFError("closed inside a body")
            rest += c
        return status, rest[:n], rest[n:]
    body = b""
    while True:
        while b"\r\n" not in rest:
            c = s.recv(65536)
            if not c:
                raise EOFError("closed inside a chunked body")
            rest += c
        line, _, rest = rest.partition(b"\r\n")
        size = int(line.split(b";")[0], 16)
        while len(rest) < size + 2:
            c = s.recv(65536)
            if not c:
                raise EOFError("closed inside a chunk")
            rest += c
        if size == 0:
            # No trailers from this server: the last chunk ends with CRLF.
            return status, body, rest[2:]
        body += rest[:size]
        rest = rest[size + 2:]


def get(port, path, timeout=20):
    """One GET on a new connection: (status, body)."""
    with connect(port, timeout) as s:
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status, body, _ = read_response(s)
    return status, body


def metric(port, name):
    """A value from the metrics endpoint, or None."""
    status, body = get(port, "/.well-known/enclave-os/metrics")
    if status == 200:
        for line in body.decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return None


def start_server(binary, port, args, out=subprocess.DEVNULL, wait=60):
    """serve on 127.0.0.1:port with args; returns once it accepts connections."""
    proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:%d" % port] + list(args),
                            stdout=out, stderr=subprocess.STDOUT)
    deadline = time.time() + wait
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server exited with %s" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the server did not start")


def latencies(port, path, seconds, pause=0.01):
    """GETs of path over one keep-alive connection for `seconds`, one every
    `pause` seconds: the latencies in seconds, sorted. Raises on a non-200."""
    out = []
    with connect(port, timeout=30) as s:
        buf = b""
        end = time.time() + seconds
        while time.time() < end:
            t0 = time.perf_counter()
            s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            status, _, buf = read_response(s, buf)
            out.append(time.perf_counter() - t0)
            if status != 200:
                raise RuntimeError("%s answered %s" % (path, status))
            time.sleep(pause)
    out.sort()
    return out


def pct(v, p):
    """The p-quantile of sorted v, in milliseconds."""
    return v[min(len(v) - 1, int(len(v) * p))] * 1000
