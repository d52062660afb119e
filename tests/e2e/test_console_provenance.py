"""Build provenance end to end: `enclave-os build` builds an example and writes
its provenance; uploaded with the component (the console's PUT), it is shown
by the apps endpoint and by `enclave-os list`, kept across a restart with
--persist-apps, replaced with the app, and dropped by a replacement that
brings none."""
import hashlib
import json
import os
import shutil
import subprocess

import pytest

from eosnet import EOS_BIN, Server
from test_server_apps import HELLO, TOKEN, body_of, get, hello_bytes, https

REPO = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))

pytestmark = pytest.mark.skipif(not os.path.exists(HELLO),
                                reason="test components not built (needs node + jco)")


def put(port, name, data, provenance=None):
    extra = ""
    if provenance is not None:
        extra = "x-enclave-os-provenance: %s\r\n" % json.dumps(provenance, sort_keys=True)
    head = ("PUT /.well-known/enclave-os/apps/%s HTTP/1.1\r\nHost: x\r\n"
            "Content-Length: %d\r\nx-enclave-os-route: /%s\r\nAuthorization: Bearer %s\r\n"
            "%sConnection: close\r\n\r\n" % (name, len(data), name, TOKEN, extra))
    return https(port, head.encode() + data, timeout=60)


def apps_of(port):
    r = get(port, "/.well-known/enclave-os/apps")
    assert r.startswith(b"HTTP/1.1 200 "), r[:200]
    return {a["name"]: a for a in json.loads(body_of(r))["apps"]}


def provenance_of(port, name):
    text = apps_of(port)[name].get("provenance")
    return json.loads(text) if text is not None else None


def cli_list(port):
    r = subprocess.run([EOS_BIN, "list", "-s", "127.0.0.1:%d" % port, "--allow-simulated",
                        "--token", TOKEN], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def serve(tmp_path):
    return Server(tmp_path, "--token", TOKEN, "--persist-apps", "--workers", "1")


def test_build_help():
    r = subprocess.run([EOS_BIN, "build", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "SOURCE_DATE_EPOCH" in r.stdout and "provenance" in r.stdout
    r = subprocess.run([EOS_BIN, "build"], capture_output=True, text=True)
    assert r.returncode == 2 and "missing SRC_DIR" in r.stderr
    r = subprocess.run([EOS_BIN, "build", "/nonexistent-dir"], capture_output=True, text=True)
    assert r.returncode == 1 and "not a directory" in r.stderr


@pytest.mark.skipif(not shutil.which("clang") or not os.path.exists("/usr/lib/wasm32-wasi/libc.a"),
                    reason="clang or wasi-libc missing (scripts/install-deps.sh)")
def test_build_command(tmp_path):
    out = tmp_path / "out"
    r = subprocess.run([EOS_BIN, "build", os.path.join(REPO, "examples", "hello"), "--out",
                        str(out), "--source-date-epoch", "1700000000"],
                       capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    data = (out / "hello.wasm").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert r.stdout.split()[0] == digest
    prov = json.loads((out / "hello.provenance.json").read_text())
    assert prov["output"]["sha256"] == digest and prov["source_date_epoch"] == 1700000000
    assert prov["language"] == "c" and len(prov["source"]["tree_sha256"]) == 64
    assert prov["toolchain"]["clang"] and prov["reproducible"] is True


def test_provenance_persists_and_follows_replacement(tmp_path):
    data = hello_bytes()
    digest = hashlib.sha256(data).hexdigest()
    first = {"format": "enclave-os-provenance/1", "app": "prov", "language": "c",
             "source": {"tree_sha256": "a" * 64}, "source_date_epoch": 1700000000,
             "toolchain": {"clang": "14.0.6"}, "output": {"sha256": digest}}
    second = dict(first, source={"tree_sha256": "b" * 64})

    srv = serve(tmp_path)
    try:
        r = put(srv.port, "prov", data, first)
        assert r.startswith(b"HTTP/1.1 200 "), r[:300]
        assert provenance_of(srv.port, "prov") == first
        listing = cli_list(srv.port)
        assert "a" * 64 in listing and "(the code hash)" in listing, listing
        # Not a JSON object: refused with the server's reason, nothing loaded.
        head = ("PUT /.well-known/enclave-os/apps/bad HTTP/1.1\r\nHost: x\r\n"
                "Content-Length: %d\r\nAuthorization: Bearer %s\r\n"
                "x-enclave-os-provenance: [1]\r\nConnection: close\r\n\r\n" % (len(data), TOKEN))
        r = https(srv.port, head.encode() + data, timeout=60)
        assert r.startswith(b"HTTP/1.1 400 ") and b"provenance" in r, r[:300]
        assert "bad" not in apps_of(srv.port)
    finally:
        assert srv.stop() == 0, srv.output()

    srv = serve(tmp_path)
    try:
        assert provenance_of(srv.port, "prov") == first, srv.output()
        assert body_of(get(srv.port, "/prov/hello")) == b"Hello from inside SGX!"
        assert put(srv.port, "prov", data, second).startswith(b"HTTP/1.1 200 ")
        assert provenance_of(srv.port, "prov") == second
    finally:
        assert srv.stop() == 0, srv.output()

    srv = serve(tmp_path)
    try:
        assert provenance_of(srv.port, "prov") == second
        # A replacement without provenance: the old one described other bytes.
        assert put(srv.port, "prov", data).startswith(b"HTTP/1.1 200 ")
        assert provenance_of(srv.port, "prov") is None
        assert "provenance" not in cli_list(srv.port)
    finally:
        assert srv.stop() == 0, srv.output()

    srv = serve(tmp_path)
    try:
        assert provenance_of(srv.port, "prov") is None
        assert "prov" in apps_of(srv.port)
    finally:
        assert srv.stop() == 0, srv.output()
