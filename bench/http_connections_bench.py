#!/usr/bin/python3
"""The HTTP/JSON port held by many keep-alive clients: accord-gateway (with a real registry
and scoring service) pinned to CPU 0, this script's asyncio clients on CPU 1.

1. Baseline: one connection making ScoreLead calls one after another (p50 latency).
2. 10,000 keep-alive connections (from ten loopback addresses: the per-address limit is
   1,000), each making one ScoreLead call and then staying open: the gateway's RSS before
   and after, per connection.
3. 1,000 of those connections sending a ScoreLead at the same moment, `--reps` times: how many
   are served, the wall time of the burst, p50/p99 latency against the baseline's p50, and
   the gateway's and scoring's CPU microseconds per request.

Usage: bench/http_connections_bench.py [--build build] [--connections 10000] [--burst 1000]
Prints a Markdown report.
"""
import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def call(reader, writer, request):
    """Sends one request on a keep-alive connection and reads its response: (status, seconds)."""
    start = time.monotonic()
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    body = await reader.readexactly(length)
    if status != 200:
        print(f"HTTP {status}: {body[:300]!r}", file=sys.stderr)
    return status, time.monotonic() - start


async def run(args, http_port, token, pids):
    body = json.dumps({"lead": {"id": "lead-1", "attributes": {
        "contact": {"title": "VP Marketing", "email": "p1@example.com"},
        "company": {"employees": 300, "industry": "software", "country": "US"}}}}).encode()
    request = (b"POST /v1/scoring:scoreLead HTTP/1.1\r\nHost: accord\r\n"
               b"Authorization: Bearer " + token.encode() + b"\r\n"
               b"Content-Type: application/json\r\nContent-Length: " +
               str(len(body)).encode() + b"\r\n\r\n" + body)
    gateway_pid = pids[0]

    r, w = await asyncio.open_connection("127.0.0.1", http_port)
    base = []
    for _ in range(300):
        status, seconds = await call(r, w, request)
        assert status == 200, status
        base.append(seconds)
    w.close()
    base_p50 = statistics.median(base) * 1e6

    time.sleep(1)
    rss_before = rss_kib(gateway_pid)
    conns = []
    wave = 500
    for start in range(0, args.connections, wave):
        opened = await asyncio.gather(*[
            asyncio.open_connection("127.0.0.1", http_port,
                                    local_addr=(f"127.0.1.{10 + i // 1000}", 0))
            for i in range(start, min(start + wave, args.connections))])
        results = await asyncio.gather(*[call(r, w, request) for r, w in opened])
        assert all(s == 200 for s, _ in results), [s for s, _ in results if s != 200][:5]
        conns.extend(opened)
    time.sleep(1)
    rss_after = rss_kib(gateway_pid)
    per_conn = (rss_after - rss_before) / len(conns)

    bursts = []
    for rep in range(args.reps):
        chosen = conns[rep * args.burst:(rep + 1) * args.burst]
        cpu0 = [cpu_seconds(p) for p in pids]
        t0 = time.monotonic()
        results = await asyncio.gather(*[call(r, w, request) for r, w in chosen])
        wall = time.monotonic() - t0
        cpu = sum(cpu_seconds(p) - c for p, c in zip(pids, cpu0))
        served = sum(1 for s, _ in results if s == 200)
        lat = sorted(seconds for _, seconds in results)
        bursts.append({"served": served, "wall_ms": wall * 1e3,
                       "p50_us": lat[len(lat) // 2] * 1e6,
                       "p99_us": lat[int(len(lat) * 0.99)] * 1e6,
                       "cpu_us_per_req": cpu * 1e6 / len(chosen)})
        print(json.dumps(bursts[-1]), file=sys.stderr)
    still_open = 0
    for r, w in conns:
        still_open += 0 if r.at_eof() else 1
        w.close()
    return base_p50, rss_before, rss_after, per_conn, bursts, still_open


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--burst", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    assert args.burst * args.reps <= args.connections
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    os.environ.setdefault("ACCORD_BIN", os.path.join(args.build, "bin"))
    os.environ.setdefault("ACCORD_SOURCE", ROOT)
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    from harness import Gateway, Registry, Scoring, publish_examples, workdir, write_keys
    d = workdir("http_connections_bench")
    tokens = write_keys(d)
    registry = Registry(d)
    publish_examples(registry.address, tokens)
    scoring = Scoring(d, registry.address, tokens)
    gateway = Gateway(d, registry.address, scoring.address,
                      ["--quota_rps=1000000", "--quota_burst=1000000",
                       f"--max_in_flight={2 * args.burst}"])
    try:
        for p in (gateway.proc.pid, scoring.proc.pid):
            subprocess.run(["taskset", "-a", "-pc", "0", str(p)], check=True,
                           capture_output=True)
        os.sched_setaffinity(0, {1})
        base_p50, rss_before, rss_after, per_conn, bursts, still_open = asyncio.run(
            run(args, gateway.http_port, tokens["service"],
                [gateway.proc.pid, scoring.proc.pid]))
    finally:
        for s in (gateway, scoring, registry):
            s.stop()
    print(f"## The HTTP/JSON port held by {args.connections:,} keep-alive clients\n")
    print(f"- gateway RSS: {rss_before / 1024:.0f} MB before, {rss_after / 1024:.0f} MB with "
          f"{args.connections:,} open connections: **{per_conn:.1f} KB per connection**")
    print(f"- still open at the end: {still_open:,} of {args.connections:,}")
    print(f"- baseline: one connection, one call at a time: p50 {base_p50:.0f} us\n")
    print(f"| burst of {args.burst:,} at once | served | wall ms | p50 us | p99 us | "
          f"p50 / baseline p50 | CPU us/req (gateway + scoring) |")
    print("|---|---|---|---|---|---|---|")
    for i, b in enumerate(bursts):
        print(f"| {i + 1} | {b['served']:,} | {b['wall_ms']:.0f} | {b['p50_us']:.0f} | "
              f"{b['p99_us']:.0f} | {b['p50_us'] / base_p50:.1f} | {b['cpu_us_per_req']:.0f} |")


if __name__ == "__main__":
    main()
