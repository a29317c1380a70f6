"""Sales' verdicts end to end (docs/feedback.md), through the gateway with Debian's
python3-grpcio and curl: recording re-scores each lead at hand-off (what was scored is the
scoring API's own answer, never the caller's), retries and reused ids, reason codes against
the journey's taxonomy with their field paths, who may record, store and erase, a lead's
history, the quality report against an independent count with Wilson intervals, and a GDPR
erasure with its audit event."""
import json
import math
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SOURCE, Gateway, Registry, Scoring, accordctl, check,  # noqa: E402
                     error_details, metric, publish_examples, python_stubs, workdir, write_keys)

python_stubs()
import grpc  # noqa: E402
from google.protobuf import json_format, timestamp_pb2  # noqa: E402
from accord.registry.v1 import registry_pb2, registry_pb2_grpc  # noqa: E402
from accord.scoring.v1 import scoring_pb2, scoring_pb2_grpc  # noqa: E402

d = workdir("verdicts")
tokens = write_keys(d)
HANDED_OFF = timestamp_pb2.Timestamp(seconds=1793534400)  # 2026-11-01T12:00:00Z
V = registry_pb2.Verdict
SINCE = timestamp_pb2.Timestamp(seconds=1577836800)  # 2020-01-01: every verdict recorded
UNTIL = timestamp_pb2.Timestamp(seconds=4102444800)  # 2100-01-01


def auth(role):
    return (("authorization", "Bearer " + tokens[role]),)


def expect_error(call, code, what, field=None, reason=None):
    try:
        call()
    except grpc.RpcError as e:
        check(e.code() == code, f"{what}: {e.code()} {e.details()}")
        got_reason, fields = error_details(e)
        if field is not None:
            check(field in [f for f, _ in fields], f"{what}: fields {fields}")
        if reason is not None:
            check(got_reason == reason, f"{what}: reason {got_reason}")
        return e
    raise AssertionError(f"{what}: accepted")


with open(os.path.join(SOURCE, "examples", "leads.jsonl")) as f:
    LEADS = [json_format.ParseDict(json.loads(line), scoring_pb2.Lead()) for line in f][:60]

# Outcomes fixed by the lead's position: a third accepted, a third rejected, a third recycled.
OUTCOMES = [(V.ACCEPTED, ""), (V.REJECTED, "no-budget"), (V.RECYCLED, "bad-timing")]


def verdict_input(i, lead, outcome=None, reason=None, verdict_id=None):
    o, r = OUTCOMES[i % 3]
    return scoring_pb2.VerdictInput(
        verdict_id=verdict_id or f"v-{lead.id}", outcome=outcome or o,
        reason_code=r if reason is None else reason, comment=f"verdict on {lead.id}",
        handed_off_at=HANDED_OFF, lead=lead)


registry = Registry(d)
publish_examples(registry.address, tokens)
# Shadow scoring on, every request sampled, proposals looked for five times a second.
scoring = Scoring(d, registry.address, tokens, extra=[
    "--shadow_namespaces=default", "--shadow_sample_rate=1", "--shadow_poll_seconds=0.2"])
gateway = Gateway(d, registry.address, scoring.address)
channel = grpc.insecure_channel(gateway.address)
scorer = scoring_pb2_grpc.ScoringStub(channel)
reg = registry_pb2_grpc.RegistryStub(channel)

# 1. Recording: what was scored is ScoreLead's own answer for the lead as of its hand-off.
request = scoring_pb2.RecordVerdictsRequest(
    verdicts=[verdict_input(i, lead) for i, lead in enumerate(LEADS)])
response = scorer.RecordVerdicts(request, metadata=auth("sales_editor"), timeout=30)
check(list(response.recorded) == [True] * len(LEADS), f"recorded: {list(response.recorded)}")
for lead, v in zip(LEADS, response.verdicts):
    score = scorer.ScoreLead(scoring_pb2.ScoreLeadRequest(lead=lead, as_of=HANDED_OFF,
                                                          view=scoring_pb2.FULL),
                             metadata=auth("service"), timeout=10)
    fired = sorted({f"{r.group or 'disqualifiers'}/{r.rule}" for r in score.reasons
                    if r.kind == scoring_pb2.Reason.DISQUALIFIER
                    or (r.kind in (scoring_pb2.Reason.FIT, scoring_pb2.Reason.ENGAGEMENT)
                        and r.points != 0)})
    check((v.level, v.grade, v.persona, list(v.rules_fired)) ==
          (score.level, score.grade, score.persona.persona, fired),
          f"{lead.id}: recorded {v.level} {v.grade} {v.persona} {list(v.rules_fired)}, "
          f"ScoreLead {score.level} {score.grade} {score.persona.persona} {fired}")
    check(list(v.revisions) == [f"{r.name}/revisions/{r.revision}" for r in score.definitions],
          f"{lead.id}: revisions {list(v.revisions)}")
    check(v.actor == "sales_editor@test" and v.namespace == "default" and v.lead_id == lead.id,
          f"{lead.id}: actor {v.actor}")
    # Content keys: the assets of the downloads and webinars the scoring rules counted.
    for key in v.content_keys:
        check(key.split(":")[0] in ("content_download", "webinar_attended", "page_view"), key)
content = {k for v in response.verdicts for k in v.content_keys}
check(any(k.startswith("content_download:asset=") for k in content) and
      any(k.startswith("page_view:path=/pricing") for k in content), f"content keys {content}")
check(not any(k.startswith("page_view:path=/docs") for k in content),
      "a page view the pricing rule did not count names no content")

# 2. A retry is recorded once; an id reused for other content fails the whole batch.
again = scorer.RecordVerdicts(request, metadata=auth("sales_editor"), timeout=30)
check(list(again.recorded) == [False] * len(LEADS), "a retry is not recorded twice")
expect_error(lambda: scorer.RecordVerdicts(scoring_pb2.RecordVerdictsRequest(verdicts=[
    verdict_input(0, LEADS[0], verdict_id="v-new"),
    verdict_input(0, LEADS[1], verdict_id=f"v-{LEADS[0].id}")]), metadata=auth("service")),
    grpc.StatusCode.ALREADY_EXISTS, "a reused verdict id", reason="VERDICT_ID_REUSED")


def listed(lead_id=""):
    out, token = [], ""
    while True:
        page = reg.ListVerdicts(registry_pb2.ListVerdictsRequest(
            parent="namespaces/default", lead_id=lead_id, page_size=25, page_token=token,
            start_time=SINCE, end_time=UNTIL),
            metadata=auth("viewer"), timeout=10)
        out += page.verdicts
        token = page.next_page_token
        if not token:
            return out


check(len(listed()) == len(LEADS), "the failed batch left nothing (v-new is absent)")

# 3. Bad verdicts: the field path of each, and nothing stored.
for bad, field, what in [
        (verdict_input(1, LEADS[1], reason="too-expensive", verdict_id="b1"),
         "verdicts[0].reason_code", "a reason code outside the taxonomy"),
        (verdict_input(1, LEADS[1], reason="", verdict_id="b2"), "verdicts[0].reason_code",
         "a rejection without a reason"),
        (scoring_pb2.VerdictInput(verdict_id="b3", outcome=V.ACCEPTED, handed_off_at=HANDED_OFF),
         "verdicts[0].lead.id", "no lead"),
        (scoring_pb2.VerdictInput(verdict_id="b4", lead=LEADS[0], outcome=V.ACCEPTED),
         "verdicts[0].handed_off_at", "no hand-off time"),
        (scoring_pb2.VerdictInput(verdict_id="b5", lead=LEADS[0], handed_off_at=HANDED_OFF),
         "verdicts[0].outcome", "no outcome")]:
    expect_error(lambda: scorer.RecordVerdicts(scoring_pb2.RecordVerdictsRequest(verdicts=[bad]),
                                               metadata=auth("sales_editor")),
                 grpc.StatusCode.INVALID_ARGUMENT, what, field=field)
expect_error(lambda: scorer.RecordVerdicts(scoring_pb2.RecordVerdictsRequest(
    selector=scoring_pb2.Selector(model="b2b-lead-score"),
    verdicts=[scoring_pb2.VerdictInput(verdict_id="b6", lead=LEADS[0], outcome=V.ACCEPTED,
                                       handed_off_at=HANDED_OFF, model_revision=42)]),
    metadata=auth("sales_editor")), grpc.StatusCode.INVALID_ARGUMENT, "a revision that never was",
    field="selector.model_revision")
check(len(listed()) == len(LEADS), "no bad verdict was stored")

# 4. Who may: marketing cannot record sales' verdicts; nobody but the scoring service may store
# a verdict with a scored part of its own; only admin erases.
expect_error(lambda: scorer.RecordVerdicts(request, metadata=auth("marketing_editor")),
             grpc.StatusCode.PERMISSION_DENIED, "marketing records a verdict")
forged = registry_pb2.StoreVerdictsRequest(parent="namespaces/default", verdicts=[V(
    verdict_id="forged", lead_id="lead-0001", outcome=V.ACCEPTED, handed_off_at=HANDED_OFF,
    actor="someone", revisions=["namespaces/default/definitions/b2b-lead-score/revisions/1"],
    level="SQL", grade="A1", rules_fired=["firmographics/size-enterprise"])])
for role in ["service", "sales_approver", "admin", "marketing_editor"]:
    for target in [reg, registry_pb2_grpc.RegistryStub(grpc.insecure_channel(registry.address))]:
        expect_error(lambda: target.StoreVerdicts(forged, metadata=auth(role)),
                     grpc.StatusCode.PERMISSION_DENIED, f"{role} stores a verdict it made up")
expect_error(lambda: reg.EraseLeadVerdicts(registry_pb2.EraseLeadVerdictsRequest(
    parent="namespaces/default", lead_id=LEADS[0].id), metadata=auth("sales_approver")),
    grpc.StatusCode.PERMISSION_DENIED, "a sales approver erases")


def curl(method, path, role, body=None):
    args = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "-X", method,
            "-H", f"Authorization: Bearer {tokens[role]}", gateway.http + path]
    if body is not None:
        args += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=30, check=True).stdout
    text, code = out.rsplit("\n", 1)
    return int(code), json.loads(text) if text else None


# Bad input on the registry's verdict methods: each names its field.
for call, field, what in [
        (lambda: reg.ListVerdicts(registry_pb2.ListVerdictsRequest(
            parent="namespaces/default", page_size=5000), metadata=auth("viewer")),
         "page_size", "a page over 1000"),
        (lambda: reg.ListVerdicts(registry_pb2.ListVerdictsRequest(
            parent="namespaces/default", page_token="x"), metadata=auth("viewer")),
         "page_token", "a token it never gave"),
        (lambda: reg.GetQualityReport(registry_pb2.GetQualityReportRequest(
            parent="namespaces/default", start_time=UNTIL, end_time=SINCE),
            metadata=auth("viewer")), "start_time", "a range that ends before it starts"),
        (lambda: reg.GetQualityReport(registry_pb2.GetQualityReportRequest(parent="nope"),
                                      metadata=auth("viewer")), "parent", "a bad parent"),
        (lambda: reg.EraseLeadVerdicts(registry_pb2.EraseLeadVerdictsRequest(
            parent="namespaces/default"), metadata=auth("admin")), "lead_id", "no lead id"),
        (lambda: reg.StoreVerdicts(registry_pb2.StoreVerdictsRequest(
            parent="namespaces/default", verdicts=[V(verdict_id="x", outcome=V.ACCEPTED)]),
            metadata=auth("scorer")), "verdicts[0].lead_id", "a stored verdict without a lead")]:
    expect_error(call, grpc.StatusCode.INVALID_ARGUMENT, what, field=field)

# 5. HTTP/JSON: a scored part in the body is refused (400 naming it); a later verdict on a lead
# is kept as its history.
lead0 = json_format.MessageToDict(LEADS[0])
code, body = curl("POST", "/v1/scoring:recordVerdicts", "sales_editor", {"verdicts": [{
    "verdictId": "won-0", "outcome": "WON", "handedOffAt": "2026-11-01T12:00:00Z",
    "lead": lead0, "level": "SQL"}]})
check(code == 400 and "level" in json.dumps(body), f"a scored part in the body: {code} {body}")
code, body = curl("POST", "/v1/scoring:recordVerdicts", "sales_editor", {"verdicts": [{
    "verdictId": "won-0", "outcome": "WON", "handedOffAt": "2026-11-01T12:00:00Z",
    "lead": lead0}]})
check(code == 200 and body["verdicts"][0]["level"] == response.verdicts[0].level,
      f"HTTP RecordVerdicts: {code} {body}")
history = listed(LEADS[0].id)
check([v.outcome for v in history] == [V.ACCEPTED, V.WON], f"history {history}")

# 6. The quality report against an independent count: each lead by its latest verdict.
latest = {}
for v in listed():
    latest[v.lead_id] = v
ACCEPTED = {V.ACCEPTED, V.OPPORTUNITY, V.WON, V.LOST}


def wilson(k, n, z=1.959963984540054):
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def expected_rates(key_of):
    counts = {}
    for v in latest.values():
        for key in key_of(v):
            total, acc = counts.get(key, (0, 0))
            counts[key] = (total + 1, acc + (v.outcome in ACCEPTED))
    return counts


def check_rates(got, counts, what):
    check({r.key: (r.total, r.accepted) for r in got} == counts,
          f"{what}: {[(r.key, r.total, r.accepted) for r in got]} != {counts}")
    for r in got:
        low, high = wilson(r.accepted, r.total)
        check(abs(r.low - low) < 1e-9 and abs(r.high - high) < 1e-9, f"{what} {r.key}: Wilson")


code, body = curl("GET", "/v1/namespaces/default/qualityReport?startTime=2020-01-01T00:00:00Z"
                  "&endTime=2100-01-01T00:00:00Z",
                  "viewer")
check(code == 200, f"report over HTTP: {code} {body}")
report = json_format.ParseDict(body, registry_pb2.QualityReport())
check(report.overall.total == len(LEADS) and report.overall.accepted ==
      sum(v.outcome in ACCEPTED for v in latest.values()), f"overall {report.overall}")
check_rates(report.by_level, expected_rates(lambda v: [v.level]), "by level")
check_rates(report.by_grade, expected_rates(lambda v: [v.grade]), "by grade")
check_rates(report.by_persona, expected_rates(lambda v: [v.persona]), "by persona")
check_rates(report.by_content_key, expected_rates(lambda v: set(v.content_keys)), "by content")
fired = expected_rates(lambda v: set(v.rules_fired))
check({r.rule for r in report.by_rule} == set(fired), "every rule that fired is reported")
for r in report.by_rule:
    total, acc = fired[r.rule]
    rest_total, rest_acc = len(latest) - total, report.overall.accepted - acc
    check((r.fired.total, r.fired.accepted, r.not_fired.total, r.not_fired.accepted) ==
          (total, acc, rest_total, rest_acc), f"rule {r.rule}")
    if rest_total and rest_acc and total:
        check(r.has_lift and abs(r.lift - (acc / total) / (rest_acc / rest_total)) < 1e-9,
              f"lift of {r.rule}")
reasons = {}
for v in latest.values():
    if v.outcome not in ACCEPTED:
        reasons[v.reason_code] = reasons.get(v.reason_code, 0) + 1
check({c.reason_code: c.leads for c in report.not_accepted_by_reason} == reasons,
      f"reasons {report.not_accepted_by_reason}")

# The SLA's quality commitment (MQL acceptance >= 60 %) from the same verdicts: the leads handed
# over at MQL or a higher level (SQL), and those sales accepted.
sla = [q for q in report.sla_quality if q.commitment == "mql-acceptance"]
at_least_mql = [v for v in latest.values() if v.level in ("MQL", "SQL")]
want_accepted = sum(v.outcome in ACCEPTED for v in at_least_mql)
check(len(sla) == 1 and sla[0].sla.endswith("marketing-sales-sla") and
      (sla[0].accepted.total, sla[0].accepted.accepted) == (len(at_least_mql), want_accepted) and
      sla[0].target == 0.6 and sla[0].met == (want_accepted / len(at_least_mql) >= 0.6),
      f"SLA quality from verdicts: {list(report.sla_quality)}, {len(at_least_mql)} {want_accepted}")

# 7. Erasure (GDPR): every verdict of the lead goes, its counts with it, and the audit log
# records it without the lead id in clear.
erased = reg.EraseLeadVerdicts(registry_pb2.EraseLeadVerdictsRequest(
    parent="namespaces/default", lead_id=LEADS[0].id), metadata=auth("admin"), timeout=10)
check(erased.erased == 2, f"erased {erased.erased}")
check(listed(LEADS[0].id) == [], "no verdict of the lead is left")
after = reg.GetQualityReport(registry_pb2.GetQualityReportRequest(
    parent="namespaces/default", start_time=SINCE, end_time=UNTIL),
    metadata=auth("viewer"), timeout=10)
check(after.overall.total == len(LEADS) - 1, f"the report no longer counts it: {after.overall}")
audit = reg.ListAuditEvents(registry_pb2.ListAuditEventsRequest(parent="namespaces/default"),
                            metadata=auth("viewer"), timeout=10)
erasures = [e for e in audit.events if e.action == "EraseLeadVerdicts"]
check(len(erasures) == 1 and erasures[0].principal == "admin@test" and
      LEADS[0].id not in erasures[0].detail and "2 verdicts erased" in erasures[0].detail,
      f"audit: {erasures}")

# 8. Shadow scoring: a proposal to lower the MQL bar is scored beside the published model on
# live traffic; the responses stay the published model's.
code, body = curl("GET", "/v1/scoring/shadow/default", "viewer")
check(code == 200 and not body.get("revisions"), f"nothing proposed yet: {code} {body}")
expect_error(lambda: scorer.GetShadowReport(scoring_pb2.GetShadowReportRequest(namespace="other"),
                                            metadata=auth("viewer")),
             grpc.StatusCode.FAILED_PRECONDITION, "a namespace not shadowed", reason="SHADOW_OFF")
with open(os.path.join(SOURCE, "examples", "definitions", "20-model.yaml")) as f:
    model = f.read()
lowered = model.replace("{name: MQL, min_fit: 40, min_engagement: 25}",
                        "{name: MQL, min_fit: 20, min_engagement: 10}")
check(lowered != model, "the example model's MQL bar is where this test expects it")
with open(os.path.join(d, "model.yaml"), "w") as f:
    f.write(lowered)
accordctl(gateway.address, tokens["marketing_editor"], "apply", "-f",
          os.path.join(d, "model.yaml"), check=True)
accordctl(gateway.address, tokens["marketing_editor"], "propose", "b2b-lead-score", "-m",
          "lower the MQL bar", check=True)
deadline = time.time() + 20
while True:
    report = scorer.GetShadowReport(scoring_pb2.GetShadowReportRequest(), metadata=auth("viewer"),
                                    timeout=5)
    if report.revisions and report.revisions[0].active:
        break
    check(time.time() < deadline, f"the proposal was not shadowed: {report}")
    time.sleep(0.1)
check(report.revisions[0].revision == 2 and report.revisions[0].published_revision == 1,
      f"{report}")
batch = scoring_pb2.BatchScoreLeadsRequest(leads=LEADS, as_of=HANDED_OFF)
published = scorer.BatchScoreLeads(batch, metadata=auth("service"), timeout=10)
deadline = time.time() + 20
while True:
    report = scorer.GetShadowReport(scoring_pb2.GetShadowReportRequest(), metadata=auth("viewer"),
                                    timeout=5)
    if report.revisions[0].leads >= len(LEADS):
        break
    check(time.time() < deadline, f"the batch was not shadow-scored: {report}")
    time.sleep(0.1)
r = report.revisions[0]
check(sum(c.leads for c in r.levels) == r.leads and r.level_changes > 0, f"{r}")
moved_up = [c for c in r.levels if c.published == "LEAD" and c.proposed == "MQL"]
check(moved_up and moved_up[0].example_lead_ids, f"a lower bar makes MQLs of some LEADs: {r}")
levels = {s.lead_id: s.level for s in published.scores}
check(all(levels[i] == "LEAD" for i in moved_up[0].example_lead_ids),
      "the published answer was the published model's")
check(all(s.definitions[0].revision == 1 for s in published.scores), "responses unchanged")
code, body = curl("GET", "/v1/scoring/shadow/default", "viewer")
check(code == 200 and body["revisions"][0]["levelChanges"] == str(r.level_changes),
      f"the shadow report over HTTP: {code} {body}")
# And as metrics, per proposed revision (refreshed once a second).
deadline = time.time() + 5
while metric(scoring.admin_port, 'accord_scoring_shadow_level_changes{') != r.level_changes:
    check(time.time() < deadline, "the shadow metrics follow the report")
    time.sleep(0.2)
print("verdicts_test: OK")
