"""Apps that call out, through a real server: the allow-list given at load
(framed protocol and PUT) reaches the app, shows in the app's info, refuses
what it does not name, and the metrics count the calls."""
import http.server
import json
import os
import threading

import pytest

from eosnet import Server, body_of, call
from test_server_apps import get, https

APPS = os.environ.get("EOS_APPS_DIR", "")
EGRESS = os.path.join(APPS, "egress-js.wasm")

pytestmark = pytest.mark.skipif(not os.path.exists(EGRESS),
                                reason="egress-js component not built")


class Upstream(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from upstream"
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def upstream():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("egress"), "--dev", "--workers", "2")
    yield srv
    assert srv.alive(), srv.output()
    assert srv.stop() == 0, srv.output()


def egress_bytes():
    with open(EGRESS, "rb") as f:
        return f.read()


def test_allow_list_through_the_protocol(server, upstream):
    rule = "http://127.0.0.1:%d" % upstream
    reply = call(server.port, {"wasm_load": {"name": "px", "route": "/px",
                                             "bytes": list(egress_bytes()),
                                             "allow_outbound": [rule]}})
    assert reply["status"] == "loaded", reply
    assert reply["app"]["allow_outbound"] == [rule]
    r = get(server.port, "/px/fetch?u=http://127.0.0.1:%d/x" % upstream)
    assert r.startswith(b"HTTP/1.1 200 "), r[:300]
    assert body_of(r) == b"HELLO FROM UPSTREAM"
    # localhost is another name: not on the list
    r = get(server.port, "/px/fetch?u=http://localhost:%d/x" % upstream)
    assert r.startswith(b"HTTP/1.1 502 "), r[:300]
    assert "localhost:%d denied (HTTP-request-denied)" % upstream in server.output()
    metrics = body_of(get(server.port, "/.well-known/enclave-os/metrics")).decode()
    assert 'enclave_os_app_outbound_calls_total{app="px"} 1' in metrics
    assert 'enclave_os_app_outbound_denied_total{app="px"} 1' in metrics
    # a malformed rule is refused at load
    reply = call(server.port, {"wasm_load": {"name": "px2", "route": "/px2",
                                             "bytes": list(egress_bytes()),
                                             "allow_outbound": ["ftp://x"]}})
    assert reply["status"] == "error", reply


def test_allow_list_through_put(server, upstream):
    data = egress_bytes()
    head = ("PUT /.well-known/enclave-os/apps/pp HTTP/1.1\r\nHost: x\r\n"
            "Content-Length: %d\r\nx-enclave-os-route: /pp\r\n"
            "x-enclave-os-allow-outbound: https://example.com, http://127.0.0.1:%d\r\n"
            "Connection: close\r\n\r\n" % (len(data), upstream))
    r = https(server.port, head.encode() + data, timeout=120)
    assert r.startswith(b"HTTP/1.1 200 "), r[:300]
    doc = json.loads(body_of(r))
    assert doc["app"]["allow_outbound"] == ["https://example.com",
                                            "http://127.0.0.1:%d" % upstream]
    r = get(server.port, "/pp/fetch?u=http://127.0.0.1:%d/x" % upstream)
    assert body_of(r) == b"HELLO FROM UPSTREAM"
