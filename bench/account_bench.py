#!/usr/bin/python3
"""ScoreAccount of an account with 50 typical members against BatchScoreLeads of the same 50
leads (the baseline), in the same run, over gRPC straight to a real scoring service:

- both requests carry the same 50 leads (the example leads under new ids, with a consent
  attribute that allows profiling, so that every member is scored); BatchScoreLeads asks for
  the BASIC view, as ScoreAccount scores its members (FULL is reported beside it);
- h2load sends each body with 4 streams on one connection, the targets alternating within each
  repetition; the scoring service is pinned to CPU 0 and h2load to CPU 1;
- reported: calls/s, leads/s (50 per call), the scoring service's CPU-microseconds per lead, and
  the ratio of ScoreAccount's leads/s to BatchScoreLeads' (the default FULL view, and BASIC),
  per repetition.

Usage: bench/account_bench.py [--build build] [--reps 3] [--duration 6]
Needs Debian's nghttp2-client (h2load). Prints a Markdown report.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registry_bench import (ROOT, dev_tokens, frame, h2load, median_range,  # noqa: E402
                            quiet, start_pinned, stop_all, wait_port_from_log)
from scoring_bench import stubs  # noqa: E402

MEMBERS = 50
AS_OF = "2026-11-01T12:00:00Z"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=int, default=6)
    ap.add_argument("--warmup", type=int, default=1)
    args = ap.parse_args()
    bin_dir = os.path.abspath(os.path.join(args.build, "bin"))
    work = "/tmp/accord-account-bench"
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    tokens = dev_tokens(work)
    keys = os.path.join(work, "dev-keys.yaml")
    procs = []
    try:
        registry = start_pinned(procs, [os.path.join(bin_dir, "accord-registry"),
                                        "--listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0",
                                        f"--store=sqlite:{work}/registry.db", f"--keys={keys}"],
                                f"{work}/registry.log")
        reg = f"127.0.0.1:{wait_port_from_log(f'{work}/registry.log', registry)}"

        def ctl(token, *a):
            subprocess.run([os.path.join(bin_dir, "accordctl"), "--server", reg, *a], check=True,
                           capture_output=True, env=dict(os.environ, ACCORD_TOKEN=token))

        ed, ma, sa = (tokens["ACCORD_TOKEN_MARKETING_EDITOR"],
                      tokens["ACCORD_TOKEN_MARKETING_APPROVER"],
                      tokens["ACCORD_TOKEN_SALES_APPROVER"])
        ctl(ed, "apply", "-f", os.path.join(ROOT, "examples/definitions"))
        for name in ["it-director", "revops-leader", "student", "b2b-lead-score", "b2b-journey",
                     "marketing-sales-sla", "b2b-account-score"]:
            ctl(ed, "propose", name)
            ctl(ma, "approve", name)
            ctl(sa, "approve", name)
            ctl(ed, "publish", name)
        with open(f"{work}/scoring.token", "w") as f:
            f.write(tokens["ACCORD_TOKEN_SERVICE"] + "\n")
        scoring = start_pinned(procs, [
            os.path.join(bin_dir, "accord-scoring"), "--listen=127.0.0.1:0",
            "--admin_listen=127.0.0.1:0", f"--registry={reg}", f"--cache_dir={work}/cache",
            f"--token_file={work}/scoring.token", f"--keys={keys}"], f"{work}/scoring.log")
        port = wait_port_from_log(f"{work}/scoring.log", scoring)
        deadline = time.time() + 20
        while '"scoring ready"' not in open(f"{work}/scoring.log").read():
            if time.time() > deadline:
                raise RuntimeError("scoring did not become ready")
            time.sleep(0.05)

        stubs(work)
        from accord.scoring.v1 import scoring_pb2
        from google.protobuf import json_format
        with open(os.path.join(ROOT, "examples/leads.jsonl")) as f:
            examples = [json.loads(line) for line in f]
        leads = []
        for i in range(MEMBERS):
            lead = json.loads(json.dumps(examples[i % len(examples)]))
            lead["id"] = f"m-{i:02}"
            lead["attributes"]["consent"] = {"profiling": True}
            leads.append(json_format.ParseDict(lead, scoring_pb2.Lead()))
        account = scoring_pb2.ScoreAccountRequest()
        account.account.id = "bench"
        account.account.attributes.update({"employees": 2400, "industry": "software"})
        account.account.members.extend(leads)
        account.as_of.FromJsonString(AS_OF)
        bodies = {}
        for label, method, request in [
                ("ScoreAccount", "ScoreAccount", account),
                ("BatchScoreLeads BASIC", "BatchScoreLeads",
                 scoring_pb2.BatchScoreLeadsRequest(leads=leads, view=scoring_pb2.BASIC,
                                                    as_of=account.as_of)),
                ("BatchScoreLeads FULL", "BatchScoreLeads",
                 scoring_pb2.BatchScoreLeadsRequest(leads=leads, view=scoring_pb2.FULL,
                                                    as_of=account.as_of))]:
            path = os.path.join(work, label.replace(" ", "-") + ".bin")
            with open(path, "wb") as f:
                f.write(frame(request.SerializeToString()))
            bodies[label] = (method, path)
        headers = [f"authorization: Bearer {tokens['ACCORD_TOKEN_SERVICE']}"]
        results = {label: [] for label in bodies}
        quiet()
        for _ in range(args.reps):
            for label, (method, path) in bodies.items():
                results[label].append(h2load(
                    f"http://127.0.0.1:{port}/accord.scoring.v1.Scoring/{method}", path, 4,
                    args.duration, args.warmup, headers, scoring.pid, work))
        for label, rs in results.items():
            if any(r["done"] == 0 for r in rs):
                raise RuntimeError(f"{label}: no request completed")
        ratio = {view: [a["qps"] / b["qps"] for a, b in zip(results["ScoreAccount"],
                                                            results[f"BatchScoreLeads {view}"])]
                 for view in ("FULL", "BASIC")}
        print(f"## Accounts: ScoreAccount beside BatchScoreLeads ({time.strftime('%Y-%m-%d')})\n")
        print(f"- **Command:** `bench/account_bench.py --reps {args.reps} --duration "
              f"{args.duration}`")
        print(f"- **Machine:** {os.cpu_count()} vCPUs; the scoring service pinned to CPU 0, "
              "h2load (1 connection, 4 streams) to CPU 1.")
        print(f"- **Request:** {MEMBERS} members (the example leads under new ids, each "
              "allowing profiling), as of 2026-11-01; the account model of "
              "`examples/definitions/50-account.yaml` (TOP_N 3, three buying roles, a consent "
              "rule).\n")
        print("| method | calls/s | leads/s | server CPU us/lead | p50 us |")
        print("|---|---|---|---|---|")
        for label, rs in results.items():
            print(f"| {label} | {median_range([r['qps'] for r in rs])} | "
                  f"{median_range([r['qps'] * MEMBERS for r in rs])} | "
                  f"{median_range([r['server_cpu_us_per_req'] / MEMBERS for r in rs], '{:.2f}')} | "
                  f"{statistics.median(r['p50_us'] for r in rs):,.0f} |")
        print(f"\nScoreAccount / BatchScoreLeads leads/s, per repetition (goal: at least 0.8 of "
              "the batch as a client sends it, i.e. the default FULL view):")
        print(f"- against BatchScoreLeads (FULL, the default view): "
              f"{median_range(ratio['FULL'], '{:.2f}')}")
        print(f"- against BatchScoreLeads BASIC (scores only, as ScoreAccount scores its members): "
              f"{median_range(ratio['BASIC'], '{:.2f}')}")
    finally:
        stop_all(procs)


if __name__ == "__main__":
    main()
