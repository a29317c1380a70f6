#!/usr/bin/python3
"""Sales' verdicts on both stores (issue 18): recording in batches of 100 against batches of 1,
and the quality report over 1,000,000 stored verdicts from the store's counters against listing
them and counting in memory, both in the same run (accord-bench-verdicts). PostgreSQL is a throwaway server of the bench's own
(tests/testing/pg_server.sh), pinned to CPU 0; the bench runs on CPU 1.

Usage: bench/verdict_bench.py [--build build] [--verdicts 20000] [--reps 3]
                              [--report_verdicts 1000000]
Prints the JSON lines and a Markdown summary.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(binary, store, args):
    out = subprocess.run(["taskset", "-c", "1", binary, f"--store={store}",
                          f"--verdicts={args.verdicts}", f"--reps={args.reps}",
                          f"--report_verdicts={args.report_verdicts}"],
                         capture_output=True, text=True, check=True, timeout=3600).stdout
    print(out, end="")
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def median_range(values, fmt):
    return f"{fmt.format(statistics.median(values))} [{fmt.format(min(values))}-" \
           f"{fmt.format(max(values))}]"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--verdicts", type=int, default=20000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--report_verdicts", type=int, default=1000000)
    args = ap.parse_args()
    binary = os.path.join(args.build, "bin", "accord-bench-verdicts")
    work = tempfile.mkdtemp(prefix="accord-verdicts-")
    os.chmod(work, 0o755)  # the postgres user (pg_server.sh as root) must reach its data
    pg_dir = os.path.join(work, "pg")
    pg_script = os.path.join(ROOT, "tests/testing/pg_server.sh")
    subprocess.run(["taskset", "-c", "0", pg_script, "start", pg_dir], check=True)
    try:
        with open(os.path.join(pg_dir, "dsn")) as f:
            dsn = f.read().strip()
        results = {"sqlite": run(binary, f"sqlite:{work}/verdicts.db", args),
                   "postgres": run(binary, f"postgres:{dsn}", args)}
    finally:
        subprocess.run([pg_script, "stop", pg_dir], check=False)
    print("\n| store | batches of 100, verdicts/s | batches of 1, verdicts/s | ratio | "
          f"report over {args.report_verdicts:,} verdicts from the counters, s | "
          "listed and counted in memory, s | in memory / counters |")
    print("|---|---|---|---|---|---|---|")
    for store, rows in results.items():
        rec = [r for r in rows if "batch100_per_s" in r]
        rep = [r for r in rows if "report_from_counters_s" in r]
        assert all(r["same"] for r in rep), rep
        print(f"| {store} | {median_range([r['batch100_per_s'] for r in rec], '{:,.0f}')} | "
              f"{median_range([r['batch1_per_s'] for r in rec], '{:,.0f}')} | "
              f"{median_range([r['batch100_per_s'] / r['batch1_per_s'] for r in rec], '{:.1f}')} | "
              f"{median_range([r['report_from_counters_s'] for r in rep], '{:.4f}')} | "
              f"{median_range([r['list_and_count_s'] for r in rep], '{:.2f}')} | "
              f"{median_range([r['list_and_count_s'] / r['report_from_counters_s'] for r in rep], '{:,.0f}')} |")

if __name__ == "__main__":
    main()
