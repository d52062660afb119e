#!/usr/bin/python3
"""Server benchmarks, run by hand (they take a minute or two):

    bench/net/bench_server.py [--bin build/src/cli/enclave-os] [--hello HELLO.wasm]
                              [--quick]

- wasm_load time and the server's peak memory (VmHWM) for 1 MB and 12 MB
  components, over the framed protocol and over HTTP PUT, each on a fresh
  server so the peak belongs to that load alone;
- hello requests per second with wrk: keep-alive connections, and a new TLS
  connection per request ("Connection: close"), against the baseline of
  /.well-known/enclave-os/healthz served by the server itself in the same run;
- streaming: 100 MB out of an app (the misbehave test app's /stream) and
  100 MB into one (/count), with curl, against the baseline of
  `openssl s_server -WWW` sending the same 100 MB file over TLS 1.3 in the
  same run; and the server's peak memory meanwhile.

Components of a given size are the hello component with a custom section
appended (valid, and hashed like any other byte)."""
import argparse
import json
import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")


def leb(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def padded(base, size):
    """base with a custom section making it about size bytes."""
    name = b"bench-padding"
    extra = max(0, size - len(base) - 16)
    payload = leb(len(name)) + name + os.urandom(extra)
    return base + b"\x00" + leb(len(payload)) + payload


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, tmp, *extra):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:%d" % self.port, "--dev", "--tee", "sim",
             "--data-dir", os.path.join(tmp, "data"), "--log-level", "warn"] + list(extra),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def hwm_mb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0

    def rss_mb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def ctx():
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def tls(port):
    s = ctx().wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=600),
                          server_hostname="127.0.0.1")
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def load_framed(port, name, data):
    inner = ('{"wasm_load":{"name":"%s","bytes":[' % name).encode() + \
        ",".join(map(str, data)).encode() + b"]}}"
    payload = b'{"Data":[' + ",".join(map(str, inner)).encode() + b"]}"
    with tls(port) as s:
        t0 = time.time()
        s.sendall(struct.pack(">I", len(payload)) + payload)
        (n,) = struct.unpack(">I", recv_exact(s, 4))
        resp = json.loads(recv_exact(s, n))
        dt = time.time() - t0
    doc = json.loads(bytes(resp["Data"]))
    assert doc["status"] == "loaded", doc
    return dt, len(payload)


def load_put(port, name, data):
    with tls(port) as s:
        t0 = time.time()
        s.sendall(("PUT /.well-known/enclave-os/apps/%s HTTP/1.1\r\nHost: x\r\n"
                   "Content-Length: %d\r\nConnection: close\r\n\r\n" % (name, len(data))).encode()
                  + data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        dt = time.time() - t0
    assert out.startswith(b"HTTP/1.1 200 "), out[:200]
    return dt


def wrk(url, seconds, conns, extra=()):
    r = subprocess.run(["wrk", "-t2", "-c%d" % conns, "-d%ds" % seconds] + list(extra) + [url],
                       capture_output=True, text=True)
    m = re.search(r"Requests/sec:\s+([\d.]+)", r.stdout)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", r.stdout)
    sock_err = re.search(r"Socket errors: (.*)", r.stdout)
    return (float(m.group(1)) if m else 0.0,
            int(errors.group(1)) if errors else 0,
            sock_err.group(1) if sock_err else "none")


def curl_seconds(url, upload=None):
    cmd = ["curl", "-sk", "-o", "/dev/null", "-w", "%{time_total} %{http_code}", url]
    if upload:
        cmd[1:1] = ["-X", "POST", "--data-binary", "@" + upload,
                    "-H", "Content-Type: application/octet-stream"]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout.split()
    assert out and out[1] == "200", out
    return float(out[0])


def best_of(n, fn):
    return min(fn() for _ in range(n))


def stream_bench(args, tmp, mb):
    size = mb << 20
    blob = os.path.join(tmp, "blob")
    with open(blob, "wb") as f:
        f.write(b"x" * size)
    key, crt = os.path.join(tmp, "key.pem"), os.path.join(tmp, "crt.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "1", "-subj", "/CN=bench"], check=True, capture_output=True)
    port = free_port()
    base = subprocess.Popen(["openssl", "s_server", "-quiet", "-WWW", "-tls1_3", "-accept",
                             str(port), "-key", key, "-cert", crt], cwd=tmp,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        t_base = best_of(3, lambda: curl_seconds("https://127.0.0.1:%d/blob" % port))
    finally:
        base.terminate()
        base.wait()
    srv = Server(args.bin, tmp, "--max-body-size", "1G")
    try:
        with open(args.misbehave, "rb") as f:
            load_framed(srv.port, "m", f.read())
        idle = srv.hwm_mb()
        url = "https://127.0.0.1:%d/m" % srv.port
        t_out = best_of(3, lambda: curl_seconds(url + "/stream?%d" % size))
        t_in = best_of(3, lambda: curl_seconds(url + "/count", upload=blob))
        peak = srv.hwm_mb()
    finally:
        srv.stop()
    rate = lambda t: mb / t if t else 0.0  # noqa: E731
    print("\n# streaming %d MB through an app (curl, best of 3)" % mb)
    print("openssl s_server -WWW (baseline): %7.0f MB/s" % rate(t_base))
    print("app response (/stream):           %7.0f MB/s  (%.2fx baseline)" %
          (rate(t_out), t_base / t_out if t_out else 0))
    print("app request body (/count):        %7.0f MB/s  (%.2fx baseline)" %
          (rate(t_in), t_base / t_in if t_in else 0))
    print("server peak RSS: %.1f MB (%.1f MB before the transfers)" % (peak, idle))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build/src/cli/enclave-os"))
    ap.add_argument("--hello", default=os.path.join(ROOT, "build/tests/wasi/apps/hello.wasm"))
    ap.add_argument("--misbehave",
                    default=os.path.join(ROOT, "build/tests/wasi/apps/misbehave.wasm"))
    ap.add_argument("--quick", action="store_true", help="short runs (CI smoke)")
    args = ap.parse_args()
    with open(args.hello, "rb") as f:
        base = f.read()
    tmp = tempfile.mkdtemp(prefix="eos-bench-")
    secs = 2 if args.quick else 10

    print("# wasm_load: time and server peak memory (fresh server each)")
    print("%-8s %-7s %10s %12s %14s" % ("size", "how", "seconds", "peak MB", "idle MB"))
    for mb in (1, 12):
        data = padded(base, mb << 20)
        for how in ("framed", "put"):
            srv = Server(args.bin, tmp)
            try:
                idle = srv.hwm_mb()
                dt = load_framed(srv.port, "big", data)[0] if how == "framed" else \
                    load_put(srv.port, "big", data)
                print("%-8s %-7s %10.2f %12.1f %14.1f" % ("%d MB" % mb, how, dt, srv.hwm_mb(),
                                                         idle))
            finally:
                srv.stop()

    if os.path.exists(args.misbehave):
        stream_bench(args, tmp, 16 if args.quick else 100)

    print("\n# hello requests/s (wrk -t2, %d s each)" % secs)
    srv = Server(args.bin, tmp)
    try:
        load_framed(srv.port, "hello", base)
        base_url = "https://127.0.0.1:%d" % srv.port
        hz, _, _ = wrk(base_url + "/.well-known/enclave-os/healthz", secs, 10)
        ka, ka_err, ka_sock = wrk(base_url + "/hello/hello", secs, 10)
        nc, nc_err, nc_sock = wrk(base_url + "/hello/hello", secs, 10,
                                  ["-H", "Connection: close"])
        print("healthz keep-alive (baseline): %10.0f req/s" % hz)
        print("hello keep-alive:              %10.0f req/s  (%.2fx baseline; non-2xx %d; "
              "socket errors %s)" % (ka, ka / hz if hz else 0, ka_err, ka_sock))
        print("hello new TLS conn/request:    %10.0f req/s  (%.2fx baseline; non-2xx %d; "
              "socket errors %s)" % (nc, nc / hz if hz else 0, nc_err, nc_sock))
        print("server RSS after: %.1f MB" % srv.rss_mb())
    finally:
        srv.stop()


if __name__ == "__main__":
    sys.exit(main())
