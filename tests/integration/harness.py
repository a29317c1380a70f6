"""Test harness: real accord-registry processes on 127.0.0.1 port 0, real gRPC clients."""
import atexit
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time

BIN = os.environ["ACCORD_BIN"]
SOURCE = os.environ["ACCORD_SOURCE"]
WORK = os.environ.get("ACCORD_WORK", "/tmp/accord-integration")
ROLES = ["viewer", "marketing_editor", "sales_editor", "marketing_approver",
         "sales_approver", "service", "admin", "scorer"]


def workdir(name):
    path = os.path.join(WORK, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def write_keys(directory):
    """Writes keys.yaml; returns {role: token}."""
    tokens = {}
    lines = ["keys:"]
    for role in ROLES:
        token = "tok_" + secrets.token_hex(16)
        tokens[role] = token
        lines += [f"  - principal: {role}@test", f"    roles: [{role}]",
                  f"    sha256: {hashlib.sha256(token.encode()).hexdigest()}"]
    with open(os.path.join(directory, "keys.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return tokens


_started = []


@atexit.register
def _kill_leftovers():
    """A failed test must not leave its servers running."""
    for proc in _started:
        if proc.poll() is None:
            proc.kill()


class Server:
    """An Accord server process on 127.0.0.1 port 0; `ready_text` in its log means ready."""

    def __init__(self, directory, args, ready_text):
        self.directory = directory
        self.log_path = os.path.join(directory, f"{os.path.basename(args[0])}-{time.time_ns()}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stderr=self.log, stdout=subprocess.DEVNULL)
        _started.append(self.proc)
        self.port = None
        deadline = time.time() + 20
        while time.time() < deadline and self.port is None:
            time.sleep(0.05)
            if self.proc.poll() is not None:
                raise RuntimeError("registry exited: " + open(self.log_path).read())
            self.listening = self.entry("listening")
            if self.listening:
                self.port = self.listening["port"]
                self.admin_port = self.listening["admin_port"]
        if self.port is None:
            raise RuntimeError("registry did not start: " + open(self.log_path).read())
        self.address = f"127.0.0.1:{self.port}"
        if ready_text:
            deadline = time.time() + 10
            while time.time() < deadline:
                if ready_text in open(self.log_path).read():
                    return
                time.sleep(0.05)

    def entry(self, msg):
        """The first JSON log entry whose message is `msg`, or None."""
        for line in open(self.log_path):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("msg") == msg:
                return entry
        return None

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=20)
        self.log.close()
        return self.proc.returncode


class Registry(Server):
    def __init__(self, directory, extra=(), store=None, keys=True):
        super().__init__(directory, [
            os.path.join(BIN, "accord-registry"), "--listen=127.0.0.1:0",
            "--admin_listen=127.0.0.1:0", store or f"--store=sqlite:{directory}/registry.db",
            *([f"--keys={directory}/keys.yaml"] if keys else []), *extra], "registry ready")


class Scoring(Server):
    def __init__(self, directory, registry_address, tokens, wait_ready=True, extra=()):
        token_file = os.path.join(directory, "scoring.token")
        with open(token_file, "w") as f:
            f.write(tokens["scorer"] + "\n")
        super().__init__(directory, [
            os.path.join(BIN, "accord-scoring"), "--listen=127.0.0.1:0",
            "--admin_listen=127.0.0.1:0", f"--registry={registry_address}",
            f"--cache_dir={directory}/scoring-cache", f"--token_file={token_file}",
            f"--keys={directory}/keys.yaml", *extra], "scoring ready" if wait_ready else None)


class Gateway(Server):
    """accord-gateway in front of `registry` and `scoring` addresses, with the test keys."""

    def __init__(self, directory, registry_address, scoring_address, extra=()):
        super().__init__(directory, [
            os.path.join(BIN, "accord-gateway"), "--listen=127.0.0.1:0",
            "--http_listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0",
            f"--registry={registry_address}", f"--scoring={scoring_address}",
            f"--keys={directory}/keys.yaml", *extra], "gateway ready")
        ready = self.entry("gateway ready")
        if ready is None:
            raise RuntimeError("gateway not ready: " + open(self.log_path).read())
        self.http_port = ready["http_port"]
        self.http = f"http://127.0.0.1:{self.http_port}"


def metric(admin_port, name):
    """The sum of a Prometheus metric's samples whose line starts with `name`."""
    import urllib.request
    text = urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/metrics", timeout=5).read()
    total = 0.0
    for line in text.decode().splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


class JwtIssuer:
    """An RS256 and an ES256 signing key; public halves written to `directory`/jwt/."""

    def __init__(self, directory, issuer="accord", audience="accord"):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        self.dir = os.path.join(directory, "jwt")
        os.makedirs(self.dir, exist_ok=True)
        self.issuer, self.audience = issuer, audience
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.rsa_public_pem = self.rsa.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        with open(os.path.join(self.dir, "k1.rs256.pem"), "wb") as f:
            f.write(self.rsa_public_pem)
        with open(os.path.join(self.dir, "k2.es256.pem"), "wb") as f:
            f.write(self.ec.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

    def token(self, sub, roles, alg="RS256", kid=None, **overrides):
        import jwt
        now = int(time.time())
        claims = {"sub": sub, "roles": roles, "iss": self.issuer, "aud": self.audience,
                  "iat": now, "nbf": now - 5, "exp": now + 300}
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        key = self.rsa if alg == "RS256" else self.ec
        kid = kid or ("k1" if alg == "RS256" else "k2")
        return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def make_persona(summary):
    """A minimal valid buyer persona whose one criterion mentions `summary`."""
    from accord.registry.v1 import definition_pb2
    p = definition_pb2.Definition(display_name=summary)
    c = p.buyer_persona.criteria.add(id="a")
    c.condition.attribute.field = "contact.title"
    c.condition.attribute.op = definition_pb2.CONTAINS
    c.condition.attribute.value.string_value = summary
    return p


def publish_persona(stub, tokens, def_id, summary, create=True, timeout=10):
    """Creates (or updates) a persona and takes it through review to publication; returns the
    published Revision."""
    from accord.registry.v1 import registry_pb2
    md = lambda role: (("authorization", "Bearer " + tokens[role]),)  # noqa: E731
    name = f"namespaces/default/definitions/{def_id}"
    if create:
        stub.CreateDefinition(registry_pb2.CreateDefinitionRequest(
            parent="namespaces/default", definition_id=def_id, definition=make_persona(summary)),
            metadata=md("marketing_editor"), timeout=timeout)
    else:
        p = make_persona(summary)
        p.name = name
        stub.UpdateDefinition(registry_pb2.UpdateDefinitionRequest(definition=p),
                              metadata=md("marketing_editor"), timeout=timeout)
    rev = stub.ProposeRevision(registry_pb2.ProposeRevisionRequest(name=name),
                               metadata=md("sales_editor"), timeout=timeout)
    stub.ApproveRevision(registry_pb2.ReviewRevisionRequest(name=rev.name),
                         metadata=md("marketing_approver"), timeout=timeout)
    stub.ApproveRevision(registry_pb2.ReviewRevisionRequest(name=rev.name),
                         metadata=md("sales_approver"), timeout=timeout)
    return stub.PublishRevision(registry_pb2.PublishRevisionRequest(name=rev.name),
                                metadata=md("sales_editor"), timeout=timeout)


def publish_examples(address, tokens):
    """Applies and publishes examples/definitions through the dual-approval workflow."""
    examples = os.path.join(SOURCE, "examples/definitions")
    accordctl(address, tokens["marketing_editor"], "apply", "-f", examples, check=True)
    for name in ["it-director", "revops-leader", "student", "b2b-lead-score", "b2b-journey",
                 "marketing-sales-sla", "b2b-account-score"]:
        accordctl(address, tokens["marketing_editor"], "propose", name, check=True)
        accordctl(address, tokens["marketing_approver"], "approve", name, check=True)
        accordctl(address, tokens["sales_approver"], "approve", name, check=True)
        accordctl(address, tokens["marketing_editor"], "publish", name, check=True)


def accordctl(address, token, *args, check=False):
    env = dict(os.environ, ACCORD_SERVER=address, ACCORD_TOKEN=token or "")
    result = subprocess.run([os.path.join(BIN, "accordctl"), *args], env=env,
                            capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"accordctl {args} failed: {result.stdout}{result.stderr}")
    return result


def python_stubs():
    """Generates Python stubs from proto/ with Debian's protoc and grpc_python_plugin into a
    directory of this test's own; returns it."""
    out = os.path.join(WORK, "pystubs-" + os.path.basename(sys.argv[0]).split(".")[0])
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    proto = os.environ["ACCORD_PROTO_DIR"]
    googleapis = os.environ["ACCORD_GOOGLEAPIS_DIR"]
    files = ["accord/registry/v1/definition.proto", "accord/registry/v1/registry.proto",
             "accord/scoring/v1/scoring.proto"]
    gfiles = ["google/api/annotations.proto", "google/api/http.proto",
              "google/rpc/status.proto", "google/rpc/error_details.proto"]
    base = ["protoc", f"-I{proto}", f"-I{googleapis}", f"--python_out={out}"]
    grpc_args = ["--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
                 f"--grpc_python_out={out}"]
    subprocess.run(base + grpc_args + files, check=True)
    subprocess.run(base + gfiles, check=True)
    sys.path.insert(0, out)
    return out


def health_status(channel, service):
    """grpc.health.v1 Check through a raw call (python3-grpcio ships no health stubs):
    1 SERVING, 2 NOT_SERVING, 0 unknown; raises grpc.RpcError (NOT_FOUND for unknown names)."""
    check_call = channel.unary_unary("/grpc.health.v1.Health/Check")
    name = service.encode()
    response = check_call(b"\x0a" + bytes([len(name)]) + name, timeout=5)
    return response[1] if len(response) >= 2 and response[0] == 0x08 else 0


def error_details(rpc_error):
    """google.rpc.Status details of a grpc.RpcError: (reason, [(field, description)])."""
    from google.rpc import error_details_pb2, status_pb2
    reason, fields = "", []
    for key, value in rpc_error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        status = status_pb2.Status.FromString(value)
        for any_detail in status.details:
            if any_detail.type_url.endswith("google.rpc.ErrorInfo"):
                info = error_details_pb2.ErrorInfo.FromString(any_detail.value)
                reason = info.reason
            if any_detail.type_url.endswith("google.rpc.BadRequest"):
                bad = error_details_pb2.BadRequest.FromString(any_detail.value)
                fields += [(v.field, v.description) for v in bad.field_violations]
    return reason, fields


def process_rss_mb(pid):
    """The resident memory of process `pid`, in MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0


def check(condition, message):
    if not condition:
        raise AssertionError(message)
