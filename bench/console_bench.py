#!/usr/bin/python3
"""Review console benchmarks, against a real stack with 200 definitions:

1. Console load: the bytes the browser transfers (JavaScript, and everything) and the time
   from navigation to the inbox listing all 200 definitions, in headless Chromium on loopback;
   baseline in the same repetition: the same API calls the inbox makes, from Node without a
   browser (ListDefinitions, then the latest revision of every open definition).
2. Impact preview of 10,000 sample leads, end to end: from choosing the file in the browser to
   the rendered charts (the console splits the sample under the 1 MiB body limit).
3. PreviewDefinition's own throughput in leads/s beside BatchScoreLeads' (the baseline), both
   over gRPC to the scoring service, alternating within each repetition, with the scoring
   service's CPU-microseconds per lead.

Servers are pinned to CPU 0, Chromium, Node and the gRPC client to CPU 1.
Usage: bench/console_bench.py [--build build] [--reps 3]. Prints a Markdown report.
Needs `make build` (the console) and `make test`'s node packages (playwright-core, chromium).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registry_bench import (ROOT, cpu_seconds, dev_tokens, median_range,  # noqa: E402
                            quiet, start_pinned, stop_all)
from scoring_bench import stubs  # noqa: E402

AS_OF = "2026-11-01T12:00:00Z"


def ctl(bin_dir, server, token, *args):
    return subprocess.run([os.path.join(bin_dir, "accordctl"), "--server", server, *args],
                          env=dict(os.environ, ACCORD_TOKEN=token), capture_output=True,
                          text=True, timeout=60, check=True).stdout


def wait_for(what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            what()
            return
        except subprocess.CalledProcessError:
            time.sleep(0.1)
    raise RuntimeError("the stack did not start")


def ready(log, text, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in open(log).read():
            return next(json.loads(line) for line in open(log) if text in line)
        time.sleep(0.05)
    raise RuntimeError(f"{text} not in {log}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    bin_dir = os.path.abspath(os.path.join(args.build, "bin"))
    console_dir = os.path.abspath(os.path.join(args.build, "console"))
    e2e_modules = os.path.abspath(os.path.join(args.build, "console-e2e", "node_modules"))
    work = "/tmp/accord-console-bench"
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    tokens = dev_tokens(work)
    keys = os.path.join(work, "dev-keys.yaml")
    procs = []
    try:
        base = 7900
        registry, scoring, gateway, http = (f"127.0.0.1:{base + 1}", f"127.0.0.1:{base + 2}",
                                            f"127.0.0.1:{base}", f"127.0.0.1:{base + 80}")
        start_pinned(procs, [os.path.join(bin_dir, "accord-registry"), f"--listen={registry}",
                             f"--admin_listen=127.0.0.1:{base + 2001}",
                             f"--store=sqlite:{work}/registry.db", f"--keys={keys}"],
                     f"{work}/registry.log")
        viewer = tokens["ACCORD_TOKEN_VIEWER"]
        wait_for(lambda: ctl(bin_dir, registry, viewer, "list"))
        with open(f"{work}/scoring.token", "w") as f:
            f.write(tokens["ACCORD_TOKEN_SERVICE"] + "\n")
        scoring_proc = start_pinned(procs, [
            os.path.join(bin_dir, "accord-scoring"), f"--listen={scoring}",
            f"--admin_listen=127.0.0.1:{base + 2002}", f"--registry={registry}",
            f"--cache_dir={work}/cache", f"--token_file={work}/scoring.token", f"--keys={keys}"],
            f"{work}/scoring.log")
        start_pinned(procs, [os.path.join(bin_dir, "accord-gateway"), f"--listen={gateway}",
                             f"--http_listen={http}", f"--admin_listen=127.0.0.1:{base + 2000}",
                             f"--registry={registry}", f"--scoring={scoring}", f"--keys={keys}",
                             f"--console_dir={console_dir}", "--quota_rps=100000",
                             "--quota_burst=100000"], f"{work}/gateway.log")
        ready(f"{work}/gateway.log", "gateway ready")

        # 200 definitions: the 7 examples, published, and 193 personas, 20 of them proposed.
        ed, ma, sa = (tokens["ACCORD_TOKEN_MARKETING_EDITOR"],
                      tokens["ACCORD_TOKEN_MARKETING_APPROVER"], tokens["ACCORD_TOKEN_SALES_APPROVER"])
        ctl(bin_dir, gateway, ed, "apply", "-f", os.path.join(ROOT, "examples/definitions"))
        for name in ["it-director", "revops-leader", "student", "b2b-lead-score", "b2b-journey",
                     "marketing-sales-sla", "b2b-account-score"]:
            ctl(bin_dir, gateway, ed, "propose", name)
            ctl(bin_dir, gateway, ma, "approve", name)
            ctl(bin_dir, gateway, sa, "approve", name)
            ctl(bin_dir, gateway, ed, "publish", name)
        extra = os.path.join(work, "personas")
        os.makedirs(extra)
        for i in range(193):
            with open(os.path.join(extra, f"p{i:03}.yaml"), "w") as f:
                f.write(f"name: namespaces/default/definitions/bench-persona-{i:03}\n"
                        f"display_name: Bench persona {i}\nbuyer_persona:\n  criteria:\n"
                        f"    - {{id: title, condition: {{attribute: {{field: contact.title, "
                        f"op: CONTAINS, value: 'Role {i}'}}}}}}\n")
        ctl(bin_dir, gateway, ed, "apply", "-f", extra)
        for i in range(20):
            ctl(bin_dir, gateway, ed, "propose", f"bench-persona-{i:03}", "-m", f"bench {i}")
        # The proposal to preview: the MQL bar lowered, as in make run's "Try next".
        model = os.path.join(work, "model.yaml")
        with open(os.path.join(ROOT, "examples/definitions/20-model.yaml")) as f:
            text = f.read().replace("{name: MQL, min_fit: 40, min_engagement: 25}",
                                    "{name: MQL, min_fit: 20, min_engagement: 10}")
        with open(model, "w") as f:
            f.write(text)
        ctl(bin_dir, gateway, ed, "apply", "-f", model)
        ctl(bin_dir, gateway, ed, "propose", "b2b-lead-score", "-m", "lower the MQL bar")
        listed = ctl(bin_dir, gateway, viewer, "list", "-o", "jsonl").splitlines()
        assert len(listed) == 200, len(listed)
        ready(f"{work}/scoring.log", "scoring ready")

        # 10,000 sample leads: the example leads, repeated under new ids.
        with open(os.path.join(ROOT, "examples/leads.jsonl")) as f:
            examples = [json.loads(line) for line in f]
        sample = os.path.join(work, "sample-10000.jsonl")
        with open(sample, "w") as f:
            for i in range(10000):
                lead = dict(examples[i % len(examples)], id=f"s-{i:05}")
                f.write(json.dumps(lead) + "\n")

        quiet()
        browser = subprocess.run(
            ["taskset", "-c", "1", "node", os.path.join(ROOT, "bench", "console_bench.mjs")],
            env=dict(os.environ, NODE_PATH=e2e_modules, CONSOLE_URL=f"http://{http}/console/",
                     TOKEN=ma, SAMPLE=sample, REPS=str(args.reps),
                     REVIEW="default/b2b-lead-score/2",
                     CHROMIUM=os.environ.get("ACCORD_CHROMIUM", "/usr/bin/chromium")),
            capture_output=True, text=True, timeout=600)
        if browser.returncode != 0:
            raise RuntimeError(browser.stderr + browser.stdout)
        b = json.loads(browser.stdout.strip().splitlines()[-1])

        # PreviewDefinition vs BatchScoreLeads over gRPC, from CPU 1.
        os.sched_setaffinity(0, {1})
        stubs(work)
        import grpc
        from accord.registry.v1 import registry_pb2, registry_pb2_grpc
        from accord.scoring.v1 import scoring_pb2, scoring_pb2_grpc
        from google.protobuf import json_format
        opts = [("grpc.max_receive_message_length", 64 << 20),
                ("grpc.max_send_message_length", 64 << 20)]
        rstub = registry_pb2_grpc.RegistryStub(grpc.insecure_channel(registry, options=opts))
        sstub = scoring_pb2_grpc.ScoringStub(grpc.insecure_channel(scoring, options=opts))
        md = (("authorization", "Bearer " + tokens["ACCORD_TOKEN_SERVICE"]),)
        rev = rstub.GetRevision(registry_pb2.GetRevisionRequest(
            name="namespaces/default/definitions/b2b-lead-score/revisions/2"), metadata=md)
        proposed = rev.snapshot
        proposed.name = "namespaces/default/definitions/b2b-lead-score"
        leads = []
        with open(sample) as f:
            for line in f:
                leads.append(json_format.Parse(line, scoring_pb2.Lead()))
        per_call = 1000
        requests = {
            "BatchScoreLeads": [scoring_pb2.BatchScoreLeadsRequest(
                leads=leads[i:i + per_call], view=scoring_pb2.FULL) for i in range(0, 10000, per_call)],
            "PreviewDefinition": [scoring_pb2.PreviewDefinitionRequest(
                proposed=proposed, leads=leads[i:i + per_call]) for i in range(0, 10000, per_call)],
        }
        for reqs in requests.values():
            for r in reqs:
                r.as_of.FromJsonString(AS_OF)
        call = {"BatchScoreLeads": sstub.BatchScoreLeads,
                "PreviewDefinition": sstub.PreviewDefinition}
        for name in requests:  # warm up
            call[name](requests[name][0], metadata=md, timeout=60)
        rates = {name: [] for name in requests}
        cpu_per_lead = {name: [] for name in requests}
        for _ in range(args.reps):
            for name in requests:
                cpu0, t0 = cpu_seconds(scoring_proc.pid), time.perf_counter()
                for r in requests[name]:
                    call[name](r, metadata=md, timeout=60)
                seconds = time.perf_counter() - t0
                cpu = cpu_seconds(scoring_proc.pid) - cpu0
                rates[name].append(10000 / seconds)
                cpu_per_lead[name].append(cpu / 10000 * 1e6)
        ratios = [p / s for p, s in zip(rates["PreviewDefinition"], rates["BatchScoreLeads"])]

        print(f"## Review console ({time.strftime('%Y-%m-%d')})\n")
        print(f"- **Command:** `bench/console_bench.py --reps {args.reps}`")
        print(f"- **Machine:** {os.cpu_count()} vCPUs; servers pinned to CPU 0, Chromium/Node and "
              f"the gRPC client to CPU 1. Chromium {b['chromium']}.\n")
        print("### Console load: 200 definitions, 21 open proposals, signed in as the marketing approver\n")
        print("| measure | median [min-max] |")
        print("|---|---|")
        print(f"| JavaScript transferred (gzip), bytes | {median_range(b['js_bytes'])} |")
        print(f"| everything transferred, bytes | {median_range(b['all_bytes'])} |")
        print(f"| navigation to the inbox listing 200 definitions, ms | {median_range(b['load_ms'])} |")
        print(f"| baseline: the inbox's API calls from Node, ms | {median_range(b['api_ms'])} |")
        print(f"| ratio console / API calls | {median_range([x / y for x, y in zip(b['load_ms'], b['api_ms'])], '{:.2f}')} |")
        print("\n### Impact preview of 10,000 leads, file chosen to charts rendered\n")
        print("| measure | median [min-max] |")
        print("|---|---|")
        print(f"| end to end, ms | {median_range(b['preview_ms'])} |")
        print(f"| requests per preview (under the 1 MiB body limit) | {median_range(b['parts'])} |")
        print("\n### PreviewDefinition beside BatchScoreLeads (10,000 leads, 1,000 per call, FULL view)\n")
        print("| method | leads/s | scoring CPU us/lead |")
        print("|---|---|---|")
        for name in requests:
            print(f"| {name} | {median_range(rates[name])} | {median_range(cpu_per_lead[name], '{:.1f}')} |")
        print(f"\nPreviewDefinition / BatchScoreLeads throughput: {median_range(ratios, '{:.2f}')} "
              "(a preview scores every lead twice, with the published set and with the proposal, "
              "and compiles the proposal once per call)")
    finally:
        stop_all(procs)


if __name__ == "__main__":
    main()
