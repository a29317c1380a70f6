"""TLS and mTLS with certificates made here by openssl: a registry requiring client
certificates, its plaintext health-only port for Kubernetes probes, the gateway and scoring's
front end speaking TLS to their clients and mTLS to the registry, and plaintext refused off
loopback."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import (BIN, Gateway, Registry, Scoring, check, health_status,  # noqa: E402
                     python_stubs, workdir, write_keys)

python_stubs()
import grpc  # noqa: E402
from accord.registry.v1 import registry_pb2, registry_pb2_grpc  # noqa: E402
from accord.scoring.v1 import scoring_pb2, scoring_pb2_grpc  # noqa: E402

d = workdir("tls")
tokens = write_keys(d)


def sh(*args):
    subprocess.run(args, check=True, capture_output=True, cwd=d)


sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
   "ca.pem", "-days", "2", "-subj", "/CN=accord-test-ca")
for name in ("server", "client"):
    sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
       f"{name}.csr", "-subj", f"/CN=accord-{name}")
    with open(os.path.join(d, f"{name}.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                f"extendedKeyUsage={'serverAuth,clientAuth' if name == 'server' else 'clientAuth'}\n")
    sh("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
       "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")
p = lambda name: os.path.join(d, name)  # noqa: E731
read = lambda name: open(p(name), "rb").read()  # noqa: E731
mtls = [f"--tls_cert={p('server.pem')}", f"--tls_key={p('server.key')}", f"--tls_ca={p('ca.pem')}"]

registry = Registry(d, mtls + ["--health_listen=127.0.0.1:0"])
health_port = registry.listening.get("health_port")
check(health_port, "the registry reports its health-only port")
md = (("authorization", "Bearer " + tokens["viewer"]),)
request = registry_pb2.ListDefinitionsRequest(parent="namespaces/default")

with_cert = grpc.ssl_channel_credentials(read("ca.pem"), read("client.key"), read("client.pem"))
stub = registry_pb2_grpc.RegistryStub(grpc.secure_channel(registry.address, with_cert))
stub.ListDefinitions(request, metadata=md, timeout=5)
check(True, "mTLS client with a certificate from the CA is served")
for name, creds in (("no client certificate", grpc.ssl_channel_credentials(read("ca.pem"))),):
    try:
        registry_pb2_grpc.RegistryStub(grpc.secure_channel(registry.address, creds)).ListDefinitions(
            request, metadata=md, timeout=5)
        check(False, f"{name} must be refused")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.UNAVAILABLE, f"{name}: {e.code()}")
try:
    registry_pb2_grpc.RegistryStub(grpc.insecure_channel(registry.address)).ListDefinitions(
        request, metadata=md, timeout=5)
    check(False, "plaintext to a TLS port must fail")
except grpc.RpcError as e:
    check(e.code() == grpc.StatusCode.UNAVAILABLE, f"plaintext to the TLS port: {e.code()}")
check(health_status(grpc.insecure_channel(f"127.0.0.1:{health_port}"),
                    "accord.registry.v1.Registry") == 1,
      "the plaintext health port reports SERVING for probes")
try:
    grpc.insecure_channel(f"127.0.0.1:{health_port}").unary_unary(
        "/accord.registry.v1.Registry/ListDefinitions")(request.SerializeToString(), metadata=md,
                                                          timeout=5)
    check(False, "the health port must serve nothing else")
except grpc.RpcError as e:
    check(e.code() == grpc.StatusCode.UNIMPLEMENTED, f"health port, other methods: {e.code()}")

# The gateway: TLS to its clients, mTLS (its client certificate) to the registry.
gateway = Gateway(d, registry.address, "127.0.0.1:1",
                  [f"--tls_cert={p('server.pem')}", f"--tls_key={p('server.key')}",
                   f"--tls_ca={p('ca.pem')}"])
client = registry_pb2_grpc.RegistryStub(grpc.secure_channel(gateway.address, with_cert))
client.ListDefinitions(request, metadata=md, timeout=5)
check(True, "client -> gateway (TLS) -> registry (mTLS) works")
check(gateway.listening.get("server_port") not in (None, gateway.port),
      "the gateway's TLS port is its HTTP/2 relay")
check(health_status(grpc.secure_channel(gateway.address, with_cert), "") == 1,
      "the gateway's own health over TLS")
# HTTP/JSON over the same TLS port: h2 (ALPN), the client certificate required as for gRPC.
def curl_tls(*args):
    out = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", p("ca.pem"), "-o", "-",
                          "-w", "\n%{http_code} %{http_version}", "-H",
                          f"Authorization: Bearer {tokens['viewer']}", *args],
                         capture_output=True, text=True, timeout=30)
    text, _, status = out.stdout.rpartition("\n")
    return status, text, out.stderr


listing = f"https://{gateway.address}/v1/namespaces/default/definitions"
status, text, _ = curl_tls("--cert", p("client.pem"), "--key", p("client.key"), listing)
check(status == "200 2" and text.startswith("{"),
      f"HTTP/JSON over h2 on the gateway's TLS port ({status} {text[:80]})")
status, text, err = curl_tls(listing)
check(not status.startswith("200"), f"HTTP/JSON over TLS without a client certificate: {status}")
for name, channel in (
        ("no client certificate", grpc.secure_channel(gateway.address,
                                                      grpc.ssl_channel_credentials(read("ca.pem")))),
        ("plaintext", grpc.insecure_channel(gateway.address))):
    try:
        registry_pb2_grpc.RegistryStub(channel).ListDefinitions(request, metadata=md, timeout=5)
        check(False, f"gateway: {name} must be refused")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.UNAVAILABLE, f"gateway: {name} refused ({e.code()})")

# Scoring: its HTTP/2 front end speaks TLS (mTLS) to its clients, and it watches the registry
# over mTLS. The registry here has published nothing: scoring's own answer, once it has
# read that from the registry, is FAILED_PRECONDITION.
scoring = Scoring(d, registry.address, tokens, extra=mtls)
check(scoring.listening.get("server_port") not in (None, scoring.port),
      "scoring's TLS port is its HTTP/2 front end")
score_md = (("authorization", "Bearer " + tokens["service"]),)
scoring_stub = scoring_pb2_grpc.ScoringStub(grpc.secure_channel(scoring.address, with_cert))
try:
    scoring_stub.ScoreLead(scoring_pb2.ScoreLeadRequest(lead=scoring_pb2.Lead(id="t")),
                           metadata=score_md, timeout=5)
    check(False, "no definitions: no score")
except grpc.RpcError as e:
    check(e.code() == grpc.StatusCode.FAILED_PRECONDITION and "published" in e.details(),
          f"scoring answers over TLS ({e.code()}: {e.details()})")
check(health_status(grpc.secure_channel(scoring.address, with_cert),
                    "accord.scoring.v1.Scoring") == 1,
      "scoring's health over TLS, through the front end")
for name, channel in (
        ("no client certificate", grpc.secure_channel(scoring.address,
                                                      grpc.ssl_channel_credentials(read("ca.pem")))),
        ("plaintext", grpc.insecure_channel(scoring.address))):
    try:
        scoring_pb2_grpc.ScoringStub(channel).ScoreLead(
            scoring_pb2.ScoreLeadRequest(lead=scoring_pb2.Lead(id="t")), metadata=score_md,
            timeout=5)
        check(False, f"scoring: {name} must be refused")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.UNAVAILABLE and "published" not in e.details(),
              f"scoring: {name} refused ({e.code()}: {e.details()})")
scoring.stop()

# Rotation: a renewed certificate and key written over the gateway's files (as a Kubernetes
# Secret update does) are served on new connections without a restart.
import shutil  # noqa: E402
import time  # noqa: E402
own = os.path.join(d, "gateway-tls")
os.makedirs(own)
for name in ("server.pem", "server.key", "ca.pem"):
    shutil.copy(p(name), os.path.join(own, name))
rotating = Gateway(d, registry.address, "127.0.0.1:1",
                   [f"--tls_cert={own}/server.pem", f"--tls_key={own}/server.key",
                    f"--tls_ca={own}/ca.pem"])
sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "renewed.key", "-out",
   "renewed.csr", "-subj", "/CN=accord-renewed")
sh("openssl", "x509", "-req", "-in", "renewed.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
   "-CAcreateserial", "-out", "renewed.pem", "-days", "2", "-extfile", "server.ext")


def served_subject():
    hello = subprocess.run(["openssl", "s_client", "-connect", rotating.address, "-alpn", "h2",
                            "-cert", p("client.pem"), "-key", p("client.key"), "-CAfile",
                            p("ca.pem")], input=b"", capture_output=True, timeout=10).stdout
    return subprocess.run(["openssl", "x509", "-noout", "-subject"], input=hello,
                          capture_output=True).stdout.decode()


check("accord-server" in served_subject(), "the gateway serves its certificate")
time.sleep(1.1)  # a later modification time than the files' first load
shutil.copy(p("renewed.pem"), os.path.join(own, "server.pem"))
shutil.copy(p("renewed.key"), os.path.join(own, "server.key"))
deadline = time.time() + 25
while "accord-renewed" not in served_subject() and time.time() < deadline:
    time.sleep(0.5)
check("accord-renewed" in served_subject(), "the gateway serves the renewed certificate")
registry_pb2_grpc.RegistryStub(grpc.secure_channel(
    rotating.address, with_cert, options=[("grpc.use_local_subchannel_pool", 1)])
).ListDefinitions(request, metadata=md, timeout=5)
check(True, "a client is served through the renewed certificate")
rotating.stop()

# Plaintext off loopback is refused unless explicitly allowed.
result = subprocess.run([os.path.join(BIN, "accord-registry"), "--listen=0.0.0.0:0",
                         f"--store=sqlite:{d}/other.db", f"--keys={d}/keys.yaml"],
                        capture_output=True, text=True, timeout=20)
check(result.returncode == 2 and "not a loopback address" in result.stderr,
      f"plaintext on 0.0.0.0 refused ({result.returncode})")
# Unusable start-up options are refused with the flag they concern.
for binary, flags, flag in [
        ("accord-registry", ["--store=mysql://db/x"], "--store"),
        ("accord-registry", ["--health_listen=nowhere"], "--health_listen"),
        ("accord-registry", ["--tls_cert=" + p("server.pem")], "--tls_key"),
        ("accord-gateway", ["--http_listen=127.0.0.1:notaport"], "--http_listen"),
        ("accord-gateway", ["--jwt_keys_dir=" + p("missing")], "--jwt_keys_dir"),
        ("accord-gateway", ["--relay_threads=-1"], "--relay_threads")]:
    store = [f"--store=sqlite:{d}/refused.db"] if binary == "accord-registry" else []
    result = subprocess.run([os.path.join(BIN, binary), "--listen=127.0.0.1:0",
                             "--admin_listen=127.0.0.1:0", *store, f"--keys={d}/keys.yaml",
                             *flags],
                            capture_output=True, text=True, timeout=20)
    check(result.returncode != 0 and flag in result.stderr,
          f"{binary} {flags}: refused naming {flag} ({result.returncode}: {result.stderr[-300:]})")

allowed = Registry(d, ["--listen=0.0.0.0:0", "--allow_plaintext"])
check(allowed.port > 0, "--allow_plaintext starts on 0.0.0.0")
for s in (allowed, gateway, registry):
    s.stop()
print("PASS")
