"""Caller identity per app end to end: a caller policy, a JWKS and a client
CA given at load (and hashed into the app's leaf); 401 with WWW-Authenticate
without credentials, 403 without the required claim, the verified identity
in x-eos-auth-* headers that a client can never set itself, and client
certificates with and without one. Needs the secret-config app."""
import base64
import datetime
import http.client
import json
import os
import ssl
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from eosnet import EOS_BIN, Server, tls_context

APP = os.environ.get("EOS_SECRET_APP", "")
pytestmark = [
    pytest.mark.skipif(not APP or not os.path.exists(APP),
                       reason="the secret-config app was not built"),
    pytest.mark.skipif(os.environ.get("EOS_TSAN", "").upper() in ("ON", "1", "TRUE"),
                       reason="its 13 MB component takes minutes to load under ThreadSanitizer"),
]


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwk(key, kid):
    n = key.public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "kid": kid, "x": b64(n.x.to_bytes(32, "big")),
            "y": b64(n.y.to_bytes(32, "big"))}


def token(key, claims, kid="k1", alg="ES256"):
    head = b64(json.dumps({"alg": alg, "kid": kid}).encode())
    body = b64(json.dumps(claims).encode())
    r, s = decode_dss_signature(key.sign((head + "." + body).encode(),
                                         ec.ECDSA(hashes.SHA256())))
    return head + "." + body + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def cert(subject, key, issuer=None, issuer_key=None, ca=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    b = (x509.CertificateBuilder().subject_name(name)
         .issuer_name(issuer.subject if issuer else name).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                            critical=False)
    return b.sign(issuer_key or key, hashes.SHA256())


def request(port, path, headers=None, client=None):
    ctx = tls_context()
    if client:
        ctx.load_cert_chain(*client)
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read().decode(errors="replace"), {k.lower(): v for k, v in r.getheaders()}
    finally:
        c.close()


def test_jwt_and_mtls_callers(tmp_path):
    idp = ec.generate_private_key(ec.SECP256R1())
    stranger = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk(idp, "k1")]}))
    policy = {"issuer": "https://idp.test", "audience": "sc", "leeway": 30,
              "rules": [{"prefix": "/", "require": "none"},
                        {"prefix": "/api", "require": "jwt"},
                        {"prefix": "/admin", "require": "jwt", "claims": {"role": "admin"}},
                        {"prefix": "/partner", "require": "mtls"}]}
    (tmp_path / "policy.json").write_text(json.dumps(policy))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = cert("Partner CA", ca_key, ca=True)
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    ck = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "client.pem").write_bytes(
        cert("partner-7", ck, ca, ca_key).public_bytes(serialization.Encoding.PEM))
    (tmp_path / "client.key").write_bytes(ck.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    srv = Server(tmp_path, "--dev", "--workers", "1")
    try:
        r = subprocess.run([EOS_BIN, "load", APP, "--name", "sc", "--route", "/sc",
                            "--caller-policy", str(tmp_path / "policy.json"),
                            "--jwks", str(tmp_path / "jwks.json"),
                            "--client-ca", str(tmp_path / "ca.pem"),
                            "-s", "127.0.0.1:%d" % srv.port, "--allow-simulated"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        port = srv.port
        man = json.loads(request(port, "/.well-known/enclave-os/manifest")[1])
        assert "wasm.sc.auth" in [e["name"] for e in man["entries"]]

        now = int(time.time())
        good = {"iss": "https://idp.test", "aud": "sc", "sub": "alice", "exp": now + 600}
        # Open route: anyone, and a forged identity header is removed.
        st, body, _ = request(port, "/sc/whoami", {"x-eos-auth-subject": "mallory",
                                                   "X-EOS-Auth-Method": "jwt"})
        assert st == 200 and body == "method= subject= claims=no"
        # Token routes.
        st, _, h = request(port, "/sc/api/orders")
        assert st == 401 and h["www-authenticate"].startswith("Bearer")
        st, body, _ = request(port, "/sc/api/orders",
                              {"Authorization": "Bearer " + token(idp, good),
                               "x-eos-auth-subject": "mallory"})
        assert st == 200 and body == "method=jwt subject=alice claims=yes"
        for bad in (token(idp, dict(good, exp=now - 120)), token(stranger, good),
                    token(idp, dict(good, aud="other")), "not.a.token",
                    b64(b'{"alg":"none"}') + "." + b64(json.dumps(good).encode()) + "."):
            st, _, h = request(port, "/sc/api/orders", {"Authorization": "Bearer " + bad})
            assert st == 401 and "invalid_token" in h["www-authenticate"]
        st, _, h = request(port, "/sc/admin", {"Authorization": "Bearer " + token(idp, good)})
        assert st == 403 and "insufficient_scope" in h["www-authenticate"]
        st, body, _ = request(port, "/sc/admin", {"Authorization": "Bearer " + token(
            idp, dict(good, sub="bob", role="admin"))})
        assert st == 200 and "subject=bob" in body
        # Client certificates.
        st, _, h = request(port, "/sc/partner/x")
        assert st == 401 and h["www-authenticate"].startswith("ClientCertificate")
        st, body, _ = request(port, "/sc/partner/x",
                              client=(str(tmp_path / "client.pem"), str(tmp_path / "client.key")))
        assert st == 200 and body == "method=mtls subject=CN=partner-7 claims=no"
        # No token or refusal reason reaches the log with a token in it.
        assert token(idp, good).split(".")[2] not in srv.output()
    finally:
        assert srv.stop() == 0


TYPED = os.environ.get("EOS_TYPED_WASM", "")


@pytest.mark.skipif(not TYPED or not os.path.exists(TYPED), reason="the typed app was not built")
def test_jwt_typed_function_policy(tmp_path):
    """A policy per typed function: wasm_call of "hello" needs a token in
    "authorization"; "add" is open."""
    from eosnet import connect, data_request, inner, request as frame_request

    idp = ec.generate_private_key(ec.SECP256R1())
    jwks = json.dumps({"keys": [jwk(idp, "k1")]})
    policy = json.dumps({"issuer": "https://idp.test", "audience": "typed",
                         "rules": [{"function": "hello", "require": "jwt"}]})
    srv = Server(tmp_path, "--dev", "--workers", "1")
    try:
        def call(doc):
            with connect(srv.port) as s:
                return inner(frame_request(s, data_request(doc)))
        with open(TYPED, "rb") as f:
            data = f.read()
        r = call({"wasm_load": {"name": "typed", "bytes": list(data), "caller_policy": policy,
                                "jwks": jwks}})
        assert r["status"] == "loaded", r
        r = call({"wasm_call": {"app": "typed", "function": "add", "params": [2, 3]}})
        assert r.get("result") == 5 or r.get("results") == [5] or "5" in json.dumps(r), r
        r = call({"wasm_call": {"app": "typed", "function": "hello", "params": ["x"]}})
        assert r["status"] == "error" and r["code"] == "unauthorized", r
        assert r["www_authenticate"].startswith("Bearer")
        good = token(idp, {"iss": "https://idp.test", "aud": "typed", "sub": "alice",
                           "exp": int(time.time()) + 600})
        r = call({"wasm_call": {"app": "typed", "function": "hello", "params": ["x"],
                                "authorization": "Bearer " + good}})
        assert r["status"] != "error" and "Hello, x!" in json.dumps(r), r
    finally:
        assert srv.stop() == 0
