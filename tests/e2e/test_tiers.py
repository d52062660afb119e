"""serve --tier: the C hello example compiled to native code before its load
answers (--tier compiled), and interpreted at once then compiled in the
background (--tier auto); list, the well-known apps document and the metrics
show each app's tier, compile state and compile time."""
import json
import os
import re
import subprocess
import time

import pytest

from eosnet import EOS_BIN, Server, free_port
from test_server_apps import body_of, get, https, load

HELLO = os.environ.get("EOS_HELLO_WASM", "")

pytestmark = [
    pytest.mark.skipif(not HELLO or not os.path.exists(HELLO),
                       reason="the hello example is not built (needs wasi-sdk)"),
    pytest.mark.skipif(os.environ.get("EOS_HAVE_JIT", "ON") != "ON",
                       reason="this build has no compiled tier (no LLVM, or ThreadSanitizer)"),
]


def hello_bytes():
    with open(HELLO, "rb") as f:
        return f.read()


def jit_server(tmp_path, tier):
    srv = Server(tmp_path, "--dev", "--workers", "2", "--tier", tier)
    if "no compiled tier" in srv.output():
        srv.stop()
        pytest.skip("built without LLVM")
    return srv


def listed(port, name):
    apps = json.loads(body_of(get(port, "/.well-known/enclave-os/apps")))["apps"]
    return next(a for a in apps if a["name"] == name)


def metrics(port):
    return body_of(get(port, "/.well-known/enclave-os/metrics")).decode()


def test_compiled(tmp_path):
    srv = jit_server(tmp_path, "compiled")
    try:
        assert "execution tier: compiled" in srv.output()
        reply = load(srv.port, "hello", hello_bytes())
        assert reply["status"] == "loaded", reply
        assert body_of(get(srv.port, "/hello/hello")) == b"Hello from inside SGX!"
        app = listed(srv.port, "hello")
        assert app["tier"] == "compiled" and app["compile"] == "ready", app
        assert app["compile_ms"] > 0
        text = subprocess.run([EOS_BIN, "list", "-s", "127.0.0.1:%d" % srv.port,
                               "--allow-simulated"], capture_output=True,
                              text=True, timeout=30)
        assert text.returncode == 0, text.stderr
        assert re.search(r"tier\s+compiled \(compiled in [0-9.]+ ms\)", text.stdout), text.stdout
        js = subprocess.run([EOS_BIN, "list", "-s", "127.0.0.1:%d" % srv.port,
                             "--allow-simulated", "--json"],
                            capture_output=True, text=True, timeout=30)
        assert json.loads(js.stdout)["apps"][0]["compile"] == "ready"
        m = metrics(srv.port)
        assert 'enclave_os_app_tier{app="hello",tier="compiled",compile="ready"} 1' in m, m
        secs = re.search(r'enclave_os_app_compile_seconds\{app="hello"\} ([0-9.]+)', m)
        assert secs and float(secs.group(1)) > 0, m
    finally:
        assert srv.stop() == 0, srv.output()


def test_auto_answers_at_once_then_compiles(tmp_path):
    srv = jit_server(tmp_path, "auto")
    try:
        assert "execution tier: auto" in srv.output()
        reply = load(srv.port, "hello", hello_bytes())
        assert reply["status"] == "loaded", reply
        # The interpreter serves while the compiler works.
        assert body_of(get(srv.port, "/hello/hello")) == b"Hello from inside SGX!"
        app = listed(srv.port, "hello")
        assert app["tier"] == "auto" and app["compile"] in ("pending", "ready"), app
        deadline = time.time() + 60
        while app["compile"] == "pending" and time.time() < deadline:
            time.sleep(0.1)
            app = listed(srv.port, "hello")
        assert app["compile"] == "ready" and app["compile_ms"] > 0, app
        assert body_of(get(srv.port, "/hello/hello")) == b"Hello from inside SGX!"
        assert 'tier="auto",compile="ready"' in metrics(srv.port)
    finally:
        assert srv.stop() == 0, srv.output()


def test_interp_and_bad_tier(tmp_path):
    srv = Server(tmp_path, "--dev", "--tier", "interp")
    try:
        load(srv.port, "hello", hello_bytes())
        app = listed(srv.port, "hello")
        assert app["tier"] == "interp" and app["compile"] == "none", app
    finally:
        assert srv.stop() == 0, srv.output()
    bad = subprocess.run([EOS_BIN, "serve", "--tier", "fast"], capture_output=True, text=True,
                         timeout=30)
    assert bad.returncode == 2 and "--tier wants auto, interp or compiled" in bad.stderr


def cache_files(tmp_path):
    d = os.path.join(str(tmp_path), "data", "code-cache")
    return sorted(os.path.join(d, f) for f in os.listdir(d)) if os.path.isdir(d) else []


def persisted_server(tmp_path):
    return Server(tmp_path, "--dev", "--workers", "2", "--tier", "compiled", "--persist-apps")


def test_code_cache_across_restarts(tmp_path):
    """A restart with --persist-apps links the sealed code instead of compiling;
    a corrupted entry is rejected, compiled again and replaced."""
    srv = persisted_server(tmp_path)
    try:
        assert load(srv.port, "hello", hello_bytes())["status"] == "loaded"
        first = listed(srv.port, "hello")
        assert first["compiled_from"] == "compiler", first
        assert 'enclave_os_app_code_from_cache{app="hello"} 0' in metrics(srv.port)
    finally:
        assert srv.stop() == 0, srv.output()
    entries = cache_files(tmp_path)
    assert entries, "nothing in the code cache"
    with open(entries[0], "rb") as f:
        sealed = f.read()

    srv = persisted_server(tmp_path)
    try:
        app = listed(srv.port, "hello")
        assert app["compile"] == "ready" and app["compiled_from"] == "cache", app
        # Linking the cached objects costs a fraction of compiling them.
        assert app["compile_ms"] < first["compile_ms"], (app, first)
        assert 'enclave_os_app_code_from_cache{app="hello"} 1' in metrics(srv.port)
        assert "linked from the code cache" in srv.output()
        assert body_of(get(srv.port, "/hello/hello")) == b"Hello from inside SGX!"
        text = subprocess.run([EOS_BIN, "list", "-s", "127.0.0.1:%d" % srv.port,
                               "--allow-simulated"], capture_output=True, text=True, timeout=30)
        assert re.search(r"tier\s+compiled \(from cache in [0-9.]+ ms\)", text.stdout), text.stdout
    finally:
        assert srv.stop() == 0, srv.output()

    # One flipped bit: the entry fails to unseal and is never run.
    bad = bytearray(sealed)
    bad[len(bad) // 2] ^= 0x01
    with open(entries[0], "wb") as f:
        f.write(bytes(bad))
    srv = persisted_server(tmp_path)
    try:
        app = listed(srv.port, "hello")
        assert app["compile"] == "ready" and app["compiled_from"] == "compiler", app
        assert "failed its integrity check" in srv.output()
        assert body_of(get(srv.port, "/hello/hello")) == b"Hello from inside SGX!"
    finally:
        assert srv.stop() == 0, srv.output()
    with open(entries[0], "rb") as f:
        assert f.read() != bytes(bad), "the rejected entry was not replaced"


def test_shared_code_cache(tmp_path):
    """serve --code-cache DIR: two servers with their own data directories share
    one cache; the second links what the first compiled, and nothing goes to
    either data directory's own cache."""
    shared = os.path.join(str(tmp_path), "shared-cache")
    for i, want in enumerate(("compiler", "cache")):
        (tmp_path / ("s%d" % i)).mkdir()
        srv = Server(tmp_path / ("s%d" % i), "--dev", "--workers", "2", "--tier", "compiled",
                     "--code-cache", shared)
        try:
            assert load(srv.port, "hello", hello_bytes())["status"] == "loaded"
            app = listed(srv.port, "hello")
            assert app["compile"] == "ready" and app["compiled_from"] == want, app
            assert body_of(get(srv.port, "/hello/hello")) == b"Hello from inside SGX!"
        finally:
            assert srv.stop() == 0, srv.output()
        assert not cache_files(tmp_path / ("s%d" % i))
    assert any(f.endswith(".sealed") for f in os.listdir(shared))


def test_tier_per_app(tmp_path):
    """load --tier, the framed protocol's "tier" and the PUT's x-enclave-os-tier
    choose an app's tier over the server's."""
    srv = Server(tmp_path, "--dev", "--workers", "2", "--tier", "interp")
    try:
        path = os.path.join(str(tmp_path), "hello.wasm")
        with open(path, "wb") as f:
            f.write(hello_bytes())
        r = subprocess.run([EOS_BIN, "load", "-s", "127.0.0.1:%d" % srv.port,
                            "--allow-simulated", "--name", "c", "--tier", "compiled", path],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        app = listed(srv.port, "c")
        assert app["tier"] == "compiled" and app["compile"] == "ready", app
        assert body_of(get(srv.port, "/c/hello")) == b"Hello from inside SGX!"

        assert load(srv.port, "a", hello_bytes(), tier="auto")["status"] == "loaded"
        assert listed(srv.port, "a")["tier"] == "auto"
        assert load(srv.port, "i", hello_bytes())["status"] == "loaded"
        assert listed(srv.port, "i")["tier"] == "interp"
        reply = load(srv.port, "x", hello_bytes(), tier="fast")
        assert reply["code"] == "invalid_request" and "tier" in reply["message"], reply

        data = hello_bytes()
        head = ("PUT /.well-known/enclave-os/apps/p HTTP/1.1\r\nHost: x\r\n"
                "Content-Length: %d\r\nx-enclave-os-tier: compiled\r\nConnection: close\r\n\r\n"
                % len(data))
        r = https(srv.port, head.encode() + data, timeout=120)
        assert r.startswith(b"HTTP/1.1 200 "), r[:300]
        app = listed(srv.port, "p")
        assert app["tier"] == "compiled" and app["compile"] == "ready", app
        head = head.replace("compiled", "fast").replace("/apps/p", "/apps/q")
        r = https(srv.port, head.encode() + data, timeout=60)
        assert b"x-enclave-os-tier" in r, r[:300]
        m = metrics(srv.port)
        assert 'enclave_os_app_tier{app="c",tier="compiled",compile="ready"} 1' in m, m
        assert 'enclave_os_app_tier{app="i",tier="interp",compile="none"} 1' in m, m
        text = subprocess.run([EOS_BIN, "list", "-s", "127.0.0.1:%d" % srv.port,
                               "--allow-simulated"], capture_output=True, text=True, timeout=30)
        assert re.search(r"tier\s+compiled \(compiled in", text.stdout), text.stdout
    finally:
        assert srv.stop() == 0, srv.output()


def test_guard_bounds(tmp_path):
    """--bounds-checks guard: compiled code without compares, the same
    answers and traps; refused clearly where the build cannot (sanitizers)."""
    bad = subprocess.run([EOS_BIN, "serve", "--bounds-checks", "fences"], capture_output=True,
                         text=True, timeout=30)
    assert bad.returncode == 2 and "--bounds-checks wants explicit or guard" in bad.stderr
    if os.environ.get("EOS_SANITIZED") in ("1", "ON", "asan", "tsan"):
        srv = None
        args = [EOS_BIN, "serve", "--listen", "127.0.0.1:%d" % free_port(), "--tee", "sim", "--tier", "compiled",
                "--bounds-checks", "guard", "--data-dir", os.path.join(str(tmp_path), "d")]
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        assert r.returncode == 1 and "--bounds-checks guard is not possible" in r.stderr, r.stderr
        return
    srv = Server(tmp_path, "--dev", "--workers", "2", "--tier", "compiled",
                 "--bounds-checks", "guard")
    try:
        assert "bounds checks of compiled code: guard" in srv.output(), srv.output()
        reply = load(srv.port, "hello", hello_bytes())
        assert reply["status"] == "loaded", reply
        for _ in range(3):
            assert body_of(get(srv.port, "/hello/hello")) == b"Hello from inside SGX!"
        assert listed(srv.port, "hello")["tier"] == "compiled"
    finally:
        assert srv.stop() == 0, srv.output()
