#!/usr/bin/python3
"""Load test, run by hand (tests/e2e runs a short version):

    bench/net/load_test.py [--seconds 30] [--connections 100] [--bin ...] [--hello ...]

1. wrk with keep-alive TLS connections against the hello app: no errors
   allowed, and the server's resident memory sampled each second must stay
   flat after the warm-up (first third);
2. the same while the app is replaced again and again over the framed
   protocol: no errors allowed either.
Exit status 0 when both runs pass."""
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
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def load(port, data):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inner = json.dumps({"wasm_load": {"name": "hello", "bytes": list(data)}}).encode()
    payload = json.dumps({"Data": list(inner)}).encode()
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=60),
                         server_hostname="127.0.0.1") as s:
        s.sendall(struct.pack(">I", len(payload)) + payload)
        head = b""
        while len(head) < 4:
            head += s.recv(4 - len(head))
        (n,) = struct.unpack(">I", head)
        body = b""
        while len(body) < n:
            body += s.recv(n - len(body))
    doc = json.loads(bytes(json.loads(body)["Data"]))
    if doc.get("status") != "loaded":
        raise RuntimeError(doc)


def run_wrk(url, seconds, conns, pid):
    samples = []
    proc = subprocess.Popen(["wrk", "-t2", "-c%d" % conns, "-d%ds" % seconds, url],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    while proc.poll() is None:
        samples.append(rss_mb(pid))
        time.sleep(1)
    out = proc.stdout.read()
    reqs = re.search(r"(\d+) requests in", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + \
        (sum(int(x) for x in sock.groups()) if sock else 0)
    return {"requests": int(reqs.group(1)) if reqs else 0,
            "rate": float(rate.group(1)) if rate else 0.0, "errors": errors,
            "rss": samples, "raw": out}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build/src/cli/enclave-os"))
    ap.add_argument("--hello", default=os.path.join(ROOT, "build/tests/wasi/apps/hello.wasm"))
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--connections", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-rss-check", action="store_true",
                    help="skip the memory check (sanitizer builds keep freed memory in "
                         "quarantine, so resident size says nothing there)")
    args = ap.parse_args()
    with open(args.hello, "rb") as f:
        data = f.read()
    tmp = tempfile.mkdtemp(prefix="eos-load-")
    port = free_port()
    srv = subprocess.Popen([args.bin, "serve", "--listen", "127.0.0.1:%d" % port, "--dev",
                            "--tee", "sim", "--data-dir", os.path.join(tmp, "data"),
                            "--workers", str(args.workers), "--log-level", "warn"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ok = True
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        load(port, data)
        url = "https://127.0.0.1:%d/hello/hello" % port

        r = run_wrk(url, args.seconds, args.connections, srv.pid)
        warm = r["rss"][len(r["rss"]) // 3:] or r["rss"]
        growth = max(warm) - min(warm) if warm else 0.0
        print("run 1: %d requests, %.0f req/s, %d errors; RSS after warm-up %.1f..%.1f MB "
              "(growth %.1f MB)" % (r["requests"], r["rate"], r["errors"], min(warm), max(warm),
                                    growth))
        # Up to 8 MB is the allocator's per-thread arenas filling on a short
        # run (seen at 8.0 and 8.2); a leak grows with the requests, well past 12.
        if r["errors"] or r["requests"] == 0 or (growth > 12 and not args.no_rss_check):
            ok = False
            print(r["raw"])

        stop = threading.Event()
        replaced = [0]
        failures = []

        def replace():
            while not stop.is_set():
                try:
                    load(port, data)
                    replaced[0] += 1
                except Exception as e:  # noqa: BLE001 - reported below
                    failures.append(repr(e))
                time.sleep(0.05)

        t = threading.Thread(target=replace)
        t.start()
        r = run_wrk(url, args.seconds, args.connections, srv.pid)
        stop.set()
        t.join()
        print("run 2 (app replaced %d times meanwhile): %d requests, %.0f req/s, %d errors, "
              "%d failed replacements; RSS %.1f MB at the end" % (
                  replaced[0], r["requests"], r["rate"], r["errors"], len(failures),
                  r["rss"][-1] if r["rss"] else 0))
        if r["errors"] or failures or r["requests"] == 0 or replaced[0] == 0:
            ok = False
            print(r["raw"], failures[:3])
        if srv.poll() is not None:
            ok = False
            print("the server died")
    finally:
        srv.terminate()
        srv.wait(timeout=30)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
