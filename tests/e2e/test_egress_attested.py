"""Attested outbound calls between two enclave-os servers on loopback: an app
whose allow-list says `;attested` reaches a peer only when the peer's RA-TLS
certificate verifies and, with `code=` or `root=`, runs the pinned code or
configuration; otherwise the call gets HTTP-request-denied and the log names
the rule. Also the egress CA bundle's leaf (core.outbound_ca) and each app's
wasm.NAME.outbound leaf as `enclave-os verify` shows them."""
import hashlib
import json
import os
import subprocess

import pytest

from eosnet import EOS_BIN, Server, body_of, call, connect, data_request, inner, request
from test_server_apps import get, https

APPS = os.environ.get("EOS_APPS_DIR", "")
EGRESS = os.path.join(APPS, "egress-js.wasm")
HELLO = os.path.join(APPS, "hello.wasm")
MISBEHAVE = os.path.join(APPS, "misbehave.wasm")

pytestmark = pytest.mark.skipif(not (os.path.exists(EGRESS) and os.path.exists(HELLO)),
                                reason="egress-js or hello component not built")


def put(port, name, path, rules):
    """Loads with a management PUT: the 13 MB JavaScript app goes as bytes,
    not as a JSON array of numbers."""
    with open(path, "rb") as f:
        data = f.read()
    head = ("PUT /.well-known/enclave-os/apps/%s HTTP/1.1\r\nHost: x\r\n"
            "Content-Length: %d\r\nx-enclave-os-route: /%s\r\n"
            "x-enclave-os-allow-outbound: %s\r\nConnection: close\r\n\r\n"
            % (name, len(data), name, ", ".join(rules)))
    r = https(port, head.encode() + data, timeout=240)
    assert r.startswith(b"HTTP/1.1 200 "), r[:300]
    return json.loads(body_of(r))["app"]


def load(port, name, path):
    with open(path, "rb") as f:
        doc = {"name": name, "route": "/" + name, "bytes": list(f.read())}
    reply = call(port, {"wasm_load": doc})
    assert reply["status"] == "loaded", reply
    return reply["app"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A CA bundle for --outbound-ca (any self-signed CA will do)."""
    d = tmp_path_factory.mktemp("ca")
    key, pem = str(d / "ca.key"), str(d / "ca.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", pem,
                    "-subj", "/CN=egress test CA", "-days", "2"],
                   check=True, capture_output=True)
    return pem


def peer_server(tmp_path_factory, name, app):
    srv = Server(tmp_path_factory.mktemp(name), "--dev", "--workers", "1")
    info = load(srv.port, "hello", app)
    return srv, info["code_hash"]


def root_of(port):
    v = subprocess.run([EOS_BIN, "verify", "127.0.0.1:%d" % port, "--allow-simulated",
                        "--json"], capture_output=True, text=True, timeout=60)
    assert v.returncode == 0, v.stdout + v.stderr
    return json.loads(v.stdout)["merkle_root"]


@pytest.fixture(scope="module")
def peers(tmp_path_factory):
    """The callees: two servers running hello, one running other code under
    the same name."""
    made = [peer_server(tmp_path_factory, "peer1", HELLO),
            peer_server(tmp_path_factory, "peer2", HELLO),
            peer_server(tmp_path_factory, "other", MISBEHAVE)]
    yield made
    for srv, _ in made:
        assert srv.alive(), srv.output()
        assert srv.stop() == 0, srv.output()


@pytest.fixture(scope="module")
def caller(tmp_path_factory, bundle, peers):
    """The calling server and its one app (loading the JavaScript app is the
    slow part, so one app holds every rule: they differ by host and port)."""
    srv = Server(tmp_path_factory.mktemp("caller"), "--dev", "--workers", "2",
                 "--outbound-ca", bundle)
    (p1, code), (p2, _), (p3, _) = peers
    rules = {
        # the pinned code answers
        "ok": "https://127.0.0.1:%d;attested;simulated;code=%s" % (p1.port, code),
        # simulated evidence only where the rule says so
        "nosim": "https://localhost:%d;attested;code=%s" % (p1.port, code),
        # the configuration root pins the whole peer
        "root": "https://127.0.0.1:%d;attested;simulated;root=%s" % (p2.port, root_of(p2.port)),
        "wrongroot": "https://localhost:%d;attested;simulated;root=%s" % (p2.port, "00" * 32),
        # other code under the same app name
        "other": "https://127.0.0.1:%d;attested;simulated;code=%s" % (p3.port, code),
        # a plain https rule: the peer's RA-TLS chain is not in the CA bundle
        "plain": "https://localhost:%d" % p3.port,
        "api": "https://api.example.com",
    }
    app = put(srv.port, "px", EGRESS, list(rules.values()))
    assert app["allow_outbound"] == list(rules.values())
    yield srv, rules
    assert srv.alive(), srv.output()
    assert srv.stop() == 0, srv.output()


def fetch(srv, url):
    r = get(srv.port, "/px/fetch?u=" + url)
    return r.split(b" ", 2)[1], body_of(r)


def refused(srv, rule, url, step):
    status, body = fetch(srv, url)
    assert status == b"502", body
    log = srv.output()
    line = ("[px] outbound call to %s denied (HTTP-request-denied): the peer fails attested "
            "rule '%s': RA-TLS step \"%s\"" % (url, rule, step))
    assert line in log, log[-3000:]


def test_attested_peer_accepted_and_refused(peers, caller):
    srv, rules = caller
    (p1, _), (p2, _), (p3, _) = peers
    status, body = fetch(srv, "https://127.0.0.1:%d/hello/hello" % p1.port)
    assert status == b"200", body
    assert body == b"HELLO FROM INSIDE SGX!"
    status, body = fetch(srv, "https://127.0.0.1:%d/hello/hello" % p2.port)
    assert status == b"200", body
    refused(srv, rules["other"], "https://127.0.0.1:%d/hello/hello" % p3.port, "code-hash")
    refused(srv, rules["wrongroot"], "https://localhost:%d/hello/hello" % p2.port,
            "expect-root")
    refused(srv, rules["nosim"], "https://localhost:%d/hello/hello" % p1.port, "simulated")
    status, _ = fetch(srv, "https://localhost:%d/hello/hello" % p3.port)
    assert status == b"502"
    assert "TLS-certificate-error" in srv.output()
    metrics = body_of(get(srv.port, "/.well-known/enclave-os/metrics")).decode()
    assert 'enclave_os_app_outbound_calls_total{app="px"} 6' in metrics
    assert 'enclave_os_app_outbound_denied_total{app="px"} 3' in metrics


def test_verify_shows_the_bundle_and_outbound_leaves(caller, bundle):
    srv, rules = caller
    v = subprocess.run([EOS_BIN, "verify", "127.0.0.1:%d" % srv.port, "--allow-simulated"],
                       capture_output=True, text=True, timeout=60)
    assert v.returncode == 0, v.stdout + v.stderr
    want = hashlib.sha256(open(bundle, "rb").read()).hexdigest()
    assert "outbound CA     %s" % want in v.stdout, v.stdout
    assert "outbound: %s  (ok: the manifest's wasm.NAME.outbound)" % rules["ok"] \
        in v.stdout, v.stdout
    assert rules["api"] in v.stdout
    v = subprocess.run([EOS_BIN, "verify", "127.0.0.1:%d" % srv.port, "--allow-simulated",
                        "--json"], capture_output=True, text=True, timeout=60)
    doc = json.loads(v.stdout)
    assert doc["outbound_ca"] == want
    px = [a for a in doc["apps"] if a["name"] == "px"][0]
    assert px["outbound"] == "\n".join(rules.values()) and px["confirmed"]
    # the leaf's input is the rules' canonical JSON array (SPEC 5.2)
    with connect(srv.port) as s:
        manifest = inner(request(s, data_request({"config_manifest": {}})))
    leaf = [e for e in manifest["entries"] if e["name"] == "wasm.px.outbound"]
    assert leaf and leaf[0]["hash"] == \
        hashlib.sha256(json.dumps(list(rules.values()), separators=(",", ":")).encode()).hexdigest()
    ca = [e for e in manifest["entries"] if e["name"] == "core.outbound_ca"]
    # core.outbound_ca's input is the bundle's SHA-256
    assert ca and ca[0]["hash"] == hashlib.sha256(bytes.fromhex(want)).hexdigest()


def test_no_bundle_no_leaf(peers):
    """Without --outbound-ca the server trusts the system's bundle and the
    configuration has no core.outbound_ca leaf (roots stay as they were)."""
    srv, _ = peers[0]
    v = subprocess.run([EOS_BIN, "verify", "127.0.0.1:%d" % srv.port, "--allow-simulated"],
                       capture_output=True, text=True, timeout=60)
    assert v.returncode == 0, v.stdout + v.stderr
    assert "outbound CA     the system's bundle" in v.stdout, v.stdout


SGX_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared",
                        "evidence-samples", "intel_sgx_root_ca.pem")


@pytest.mark.skipif(not os.path.exists(SGX_ROOT), reason="../shared/evidence-samples missing")
def test_peer_anchors_are_committed(tmp_path):
    """serve --peer-sgx-root-ca: hardware peers' quotes are checked under the
    given root, and the configuration commits to it (core.peer_anchors is
    SHA-256 of "sgx_root_ca=<SHA-256 of the file>\\n"); a missing file is a
    usage error, not a server that trusts nothing."""
    (tmp_path / "a").mkdir()
    srv = Server(tmp_path / "a", "--dev", "--workers", "1", "--peer-sgx-root-ca", SGX_ROOT)
    try:
        manifest = call(srv.port, {"config_manifest": {}})
        leaf = [e for e in manifest["entries"] if e["name"] == "core.peer_anchors"]
        doc = "sgx_root_ca=%s\n" % hashlib.sha256(open(SGX_ROOT, "rb").read()).hexdigest()
        assert leaf and leaf[0]["hash"] == hashlib.sha256(doc.encode()).hexdigest(), manifest
    finally:
        assert srv.stop() == 0, srv.output()
    bad = subprocess.run([EOS_BIN, "serve", "--dev", "--data-dir", str(tmp_path / "b"),
                          "--listen", "127.0.0.1:0", "--peer-sgx-root-ca",
                          str(tmp_path / "missing.pem")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "cannot read the peer trust anchor" in bad.stderr, bad.stderr
