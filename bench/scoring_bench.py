#!/usr/bin/python3
"""Scoring over gRPC on loopback, one run, the same load generator (h2load) for all targets:

1. ScoreLead of a typical lead (20 attributes, 10 events) with the reference model
   (bench/workload/scoring-model.yaml) versus the null RPC on the same bootstrap, at 16 and
   64 streams on one connection.
2. BatchScoreLeads of 100 leads per call, in leads per second: with the server on CPU 0, then
   with the server and h2load sharing both cores.

Servers on CPU 0, h2load on CPU 1, targets alternating within each repetition. Needs
nghttp2-client. Usage: bench/scoring_bench.py [--build build] [--reps 3] [--duration 8]
"""
import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registry_bench import (ROOT, dev_tokens, frame, h2load, qps_row, quiet,  # noqa: E402
                            start_pinned, varint, wait_port_from_log)


def stubs(work):
    out = os.path.join(work, "py")
    os.makedirs(out, exist_ok=True)
    proto = os.path.join(ROOT, "proto")
    googleapis = "/usr/share/gocode/src/github.com/gogo/googleapis"
    subprocess.run(["protoc", f"-I{proto}", f"-I{googleapis}", f"--python_out={out}",
                    "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
                    f"--grpc_python_out={out}", "accord/registry/v1/definition.proto",
                    "accord/registry/v1/registry.proto", "accord/scoring/v1/scoring.proto",
                    "accord/bench/v1/null.proto"], check=True)
    subprocess.run(["protoc", f"-I{googleapis}", f"--python_out={out}",
                    "google/api/annotations.proto", "google/api/http.proto"], check=True)
    sys.path.insert(0, out)


# The bulk request bodies, in the order they are measured.
BULK = ("batch100", "batch100-basic", "stream10x100", "stream10x100-basic")


def typical_lead(pb, rng, i):
    lead = pb.Lead(id=f"lead-{i}")
    attrs = {
        "company": {"employees": rng.randint(5, 5000), "industry": rng.choice(
            ["software", "Healthcare", "retail", "media"]), "country": rng.choice(["US", "DE"]),
            "revenue": rng.randint(0, 3000000), "name": f"Company {i}", "public": rng.random() < .5,
            "website": f"c{i}.com", "region": "emea", "segment": "mid", "stage": "growth"},
        "contact": {"title": rng.choice(["Director of IT 1", "Head of Sales 2", "Engineer"]),
                    "email": f"p{i}@c{i}.com", "first_name": "Ann", "last_name": "Smith",
                    "phone": "+1 555 0100"},
        "source": "webinar", "campaign": "q4", "score_hint": 3, "owner": "sdr-1",
    }
    lead.attributes.update(attrs)
    for k in range(10):
        e = lead.events.add(type=f"event-{rng.randint(0, 11)}")
        e.time.FromSeconds(1800000000 - rng.randint(0, 200 * 86400))
        e.properties.update({"path": rng.choice(["/pricing/enterprise", "/blog"])})
    return lead


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--base", metavar="BIN",
                    help="another accord-scoring binary (an earlier build): measured beside the "
                         "current one, alternating, as the targets ending in @base")
    ap.add_argument("--both_cores_only", action="store_true",
                    help="bulk scoring only with the server and h2load sharing both cores")
    ap.add_argument("--flag", action="append", default=[],
                    help="a flag for the current build's accord-scoring (repeatable), e.g. "
                         "--flag=--front_threads=1")
    ap.add_argument("--null_work_us", type=int, default=0,
                    help="also measure null-sized with this many microseconds of busy work per "
                         "call (target null-sized+work): a stand-in for scoring's own CPU")
    ap.add_argument("--propose", action="store_true",
                    help="also propose a revision of the model (fit-0 worth 9 points), so that a "
                         "scoring service given --flag=--shadow_namespaces=default shadow-scores it "
                         "(compare with --base of the same binary without the flag)")
    ap.add_argument("--only", choices=("unary", "batch"),
                    help="run only the ScoreLead targets or only the batches")
    args = ap.parse_args()
    bindir = os.path.join(args.build, "bin")
    work = os.path.join(args.build, "bench-scoring")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    stubs(work)
    from accord.scoring.v1 import scoring_pb2 as pb
    tokens = dev_tokens(work)
    procs = []

    def start(cmd, log, cpu="0"):
        return start_pinned(procs, cmd, log, cpu)

    try:
        reg_log = os.path.join(work, "registry.log")
        reg = start([os.path.join(bindir, "accord-registry"), "--listen=127.0.0.1:0",
                     "--admin_listen=127.0.0.1:0", f"--store=sqlite:{work}/registry.db",
                     f"--keys={work}/dev-keys.yaml"], reg_log, "1")
        reg_port = wait_port_from_log(reg_log, reg)
        env = dict(os.environ, ACCORD_SERVER=f"127.0.0.1:{reg_port}")
        ctl = lambda role, *a: subprocess.run(
            [os.path.join(bindir, "accordctl"), *a], check=True, capture_output=True,
            env=dict(env, ACCORD_TOKEN=tokens[f"ACCORD_TOKEN_{role}"]))
        ctl("MARKETING_EDITOR", "apply", "-f", os.path.join(ROOT, "bench/workload/scoring-model.yaml"))
        ctl("MARKETING_EDITOR", "propose", "bench-model")
        ctl("MARKETING_APPROVER", "approve", "bench-model")
        ctl("SALES_APPROVER", "approve", "bench-model")
        ctl("MARKETING_EDITOR", "publish", "bench-model")
        if args.propose:
            with open(os.path.join(ROOT, "bench/workload/scoring-model.yaml")) as f:
                proposed = f.read().replace("{id: fit-0, points: 1,", "{id: fit-0, points: 9,", 1)
            with open(os.path.join(work, "proposed.yaml"), "w") as f:
                f.write(proposed)
            ctl("MARKETING_EDITOR", "apply", "-f", os.path.join(work, "proposed.yaml"))
            ctl("MARKETING_EDITOR", "propose", "bench-model")
        with open(os.path.join(work, "token"), "w") as f:
            f.write(tokens["ACCORD_TOKEN_SERVICE"] + "\n")
        def scoring(binary, name, *extra):
            log = os.path.join(work, f"{name}.log")
            proc = start([binary, "--listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0",
                          f"--registry=127.0.0.1:{reg_port}", f"--cache_dir={work}/{name}-cache",
                          f"--token_file={work}/token", f"--keys={work}/dev-keys.yaml", *extra],
                         log, "0")
            port = wait_port_from_log(log, proc)
            deadline = time.time() + 10
            while '"scoring ready"' not in open(log).read():
                if time.time() > deadline:
                    raise RuntimeError(open(log).read())
                time.sleep(0.1)
            return proc, port

        sc, sc_port = scoring(os.path.join(bindir, "accord-scoring"), "scoring", *args.flag)
        if args.propose and any("shadow_namespaces" in f for f in args.flag):
            # The proposal is read while the registry still runs (it is stopped below).
            import grpc
            from accord.scoring.v1 import scoring_pb2_grpc
            shadow_stub = scoring_pb2_grpc.ScoringStub(grpc.insecure_channel(f"127.0.0.1:{sc_port}"))
            deadline = time.time() + 20
            while not shadow_stub.GetShadowReport(
                    pb.GetShadowReportRequest(), timeout=5,
                    metadata=(("authorization", "Bearer " + tokens["ACCORD_TOKEN_SERVICE"]),)
                    ).revisions:
                assert time.time() < deadline, "the proposal was not shadowed"
                time.sleep(0.2)
        scorers = {"": (sc, sc_port)}
        if args.base:
            scorers["@base"] = scoring(args.base, "scoring-base")
        null_log = os.path.join(work, "null.log")
        null = start([os.path.join(bindir, "accord-bench-null"), "--listen=127.0.0.1:0"],
                     null_log, "0")
        null_port = wait_port_from_log(null_log, null)
        # The registry is not measured: stop it so it does not compete for CPU 1.
        reg.send_signal(signal.SIGTERM)
        reg.wait()

        rng = random.Random(7)
        as_of = "2026-11-01T12:00:00Z"
        one = pb.ScoreLeadRequest(lead=typical_lead(pb, rng, 0))
        one.as_of.FromJsonString(as_of)
        batch = pb.BatchScoreLeadsRequest(leads=[typical_lead(pb, rng, i) for i in range(100)])
        batch.as_of.FromJsonString(as_of)
        one_basic = pb.ScoreLeadRequest()
        one_basic.CopyFrom(one)
        one_basic.view = pb.BASIC
        batch_basic = pb.BatchScoreLeadsRequest()
        batch_basic.CopyFrom(batch)
        batch_basic.view = pb.BASIC
        # StreamScoreLeads: one stream of 10 messages of 100 leads, sent at once and half-closed
        # (the client accordctl score is); each stream scores 1000 leads.
        stream_msgs = []
        for view in (pb.FULL, pb.BASIC):
            m = pb.StreamScoreLeadsRequest(leads=batch.leads, view=view)
            m.as_of.CopyFrom(batch.as_of)
            stream_msgs.append(m)
        bodies = {"null": b"", "score": one.SerializeToString(),
                  "score-basic": one_basic.SerializeToString(),
                  "batch100": batch.SerializeToString(),
                  "batch100-basic": batch_basic.SerializeToString()}
        stream_bodies = {"stream10x100": stream_msgs[0].SerializeToString(),
                         "stream10x100-basic": stream_msgs[1].SerializeToString()}
        files = {}
        for k, v in bodies.items():
            files[k] = os.path.join(work, f"{k}.grpc")
            with open(files[k], "wb") as f:
                f.write(frame(v))
        for k, v in stream_bodies.items():
            files[k] = os.path.join(work, f"{k}.grpc")
            with open(files[k], "wb") as f:
                f.write(frame(v) * 10)
        auth = ["authorization: Bearer " + tokens["ACCORD_TOKEN_SERVICE"]]
        # Check every path once with a real client.
        import grpc
        from accord.scoring.v1 import scoring_pb2_grpc
        stub = scoring_pb2_grpc.ScoringStub(grpc.insecure_channel(f"127.0.0.1:{sc_port}"))
        md = (("authorization", auth[0].split(": ", 1)[1]),)
        result = stub.ScoreLead(one, metadata=md, timeout=5)
        assert result.definitions and result.definitions[0].name.endswith("bench-model"), result
        # The null RPC moving the bytes of a FULL ScoreLead (request and response sizes) and
        # doing nothing else: what the message sizes alone cost on this gRPC stack.
        from accord.bench.v1 import null_pb2
        full_bytes = result.ByteSize()
        sized_log = os.path.join(work, "null-sized.log")
        response_payload = full_bytes - 1 - len(varint(full_bytes))
        sized = start([os.path.join(bindir, "accord-bench-null"), "--listen=127.0.0.1:0",
                       f"--response_bytes={response_payload}"], sized_log, "0")
        sized_port = wait_port_from_log(sized_log, sized)
        if args.null_work_us:
            work_log = os.path.join(work, "null-work.log")
            worker = start([os.path.join(bindir, "accord-bench-null"), "--listen=127.0.0.1:0",
                            f"--response_bytes={response_payload}",
                            f"--work_us={args.null_work_us}"], work_log, "0")
            work_port = wait_port_from_log(work_log, worker)
        n = len(bodies["score"]) - 3
        bodies["null-sized"] = null_pb2.PingRequest(payload=b"x" * n).SerializeToString()
        assert len(bodies["null-sized"]) == len(bodies["score"]), len(bodies["null-sized"])
        files["null-sized"] = os.path.join(work, "null-sized.grpc")
        with open(files["null-sized"], "wb") as f:
            f.write(frame(bodies["null-sized"]))
        sized_stub = grpc.insecure_channel(f"127.0.0.1:{sized_port}").unary_unary(
            "/accord.bench.v1.Null/Ping")
        assert len(sized_stub(bodies["null-sized"], timeout=5)) == full_bytes
        assert len(stub.BatchScoreLeads(batch, metadata=md, timeout=5).scores) == 100
        streamed = list(stub.StreamScoreLeads(iter([stream_msgs[0]] * 10), metadata=md,
                                              timeout=10))
        assert [len(r.scores) for r in streamed] == [100] * 10, streamed
        targets = {
            "null": (f"http://127.0.0.1:{null_port}/accord.bench.v1.Null/Ping", [], null.pid, 1),
            "null-sized": (f"http://127.0.0.1:{sized_port}/accord.bench.v1.Null/Ping", [],
                           sized.pid, 1),
        }
        for suffix, (proc, port) in scorers.items():
            url = f"http://127.0.0.1:{port}/accord.scoring.v1.Scoring/ScoreLead"
            targets["score" + suffix] = (url, auth, proc.pid, 1)
            targets["score-basic" + suffix] = (url, auth, proc.pid, 1)
        files.update({k + s: files[k] for k in ("score", "score-basic") for s in scorers})
        labels = ["null", "null-sized"] + [k + s for s in scorers for k in ("score", "score-basic")]
        if args.null_work_us:
            targets["null-sized+work"] = (
                f"http://127.0.0.1:{work_port}/accord.bench.v1.Null/Ping", [], worker.pid, 1)
            files["null-sized+work"] = files["null-sized"]
            labels.insert(2, "null-sized+work")
        runs = []
        for rep in range(args.reps):
            for streams in (16, 64) if args.only != "batch" else ():
                for label in labels:
                    was_quiet = quiet()
                    url, headers, pid, per = targets[label]
                    r = h2load(url, files[label], streams, args.duration, args.warmup, headers,
                               pid, work)
                    r.update(rep=rep, streams=streams, target=label, quiet_before=was_quiet)
                    runs.append(r)
                    print(json.dumps(r), file=sys.stderr)
            # Batches twice: the server on CPU 0 as above, then the server and h2load both
            # on both cores ("the load generator on the same 2 cores").
            for cores in (("1", "2") if not args.both_cores_only else ("2",)) \
                    if args.only != "unary" else ():
                for body in BULK:
                    method, per = ("StreamScoreLeads", 1000) if body.startswith("stream") else (
                        "BatchScoreLeads", 100)
                    for suffix, (proc, port) in scorers.items():
                        subprocess.run(["taskset", "-a", "-p", "-c",
                                        "0" if cores == "1" else "0,1", str(proc.pid)],
                                       check=True, capture_output=True)
                        quiet()
                        url = f"http://127.0.0.1:{port}/accord.scoring.v1.Scoring/{method}"
                        r = h2load(url, files[body], 4, args.duration, args.warmup, auth,
                                   proc.pid, work, cpus="1" if cores == "1" else "0,1")
                        r.update(rep=rep, streams=4, target=body + suffix, cores=cores,
                                 leads_per_second=r["qps"] * per,
                                 server_cpu_us_per_lead=r["server_cpu_us_per_req"] / per)
                        runs.append(r)
                        print(json.dumps(r), file=sys.stderr)
                        subprocess.run(["taskset", "-a", "-p", "-c", "0", str(proc.pid)],
                                       check=True, capture_output=True)

        if args.only != "batch":
            print(f"## ScoreLead ({len(bodies['score'])}-byte request) vs null RPC\n")
            print("| streams | target | QPS median [min-max] | p50 us | p99 us | server CPU us/req |")
            print("|---|---|---|---|---|---|")
            for streams in (16, 64):
                for label in labels:
                    rs = [r for r in runs if r["streams"] == streams and r["target"] == label]
                    print(qps_row(streams, label, rs))
            print("\n| streams | score/null QPS (per rep) | score-basic/null QPS (per rep) | "
                  "null-sized/null | score/null-sized |" +
                  (" null-sized+work/null |" if args.null_work_us else "") +
                  "\n|---|---|---|---|---|" + ("---|" if args.null_work_us else ""))
            for streams in (16, 64):
                by = lambda label, rep: next(r["qps"] for r in runs if r["streams"] == streams and
                                             r["target"] == label and r["rep"] == rep)
                cells = []
                pairs = [("score", "null"), ("score-basic", "null"), ("null-sized", "null"),
                         ("score", "null-sized")]
                if args.null_work_us:
                    pairs.append(("null-sized+work", "null"))
                for label, base in pairs:
                    ratio = [by(label, i) / by(base, i) for i in range(args.reps)]
                    cells.append(f"median {statistics.median(ratio):.2f} "
                                 f"[{min(ratio):.2f}-{max(ratio):.2f}]")
                print(f"| {streams} | " + " | ".join(cells) + " |")
            for other in (s for s in scorers if s):
                print(f"\n| streams | score/score{other} QPS (per rep) | "
                      f"score-basic/score-basic{other} |\n|---|---|---|")
                for streams in (16, 64):
                    cells = []
                    for label in ("score", "score-basic"):
                        ratio = [by(label, i) / by(label + other, i) for i in range(args.reps)]
                        cells.append(f"median {statistics.median(ratio):.2f} "
                                     f"[{min(ratio):.2f}-{max(ratio):.2f}]")
                    print(f"| {streams} | " + " | ".join(cells) + " |")
        if args.only != "unary":
            print("\n## BatchScoreLeads (100 leads per call) and StreamScoreLeads (10 messages of 100 "
                  "leads per stream), 4 calls in flight\n")
            print("| server on | RPC, view | leads/s median [min-max] | server CPU us per lead |")
            print("|---|---|---|---|")
            for cores in ("1", "2") if not args.both_cores_only else ("2",):
                for body in BULK:
                    for suffix in scorers:
                        b = [r for r in runs if r["target"] == body + suffix and
                             r["cores"] == cores]
                        lps = [r["leads_per_second"] for r in b]
                        where = ("CPU 0 (h2load on CPU 1)" if cores == "1"
                                 else "CPUs 0-1 (h2load too)")
                        ratio = ""
                        if suffix:
                            mine = [r["leads_per_second"] for r in runs
                                    if r["target"] == body and r["cores"] == cores]
                            per = [m / x for m, x in zip(mine, lps)]
                            ratio = (f" (current/{suffix[1:]}: median {statistics.median(per):.2f} "
                                     f"[{min(per):.2f}-{max(per):.2f}])")
                        rpc = "Stream" if body.startswith("stream") else "Batch"
                        print(f"| {where} | {rpc} {'BASIC' if 'basic' in body else 'FULL'}{suffix} | "
                              f"{statistics.median(lps):,.0f} [{min(lps):,.0f}-{max(lps):,.0f}]"
                              f"{ratio} | "
                              f"{statistics.median(r['server_cpu_us_per_lead'] for r in b):.1f} |")
        if args.propose and any("shadow_namespaces" in f for f in args.flag):
            report = stub.GetShadowReport(pb.GetShadowReportRequest(), metadata=md, timeout=5)
            r = report.revisions[0]
            print(f"\nShadow scoring of revision {r.revision}: {report.requests_sampled} requests "
                  f"sampled ({report.sample_rate:.0%}), {report.requests_dropped} dropped, "
                  f"{r.leads} leads scored both ways, {r.level_changes} level and "
                  f"{r.grade_changes} grade changes")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
