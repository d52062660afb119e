#!/usr/bin/python3
"""hello-js against the C hello in the server, by hand: keep-alive requests
per second (wrk -t2 -c10 over TLS) of the 12.8 MB JavaScript example divided
by those of the C hello app, measured in one run, for each tier asked for.
With --tier compiled the server compiles at load (about 90 s of CPU for
hello-js, far more wall time on a busy machine) and the run waits until both
apps report "compile": "ready".

  bench/wasi/js_ratio.py [--tiers interp,compiled,auto] [--seconds 10] [--rounds 2]

With --tier auto hello-js (a large module) is compiled in part once it has
served a few requests: the functions that ran, at full optimisation.

Rounds alternate the two apps so that a change in the machine's load hits
both; the ratio is of the sums. Each round also prints the server's page
faults per request and the share of its CPU time spent in the kernel. Prints one line per tier and round and a
summary line per tier."""
import argparse
import json
import os
import re
import socket
import ssl
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


def https(port, raw, timeout=3600):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    with c.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=timeout),
                       server_hostname="127.0.0.1") as s:
        s.sendall(raw)
        out = b""
        while True:
            piece = s.recv(65536)
            if not piece:
                return out
            out += piece


def put(port, name, data):
    r = https(port, ("PUT /.well-known/enclave-os/apps/%s HTTP/1.1\r\nHost: x\r\n"
                     "Content-Length: %d\r\nConnection: close\r\n\r\n"
                     % (name, len(data))).encode() + data)
    if not r.startswith(b"HTTP/1.1 200 "):
        raise RuntimeError("loading %s: %r" % (name, r[:300]))


def compile_states(port, with_ms=False):
    """The "compile" state of every app in the listing."""
    r = https(port, b"GET /.well-known/enclave-os/apps HTTP/1.1\r\nHost: x\r\n"
                    b"Connection: close\r\n\r\n", timeout=30)
    head, body = r.split(b"\r\n\r\n", 1)
    if b"transfer-encoding: chunked" in head.lower():
        out = b""
        while body:
            size, body = body.split(b"\r\n", 1)
            n = int(size, 16)
            if n == 0:
                break
            out, body = out + body[:n], body[n + 2:]
        body = out
    states = []

    def walk(v):
        if isinstance(v, dict):
            if "compile" in v:
                states.append(v["compile"])
                if with_ms:
                    states[-1] = "%s %.0f ms" % (v["compile"], float(v.get("compile_ms", 0)))
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(json.loads(body))
    return states


def wrk(url, seconds):
    r = subprocess.run(["wrk", "-t2", "-c10", "-d%ds" % seconds, url],
                       capture_output=True, text=True)
    m = re.search(r"Requests/sec:\s+([\d.]+)", r.stdout)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", r.stdout)
    return float(m.group(1)) if m else 0.0, int(bad.group(1)) if bad else 0


def proc_counts(pid):
    """The server's page faults (minor + major) and user and system CPU ticks."""
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return int(v[7]) + int(v[9]), int(v[11]), int(v[12])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build/src/cli/enclave-os"))
    ap.add_argument("--hello", default=os.path.join(ROOT, "build/tests/wasi/apps/hello.wasm"))
    ap.add_argument("--hello-js", default=os.path.join(ROOT, "build/examples/hello-js/hello-js.wasm"))
    ap.add_argument("--tiers", default="interp,compiled")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--dir", help="keep data directories here (a later run over the same "
                    "directory links the code its first run compiled)")
    ap.add_argument("--perf", metavar="FILE", help="perf record the server into FILE.<tier> "
                    "during an extra run of hello-js")
    args = ap.parse_args()
    apps = {"hello": open(args.hello, "rb").read(), "js": open(args.hello_js, "rb").read()}
    tmp = args.dir or tempfile.mkdtemp(prefix="eos-js-ratio-")
    for tier in args.tiers.split(","):
        port = free_port()
        log = open(os.path.join(tmp, "serve-%s.log" % tier), "wb")
        proc = subprocess.Popen(
            [args.bin, "serve", "--listen", "127.0.0.1:%d" % port, "--dev", "--tee", "sim",
             "--data-dir", os.path.join(tmp, "data-" + tier), "--log-level", "warn",
             "--tier", tier], stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            t0 = time.time()
            for name, data in apps.items():
                put(port, name, data)
            while True:
                states = compile_states(port)
                if "pending" not in states:
                    break
                time.sleep(2)
            print("%s: apps loaded in %.0f s (compile: %s)" % (tier, time.time() - t0,
                                                              ", ".join(map(str, states))))
            url = "https://127.0.0.1:%d/%%s/hello" % port
            wrk(url % "js", 2)  # warm-up: pools, lazily translated functions
            # Under auto a large module is compiled in part after a warm-up:
            # wait for its code (requests meanwhile are interpreted).
            t1 = time.time()
            while True:
                states = compile_states(port)
                if "pending" not in states and "warming" not in states:
                    break
                if "warming" in states:
                    wrk(url % "js", 1)
                else:
                    time.sleep(1)
            if time.time() - t1 > 1:
                print("%s: compiled after the warm-up in %.0f s" % (tier, time.time() - t1))
            with open("/proc/%d/status" % proc.pid) as st:
                hwm = [l.split()[1] for l in st if l.startswith("VmHWM")]
            print("%s: compile %s; server peak RSS %.0f MB" % (
                tier, ", ".join(compile_states(port, True)), int(hwm[0]) / 1024 if hwm else 0))
            wrk(url % "js", 2)
            sums = {"hello": 0.0, "js": 0.0}
            for rnd in range(args.rounds):
                for name in ("hello", "js"):
                    c0 = proc_counts(proc.pid)
                    rps, bad = wrk(url % name, args.seconds)
                    c1 = proc_counts(proc.pid)
                    sums[name] += rps
                    faults, ut, st = (b - a for a, b in zip(c0, c1))
                    n = rps * args.seconds
                    print("%s round %d %-5s %10.0f req/s (non-2xx %d); %.0f page faults per "
                          "request, system time %.0f%% of the server's CPU"
                          % (tier, rnd, name, rps, bad, faults / n if n else 0,
                             100.0 * st / (ut + st) if ut + st else 0))
            if args.perf:
                rec = subprocess.Popen(["perf", "record", "-q", "-g", "-p", str(proc.pid), "-o",
                                        "%s.%s" % (args.perf, tier), "--", "sleep",
                                        str(args.seconds)])
                wrk(url % "js", args.seconds)
                rec.wait()
            print("%s: hello-js %.0f req/s, C hello %.0f req/s, ratio %.3f" %
                  (tier, sums["js"] / args.rounds, sums["hello"] / args.rounds,
                   sums["js"] / sums["hello"] if sums["hello"] else 0.0))
            sys.stdout.flush()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:  # still compiling
                proc.kill()
                proc.wait()
            log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
