"""End-to-end tests of enclave-os serve and enclave-os ping: the framed
protocol over TLS 1.3, errors that keep or close the connection, the served
certificate, management refusal, idle timeouts and graceful shutdown."""
import json
import os
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from eosnet import (EOS_BIN, inner, Server, closed_by_peer, connect, data_request, error_text, frame,
                    recv_frame, request)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("srv"), "--dev", "--workers", "2")
    yield srv
    assert srv.stop() == 0, srv.output()


def test_ping_pong(server):
    with connect(server.port) as s:
        for _ in range(3):
            assert request(s, b'"Ping"') == "Pong"


def test_banner_names_tee_and_address(server):
    out = server.output()
    assert "listening on 127.0.0.1:%d" % server.port in out
    assert "TEE: sim" in out
    assert "SIMULATION MODE" in out and "DEVELOPMENT MODE" in out


def test_data_requests_answer_inside_data(server):
    with connect(server.port) as s:
        assert inner(request(s, data_request({"wasm_list": {}})))["status"] == "apps"
        load = {"wasm_load": {"name": "my-app", "bytes": [0, 97, 115, 109, 1, 0, 0, 0]}}
        reply = inner(request(s, data_request(load)))
        assert reply["status"] == "error" and "core WebAssembly module" in reply["message"]
        text = error_text(request(s, data_request({"wasm_nothing": {}})))
        assert "unknown operation" in text
        assert request(s, b'"Ping"') == "Pong"


def test_malformed_json_keeps_connection(server):
    with connect(server.port) as s:
        assert "malformed JSON" in error_text(request(s, b"{not json"))
        assert request(s, b'"Ping"') == "Pong"
        assert "malformed JSON" in error_text(request(s, b'"Pi\xffng"'))  # invalid UTF-8
        assert request(s, b'"Ping"') == "Pong"


def test_wrong_shapes_and_byte_values(server):
    with connect(server.port) as s:
        for payload in [b"[1,2]", b"{}", b"null", b'"Pang"', b'{"Data": "abc"}',
                        b'{"Data": [1], "x": 2}', b"", b'"Pong"']:
            assert error_text(request(s, payload)), payload
        for payload in [b'{"Data": [256]}', b'{"Data": [-1]}', b'{"Data": [1.5]}']:
            assert "out of range" in error_text(request(s, payload))
        assert request(s, b'"Ping"') == "Pong"


def test_oversized_length_gets_error_then_close(server):
    with connect(server.port) as s:
        s.sendall(struct.pack(">I", 0x7FFFFFFF) + b'"Ping"')
        assert "exceeds the maximum frame size" in error_text(recv_frame(s))
        assert closed_by_peer(s)


def test_small_max_frame_size(tmp_path):
    srv = Server(tmp_path, "--max-frame-size", "100", "--workers", "1")
    try:
        with connect(srv.port) as s:
            assert request(s, b" " * 90 + b'"Ping"') == "Pong"
            s.sendall(struct.pack(">I", 101))
            assert "maximum frame size of 100" in error_text(recv_frame(s))
            assert closed_by_peer(s)
    finally:
        assert srv.stop() == 0


def test_pipelined_and_split_frames(server):
    with connect(server.port) as s:
        s.sendall(frame(b'"Ping"') * 50)
        for _ in range(50):
            assert recv_frame(s) == "Pong"
        data = frame(b'"Ping"')
        for b in data:  # one byte per TLS record
            s.sendall(bytes([b]))
            time.sleep(0.001)
        assert recv_frame(s) == "Pong"


def test_large_data_frame_streams(server):
    comp = bytes(range(256)) * 4096  # 1 MiB component
    load = {"wasm_load": {"name": "big", "bytes": list(comp)}}
    with connect(server.port, timeout=60) as s:
        reply = inner(request(s, data_request(load)))
        assert reply["status"] == "error" and reply["code"] == "invalid_request"


def test_tls13_and_p256_certificate(server):
    with connect(server.port) as s:
        assert s.version() == "TLSv1.3"
        cert = x509.load_der_x509_certificate(s.getpeercert(binary_form=True))
        key = cert.public_key()
        assert isinstance(key, ec.EllipticCurvePublicKey)
        assert key.curve.name == "secp256r1"
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises((ssl.SSLError, ConnectionResetError, OSError)):
        connect(server.port, ctx=ctx).close()


def test_http_request_line_gets_404_without_apps(server):
    with connect(server.port) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
        assert reply.startswith(b"HTTP/1.1 404 ")
        assert b"no app serves this path" in reply


def test_alpn_http_selects_http(server):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    with connect(server.port, ctx=ctx) as s:
        assert s.selected_alpn_protocol() == "http/1.1"
        s.sendall(frame(b'"Ping"'))  # not a frame once ALPN chose HTTP
        assert s.recv(4096).startswith(b"HTTP/1.1 400 ")
    ctx.set_alpn_protocols(["h2", "x-unknown"])
    with connect(server.port, ctx=ctx) as s:
        assert s.selected_alpn_protocol() is None
        assert request(s, b'"Ping"') == "Pong"


def test_cli_ping(server):
    r = subprocess.run([EOS_BIN, "ping", "127.0.0.1:%d" % server.port, "--count", "3"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("Pong from") == 3
    assert "TLSv1.3" in r.stdout


def test_cli_ping_unreachable_and_not_tls():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    r = subprocess.run([EOS_BIN, "ping", "127.0.0.1:%d" % port], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 1
    assert "cannot connect" in r.stderr
    # A plain TCP peer that closes at once: the handshake fails with a clear message.
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)

    def close_one():
        c, _ = lsock.accept()
        c.recv(10)
        c.close()

    t = threading.Thread(target=close_one)
    t.start()
    r = subprocess.run([EOS_BIN, "ping", "127.0.0.1:%d" % lsock.getsockname()[1],
                        "--timeout", "3000"], capture_output=True, text=True, timeout=30)
    t.join()
    lsock.close()
    assert r.returncode == 1
    assert "TLS handshake" in r.stderr


def test_cli_help_and_stubs():
    r = subprocess.run([EOS_BIN, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "serve" in r.stdout and "verify" in r.stdout
    r = subprocess.run([EOS_BIN, "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("enclave-os ")
    for cmd in ["serve", "ping", "load", "unload", "list", "call", "verify", "inspect"]:
        r = subprocess.run([EOS_BIN, cmd, "--help"], capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout.startswith("usage: enclave-os " + cmd), cmd
    for flag in ["--listen", "--data-dir", "--tee", "--workers", "--dev", "--log-level",
                 "--max-frame-size", "--idle-timeout"]:
        assert flag in subprocess.run([EOS_BIN, "serve", "--help"], capture_output=True,
                                      text=True).stdout
    for cmd in ["load", "unload", "call"]:
        r = subprocess.run([EOS_BIN, cmd], capture_output=True, text=True)
        assert r.returncode == 2, cmd
    r = subprocess.run([EOS_BIN, "serve", "--bogus"], capture_output=True, text=True)
    assert r.returncode == 2


def test_shutdown_refused_without_dev(tmp_path):
    srv = Server(tmp_path, "--workers", "1")
    try:
        with connect(srv.port) as s:
            assert "unauthorized" in error_text(request(s, b'"Shutdown"'))
            assert request(s, b'"Ping"') == "Pong"
        assert srv.alive()
    finally:
        assert srv.stop() == 0


def test_shutdown_in_dev_mode(tmp_path):
    srv = Server(tmp_path, "--dev", "--workers", "2")
    with connect(srv.port) as s:
        assert request(s, b'"Shutdown"') == "Ok"
    assert srv.proc.wait(timeout=20) == 0, srv.output()
    srv.log.close()


def test_sigterm_finishes_in_flight_request(tmp_path):
    srv = Server(tmp_path, "--workers", "2")
    busy = connect(srv.port)
    idle = connect(srv.port)
    assert request(idle, b'"Ping"') == "Pong"
    payload = json.dumps(data_request({"wasm_list": {}})).encode()
    busy.sendall(frame(payload)[:20])  # a request in flight
    time.sleep(0.2)
    srv.proc.send_signal(signal.SIGTERM)
    assert closed_by_peer(idle), "idle connection not closed on shutdown"
    time.sleep(0.2)
    busy.sendall(frame(payload)[20:])
    assert inner(recv_frame(busy))["status"] == "apps"
    assert closed_by_peer(busy)
    assert srv.proc.wait(timeout=20) == 0, srv.output()
    srv.log.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()


def test_idle_timeout(tmp_path):
    srv = Server(tmp_path, "--idle-timeout", "1", "--workers", "1")
    try:
        quiet = connect(srv.port)
        half = connect(srv.port)
        half.sendall(b"\x00\x00")  # half a length prefix, then silence
        chatty = connect(srv.port)
        start = time.time()
        while time.time() - start < 2.5:
            assert request(chatty, b'"Ping"') == "Pong"
            time.sleep(0.3)
        assert closed_by_peer(quiet, timeout=1)
        assert closed_by_peer(half, timeout=1)
        assert request(chatty, b'"Ping"') == "Pong"
        # A connection that never completes the TLS handshake is closed too.
        raw = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        assert raw.recv(10) == b""
        raw.close()
    finally:
        assert srv.stop() == 0
