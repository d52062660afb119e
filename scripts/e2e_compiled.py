#!/usr/bin/env python3
"""The end-to-end suite (ctest label e2e, examples.e2e included) with every
server on the compiled tier and one shared code cache, so that each module is
compiled once and later servers link it. Run by hand (docs/operations.md):

    scripts/e2e_compiled.py [--build build] [--bin COPY] [--cache DIR] [-R REGEX]

--bin runs a copy of the binary (the build directory may then be rebuilt
while the suite runs). Prints each test's result and time, then a summary."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--bin", help="run this enclave-os instead of the build's")
    ap.add_argument("--cache", help="the shared code cache (default: a fresh temporary dir)")
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
    results = []
    t_all = time.time()
    for t in json.loads(out)["tests"]:
        name = t["name"]
        if a.regex and not re.search(a.regex, name):
            continue
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        env = dict(os.environ)
        for kv in props.get("ENVIRONMENT", []):
            k, _, v = kv.partition("=")
            env[k] = v.replace(built_bin, binary)
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
