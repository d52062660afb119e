#!/usr/bin/python3
"""The WASI test suite's preview1 programs (../shared/wasi-testsuite, see
../shared/TEST-DATA.md) through wasi:cli/run on a real server.

Each program is wrapped into a component with the pinned jco's preview1
command adapter (tools/wrap-preview1.mjs, cached in --work), loaded as an app
with the test's environment, called as "wasi:cli/run@0.2.0#run" with its
command line (the program's file name as argv[0], then the test's args), and
judged by its exit code and stdout (the app's stdout lines in the server's
log) against the test's .json. As `wasmtime run --env K=V --dir ROOT::/`
would run it:

- the call asks for the load's env alone ("no_app_env": no APP_NAME or
  APP_VERSION, which the programs that check their exact environ would see);
- a test with a "root" directory gets its files in the app's "/" preopen
  first: seed_fs.c (built here with clang for wasm32-wasi, wrapped the same
  way) runs under the app's name and writes them, the app is unloaded
  keeping its data, and the test program is loaded in its place;
- a test without one gets no preopen at all ("no_preopen"), so fd 3 is free
  as the programs expect.

The app is then unloaded with its data, so every program starts afresh.

    run.py --bin build/src/cli/enclave-os [--suite DIR] [--work DIR]
           [--expect FILE] [--only NAME...]

Prints one line per program and "passed P/T"; exits 1 when a program's
result differs from the expectations file (a known failure that passes, or
a failure not listed), 77 when the suite or node is missing."""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..")
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

RUN = "wasi:cli/run@0.2.0#run"


def read_expectations(path):
    """NAME  reason... lines; '#' starts a comment."""
    out = {}
    if not path or not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                name, _, reason = line.partition(" ")
                out[name] = reason.strip()
    return out


def programs(suite):
    found = []
    for wasm in sorted(glob.glob(os.path.join(suite, "tests", "*", "testsuite",
                                              "wasm32-wasip1", "*.wasm"))):
        lang = wasm.split(os.sep)[-4]
        name = "%s/%s" % (lang, os.path.basename(wasm)[:-5])
        spec = {}
        js = wasm[:-5] + ".json"
        if os.path.exists(js):
            with open(js) as f:
                spec = json.load(f)
        found.append((name, wasm, spec))
    return found


def wrap(progs, work):
    todo = []
    for name, wasm, _ in progs:
        out = os.path.join(work, name.replace("/", "__") + ".wasm")
        if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(wasm):
            todo += [wasm, out]
    if todo:
        r = subprocess.run(["node", os.path.join(ROOT, "tools", "wrap-preview1.mjs")] + todo,
                           capture_output=True, text=True)
        if r.returncode:
            sys.stderr.write(r.stderr)
    return {name: os.path.join(work, name.replace("/", "__") + ".wasm") for name, _, _ in progs}


def build_seeder(work):
    """seed_fs.c as a wrapped command component, or None without clang."""
    core = os.path.join(work, "seed_fs.core.wasm")
    out = os.path.join(work, "seed_fs.wasm")
    src = os.path.join(HERE, "seed_fs.c")
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(src):
        return out
    r = subprocess.run(["clang", "--target=wasm32-wasi", "--sysroot=/usr", "-O2",
                        "-Wl,--strip-all", "-o", core, src], capture_output=True, text=True)
    if r.returncode:
        sys.stderr.write(r.stderr)
        return None
    r = subprocess.run(["node", os.path.join(ROOT, "tools", "wrap-preview1.mjs"), core, out],
                       capture_output=True, text=True)
    if r.returncode:
        sys.stderr.write(r.stderr)
        return None
    return out


def seed_args(root):
    """seed_fs's arguments for the tree under root, parents first."""
    args = ["seed_fs"]
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel = os.path.relpath(dirpath, root)
        if rel != ".":
            args.append("d:" + rel)
        for f in sorted(filenames):
            path = f if rel == "." else os.path.join(rel, f)
            with open(os.path.join(dirpath, f), "rb") as fh:
                args.append("f:%s:%s" % (path, fh.read().hex()))
    return args


def stdout_of(log, app, start, stream="stdout"):
    tag = "[app] [%s] %s: " % (app, stream)
    lines = []
    for line in log[start:].splitlines():
        at = line.find(tag)
        if at >= 0:
            lines.append(line[at + len(tag):])
    return "\n".join(lines)


def seed(c, app, seeder, root):
    """Writes root's files into app's store through seeder; "" or why not."""
    if not seeder:
        return "no seed_fs (clang for wasm32-wasi missing)"
    with open(seeder, "rb") as f:
        r = c.load(app, f.read())
    if r.get("status") != "loaded":
        return "seed load: %s" % r.get("message")
    r = c.call(app, RUN, args=seed_args(root))
    c.unload(app)
    if r.get("status") != "ok":
        return "seed: %s" % (r.get("message") or r)
    return ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--suite", default=os.path.join(ROOT, "..", "shared", "wasi-testsuite"))
    ap.add_argument("--work", default=None)
    ap.add_argument("--expect", default=os.path.join(HERE, "expected-failures.txt"))
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    if not os.path.isdir(os.path.join(args.suite, "tests")) or not shutil.which("node"):
        print("SKIP: no wasi-testsuite at %s or no node" % args.suite)
        return 77
    os.environ["EOS_BIN"] = args.bin
    import enclave_os_client as eos
    from eosnet import Server

    progs = [p for p in programs(args.suite) if not args.only or p[0] in args.only]
    work = args.work or tempfile.mkdtemp(prefix="eos-wasi-ts-")
    os.makedirs(work, exist_ok=True)
    comps = wrap(progs, work)
    seeder = build_seeder(work)
    expect = read_expectations(args.expect)
    tmp = tempfile.mkdtemp(prefix="eos-wasi-ts-srv-")
    srv = Server(tmp, "--dev", "--workers", "1")
    passed, unexpected = 0, []
    try:
        with eos.Client("127.0.0.1", srv.port) as c:
            for i, (name, wasm, spec) in enumerate(progs):
                app = "wt%d" % i
                why = ""
                comp = comps[name]
                if not os.path.exists(comp):
                    why = "not wrapped"
                elif spec.get("root"):
                    why = seed(c, app, seeder, os.path.join(os.path.dirname(wasm), spec["root"]))
                if not why:
                    with open(comp, "rb") as f:
                        r = c.load(app, f.read(), env=spec.get("env") or None)
                    if r.get("status") != "loaded":
                        why = "load: %s" % r.get("message")
                if not why:
                    start = len(srv.output())
                    argv = [os.path.basename(wasm)] + list(spec.get("args", []))
                    r = c.call(app, RUN, args=argv, no_app_env=True,
                               no_preopen=not spec.get("root"))
                    if r.get("status") == "exited":
                        code = r["exit_code"]
                    elif r.get("status") == "ok":
                        code = 0 if r["returns"] == [{"ok": None}] else 1
                    else:
                        code = None
                        why = "call: %s" % r.get("message")
                    want = spec.get("exit_code", 0)
                    if code is not None and code != want:
                        why = "exit code %s, expected %s" % (code, want)
                    if not why and "stdout" in spec:
                        got = stdout_of(srv.output(), app, start)
                        if got != spec["stdout"].rstrip("\n"):
                            why = "stdout %r, expected %r" % (got[:80], spec["stdout"][:80])
                    if why:
                        err = stdout_of(srv.output(), app, start, "stderr")
                        if err:
                            why += " (stderr: %s)" % " | ".join(err.splitlines()[:6])[:240]
                    c.unload(app, erase=True)
                ok = not why
                passed += ok
                known = name in expect
                mark = "PASS" if ok else ("XFAIL" if known else "FAIL")
                if ok and known:
                    mark = "XPASS"
                if ok == known:
                    unexpected.append(name)
                print("%-5s %s%s" % (mark, name, "" if ok else ": " + why), flush=True)
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print("passed %d/%d" % (passed, len(progs)))
    if unexpected:
        print("differs from %s: %s" % (os.path.basename(args.expect), " ".join(unexpected)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
