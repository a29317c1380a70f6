"""accord-scoring with a real registry and Debian's python3-grpcio: scores with reasons and
revisions, identical through the three scoring RPCs, publishes applied within 1 s, keeps
serving when the registry dies, restarts from its cache, refuses a corrupt cache, and answers
malformed request bytes with INVALID_ARGUMENT naming the field."""
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SOURCE, Registry, Scoring, accordctl, check, error_details,  # noqa: E402
                     process_rss_mb, publish_examples, python_stubs, workdir, write_keys)

python_stubs()
import grpc  # noqa: E402
from google.protobuf import json_format  # noqa: E402
from accord.registry.v1 import definition_pb2  # noqa: E402
from accord.scoring.v1 import scoring_pb2, scoring_pb2_grpc  # noqa: E402

d = workdir("scoring")
tokens = write_keys(d)
service = (("authorization", "Bearer " + tokens["service"]),)
AS_OF = "2026-11-01T12:00:00Z"

leads = []
with open(os.path.join(SOURCE, "examples/leads.jsonl")) as f:
    for line in list(f)[:60]:
        leads.append(json_format.ParseDict(json.loads(line), scoring_pb2.Lead()))


def stub_for(server):
    return scoring_pb2_grpc.ScoringStub(grpc.insecure_channel(server.address))


def score(stub, lead, timeout=5):
    request = scoring_pb2.ScoreLeadRequest(lead=lead)
    request.as_of.FromJsonString(AS_OF)
    return stub.ScoreLead(request, metadata=service, timeout=timeout)


def process_cpu_seconds(pid):
    """User and system CPU time of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def score_pinned(stub, request):
    """ScoreLead pinned to a revision: scoring reads it off its serving threads, so the first
    calls may be told UNAVAILABLE (REVISION_LOADING) and retried, as a client would."""
    deadline = time.time() + 5
    while True:
        try:
            return stub.ScoreLead(request, metadata=service, timeout=5)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.UNAVAILABLE or time.time() > deadline:
                raise
            time.sleep(0.05)


def model_revision(result):
    return next(r.revision for r in result.definitions if r.name.endswith("/b2b-lead-score"))


registry = Registry(d)
publish_examples(registry.address, tokens)
scoring = Scoring(d, registry.address, tokens)
try:
    stub = stub_for(scoring)
    single = [score(stub, lead) for lead in leads]
    levels = {s.level for s in single}
    check({"", "DISQUALIFIED"} != levels and len(levels) >= 2, levels)
    s0 = single[0]
    check(s0.namespace == "default" and model_revision(s0) == 1, s0)
    check(any(r.kind == scoring_pb2.Reason.FIT and r.evidence for s in single for r in s.reasons),
          "no fit reason with evidence")
    check(any(r.kind == scoring_pb2.Reason.ENGAGEMENT and r.events_counted > 0
              for s in single for r in s.reasons), "no engagement reason")
    check(any(s.disqualified for s in single), "no disqualified lead in the sample")
    check(any(s.persona.persona for s in single), "no persona matched")
    # Issue 15, case 5: a misspelled attribute is named, not silently scored as absent.
    typo = scoring_pb2.Lead(id="typo")
    typo.attributes.update({"company": {"employes": 1200, "industry": "software"}})
    typed = score(stub, typo)
    check("company.employees" in typed.missing_attributes and
          "company.employes" in typed.unread_attributes and
          "company.industry" not in list(typed.missing_attributes) + list(typed.unread_attributes),
          f"attribute reports over gRPC: {typed.missing_attributes} {typed.unread_attributes}")

    # Identical through ScoreLead, BatchScoreLeads and StreamScoreLeads.
    batch = scoring_pb2.BatchScoreLeadsRequest(leads=leads)
    batch.as_of.FromJsonString(AS_OF)
    batched = stub.BatchScoreLeads(batch, metadata=service, timeout=10).scores

    def requests():
        for i in range(0, len(leads), 7):
            r = scoring_pb2.StreamScoreLeadsRequest(leads=leads[i:i + 7])
            r.as_of.FromJsonString(AS_OF)
            yield r
    streamed = [s for m in stub.StreamScoreLeads(requests(), metadata=service, timeout=10)
                for s in m.scores]
    check([s.SerializeToString(deterministic=True) for s in single] ==
          [s.SerializeToString(deterministic=True) for s in batched] ==
          [s.SerializeToString(deterministic=True) for s in streamed],
          "ScoreLead, BatchScoreLeads and StreamScoreLeads disagree")

    # Bad input: precise errors.
    bad = scoring_pb2.Lead(id="x")
    bad.events.add(type="")
    try:
        score(stub, bad)
        raise AssertionError("an event without type was accepted")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.INVALID_ARGUMENT, e)
        fields = [f for f, _ in error_details(e)[1]]
        check("lead.events[0].type" in fields and "lead.events[0].time" in fields, fields)
    # Bytes that are not a valid request (the server decodes them itself): invalid UTF-8 in an
    # attribute, and a request cut short, through ScoreLead and through a stream.
    raw_score = grpc.insecure_channel(scoring.address).unary_unary(
        "/accord.scoring.v1.Scoring/ScoreLead", request_serializer=lambda b: b,
        response_deserializer=scoring_pb2.LeadScore.FromString)
    raw_stream = grpc.insecure_channel(scoring.address).stream_stream(
        "/accord.scoring.v1.Scoring/StreamScoreLeads", request_serializer=lambda b: b,
        response_deserializer=scoring_pb2.StreamScoreLeadsResponse.FromString)
    patched = scoring_pb2.Lead(id="utf8")
    patched.attributes.update({"company": {"name": "ACMEX"}})
    body = scoring_pb2.ScoreLeadRequest(lead=patched).SerializeToString()
    body = body.replace(b"ACMEX", b"ACME\xff")
    raw_batch = grpc.insecure_channel(scoring.address).unary_unary(
        "/accord.scoring.v1.Scoring/BatchScoreLeads", request_serializer=lambda b: b,
        response_deserializer=scoring_pb2.BatchScoreLeadsResponse.FromString)
    batch_body = scoring_pb2.BatchScoreLeadsRequest(leads=[leads[0], patched]).SerializeToString()
    batch_body = batch_body.replace(b"ACMEX", b"ACME\xff")
    stream_body = scoring_pb2.StreamScoreLeadsRequest(leads=[leads[0], patched]).SerializeToString()
    stream_body = stream_body.replace(b"ACMEX", b"ACME\xff")
    for call, payload, field in (
            (raw_score, body, "lead.attributes.company.name"),
            (raw_score, body[:len(body) - 3], None),
            (raw_batch, batch_body, "leads[1].attributes.company.name"),
            (lambda p, **kw: list(raw_stream(iter([p]), **kw)), stream_body,
             "messages[0].leads[1].attributes.company.name")):
        try:
            call(payload, metadata=service, timeout=5)
            raise AssertionError(f"malformed request accepted: {payload!r}")
        except grpc.RpcError as e:
            check(e.code() == grpc.StatusCode.INVALID_ARGUMENT, e)
            if field is not None:
                check([f for f, _ in error_details(e)[1]] == [field], error_details(e))
    check(score(stub, leads[0]).lead_id == leads[0].id, "not serving after malformed requests")
    too_many = scoring_pb2.BatchScoreLeadsRequest(leads=[leads[0]] * 1001)
    try:
        stub.BatchScoreLeads(too_many, metadata=service, timeout=10)
        raise AssertionError("1001 leads accepted")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.INVALID_ARGUMENT and error_details(e)[1][0][0] == "leads",
              e)
    try:
        stub.ScoreLead(scoring_pb2.ScoreLeadRequest(lead=leads[0]),
                       metadata=(("authorization", "Bearer " + tokens["viewer"]),), timeout=5)
        raise AssertionError("a viewer could score")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.PERMISSION_DENIED, e)

    # A new published revision is used within a second.
    edited = os.path.join(d, "model.yaml")
    with open(os.path.join(SOURCE, "examples/definitions/20-model.yaml")) as f:
        text = f.read().replace("{name: MQL, min_fit: 40, min_engagement: 25}",
                                "{name: MQL, min_fit: 30, min_engagement: 20}")
    with open(edited, "w") as f:
        f.write(text)
    ed, ma, sa = tokens["marketing_editor"], tokens["marketing_approver"], tokens["sales_approver"]
    accordctl(registry.address, ed, "apply", "-f", edited, check=True)
    accordctl(registry.address, ed, "propose", "b2b-lead-score", check=True)
    accordctl(registry.address, ma, "approve", "b2b-lead-score", check=True)
    accordctl(registry.address, sa, "approve", "b2b-lead-score", check=True)
    # Preview the approved, unpublished revision on the example leads.
    leads_file = os.path.join(SOURCE, "examples/leads.jsonl")
    env_before = os.environ.get("ACCORD_SCORING_SERVER")
    os.environ["ACCORD_SCORING_SERVER"] = scoring.address

    # accordctl score streams a file: JSON lines carry every reason; CSV (which asks for the
    # BASIC view) has the same scores, lead for lead.
    svc = tokens["service"]
    r = accordctl(registry.address, svc, "score", "-f", leads_file, "--as-of", AS_OF, "-o",
                  "jsonl", check=True)
    scored = [json.loads(line) for line in r.stdout.splitlines()]
    with open(leads_file) as f:
        check(len(scored) == sum(1 for _ in f), len(scored))
    for got, want in zip(scored, single):
        check(got.get("level", "") == want.level and got.get("grade", "") == want.grade and
              abs(got.get("fit", 0) - want.fit) < 1e-9 and
              len(got.get("reasons", [])) == len(want.reasons), (got, want))
    r = accordctl(registry.address, svc, "score", "-f", leads_file, "--as-of", AS_OF, "-o", "csv",
                  check=True)
    rows = r.stdout.splitlines()
    check(rows[0].startswith("id,level,grade,fit,engagement,total"), rows[0])
    check(len(rows) == len(scored) + 1, len(rows))
    for row, got in zip(rows[1:], scored):
        cells = row.split(",")
        check(cells[1] == got.get("level", "") and cells[2] == got.get("grade", "") and
              abs(float(cells[3]) - got.get("fit", 0)) < 1e-3, (row, got))
    # A CSV file: dotted columns become nested attributes, numbers are typed.
    leads_csv = os.path.join(d, "leads.csv")
    with open(leads_csv, "w") as f:
        f.write("id,company.industry,company.employees,company.country\n"
                "c1,Software,1200,US\nc2,retail,10,BR\n")
    r = accordctl(registry.address, svc, "score", "-f", leads_csv, "--as-of", AS_OF, "-o", "jsonl",
                  check=True)
    by_id = {x["leadId"]: x for x in map(json.loads, r.stdout.splitlines())}
    evidence = {e.get("rule"): e.get("evidence") for e in by_id["c1"]["reasons"]}
    check(evidence.get("size-enterprise") == "company.employees=1200" and
          evidence.get("target-industry") == "company.industry=Software" and
          evidence.get("target-country") == "company.country=US", by_id["c1"])
    check(by_id["c1"]["fit"] > by_id["c2"].get("fit", 0), by_id)
    r = accordctl(registry.address, tokens["service"], "preview", "b2b-lead-score", "-f",
                  leads_file, "--as-of", AS_OF, check=True)
    if env_before is None:
        del os.environ["ACCORD_SCORING_SERVER"]
    check("leads change level" in r.stdout and "monthly-mqls" in r.stdout, r.stdout)
    check(not r.stdout.split("leads change level")[0].rstrip().endswith(" 0"), r.stdout)
    check(model_revision(score(stub, leads[0])) == 1, "preview changed the published scores")

    # The same preview over gRPC: the level x level matrix, each changed lead's rules, the SLA
    # volume check and (return_scores) both sides' scores, checked against one another.
    from accord.registry.v1 import registry_pb2, registry_pb2_grpc  # noqa: E402
    rstub = registry_pb2_grpc.RegistryStub(grpc.insecure_channel(registry.address))
    revision = rstub.GetRevision(registry_pb2.GetRevisionRequest(
        name="namespaces/default/definitions/b2b-lead-score/revisions/latest"),
        metadata=(("authorization", "Bearer " + svc),), timeout=5)
    proposed = revision.snapshot
    proposed.name = "namespaces/default/definitions/b2b-lead-score"
    n = len(leads)
    request = scoring_pb2.PreviewDefinitionRequest(proposed=proposed, leads=leads,
                                                   return_scores=True)
    request.as_of.FromJsonString(AS_OF)
    p = stub.PreviewDefinition(request, metadata=service, timeout=30)
    check(p.lead_count == n and len(p.scores_before) == n and len(p.scores_after) == n, p)
    check(sum(t.count for t in p.level_transitions) == n, p.level_transitions)
    moved = sum(t.count for t in p.level_transitions if t.before != t.after)
    check(moved == p.changed_count and p.changed_count > 0, (moved, p.changed_count))
    by_id = {lead.id: i for i, lead in enumerate(leads)}
    for c in p.changed:
        i = by_id[c.lead_id]
        b, a = p.scores_before[i], p.scores_after[i]
        check(c.total_before == b.total and c.total_after == a.total, (c, b.total, a.total))
        check((a.level, b.level) == (c.after, c.before), c)
        moved_points = sum(r.points_after - r.points_before for r in c.reasons)
        check(abs(moved_points - (a.total - b.total)) < 1e-6 or a.disqualified or b.disqualified,
              f"the rules that moved {c.lead_id} add up to its change of total: {c}")
    rank = {"LEAD": 0, "MQL": 1, "SQL": 2}
    mql = [v for v in p.volume_checks if v.commitment == "monthly-mqls"]
    check(len(mql) == 1 and mql[0].min_count == 200 and mql[0].level == "MQL", p.volume_checks)
    reached = [sum(1 for x in side if not x.disqualified and rank.get(x.level, -1) >= 1)
               for side in (p.scores_before, p.scores_after)]
    check([mql[0].reached_before, mql[0].reached_after] == reached, (mql, reached))
    check(reached[1] > reached[0], f"a lower MQL bar reaches more leads: {reached}")
    while len(request.leads) <= 100:
        request.leads.extend(leads)
    try:
        stub.PreviewDefinition(request, metadata=service, timeout=30)
        raise AssertionError("return_scores with 101 leads")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.INVALID_ARGUMENT and
              error_details(e)[1][0][0] == "return_scores", e)

    # Issue 13, case 6: one editor's 38 KB definition with 1,000 patterns like \pL{50}q1x1 took
    # scoring to 535 MB and 36 CPU-seconds in a preview, and the registry's cores for 42 s.
    heavy = definition_pb2.Definition(name="namespaces/default/definitions/heavy")
    for i in range(1000):
        c = heavy.buyer_persona.criteria.add(id=f"c{i}")
        c.condition.attribute.field = "title"
        c.condition.attribute.op = definition_pb2.MATCHES
        c.condition.attribute.value.string_value = f"\\pL{{50}}q1x{i}"
    cpu_before = process_cpu_seconds(scoring.proc.pid)
    preview = scoring_pb2.PreviewDefinitionRequest(proposed=heavy, leads=leads[:5])
    outcomes = []

    def send_preview():
        try:
            stub.PreviewDefinition(preview, metadata=service, timeout=30)
            outcomes.append("OK")
        except grpc.RpcError as e:
            outcomes.append((e.code(), error_details(e)))
    threads = [threading.Thread(target=send_preview) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for outcome in outcomes:
        code, (reason, violations) = outcome
        check(code == grpc.StatusCode.RESOURCE_EXHAUSTED and reason == "PREVIEWS_BUSY" or
              code == grpc.StatusCode.INVALID_ARGUMENT and "budget" in str(violations),
              f"an over-budget preview is refused: {outcome}")
    spent = process_cpu_seconds(scoring.proc.pid) - cpu_before
    rss = process_rss_mb(scoring.proc.pid)
    print(f"4 over-budget previews: scoring spent {spent:.2f} CPU-s, RSS {rss:.0f} MB")
    check(spent < 5 and rss < 256, f"over-budget previews cost {spent:.2f} CPU-s, {rss:.0f} MB")
    heavy_file = os.path.join(d, "heavy.yaml")
    with open(heavy_file, "w") as f:
        f.write(json_format.MessageToJson(heavy, preserving_proto_field_name=True))
    r = accordctl(registry.address, ed, "apply", "-f", heavy_file)
    check(r.returncode == 1 and "criteria[1].condition.attribute.value" in r.stderr and
          "budget" in r.stderr, f"the registry refuses the same definition ({r.stderr})")

    # Journeys and SLAs over gRPC.
    try:
        stub.CheckTransition(scoring_pb2.CheckTransitionRequest(**{"from": "sal", "to": "awareness"}),
                             metadata=service, timeout=5)
        raise AssertionError("an undeclared backward move was allowed")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.FAILED_PRECONDITION and
              error_details(e)[0] == "TRANSITION_NOT_ALLOWED", e)
    ok = stub.CheckTransition(scoring_pb2.CheckTransitionRequest(
        **{"from": "sal", "to": "engaged", "reason": "no-budget"}), metadata=service, timeout=5)
    check(ok.allowed and ok.recycle, ok)
    lead = scoring_pb2.Lead()
    lead.CopyFrom(leads[0])
    entry = lead.stage_history.add(stage="mql")
    entry.time.FromJsonString("2026-11-01T10:00:00Z")
    sla_request = scoring_pb2.EvaluateSlaRequest(lead=lead)
    sla_request.as_of.FromJsonString(AS_OF)
    sla = stub.EvaluateSla(sla_request, metadata=service, timeout=5)
    status = {r.commitment: r.status for r in sla.responses}
    check(status["mql-first-touch"] == scoring_pb2.ResponseStatus.PENDING, sla)
    def period():
        for i in range(0, len(leads), 25):
            r = scoring_pb2.ReportSlaRequest(leads=leads[i:i + 25])
            r.as_of.FromJsonString(AS_OF)
            yield r
    report = stub.ReportSla(period(), metadata=service, timeout=10)
    mqls = sum(1 for s in single if s.level in ("MQL", "SQL"))
    volume = {v.commitment: v for v in report.volume}
    check(report.leads == len(leads) and volume["monthly-mqls"].actual == mqls and
          not volume["monthly-mqls"].met, report)
    persona_request = scoring_pb2.MatchPersonaRequest(lead=leads[0])
    matches = stub.MatchPersona(persona_request, metadata=service, timeout=5)
    check(len(matches.matches) == 3, matches)
    published_at = time.time()
    accordctl(registry.address, ed, "publish", "b2b-lead-score", check=True)
    while model_revision(score(stub, leads[0])) != 2:
        check(time.time() - published_at < 1.0, "revision 2 not applied within 1 s")
        time.sleep(0.02)
    print(f"publish applied after {(time.time() - published_at) * 1000:.0f} ms")

    # Pinning the older revision reproduces its scores exactly, read from the registry once.
    pinned = scoring_pb2.ScoreLeadRequest(lead=leads[0])
    pinned.as_of.FromJsonString(AS_OF)
    pinned.selector.model_revision = 1
    again = score_pinned(stub, pinned)
    check(model_revision(again) == 1 and
          again.SerializeToString() == single[0].SerializeToString(),
          "a pinned older revision reproduces its scores bit for bit")
    pinned.selector.model_revision = 99
    try:
        score_pinned(stub, pinned)
        check(False, "revision 99 does not exist")
    except grpc.RpcError as e:
        _, violations = error_details(e)
        check(e.code() == grpc.StatusCode.INVALID_ARGUMENT and
              violations and violations[0][0] == "selector.model_revision",
              f"a missing pinned revision names its field ({e.code()}, {violations})")

    # Issue 13, case 7: with the registry hung, requests pinning revisions it must read held
    # the serving loop 3 s each, and ordinary calls on the same connection missed their
    # deadlines. Now the reads run elsewhere: the pinned calls are told to retry, at once.
    registry.proc.send_signal(signal.SIGSTOP)
    try:
        pinned_outcomes = []

        def pin(number):
            request = scoring_pb2.ScoreLeadRequest(lead=leads[0])
            request.selector.model_revision = number
            try:
                stub.ScoreLead(request, metadata=service, timeout=10)
                pinned_outcomes.append("OK")
            except grpc.RpcError as e:
                pinned_outcomes.append((e.code(), error_details(e)[0]))
        pins = [threading.Thread(target=pin, args=(n,)) for n in (3, 4, 5, 6, 3, 4, 5, 6)]
        for t in pins:
            t.start()
        ordinary = [score(stub, leads[i % len(leads)], timeout=2) for i in range(20)]
        for t in pins:
            t.join()
        check(all(model_revision(r) == 2 for r in ordinary),
              "ordinary calls beside pinned ones for a hung registry answer within 2 s")
        check(all(o != "OK" and o[1] in ("REVISION_LOADING", "REVISION_READS_BUSY",
                                         "REVISION_NOT_LOADED")
                  for o in pinned_outcomes),
              f"pinned calls for a hung registry are told to retry ({pinned_outcomes})")
    finally:
        registry.proc.send_signal(signal.SIGCONT)

    # The registry dies: scoring keeps answering with the same revision.
    registry.stop(signal.SIGKILL)
    time.sleep(0.5)
    check(model_revision(score(stub, leads[0])) == 2, "lost the definitions with the registry")

    # Restart with the registry down: serves from the cache.
    scoring.stop()
    scoring = Scoring(d, registry.address, tokens)
    check(model_revision(score(stub_for(scoring), leads[0])) == 2, "cache not served")

    # A corrupt cache is never served: not ready, no scores.
    scoring.stop()
    cache = os.path.join(d, "scoring-cache", "definitions.cache")
    with open(cache, "r+b") as f:
        f.seek(200)
        f.write(b"\xff\xff\xff\xff")
    scoring = Scoring(d, registry.address, tokens, wait_ready=False)
    time.sleep(0.5)
    try:
        score(stub_for(scoring), leads[0])
        raise AssertionError("scored with a corrupt cache")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.UNAVAILABLE, e)
    check("corrupt" in open(scoring.log_path).read(), "corruption not logged")
    print("scoring_test: ok")
finally:
    scoring.stop()
    registry.stop()
