"""A registry restarted behind a running gateway is used by the very next calls, on every event
loop of the gRPC port and on the HTTP/JSON port: no back-off keeps failing callers after the
registry is back (the flaky `make run` start of issue 17)."""
import os
import signal
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import (BIN, Gateway, Server, Scoring, check, python_stubs,  # noqa: E402
                     workdir, write_keys)

python_stubs()
import grpc  # noqa: E402
from accord.registry.v1 import registry_pb2, registry_pb2_grpc  # noqa: E402

d = workdir("backend_restart")
tokens = write_keys(d)
md = (("authorization", "Bearer " + tokens["viewer"]),)


def registry(port):
    return Server(d, [os.path.join(BIN, "accord-registry"), f"--listen=127.0.0.1:{port}",
                      "--admin_listen=127.0.0.1:0", f"--store=sqlite:{d}/registry.db",
                      f"--keys={d}/keys.yaml"], "registry ready")


def until_ok(call, seconds=10):
    """Seconds until `call()` first succeeds (None: never within `seconds`)."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            call()
            return time.monotonic() - start
        except (grpc.RpcError, urllib.error.URLError, ConnectionError):
            time.sleep(0.01)
    return None


first = registry(0)
port = first.port
scoring = Scoring(d, first.address, tokens)
gateway = Gateway(d, first.address, scoring.address)
# Four connections to the gateway (dealt to its event loops in turn), and HTTP/JSON.
stubs = [registry_pb2_grpc.RegistryStub(grpc.insecure_channel(
    gateway.address, options=[("grpc.use_local_subchannel_pool", 1)])) for _ in range(4)]
request = registry_pb2.ListDefinitionsRequest(parent="namespaces/default")


def grpc_call(stub):
    return lambda: stub.ListDefinitions(request, metadata=md, timeout=2)


def http_call():
    req = urllib.request.Request(gateway.http + "/v1/namespaces/default/definitions",
                                 headers={"Authorization": "Bearer " + tokens["viewer"]})
    urllib.request.urlopen(req, timeout=2).read()


second = None
try:
    for stub in stubs:
        grpc_call(stub)()
    http_call()
    first.stop(signal.SIGKILL)
    try:
        grpc_call(stubs[0])()
        check(False, "a call with the registry down succeeded")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.UNAVAILABLE, f"registry down: {e.code()}")
    # Callers keep trying for a second while it is down (their failures are back-off's trigger).
    for _ in range(20):
        for stub in stubs:
            until_ok(grpc_call(stub), 0.01)
        until_ok(http_call, 0.01)
        time.sleep(0.05)
    second = registry(port)  # returns once it is ready
    waits = [until_ok(grpc_call(stub)) for stub in stubs]
    http_wait = until_ok(http_call)
    print(f"after the restart: gRPC connections served after {waits} s, HTTP/JSON after "
          f"{http_wait} s")
    check(all(w is not None and w < 0.5 for w in waits),
          f"every gRPC connection is served within 0.5 s of the restart: {waits}")
    # The HTTP/JSON port still calls through gRPC channels (back-off 0.1-1 s, with jitter).
    check(http_wait is not None and http_wait < 2.5,
          f"HTTP/JSON is served within 2.5 s of the restart: {http_wait}")
finally:
    for s in (gateway, scoring, second):
        if s is not None:
            s.stop()
print("backend_restart_test: ok")
