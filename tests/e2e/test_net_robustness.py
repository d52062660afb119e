"""Robustness of enclave-os serve: 1,000 random or malformed frames over
TLS across many connections, slow and non-reading clients that must not
stall others; afterwards the server still runs and answers Ping."""
import json
import random
import socket
import ssl
import struct
import time

import pytest

from eosnet import Server, closed_by_peer, connect, frame, recv_frame, request


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # One worker makes "never stall others" a real test.
    srv = Server(tmp_path_factory.mktemp("robust"), "--dev", "--workers", "1",
                 "--idle-timeout", "20", "--max-frame-size", "1M")
    yield srv
    assert srv.stop() == 0, srv.output()


def random_frame(rng):
    kind = rng.randrange(10)
    if kind == 0:  # random bytes, no framing at all
        return rng.randbytes(rng.randrange(1, 300)), True
    if kind == 1:  # a length prefix promising more than is sent
        return struct.pack(">I", rng.randrange(10, 5000)) + rng.randbytes(rng.randrange(0, 9)), True
    if kind == 2:  # a length above the limit
        return struct.pack(">I", rng.randrange(2 << 20, 1 << 32)), True
    if kind == 3:  # invalid UTF-8
        return frame(b'"' + rng.randbytes(rng.randrange(1, 40)) + b'"'), False
    if kind == 4:  # invalid JSON
        return frame(rng.choice([b"{", b"]", b'{"Data":[1,2', b"nul", b'"Ping" 1', b"{{}}"])), False
    if kind == 5:  # deeply nested JSON
        depth = rng.randrange(100, 20000)
        return frame(rng.choice([b"[", b'{"a":']) * depth), False
    if kind == 6:  # bytes out of range and wrong types in Data
        return frame(json.dumps({"Data": [rng.randrange(-5, 600), "x", None]}).encode()), False
    if kind == 7:  # Data with random inner bytes (malformed inner JSON)
        return frame(json.dumps({"Data": list(rng.randbytes(rng.randrange(0, 64)))}).encode()), False
    if kind == 8:  # deeply nested inner document
        inner = b'{"wasm_call": {"params": ' + b"[" * rng.randrange(50, 5000) + b"}}"
        return frame(json.dumps({"Data": list(inner)}).encode()), False
    return frame(b'"Ping"'), False


def test_thousand_bad_frames(server):
    rng = random.Random(20261123)
    sent = 0
    start = time.time()
    while sent < 1000:
        with connect(server.port, timeout=5) as s:
            for _ in range(rng.randrange(5, 40)):
                data, breaks_stream = random_frame(rng)
                sent += 1
                try:
                    s.sendall(data)
                except OSError:
                    break
                if breaks_stream:
                    break  # the stream position is lost; the next frame needs a new connection
                try:
                    reply = recv_frame(s)
                except (EOFError, OSError, ValueError):
                    break
                assert reply == "Pong" or "Error" in reply
    assert server.alive(), server.output()
    with connect(server.port) as s:
        assert request(s, b'"Ping"') == "Pong"
    assert time.time() - start < 60


def test_truncated_and_abandoned_connections(server):
    for cut in [0, 1, 3, 4, 6, 20]:
        s = connect(server.port)
        s.sendall(frame(b'{"Data":[1,2,3,4,5,6,7]}')[:cut])
        s.close()
    # TCP connections that leave during or before the handshake.
    for n in [0, 5, 100]:
        raw = socket.create_connection(("127.0.0.1", server.port))
        raw.sendall(b"\x16\x03\x01" + b"\x00" * n)
        raw.close()
    with connect(server.port) as s:
        assert request(s, b'"Ping"') == "Pong"


def test_slow_and_non_reading_clients_do_not_stall_others(server):
    # A client that pipelines requests and never reads its responses.
    greedy = connect(server.port)
    greedy.setblocking(False)
    blob = frame(b'"Ping"') * 20000
    sent = 0
    try:
        while sent < len(blob):
            sent += greedy.send(blob[sent:sent + 65536])
    except (ssl.SSLWantWriteError, BlockingIOError):
        pass
    # A client in the middle of a large frame that has gone quiet.
    slow = connect(server.port)
    slow.sendall(struct.pack(">I", 500000) + b'{"Data":[' + b"1," * 1000)
    # A TCP client that never starts TLS.
    mute = socket.create_connection(("127.0.0.1", server.port))
    t0 = time.time()
    with connect(server.port) as s:
        for _ in range(20):
            assert request(s, b'"Ping"') == "Pong"
    assert time.time() - t0 < 5
    greedy.close()
    slow.close()
    mute.close()


def test_many_concurrent_connections(server):
    conns = [connect(server.port) for _ in range(100)]
    for s in conns:
        s.sendall(frame(b'"Ping"'))
    for s in conns:
        assert recv_frame(s) == "Pong"
        s.close()
