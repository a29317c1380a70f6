#!/usr/bin/python3
"""Registry benchmarks, all in one run, with the same load generator for every target:

1. GetDefinition of a published ~2 KB definition versus a null RPC served by the same
   bootstrap (accord-bench-null) and versus etcd 3.4 serving the same bytes (serializable
   Range), with h2load at 16 and 64 streams on one connection. Servers pinned to CPU 0,
   h2load to CPU 1; targets alternate within each repetition; ratios are per repetition.
2. Publish-to-watch latency for the last of 100 and of 1000 watchers, versus etcd's
   put-to-watch, with accord-bench-watch (C++ callback client) on CPU 1: Accord's watchers
   once parsing each message whole and once lean (as the etcd client reads etcd's), etcd's
   as its client reads them; repeated --reps times, targets alternating.

Usage: bench/registry_bench.py [--build build] [--reps 3] [--duration 8]
Needs Debian's nghttp2-client (h2load), etcd-server, python3-grpcio. Prints a Markdown
report and writes the raw runs as JSON lines to build/bench-work/registry_bench.jsonl.
"""
import argparse
import hashlib
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time

import grpc

LABELS = ("null", "null-sized", "registry", "etcd")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK = os.sysconf("SC_CLK_TCK")


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field_bytes(number, data):
    return varint(number << 3 | 2) + varint(len(data)) + data


def frame(payload):
    return b"\x00" + len(payload).to_bytes(4, "big") + payload


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def wait_port_from_log(path, proc, key="port"):
    deadline = time.time() + 20
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(open(path).read())
        for line in open(path):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("msg") == "listening":
                return entry[key]
        time.sleep(0.05)
    raise RuntimeError("no port in " + path)


def h2load(url, body_file, streams, duration, warmup, headers, pid, work, grpc_framing=True,
           connections=1, cpus="1", h1=True):
    """One h2load run, on `cpus`. `pid` is one server process or a list of them (a proxy and
    its backend: the CPU per request is their sum); with grpc_framing=False the body is sent as
    JSON, over HTTP/1.1 (--h1) with `connections` connections of one request each, or with
    h1=False over HTTP/2 (h2c, `streams` per connection)."""
    log = os.path.join(work, "lat.log")
    cmd = ["taskset", "-c", cpus, "h2load", f"-c{connections}", f"-m{streams}", "-t1",
           f"--warm-up-time={warmup}", "-D", str(duration), f"--log-file={log}", "-d", body_file]
    if grpc_framing:
        cmd += ["-H", "content-type: application/grpc", "-H", "te: trailers"]
    else:
        cmd += (["--h1"] if h1 else []) + ["-H", "content-type: application/json"]
    for h in headers:
        cmd += ["-H", h]
    cmd.append(url)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(warmup + 0.3)
    pids = pid if isinstance(pid, list) else [pid]
    cpu0, t0 = sum(cpu_seconds(p) for p in pids), time.time()
    out, _ = proc.communicate(timeout=duration + warmup + 60)
    cpu1, t1 = sum(cpu_seconds(p) for p in pids), time.time()
    qps = done = data = 0
    for line in out.splitlines():
        if line.startswith("finished in"):
            qps = float(line.split(",")[1].split()[0])
        if line.startswith("requests:"):
            done = int(line.split(",")[3].split()[0])
        if line.startswith("traffic:"):
            data = int(line.split(",")[2].split("(")[1].split(")")[0])
    lat = sorted(int(l.split("\t")[2]) for l in open(log) if l.strip())
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else 0
    server_requests = qps * (t1 - t0)
    return {"qps": qps, "p50_us": pct(0.5), "p99_us": pct(0.99), "done": done,
            "data_bytes_per_req": data / done if done else 0,
            "server_cpu_us_per_req": (cpu1 - cpu0) * 1e6 / server_requests if server_requests else 0}


def qps_row(streams, label, rs):
    """A report row: streams, target, QPS median [min-max], p50, p99, server CPU per request,
    medians over the runs `rs`."""
    q = [r["qps"] for r in rs]
    return (f"| {streams} | {label} | {statistics.median(q):,.0f} [{min(q):,.0f}-{max(q):,.0f}] | "
            f"{statistics.median(r['p50_us'] for r in rs):.0f} | "
            f"{statistics.median(r['p99_us'] for r in rs):.0f} | "
            f"{statistics.median(r['server_cpu_us_per_req'] for r in rs):.1f} |")


def dev_tokens(work):
    """Writes the demo API keys into `work`; returns {"ACCORD_TOKEN_<ROLE>": token}."""
    subprocess.run([os.path.join(ROOT, "scripts/dev-keys.sh"), work], check=True)
    return dict(l.strip().split("=", 1) for l in open(os.path.join(work, "dev.env")))


def start_pinned(procs, cmd, log, cpu="0"):
    """Starts `cmd` on CPU `cpu` with stderr to `log`, remembered in `procs` for cleanup."""
    p = subprocess.Popen(["taskset", "-c", cpu, *cmd], stdout=subprocess.DEVNULL,
                         stderr=open(log, "w"))
    procs.append(p)
    return p


def stop_all(procs, timeout=15):
    """Stops what start_pinned started: SIGTERM to all, then SIGKILL to any still running."""
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()


def median_range(values, fmt="{:,.0f}"):
    """"median [min-max]" of `values`, each formatted with `fmt`."""
    return (f"{fmt.format(statistics.median(values))} "
            f"[{fmt.format(min(values))}-{fmt.format(max(values))}]")


def quiet(max_busy=0.3, timeout=10):
    def busy():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]
    deadline = time.time() + timeout
    while time.time() < deadline:
        a = busy()
        time.sleep(1)
        b = busy()
        total = b[0] - a[0]
        if total and (total - (b[1] - a[1])) / total * os.cpu_count() <= max_busy:
            return True
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--watch-events", type=int, default=40)
    ap.add_argument("--skip-watch", action="store_true")
    args = ap.parse_args()
    bindir = os.path.join(args.build, "bin")
    work = os.path.join(args.build, "bench-work")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    tokens = dev_tokens(work)
    procs = []

    def start(cmd, log, cpu="0"):
        return start_pinned(procs, cmd, log, cpu)

    try:
        reg_log = os.path.join(work, "registry.log")
        reg = start([os.path.join(bindir, "accord-registry"), "--listen=127.0.0.1:0",
                     "--admin_listen=127.0.0.1:0", f"--store=sqlite:{work}/registry.db",
                     f"--keys={work}/dev-keys.yaml"], reg_log)
        reg_port = wait_port_from_log(reg_log, reg)
        null_log = os.path.join(work, "null.log")
        null = start([os.path.join(bindir, "accord-bench-null"), "--listen=127.0.0.1:0"],
                     null_log)
        null_port = wait_port_from_log(null_log, null)
        etcd = start(["etcd", "--name", "bench", "--data-dir", os.path.join(work, "etcd"),
                      "--listen-client-urls", "http://127.0.0.1:23790",
                      "--advertise-client-urls", "http://127.0.0.1:23790",
                      "--listen-peer-urls", "http://127.0.0.1:23800",
                      "--initial-advertise-peer-urls", "http://127.0.0.1:23800",
                      "--initial-cluster", "bench=http://127.0.0.1:23800",
                      "--log-outputs", "stderr", "--logger", "zap"],
                     os.path.join(work, "etcd.log"))
        time.sleep(2)

        # The ~2 KB definition: the example IT-director persona with its full description.
        env = dict(os.environ, ACCORD_SERVER=f"127.0.0.1:{reg_port}")
        doc = os.path.join(work, "bench.yaml")
        src = open(os.path.join(ROOT, "examples/definitions/10-personas.yaml")).read()
        first = src.split("\n---\n")[0].replace("definitions/it-director", "definitions/bench-doc")
        first = first.replace(
            "description: Owns the infrastructure budget at mid-size and large companies.",
            "description: " + " ".join(["Owns the infrastructure budget at mid-size and large"
                                        " companies, signs off on platform purchases."] * 12))
        watch_doc = first.replace("definitions/bench-doc", "definitions/bench-watch")
        with open(doc, "w") as f:
            f.write(first + "\n---\n" + watch_doc + "\n")
        ctl = lambda role, *a: subprocess.run(
            [os.path.join(bindir, "accordctl"), *a], check=True, capture_output=True,
            env=dict(env, ACCORD_TOKEN=tokens[f"ACCORD_TOKEN_{role}"]))
        ctl("MARKETING_EDITOR", "apply", "-f", doc)
        for name in ("bench-doc", "bench-watch"):
            ctl("MARKETING_EDITOR", "propose", name)
            ctl("MARKETING_APPROVER", "approve", name)
            ctl("SALES_APPROVER", "approve", name)
            ctl("MARKETING_EDITOR", "publish", name)

        # Same bytes in etcd; check every path once through a real gRPC client.
        name = b"namespaces/default/definitions/bench-doc"
        get_req = field_bytes(1, name)
        channel = grpc.insecure_channel(f"127.0.0.1:{reg_port}")
        get = channel.unary_unary("/accord.registry.v1.Registry/GetDefinition")
        definition_bytes = get(get_req, metadata=(("authorization",
                                                   "Bearer " + tokens["ACCORD_TOKEN_VIEWER"]),))
        key = b"/accord/bench-doc"
        etcd_channel = grpc.insecure_channel("127.0.0.1:23790")
        etcd_channel.unary_unary("/etcdserverpb.KV/Put")(
            field_bytes(1, key) + field_bytes(2, definition_bytes), timeout=10)
        range_req = field_bytes(1, key) + b"\x38\x01"
        got = etcd_channel.unary_unary("/etcdserverpb.KV/Range")(range_req, timeout=10)
        assert definition_bytes in got, "etcd does not return the definition bytes"
        grpc.insecure_channel(f"127.0.0.1:{null_port}").unary_unary(
            "/accord.bench.v1.Null/Ping")(b"", timeout=5)

        # A second baseline: the null RPC answering with as many bytes as GetDefinition does.
        null2_log = os.path.join(work, "null2.log")
        null2 = start([os.path.join(bindir, "accord-bench-null"), "--listen=127.0.0.1:0",
                       f"--response_bytes={len(definition_bytes)}"], null2_log)
        null2_port = wait_port_from_log(null2_log, null2)
        bodies = {"null-sized": os.path.join(work, "null.grpc")}
        for label, payload in (("null", b""), ("registry", get_req), ("etcd", range_req)):
            bodies[label] = os.path.join(work, f"{label}.grpc")
            with open(bodies[label], "wb") as f:
                f.write(frame(payload))
        targets = {
            "null": (f"http://127.0.0.1:{null_port}/accord.bench.v1.Null/Ping", [], null.pid),
            "null-sized": (f"http://127.0.0.1:{null2_port}/accord.bench.v1.Null/Ping", [],
                           null2.pid),
            "registry": (f"http://127.0.0.1:{reg_port}/accord.registry.v1.Registry/GetDefinition",
                         ["authorization: Bearer " + tokens["ACCORD_TOKEN_VIEWER"]], reg.pid),
            "etcd": ("http://127.0.0.1:23790/etcdserverpb.KV/Range", [], etcd.pid),
        }
        runs = []
        raw = open(os.path.join(work, "registry_bench.jsonl"), "w")
        for rep in range(args.reps):
            for streams in (16, 64):
                for label in LABELS:
                    was_quiet = quiet()
                    url, headers, pid = targets[label]
                    r = h2load(url, bodies[label], streams, args.duration, args.warmup, headers,
                               pid, work)
                    r.update(rep=rep, streams=streams, target=label, quiet_before=was_quiet)
                    runs.append(r)
                    raw.write(json.dumps(r) + "\n")
                    print(json.dumps(r), file=sys.stderr)

        print(f"## GetDefinition ({len(definition_bytes)}-byte definition) vs null RPC vs etcd\n")
        print("| streams | target | QPS median [min-max] | p50 us | p99 us | server CPU us/req |"
              " resp bytes |")
        print("|---|---|---|---|---|---|---|")
        for streams in (16, 64):
            for label in LABELS:
                rs = [r for r in runs if r["streams"] == streams and r["target"] == label]
                print(qps_row(streams, label, rs) +
                      f" {statistics.median(r['data_bytes_per_req'] for r in rs):.0f} |")
        print("\n| streams | registry/null QPS | registry/null-sized QPS | registry/etcd QPS |")
        print("|---|---|---|---|")
        for streams in (16, 64):
            by = lambda label, rep: next(r["qps"] for r in runs if r["streams"] == streams and
                                         r["target"] == label and r["rep"] == rep)
            cells = []
            for base in ("null", "null-sized", "etcd"):
                r = [by("registry", i) / by(base, i) for i in range(args.reps)]
                cells.append(f"median {statistics.median(r):.2f} [{min(r):.2f}-{max(r):.2f}]")
            print(f"| {streams} | " + " | ".join(cells) + " |")

        if not args.skip_watch:
            print("\n## Publish-to-watch latency, last of N watchers (10 channels)\n")
            print(f"{args.reps} repetitions of {args.watch_events} changes; per target the "
                  "median [min-max] over repetitions of each run's p50 and p99.\n")
            print("| watchers | target | p50 ms | p99 ms | missed |")
            print("|---|---|---|---|---|")
            wenv = dict(os.environ, **tokens)
            # The registry twice: with the client parsing each message whole (as a consumer
            # applying it does), and with a lean client doing what the etcd client does (the
            # event's identity; the content kept as bytes). Targets alternate in each repetition.
            targets = (("registry", f"127.0.0.1:{reg_port}", "typed"),
                       ("registry, lean client", f"127.0.0.1:{reg_port}", "lean"),
                       ("etcd", "127.0.0.1:23790", "typed"))
            results = {}
            for rep in range(args.reps):
                for watchers in (100, 1000):
                    for label, target, client in targets:
                        quiet()
                        out = subprocess.run(
                            ["taskset", "-c", "1", os.path.join(bindir, "accord-bench-watch"),
                             "--mode", "etcd" if label == "etcd" else "accord",
                             "--client", client, "--target", target,
                             "--watchers", str(watchers), "--channels", "10",
                             "--events", str(args.watch_events), "--interval_ms", "50"],
                            capture_output=True, text=True, env=wenv, timeout=600)
                        line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "{}"
                        r = json.loads(line)
                        raw.write(json.dumps(dict(r, target=label, rep=rep)) + "\n")
                        if out.returncode not in (0, 3):
                            print(out.stderr, file=sys.stderr)
                        results.setdefault((watchers, label), []).append(r)
            for watchers in (100, 1000):
                for label, _, _ in targets:
                    rs = results[(watchers, label)]
                    missed = sum(r.get("missed", 0) for r in rs)
                    print(f"| {watchers} | {label} | "
                          f"{median_range([r.get('p50_ms', 0) for r in rs], '{:.1f}')} | "
                          f"{median_range([r.get('p99_ms', 0) for r in rs], '{:.1f}')} | "
                          f"{missed} |")
            print("\n| watchers | registry/etcd p50 | lean client: registry/etcd p50 | "
                  "registry/etcd p99 | lean client: registry/etcd p99 |")
            print("|---|---|---|---|---|")
            for watchers in (100, 1000):
                cells = []
                for key in ("p50_ms", "p99_ms"):
                    for label in ("registry", "registry, lean client"):
                        ratios = [a.get(key, 0) / max(b.get(key, 0), 1e-9) for a, b in
                                  zip(results[(watchers, label)], results[(watchers, "etcd")])]
                        cells.append(median_range(ratios, "{:.2f}"))
                print(f"| {watchers} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} |")
        raw.close()
    finally:
        stop_all(procs)


if __name__ == "__main__":
    main()
