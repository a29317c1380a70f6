"""Authentication and authorization through the gateway: every method of the compiled
descriptors x every kind of principal (API keys, JWTs good and bad), principals alternating
on one connection, JWT key rotation, and hostile inputs on both front ends."""
import base64
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (ROLES, Gateway, JwtIssuer, Registry, Scoring, check,  # noqa: E402
                     error_details, python_stubs, workdir, write_keys)

python_stubs()
import grpc  # noqa: E402
from accord.registry.v1 import registry_pb2  # noqa: E402
from accord.scoring.v1 import scoring_pb2  # noqa: E402

d = workdir("gateway-authz")
tokens = write_keys(d)
issuer = JwtIssuer(d)
jwt_flags = [f"--jwt_keys_dir={issuer.dir}"]
registry = Registry(d, jwt_flags)
scoring = Scoring(d, registry.address, tokens, wait_ready=False, extra=jwt_flags)
gateway = Gateway(d, registry.address, scoring.address, jwt_flags + ["--quota_burst=100000",
                                                                     "--quota_rps=100000"])

# The specification, written independently of common/auth.cc: method -> permission and
# role -> permissions (docs/registry.md, "Roles").
PERMISSION = {}
for m in ["GetDefinition", "ListDefinitions", "GetRevision", "ListRevisions", "ListAuditEvents",
          "GetCaller", "DiffDefinition", "ListVerdicts", "GetQualityReport"]:
    PERMISSION["/accord.registry.v1.Registry/" + m] = "read"
PERMISSION["/accord.registry.v1.Registry/WatchDefinitions"] = "watch"
for m in ["CreateDefinition", "UpdateDefinition", "ProposeRevision"]:
    PERMISSION["/accord.registry.v1.Registry/" + m] = "edit"
for m in ["ApproveRevision", "RejectRevision"]:
    PERMISSION["/accord.registry.v1.Registry/" + m] = "review"
PERMISSION["/accord.registry.v1.Registry/PublishRevision"] = "publish"
for m in ["DeleteDefinition", "UndeleteDefinition", "RollbackDefinition"]:
    PERMISSION["/accord.registry.v1.Registry/" + m] = "manage"
PERMISSION["/accord.registry.v1.Registry/StoreVerdicts"] = "store_verdicts"
PERMISSION["/accord.registry.v1.Registry/EraseLeadVerdicts"] = "erase"
PERMISSION["/accord.scoring.v1.Scoring/RecordVerdicts"] = "record_verdicts"
PERMISSION["/accord.scoring.v1.Scoring/GetShadowReport"] = "read"
ROLE_PERMISSIONS = {
    "viewer": {"read", "watch"},
    "marketing_editor": {"read", "watch", "edit", "publish", "score"},
    "sales_editor": {"read", "watch", "edit", "publish", "score", "record_verdicts"},
    "marketing_approver": {"read", "watch", "review", "publish", "manage", "score"},
    "sales_approver": {"read", "watch", "review", "publish", "manage", "score",
                       "record_verdicts"},
    "service": {"read", "watch", "score", "record_verdicts"},
    "admin": {"read", "watch", "edit", "publish", "manage", "score", "record_verdicts", "erase"},
    # The scoring service itself: it alone stores the verdicts it derived.
    "scorer": {"read", "watch", "store_verdicts"},
}

methods = []
for service in [registry_pb2.DESCRIPTOR.services_by_name["Registry"],
                scoring_pb2.DESCRIPTOR.services_by_name["Scoring"]]:
    for m in service.methods:
        path = f"/{service.full_name}/{m.name}"
        methods.append((path, m.client_streaming, m.server_streaming))
        if service.name == "Scoring":
            PERMISSION.setdefault(path, "score")
check(len(methods) == 35, f"35 methods in the compiled descriptors ({len(methods)})")
check(all(p in PERMISSION for p, _, _ in methods), "every method has an expected permission")


def b64(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


now = int(time.time())
alg_none = b64({"alg": "none", "typ": "JWT", "kid": "k1"}) + "." + b64(
    {"sub": "eve", "roles": ["admin"], "iss": "accord", "aud": "accord", "exp": now + 300}) + "."


def hs256_with_public_key():
    import hashlib
    import hmac
    header = b64({"alg": "HS256", "typ": "JWT", "kid": "k1"})
    payload = b64({"sub": "eve", "roles": ["admin"], "iss": "accord", "aud": "accord",
                   "exp": now + 300})
    sig = hmac.new(issuer.rsa_public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()


BAD = {
    "none": None,
    "garbage": "Bearer garbage-token",
    "not bearer": "Basic dXNlcjpwYXNz",
    "expired": "Bearer " + issuer.token("eve", ["admin"], exp=now - 3600),
    "not yet valid": "Bearer " + issuer.token("eve", ["admin"], nbf=now + 3600),
    "wrong iss": "Bearer " + issuer.token("eve", ["admin"], iss="someone-else"),
    "wrong aud": "Bearer " + issuer.token("eve", ["admin"], aud="another-api"),
    "alg none": "Bearer " + alg_none,
    "HS256 with the RSA public key": "Bearer " + hs256_with_public_key(),
    "unknown kid": "Bearer " + issuer.token("eve", ["admin"], kid="nope"),
    "ES256 token for an RS256 key": "Bearer " + issuer.token("eve", ["admin"], alg="ES256",
                                                             kid="k1"),
    "unknown role": "Bearer " + issuer.token("eve", ["root"]),
    "oversized": "Bearer " + "a" * 9000 + "." + "b" * 10 + ".c",
}
GOOD = {}
JWT_FOR = {}
for i, role in enumerate(ROLES):
    GOOD[f"api key {role}"] = (role, "Bearer " + tokens[role])
    alg = "RS256" if i % 2 == 0 else "ES256"
    JWT_FOR[role] = "Bearer " + issuer.token(f"{role}@jwt", [role], alg=alg)
    GOOD[f"JWT {alg} {role}"] = (role, JWT_FOR[role])

channel = grpc.insecure_channel(gateway.address)


def call(path, client_streaming, server_streaming, authorization):
    metadata = (("authorization", authorization),) if authorization else ()
    try:
        if client_streaming and server_streaming:
            next(channel.stream_stream(path)(iter([]), metadata=metadata, timeout=3), None)
        elif client_streaming:
            channel.stream_unary(path)(iter([]), metadata=metadata, timeout=3)
        elif server_streaming:
            stream = channel.unary_stream(path)(b"", metadata=metadata, timeout=3)
            next(stream, None)
            stream.cancel()
        else:
            channel.unary_unary(path)(b"", metadata=metadata, timeout=3)
        return grpc.StatusCode.OK, ""
    except grpc.RpcError as e:
        reason, _ = error_details(e)
        return e.code(), reason


failures = []
calls = 0
for path, cs, ss in methods:
    for name, authorization in BAD.items():
        code, _ = call(path, cs, ss, authorization)
        calls += 1
        if code != grpc.StatusCode.UNAUTHENTICATED:
            failures.append(f"{path} with {name}: {code} (want UNAUTHENTICATED)")
    for name, (role, authorization) in GOOD.items():
        code, reason = call(path, cs, ss, authorization)
        calls += 1
        allowed = PERMISSION[path] in ROLE_PERMISSIONS[role]
        if allowed and code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
            failures.append(f"{path} as {name}: {code} {reason} (want admitted)")
        if not allowed and code != grpc.StatusCode.PERMISSION_DENIED:
            failures.append(f"{path} as {name}: {code} (want PERMISSION_DENIED)")
check(not failures, f"authorization matrix, {calls} calls:\n" + "\n".join(failures[:20]))

# A method that is not in any service: UNIMPLEMENTED, never forwarded.
code, _ = call("/accord.registry.v1.Registry/DropEverything", False, False,
               "Bearer " + tokens["admin"])
check(code == grpc.StatusCode.UNIMPLEMENTED, f"unknown method: UNIMPLEMENTED ({code})")

# Principals alternating on one connection never leak into each other.
delete = channel.unary_unary("/accord.registry.v1.Registry/DeleteDefinition")
request = registry_pb2.DeleteDefinitionRequest(
    name="namespaces/default/definitions/does-not-exist").SerializeToString()
for i in range(60):
    role = ["viewer", "admin", "service"][i % 3]
    auth = GOOD["api key " + role][1] if i % 2 else JWT_FOR[role]
    try:
        delete(request, metadata=(("authorization", auth),), timeout=3)
        code = grpc.StatusCode.OK
    except grpc.RpcError as e:
        code = e.code()
    want = grpc.StatusCode.NOT_FOUND if role == "admin" else grpc.StatusCode.PERMISSION_DENIED
    check(code == want, f"call {i} as {role} on a shared connection: {code}")

# JWT key rotation: a key file added while running is used within a few seconds.
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
import jwt as pyjwt  # noqa: E402
k3 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
with open(os.path.join(issuer.dir, "k3.rs256.pem"), "wb") as f:
    f.write(k3.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo))
rotated = "Bearer " + pyjwt.encode({"sub": "rotated", "roles": ["viewer"], "iss": "accord",
                                    "aud": "accord", "exp": int(time.time()) + 300}, k3,
                                   algorithm="RS256", headers={"kid": "k3"})
get = channel.unary_unary("/accord.registry.v1.Registry/ListDefinitions")
list_request = registry_pb2.ListDefinitionsRequest(parent="namespaces/default").SerializeToString()
deadline = time.time() + 8
ok = False
while time.time() < deadline and not ok:
    try:
        get(list_request, metadata=(("authorization", rotated),), timeout=3)
        ok = True
    except grpc.RpcError:
        time.sleep(0.5)
check(ok, "a JWT signed with a newly mounted key is accepted without a restart")

# Asserted roles (x-accord-roles, development mode only) are never passed on by a gateway that
# authenticates: even a backend wrongly left in insecure mode cannot be fooled through it.
loose_dir = workdir("gateway-authz-loose")
write_keys(loose_dir)
with open(os.path.join(loose_dir, "keys.yaml"), "w") as f:
    f.write(open(os.path.join(d, "keys.yaml")).read())
loose = Registry(loose_dir, ["--insecure_dev"], keys=False)
strict = Gateway(loose_dir, loose.address, scoring.address)
create = registry_pb2.CreateDefinitionRequest(parent="namespaces/default", definition_id="x1")
try:
    grpc.insecure_channel(strict.address).unary_unary(
        "/accord.registry.v1.Registry/CreateDefinition")(
            create.SerializeToString(), timeout=5,
            metadata=(("authorization", "Bearer " + tokens["marketing_editor"]),
                      ("x-accord-roles", "admin,marketing_editor")))
    code = grpc.StatusCode.OK
except grpc.RpcError as e:
    code = e.code()
check(code == grpc.StatusCode.PERMISSION_DENIED,
      f"x-accord-roles is not forwarded by an authenticating gateway ({code})")
strict.stop()
loose.stop()

# --- hostile inputs, gRPC ---
viewer = (("authorization", "Bearer " + tokens["viewer"]),)
try:
    get(b"\x0a" + b"\xff\xff\xff\x02" + b"x" * (5 * 1024 * 1024), metadata=viewer, timeout=5)
    check(False, "a 5 MiB message must be refused")
except grpc.RpcError as e:
    check(e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, f"5 MiB gRPC message: {e.code()}")
try:
    get(list_request, metadata=viewer + (("x-padding", "p" * 20000),), timeout=5)
    check(False, "20 KB of metadata must be refused")
except grpc.RpcError as e:
    check(e.code() in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.INTERNAL,
                       grpc.StatusCode.UNAVAILABLE), f"20 KB of gRPC metadata: {e.code()}")
# Not HTTP/2 at all on the gRPC port: the connection is closed, nothing else is affected.
with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as raw:
    raw.sendall(b"GET /accord.registry.v1.Registry/ListDefinitions HTTP/1.1\r\nHost: x\r\n\r\n")
    raw.settimeout(5)
    leftover = b""
    try:
        while chunk := raw.recv(4096):
            leftover += chunk
        closed = True
    except socket.timeout:
        closed = False
check(closed, f"HTTP/1.1 bytes on the gRPC port: connection closed ({leftover[:60]!r})")
# The offending connection may be closed; a new one (not from the process-wide subchannel
# pool, which would hand back the closed one) is served.
fresh = grpc.insecure_channel(gateway.address, options=[("grpc.use_local_subchannel_pool", 1)])
fresh.unary_unary("/accord.registry.v1.Registry/ListDefinitions")(
    list_request, metadata=viewer, timeout=5, wait_for_ready=True)


# --- hostile inputs, HTTP ---
def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


rss_before = rss_kib(gateway.proc.pid)


def curl(url, *args, body=None, token=tokens["service"]):
    cmd = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "--max-time", "15",
           "-H", f"Authorization: Bearer {token}"] + list(args)
    if body is not None:
        body_file = os.path.join(d, "body.json")
        with open(body_file, "wb") as f:
            f.write(body if isinstance(body, bytes) else body.encode())
        cmd += ["-H", "Content-Type: application/json", "--data-binary", "@" + body_file]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=30).stdout
    text, code = out.rsplit("\n", 1)
    return int(code), text


score_url = f"{gateway.http}/v1/scoring:scoreLead"
code, text = curl(score_url, body=b'{"lead": {"id": "' + b"x" * (2 * 1024 * 1024) + b'"}}')
check(code == 413, f"2 MiB HTTP body: 413 ({code})")
code, text = curl(score_url, "-H", "X-A: " + "a" * 7000, "-H", "X-B: " + "b" * 7000,
                  "-H", "X-C: " + "c" * 7000, body='{"lead": {"id": "x"}}')
check(code == 431, f"21 KB of HTTP headers: 431 ({code})")
nested = '{"lead": {"id": "x", "attributes": ' + '{"a": ' * 100 + "1" + "}" * 100 + "}}"
code, text = curl(score_url, body=nested)
check(code == 400 and "nested deeper" in text, f"JSON nested 100 deep: 400 ({code} {text[:200]})")
code, text = curl(score_url, "-H", "Content-Encoding: gzip", body='{"lead": {"id": "x"}}')
check(code == 415, f"Content-Encoding: gzip refused with 415 ({code})")
code, text = curl(score_url, "-H", "Content-Type: text/plain", body="hello")
check(code in (400, 415), f"a non-JSON body is refused ({code})")
code, text = curl(f"{gateway.http}/v1/namespaces/default/definitions/x:publish", body="{}")
check(code == 405 or code == 404 or code == 403, f"wrong verb/route: {code}")
code, text = curl(f"{gateway.http}/debug/pprof")
check(code == 404 and json.loads(text)["code"] == 5, "no internal paths: 404")
code, text = curl(f"{gateway.http}/v1/namespaces/default/definitions?pageSize=notanumber",
                  token=tokens["viewer"])
check(code == 400 and "page_size" in text.replace("pageSize", "page_size"),
      f"a bad query parameter names its field ({text[:200]})")

# A slow client holding a connection open gets cut off; others are served meanwhile.
# 20 slow clients, each holding a connection with half a request.
idle = [socket.create_connection(("127.0.0.1", gateway.http_port)) for _ in range(19)]
for sock in idle:
    sock.sendall(b"GET /v1/namespaces/default/definitions HTTP/1.1\r\nHost: x\r\n")
slow = socket.create_connection(("127.0.0.1", gateway.http_port))
slow.sendall(b"POST /v1/scoring:scoreLead HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n")
start = time.time()
code, _ = curl(f"{gateway.http}/v1/namespaces/default/definitions", token=tokens["viewer"])
check(code == 200 and time.time() - start < 2,
      f"another client is served while one is slow ({code}, {time.time() - start:.2f} s)")
slow.settimeout(15)
try:
    data = slow.recv(1024)
except (ConnectionResetError, socket.timeout):
    data = b""
took = time.time() - start
check(took < 12, f"the slow client is disconnected after the read timeout ({took:.1f} s)")
slow.close()
for sock in idle:
    sock.close()
rss_after = rss_kib(gateway.proc.pid)
check(rss_after - rss_before < 64 * 1024,
      f"gateway memory stays bounded ({rss_before} -> {rss_after} KiB)")

gateway.stop()
scoring.stop()
registry.stop()
print("PASS")
