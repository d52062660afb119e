"""What a newcomer meets first: scripts/run.sh beside a server it did not
start, `verify` and `list` with several apps, the path an app sees by
hostname and by route, the Python test client beside an app of the same
name, and the guide's `jco serve` command."""
import hashlib
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from eosnet import EOS_BIN, Server, call, free_port, read_until_closed, tls_context

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
APPS = os.environ.get("EOS_APPS_DIR", os.path.join(ROOT, "build/tests/wasi/apps"))
HELLO = os.path.join(APPS, "hello.wasm")
MISBEHAVE = os.path.join(APPS, "misbehave.wasm")

pytestmark = pytest.mark.skipif(not os.path.exists(HELLO),
                                reason="test components not built (needs node + jco)")


def load(port, name, path, **extra):
    with open(path, "rb") as f:
        body = {"name": name, "bytes": list(f.read())}
    body.update(extra)
    return call(port, {"wasm_load": body})


def names(port):
    return [a["name"] for a in call(port, {"wasm_list": {}})["apps"]]


def run_cli(*args, timeout=60):
    return subprocess.run([EOS_BIN] + list(args), capture_output=True, text=True,
                          timeout=timeout)


def get(port, path, host):
    s = tls_context().wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                                  server_hostname=host)
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
               % (path, host)).encode())
    out = read_until_closed(s)
    s.close()
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("newcomer"), "--dev", "--workers", "2")
    yield srv
    assert srv.alive(), srv.output()
    assert srv.stop() == 0, srv.output()


def test_run_sh_leaves_a_server_it_did_not_start_alone(server):
    """A second run.sh on a busy address says so and exits 1; the server
    already there keeps its apps (it used to get the quick start's hello)."""
    port = server.port
    assert "hello" not in names(port)
    env = dict(os.environ, EOS_RUN_NO_BUILD="1", EOS_BIN=EOS_BIN, EOS_HELLO=HELLO)
    r = subprocess.run(["bash", os.path.join(ROOT, "scripts/run.sh"), "--listen",
                        "127.0.0.1:%d" % port, "--data-dir", str(server.log_path) + ".data"],
                       capture_output=True, text=True, timeout=120, env=env,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "already listens" in r.stderr, r.stderr
    assert server.alive()
    assert "hello" not in names(port), "run.sh loaded hello into a server it did not start"


def test_verify_lists_every_app_with_its_code_hash(server):
    port = server.port
    hashes = {}
    for name, path in (("nc-alpha", HELLO), ("nc-beta", MISBEHAVE)):
        assert load(port, name, path)["status"] == "loaded"
        with open(path, "rb") as f:
            hashes[name] = hashlib.sha256(f.read()).hexdigest()
    try:
        r = run_cli("verify", "127.0.0.1:%d" % port, "--allow-simulated")
        assert r.returncode == 0, r.stdout + r.stderr
        for name, h in hashes.items():
            assert re.search(r"%s\s+%s" % (name, h), r.stdout), r.stdout
        r = run_cli("verify", "127.0.0.1:%d" % port, "--allow-simulated", "--json")
        assert r.returncode == 0, r.stdout + r.stderr
        doc = json.loads(r.stdout)
        listed = {a["name"]: a for a in doc["apps"]}
        for name, h in hashes.items():
            assert listed[name]["code_hash"] == h and listed[name]["confirmed"] is True
    finally:
        for name in hashes:
            call(port, {"wasm_unload": {"name": name}})


def test_list_shows_exports_imports_and_full_code_hashes(server):
    port = server.port
    assert load(port, "nc-list", HELLO)["status"] == "loaded"
    try:
        r = run_cli("list", "-s", "127.0.0.1:%d" % port, "--allow-simulated")
        assert r.returncode == 0, r.stderr
        with open(HELLO, "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() in r.stdout, r.stdout
        assert re.search(r"exports\s+wasi:http/incoming-handler", r.stdout), r.stdout
        assert re.search(r"imports\s+.*wasi:http/types", r.stdout), r.stdout
    finally:
        call(port, {"wasm_unload": {"name": "nc-list"}})


def test_an_app_sees_the_same_path_by_hostname_and_by_route(server):
    """The route is taken off the path whether the app was found by its
    hostname or by its route (misbehave answers 201 "made" at /headers)."""
    port = server.port
    assert load(port, "nc-path", MISBEHAVE, route="/ncp",
                hostname="ncp.example")["status"] == "loaded"
    try:
        by_route = get(port, "/ncp/headers", "127.0.0.1")
        by_host = get(port, "/ncp/headers", "ncp.example")
        by_host_bare = get(port, "/headers", "ncp.example")
        for resp in (by_route, by_host, by_host_bare):
            assert resp.startswith(b"HTTP/1.1 201 "), resp[:200]
    finally:
        call(port, {"wasm_unload": {"name": "nc-path"}})


def test_python_client_keeps_an_app_of_the_same_name(server):
    """tests/test_wasm_functions.py neither replaces nor unloads someone else's app."""
    port = server.port
    assert load(port, "my-app", MISBEHAVE)["status"] == "loaded"
    try:
        before = [a for a in call(port, {"wasm_list": {}})["apps"] if a["name"] == "my-app"]
        r = subprocess.run([sys.executable, os.path.join(ROOT, "tests/test_wasm_functions.py"),
                            HELLO, "--port", str(port)], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        after = [a for a in call(port, {"wasm_list": {}})["apps"] if a["name"] == "my-app"]
        assert after == before
        r = subprocess.run([sys.executable, os.path.join(ROOT, "tests/test_wasm_functions.py"),
                            HELLO, "--port", str(port), "--name", "my-app"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 1 and "already loaded" in r.stdout, r.stdout
        after = [a for a in call(port, {"wasm_list": {}})["apps"] if a["name"] == "my-app"]
        assert after == before
    finally:
        call(port, {"wasm_unload": {"name": "my-app"}})


def guide_jco_command():
    with open(os.path.join(ROOT, "docs/build-a-wasm-app.md")) as f:
        text = f.read()
    m = re.search(r"`([^`]*jco serve [^`]*)`", text)
    assert m, "the guide shows no jco serve command"
    return m.group(1)


@pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, "tools/node_modules/.bin/jco")),
                    reason="jco is not installed in tools/")
def test_the_guides_jco_serve_command_works(tmp_path):
    """The guide's command, as written, from the repository's root, with the
    hello it names replaced by the one built here and a free port."""
    cmd = shlex.split(guide_jco_command())
    cmd = [HELLO if a.endswith("hello.wasm") else a for a in cmd]
    port = free_port()
    cmd[cmd.index("--port") + 1] = str(port)
    log = open(os.path.join(str(tmp_path), "jco.log"), "wb")
    try:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    except FileNotFoundError as e:
        pytest.fail("the guide's command does not run from the repository's root: %s" % e)
    try:
        body = None
        deadline = time.time() + 90
        while time.time() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen("http://localhost:%d/hello" % port, timeout=5) as r:
                    body = r.read()
                break
            except OSError:
                time.sleep(0.5)
        assert body is not None, open(log.name).read()
        assert b"Hello" in body
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=20)
        log.close()


def test_python_client_mirrors_the_typed_calls(server):
    """enclave_os_client.Client makes the C client's typed calls, and verify()
    reports every app with its code hash confirmed against the manifest."""
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import enclave_os_client as eos
    port = server.port
    with open(HELLO, "rb") as f:
        data = f.read()
    with eos.Client("127.0.0.1", port) as c:
        loaded = c.load("nc-py", data, route="/ncpy")
        assert loaded["status"] == "loaded" and loaded["app"]["route"] == "/ncpy"
        assert "nc-py" in [a["name"] for a in c.list()["apps"]]
        assert c.call("nc-py", "nothing")["status"] == "error"
        assert c.manifest()["status"] == "manifest"
    try:
        report = eos.verify("127.0.0.1", port, allow_simulated=True)
        apps = {a["name"]: a for a in report["apps"]}
        assert apps["nc-py"]["code_hash"] == hashlib.sha256(data).hexdigest()
        assert apps["nc-py"]["confirmed"] is True
    finally:
        with eos.Client("127.0.0.1", port) as c:
            assert c.unload("nc-py")["status"] == "unloaded"
