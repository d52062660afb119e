#!/usr/bin/python3
"""Outgoing calls from an app (wasi:http/outgoing-handler), run by hand:

    bench/net/bench_egress.py [--bin build/src/cli/enclave-os]
                              [--proxy build/examples/proxy/proxy.wasm]
                              [--calls 2000] [--tier auto|interp|compiled] [--quick]

A local TLS upstream (Python's http.server behind TLS with a test CA, HTTP/1.1
keep-alive, in its own process) answers GET /hello with 19 bytes. In the same
run:

- baseline: curl makes N requests to it one after the other over one kept-alive
  connection (`curl https://.../hello?[1-N]`): requests per second;
- the app: the proxy example's /_repeat/hello?n=N makes the same N calls one
  after the other from inside one request (the host keeps the connection alive
  between them): outbound requests per second, the ratio app / curl, and the
  added latency per call (time per call through the host minus curl's);
- memory per call in flight: the proxy's /_fanout/sleep?n=32 holds 32 calls open
  at once against an upstream that answers after a second; the server's
  resident size (sampled) at its highest during that, minus the same with n=1,
  divided by 31.

Best of three for each rate. Prints a table and one JSON line."""
import argparse
import datetime
import http.server
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))


# ---- the upstream (run as a separate process: --serve CERT KEY) ----

class Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # head and body are two writes: no delayed-ACK stall

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/sleep"):
            time.sleep(1.0)
        body = b"hello from upstream"
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(cert, key):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


# ---- the run ----

def make_pki(d):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    day = datetime.timedelta(days=1)

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("bench CA")).issuer_name(name("bench CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - day).not_valid_after(now + day)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - day).not_valid_after(now + day)
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {k: os.path.join(d, k) for k in ("ca.pem", "leaf.pem", "leaf.key")}
    with open(paths["ca.pem"], "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths["leaf.pem"], "wb") as f:
        f.write(leaf.public_bytes(serialization.Encoding.PEM))
    with open(paths["leaf.key"], "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths


def get(port, path, timeout=300):
    from eosnet import body_of, connect
    with connect(port, timeout=timeout) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                   % path).encode())
        out = b""
        while True:
            piece = s.recv(65536)
            if not piece:
                break
            out += piece
    return int(out.split()[1]), body_of(out)


def best_of(n, fn):
    return min(fn() for _ in range(n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build/src/cli/enclave-os"))
    ap.add_argument("--proxy", default=os.path.join(ROOT, "build/examples/proxy/proxy.wasm"))
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--tier", default="auto")
    ap.add_argument("--quick", action="store_true", help="100 calls, one repetition (smoke)")
    ap.add_argument("--serve", nargs=2, metavar=("CERT", "KEY"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(*args.serve)
        return 0
    for path in (args.bin, args.proxy):
        if not os.path.exists(path):
            print("SKIPPED: %s is not built" % path)
            return 77
    calls = 100 if args.quick else args.calls
    reps = 1 if args.quick else 3

    # eosnet reads EOS_BIN when it is imported: the binary asked for, not build/'s.
    os.environ["EOS_BIN"] = os.path.abspath(args.bin)
    from eosnet import Server, connect, data_request, inner, request, status_kb

    tmp = tempfile.mkdtemp(prefix="bench-egress-")
    pki = make_pki(tmp)
    up = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve",
                           pki["leaf.pem"], pki["leaf.key"]], stdout=subprocess.PIPE)
    srv = None
    try:
        port = int(up.stdout.readline())
        base = "https://127.0.0.1:%d" % port
        srv = Server(tmp, "--dev", "--workers", "2", "--tier", args.tier,
                     "--outbound-ca", pki["ca.pem"])
        with open(args.proxy, "rb") as f:
            wasm = f.read()
        with connect(srv.port, timeout=120) as s:
            reply = inner(request(s, data_request({"wasm_load": {
                "name": "px", "bytes": list(wasm), "env": {"UPSTREAM": base},
                "allow_outbound": [base]}})))
        assert reply["status"] == "loaded", reply

        def curl_run():
            t0 = time.perf_counter()
            subprocess.run(["curl", "-s", "-o", "/dev/null", "--cacert", pki["ca.pem"],
                            "%s/hello?[1-%d]" % (base, calls)], check=True)
            return time.perf_counter() - t0

        def app_run():
            t0 = time.perf_counter()
            status, body = get(srv.port, "/px/_repeat/hello?n=%d" % calls)
            dt = time.perf_counter() - t0
            assert status == 200 and body == b"%d ok 0 failed\n" % calls, (status, body)
            return dt

        curl_run()  # warm up both paths (and let --tier auto finish compiling)
        app_run()
        if not args.quick:
            time.sleep(1)
            app_run()
        t_curl = best_of(reps, curl_run)
        t_app = best_of(reps, app_run)

        def fan_peak(n):
            """Peak resident growth while n calls are in flight, on a fresh
            server whose app has answered one fan-out of 1 (so the instance,
            the code paths and one connection's buffers exist already)."""
            fresh = Server(tmp, "--dev", "--workers", "1", "--tier", "interp",
                           "--outbound-ca", pki["ca.pem"])
            try:
                with connect(fresh.port, timeout=120) as s:
                    inner(request(s, data_request({"wasm_load": {
                        "name": "px", "bytes": list(wasm), "env": {"UPSTREAM": base},
                        "allow_outbound": [base]}})))
                get(fresh.port, "/px/_fanout/hello?n=1")
                before = status_kb(fresh.proc.pid, "VmRSS")
                peak = [before]
                done = threading.Event()

                def sample():
                    while not done.is_set():
                        peak[0] = max(peak[0], status_kb(fresh.proc.pid, "VmRSS"))
                        time.sleep(0.005)
                t = threading.Thread(target=sample)
                t.start()
                status, body = get(fresh.port, "/px/_fanout/sleep?n=%d" % n)
                done.set()
                t.join()
                assert status == 200 and body.split() == [b"200"] * n, body
                return peak[0] - before
            finally:
                fresh.stop()

        one = min(fan_peak(1) for _ in range(reps))
        many = min(fan_peak(32) for _ in range(reps))
        per_call_kb = max(0, many - one) / 31

        rate_curl, rate_app = calls / t_curl, calls / t_app
        rows = [
            ("curl -> upstream (keep-alive)", "%.0f req/s" % rate_curl, "%.3f ms/req" % (1e3 * t_curl / calls)),
            ("app -> upstream (keep-alive)", "%.0f req/s" % rate_app, "%.3f ms/req" % (1e3 * t_app / calls)),
            ("app / curl", "%.2f" % (rate_app / rate_curl), ""),
            ("added latency per call", "%.3f ms" % (1e3 * (t_app - t_curl) / calls), ""),
            ("memory per call in flight", "%.0f KiB" % per_call_kb,
             "(32 in flight: +%d KiB, 1: +%d KiB)" % (many, one)),
        ]
        print("outbound calls, %d sequential calls, tier %s, best of %d" % (calls, args.tier, reps))
        for r in rows:
            print("  %-32s %14s  %s" % r)
        print(json.dumps({"calls": calls, "tier": args.tier, "curl_rps": round(rate_curl),
                          "app_rps": round(rate_app), "ratio": round(rate_app / rate_curl, 3),
                          "added_ms": round(1e3 * (t_app - t_curl) / calls, 4),
                          "kib_per_inflight_call": round(per_call_kb, 1)}))
    finally:
        if srv:
            srv.stop()
        up.kill()
        up.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
