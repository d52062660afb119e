#!/usr/bin/python3
"""Fair sharing of the app threads, measured (run by hand):

    bench/net/fair_bench.py [--seconds 20] [--clients 64] [--bin ...] [--apps DIR]

hello's latency over one keep-alive TLS connection, first with the server
otherwise idle (the baseline), then while wrk drives `--clients` connections
at an app that spins until its fuel runs out (the default fuel). Prints the
p50/p99 of both and the ratio of the p99s; the goal is a ratio within 2."""
import argparse
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ctx():
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def connect(port, timeout=60):
    return ctx().wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=timeout),
                             server_hostname="127.0.0.1")


def load(port, name, data, **extra):
    body = {"name": name, "bytes": list(data)}
    body.update(extra)
    payload = json.dumps({"Data": list(json.dumps({"wasm_load": body}).encode())}).encode()
    with connect(port) as s:
        s.sendall(struct.pack(">I", len(payload)) + payload)
        head = b""
        while len(head) < 4:
            head += s.recv(4 - len(head))
        (n,) = struct.unpack(">I", head)
        got = b""
        while len(got) < n:
            got += s.recv(n - len(got))
    doc = json.loads(bytes(json.loads(got)["Data"]))
    if doc.get("status") != "loaded":
        raise RuntimeError(doc)


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


def hello_latencies(port, seconds):
    out = []
    with connect(port, timeout=30) as s:
        buf = b""
        end = time.time() + seconds
        while time.time() < end:
            t0 = time.perf_counter()
            s.sendall(b"GET /hello/hello HTTP/1.1\r\nHost: x\r\n\r\n")
            status, _, buf = read_response(s, buf)
            out.append(time.perf_counter() - t0)
            if status != 200:
                raise RuntimeError("hello answered %s" % status)
            time.sleep(0.01)
    out.sort()
    return out


def pct(v, p):
    return v[min(len(v) - 1, int(len(v) * p))] * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--spin-concurrency", type=int, default=0,
                    help="max_concurrency of the spinning app (0: the server's default)")
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "src", "cli", "enclave-os"))
    ap.add_argument("--apps", default=os.path.join(ROOT, "build", "tests", "wasi", "apps"))
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="eos-fair-")
    port = free_port()
    srv = subprocess.Popen([args.bin, "serve", "--listen", "127.0.0.1:%d" % port, "--dev",
                            "--tee", "sim", "--data-dir", os.path.join(tmp, "data"),
                            "--log-level", "error"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(400):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        with open(os.path.join(args.apps, "hello.wasm"), "rb") as f:
            load(port, "hello", f.read())
        with open(os.path.join(args.apps, "misbehave.wasm"), "rb") as f:
            extra = {"max_concurrency": args.spin_concurrency} if args.spin_concurrency else {}
            load(port, "spin", f.read(), **extra)
        hello_latencies(port, 1)  # warm-up
        idle = hello_latencies(port, args.seconds)
        wrk = subprocess.Popen(["wrk", "-t2", "-c%d" % args.clients, "-d%ds" % (args.seconds + 5),
                                "--timeout", "30s", "https://127.0.0.1:%d/spin/spin" % port],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(3)
        busy = hello_latencies(port, args.seconds)
        out = wrk.communicate()[0]
        spin_done = [l.strip() for l in out.splitlines() if "requests in" in l or "Non-2xx" in l]
        ratio = pct(busy, 0.99) / max(pct(idle, 0.99), 1e-6)
        print("hello idle:  n=%d p50 %.2f ms p99 %.2f ms" % (len(idle), pct(idle, .5),
                                                              pct(idle, .99)))
        print("hello busy:  n=%d p50 %.2f ms p99 %.2f ms (%d clients on a spinning app: %s)"
              % (len(busy), pct(busy, .5), pct(busy, .99), args.clients, "; ".join(spin_done)))
        print("p99 ratio busy/idle: %.2f (goal: within 2)" % ratio)
        return 0 if ratio <= 2 else 1
    finally:
        srv.terminate()
        try:
            srv.wait(30)
        except subprocess.TimeoutExpired:
            srv.kill()


if __name__ == "__main__":
    sys.exit(main())
