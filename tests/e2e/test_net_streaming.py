"""HTTP bodies stream in both directions: a 100 MB response or request body
passes through a bounded buffer (the server's memory does not grow with it),
a client that does not read and an app that runs for seconds stall nobody
else even with one worker, a body that stops arriving gets 408, pipelined
requests are answered in order and the body size limit still holds."""
import os
import socket
import ssl
import threading
import time

import pytest

from eosnet import (SANITIZED, Server, check_rss, connect, data_request, inner, peak_rss_mb,
                    read_until_closed, request)

APPS = os.environ.get("EOS_APPS_DIR", os.path.join(os.path.dirname(__file__),
                                                   "../../build/tests/wasi/apps"))
HELLO = os.path.join(APPS, "hello.wasm")
MISBEHAVE = os.path.join(APPS, "misbehave.wasm")
MB = 1 << 20
# How long a request that must not be stalled may take (sanitizers slow
# everything down several times).
QUICK = 2.0 if SANITIZED else 1.0
HELLO_TEXT = b"Hello from inside SGX!"

pytestmark = pytest.mark.skipif(not (os.path.exists(HELLO) and os.path.exists(MISBEHAVE)),
                                reason="test components not built (needs node + jco)")


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def load(port, name, path, **extra):
    body = {"name": name, "bytes": list(read_bytes(path))}
    body.update(extra)
    with connect(port, timeout=60) as s:
        reply = inner(request(s, data_request({"wasm_load": body})))
    assert reply["status"] == "loaded", reply
    return reply


def check_log_clean(srv):
    out = srv.output()
    for bad in ("AddressSanitizer", "ThreadSanitizer", "runtime error:", "LeakSanitizer",
                "Segmentation fault",
                "Aborted", "assertion"):
        assert bad not in out, out[-4000:]


@pytest.fixture
def srv(tmp_path):
    """One worker, a large body limit, hello at /h and misbehave at /m."""
    s = Server(tmp_path, "--dev", "--workers", "1", "--max-body-size", "200M")
    try:
        load(s.port, "h", HELLO)
        load(s.port, "m", MISBEHAVE)
    except BaseException:
        s.stop()
        raise
    yield s
    assert s.alive(), s.output()[-4000:]
    assert s.stop() == 0, s.output()[-4000:]
    check_log_clean(s)


class Reader:
    """Buffered reading of HTTP/1.1 responses from a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.pos = 0

    def _fill(self):
        if self.pos > MB:
            del self.buf[:self.pos]
            self.pos = 0
        chunk = self.sock.recv(1 << 18)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def readline(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return line
            self._fill()

    def read(self, n):
        while len(self.buf) - self.pos < n:
            self._fill()
        out = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return out

    def response(self, on_data=None):
        """Reads one response: (status, headers dict, body). With on_data the
        body is handed over piece by piece instead of kept."""
        status_line = self.readline()
        parts = status_line.split(b" ", 2)
        assert parts[0] == b"HTTP/1.1", status_line
        status = int(parts[1])
        headers = {}
        while True:
            line = self.readline()
            if not line:
                break
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode()] = value.strip().decode()
        if status == 100:
            return self.response(on_data)
        kept = []
        sink = on_data or kept.append
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                n = int(self.readline().split(b";")[0], 16)
                if n == 0:
                    while self.readline():
                        pass  # trailers
                    break
                self._pass(n, sink)
                assert self.read(2) == b"\r\n"
        elif "content-length" in headers:
            self._pass(int(headers["content-length"]), sink)
        return status, headers, b"".join(kept)

    def _pass(self, left, sink):
        """Hands the next `left` body bytes to sink as they arrive."""
        while left:
            if len(self.buf) == self.pos:
                self._fill()
            k = min(left, len(self.buf) - self.pos)
            sink(self.read(k))
            left -= k


class BytesSock:
    """Received bytes replayed through recv, for Reader."""

    def __init__(self, data):
        self.data = data

    def recv(self, n):
        out, self.data = self.data[:n], self.data[n:]
        return out


def get_once(port, path, timeout=10):
    """One GET on a new connection: (status, body, seconds taken)."""
    t0 = time.time()
    with connect(port, timeout=timeout) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
        status, _, body = Reader(s).response()
    return status, body, time.time() - t0


def quick_get(port, path, what):
    """A GET that must answer within QUICK seconds (and never hangs)."""
    try:
        status, body, took = get_once(port, path, timeout=QUICK + 2)
    except (socket.timeout, ssl.SSLError, OSError, EOFError) as e:
        pytest.fail("%s: GET %s did not answer (%r)" % (what, path, e))
    assert took < QUICK, "%s: GET %s took %.2f s" % (what, path, took)
    return status, body


def quick_ping(port, what):
    t0 = time.time()
    try:
        with connect(port, timeout=QUICK + 2) as s:
            assert request(s, b'"Ping"') == "Pong"
    except (socket.timeout, ssl.SSLError, OSError, EOFError) as e:
        pytest.fail("%s: framed Ping did not answer (%r)" % (what, e))
    took = time.time() - t0
    assert took < QUICK, "%s: framed Ping took %.2f s" % (what, took)


def count_x(total):
    """An on_data sink that checks every byte is 'x' and counts them."""
    def sink(piece):
        assert piece.count(b"x") == len(piece), "response holds bytes other than 'x'"
        total[0] += len(piece)
    return sink


def post_count(port, size, chunked, piece=MB, timeout=120):
    """POSTs size bytes to /m/count; returns (status, body)."""
    with connect(port, timeout=timeout) as s:
        if chunked:
            s.sendall(b"POST /m/count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        else:
            s.sendall(b"POST /m/count HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size)
        block = b"y" * piece
        left = size
        while left:
            k = min(left, piece)
            data = block[:k]
            s.sendall(b"%x\r\n%s\r\n" % (k, data) if chunked else data)
            left -= k
        if chunked:
            s.sendall(b"0\r\n\r\n")
        status, _, body = Reader(s).response()
    return status, body


def test_large_response_streams(srv):
    warm = get_once(srv.port, "/m/stream?100000")
    assert warm[0] == 200 and warm[1] == b"x" * 100000
    before = peak_rss_mb(srv)
    size = 100 * MB
    total = [0]
    with connect(srv.port, timeout=60) as s:
        s.sendall(b"GET /m/stream?%d HTTP/1.1\r\nHost: x\r\n\r\n" % size)
        status, headers, _ = Reader(s).response(on_data=count_x(total))
    assert status == 200 and headers.get("transfer-encoding") == "chunked"
    assert total[0] == size
    check_rss(srv, before, "a 100 MB response")


def test_large_request_streams(srv):
    assert post_count(srv.port, 1000, chunked=False) == (200, b"1000")
    before = peak_rss_mb(srv)
    size = 100 * MB
    status, body = post_count(srv.port, size, chunked=False)
    assert (status, body.strip()) == (200, b"%d" % size)
    check_rss(srv, before, "a 100 MB request with content-length")
    status, body = post_count(srv.port, size, chunked=True)
    assert (status, body.strip()) == (200, b"%d" % size)
    check_rss(srv, before, "a 100 MB chunked request")


def test_slow_reader_stalls_nobody(srv):
    port = srv.port
    quick_get(port, "/h/hello", "before")
    before = peak_rss_mb(srv)
    slow = connect(port, timeout=30)
    try:
        slow.sendall(b"GET /m/stream?200000000 HTTP/1.1\r\nHost: x\r\n\r\n")
        # Read just the head, so the app is known to be producing; then read
        # nothing more: the server's and the kernel's buffers fill up.
        head = b""
        while b"\r\n\r\n" not in head:
            head += slow.recv(4096)
        assert head.startswith(b"HTTP/1.1 200 "), head[:200]
        time.sleep(0.3)
        for _ in range(20):
            status, body = quick_get(port, "/h/hello", "while a client does not read")
            assert (status, body) == (200, HELLO_TEXT)
        quick_ping(port, "while a client does not read")
        check_rss(srv, before, "a 200 MB response nobody reads")
    finally:
        slow.close()
    time.sleep(0.2)
    for _ in range(3):
        assert quick_get(port, "/h/hello", "after the slow reader left") == (200, HELLO_TEXT)
    assert post_count(port, 5000, chunked=True) == (200, b"5000")


def spin_fuel(port, seconds):
    """Fuel for /spin to run about `seconds`, measured on this machine: the
    faster of two runs, so that a calibration slowed by other work (or
    deprioritised past its slice while other tests run) does not leave the
    spin too short to test anything."""
    fuel = 100_000_000
    load(port, "cal", MISBEHAVE, max_fuel=fuel)
    took = float("inf")
    for _ in range(2):
        status, _, t = get_once(port, "/cal/spin", timeout=60)
        assert status == 500
        took = min(took, t)
    return int(min(10_000_000_000, fuel * seconds / max(took, 0.01)))


def test_long_running_app_stalls_nobody(srv):
    port = srv.port
    load(port, "spin", MISBEHAVE, max_fuel=spin_fuel(port, 4.0 if SANITIZED else 3.0))
    result = {}

    def spin():
        try:
            result["status"] = get_once(port, "/spin/spin", timeout=60)[0]
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            result["error"] = repr(e)
        result["end"] = time.time()

    t = threading.Thread(target=spin)
    t.start()
    try:
        time.sleep(0.3)  # the spin is running now
        checks_done = float("inf")
        for _ in range(5):
            status, body = quick_get(port, "/h/hello", "while an app spins")
            assert (status, body) == (200, HELLO_TEXT)
            quick_ping(port, "while an app spins")
        checks_done = time.time()
    finally:
        t.join(90)
    assert not t.is_alive(), "/spin did not end"
    assert result.get("status") == 500, result
    assert checks_done < result["end"], "the spin ended before the checks; nothing was tested"
    assert quick_get(port, "/h/hello", "after the spin") == (200, HELLO_TEXT)


def test_request_longer_than_idle_timeout(tmp_path):
    """A request that computes past --idle-timeout gets its answer, the same
    worker serves others meanwhile, and SIGTERM still stops the server (the
    idle sweep once looped for good over the connection it had just touched)."""
    s = Server(tmp_path, "--dev", "--workers", "1", "--idle-timeout", "1")
    try:
        port = s.port
        load(port, "h", HELLO)
        load(port, "m", MISBEHAVE)
        load(port, "spin", MISBEHAVE, max_fuel=spin_fuel(port, 6.0 if SANITIZED else 5.0))
        result = {}

        def spin():
            try:
                # Past the server's 30 s request budget, which answers a
                # spin slowed beyond its calibration (sanitizers, a busy
                # machine) with a 500 of its own.
                result["status"] = get_once(port, "/spin/spin", timeout=60)[0]
            except Exception as e:  # noqa: BLE001 - reported by the main thread
                result["error"] = repr(e)
            result["end"] = time.time()

        t = threading.Thread(target=spin)
        t.start()
        try:
            time.sleep(1.6)  # past the idle timeout, with the spin still running
            status, body = quick_get(port, "/h/hello", "while a request outlives the idle timeout")
            assert (status, body) == (200, HELLO_TEXT)
            quick_ping(port, "while a request outlives the idle timeout")
            checks_done = time.time()
        finally:
            t.join(70)
        assert not t.is_alive(), "/spin never got its answer"
        assert result.get("status") == 500, result
        assert checks_done < result["end"], "the spin ended before the checks; nothing was tested"
    finally:
        rc = s.stop(timeout=10)
    assert rc == 0, s.output()[-4000:]
    check_log_clean(s)


def test_stalled_body_gets_408(tmp_path):
    s = Server(tmp_path, "--dev", "--workers", "1", "--idle-timeout", "2")
    try:
        load(s.port, "m", MISBEHAVE)
        c = connect(s.port, timeout=8)
        t0 = time.time()
        c.sendall(b"POST /m/count HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" +
                  b"y" * 10)
        got = b""
        try:
            while True:
                piece = c.recv(4096)
                if not piece:
                    break
                got += piece
        except (socket.timeout, ConnectionResetError, ssl.SSLError):
            pass
        took = time.time() - t0
        c.close()
        assert got.startswith(b"HTTP/1.1 408 "), "after %.1f s: %r" % (took, got[:200])
        assert b"request body not received in time" in got
        assert took < 5, "408 after %.1f s" % took
        assert quick_get(s.port, "/m/stream?3", "after the 408") == (200, b"xxx")
    finally:
        assert s.stop() == 0, s.output()[-4000:]
    check_log_clean(s)


def test_client_disconnects_midway(srv):
    port = srv.port
    for _ in range(10):
        c = connect(port, timeout=30)
        c.sendall(b"GET /m/stream?100000000 HTTP/1.1\r\nHost: x\r\n\r\n")
        got = 0
        while got < MB:
            piece = c.recv(1 << 16)
            assert piece, "connection closed after %d bytes" % got
            got += len(piece)
        c.close()
        c = connect(port, timeout=30)
        c.sendall(b"POST /m/count HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n")
        c.sendall(b"y" * MB)
        c.close()
    for _ in range(3):
        assert quick_get(port, "/h/hello", "after clients left midway") == (200, HELLO_TEXT)
    assert post_count(port, 3 * MB, chunked=False) == (200, b"%d" % (3 * MB))
    assert srv.alive()


def test_pipelined_requests_answered_in_order(srv):
    with connect(srv.port, timeout=20) as s:
        s.sendall(b"GET /m/stream?10 HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /h/hello HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /m/stream?5 HTTP/1.1\r\nHost: x\r\n\r\n")
        r = Reader(s)
        assert r.response()[::2] == (200, b"x" * 10)
        assert r.response()[::2] == (200, HELLO_TEXT)
        assert r.response()[::2] == (200, b"x" * 5)
        # The connection is still usable afterwards.
        s.sendall(b"POST /m/count HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd"
                  b"GET /m/stream?2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert r.response()[::2] == (200, b"4")
        assert r.response()[::2] == (200, b"xx")


def test_body_limit_413(tmp_path):
    s = Server(tmp_path, "--dev", "--workers", "1", "--max-body-size", "64K")
    try:
        load(s.port, "m", MISBEHAVE)
        assert post_count(s.port, 60000, chunked=False) == (200, b"60000")
        assert post_count(s.port, 60000, chunked=True, piece=7000) == (200, b"60000")
        with connect(s.port, timeout=10) as c:
            c.sendall(b"POST /m/count HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
            got = read_until_closed(c)
        assert got.startswith(b"HTTP/1.1 413 "), got[:200]
        with connect(s.port, timeout=10) as c:
            c.sendall(b"POST /m/count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            try:
                for _ in range(40):
                    c.sendall(b"1000\r\n" + b"y" * 0x1000 + b"\r\n")
                c.sendall(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass  # the server answered and closed before the end
            got = read_until_closed(c)
        # Either 413 or, when the app's response head went out before the
        # limit was crossed, a response cut off before its end: never a
        # complete answer computed from part of the body.
        if got and not got.startswith(b"HTTP/1.1 413 "):
            with pytest.raises(EOFError):
                Reader(BytesSock(got)).response()
        assert quick_get(s.port, "/m/stream?3", "after a 413") == (200, b"xxx")
    finally:
        assert s.stop() == 0, s.output()[-4000:]
    check_log_clean(s)


def test_metrics_show_the_app_threads(srv):
    status, body, _ = get_once(srv.port, "/.well-known/enclave-os/metrics")
    assert status == 200
    text = body.decode()
    for name in ("enclave_os_app_threads ", "enclave_os_app_threads_busy ",
                 "enclave_os_app_queue_length ", "enclave_os_app_queue_rejected_total "):
        assert name in text, text


def test_slow_uploads_do_not_starve_the_app_threads(tmp_path):
    """Clients that start a large body and stall hold an app thread each (the
    app waits in its read); the pool adds threads for the requests queued
    behind them instead of letting them wait for the idle timeout."""
    s = Server(tmp_path, "--dev", "--workers", "1", "--app-threads", "2", "--max-body-size", "10M")
    stalled = []
    try:
        load(s.port, "h", HELLO)
        # Four at once: above its default share (half the threads, one).
        load(s.port, "m", MISBEHAVE, max_concurrency=4)
        for _ in range(4):
            c = connect(s.port, timeout=30)
            c.sendall(b"POST /m/count HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
            c.sendall(b"y" * 200000)
            stalled.append(c)
        time.sleep(0.5)
        for _ in range(5):
            assert quick_get(s.port, "/h/hello", "behind stalled uploads") == (200, HELLO_TEXT)
        status, body, _ = get_once(s.port, "/.well-known/enclave-os/metrics")
        assert "enclave_os_app_threads_waiting_for_clients 4" in body.decode(), body.decode()
        # The stalled clients finish their bodies and get their answers.
        for c in stalled:
            c.sendall(b"y" * 800000)
            status, _, body = Reader(c).response()
            assert (status, body) == (200, b"1000000")
        check_log_clean(s)
    finally:
        for c in stalled:
            c.close()
        assert s.stop() == 0, s.output()[-3000:]


def test_response_framing(srv):
    """The app's content-length is kept and held to; HTTP/1.0 clients get the
    body until the close instead of chunks they cannot read."""
    with connect(srv.port, timeout=10) as s:
        r = Reader(s)
        for n in (5, 200000, 0):
            s.sendall(b"GET /m/sized?%d HTTP/1.1\r\nHost: x\r\n\r\n" % n)
            status, headers, body = r.response()
            assert status == 200 and headers.get("content-length") == str(n), headers
            assert "transfer-encoding" not in headers and body == b"x" * n
        # HEAD keeps the declared length and sends no body; the connection goes on.
        s.sendall(b"HEAD /m/sized?7 HTTP/1.1\r\nHost: x\r\n\r\n")
        status_line = r.readline()
        head = []
        while True:
            line = r.readline()
            if not line:
                break
            head.append(line.lower())
        assert status_line.startswith(b"HTTP/1.1 200") and b"content-length: 7" in head, head
        s.sendall(b"GET /h/hello HTTP/1.1\r\nHost: x\r\n\r\n")
        assert r.response()[2] == HELLO_TEXT
    # Declared 15, wrote 5: the client gets 5 bytes and a close, never a
    # complete-looking response.
    with connect(srv.port, timeout=10) as s:
        s.sendall(b"GET /m/short?5 HTTP/1.1\r\nHost: x\r\n\r\n")
        raw = read_until_closed(s)
    assert b"content-length: 15" in raw and raw.endswith(b"\r\n\r\nxxxxx"), raw
    # Declared 5, wrote 15: the declared 5 go out, then the connection closes.
    with connect(srv.port, timeout=10) as s:
        s.sendall(b"GET /m/over?5 HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /h/hello HTTP/1.1\r\nHost: x\r\n\r\n")
        raw = read_until_closed(s)
    assert raw.endswith(b"\r\n\r\nxxxxx") and raw.count(b"HTTP/1.1") == 1, raw
    with connect(srv.port, timeout=10) as s:
        s.sendall(b"GET /h/hello HTTP/1.0\r\n\r\n")
        raw = read_until_closed(s)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"chunked" not in head.lower() and b"connection: close" in head.lower(), raw
    assert body == HELLO_TEXT
    assert srv.alive()


def test_client_that_sends_close_notify_still_gets_its_answer(srv):
    """TLS half-close: the client sends its request and close_notify, then
    reads. The request runs on an app thread after the client's side ended;
    the server answers, then closes."""
    from eosnet import tls_context
    raw = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = tls_context().wrap_bio(inc, out, server_hostname="127.0.0.1")

    def pump_out():
        data = out.read()
        if data:
            raw.sendall(data)

    def pump_in():
        data = raw.recv(65536)
        if not data:
            inc.write_eof()
        else:
            inc.write(data)
        return bool(data)

    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            pump_out()
            pump_in()
    pump_out()
    tls.write(b"POST /m/count HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    try:
        tls.unwrap()  # sends close_notify; waits for the server's, which comes last
    except ssl.SSLWantReadError:
        pass
    pump_out()
    got = b""
    while True:
        try:
            got += tls.read(65536)
            continue
        except ssl.SSLWantReadError:
            pass
        except (ssl.SSLZeroReturnError, ssl.SSLError):
            break
        if not pump_in():
            break
    raw.close()
    assert got.startswith(b"HTTP/1.1 200 "), got[:300]
    assert got.endswith(b"\r\n\r\n1\r\n5\r\n0\r\n\r\n"), got[-100:]


def metric(port, name):
    status, body, _ = get_once(port, "/.well-known/enclave-os/metrics")
    assert status == 200
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def test_apps_share_app_threads_fairly(tmp_path):
    """One app's slow requests take at most its share of the app threads
    (its max_concurrency): the rest wait in its own queue, shown in the
    metrics, while another app is served at once."""
    s = Server(tmp_path, "--dev", "--workers", "1", "--app-threads", "4")
    try:
        port = s.port
        load(port, "h", HELLO)
        load(port, "spin", MISBEHAVE, max_fuel=spin_fuel(port, 3.0 if SANITIZED else 2.5),
             max_concurrency=2)
        results = []

        def spin():
            try:
                results.append(get_once(port, "/spin/spin", timeout=60)[0])
            except Exception as e:  # noqa: BLE001 - reported by the main thread
                results.append(repr(e))

        threads = [threading.Thread(target=spin) for _ in range(6)]
        for t in threads:
            t.start()
        try:
            # All six arrive within a second even on a busy machine; the
            # first two run for seconds.
            deadline = time.time() + 2.0
            while time.time() < deadline and \
                    metric(port, 'enclave_os_app_queued{app="spin"}') != 4:
                time.sleep(0.05)
            assert metric(port, 'enclave_os_app_in_flight{app="spin"}') == 2
            assert metric(port, 'enclave_os_app_queued{app="spin"}') == 4
            for _ in range(3):
                assert quick_get(port, "/h/hello", "while an app fills its share") == \
                    (200, HELLO_TEXT)
        finally:
            for t in threads:
                t.join(90)
        assert results == [500] * 6, results
        assert metric(port, 'enclave_os_app_queued{app="spin"}') == 0
    finally:
        rc = s.stop()
    assert rc == 0, s.output()[-4000:]
    check_log_clean(s)


def test_full_app_queue_gets_503_with_retry_after(tmp_path):
    """An app's queue is bounded (16 per app thread): past it, 503 with
    Retry-After at once."""
    s = Server(tmp_path, "--dev", "--workers", "1", "--app-threads", "1")
    socks = []
    try:
        port = s.port
        load(port, "spin", MISBEHAVE, max_fuel=spin_fuel(port, 1.0))
        for _ in range(1 + 16 + 3):
            c = connect(port, timeout=10)
            c.sendall(b"GET /spin/spin HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(c)
        time.sleep(0.3)
        busy = []
        for c in socks[-3:]:
            c.settimeout(5)
            head = c.recv(4096)
            busy.append(head)
        for head in busy:
            assert head.startswith(b"HTTP/1.1 503 "), head[:200]
            assert b"retry-after: 1\r\n" in head.lower(), head[:300]
        assert metric(port, 'enclave_os_app_rejected_total{app="spin"}') == 3
    finally:
        for c in socks:
            c.close()
    rc = s.stop(timeout=90)
    assert rc == 0, s.output()[-4000:]
    check_log_clean(s)


def test_queued_requests_of_gone_clients_are_dropped(tmp_path):
    """A request waiting in its app's queue whose client closes the
    connection leaves the queue unrun, and the metrics count it."""
    s = Server(tmp_path, "--dev", "--workers", "1", "--app-threads", "1")
    socks = []
    try:
        port = s.port
        load(port, "spin", MISBEHAVE, max_fuel=spin_fuel(port, 3.0 if SANITIZED else 1.5))
        for _ in range(4):
            c = connect(port, timeout=30)
            c.sendall(b"GET /spin/spin HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(c)
        time.sleep(0.3)
        assert metric(port, 'enclave_os_app_in_flight{app="spin"}') == 1
        assert metric(port, 'enclave_os_app_queued{app="spin"}') == 3
        for c in socks[1:]:
            c.close()
        time.sleep(0.3)
        assert metric(port, 'enclave_os_app_queued{app="spin"}') == 0
        assert metric(port, 'enclave_os_app_dropped_total{app="spin"}') == 3
        assert metric(port, "enclave_os_app_queue_dropped_total") == 3
        head = socks[0].recv(4096)
        assert head.startswith(b"HTTP/1.1 500 "), head[:200]
        # Only the one whose client stayed ran.
        assert metric(port, 'enclave_os_app_requests_total{app="spin"}') == 1
    finally:
        for c in socks:
            c.close()
    rc = s.stop(timeout=60)
    assert rc == 0, s.output()[-4000:]
    check_log_clean(s)


SLOWCALL = os.path.join(APPS, "slowcall.wasm")


@pytest.mark.skipif(not os.path.exists(SLOWCALL), reason="slowcall test component not built")
def test_slow_calls_do_not_hold_management(tmp_path):
    """wasm_call requests queue apart from management: while calls that
    compute for seconds fill their share, loads, lists and pings answer at
    once."""
    s = Server(tmp_path, "--dev", "--workers", "1", "--app-threads", "2")
    try:
        port = s.port
        load(port, "slow", SLOWCALL, max_fuel=10_000_000_000)

        def call(n, timeout=60):
            t0 = time.time()
            with connect(port, timeout=timeout) as c:
                r = inner(request(c, data_request(
                    {"wasm_call": {"app": "slow", "function": "spin", "params": [n]}})))
            return r, time.time() - t0

        r, took = call(1_000_000)
        assert r["status"] == "ok", r
        n = int(1_000_000 * (3.0 if SANITIZED else 1.5) / max(took, 0.001))
        results = []

        def slow():
            results.append(call(n)[0].get("status"))

        threads = [threading.Thread(target=slow) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        try:
            assert metric(port, 'enclave_os_app_in_flight{app="-calls"}') == 1
            for _ in range(3):
                t0 = time.time()
                with connect(port, timeout=QUICK + 2) as c:
                    reply = inner(request(c, data_request({"wasm_list": {}})))
                assert reply["status"] == "apps", reply
                assert time.time() - t0 < QUICK, "wasm_list waited %.2f s" % (time.time() - t0)
                quick_ping(port, "while calls compute")
            t0 = time.time()
            load(port, "h", HELLO)
            assert time.time() - t0 < 2 * QUICK + 2, "a load waited behind calls"
        finally:
            for t in threads:
                t.join(120)
        assert results == ["ok"] * 3, results
    finally:
        rc = s.stop(timeout=60)
    assert rc == 0, s.output()[-4000:]
    check_log_clean(s)
