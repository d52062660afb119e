#!/usr/bin/env python3
"""Writes the seed corpora of the fuzzers that had none, from the tests' own
inputs: fuzz/<layer>/corpus-<target> as scripts/fuzz.sh finds them. Run from
anywhere; rerun after changing the tests it reads (it rewrites its files).
  apps_callval  the wasm_call parameter documents of tests/apps/test_callval.c
  proto_frame   the framed requests of tests/e2e (Ping, list, load, call, auth)
  kv_envelope   the envelope shapes of tests/kv/test_format.c
  cm_roundtrip  one type-and-value recipe per component type kind
  wasm          the core modules of fuzz/wasm/corpus-diff (the spec tests')"""
import json
import os
import re
import shutil
import struct

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def out_dir(layer, target):
    d = os.path.join(ROOT, "fuzz", layer, "corpus-" + target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def c_strings(path):
    """Each run of adjacent C string literals in a file, decoded (GOOD expanded)."""
    text = open(path, encoding="utf-8").read()
    macros = {}
    for m in re.finditer(r"#define (\w+)\s+((?:\"(?:[^\"\\]|\\.)*\"\s*\\?\s*)+)", text):
        macros[m.group(1)] = m.group(2)
    for name, body in macros.items():
        text = text.replace(name, body.replace("\\\n", " "))
    runs = re.findall(r"((?:\"(?:[^\"\\\n]|\\.)*\"\s*)+)", text)
    out = []
    for run in runs:
        pieces = re.findall(r"\"((?:[^\"\\\n]|\\.)*)\"", run)
        raw = "".join(pieces)
        try:
            out.append(raw.encode("latin-1", "backslashreplace").decode("unicode_escape")
                       .encode("latin-1").decode("utf-8", "replace").encode())
        except UnicodeError:
            continue
    return out


def callval():
    d = out_dir("apps", "callval")
    n = 0
    for s in c_strings(os.path.join(ROOT, "tests/apps/test_callval.c")):
        if s.startswith(b"[") or s.startswith(b"{"):
            write(d, "params-%02d" % n, s)
            n += 1
    return n


def frames():
    d = out_dir("proto", "frame")

    def data_request(inner):
        return json.dumps({"Data": list(json.dumps(inner).encode())}).encode()

    wasm = b"\0asm\x0d\0\x01\0"  # a component header, enough for the parser
    docs = {
        "ping": b'"Ping"',
        "shutdown": b'"Shutdown"',
        "list": data_request({"wasm_list": {}}),
        "manifest": data_request({"config_manifest": {}}),
        "load": data_request({"wasm_load": {"name": "h", "bytes": list(wasm), "route": "/h",
                                            "max_fuel": 1000, "max_concurrency": 2}}),
        "load-auth": data_request({"wasm_load": {"name": "h", "bytes": list(wasm)},
                                   "auth": "tok\u0000junk"}),
        "unload": data_request({"wasm_unload": {"name": "h"}, "auth": "tok"}),
        "call": data_request({"wasm_call": {"name": "t", "function": "add", "params": [1, 2]}}),
        "two-ops": data_request({"wasm_list": {}, "wasm_unload": {"name": "x"}}),
        "deep": b"[" * 70 + b"]" * 70,
    }
    n = 0
    for name, doc in docs.items():
        # Mode byte: 0x40 frames in one piece; 0x03 frames 4 bytes at a time;
        # 0xc0 the inner request parser alone.
        write(d, name + "-frame", b"\x40" + struct.pack(">I", len(doc)) + doc)
        write(d, name + "-chunks", b"\x03" + struct.pack(">I", len(doc)) + doc)
        inner = json.loads(doc)["Data"] if doc.startswith(b'{"Data"') else None
        if inner is not None:
            write(d, name + "-inner", b"\xc0" + bytes(inner))
        n += 3
    pipelined = b"".join(struct.pack(">I", len(x)) + x for x in (docs["ping"], docs["list"]))
    write(d, "pipelined", b"\x40" + pipelined)
    write(d, "oversize", b"\x40" + struct.pack(">I", 0xFFFFFFFF) + b"{}")
    return n + 2


def envelopes():
    d = out_dir("kv", "envelope")
    n = 0
    for name_size, value_size in ((5, 0), (5, 7), (1, 1), (64, 300), (4096, 3)):
        buf = bytearray(60 + name_size + value_size)
        buf[0] = 1
        buf[2] = name_size & 0xFF
        buf[3] = name_size >> 8
        for i in range(4, len(buf)):
            buf[i] = (i * 7) & 0xFF
        write(d, "env-%d-%d" % (name_size, value_size), bytes(buf))
        n += 1
    # Round-trip inputs: first byte picks the name size, the rest is name and value.
    for k, rest in ((4, b"alicevalue"), (0, b"xy"), (63, bytes(range(200)))):
        write(d, "seal-%d" % k, bytes([k]) + rest)
        n += 1
    write(d, "bad-version", b"\x02" + bytes(70))
    write(d, "bad-flags", b"\x01\x01\x05" + bytes(70))
    return n + 2


def roundtrip():
    d = out_dir("cm", "roundtrip")
    n = 0
    # Four big-endian bytes choose each kind; the bytes after shape the value.
    for kind in range(0, 24):
        for tail in (b"\x00\x00\x00\x02" + bytes(range(32)), b"\xff" * 48):
            write(d, "kind-%02d-%d" % (kind, n % 2), struct.pack(">I", kind) + tail)
            n += 1
    return n


def wasm():
    d = out_dir("wasm", "wasm")
    src = os.path.join(ROOT, "fuzz", "wasm", "corpus-diff")
    n = 0
    for name in sorted(os.listdir(src)):
        shutil.copyfile(os.path.join(src, name), os.path.join(d, name))
        n += 1
    return n


if __name__ == "__main__":
    for fn in (callval, frames, envelopes, roundtrip, wasm):
        print("%-10s %d seeds" % (fn.__name__, fn()))
