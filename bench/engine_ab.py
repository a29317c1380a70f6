#!/usr/bin/python3
"""The scoring engine, an earlier build (--base) against this one, in one run:

1. Instructions per call (valgrind's callgrind counts instructions, so the figure repeats
   exactly for the same binary and input, whatever else the machine does): the inclusive cost
   of one evaluation with every reason (ScoreWire, FULL), without reasons (ScoreWire, BASIC),
   of the 50-event lead's message path (ScoreInto), and of decoding a typical request.
2. Wall-clock throughput of the same benchmarks, the two builds alternating in each repetition,
   pinned to CPU 0: the ratio new/base per repetition (noisy on a shared machine; the
   instruction counts are the steadier measure).

Usage: bench/engine_ab.py --base OLD/bin/accord-bench-engine [--build build] [--reps 5]
Needs valgrind.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (benchmark, function whose calls are measured, label)
CALLS = [("BM_TypicalServe", r"ScoreWire", "ScoreWire, FULL (typical lead)"),
         ("BM_TypicalServeBasic", r"ScoreWire", "ScoreWire, BASIC (typical lead)"),
         ("BM_ScoreLead", r"ScoreInto", "ScoreInto (50-event lead)"),
         ("BM_TypicalServe", r"DecodeRequest|DecodeLeadRequest", "decode a typical request")]


def per_call(out_file, pattern):
    """Inclusive instructions per call of the functions matching `pattern` (callgrind file)."""
    names, calls, cost, fn, cfn, pending = {}, 0, 0, None, None, None

    def name_of(token):
        m = re.match(r"\((\d+)\)(?: (.*))?", token)
        if not m:
            return token
        if m.group(2):
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), "?")

    for line in open(out_file):
        line = line.rstrip("\n")
        if line.startswith("fn="):
            fn = name_of(line[3:])
        elif line.startswith("cfn="):
            cfn = name_of(line[4:])
        elif line.startswith("calls="):
            pending = int(line.split()[0][6:])
        elif pending is not None:
            if re.search(pattern, cfn or "") and not re.search(pattern, fn or ""):
                calls += pending
                cost += int(line.split()[1])
            pending = None
    # Many calls, so that the first one's warm-up (allocations, caches) does not count.
    return cost / calls if calls >= 50 else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="accord-bench-engine of the earlier build")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    new = os.path.join(args.build, "bin", "accord-bench-engine")
    binaries = {"base": args.base, "new": new}
    work = tempfile.mkdtemp(prefix="engine-ab-")

    print("## Instructions per call (callgrind)\n")
    print("| what | base | new | new/base |")
    print("|---|---|---|---|")
    outs = {}
    for bm in sorted({c[0] for c in CALLS}):
        for label, binary in binaries.items():
            out = os.path.join(work, f"{label}-{bm}.out")
            subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary,
                            "--benchmark_min_time=0.5", f"--benchmark_filter=^{bm}$"],
                           check=True, capture_output=True)
            outs[(label, bm)] = out
    for bm, pattern, what in CALLS:
        b = per_call(outs[("base", bm)], pattern)
        n = per_call(outs[("new", bm)], pattern)
        print(f"| {what} | {b:,.0f} | {n:,.0f} | {n / b:.3f} |")

    print(f"\n## Throughput, {args.reps} repetitions alternating, CPU 0\n")
    bms = ["BM_ScoreLead", "BM_TypicalServe", "BM_TypicalServeBasic",
           "BM_TypicalBatchDecodeAllFirst"]
    times = {}
    for rep in range(args.reps):
        for label, binary in binaries.items():
            out = os.path.join(work, f"{label}-{rep}.json")
            subprocess.run(["taskset", "-c", "0", binary, "--benchmark_min_time=1",
                            "--benchmark_filter=^(" + "|".join(bms) + ")$",
                            "--benchmark_out_format=json", f"--benchmark_out={out}"],
                           check=True, capture_output=True)
            for b in json.load(open(out))["benchmarks"]:
                times.setdefault((b["name"], label), []).append(b["real_time"])
    print("| benchmark | base ns (median) | new ns (median) | new/base throughput |")
    print("|---|---|---|---|")
    for bm in bms:
        base, newer = times[(bm, "base")], times[(bm, "new")]
        ratios = [b / n for b, n in zip(base, newer)]
        print(f"| {bm} | {statistics.median(base):,.0f} | {statistics.median(newer):,.0f} | "
              f"median {statistics.median(ratios):.3f} [{min(ratios):.3f}-{max(ratios):.3f}] |")


if __name__ == "__main__":
    main()
