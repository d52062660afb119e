"""Three nodes sharing a PostgreSQL store behind HAProxy (scripts/cluster.sh),
nodes 2 and 3 having joined through node 1: requests through HAProxy reach
every node, which answer with the same app and certificate root (node 1's
CA, handed over to the joiners); a joiner
with another measurement is refused and says why; a load or unload through one node reaches the others
and every node ends with the same configuration root; a node that was down
catches up; increments through different nodes add up exactly; a node
killed with -9 under load loses no acknowledged write while HAProxy moves
its traffic, and it comes back; the database restarting under load loses no
acknowledged write either; a node restarted on a rolled-back database refuses
to start; `enclave-os list --cluster` shows every node. Short versions; EOS_CLUSTER_LOAD_S lengthens the
load phases for a run by hand."""
import json
import os
import socket
import ssl
import subprocess
import threading
import time
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ObjectIdentifier

from eosnet import body_of

HERE = os.path.dirname(os.path.abspath(__file__))
EOS_BIN = os.environ.get("EOS_BIN", os.path.join(HERE, "../../build/src/cli/enclave-os"))
CLUSTER = os.path.join(HERE, "../../scripts/cluster.sh")
PGTMP = os.path.join(HERE, "../../scripts/pgtmp.sh")
APPS = os.environ.get("EOS_APPS", os.path.join(HERE, "../../build/examples"))
LOAD_S = float(os.environ.get("EOS_CLUSTER_LOAD_S", "4"))
OID_ROOT = "1.3.6.1.4.1.65230.1.1"

pytestmark = pytest.mark.skipif(
    not (os.path.exists(os.path.join(APPS, "hello/hello.wasm")) and
         os.path.exists(os.path.join(APPS, "kv-counter/kv-counter.wasm"))),
    reason="example apps not built")


def have(tool):
    return subprocess.run(["sh", "-c", "command -v " + tool], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if not have("haproxy"):
        pytest.skip("haproxy is not installed")
    state = str(tmp_path_factory.mktemp("cluster") / "c")
    env = dict(os.environ, EOS_APPS=APPS)
    r = subprocess.run([CLUSTER, "start", state], capture_output=True, text=True, env=env,
                       timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    out = subprocess.run([CLUSTER, "env", state], capture_output=True, text=True).stdout
    c = {"state": state}
    for line in out.splitlines():
        k, _, v = line.partition("=")
        c[k] = v.strip("'")
    yield c
    subprocess.run([CLUSTER, "stop", state], timeout=120)


def port_of(addr):
    return int(addr.rsplit(":", 1)[1])


def ctx():
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def get(port, path, timeout=10):
    """One HTTPS GET on a fresh connection; returns (status, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        with ctx().wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" %
                       path).encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, body_of(data)


def cert_root(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx().wrap_socket(raw, server_hostname="localhost") as s:
            cert = x509.load_der_x509_certificate(s.getpeercert(binary_form=True))
    root = cert.extensions.get_extension_for_oid(ObjectIdentifier(OID_ROOT)).value.value
    return root, cert.issuer.rfc4514_string()


def server_sessions(c):
    """HAProxy's total session count per node, from its stats page."""
    csv = urllib.request.urlopen("http://%s/;csv" % c["EOS_HAPROXY_STATS"], timeout=5).read()
    out = {}
    for line in csv.decode().splitlines():
        f = line.split(",")
        if len(f) > 8 and f[0] == "eos_nodes" and f[1] in ("n1", "n2", "n3"):
            out[f[1]] = int(f[7])
    return out


def nodes(c):
    return [port_of(c["EOS_NODE%d" % n]) for n in (1, 2, 3)]


def test_cluster_requests_reach_every_node(cluster):
    hp = port_of(cluster["EOS_HAPROXY"])
    before = server_sessions(cluster)
    for _ in range(12):
        status, body = get(hp, "/hello/hello")
        assert status == 200 and b"Hello" in body
    after = server_sessions(cluster)
    for n in ("n1", "n2", "n3"):
        assert after[n] > before.get(n, 0), (before, after)
    roots = {cert_root(p) for p in nodes(cluster)}
    assert len(roots) == 1, roots


def leaf_cert(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx().wrap_socket(raw, server_hostname="localhost") as s:
            return x509.load_der_x509_certificate(s.getpeercert(binary_form=True))


def test_cluster_nodes_chain_to_one_root(cluster):
    # No operator CA: node 1 made its CA in its TEE and handed it over,
    # wrapped to the joiners' attested keys, with the data key.
    roots = set()
    for p in nodes(cluster):
        status, body = get(p, "/.well-known/enclave-os/certificate")
        assert status == 200
        pems = body.split(b"-----END CERTIFICATE-----")[:-1]
        chain = [x509.load_pem_x509_certificate(b + b"-----END CERTIFICATE-----\n")
                 for b in pems]
        leaf = leaf_cert(p)
        issuer = [c for c in chain if c.subject == leaf.issuer]
        assert issuer, [c.subject for c in chain]
        # The leaf's signature checks with the CA's key (raises otherwise).
        issuer[0].public_key().verify(leaf.signature, leaf.tbs_certificate_bytes,
                                      ec.ECDSA(leaf.signature_hash_algorithm))
        roots.add(chain[-1].fingerprint(hashes.SHA256()))
    assert len(roots) == 1
    for n in (2, 3):
        with open(os.path.join(cluster["state"], "n%d" % n, "log")) as f:
            assert "took the cluster's CA" in f.read()


def cli(*args):
    r = subprocess.run([EOS_BIN] + list(args), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def cluster_view(port):
    status, body = get(port, "/.well-known/enclave-os/cluster")
    assert status == 200
    return json.loads(body)


def wait_for(cond, seconds=15):
    """Polls cond until true; returns the seconds it took (the time is
    printed, never asserted)."""
    t0 = time.time()
    while time.time() - t0 < seconds:
        if cond():
            return time.time() - t0
        time.sleep(0.02)
    raise AssertionError("not within %s s" % seconds)


def serves(port, path):
    try:
        return get(port, path, timeout=5)[0] != 404
    except OSError:
        return False


def same_roots(c):
    def check():
        views = [cluster_view(p) for p in nodes(c)]
        if any("node" not in v for v in views):
            return False  # a node that has not recorded itself yet
        ids = {v["node"] for v in views}
        ok = all(len([n for n in v["nodes"] if n["node"] in ids]) == 3 for v in views)
        roots = {n["root"] for v in views for n in v["nodes"] if n["node"] in ids}
        versions = {n["version"] for v in views for n in v["nodes"] if n["node"] in ids}
        return ok and len(roots) == 1 and len(versions) == 1
    return check


def test_cluster_list_shows_every_node(cluster):
    n1 = cluster["EOS_NODE1"]
    wait_for(same_roots(cluster))
    out = cli("list", "--cluster", "-s", cluster["EOS_HAPROXY"], "--allow-simulated")
    print(out)
    view = cluster_view(nodes(cluster)[0])
    assert len(view["nodes"]) == 3
    for n in view["nodes"]:
        line = [l for l in out.splitlines() if l.startswith(n["node"])]
        assert len(line) == 1 and n["root"] in line[0] and " %d " % n["version"] in line[0], out
    assert "3 nodes, same root and version" in out
    doc = json.loads(cli("list", "--cluster", "--json", "-s", n1, "--allow-simulated"))
    assert {n["node"] for n in doc["nodes"]} == {n["node"] for n in view["nodes"]}


def test_cluster_load_and_unload_reach_every_node(cluster):
    echo = os.path.join(APPS, "echo/echo.wasm")
    n1, n2, n3 = nodes(cluster)
    cli("load", echo, "--name", "echo", "-s", "127.0.0.1:%d" % n1, "--allow-simulated")
    took = wait_for(lambda: serves(n2, "/echo/x") and serves(n3, "/echo/x"))
    print("load reached every node in %.3f s" % took)
    wait_for(same_roots(cluster))
    roots = {cert_root(p)[0] for p in nodes(cluster)}
    assert len(roots) == 1
    cli("unload", "echo", "-s", "127.0.0.1:%d" % n3, "--allow-simulated")
    took = wait_for(lambda: not serves(n1, "/echo/x") and not serves(n2, "/echo/x"))
    print("unload reached every node in %.3f s" % took)
    wait_for(same_roots(cluster))


def test_cluster_node_catches_up(cluster):
    echo = os.path.join(APPS, "echo/echo.wasm")
    n1, n2, n3 = nodes(cluster)
    subprocess.run([CLUSTER, "kill", "3", cluster["state"]], check=True)
    cli("load", echo, "--name", "late", "-s", "127.0.0.1:%d" % n1, "--allow-simulated")
    subprocess.run([CLUSTER, "revive", "3", cluster["state"]], check=True)
    wait_for(lambda: serves(n3, "/late/x"))
    wait_for(same_roots(cluster))
    cli("unload", "late", "-s", "127.0.0.1:%d" % n2, "--allow-simulated")
    wait_for(lambda: not serves(n3, "/late/x"))


def test_cluster_joiner_with_other_measurement_refused(cluster, tmp_path):
    # The simulated TEE measures the binary: one byte more is another build.
    other = str(tmp_path / "enclave-os-other")
    with open(EOS_BIN, "rb") as f, open(other, "wb") as g:
        g.write(f.read() + b"x")
    os.chmod(other, 0o755)
    data = tmp_path / "other-data"
    data.mkdir()
    n1 = cluster["EOS_NODE1"]
    r = subprocess.run([other, "serve", "--dev", "--tee", "sim", "--data-dir", str(data),
                        "--listen", "127.0.0.1:0", "--store", cluster["EOS_STORE"], "--join", n1],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "refused to release the data key" in r.stderr, r.stderr
    assert "measurement" in r.stderr
    assert not (data / "master.sealed").exists()
    with open(os.path.join(cluster["state"], "n1", "log")) as f:
        assert "refused a node that asked to join" in f.read()


def counter(port, key):
    status, body = get(port, "/kv-counter/" + key)
    assert status == 200, body
    return int(body.strip())


def test_cluster_increments_add_up(cluster):
    ports = nodes(cluster) + [port_of(cluster["EOS_HAPROXY"])]
    errors = []

    def worker(p):
        for _ in range(15):
            try:
                counter(p, "sum")
            except Exception as e:  # noqa: BLE001 - collected and asserted below
                errors.append(repr(e))
    th = [threading.Thread(target=worker, args=(p,)) for p in ports for _ in range(2)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    assert not errors, errors[:3]
    # A GET of the counter adds one more: 8 workers x 15, plus this read.
    assert counter(ports[0], "sum") == 8 * 15 + 1


def load(port, key, seconds, acked, failed):
    """Increments through port for seconds; every acknowledged value lands
    in acked, every failure (an error or a cut connection) in failed."""
    end = time.time() + seconds
    while time.time() < end:
        try:
            status, body = get(port, "/kv-counter/" + key, timeout=5)
            if status == 200:
                acked.append(int(body.strip()))
            else:
                failed.append(status)
        except (OSError, ValueError, IndexError) as e:
            failed.append(repr(e))
            time.sleep(0.05)


def check_no_lost_write(port, key, acked, failed):
    print("%s: %d acknowledged, %d failed" % (key, len(acked), len(failed)))
    # Every acknowledged increment produced a distinct value, and the final
    # count covers all of them (a failed one may or may not have applied).
    assert len(set(acked)) == len(acked)
    final = counter(port, key) - 1  # minus this read's own increment
    assert len(acked) <= final <= len(acked) + len(failed), (len(acked), len(failed), final)
    assert max(acked) <= final


def test_cluster_kill_node_under_load(cluster):
    hp = port_of(cluster["EOS_HAPROXY"])
    acked, failed = [], []
    th = [threading.Thread(target=load, args=(hp, "k9", LOAD_S, acked, failed)) for _ in range(3)]
    for t in th:
        t.start()
    time.sleep(LOAD_S / 3)
    subprocess.run([CLUSTER, "kill", "2", cluster["state"]], check=True)
    for t in th:
        t.join()
    assert len(acked) > 10
    # After the kill, HAProxy stops sending to node 2: the last requests
    # succeed through the others.
    for _ in range(6):
        status, _ = get(hp, "/hello/hello")
        assert status == 200
    check_no_lost_write(hp, "k9", acked, failed)
    # The node comes back and reads what was written while it was down.
    subprocess.run([CLUSTER, "revive", "2", cluster["state"]], check=True)
    n2 = nodes(cluster)[1]
    assert counter(n2, "k9") >= len(acked) + 2


def test_cluster_database_restart_under_load(cluster):
    hp = port_of(cluster["EOS_HAPROXY"])
    acked, failed = [], []
    th = [threading.Thread(target=load, args=(hp, "pgr", LOAD_S, acked, failed))
          for _ in range(2)]
    for t in th:
        t.start()
    time.sleep(LOAD_S / 3)
    subprocess.run([PGTMP, "restart", os.path.join(cluster["state"], "pg")], check=True)
    for t in th:
        t.join()
    assert len(acked) > 5
    check_no_lost_write(hp, "pgr", acked, failed)


def psql(c, statement):
    r = subprocess.run([PGTMP, "psql", os.path.join(c["state"], "pg"), "-At", "-c", statement],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_cluster_restarted_node_refuses_rolled_back_database(cluster):
    state = cluster["state"]
    n2 = nodes(cluster)[1]
    counter(n2, "rb")
    psql(cluster, "DROP TABLE IF EXISTS eos_rb_old, eos_rb_new")
    psql(cluster, "CREATE TABLE eos_rb_old AS SELECT * FROM eos_kv")
    for _ in range(5):
        counter(n2, "rb")
    time.sleep(2.5)  # a node seals its high-water marks about once a second
    subprocess.run([CLUSTER, "kill", "2", state], check=True)
    psql(cluster, "CREATE TABLE eos_rb_new AS SELECT * FROM eos_kv")
    # The operator rolls every row that changed since back to its old copy:
    # authentic rows, only older.
    psql(cluster, "UPDATE eos_kv e SET ver = o.ver, v = o.v FROM eos_rb_old o "
                  "WHERE e.k = o.k AND e.ver > o.ver")
    r = subprocess.run([CLUSTER, "revive", "2", state], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode != 0, r.stdout + r.stderr
    with open(os.path.join(state, "n2", "log")) as f:
        log = f.read()
    assert "refusing to start" in log and "rolled back" in log, log[-2000:]
    print([l for l in log.splitlines() if "refusing to start" in l][-1])
    # With the newer rows back, the node starts and counts on.
    psql(cluster, "UPDATE eos_kv e SET ver = n.ver, v = n.v FROM eos_rb_new n "
                  "WHERE e.k = n.k AND e.ver < n.ver")
    psql(cluster, "DROP TABLE eos_rb_old, eos_rb_new")
    subprocess.run([CLUSTER, "revive", "2", state], check=True, timeout=120)
    assert counter(n2, "rb") == 7
