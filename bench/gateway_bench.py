#!/usr/bin/python3
"""Gateway benchmarks, all in one run, with the same load generator (h2load) for every target:

1. gRPC pass-through: a null-RPC backend (accord-bench-null answers every method with an
   empty message) called directly, through accord-gateway and through Debian's nginx as a gRPC
   proxy (grpc_pass, one worker, upstream keepalive), with the same request path
   (/accord.registry.v1.Registry/GetDefinition) and API key.
   Backend and proxy pinned to CPU 0,
   h2load to CPU 1; targets alternate within each repetition; ratios are per repetition.
2. ScoreLead through the gateway: gRPC (h2load, 1 connection x 16 streams) versus HTTP/JSON
   over HTTP/1.1 (h2load --h1, 16 connections) and over HTTP/2 (h2c with prior knowledge to the
   HTTP port, 1 connection x 16 streams), the same lead, against a real registry and scoring
   service.

Usage: bench/gateway_bench.py [--build build] [--reps 3] [--duration 8] [--unpinned]
Needs Debian's nghttp2-client (h2load) and nginx. Prints a Markdown report.
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
from registry_bench import (ROOT, dev_tokens, frame, h2load, quiet, start_pinned,  # noqa: E402
                            wait_port_from_log)
from scoring_bench import stubs, typical_lead  # noqa: E402

# Pass-through targets, in the order they alternate: the backend itself, the gateway (HTTP/2
# relay front end), nginx.
LABELS = ("direct", "gateway", "nginx")

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {work}/nginx-tmp;
  proxy_temp_path {work}/nginx-tmp;
  fastcgi_temp_path {work}/nginx-tmp;
  uwsgi_temp_path {work}/nginx-tmp;
  scgi_temp_path {work}/nginx-tmp;
  keepalive_requests 100000000;
  upstream backend {{ server 127.0.0.1:{backend}; keepalive 32; keepalive_requests 100000000; }}
  server {{
    listen 127.0.0.1:{port} http2;
    http2_max_concurrent_streams 1000;
    location / {{ grpc_pass grpc://backend; }}
  }}
}}
"""


SCORE_LABELS = ("grpc", "http-json", "http2-json")


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def gateway_ready(log, proc):
    deadline = time.time() + 20
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(open(log).read())
        for line in open(log):
            entry = json.loads(line) if line.startswith("{") else {}
            if entry.get("msg") == "gateway ready":
                return entry["http_port"]
        time.sleep(0.05)
    raise RuntimeError("gateway not ready: " + open(log).read())


def median_range(values, fmt="{:,.0f}"):
    return f"{fmt.format(statistics.median(values))} [{fmt.format(min(values))}-{fmt.format(max(values))}]"


def main():
    import grpc
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--unpinned", action="store_true",
                    help="servers, proxies and h2load all float over both cores (the setting of "
                         "the research anchors' nginx figures) instead of CPU 0 / CPU 1")
    ap.add_argument("--connections", type=int, default=1,
                    help="h2load connections for the pass-through targets (streams are per "
                         "connection)")
    ap.add_argument("--one_loop", action="store_true",
                    help="also measure the gateway with --relay_threads=1 (gateway-1loop)")
    ap.add_argument("--score_only", action="store_true",
                    help="only part 2 (ScoreLead: gRPC vs HTTP/JSON)")
    args = ap.parse_args()
    labels = list(LABELS) + (["gateway-1loop"] if args.one_loop else [])
    bindir = os.path.join(args.build, "bin")
    work = os.path.join(args.build, "bench-gateway")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "nginx-tmp"))
    stubs(work)
    tokens = dev_tokens(work)
    token = tokens["ACCORD_TOKEN_SERVICE"]
    auth = ["authorization: Bearer " + token]
    procs = []

    def start(cmd, log, cpu="0"):
        return start_pinned(procs, cmd, log, "0,1" if args.unpinned else cpu)

    try:
        # --- 1. pass-through ---
        runs = []
        if not args.score_only:
            null_log = os.path.join(work, "null.log")
            null = start([os.path.join(bindir, "accord-bench-null"), "--listen=127.0.0.1:0",
                          "--no_rpc_metrics"], null_log)
            null_port = wait_port_from_log(null_log, null)

            def null_gateway(name, *flags):
                """accord-gateway in front of the null backend (both backends), with `flags`."""
                log = os.path.join(work, f"{name}-null.log")
                proc = start([os.path.join(bindir, "accord-gateway"), "--listen=127.0.0.1:0",
                              "--http_listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0",
                              f"--registry=127.0.0.1:{null_port}",
                              f"--scoring=127.0.0.1:{null_port}", f"--keys={work}/dev-keys.yaml",
                              "--no_rpc_metrics", "--quota_rps=1000000", "--quota_burst=1000000",
                              *flags], log)
                port = wait_port_from_log(log, proc)
                gateway_ready(log, proc)
                return proc, port

            gw, gw_port = null_gateway("gateway")
            # The same gateway with its former front end: a gRPC server call and a backend call.
            gw1 = None
            if args.one_loop:
                gw1, gw1_port = null_gateway("gateway-1loop", "--relay_threads=1")
            nginx_port = free_port()
            conf = os.path.join(work, "nginx.conf")
            with open(conf, "w") as f:
                f.write(NGINX_CONF.format(work=work, backend=null_port, port=nginx_port))
            nginx = start(["nginx", "-e", os.path.join(work, "nginx-error.log"), "-p", work, "-c",
                           conf], os.path.join(work, "nginx.log"))
            time.sleep(1)
            nginx_worker = int(subprocess.run(["pgrep", "-P", str(nginx.pid)], capture_output=True,
                                              text=True).stdout.split()[0])
            path = "/accord.registry.v1.Registry/GetDefinition"
            from accord.registry.v1 import registry_pb2
            request = registry_pb2.GetDefinitionRequest(
                name="namespaces/default/definitions/it-director").SerializeToString()
            body = os.path.join(work, "get.grpc")
            with open(body, "wb") as f:
                f.write(frame(request))
            for port in (null_port, gw_port, nginx_port):  # every path answers OK once
                grpc.insecure_channel(f"127.0.0.1:{port}").unary_unary(path)(
                    request, metadata=(("authorization", "Bearer " + token),), timeout=5)
            targets = {
                "direct": (f"http://127.0.0.1:{null_port}{path}", [null.pid]),
                "gateway": (f"http://127.0.0.1:{gw_port}{path}", [gw.pid, null.pid]),
                "nginx": (f"http://127.0.0.1:{nginx_port}{path}", [nginx_worker, null.pid]),
            }
            if gw1 is not None:
                targets["gateway-1loop"] = (f"http://127.0.0.1:{gw1_port}{path}", [gw1.pid, null.pid])
            for rep in range(args.reps):
                for streams in (16, 64):
                    for label in labels:
                        was_quiet = quiet()
                        url, pids = targets[label]
                        r = h2load(url, body, streams, args.duration, args.warmup, auth, pids, work,
                                   connections=args.connections,
                                   cpus="0,1" if args.unpinned else "1")
                        r.update(rep=rep, streams=streams, target=label, quiet_before=was_quiet)
                        runs.append(r)
                        print(json.dumps(r), file=sys.stderr)
            for p in (gw, nginx, null) + ((gw1,) if gw1 is not None else ()):
                p.send_signal(signal.SIGTERM)
                p.wait()

        # --- 2. ScoreLead: gRPC vs HTTP/JSON through the gateway ---
        from accord.scoring.v1 import scoring_pb2 as pb
        from google.protobuf import json_format
        reg_log = os.path.join(work, "registry.log")
        reg = start([os.path.join(bindir, "accord-registry"), "--listen=127.0.0.1:0",
                     "--admin_listen=127.0.0.1:0", f"--store=sqlite:{work}/registry.db",
                     f"--keys={work}/dev-keys.yaml"], reg_log, "1")
        reg_port = wait_port_from_log(reg_log, reg)
        env = dict(os.environ, ACCORD_SERVER=f"127.0.0.1:{reg_port}")
        for role, *a in (("MARKETING_EDITOR", "apply", "-f",
                          os.path.join(ROOT, "bench/workload/scoring-model.yaml")),
                         ("MARKETING_EDITOR", "propose", "bench-model"),
                         ("MARKETING_APPROVER", "approve", "bench-model"),
                         ("SALES_APPROVER", "approve", "bench-model"),
                         ("MARKETING_EDITOR", "publish", "bench-model")):
            subprocess.run([os.path.join(bindir, "accordctl"), *a], check=True,
                           capture_output=True,
                           env=dict(env, ACCORD_TOKEN=tokens[f"ACCORD_TOKEN_{role}"]))
        with open(os.path.join(work, "token"), "w") as f:
            f.write(token + "\n")
        sc_log = os.path.join(work, "scoring.log")
        sc = start([os.path.join(bindir, "accord-scoring"), "--listen=127.0.0.1:0",
                    "--admin_listen=127.0.0.1:0", f"--registry=127.0.0.1:{reg_port}",
                    f"--cache_dir={work}/cache", f"--token_file={work}/token",
                    f"--keys={work}/dev-keys.yaml"], sc_log)
        sc_port = wait_port_from_log(sc_log, sc)
        deadline = time.time() + 10
        while '"scoring ready"' not in open(sc_log).read():
            if time.time() > deadline:
                raise RuntimeError(open(sc_log).read())
            time.sleep(0.1)
        reg.send_signal(signal.SIGTERM)
        reg.wait()
        gw2_log = os.path.join(work, "gateway.log")
        gw2 = start([os.path.join(bindir, "accord-gateway"), "--listen=127.0.0.1:0",
                     "--http_listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0",
                     f"--registry=127.0.0.1:{reg_port}", f"--scoring=127.0.0.1:{sc_port}",
                     f"--keys={work}/dev-keys.yaml", "--quota_rps=1000000",
                     "--quota_burst=1000000"], gw2_log)
        gw2_port = wait_port_from_log(gw2_log, gw2)
        http_port = gateway_ready(gw2_log, gw2)
        one = pb.ScoreLeadRequest(lead=typical_lead(pb, random.Random(7), 0))
        one.as_of.FromJsonString("2026-11-01T12:00:00Z")
        score_grpc = os.path.join(work, "score.grpc")
        with open(score_grpc, "wb") as f:
            f.write(frame(one.SerializeToString()))
        score_json = os.path.join(work, "score.json")
        with open(score_json, "w") as f:
            f.write(json_format.MessageToJson(one))
        check = subprocess.run(["curl", "-sf", "-H", auth[0], "-H",
                                "content-type: application/json", "--data-binary",
                                "@" + score_json,
                                f"http://127.0.0.1:{http_port}/v1/scoring:scoreLead"],
                               capture_output=True, text=True)
        assert check.returncode == 0 and "bench-model" in check.stdout, check
        grpc.insecure_channel(f"127.0.0.1:{gw2_port}").unary_unary(
            "/accord.scoring.v1.Scoring/ScoreLead")(
                one.SerializeToString(), metadata=(("authorization", "Bearer " + token),),
                timeout=5)
        score_runs = []
        for rep in range(args.reps):
            for label in SCORE_LABELS:
                quiet()
                if label == "grpc":
                    r = h2load(f"http://127.0.0.1:{gw2_port}/accord.scoring.v1.Scoring/ScoreLead",
                               score_grpc, 16, args.duration, args.warmup, auth,
                               [gw2.pid, sc.pid], work)
                elif label == "http-json":
                    r = h2load(f"http://127.0.0.1:{http_port}/v1/scoring:scoreLead", score_json,
                               1, args.duration, args.warmup, auth, [gw2.pid, sc.pid], work,
                               grpc_framing=False, connections=16)
                else:  # http2-json: h2c with prior knowledge, handed to the HTTP/2 front end
                    r = h2load(f"http://127.0.0.1:{http_port}/v1/scoring:scoreLead", score_json,
                               16, args.duration, args.warmup, auth, [gw2.pid, sc.pid], work,
                               grpc_framing=False, h1=False)
                r.update(rep=rep, target=label)
                score_runs.append(r)
                print(json.dumps(r), file=sys.stderr)

        if runs:
            print("## gRPC pass-through: null backend direct, through accord-gateway, through nginx\n")
            print("| streams | target | QPS median [min-max] | p50 us | p99 us | "
                  "CPU us/req (proxy + backend) |")
            print("|---|---|---|---|---|---|")
            for streams in (16, 64):
                for label in labels:
                    rs = [r for r in runs if r["streams"] == streams and r["target"] == label]
                    print(f"| {streams} | {label} | {median_range([r['qps'] for r in rs])} | "
                          f"{statistics.median(r['p50_us'] for r in rs):.0f} | "
                          f"{statistics.median(r['p99_us'] for r in rs):.0f} | "
                          f"{statistics.median(r['server_cpu_us_per_req'] for r in rs):.1f} |")
            print("\n| streams | gateway/direct QPS | nginx/direct QPS | "
                  "gateway added p50 us | nginx added p50 us |")
            print("|---|---|---|---|---|")
            for streams in (16, 64):
                by = lambda label, rep, key="qps": next(
                    r[key] for r in runs if r["streams"] == streams and r["target"] == label and
                    r["rep"] == rep)
                reps = range(args.reps)
                g = [by("gateway", i) / by("direct", i) for i in reps]
                n = [by("nginx", i) / by("direct", i) for i in reps]
                gp = [by("gateway", i, "p50_us") - by("direct", i, "p50_us") for i in reps]
                np_ = [by("nginx", i, "p50_us") - by("direct", i, "p50_us") for i in reps]
                print(f"| {streams} | {median_range(g, '{:.2f}')} | "
                      f"{median_range(n, '{:.2f}')} | "
                      f"{median_range(gp)} | {median_range(np_)} |")
            if args.one_loop:
                print("\n| streams | gateway/gateway-1loop QPS (per rep) |\n|---|---|")
                for streams in (16, 64):
                    one = [next(r["qps"] for r in runs if r["streams"] == streams and
                                r["target"] == "gateway" and r["rep"] == i) /
                           next(r["qps"] for r in runs if r["streams"] == streams and
                                r["target"] == "gateway-1loop" and r["rep"] == i)
                           for i in range(args.reps)]
                    print(f"| {streams} | {median_range(one, '{:.2f}')} |")
        print(f"\n## ScoreLead through the gateway: gRPC vs HTTP/JSON "
              f"({os.path.getsize(score_json)}-byte JSON request)\n")
        print("| path | QPS median [min-max] | p50 us | p99 us | CPU us/req (gateway + scoring) |")
        print("|---|---|---|---|---|")
        for label in SCORE_LABELS:
            rs = [r for r in score_runs if r["target"] == label]
            print(f"| {label} | {median_range([r['qps'] for r in rs])} | "
                  f"{statistics.median(r['p50_us'] for r in rs):.0f} | "
                  f"{statistics.median(r['p99_us'] for r in rs):.0f} | "
                  f"{statistics.median(r['server_cpu_us_per_req'] for r in rs):.1f} |")
        for label, name in (("http-json", "HTTP/JSON over HTTP/1.1"),
                            ("http2-json", "HTTP/JSON over HTTP/2")):
            by = lambda target, i, key: next(r[key] for r in score_runs
                                             if r["target"] == target and r["rep"] == i)
            qps = [by(label, i, "qps") / by("grpc", i, "qps") for i in range(args.reps)]
            cpu = [by(label, i, "server_cpu_us_per_req") / by("grpc", i, "server_cpu_us_per_req")
                   for i in range(args.reps)]
            print(f"\n{name} / gRPC per repetition: QPS {median_range(qps, '{:.2f}')}, "
                  f"CPU per request {median_range(cpu, '{:.2f}')}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()


if __name__ == "__main__":
    main()
