#!/usr/bin/env python3
"""Writes examples/leads.jsonl: varied, realistic B2B leads, generated deterministically
(fixed seed, fixed reference time) so the file is reproducible:
    scripts/generate_leads.py > examples/leads.jsonl
"""
import json
import hashlib
import random
from datetime import datetime, timedelta, timezone

AS_OF = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
rng = random.Random(20261101)
# The content of downloads and webinars (the model's content_properties name `asset`).
ASSETS = {
    "content_download": ["roi-guide", "security-whitepaper", "analyst-report", "case-study"],
    "webinar_attended": ["revops-101", "scoring-masterclass"],
}

TITLES = ["IT Director", "Head of IT", "CIO", "VP Infrastructure", "Revenue Operations Manager",
          "Director of Sales Operations", "RevOps Lead", "Marketing Manager", "Software Engineer",
          "Student", "Graduate Intern", "CFO", "Procurement Specialist", "Office Manager"]
INDUSTRIES = ["software", "Financial Services", "healthcare", "manufacturing", "retail",
              "education", "government", "media"]
COUNTRIES = ["US", "CA", "GB", "DE", "FR", "NL", "BR", "IN", "JP", "AU"]
STACKS = ["salesforce", "hubspot", "dynamics", "pipedrive", "zoho"]
DOMAINS = ["acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell"]
EVENTS = [("page_view", 0.35), ("email_click", 0.2), ("content_download", 0.12),
          ("webinar_attended", 0.08), ("demo_request", 0.05), ("unsubscribe", 0.02),
          ("sales_touch", 0.08), ("sales_accepted", 0.04), ("meeting_booked", 0.03),
          ("opportunity_created", 0.03)]
PATHS = ["/pricing", "/pricing/enterprise", "/blog/lead-scoring", "/docs", "/careers", "/"]


def pick_event():
    r, acc = rng.random(), 0.0
    total = sum(w for _, w in EVENTS)
    for name, w in EVENTS:
        acc += w / total
        if r <= acc:
            return name
    return EVENTS[0][0]


def lead(i):
    title = rng.choice(TITLES)
    student = "Student" in title or "Intern" in title
    domain = rng.choice(DOMAINS)
    email_domain = f"{domain}.edu" if student and rng.random() < 0.7 else (
        rng.choice(["gmail.com", "yahoo.com"]) if rng.random() < 0.15 else f"{domain}.com")
    employees = int(rng.choice([8, 30, 120, 250, 600, 1500, 4000, 12000]) * rng.uniform(0.7, 1.3))
    attributes = {
        "contact": {"title": title, "email": f"lead{i}@{email_domain}"},
        "company": {
            "name": f"{domain.title()} {rng.choice(['Inc', 'GmbH', 'Ltd', 'SA'])}",
            "employees": employees,
            "industry": rng.choice(INDUSTRIES),
            "country": rng.choice(COUNTRIES),
            "tech_stack": rng.sample(STACKS, rng.randint(0, 2)),
            "is_competitor": rng.random() < 0.03,
        },
        "source": rng.choice(["webinar", "paid_search", "organic", "referral", "event"]),
    }
    events = []
    for _ in range(rng.choice([0, 1, 2, 3, 5, 8, 12, 20])):
        kind = pick_event()
        when = AS_OF - timedelta(minutes=rng.randint(0, 200 * 24 * 60))
        event = {"type": kind, "time": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
        if kind == "page_view":
            event["properties"] = {"path": rng.choice(PATHS)}
        elif kind in ASSETS:
            # Which asset: from a hash, so the random sequence (and every other field) is the
            # same as before assets were named.
            digest = hashlib.sha256(f"{i}:{event['time']}".encode()).digest()
            event["properties"] = {"asset": ASSETS[kind][digest[0] % len(ASSETS[kind])]}
        events.append(event)
    events.sort(key=lambda e: e["time"])
    return {"id": f"lead-{i:04d}", "attributes": attributes, "events": events}


for i in range(1, 241):
    print(json.dumps(lead(i), sort_keys=True))
