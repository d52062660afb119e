#!/usr/bin/env python3
"""The end-to-end suite (ctest label e2e, examples.e2e included) with every
server on the compiled tier and one shared code cache, so that each module is
compiled once and later servers link it. Run by hand (docs/operations.md):

    scripts/e2e_compiled.py [--build build] [--bin COPY] [--cache DIR] [-R REGEX]

--bin runs a copy of the binary (the build directory may then be rebuilt
while the suite runs). The cache is first filled with the large JavaScript
components (--warm, default: every .wasm of 4 MiB or more the build made for
the examples and tests: hello-js, egress-js, fetch-js, secret-config...), whose compile
takes minutes each: tests that load them then link them in about a second
instead of waiting past their timeouts. Prints each test's result and
time, then a summary."""
import argparse
import json
import os
import socket
import ssl
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def warm(binary, cache, wasm_files):
    """Loads each file into a server on the compiled tier over cache."""
    tmp = tempfile.mkdtemp(prefix="eos-warm-")
    port = free_port()
    proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:%d" % port, "--dev",
                             "--tee", "sim", "--data-dir", tmp, "--tier", "compiled",
                             "--code-cache", cache, "--log-level", "warn"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(400):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        c.check_hostname = False
        c.verify_mode = ssl.CERT_NONE
        for i, path in enumerate(wasm_files):
            data = open(path, "rb").read()
            t0 = time.time()
            with c.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=7200),
                               server_hostname="127.0.0.1") as s:
                s.sendall(("PUT /.well-known/enclave-os/apps/warm%d HTTP/1.1\r\nHost: x\r\n"
                           "Content-Length: %d\r\nConnection: close\r\n\r\n"
                           % (i, len(data))).encode() + data)
                r = s.recv(200)
            print("warmed the cache with %s in %.0f s: %s" % (
                os.path.basename(path), time.time() - t0, r.split(b"\r\n")[0].decode()),
                flush=True)
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def large_components(build):
    """The JavaScript components the tests load (12.8 MB each, one compile of
    minutes apiece): every .wasm of 4 MiB or more under the build's examples
    and tests."""
    out = []
    for sub in ("examples", "tests"):
        for d, _, files in os.walk(os.path.join(build, sub)):
            out += [os.path.join(d, f) for f in files
                    if f.endswith(".wasm") and os.path.getsize(os.path.join(d, f)) >= 4 << 20]
    return sorted(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--bin", help="run this enclave-os instead of the build's")
    ap.add_argument("--cache", help="the shared code cache (default: a fresh temporary dir)")
    ap.add_argument("--warm", action="append",
                    help="compile this .wasm into the cache first (repeatable)")
    ap.add_argument("-R", dest="regex", default="", help="only tests whose name matches")
    ap.add_argument("--timeout-factor", type=float, default=3.0,
                    help="ctest timeouts are stretched by this (first compiles are slow)")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    out = subprocess.run(["ctest", "-L", "e2e", "--show-only=json-v1"], cwd=build, check=True,
                         capture_output=True, text=True).stdout
    built_bin = os.path.join(build, "src/cli/enclave-os")
    binary = os.path.abspath(a.bin) if a.bin else built_bin
    cache = a.cache or tempfile.mkdtemp(prefix="eos-code-cache-")
    os.makedirs(cache, exist_ok=True)
    t_all = time.time()
    warm(binary, cache, a.warm or large_components(build))
    results = []
    for t in json.loads(out)["tests"]:
        name = t["name"]
        if a.regex and not re.search(a.regex, name):
            continue
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        env = dict(os.environ)
        for kv in props.get("ENVIRONMENT", []):
            k, _, v = kv.partition("=")
            env[k] = v.replace(built_bin, binary)
        if a.bin:  # `enclave-os build` finds its script next to the build's binary
            env.setdefault("EOS_BUILD_APP", os.path.join(ROOT, "scripts/build-app.sh"))
        env["EOS_E2E_TIER"] = "compiled"
        env["EOS_E2E_CODE_CACHE"] = cache
        cmd = [c.replace(built_bin, binary) for c in t["command"]]
        timeout = float(props.get("TIMEOUT", 1500)) * a.timeout_factor
        t0 = time.time()
        try:
            p = subprocess.run(cmd, cwd=props.get("WORKING_DIRECTORY", build), env=env,
                               capture_output=True, text=True, timeout=timeout)
            ok, tail = p.returncode == 0, (p.stdout + p.stderr)[-3000:]
        except subprocess.TimeoutExpired as e:
            ok, tail = False, "timed out after %.0f s\n" % timeout + str(e.stdout or "")[-2000:]
        dt = time.time() - t0
        results.append((name, ok, dt))
        print("%-32s %s %7.1f s" % (name, "passed" if ok else "FAILED", dt), flush=True)
        if not ok:
            print("    " + tail.replace("\n", "\n    "), flush=True)
    failed = [r for r in results if not r[1]]
    print("e2e on the compiled tier: %d passed, %d failed, %.0f s in all (cache %s)"
          % (len(results) - len(failed), len(failed), time.time() - t_all, cache))
    if not a.cache:
        shutil.rmtree(cache, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
