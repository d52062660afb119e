#!/usr/bin/python3
"""Fair sharing of the app threads, measured (run by hand):

    bench/net/fair_bench.py [--rounds 4] [--seconds 8] [--clients 64] [--bin ...] [--apps DIR]

hello's latency over one keep-alive TLS connection, with the server otherwise
idle (the baseline) and while wrk drives `--clients` connections at an app
that spins until its fuel runs out (the default fuel). The two alternate for
--rounds rounds of --seconds each, so that the machine's other load falls on
both alike. Prints the p50/p99 of both, the ratio of the p99s (the goal: within
2) and how many jobs ran past the slice and were deprioritised. The load
driver is scripts/eosload.py, shared with the soak run."""
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from eosload import free_port, latencies, load, metric, pct, start_server  # noqa: E402


def settle(port, deadline=60):
    """Until the spinning app has nothing running or queued."""
    end = time.time() + deadline
    while time.time() < end:
        busy = (metric(port, 'enclave_os_app_in_flight{app="spin"}') or 0) + \
               (metric(port, 'enclave_os_app_queued{app="spin"}') or 0)
        if busy == 0:
            return
        time.sleep(0.1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seconds", type=int, default=8, help="per phase")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--spin-concurrency", type=int, default=0,
                    help="max_concurrency of the spinning app (0: the server's default)")
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "src", "cli", "enclave-os"))
    ap.add_argument("--apps", default=os.path.join(ROOT, "build", "tests", "wasi", "apps"))
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="eos-fair-")
    port = free_port()
    srv = start_server(args.bin, port, ["--dev", "--tee", "sim", "--data-dir",
                                        os.path.join(tmp, "data"), "--log-level", "error"])
    try:
        with open(os.path.join(args.apps, "hello.wasm"), "rb") as f:
            load(port, "hello", f.read())
        with open(os.path.join(args.apps, "misbehave.wasm"), "rb") as f:
            extra = {"max_concurrency": args.spin_concurrency} if args.spin_concurrency else {}
            load(port, "spin", f.read(), **extra)
        latencies(port, "/hello/hello", 1)  # warm-up
        idle, busy, done = [], [], []
        for r in range(args.rounds):
            idle += latencies(port, "/hello/hello", args.seconds)
            wrk = subprocess.Popen(["wrk", "-t2", "-c%d" % args.clients,
                                    "-d%ds" % (args.seconds + 3), "--timeout", "30s",
                                    "https://127.0.0.1:%d/spin/spin" % port],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            time.sleep(2)
            busy += latencies(port, "/hello/hello", args.seconds)
            out = wrk.communicate()[0]
            done += [l.strip() for l in out.splitlines() if "requests in" in l]
            # wrk's connections are gone: their queued requests are dropped,
            # and the one running ends within its fuel.
            settle(port)
        idle.sort()
        busy.sort()
        ratio = pct(busy, 0.99) / max(pct(idle, 0.99), 1e-6)
        print("hello idle:  n=%d p50 %.2f ms p99 %.2f ms" % (len(idle), pct(idle, .5),
                                                              pct(idle, .99)))
        print("hello busy:  n=%d p50 %.2f ms p99 %.2f ms (%d clients on a spinning app: %s)"
              % (len(busy), pct(busy, .5), pct(busy, .99), args.clients, "; ".join(done)))
        print("spin jobs deprioritised past the slice: %d; dropped (clients gone): %d"
              % (metric(port, "enclave_os_app_demotions_total") or 0,
                 metric(port, "enclave_os_app_queue_dropped_total") or 0))
        print("p99 ratio busy/idle: %.2f (goal: within 2; %d interleaved rounds of %d s)"
              % (ratio, args.rounds, args.seconds))
        return 0 if ratio <= 2 else 1
    finally:
        srv.terminate()
        try:
            srv.wait(30)
        except subprocess.TimeoutExpired:
            srv.kill()


if __name__ == "__main__":
    sys.exit(main())
