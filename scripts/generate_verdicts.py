#!/usr/bin/env python3
"""Example sales verdicts for `make run`: one for each example lead marketing handed over (level
MQL or SQL in SCORES.csv), as of AS_OF, with a fixed seed so the file is reproducible:

  generate_verdicts.py examples/leads.jsonl SCORES.csv AS_OF > verdicts.jsonl

Sales' decisions follow what the leads are, not what Accord scored, so the quality report has
something to show: small companies are mostly rejected as not a fit (the size rules earn
rejections), leads that only attended webinars are mostly recycled as bad timing, the rest are
mostly accepted, and some accepted leads are later won or lost (their history).

Each verdict pins the model's first revision and draws from a generator seeded by its lead, so
running it again (a second `make run`, after the model changed) repeats the same verdicts, which
the registry then recognizes as retries."""
import csv
import json
import random
import sys

leads_path, scores_path, as_of = sys.argv[1:4]
levels = {}
with open(scores_path) as f:
    for row in csv.DictReader(f):
        levels[row["id"]] = row["level"]

with open(leads_path) as f:
    for line in f:
        lead = json.loads(line)
        if levels.get(lead["id"]) not in ("MQL", "SQL"):
            continue
        rng = random.Random(f"20261207:{lead['id']}")
        employees = lead["attributes"].get("company", {}).get("employees", 0)
        types = {e["type"] for e in lead.get("events", [])}
        if employees < 100:
            accept, reason = 0.25, "not-a-fit"
        elif "webinar_attended" in types and "demo_request" not in types:
            accept, reason = 0.45, "bad-timing"
        else:
            accept, reason = 0.85, rng.choice(["no-budget", "unresponsive"])
        base = {"handedOffAt": as_of, "lead": lead, "modelRevision": "1"}
        if rng.random() < accept:
            print(json.dumps(dict(base, verdictId=f"example-{lead['id']}", outcome="ACCEPTED",
                                  comment="meeting booked")))
            if rng.random() < 0.3:
                print(json.dumps(dict(base, verdictId=f"example-{lead['id']}-closed",
                                      outcome=rng.choice(["WON", "LOST"]))))
        else:
            outcome = "RECYCLED" if reason == "bad-timing" else "REJECTED"
            print(json.dumps(dict(base, verdictId=f"example-{lead['id']}", outcome=outcome,
                                  reasonCode=reason)))
