"""wasi:config values and secrets end to end: an app reads config given at
load and a secret put over verified RA-TLS; the secret never shows in the
server's log, metrics, list, manifest or certificate; its commitment in the
manifest changes when it changes; a restart keeps it; each change is in the
audit log. Needs the secret-config app (EOS_SECRET_APP)."""
import http.client
import json
import os
import subprocess

import pytest

from eosnet import EOS_BIN, SLOW, Server, tls_context

APP = os.environ.get("EOS_SECRET_APP", "")
SECRET = "s3cr3t-VALUE-7f41c2"
SECRET2 = "an0ther-VALUE-99d01e"

pytestmark = [
    pytest.mark.skipif(not APP or not os.path.exists(APP),
                       reason="the secret-config app was not built"),
    pytest.mark.skipif(os.environ.get("EOS_TSAN", "").upper() in ("ON", "1", "TRUE"),
                       reason="its 13 MB component takes minutes to load under ThreadSanitizer"),
]


def get(port, path):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=tls_context(), timeout=30 * SLOW)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read().decode(errors="replace"), dict(r.getheaders())
    finally:
        c.close()


def cli(port, *args, stdin=None):
    r = subprocess.run([EOS_BIN] + list(args) + ["-s", "127.0.0.1:%d" % port,
                                                 "--allow-simulated"],
                       input=stdin, capture_output=True, text=True, timeout=120 * SLOW)
    return r.returncode, r.stdout + r.stderr


def checksum(v):
    s = 0
    for ch in v:
        s = (s * 31 + ord(ch)) % 65521
    return "length=%d sum=%d" % (len(v), s)


def manifest(port):
    status, body, _ = get(port, "/.well-known/enclave-os/manifest")
    assert status == 200
    return {e["name"]: e["hash"] for e in json.loads(body)["entries"]}


def everything_visible(srv):
    """Every output a secret must never reach."""
    port = srv.port
    out = [srv.output()]
    out.append(get(port, "/.well-known/enclave-os/metrics")[1])
    out.append(get(port, "/.well-known/enclave-os/manifest")[1])
    out.append(get(port, "/.well-known/enclave-os/certificate")[1])
    out.append(get(port, "/.well-known/enclave-os/apps")[1])
    out.append(cli(port, "list")[1])
    out.append(cli(port, "list", "--json")[1])
    out.append(cli(port, "secret", "list", "sc")[1])
    out.append(cli(port, "secret", "list", "sc", "--json")[1])
    out.append(cli(port, "verify", "127.0.0.1:%d" % port)[1])
    return "\n".join(out)


def test_secret_config_end_to_end(tmp_path):
    srv = Server(tmp_path, "--dev", "--persist-apps", "--workers", "1")
    try:
        rc, out = cli(srv.port, "load", APP, "--name", "sc", "--route", "/sc",
                      "--config", "greeting=hello", "--config", "mode=test")
        assert rc == 0, out
        assert get(srv.port, "/sc/config/greeting")[:2] == (200, "hello")
        assert get(srv.port, "/sc/config/nothing")[0] == 404
        assert sorted(get(srv.port, "/sc/config")[1].split("\n")) == ["greeting=hello",
                                                                      "mode=test"]
        leaves = manifest(srv.port)
        assert "wasm.sc.config" in leaves
        assert get(srv.port, "/sc/secret/api-key")[0] == 404

        # Secrets go only to a verified server.
        rc, out = cli(srv.port, "secret", "put", "sc", "api-key", "--insecure", stdin=SECRET)
        assert rc == 2 and "--insecure" in out
        rc, out = cli(srv.port, "secret", "put", "sc", "api-key", stdin=SECRET + "\n")
        assert rc == 0, out
        assert get(srv.port, "/sc/secret/api-key")[:2] == (200, checksum(SECRET))
        first = manifest(srv.port)["wasm.sc.secret.api-key"]
        rc, out = cli(srv.port, "secret", "list", "sc")
        assert rc == 0 and "api-key" in out and SECRET not in out

        # Replaced: another commitment; the same value again: another salt.
        rc, out = cli(srv.port, "secret", "put", "sc", "api-key", stdin=SECRET2)
        assert rc == 0, out
        second = manifest(srv.port)["wasm.sc.secret.api-key"]
        assert second != first
        assert get(srv.port, "/sc/secret/api-key")[:2] == (200, checksum(SECRET2))

        seen = everything_visible(srv)
        for value in (SECRET, SECRET2):
            assert value not in seen
        log = srv.output()
        assert log.count("secret 'api-key'") >= 2 and "set by" in log
    finally:
        assert srv.stop() == 0

    # A restart keeps the secret, its commitment and the config.
    srv = Server(tmp_path, "--dev", "--persist-apps", "--workers", "1")
    try:
        assert get(srv.port, "/sc/secret/api-key")[:2] == (200, checksum(SECRET2))
        assert manifest(srv.port)["wasm.sc.secret.api-key"] == second
        assert get(srv.port, "/sc/config/greeting")[:2] == (200, "hello")
        rc, out = cli(srv.port, "secret", "delete", "sc", "api-key")
        assert rc == 0, out
        assert get(srv.port, "/sc/secret/api-key")[0] == 404
        assert "wasm.sc.secret.api-key" not in manifest(srv.port)
        assert "deleted by" in srv.output()
        for value in (SECRET, SECRET2):
            assert value not in everything_visible(srv)
    finally:
        assert srv.stop() == 0
