"""The typed management calls against a real server: the C client library
(client_calls: load, list, call, verify, unload), the Python client's mirror
of the same calls, and `enclave-os verify` built on eos_client_verify."""
import hashlib
import json
import os
import subprocess

import pytest

import enclave_os_client as eos
from eosnet import EOS_BIN, Server

APPS = os.environ.get("EOS_APPS_DIR", "")
HELLO = os.path.join(APPS, "hello.wasm")
TYPED = os.environ.get("EOS_TYPED_WASM", "")
CALLS = os.environ.get("EOS_CLIENT_CALLS", "")

pytestmark = pytest.mark.skipif(not os.path.exists(HELLO),
                                reason="test components not built (needs node + jco)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("client"), "--dev", "--workers", "2")
    yield srv
    assert srv.alive(), srv.output()
    assert srv.stop() == 0, srv.output()


def test_c_client_typed_calls(server):
    args = [CALLS, "127.0.0.1:%d" % server.port, HELLO]
    if TYPED and os.path.exists(TYPED):
        args.append(TYPED)
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_python_client_typed_calls(server):
    with open(HELLO, "rb") as f:
        hello = f.read()
    rules = ["https://api.example.com", "https://*.example.org"]
    with eos.Client("127.0.0.1", server.port) as c:
        assert c.load("py-hello", hello, route="/py", hostname="py.example",
                      config={"greeting": "hi"}, allow_outbound=rules)["status"] == "loaded"
        try:
            assert "py-hello" in [a["name"] for a in c.list()["apps"]]
            assert c.call("py-nope", "f")["status"] == "error"
            if TYPED and os.path.exists(TYPED):
                with open(TYPED, "rb") as f:
                    assert c.load("py-typed", f.read())["status"] == "loaded"
                r = c.call("py-typed", "add", [2, 3])
                assert r["status"] == "ok" and r["returns"] == [5]
                assert c.unload("py-typed")["status"] == "unloaded"
            with pytest.raises(eos.VerificationError) as e:
                eos.verify("127.0.0.1", server.port)
            assert e.value.step == "simulated"
            v = eos.verify("127.0.0.1", server.port, allow_simulated=True)
            assert v["tee"] == "sim" and v["manifest_checked"]
            with eos.connect("127.0.0.1", server.port) as s:
                der = s.getpeercert(binary_form=True)
            assert v["cert_sha256"] == hashlib.sha256(der).hexdigest()
            apps = {a["name"]: a for a in v["apps"]}
            a = apps["py-hello"]
            assert a["confirmed"] and a["code_hash"] == hashlib.sha256(hello).hexdigest()
            assert a["route"] == "/py" and a["hostname"] == "py.example"
            assert a["outbound"] == "\n".join(rules) and a["tier"]
            assert a["commitments"]["route"] == hashlib.sha256(b"/py").hexdigest()
            assert set(a["commitments"]) >= {"route", "hostname", "env", "config", "outbound"}
            # the CLI's report (eos_client_verify) agrees field by field
            r = subprocess.run([EOS_BIN, "verify", "127.0.0.1:%d" % server.port,
                                "--allow-simulated", "--json"],
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stdout + r.stderr
            doc = json.loads(r.stdout)
            assert doc["cert_sha256"] == v["cert_sha256"]
            assert doc["merkle_root"] == v["config_root"]
            cli = {x["name"]: x for x in doc["apps"]}["py-hello"]
            for key in ("code_hash", "confirmed", "route", "hostname", "tier", "outbound",
                        "commitments"):
                assert cli[key] == a[key], key
        finally:
            assert c.unload("py-hello")["status"] == "unloaded"


def test_python_client_refuses_a_listed_value_the_manifest_contradicts():
    code = bytes(32)
    entries = [("wasm.a.code_hash", hashlib.sha256(code).digest()),
               ("wasm.a.route", hashlib.sha256(b"/a").digest()),
               ("wasm.a.hostname", bytes(32)),
               ("wasm.a.b.code_hash", hashlib.sha256(code).digest()),
               ("wasm.a.b.route", hashlib.sha256(b"/b").digest())]
    listed = [{"name": "a", "code_hash": code.hex(), "route": "/a", "hostname": None},
              {"name": "a.b", "code_hash": code.hex(), "route": "/elsewhere"}]
    apps = {x["name"]: x for x in eos._confirmed_apps(entries, listed)}
    assert apps["a"]["confirmed"] and apps["a"]["route"] == "/a"
    # a.b's leaves are its own, not a's
    assert set(apps["a"]["commitments"]) == {"route", "hostname"}
    assert not apps["a.b"]["confirmed"] and apps["a.b"]["route"] is None


ARGS = os.path.join(APPS, "args.wasm")


@pytest.mark.skipif(not os.path.exists(ARGS), reason="args command not built")
def test_command_line_reaches_a_cli_run_component(server):
    """`enclave-os call --argv0/--arg` and the Python client's args= give a
    wasi:cli/run component its get-arguments; without them argv[0] is the
    app's name. A command that exits answers with its status."""
    run = "wasi:cli/run@0.2.0#run"
    addr = "127.0.0.1:%d" % server.port
    with open(ARGS, "rb") as f:
        wasm = f.read()
    with eos.Client("127.0.0.1", server.port) as c:
        assert c.load("cmd-args", wasm)["status"] == "loaded"
        try:
            r = c.call("cmd-args", run, args=["prog", "a", "b c"])
            assert r["status"] == "ok" and r["returns"] == [{"ok": None}], r
            r = c.call("cmd-args", run)  # argv = ["cmd-args"]: exits non-zero
            assert r["status"] == "exited" and r["exit_code"] != 0, r
            r = c.call("cmd-args", run, args=[1])
            assert r["status"] == "error" and r["code"] == "invalid_request", r
            cli = subprocess.run([EOS_BIN, "call", "cmd-args", run, "-s", addr,
                                  "--allow-simulated", "--json", "--argv0", "prog",
                                  "--arg", "a", "--arg", "b c"],
                                 capture_output=True, text=True, timeout=60)
            assert cli.returncode == 0, cli.stdout + cli.stderr
            assert json.loads(cli.stdout)["status"] == "ok", cli.stdout
            cli = subprocess.run([EOS_BIN, "call", "cmd-args", run, "-s", addr,
                                  "--allow-simulated", "--json", "--arg", "a", "--arg", "b c"],
                                 capture_output=True, text=True, timeout=60)
            assert json.loads(cli.stdout)["status"] == "exited", cli.stdout
            # A bare call: no APP_NAME/APP_VERSION, no preopen (the program
            # does not look at files; the flags must be booleans).
            cli = subprocess.run([EOS_BIN, "call", "cmd-args", run, "-s", addr,
                                  "--allow-simulated", "--json", "--argv0", "bare",
                                  "--no-app-env", "--no-preopen"],
                                 capture_output=True, text=True, timeout=60)
            assert json.loads(cli.stdout)["status"] == "exited", cli.stdout
            r = c.request({"wasm_call": {"app": "cmd-args", "function": run,
                                         "no_app_env": 1}})
            assert r["status"] == "error" and r["code"] == "invalid_request", r
        finally:
            c.unload("cmd-args")
    log = server.output()
    assert "argv[0]=prog" in log and "argv[2]=b c" in log and "argv[0]=cmd-args" in log
    assert "APP_NAME=cmd-args" in log
    assert "APP_NAME=(unset)" in log
