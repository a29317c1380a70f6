"""The gateway with real clients nobody here wrote: Debian's python3-grpcio, npm's
@grpc/grpc-js and curl; deadlines and cancellation; quotas and the stream limit; a backend
going down."""
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Gateway, Registry, Scoring, accordctl, SOURCE, check, error_details,  # noqa: E402
                     health_status, metric, publish_examples, python_stubs, workdir,
                     write_keys)

python_stubs()
import grpc  # noqa: E402
from google.protobuf import struct_pb2, timestamp_pb2  # noqa: E402
from accord.registry.v1 import registry_pb2, registry_pb2_grpc  # noqa: E402
from accord.scoring.v1 import scoring_pb2, scoring_pb2_grpc  # noqa: E402

d = workdir("gateway")
tokens = write_keys(d)
registry = Registry(d)
scoring = Scoring(d, registry.address, tokens)
gateway = Gateway(d, registry.address, scoring.address)


def md(role):
    return (("authorization", "Bearer " + tokens[role]),)


def curl(*args, token=None, body=None, method=None):
    cmd = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "--max-time", "10"]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    if body is not None:
        cmd += ["-H", "Content-Type: application/json", "--data-binary", body]
    if method:
        cmd += ["-X", method]
    out = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=30).stdout
    text, code = out.rsplit("\n", 1)
    return int(code), (json.loads(text) if text.strip().startswith(("{", "[")) else text)


# accordctl through the gateway (its default front door): the whole review workflow.
publish_examples(gateway.address, tokens)
listing = accordctl(gateway.address, tokens["viewer"], "list", check=True).stdout
check("b2b-lead-score" in listing and "r1" in listing, "accordctl through the gateway")

# --- python3-grpcio ---
channel = grpc.insecure_channel(gateway.address)
reg = registry_pb2_grpc.RegistryStub(channel)
sco = scoring_pb2_grpc.ScoringStub(channel)
got = reg.GetDefinition(registry_pb2.GetDefinitionRequest(
    name="namespaces/default/definitions/b2b-lead-score"), metadata=md("viewer"))
check(got.published_revision == 1, "python: GetDefinition through the gateway")
try:
    reg.CreateDefinition(registry_pb2.CreateDefinitionRequest(
        parent="namespaces/default", definition_id="Bad Id"), metadata=md("marketing_editor"))
    check(False, "python: invalid create must fail")
except grpc.RpcError as e:
    reason, violations = error_details(e)
    check(e.code() == grpc.StatusCode.INVALID_ARGUMENT, "python: INVALID_ARGUMENT forwarded")
    check(any(v[0] == "definition_id" for v in violations),
          f"python: BadRequest field path forwarded: {violations}")

# A watch stream through the gateway sees a publish made through the gateway.
events = []
ready = threading.Event()


def watch():
    stream = reg.WatchDefinitions(registry_pb2.WatchDefinitionsRequest(
        parent="namespaces/default"), metadata=md("service"))
    for m in stream:
        if m.HasField("snapshot_end"):
            ready.set()
        if m.HasField("changes"):
            events.extend(ev.definition for ev in m.changes.events)
            if any(e.endswith("/watch-probe") for e in events):
                stream.cancel()
                return


watcher = threading.Thread(target=watch, daemon=True)
watcher.start()
check(ready.wait(10), "python: watch snapshot through the gateway")
probe = os.path.join(d, "probe.yaml")
with open(probe, "w") as f:
    f.write("name: namespaces/default/definitions/watch-probe\ndisplay_name: Probe\n"
            "buyer_persona:\n  criteria:\n    - id: t\n      weight: 1\n      condition:\n"
            "        attribute: {field: contact.title, op: CONTAINS, value: probe}\n")
accordctl(gateway.address, tokens["marketing_editor"], "apply", "-f", probe, check=True)
accordctl(gateway.address, tokens["marketing_editor"], "propose", "watch-probe", check=True)
accordctl(gateway.address, tokens["marketing_approver"], "approve", "watch-probe", check=True)
accordctl(gateway.address, tokens["sales_approver"], "approve", "watch-probe", check=True)
accordctl(gateway.address, tokens["marketing_editor"], "publish", "watch-probe", check=True)
watcher.join(10)
check(any(e.endswith("/watch-probe") for e in events),
      f"python: the watch saw a publish made through the gateway ({events})")


def lead(lead_id, title="IT Director", employees=900):
    attrs = struct_pb2.Struct()
    attrs.update({"contact": {"title": title},
                  "company": {"employees": employees, "industry": "software"}})
    ev = scoring_pb2.Event(type="webinar_attended",
                           time=timestamp_pb2.Timestamp(seconds=int(time.time()) - 3600))
    return scoring_pb2.Lead(id=lead_id, attributes=attrs, events=[ev])


score = sco.ScoreLead(scoring_pb2.ScoreLeadRequest(lead=lead("p1"), view=scoring_pb2.FULL),
                      metadata=md("service"))
check(score.lead_id == "p1" and len(score.reasons) > 0, "python: ScoreLead with reasons")


def bulk():
    for i in range(4):
        yield scoring_pb2.StreamScoreLeadsRequest(leads=[lead(f"b{i}-{j}") for j in range(25)])


scored = [s for resp in sco.StreamScoreLeads(bulk(), metadata=md("service")) for s in resp.scores]
check(len(scored) == 100, "python: bulk stream of 100 leads through the gateway")
direct = scoring_pb2_grpc.ScoringStub(grpc.insecure_channel(scoring.address)).ScoreLead(
    scoring_pb2.ScoreLeadRequest(lead=lead("p1"), view=scoring_pb2.FULL,
                                 as_of=score.as_of), metadata=md("service"))
via = sco.ScoreLead(scoring_pb2.ScoreLeadRequest(lead=lead("p1"), view=scoring_pb2.FULL,
                                                 as_of=score.as_of), metadata=md("service"))
check(direct.SerializeToString() == via.SerializeToString(),
      "python: the gateway returns the backend's bytes unchanged")


# More than a connection's flow-control window (16 MiB) each way on one gateway connection:
# window credit must come back as bytes move on (a relay once stalled after 16 MiB).
def heavy():
    for i in range(10):
        yield scoring_pb2.StreamScoreLeadsRequest(
            leads=[lead(f"h{i}-{j}-" + "x" * 20000) for j in range(100)], view=scoring_pb2.BASIC)


start = time.time()
heavy_ids = [s.lead_id for resp in sco.StreamScoreLeads(heavy(), metadata=md("service"), timeout=60)
             for s in resp.scores]
check(len(heavy_ids) == 1000 and all(len(i) > 20000 for i in heavy_ids),
      f"python: 20 MB each way through one gateway connection ({time.time() - start:.1f} s)")

# --- npm @grpc/grpc-js ---
node_modules = os.environ.get("ACCORD_NODE_MODULES", "")
check(os.path.isdir(node_modules), f"npm @grpc/grpc-js installed in {node_modules}")
env = dict(os.environ, NODE_PATH=node_modules, ACCORD_TEST_TOKENS=json.dumps(tokens))
node = subprocess.run(["node", os.path.join(os.path.dirname(__file__), "node", "grpc_js_client.js"),
                       gateway.address], env=env, capture_output=True, text=True, timeout=60)
print(node.stdout, node.stderr)
check(node.returncode == 0, "grpc-js client passed through the gateway")

# --- curl on HTTP/JSON ---
persona = {"displayName": "Curl persona", "buyerPersona": {"criteria": [
    {"id": "t", "condition": {"attribute": {"field": "contact.title", "op": "CONTAINS",
                                            "value": "ops"}}, "weight": 1}]}}
code, body = curl(f"{gateway.http}/v1/namespaces/default/definitions?definitionId=curl-persona",
                  token=tokens["marketing_editor"], body=json.dumps(persona))
check(code == 200 and body["name"].endswith("/curl-persona"), f"curl: create ({code} {body})")
base = f"{gateway.http}/v1/namespaces/default/definitions/curl-persona"
code, rev = curl(f"{base}:propose", token=tokens["marketing_editor"], body="{}")
check(code == 200 and rev["revisionNumber"] == "1", f"curl: propose ({code} {rev})")
for role in ["marketing_approver", "sales_approver"]:
    code, body = curl(f"{gateway.http}/v1/{rev['name']}:approve", token=tokens[role], body="{}")
    check(code == 200, f"curl: approve as {role} ({code} {body})")
code, body = curl(f"{gateway.http}/v1/{rev['name']}:publish", token=tokens["marketing_editor"],
                  body="{}")
check(code == 200 and body["state"] == "PUBLISHED", f"curl: publish ({code} {body})")
code, body = curl(base, token=tokens["viewer"])
check(code == 200 and body["publishedRevision"] == "1", "curl: GET the published definition")
code, body = curl(f"{gateway.http}/v1/scoring:scoreLead", token=tokens["service"], body=json.dumps(
    {"lead": {"id": "c1", "attributes": {"contact": {"title": "IT Director"},
                                         "company": {"employees": 900}}}, "view": "FULL"}))
check(code == 200 and body["leadId"] == "c1" and body["definitions"], f"curl: score ({body})")
# Error bodies: google.rpc.Status JSON with details and the mapped HTTP code.
code, body = curl(f"{gateway.http}/v1/namespaces/default/definitions?definitionId=Bad%20Id",
                  token=tokens["marketing_editor"], body=json.dumps(persona))
check(code == 400 and body["code"] == 3 and any(
    "fieldViolations" in dt for dt in body["details"]), f"curl: 400 with BadRequest ({body})")
code, body = curl(base, token=None)
check(code == 401 and body["code"] == 16, "curl: 401 without credentials")
code, body = curl(f"{base}:propose", token=tokens["viewer"], body="{}")
check(code == 403 and body["code"] == 7, "curl: 403 for a viewer proposing")
code, body = curl(f"{gateway.http}/v1/namespaces/default/definitions/nope", token=tokens["viewer"])
check(code == 404 and body["code"] == 5, "curl: 404 for a missing definition")
# Issue 15, case 5: attribute reports over HTTP/JSON.
code, body = curl(f"{gateway.http}/v1/scoring:scoreLead", token=tokens["service"], body=json.dumps(
    {"lead": {"id": "typo", "attributes": {"company": {"employes": 1200}}}}))
check(code == 200 and "company.employees" in body.get("missingAttributes", []) and
      "company.employes" in body.get("unreadAttributes", []),
      f"curl: attribute reports ({code} {body})")
# Issue 13, case 5: a query parameter naming a path-bound field once replaced it.
code, body = curl(f"{base}?name=namespaces/default/definitions/b2b-lead-score", method="DELETE",
                  token=tokens["admin"])
check(code == 400 and "already bound by the URL path" in json.dumps(body),
      f"curl: ?name= cannot redirect a DELETE ({code} {body})")
code, body = curl(f"{gateway.http}/v1/namespaces/default/definitions/b2b-lead-score",
                  token=tokens["viewer"])
check(code == 200 and body["state"] == "ACTIVE", "curl: the named definition was not deleted")
code, body = curl(f"{gateway.http}/v1/namespaces/default/definitions/curl%252Fpersona",
                  token=tokens["viewer"])
check(code == 400 and "curl%2Fpersona" in json.dumps(body),
      f"curl: %252F is decoded once, to the text %2F ({code} {body})")
code, body = curl(f"{gateway.http}/v1/scoring:scoreLead", token=tokens["service"],
                  body='{"lead": {"id": "x", "unknownField": 1}}')
check(code == 400 and "lead.unknownField" in json.dumps(body), f"curl: unknown field ({body})")
code, body = curl(f"{gateway.http}/v1/scoring:scoreLead", token=tokens["service"],
                  body='{"lead": {"id": 5, "events": "not a list"}}')
check(code == 400 and body["code"] == 3, f"curl: wrong type ({body})")
# Accounts over HTTP/JSON (issue 19): the example account, and why a lead's score changed.
with open(os.path.join(SOURCE, "examples/account.json")) as f:
    account = json.load(f)
code, body = curl(f"{gateway.http}/v1/scoring:scoreAccount", token=tokens["service"],
                  body=json.dumps({"account": account, "asOf": "2026-11-01T12:00:00Z"}))
check(code == 200 and len(body["members"]) == 17 and body["excludedForConsent"] == 2, body)
check(abs(sum(m.get("contribution", 0) for m in body["members"]) - body["engagement"]) < 1e-9,
      "the members' contributions add up to the account's engagement")
check(body["level"] == "MQA" and body["definitions"][0]["name"].endswith("b2b-account-score"),
      body)
dup = dict(account, members=account["members"][:2] + account["members"][:1])
code, body = curl(f"{gateway.http}/v1/scoring:scoreAccount", token=tokens["service"],
                  body=json.dumps({"account": dup}))
check(code == 400 and "account.members[2].id" in json.dumps(body), body)
member = account["members"][5]
later = json.loads(json.dumps(member))
later["attributes"]["company"]["employees"] = 5000
code, body = curl(f"{gateway.http}/v1/scoring:explainScoreChange", token=tokens["service"],
                  body=json.dumps({"leadBefore": member, "leadAfter": later,
                                   "asOfBefore": "2026-11-01T12:00:00Z",
                                   "asOfAfter": "2026-12-01T12:00:00Z"}))
check(code == 200 and [p.get("cause") for p in body["parts"]] == ["DEFINITION", "DATA", "TIME"],
      body)
check(abs(sum(p.get("total", 0) for p in body["parts"]) - body.get("totalChange", 0)) < 1e-9,
      f"the parts add up to the change: {body}")
# Response encoding: one gzip layer for a client that takes gzip (browsers also offer br, which
# cpp-httplib would otherwise answer with Brotli at its slowest, on top of our own encoding),
# and the identity for one that does not.
import gzip  # noqa: E402
listing = f"{gateway.http}/v1/namespaces/-/definitions?pageSize=1000"
plain = subprocess.run(["curl", "-sS", "-D", "-", "-H", f"Authorization: Bearer {tokens['viewer']}",
                        "-H", "Accept-Encoding: br", listing], capture_output=True, timeout=10).stdout
head, _, plain_body = plain.partition(b"\r\n\r\n")
check(b"content-encoding" not in head.lower(), head)
packed = subprocess.run(["curl", "-sS", "-D", "-", "-H", f"Authorization: Bearer {tokens['viewer']}",
                         "-H", "Accept-Encoding: gzip, deflate, br", listing], capture_output=True,
                        timeout=10).stdout
head, _, packed_body = packed.partition(b"\r\n\r\n")
encodings = [line for line in head.lower().split(b"\r\n") if line.startswith(b"content-encoding")]
check(encodings == [b"content-encoding: gzip"], head)
check(json.loads(gzip.decompress(packed_body)) == json.loads(plain_body),
      "the gzip-encoded list is the same JSON")
code, body = curl(f"{gateway.http}/openapi.json")
check(code == 200 and "/v1/scoring:scoreLead" in body["paths"]
      and "post" in body["paths"]["/v1/namespaces/{namespace}/definitions/{definition}:propose"],
      "curl: /openapi.json lists the routes")
# Issue 15, case 9: what client generators need, checked by npm's validator and generator.
listing = body["paths"]["/v1/namespaces/{namespace}/definitions"]["get"]
check({"pageSize", "pageToken", "filter"} <= {p["name"] for p in listing["parameters"]
                                               if p["in"] == "query"}, listing["parameters"])
update = body["paths"]["/v1/namespaces/{namespace}/definitions/{definition}"]["patch"]
check("updateMask" in {p["name"] for p in update["parameters"]}, update["parameters"])
watch_params = body["paths"]["/v1/namespaces/{namespace}/definitions:watch"]["get"]["parameters"]
check("startAfterSequence" in {p["name"] for p in watch_params}, watch_params)
check(body["servers"] and body["components"]["schemas"]["accord.scoring.v1.LeadScore"]
      ["properties"]["unreadAttributes"].get("description"), "servers and proto comments")
openapi_path = os.path.join(d, "openapi.json")
with open(openapi_path, "w") as f:
    json.dump(body, f)
checked = subprocess.run(
    ["node", os.path.join(os.path.dirname(__file__), "node", "openapi_check.mjs"), openapi_path,
     os.path.join(d, "accord-api.d.ts")],
    env=dict(os.environ, NODE_PATH=os.environ.get("ACCORD_NODE_MODULES", "")),
    capture_output=True, text=True, timeout=120)
check(checked.returncode == 0 and '"valid":true' in checked.stdout,
      f"/openapi.json: swagger-parser and openapi-typescript ({checked.stdout} {checked.stderr})")
with open(os.path.join(d, "accord-api.d.ts")) as f:
    generated = f.read()
check("missingAttributes" in generated and "pageSize" in generated,
      "the generated TypeScript has the API's fields and query parameters")
with open(os.path.join(SOURCE, "console", "src", "generated", "api.d.ts")) as f:
    check(f.read() == generated,
          "console/src/generated/api.d.ts is what openapi-typescript makes of /openapi.json: "
          "regenerate it (tests/integration/node/openapi_check.mjs)")
# HTTP watch: newline-delimited JSON.
out = subprocess.run(["curl", "-sN", "--max-time", "2", "-H",
                      f"Authorization: Bearer {tokens['viewer']}",
                      f"{gateway.http}/v1/namespaces/default/definitions:watch"],
                     capture_output=True, text=True).stdout
lines = [json.loads(line) for line in out.splitlines() if line.strip()]
check(len(lines) >= 2 and "snapshotBegin" in lines[0]["result"], "curl: watch as NDJSON")

# --- deadlines and cancellation ---
before = metric(registry.admin_port, "accord_registry_watchers")
start = time.time()
try:
    for _ in reg.WatchDefinitions(registry_pb2.WatchDefinitionsRequest(parent="namespaces/default"),
                                  metadata=md("viewer"), timeout=0.3):
        pass
    check(False, "a 300 ms watch must end")
except grpc.RpcError as e:
    took = time.time() - start
    check(e.code() == grpc.StatusCode.DEADLINE_EXCEEDED and 0.25 < took < 1.0,
          f"300 ms deadline through the gateway: {e.code()} after {took:.3f} s")
deadline = time.time() + 3
while time.time() < deadline and metric(registry.admin_port, "accord_registry_watchers") > before:
    time.sleep(0.05)
check(metric(registry.admin_port, "accord_registry_watchers") <= before,
      "the registry saw the cancellation (its watcher count went back)")
# The relay records the calls it forwards in the same RPC metrics as a gRPC server.
import urllib.request  # noqa: E402
text = urllib.request.urlopen(f"http://127.0.0.1:{gateway.admin_port}/metrics", timeout=5).read()
scored = [line for line in text.decode().splitlines()
          if line.startswith("accord_grpc_requests_total") and 'code="OK"' in line and
          'method="/accord.scoring.v1.Scoring/ScoreLead"' in line]
check(scored and float(scored[0].rsplit(" ", 1)[1]) >= 2,
      f"gateway metrics count relayed ScoreLead calls ({scored})")
# HTTP/JSON over HTTP/2: h2c with prior knowledge on the HTTP port (the connection is handed to
# the gRPC front end) and on the gRPC port itself, answered as over HTTP/1.1.
def curl_h2(url, token, body=None, extra=()):
    cmd = ["curl", "-sS", "--http2-prior-knowledge", "-o", "-", "-w", "\n%{http_code} %{http_version}",
           "--max-time", "10", "-H", f"Authorization: Bearer {token}", *extra]
    if body is not None:
        cmd += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
    out = subprocess.run(cmd + [url], input=body, capture_output=True, text=True,
                         timeout=30).stdout
    text, status = out.rsplit("\n", 1)
    code, version = status.split()
    return int(code), version, (json.loads(text) if text.strip().startswith("{") else text)


def json_lead(lead_id):
    return {"id": lead_id,
            "attributes": {"contact": {"title": "IT Director"},
                           "company": {"employees": 900, "industry": "software"}},
            "events": [{"type": "webinar_attended", "time": "2026-11-30T12:00:00Z"}]}


scored_lead = json.dumps({"lead": json_lead("h2-1"), "asOf": "2026-12-01T12:00:00Z"})
code, one = curl(f"{gateway.http}/v1/scoring:scoreLead", token=tokens["service"], body=scored_lead)
for port_name, base_url in (("HTTP port", gateway.http), ("gRPC port", f"http://{gateway.address}")):
    code, version, body = curl_h2(f"{base_url}/v1/scoring:scoreLead", tokens["service"],
                                  body=scored_lead)
    check(code == 200 and version == "2" and body == one,
          f"HTTP/2 ({port_name}): ScoreLead answers as over HTTP/1.1 ({code} {version})")
    code, version, body = curl_h2(f"{base_url}/v1/namespaces/default/definitions/nope",
                                  tokens["viewer"])
    check(code == 404 and version == "2" and body["code"] == 5,
          f"HTTP/2 ({port_name}): a JSON error ({code} {body})")
    code, version, body = curl_h2(f"{base_url}/v1/namespaces/default/definitions", "bad")
    check(code == 401 and body["code"] == 16, f"HTTP/2 ({port_name}): 401 ({code} {body})")
    code, version, body = curl_h2(f"{base_url}/v1/scoring:scoreLead", tokens["service"],
                                  body="x" * (2 << 20))
    check(code == 413, f"HTTP/2 ({port_name}): a body over 1 MiB is refused ({code} {body})")
    out = subprocess.run(["curl", "-sN", "--http2-prior-knowledge", "--max-time", "2", "-H",
                          f"Authorization: Bearer {tokens['viewer']}",
                          f"{base_url}/v1/namespaces/default/definitions:watch"],
                         capture_output=True, text=True).stdout
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    check(len(lines) >= 2 and "snapshotBegin" in lines[0]["result"],
          f"HTTP/2 ({port_name}): watch as NDJSON")
# Many requests at once on one HTTP/2 connection (Python's h2 drives the frames).
import socket  # noqa: E402
import h2.config  # noqa: E402
import h2.connection  # noqa: E402
import h2.events  # noqa: E402
sock = socket.create_connection(("127.0.0.1", int(gateway.http.rsplit(":", 1)[1])), timeout=10)
conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
conn.initiate_connection()
ids = []
for i in range(50):
    sid = conn.get_next_available_stream_id()
    payload = json.dumps({"lead": json_lead(f"many-{i}"), "asOf": "2026-12-01T12:00:00Z"}).encode()
    conn.send_headers(sid, [(":method", "POST"), (":scheme", "http"), (":authority", "gw"),
                            (":path", "/v1/scoring:scoreLead"),
                            ("authorization", f"Bearer {tokens['service']}"),
                            ("content-type", "application/json")])
    conn.send_data(sid, payload, end_stream=True)
    ids.append(sid)
sock.sendall(conn.data_to_send())
answers = {sid: [None, b""] for sid in ids}
ended = set()
while len(ended) < len(ids):
    data = sock.recv(65536)
    if not data:
        break
    for event in conn.receive_data(data):
        if isinstance(event, h2.events.ResponseReceived):
            answers[event.stream_id][0] = dict(event.headers).get(b":status")
        elif isinstance(event, h2.events.DataReceived):
            answers[event.stream_id][1] += event.data
            conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            ended.add(event.stream_id)
    sock.sendall(conn.data_to_send())
sock.close()
check(len(ended) == 50 and all(a[0] == b"200" and json.loads(a[1])["leadId"] == f"many-{i}"
                                for i, a in enumerate(answers.values())),
      f"HTTP/2: 50 ScoreLead requests on one connection, each answered ({len(ended)} ended)")

# Backends named as gRPC targets, as the Kubernetes manifests name them
# (ACCORD_GATEWAY_REGISTRY=dns:///accord-registry:7401): the relay resolves the name itself.
targeted = Gateway(d, "dns:///localhost:" + registry.address.rsplit(":", 1)[1],
                   "dns:" + scoring.address)
got = registry_pb2_grpc.RegistryStub(grpc.insecure_channel(targeted.address)).GetDefinition(
    registry_pb2.GetDefinitionRequest(name="namespaces/default/definitions/b2b-lead-score"),
    metadata=md("viewer"), timeout=10)
check(got.published_revision >= 1, "a gateway whose backends are dns:/// targets relays to them")
targeted.stop()

# --- overload: quotas per principal and the stream limit ---
limited = Gateway(d, registry.address, scoring.address,
                  ["--quota_rps=2", "--quota_burst=5", "--max_streams=2"])
lchan = grpc.insecure_channel(limited.address)
lreg = registry_pb2_grpc.RegistryStub(lchan)
req = registry_pb2.GetDefinitionRequest(name="namespaces/default/definitions/it-director")
codes = []
slowest = 0.0
for _ in range(20):
    t = time.time()
    try:
        lreg.GetDefinition(req, metadata=md("viewer"))
        codes.append("OK")
    except grpc.RpcError as e:
        codes.append(e.code().name)
        if e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
            slowest = max(slowest, time.time() - t)
            trailers = dict(e.trailing_metadata() or ())
            check(b"google.rpc.RetryInfo" in trailers.get("grpc-status-details-bin", b""),
                  "quota rejection carries a RetryInfo")
check(5 <= codes.count("OK") <= 7 and codes.count("RESOURCE_EXHAUSTED") >= 13,
      f"quota: burst of 5 admitted, the rest shed: {codes}")
check(slowest < 0.1, f"quota rejections are fast ({slowest * 1000:.1f} ms)")
lreg.GetDefinition(req, metadata=md("admin"))
check(True, "another principal is not affected by the viewer's quota")
code, body = curl(f"{limited.http}/v1/namespaces/default/definitions/it-director",
                  token=tokens["viewer"])
check(code == 429 and body["code"] == 8, f"HTTP quota: 429 ({code})")
hdr = subprocess.run(["curl", "-s", "-D", "-", "-o", "/dev/null", "-H",
                      f"Authorization: Bearer {tokens['viewer']}",
                      f"{limited.http}/v1/namespaces/default/definitions/it-director"],
                     capture_output=True, text=True).stdout
check("retry-after" in hdr.lower(), "HTTP 429 carries Retry-After")
streams = [lreg.WatchDefinitions(registry_pb2.WatchDefinitionsRequest(parent="namespaces/default"),
                                 metadata=md(role)) for role in ["service", "sales_editor"]]
for s in streams:
    next(s)
try:
    next(lreg.WatchDefinitions(registry_pb2.WatchDefinitionsRequest(parent="namespaces/default"),
                               metadata=md("marketing_editor")))
    check(False, "a third stream must be refused")
except grpc.RpcError as e:
    check(e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, f"stream limit: third refused ({e.code()})")
for s in streams:
    s.cancel()
time.sleep(0.3)
s = lreg.WatchDefinitions(registry_pb2.WatchDefinitionsRequest(parent="namespaces/default"),
                          metadata=md("marketing_approver"))
check(next(s) is not None, "after streams close, a new one is admitted")
s.cancel()
limited.stop()

# --- a backend goes down: the gateway stays SERVING and reports the backend ---
check(health_status(channel, "accord.scoring.v1.Scoring") == 1, "gateway health: scoring up")
scoring.stop()
deadline = time.time() + 6
status = None
while time.time() < deadline:
    status = health_status(channel, "accord.scoring.v1.Scoring")
    if status == 2:
        break
    time.sleep(0.2)
check(status == 2, "gateway health reports scoring NOT_SERVING")
check(health_status(channel, "") == 1 and health_status(channel, "accord.gateway.v1.Gateway") == 1,
      "the gateway itself stays SERVING")
check(metric(gateway.admin_port, 'accord_gateway_backend_up{backend="scoring"}') == 0,
      "accord_gateway_backend_up{backend=scoring} is 0")
try:
    sco.ScoreLead(scoring_pb2.ScoreLeadRequest(lead=lead("x")), metadata=md("service"), timeout=3)
    check(False, "scoring is down")
except grpc.RpcError as e:
    check(e.code() == grpc.StatusCode.UNAVAILABLE, f"scoring down: UNAVAILABLE ({e.code()})")
# The backend comes back on its address: the gateway reconnects (its back-off is at most 5 s).
revived = Scoring(d, registry.address, tokens, extra=[f"--listen=127.0.0.1:{scoring.port}"])
ok, deadline = False, time.time() + 12
while not ok and time.time() < deadline:
    try:
        sco.ScoreLead(scoring_pb2.ScoreLeadRequest(lead=lead("back")), metadata=md("service"),
                      timeout=3)
        ok = True
    except grpc.RpcError:
        time.sleep(0.3)
check(ok, "scoring back: the gateway reconnects and serves ScoreLead again")
revived.stop()
gateway.stop()
registry.stop()
print("PASS")
