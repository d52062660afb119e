#!/usr/bin/python3
"""Soak and chaos run (by hand; scripts/soak.sh is the entry point).

For --seconds (600 by default) against one server on 127.0.0.1 started with
--persist-apps and a random --token (apps loaded by PUT), at once:
  - keep-alive GETs to the C hello app and new-connection GETs to hello-js;
  - increments of kv-counter's counter, each acknowledged value recorded;
  - hello replaced over and over, hello-js unloaded and loaded again;
  - bad input sent at random (malformed frames, long targets, huge heads,
    missing or duplicate Host, HTTP/2.0 and 0.9, overflowing chunk sizes,
    TLS garbage, and a management request whose token has a NUL and more
    after it, which must be refused);
  - every --kill-every seconds the server is killed with SIGKILL and started
    again on the same data directory (its apps come back from --persist-apps;
    until they answer again, errors are expected, and the time is reported).
At the end: every acknowledged increment is present (the counter is at least
the highest value acknowledged), no errors beyond the expected ones (those
of bad input, of the moments the server is down, and 404 for hello-js while
unloaded), RSS and open descriptors printed over time, and one verdict line.
Exit status 0 on PASS."""
import argparse
import json
import os
import random
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, HERE)
from eosload import connect, framed, free_port, read_response  # noqa: E402


class Soak:
    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="eos-soak-")
        self.port = free_port()
        self.token = os.urandom(16).hex()
        self.proc = None
        self.lock = threading.Lock()
        self.down_until = 0.0   # errors before this moment are expected (server restarting)
        self.js_gone = False    # hello-js unloaded on purpose
        self.stop = False
        self.counts = {"hello": 0, "hello-js": 0, "counter": 0, "bad": 0, "replaced": 0,
                       "reloaded": 0, "kills": 0, "expected_errors": 0}
        self.errors = []
        self.acked = []
        self.samples = []
        self.restores = []  # seconds from each SIGKILL until the apps answered again
        self.bytes = {}
        for name, path in (("hello", args.hello), ("counter", args.counter),
                           ("hello-js", args.hello_js)):
            with open(path, "rb") as f:
                self.bytes[name] = f.read()

    # ---- the server ----
    def start(self):
        log = open(os.path.join(self.tmp, "serve.log"), "ab")
        self.proc = subprocess.Popen(
            [self.args.bin, "serve", "--listen", "127.0.0.1:%d" % self.port,
             "--token", self.token, "--tee", "sim", "--data-dir",
             os.path.join(self.tmp, "data"), "--persist-apps", "--log-level", "warn"]
            + (["--tier", os.environ["EOS_E2E_TIER"]] if os.environ.get("EOS_E2E_TIER") else [])
            # the compiled-tier e2e run's shared cache: hello-js links, not compiles
            + (["--code-cache", os.environ["EOS_E2E_CODE_CACHE"]]
               if os.environ.get("EOS_E2E_CODE_CACHE") else []),
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def load(self, name, route=None):
        """Loads (or replaces) an app by HTTP PUT: the raw bytes, no JSON."""
        data = self.bytes[name]
        head = ("PUT /.well-known/enclave-os/apps/%s HTTP/1.1\r\nHost: x\r\n"
                "Content-Length: %d\r\nAuthorization: Bearer %s\r\n%sConnection: close\r\n\r\n"
                % (name, len(data), self.token,
                   "x-enclave-os-route: %s\r\n" % route if route else ""))
        with connect(self.port, timeout=120) as s:
            s.sendall(head.encode() + data)
            status, body, _ = read_response(s)
        try:
            return json.loads(body)
        except ValueError:
            return {"status": "error", "http": status, "body": body[:200].decode("replace")}

    def wait_restored(self):
        """After a restart: until the persisted apps answer again. The server
        restores them before it serves app traffic, so a 404 from hello or
        the counter (never unloaded) is an error; hello-js may have been
        killed while unloaded on purpose."""
        deadline = time.time() + 120
        for path in (b"/hello/hello", b"/counter/_counters", b"/hello-js/"):
            while time.time() < deadline:
                try:
                    with connect(self.port) as s:
                        s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n"
                                  b"Connection: close\r\n\r\n")
                        status = read_response(s)[0]
                    if status == 200:
                        break
                    if status == 404 and path != b"/hello-js/":
                        with self.lock:
                            self.errors.append("%.1fs %s: 404 after a restart" %
                                               (time.time() - self.t0, path.decode()))
                    if status == 404 and path == b"/hello-js/" and self.js_gone:
                        break
                except (OSError, EOFError, ssl.SSLError):
                    pass
                time.sleep(0.1)
        self.restores.append(time.time() - self.killed_at)

    def expected(self):
        with self.lock:
            return time.time() < self.down_until or self.proc.poll() is not None

    def error(self, what):
        if self.expected():
            with self.lock:
                self.counts["expected_errors"] += 1
            return
        with self.lock:
            self.errors.append("%.1fs %s" % (time.time() - self.t0, what))

    # ---- load ----
    def keepalive_hello(self):
        while not self.stop:
            try:
                with connect(self.port) as s:
                    buf = b""
                    for _ in range(200):
                        if self.stop:
                            break
                        s.sendall(b"GET /hello/hello HTTP/1.1\r\nHost: x\r\n\r\n")
                        status, _, buf = read_response(s, buf)
                        if status != 200:
                            self.error("hello keep-alive: %d" % status)
                        else:
                            with self.lock:
                                self.counts["hello"] += 1
            except (OSError, EOFError, ssl.SSLError) as e:
                self.error("hello keep-alive: %r" % e)
                time.sleep(0.2)

    def new_conn_js(self):
        while not self.stop:
            try:
                with connect(self.port) as s:
                    s.sendall(b"GET /hello-js/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    status, _, _ = read_response(s)
                if status == 200:
                    with self.lock:
                        self.counts["hello-js"] += 1
                elif not (status == 404 and self.js_gone):
                    self.error("hello-js: %d" % status)
            except (OSError, EOFError, ssl.SSLError) as e:
                self.error("hello-js: %r" % e)
                time.sleep(0.2)

    def counter(self):
        while not self.stop:
            try:
                with connect(self.port) as s:
                    buf = b""
                    for _ in range(50):
                        if self.stop:
                            break
                        s.sendall(b"GET /counter/soak HTTP/1.1\r\nHost: x\r\n\r\n")
                        status, body, buf = read_response(s, buf)
                        if status != 200:
                            self.error("counter: %d" % status)
                            continue
                        with self.lock:
                            self.acked.append(int(body))
                            self.counts["counter"] += 1
            except (OSError, EOFError, ssl.SSLError) as e:
                self.error("counter: %r" % e)
                time.sleep(0.2)

    # ---- chaos ----
    BAD_HTTP = [
        b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (70 << 10) + b"\r\n\r\n",
        b"GET /x HTTP/1.1\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"GET /x HTTP/2.0\r\nHost: x\r\n\r\n",
        b"GET /x\r\n\r\n",
        b"POST /hello/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"fffffffffffffffffffff\r\n",
        b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        b"\x00\x00\x00\x05{bad}",
        b"\xff\xff\xff\xff",
    ]

    def bad_input(self):
        rnd = random.Random(7)
        while not self.stop:
            time.sleep(rnd.uniform(0.05, 0.3))
            kind = rnd.randrange(len(self.BAD_HTTP) + 2)
            try:
                if kind == len(self.BAD_HTTP):
                    # TLS garbage instead of a ClientHello.
                    with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                        s.sendall(bytes(rnd.randrange(256) for _ in range(300)))
                        s.recv(100)
                elif kind == len(self.BAD_HTTP) + 1:
                    # The token with a NUL and more after it: refused.
                    r = framed(self.port, {"wasm_unload": {"name": "hello"},
                                           "auth": self.token + "\u0000junk"})
                    if r.get("code") != "unauthorized":
                        self.error("a token with a NUL was not refused: %s" % r)
                        if r.get("status") == "unloaded":
                            self.load("hello")
                else:
                    with connect(self.port, timeout=5) as s:
                        try:
                            s.sendall(self.BAD_HTTP[kind])
                            while s.recv(65536):
                                pass
                        except (OSError, ssl.SSLError):
                            pass
                with self.lock:
                    self.counts["bad"] += 1
            except (OSError, EOFError, ssl.SSLError, ValueError, KeyError):
                pass  # refused or cut off: that is the point

    def churn(self):
        rnd = random.Random(11)
        while not self.stop:
            time.sleep(rnd.uniform(0.2, 1.0))
            try:
                if rnd.random() < 0.7:
                    r = self.load("hello")
                    if r.get("status") == "loaded":
                        with self.lock:
                            self.counts["replaced"] += 1
                    else:
                        self.error("replace hello: %s" % r)
                else:
                    self.js_gone = True
                    with connect(self.port) as s:
                        s.sendall(b"DELETE /.well-known/enclave-os/apps/hello-js HTTP/1.1\r\n"
                                  b"Host: x\r\nAuthorization: Bearer " + self.token.encode() +
                                  b"\r\nConnection: close\r\n\r\n")
                        read_response(s)
                    time.sleep(0.2)
                    r = self.load("hello-js")
                    time.sleep(0.2)
                    self.js_gone = False
                    if r.get("status") == "loaded":
                        with self.lock:
                            self.counts["reloaded"] += 1
                    else:
                        self.error("reload hello-js: %s" % r)
            except (OSError, EOFError, ssl.SSLError, KeyError, ValueError) as e:
                self.js_gone = False
                self.error("churn: %r" % e)

    def sample(self):
        pid = self.proc.pid
        try:
            with open("/proc/%d/status" % pid) as f:
                rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024
            fds = len(os.listdir("/proc/%d/fd" % pid))
        except (OSError, StopIteration):
            return
        self.samples.append((time.time() - self.t0, rss, fds))
        print("  t=%5.0fs rss %6.1f MB fds %4d  hello %d js %d counter %d bad %d" %
              (self.samples[-1][0], rss, fds, self.counts["hello"], self.counts["hello-js"],
               self.counts["counter"], self.counts["bad"]), flush=True)

    def run(self):
        a = self.args
        self.start()
        for name, route in (("hello", None), ("counter", None), ("hello-js", None)):
            r = self.load(name, route)
            if r.get("status") != "loaded":
                raise RuntimeError("load %s: %s" % (name, r))
        self.t0 = time.time()
        threads = [threading.Thread(target=f, daemon=True) for f in
                   (self.keepalive_hello, self.keepalive_hello, self.new_conn_js, self.counter,
                    self.bad_input, self.churn)]
        for t in threads:
            t.start()
        end = self.t0 + a.seconds
        next_kill = self.t0 + a.kill_every
        next_sample = self.t0
        while time.time() < end:
            now = time.time()
            if now >= next_sample:
                self.sample()
                next_sample = now + a.sample_every
            if now >= next_kill and now + 10 < end:
                with self.lock:
                    self.down_until = now + 60
                self.killed_at = time.time()
                self.proc.kill()
                self.proc.wait()
                self.counts["kills"] += 1
                self.start()
                self.wait_restored()
                with self.lock:
                    self.down_until = time.time() + 0.5
                next_kill = time.time() + a.kill_every
            time.sleep(0.2)
        self.stop = True
        for t in threads:
            t.join(30)
        self.sample()
        # Every acknowledged increment is present.
        with connect(self.port) as s:
            s.sendall(b"GET /counter/soak HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            status, body, _ = read_response(s)
        final = int(body) - 1 if status == 200 else -1
        highest = max(self.acked) if self.acked else 0
        lost = final < highest or len(set(self.acked)) != len(self.acked)
        self.proc.terminate()
        rc = self.proc.wait(30)
        rss0, rss1 = self.samples[0][1], self.samples[-1][1]
        fd0, fd1 = self.samples[0][2], self.samples[-1][2]
        ok = not self.errors and not lost and rc == 0
        for e in self.errors[:20]:
            print("  unexpected: " + e)
        print("soak: %s in %ds: hello %d, hello-js %d, increments %d acknowledged (counter %d, "
              "highest acked %d%s), bad inputs %d, replaced %d, reloaded %d, kills %d, "
              "expected errors %d, unexpected %d, rss %.1f->%.1f MB, fds %d->%d, exit %s" %
              ("PASS" if ok else "FAIL", a.seconds, self.counts["hello"], self.counts["hello-js"],
               len(self.acked), final, highest, ", LOST WRITES" if lost else "",
               self.counts["bad"], self.counts["replaced"], self.counts["reloaded"],
               self.counts["kills"], self.counts["expected_errors"], len(self.errors), rss0, rss1,
               fd0, fd1, rc))
        if self.restores:
            print("  restarts: apps answering again %s s after SIGKILL" %
                  ", ".join("%.1f" % r for r in self.restores))
        if not ok:
            print("  server log: %s" % os.path.join(self.tmp, "serve.log"))
        return 0 if ok else 1


def main():
    build = os.environ.get("EOS_BUILD", os.path.join(ROOT, "build"))
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--kill-every", type=int, default=60)
    ap.add_argument("--sample-every", type=int, default=10)
    ap.add_argument("--bin", default=os.path.join(build, "src", "cli", "enclave-os"))
    ap.add_argument("--hello", default=os.path.join(build, "examples", "hello", "hello.wasm"))
    ap.add_argument("--counter",
                    default=os.path.join(build, "examples", "kv-counter", "kv-counter.wasm"))
    ap.add_argument("--hello-js",
                    default=os.path.join(build, "examples", "hello-js", "hello-js.wasm"))
    args = ap.parse_args()
    if args.seconds > 24 * 3600:
        ap.error("--seconds is bounded to a day")
    return Soak(args).run()


if __name__ == "__main__":
    sys.exit(main())
