#!/usr/bin/python3
"""Registry storage benchmark, SQLite versus PostgreSQL, in one run:

1. Write throughput: review cycles per second (update + propose + approve x2 + publish, five
   commits each) from 4 concurrent clients, each on its own definition.
2. Read throughput: GetDefinition with h2load (1 connection x 16 streams).
3. Publish-to-watch latency: a watcher on the same replica (SQLite, PostgreSQL) and on a
   second replica sharing the PostgreSQL database (the LISTEN/NOTIFY path).

Registry and PostgreSQL pinned to CPU 0, clients to CPU 1; SQLite and PostgreSQL alternate
within each repetition. PostgreSQL runs with its defaults (fsync on, synchronous_commit on),
SQLite with WAL and synchronous=FULL: both acknowledge only durable commits.

Usage: bench/storage_bench.py [--build build] [--reps 3] [--duration 8]
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registry_bench import (ROOT, dev_tokens, frame, h2load, quiet, start_pinned,  # noqa: E402
                            wait_port_from_log)
from scoring_bench import stubs  # noqa: E402

# The integration harness's helpers; it reads these at import.
os.environ.setdefault("ACCORD_BIN", os.path.join(ROOT, "build", "bin"))
os.environ.setdefault("ACCORD_SOURCE", ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import make_persona  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--watch-events", type=int, default=30)
    args = ap.parse_args()
    bindir = os.path.join(args.build, "bin")
    work = os.path.join(args.build, "bench-storage")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    stubs(work)
    import grpc
    from accord.registry.v1 import registry_pb2, registry_pb2_grpc
    tokens = dev_tokens(work)
    md = lambda role: (("authorization", "Bearer " + tokens[f"ACCORD_TOKEN_{role}"]),)  # noqa
    pg_dir = os.path.join(work, "pg")
    pg_script = os.path.join(ROOT, "tests/testing/pg_server.sh")
    subprocess.run(["taskset", "-c", "0", pg_script, "start", pg_dir], check=True)
    dsn = open(os.path.join(pg_dir, "dsn")).read().strip()
    port = dsn.split("port=")[1].split()[0]
    procs = []

    def start_registry(store, log_name):
        log = os.path.join(work, log_name)
        p = start_pinned(procs, [os.path.join(bindir, "accord-registry"), "--listen=127.0.0.1:0",
                                 "--admin_listen=127.0.0.1:0", f"--store={store}",
                                 f"--keys={work}/dev-keys.yaml"], log)
        return p, wait_port_from_log(log, p)

    def fresh_pg(db):
        subprocess.run(["psql", dsn, "-qc", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"],
                       check=True)
        subprocess.run(["psql", dsn, "-qc", f"CREATE DATABASE {db}"], check=True)
        return f"postgresql://accord@127.0.0.1:{port}/{db}"

    def cycle(stub, name, i):
        d = stub.GetDefinition(registry_pb2.GetDefinitionRequest(name=name), metadata=md("VIEWER"))
        d.display_name = f"v{i}"
        stub.UpdateDefinition(registry_pb2.UpdateDefinitionRequest(definition=d),
                              metadata=md("MARKETING_EDITOR"))
        rev = stub.ProposeRevision(registry_pb2.ProposeRevisionRequest(name=name),
                                   metadata=md("MARKETING_EDITOR"))
        stub.ApproveRevision(registry_pb2.ReviewRevisionRequest(name=rev.name),
                             metadata=md("MARKETING_APPROVER"))
        stub.ApproveRevision(registry_pb2.ReviewRevisionRequest(name=rev.name),
                             metadata=md("SALES_APPROVER"))
        stub.PublishRevision(registry_pb2.PublishRevisionRequest(name=rev.name),
                             metadata=md("MARKETING_EDITOR"))

    def writes(address, duration):
        stub = registry_pb2_grpc.RegistryStub(grpc.insecure_channel(address))
        names = []
        for w in range(4):
            did = f"w{w}-{time.time_ns()}"
            stub.CreateDefinition(registry_pb2.CreateDefinitionRequest(
                parent="namespaces/default", definition_id=did, definition=make_persona(did)),
                metadata=md("MARKETING_EDITOR"))
            names.append(f"namespaces/default/definitions/{did}")
        counts = [0] * 4
        deadline = time.time() + duration

        def run(w):
            i = 0
            while time.time() < deadline:
                i += 1
                cycle(stub, names[w], i)
                counts[w] += 1
        threads = [threading.Thread(target=run, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sum(counts) / duration, names[0]

    def watch_latency(write_address, watch_address, n):
        writer = registry_pb2_grpc.RegistryStub(grpc.insecure_channel(write_address))
        watcher = registry_pb2_grpc.RegistryStub(grpc.insecure_channel(watch_address))
        did = f"lat-{time.time_ns()}"
        name = f"namespaces/default/definitions/{did}"
        writer.CreateDefinition(registry_pb2.CreateDefinitionRequest(
            parent="namespaces/default", definition_id=did, definition=make_persona(did)),
            metadata=md("MARKETING_EDITOR"))
        seen = {}
        ready = threading.Event()
        stream = watcher.WatchDefinitions(registry_pb2.WatchDefinitionsRequest(
            parent="namespaces/default"), metadata=md("SERVICE"))

        def follow():
            try:
                for m in stream:
                    if m.HasField("snapshot_end"):
                        ready.set()
                    if m.HasField("changes"):
                        for ev in m.changes.events:
                            if ev.definition == name:
                                seen[ev.revision.revision_number] = time.perf_counter()
            except grpc.RpcError:
                pass
        t = threading.Thread(target=follow, daemon=True)
        t.start()
        ready.wait(10)
        samples = []
        for i in range(1, n + 1):
            d = writer.GetDefinition(registry_pb2.GetDefinitionRequest(name=name),
                                     metadata=md("VIEWER"))
            d.display_name = f"v{i}"
            writer.UpdateDefinition(registry_pb2.UpdateDefinitionRequest(definition=d),
                                    metadata=md("MARKETING_EDITOR"))
            rev = writer.ProposeRevision(registry_pb2.ProposeRevisionRequest(name=name),
                                         metadata=md("MARKETING_EDITOR"))
            writer.ApproveRevision(registry_pb2.ReviewRevisionRequest(name=rev.name),
                                   metadata=md("MARKETING_APPROVER"))
            writer.ApproveRevision(registry_pb2.ReviewRevisionRequest(name=rev.name),
                                   metadata=md("SALES_APPROVER"))
            t0 = time.perf_counter()
            writer.PublishRevision(registry_pb2.PublishRevisionRequest(name=rev.name),
                                   metadata=md("MARKETING_EDITOR"))
            deadline = time.time() + 5
            while rev.revision_number not in seen and time.time() < deadline:
                time.sleep(0.0005)
            if rev.revision_number in seen:
                samples.append((seen[rev.revision_number] - t0) * 1000)
        stream.cancel()
        return samples

    results = []
    try:
        for rep in range(args.reps):
            for label in ("sqlite", "postgres"):
                if label == "sqlite":
                    path = os.path.join(work, f"r{rep}.db")
                    reg, rport = start_registry(f"sqlite:{path}", f"sqlite-{rep}.log")
                    second = None
                else:
                    store = fresh_pg(f"bench{rep}")
                    reg, rport = start_registry(store, f"pg-a-{rep}.log")
                    second, sport = start_registry(store, f"pg-b-{rep}.log")
                address = f"127.0.0.1:{rport}"
                quiet()
                cps, name = writes(address, args.duration)
                get = os.path.join(work, "get.grpc")
                with open(get, "wb") as f:
                    f.write(frame(registry_pb2.GetDefinitionRequest(name=name).SerializeToString()))
                quiet()
                read = h2load(f"http://127.0.0.1:{rport}/accord.registry.v1.Registry/GetDefinition",
                              get, 16, args.duration, 2,
                              ["authorization: Bearer " + tokens["ACCORD_TOKEN_VIEWER"]],
                              reg.pid, work)
                same = watch_latency(address, address, args.watch_events)
                r = {"rep": rep, "store": label, "cycles_per_s": cps, "commits_per_s": cps * 5,
                     "read_qps": read["qps"], "read_cpu_us": read["server_cpu_us_per_req"],
                     "watch_same_p50_ms": statistics.median(same),
                     "watch_same_max_ms": max(same)}
                if second is not None:
                    other = watch_latency(address, f"127.0.0.1:{sport}", args.watch_events)
                    r.update(watch_other_p50_ms=statistics.median(other),
                             watch_other_max_ms=max(other), watch_other_n=len(other))
                print(json.dumps(r), file=sys.stderr)
                results.append(r)
                for p in (reg, second):
                    if p is not None:
                        p.send_signal(signal.SIGTERM)
                        p.wait(timeout=30)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        subprocess.run([pg_script, "stop", pg_dir])

    def col(label, key):
        return [r[key] for r in results if r["store"] == label and key in r]

    def fmt(values, f="{:,.1f}"):
        return f"{f.format(statistics.median(values))} [{f.format(min(values))}-{f.format(max(values))}]"
    print("## Registry storage: SQLite vs PostgreSQL\n")
    print("| store | review cycles/s (5 commits each) | GetDefinition QPS | server CPU us/read | "
          "publish-to-watch p50 ms, same replica | p50 ms, other replica |")
    print("|---|---|---|---|---|---|")
    for label in ("sqlite", "postgres"):
        other = fmt(col(label, "watch_other_p50_ms"), "{:.1f}") if col(label, "watch_other_p50_ms") else "-"
        print(f"| {label} | {fmt(col(label, 'cycles_per_s'))} | {fmt(col(label, 'read_qps'), '{:,.0f}')} | "
              f"{fmt(col(label, 'read_cpu_us'))} | {fmt(col(label, 'watch_same_p50_ms'), '{:.1f}')} | {other} |")
    ratio = [p["cycles_per_s"] / s["cycles_per_s"] for s, p in
             zip([r for r in results if r["store"] == "sqlite"],
                 [r for r in results if r["store"] == "postgres"])]
    print(f"\nPostgreSQL / SQLite write cycles per repetition: {fmt(ratio, '{:.2f}')}")
    read_ratio = [p["read_qps"] / s["read_qps"] for s, p in
                  zip([r for r in results if r["store"] == "sqlite"],
                      [r for r in results if r["store"] == "postgres"])]
    print(f"PostgreSQL / SQLite reads per repetition: {fmt(read_ratio, '{:.2f}')}")
    print(f"Max publish-to-watch on the other replica: "
          f"{max(col('postgres', 'watch_other_max_ms')):.1f} ms over "
          f"{sum(col('postgres', 'watch_other_n'))} publishes")


if __name__ == "__main__":
    main()
