"""Python client for enclave-os RA-TLS servers.

Connects over TLS 1.3, takes the server's certificate, and checks what the
C verifier (`enclave-os verify`) checks where Python's standard library
allows it: the report-data binding of the TLS key, the evidence type and the
simulated report, the configuration extensions, and the Merkle root against
the manifest fetched over the framed protocol.

Limits of Python's ssl module, stated plainly:
- It cannot add a custom ClientHello extension, so challenge mode (TLS
  extension 0xFFBB) is not available here; use `enclave-os verify --challenge`.
- Before Python 3.13 it exposes only the leaf certificate, so without a CA
  file the chain is not checked (pass ``ca=`` to have ssl verify the chain).
- Hardware quotes are recognised and their report data is checked; DCAP
  signature checks are left to the C verifier.
"""

import hashlib
import json
import socket
import ssl
import struct
from datetime import timezone

from cryptography import x509
from cryptography.hazmat.primitives import serialization

__all__ = [
    "OID_SGX_QUOTE", "OID_TDX_QUOTE", "OID_SNP_REPORT", "OID_CONFIG_ROOT", "OID_APP_NAME",
    "OID_APP_ROUTE", "OID_APP_CODE_HASH", "OID_APPS_HASH", "VerificationError",
    "report_data", "time_binding", "parse_sim_evidence", "parse_evidence_kind",
    "parse_manifest", "manifest_from_json", "certificate_info", "connect", "fetch_manifest",
    "verify", "Client", "ServerError",
]

OID_SGX_QUOTE = "1.2.840.113741.1.13.1.0"
OID_TDX_QUOTE = "1.2.840.113741.1.5.5.1.6"
OID_SNP_REPORT = "1.3.6.1.4.1.65230.4.1"
OID_CONFIG_ROOT = "1.3.6.1.4.1.65230.1.1"
OID_APP_NAME = "1.3.6.1.4.1.65230.2.1"
OID_APP_ROUTE = "1.3.6.1.4.1.65230.2.2"
OID_APP_CODE_HASH = "1.3.6.1.4.1.65230.2.3"
OID_APPS_HASH = "1.3.6.1.4.1.65230.2.5"

MOCK_PREFIX = b"MOCK_QUOTE:"
SIM_MARKER = b"SIMULATED TEE - NO HARDWARE PROTECTION"


class VerificationError(Exception):
    """A failed check; ``step`` names it as the C verifier does."""

    def __init__(self, step, message):
        super().__init__(f"{step}: {message}")
        self.step = step
        self.message = message


def report_data(spki_der, binding):
    """SHA-512(SHA-256(SPKI_DER) || binding), the 64 bytes a quote carries."""
    return hashlib.sha512(hashlib.sha256(spki_der).digest() + binding).digest()


def time_binding(not_before):
    """The deterministic binding: NotBefore as ASCII YYYY-MM-DDTHH:MMZ."""
    if not_before.second != 0:
        raise VerificationError("report-data", "NotBefore is not on a whole minute")
    return not_before.strftime("%Y-%m-%dT%H:%MZ").encode()


def parse_sim_evidence(ev):
    """Parses simulated evidence (layout in include/eos/tee.h)."""
    if len(ev) != 203 or not ev.startswith(MOCK_PREFIX):
        raise VerificationError("evidence-parse", "simulated evidence must be 203 bytes")
    rep = ev[75:]
    magic, version, flags, msize = rep[:8], *struct.unpack("<HHI", rep[8:16])
    if magic != b"EOSSIM01" or version != 1 or not flags & 1 or msize != 32:
        raise VerificationError("evidence-parse", "malformed simulated report")
    if rep[64:64 + len(SIM_MARKER)] != SIM_MARKER:
        raise VerificationError("evidence-parse", "simulated report lacks its marker")
    return {
        "kind": "sim",
        "simulated": True,
        "report_data": ev[11:75],
        "tee_name": rep[16:32].rstrip(b"\0").decode(),
        "measurement": rep[32:64],
        "debug": False,
    }


def parse_evidence_kind(ev):
    """Recognises SGX v3 / TDX v4-v5 quotes and SNP reports; returns the
    report data and measurement at their documented offsets."""
    if ev.startswith(MOCK_PREFIX):
        return parse_sim_evidence(ev)
    if len(ev) >= 48:
        version, key_type, tee_type = struct.unpack("<HHI", ev[:8])
        if version == 3 and tee_type == 0 and len(ev) >= 48 + 384:
            body = ev[48:48 + 384]
            return {"kind": "sgx", "simulated": False, "report_data": body[320:384],
                    "measurement": body[64:96], "debug": bool(body[48] & 2)}
        if version in (4, 5) and tee_type == 0x81:
            off = 48 if version == 4 else 54
            body = ev[off:off + 584]
            if len(body) == 584:
                return {"kind": "tdx", "simulated": False, "report_data": body[520:584],
                        "measurement": body[136:184], "debug": bool(body[120] & 1)}
    if len(ev) == 1184:
        return {"kind": "sev-snp", "simulated": False, "report_data": ev[0x50:0x90],
                "measurement": ev[0x90:0xC0], "debug": bool(ev[10] & 0x08)}
    raise VerificationError("evidence-parse", "unrecognised evidence")


def parse_manifest(buf):
    """Parses the binary manifest: returns (entries, stated_root, computed_root)
    with entries a list of (name, hash) pairs."""
    if len(buf) < 36:
        raise VerificationError("manifest", "manifest too short")
    (count,) = struct.unpack_from("<I", buf, 0)
    off, entries = 4, []
    for _ in range(count):
        if off + 2 > len(buf):
            raise VerificationError("manifest", "manifest truncated")
        (n,) = struct.unpack_from("<H", buf, off)
        if off + 2 + n + 32 + 32 > len(buf):
            raise VerificationError("manifest", "manifest truncated")
        entries.append((buf[off + 2:off + 2 + n].decode(), buf[off + 2 + n:off + 2 + n + 32]))
        off += 2 + n + 32
    if len(buf) - off != 32:
        raise VerificationError("manifest", "trailing bytes after the manifest entries")
    computed = hashlib.sha256(b"".join(h for _, h in entries)).digest()
    return entries, buf[off:], computed


def manifest_from_json(doc):
    """The JSON manifest ({"entries": [{"name","hash"}], "root"}) as binary."""
    out = struct.pack("<I", len(doc["entries"]))
    for e in doc["entries"]:
        name = e["name"].encode()
        out += struct.pack("<H", len(name)) + name + bytes.fromhex(e["hash"])
    return out + bytes.fromhex(doc["root"])


def certificate_info(der):
    """The RA-TLS content of a leaf certificate as a dict."""
    cert = x509.load_der_x509_certificate(der)
    raw = {}
    for ext in cert.extensions:
        if isinstance(ext.value, x509.UnrecognizedExtension):
            raw[ext.oid.dotted_string] = (ext.value.value, ext.critical)
    evidence = [(oid, raw[oid][0]) for oid in (OID_SGX_QUOTE, OID_TDX_QUOTE, OID_SNP_REPORT)
                if oid in raw]
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    nb = cert.not_valid_before.replace(tzinfo=timezone.utc)
    info = {
        "certificate": cert,
        "spki": spki,
        "not_before": nb,
        "evidence": evidence,
        "critical": {oid: crit for oid, (_, crit) in raw.items()},
        "config_root": raw.get(OID_CONFIG_ROOT, (None,))[0],
        "apps_hash": raw.get(OID_APPS_HASH, (None,))[0],
        "app": None,
    }
    if OID_APP_NAME in raw:
        info["app"] = {
            "name": raw[OID_APP_NAME][0].decode(),
            "route": raw.get(OID_APP_ROUTE, (b"",))[0].decode(),
            "code_hash": raw.get(OID_APP_CODE_HASH, (b"",))[0],
        }
    return info


def connect(host, port, ca=None, server_hostname=None, timeout=10.0):
    """A TLS 1.3 connection; with ``ca`` the chain is verified by ssl."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False
    if ca:
        ctx.load_verify_locations(ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection((host, port), timeout=timeout)
    try:
        return ctx.wrap_socket(raw, server_hostname=server_hostname or host)
    except ssl.SSLError as e:
        raw.close()
        raise VerificationError("chain" if ca else "connect", str(e)) from e


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return buf


def fetch_manifest(sock):
    """Asks for the manifest over the framed protocol; returns the binary
    manifest, or None when the server does not serve it."""
    inner = json.dumps({"config_manifest": {}}).encode()
    frame = json.dumps({"Data": list(inner)}).encode()
    sock.sendall(struct.pack(">I", len(frame)) + frame)
    (n,) = struct.unpack(">I", _recv_exact(sock, 4))
    resp = json.loads(_recv_exact(sock, n))
    if not isinstance(resp, dict) or "Data" not in resp:
        return None
    doc = json.loads(bytes(resp["Data"]))
    if doc.get("status") != "manifest":
        return None
    return manifest_from_json(doc)


class ServerError(Exception):
    """The server answered a request with an Error frame (not well-formed)."""


class Client:
    """The typed management calls of the C client (eos_client_load, _unload,
    _list, _call, _manifest) over one framed-protocol connection. Each
    returns the server's answer document as a dict; an operation the server
    refused is an answer with ``"status": "error"``, not an exception.

    The connection is not verified here; call :func:`verify` first (or pass
    ``ca=``) to know whom you are talking to."""

    def __init__(self, host, port, token=None, ca=None, server_hostname=None, timeout=60.0):
        self.token = token
        self.sock = connect(host, port, ca=ca, server_hostname=server_hostname, timeout=timeout)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def request(self, inner):
        """Sends one inner request (a dict) and returns the answer (a dict)."""
        data = json.dumps(inner, separators=(",", ":")).encode()
        frame = json.dumps({"Data": list(data)}, separators=(",", ":")).encode()
        self.sock.sendall(struct.pack(">I", len(frame)) + frame)
        (n,) = struct.unpack(">I", _recv_exact(self.sock, 4))
        resp = json.loads(_recv_exact(self.sock, n))
        if isinstance(resp, dict) and "Error" in resp:
            raise ServerError(bytes(resp["Error"]).decode(errors="replace"))
        if not isinstance(resp, dict) or "Data" not in resp:
            raise ServerError("unexpected reply %r" % (resp,))
        return json.loads(bytes(resp["Data"]))

    def _auth(self, doc):
        if self.token:
            doc["auth"] = self.token
        return doc

    def load(self, name, wasm_bytes, route=None, hostname=None, env=None, max_fuel=None,
             max_memory_mb=None, config=None, allow_outbound=None, max_concurrency=None):
        body = {"name": name}
        for key, value in (("route", route), ("hostname", hostname), ("env", env),
                           ("max_fuel", max_fuel), ("max_memory_mb", max_memory_mb),
                           ("config", config), ("allow_outbound", allow_outbound),
                           ("max_concurrency", max_concurrency)):
            if value is not None:
                body[key] = value
        body["bytes"] = list(wasm_bytes)
        return self.request(self._auth({"wasm_load": body}))

    def unload(self, name, erase=False):
        body = {"name": name}
        if erase:
            body["erase"] = True
        return self.request(self._auth({"wasm_unload": body}))

    def list(self):
        return self.request({"wasm_list": {}})

    def call(self, app, function, params=(), args=None, no_app_env=False, no_preopen=False):
        """``args``: the command line a wasi:cli/run component reads
        (get-arguments), argv[0] first; None sends none (the server gives the
        app's name as argv[0]). ``no_app_env``: the environment is the load's
        env alone, without APP_NAME and APP_VERSION; ``no_preopen``: no
        preopened directory. A command that called exit answers
        ``{"status": "exited", "exit_code": N}``."""
        body = {"app": app, "function": function, "params": list(params)}
        if args is not None:
            body["args"] = list(args)
        if no_app_env:
            body["no_app_env"] = True
        if no_preopen:
            body["no_preopen"] = True
        return self.request({"wasm_call": body})

    def manifest(self):
        return self.request({"config_manifest": {}})


def _leaf_matches(leaf, value):
    """The manifest's leaf hashes the value's bytes, or is zero for no value;
    an absent leaf matches only no value."""
    if leaf is None:
        return value is None
    want = hashlib.sha256(value.encode()).digest() if value is not None else bytes(32)
    return want == leaf


def _canonical_rules(rules):
    """The canonical JSON of an allow-list, as eos_ratls_canonical_rules
    writes it: no whitespace; only \\", \\\\ and \\u00xx (bytes below 0x20) escaped."""
    def one(s):
        out = ['"']
        for ch in s:
            if ch in '"\\':
                out.append("\\" + ch)
            elif ord(ch) < 0x20:
                out.append("\\u%04x" % ord(ch))
            else:
                out.append(ch)
        out.append('"')
        return "".join(out)
    return "[" + ",".join(one(r) for r in rules) + "]"


def _confirmed_apps(entries, listed):
    """Every app of a checked manifest (as eos_client_verify types them): the
    values the server lists (wasm_list) are kept only when they hash to the
    manifest's leaves ("confirmed"); "commitments" holds every other leaf of
    the app (route, hostname, env, config, auth, outbound, secret.KEY)."""
    leaves = dict(entries)
    names = [n[len("wasm."):-len(".code_hash")] for n, _ in entries
             if n.startswith("wasm.") and n.endswith(".code_hash")]
    by_name = {a.get("name"): a for a in (listed or [])}
    out = []
    for app in names:
        prefix = "wasm.%s." % app
        # Names may hold dots: "wasm.a.b.route" is app "a.b"'s when it exists.
        longer = ["wasm.%s." % o for o in names if o.startswith(app + ".")]
        commitments = {n[len(prefix):]: h.hex() for n, h in entries
                       if n.startswith(prefix) and n != prefix + "code_hash"
                       and not any(n.startswith(p) for p in longer)}
        row = {"name": app, "code_hash": None, "confirmed": False, "route": None,
               "hostname": None, "tier": None, "outbound": None, "commitments": commitments}
        listed_app = by_name.get(app)
        code_hash = listed_app.get("code_hash") if listed_app else None
        if isinstance(code_hash, str) and len(code_hash) == 64:
            rules = listed_app.get("allow_outbound") or []
            outbound = "\n".join(rules) if rules else None
            ok = (hashlib.sha256(bytes.fromhex(code_hash)).digest()
                  == leaves.get(prefix + "code_hash"))
            ok = ok and isinstance(listed_app.get("route"), str) and _leaf_matches(
                leaves.get(prefix + "route"), listed_app["route"])
            ok = ok and _leaf_matches(leaves.get(prefix + "hostname"), listed_app.get("hostname"))
            # the leaf's input is the rules' canonical JSON array (SPEC 5.2)
            ok = ok and _leaf_matches(leaves.get(prefix + "outbound"),
                                      _canonical_rules(rules) if rules else None)
            row["code_hash"] = code_hash
            row["confirmed"] = ok
            row["tier"] = listed_app.get("tier")
            if ok:
                row.update(route=listed_app["route"], hostname=listed_app.get("hostname"),
                           outbound=outbound)
        out.append(row)
    return out


def verify(host, port, allow_simulated=False, expect_root=None, expect_code_hashes=None,
           expect_measurement=None, ca=None, manifest=None, require_manifest=False,
           challenge=False, server_hostname=None):
    """Connects and verifies; returns a report dict or raises VerificationError."""
    if challenge:
        raise NotImplementedError(
            "Python's ssl module cannot send TLS extension 0xFFBB; use "
            "`enclave-os verify --challenge`")
    with connect(host, port, ca=ca, server_hostname=server_hostname) as sock:
        leaf_der = sock.getpeercert(binary_form=True)
        cert_sha256 = hashlib.sha256(leaf_der).hexdigest()
        info = certificate_info(leaf_der)
        chain_checked = bool(ca)
        # Python 3.13 exposes the presented chain: check that the presented
        # CA signed the leaf, as the C verifier does without --ca.
        if (not ca and hasattr(sock, "get_unverified_chain")
                and hasattr(info["certificate"], "verify_directly_issued_by")):
            chain = [c if isinstance(c, bytes) else c.public_bytes()
                     for c in sock.get_unverified_chain()]
            if len(chain) < 2:
                raise VerificationError("chain", "the server presented no CA certificate")
            issuer = x509.load_der_x509_certificate(chain[1])
            try:
                info["certificate"].verify_directly_issued_by(issuer)
            except Exception as e:  # signature or name mismatch
                raise VerificationError("chain", f"leaf not signed by the presented CA: {e}")
            chain_checked = True
        listed = None
        if manifest is None:
            try:
                manifest = fetch_manifest(sock)
            except (OSError, ValueError):
                manifest = None
        if manifest is not None:
            # The apps' code hashes, confirmed against the manifest below.
            try:
                inner = json.dumps({"wasm_list": {}}).encode()
                frame = json.dumps({"Data": list(inner)}).encode()
                sock.sendall(struct.pack(">I", len(frame)) + frame)
                (n,) = struct.unpack(">I", _recv_exact(sock, 4))
                resp = json.loads(_recv_exact(sock, n))
                if isinstance(resp, dict) and "Data" in resp:
                    listed = json.loads(bytes(resp["Data"])).get("apps")
            except (OSError, ValueError):
                listed = None
    if len(info["evidence"]) != 1:
        raise VerificationError("evidence-ext", "expected exactly one evidence extension")
    oid, ev = info["evidence"][0]
    parsed = parse_evidence_kind(ev)
    want_oid = {"sim": OID_SGX_QUOTE, "sgx": OID_SGX_QUOTE, "tdx": OID_TDX_QUOTE,
                "sev-snp": OID_SNP_REPORT}[parsed["kind"]]
    if oid != want_oid:
        raise VerificationError("evidence-type", f"{parsed['kind']} evidence under {oid}")
    if parsed["simulated"] and not allow_simulated:
        raise VerificationError("simulated", "the server runs a SIMULATED TEE")
    binding = time_binding(info["not_before"])
    if report_data(info["spki"], binding) != parsed["report_data"]:
        raise VerificationError("report-data", "the evidence does not bind the TLS key")
    if expect_measurement is not None and parsed["measurement"] != expect_measurement:
        raise VerificationError("measurement", "unexpected measurement")
    root = info["config_root"]
    if root is None or len(root) != 32 or info["apps_hash"] is None:
        raise VerificationError("config-ext", "config root or apps hash missing")
    entries = None
    if manifest is not None:
        entries, stated, computed = parse_manifest(manifest)
        if stated != computed or computed != root:
            raise VerificationError("manifest", "manifest root does not match the certificate")
    elif require_manifest:
        raise VerificationError("manifest", "no manifest available")
    if expect_root is not None and expect_root != root:
        raise VerificationError("expect-root", "unexpected configuration root")
    for name, code_hash in (expect_code_hashes or {}).items():
        app = info["app"]
        if app and app["name"] == name:
            if app["code_hash"] != code_hash:
                raise VerificationError("code-hash", f"app {name} runs other code")
            continue
        if entries is None:
            raise VerificationError("code-hash", f"no manifest to look up app {name}")
        leaf = dict(entries).get(f"wasm.{name}.code_hash")
        if leaf != hashlib.sha256(code_hash).digest():
            raise VerificationError("code-hash", f"app {name} is not loaded with that code")
    apps = _confirmed_apps(entries, listed) if entries is not None else None
    for a in apps or []:
        if a["code_hash"] is not None and not a["confirmed"]:
            raise VerificationError("code-hash", "the server lists an app %r that is not the "
                                    "one in its attested manifest" % a["name"])
    return {
        "tee": parsed["kind"],
        "cert_sha256": cert_sha256,
        "simulated": parsed["simulated"],
        "measurement": parsed["measurement"].hex(),
        "binding": binding.decode(),
        "config_root": root.hex(),
        "apps_hash": info["apps_hash"].hex(),
        "manifest_checked": entries is not None,
        "chain_checked": chain_checked,
        "app": info["app"],
        # Every app with its code hash, from the manifest checked against the
        # certificate's root; None when no manifest was checked.
        "apps": apps,
    }
