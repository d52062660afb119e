"""The Python client against the loopback RA-TLS test server: handshake with
Python's ssl, report-data binding, extensions, simulated quote, manifest."""

import hashlib
import os
import subprocess
import tempfile

import pytest

import enclave_os_client as c

SERVER = os.environ.get("EOS_RATLS_TEST_SERVER")
CODE = bytes([0xAB] * 32)


@pytest.fixture(scope="module")
def server():
    if not SERVER:
        pytest.skip("EOS_RATLS_TEST_SERVER not set")
    d = tempfile.mkdtemp(prefix="eos-py-")
    p = subprocess.Popen([SERVER, "--data-dir", d, "--app", "shop:/shop::" + CODE.hex()],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = int(p.stdout.readline().split()[1])
    yield port, d
    p.kill()
    p.wait()


def test_verify_simulated(server):
    port, _ = server
    r = c.verify("127.0.0.1", port, allow_simulated=True, require_manifest=True,
                 expect_code_hashes={"shop": CODE})
    assert r["tee"] == "sim" and r["simulated"]
    assert r["manifest_checked"]
    assert r["app"]["name"] == "shop" and r["app"]["route"] == "/shop"


def test_refuses_simulation_by_default(server):
    port, _ = server
    with pytest.raises(c.VerificationError) as e:
        c.verify("127.0.0.1", port)
    assert e.value.step == "simulated"


def test_expect_root(server):
    port, _ = server
    r = c.verify("127.0.0.1", port, allow_simulated=True)
    root = bytes.fromhex(r["config_root"])
    c.verify("127.0.0.1", port, allow_simulated=True, expect_root=root)
    with pytest.raises(c.VerificationError) as e:
        c.verify("127.0.0.1", port, allow_simulated=True, expect_root=bytes(32))
    assert e.value.step == "expect-root"
    with pytest.raises(c.VerificationError) as e:
        c.verify("127.0.0.1", port, allow_simulated=True, expect_code_hashes={"shop": bytes(32)})
    assert e.value.step == "code-hash"


def test_certificate_contents(server):
    port, _ = server
    with c.connect("127.0.0.1", port) as s:
        assert s.version() == "TLSv1.3"
        info = c.certificate_info(s.getpeercert(binary_form=True))
        manifest = c.fetch_manifest(s)
    oid, ev = info["evidence"][0]
    assert oid == c.OID_SGX_QUOTE
    assert not any(info["critical"].values())
    sim = c.parse_sim_evidence(ev)
    assert sim["tee_name"] == "sim"
    assert sim["report_data"] == c.report_data(info["spki"], c.time_binding(info["not_before"]))
    entries, stated, computed = c.parse_manifest(manifest)
    assert stated == computed == info["config_root"]
    names = [n for n, _ in entries]
    assert names[:2] == ["core.ca_cert", "core.tee"]
    assert names[-4:] == ["wasm.shop.code_hash", "wasm.shop.route", "wasm.shop.hostname",
                          "wasm.shop.env"]
    assert dict(entries)["wasm.shop.code_hash"] == hashlib.sha256(CODE).digest()
    assert dict(entries)["wasm.shop.hostname"] == bytes(32)
    apps = hashlib.sha256(b"shop" + CODE).digest()
    assert info["apps_hash"] == apps


def test_ca_file_anchors_chain(server):
    port, d = server
    # The wrong anchor fails the handshake's chain check.
    other = os.path.join(d, "other.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", os.path.join(d, "k.pem"),
                    "-out", other, "-subj", "/CN=x", "-days", "1"], check=True,
                   capture_output=True)
    with pytest.raises(c.VerificationError) as e:
        c.verify("127.0.0.1", port, allow_simulated=True, ca=other)
    assert e.value.step == "chain"


def test_challenge_not_available():
    with pytest.raises(NotImplementedError):
        c.verify("127.0.0.1", 1, challenge=True)


def test_manifest_parser_rejects_truncation():
    import struct
    h = hashlib.sha256(b"x").digest()
    m = struct.pack("<I", 1) + struct.pack("<H", 1) + b"a" + h + hashlib.sha256(h).digest()
    entries, stated, computed = c.parse_manifest(m)
    assert stated == computed
    for n in range(len(m)):
        with pytest.raises(c.VerificationError):
            c.parse_manifest(m[:n])
