#!/usr/bin/env python3
"""Loads a WebAssembly component into a running enclave-os server and
exercises it, using only the Python standard library:

    python3 tests/test_wasm_functions.py app.wasm [--host H] [--port P]
                                                  [--name N] [--token T] [--keep]

1. loads the component over the framed protocol (as the quick start's client
   does), 2. lists the apps, 3. sends HTTP requests to the app's route when it
   exports wasi:http/incoming-handler, 4. calls its typed functions that take
   no parameters (others are listed), 5. unloads it (unless --keep).
The app gets a name of its own (test-PID-RANDOM, route /NAME) unless --name
is given, and an app already loaded under the name is never replaced: the
script stops instead. Exit status 0 when every step worked."""
import argparse
import os
import http.client
import json
import socket
import ssl
import struct
import sys


def frame(data):
    return struct.pack(">I", len(data)) + data


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("the server closed the connection")
        buf += chunk
    return buf


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # attestation: use `enclave-os verify`
    return ctx


class Client:
    def __init__(self, host, port, token):
        self.host, self.port, self.token = host, port, token

    def request(self, doc, management=False):
        if management and self.token:
            doc = dict(doc, auth=self.token)
        inner = json.dumps(doc).encode()
        with tls_context().wrap_socket(socket.create_connection((self.host, self.port),
                                                                timeout=300),
                                       server_hostname=self.host) as sock:
            sock.sendall(frame(json.dumps({"Data": list(inner)}).encode()))
            (length,) = struct.unpack(">I", recv_exact(sock, 4))
            resp = json.loads(recv_exact(sock, length))
        if "Error" in resp:
            raise RuntimeError(bytes(resp["Error"]).decode(errors="replace"))
        return json.loads(bytes(resp["Data"]))


def http_get(host, port, path):
    conn = http.client.HTTPSConnection(host, port, context=tls_context(), timeout=60)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", help="the component (.wasm)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8443)
    ap.add_argument("--name", default=None,
                    help="the app's name (default: test-PID-RANDOM, unused by any app)")
    ap.add_argument("--token", default=None, help="management bearer token")
    ap.add_argument("--keep", action="store_true", help="leave the app loaded")
    args = ap.parse_args()

    client = Client(args.host, args.port, args.token)
    failures = 0
    if args.name is None:
        args.name = "test-%d-%s" % (os.getpid(), os.urandom(4).hex())
    # Someone else's app of the same name is theirs: never replace or unload it.
    listed = client.request({"wasm_list": {}})
    if args.name in [a["name"] for a in listed.get("apps", [])]:
        print("FAIL: an app named '%s' is already loaded; pass another --name" % args.name)
        return 1
    with open(args.file, "rb") as f:
        wasm_bytes = f.read()
    if wasm_bytes[:4] == b"\x7fELF":
        print("note: %s is an ELF file (a wasmtime .cwasm); the server will refuse it: "
              "send the .wasm component instead" % args.file)

    print("== load %s as '%s' (%d bytes)" % (args.file, args.name, len(wasm_bytes)))
    loaded = client.request({"wasm_load": {"name": args.name, "bytes": list(wasm_bytes)}},
                            management=True)
    print("Loaded:", json.dumps(loaded, indent=2))
    if loaded.get("status") != "loaded":
        return 1
    app = loaded["app"]

    print("== list")
    apps = client.request({"wasm_list": {}})
    for a in apps.get("apps", []):
        print("  %-20s %-20s %s" % (a["name"], a["route"], a["code_hash"]))
    if args.name not in [a["name"] for a in apps.get("apps", [])]:
        print("FAIL: the app is not listed")
        failures += 1

    if any(e.startswith("wasi:http/incoming-handler") for e in app["exports"]):
        route = app["route"].rstrip("/")
        for path in (route + "/hello", route + "/"):
            status, body = http_get(args.host, args.port, path)
            print("== GET %s -> %d %r" % (path, status, body[:200]))
            if status >= 500:
                failures += 1

    for name in app["exports"]:
        if ":" in name or "/" in name:
            continue  # an interface, not a function
        reply = client.request({"wasm_call": {"app": args.name, "function": name, "params": []}})
        if reply.get("status") == "ok":
            print("== call %s() -> %s (fuel %d)" % (name, json.dumps(reply["returns"]),
                                                    reply["fuel_consumed"]))
        elif reply.get("code") == "invalid_params":
            print("== %s takes parameters: try `enclave-os call %s %s '[...]'`"
                  % (name, args.name, name))
        else:
            print("== call %s() failed: %s" % (name, reply.get("message")))
            failures += 1

    if not args.keep:
        reply = client.request({"wasm_unload": {"name": args.name}}, management=True)
        print("== unload -> %s" % reply.get("status"))
        if reply.get("status") != "unloaded":
            failures += 1
    print("OK" if failures == 0 else "%d step(s) failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
