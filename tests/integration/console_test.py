#!/usr/bin/env python3
"""The review console end to end: a real registry, scoring service and gateway (serving the
built console at /console/), and Debian's chromium driven by npm's playwright-core through
tests/console/console_e2e.mjs. Screenshots of every screen land in the build directory."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import (BIN, SOURCE, Gateway, Registry, Scoring, accordctl, check,  # noqa: E402
                     publish_examples, workdir, write_keys)

d = workdir("console")
tokens = write_keys(d)
console_dir = os.path.normpath(os.path.join(BIN, "..", "console"))
check(os.path.exists(os.path.join(console_dir, "app.js")),
      f"the console is built ({console_dir}/app.js): make build")
registry = Registry(d)
publish_examples(registry.address, tokens)
scoring = Scoring(d, registry.address, tokens, extra=[
    "--shadow_namespaces=default", "--shadow_sample_rate=1", "--shadow_poll_seconds=0.2"])
gateway = Gateway(d, registry.address, scoring.address,
                  [f"--console_dir={console_dir}", "--quota_rps=1000", "--quota_burst=1000"])

# Sales' verdicts on the example leads handed over, as `make run` records them: the review page
# shows what sales said about the published model.
AS_OF = "2026-11-01T12:00:00Z"
scores = accordctl(gateway.address, tokens["service"], "score", "-f",
                   os.path.join(SOURCE, "examples", "leads.jsonl"), "--as-of", AS_OF, "-o", "csv",
                   check=True).stdout
with open(os.path.join(d, "scores.csv"), "w") as f:
    f.write(scores)
verdicts = subprocess.run([sys.executable, os.path.join(SOURCE, "scripts", "generate_verdicts.py"),
                           os.path.join(SOURCE, "examples", "leads.jsonl"),
                           os.path.join(d, "scores.csv"), AS_OF],
                          capture_output=True, text=True, check=True).stdout
with open(os.path.join(d, "verdicts.jsonl"), "w") as f:
    f.write(verdicts)
accordctl(gateway.address, tokens["sales_editor"], "feedback", "record", "-f",
          os.path.join(d, "verdicts.jsonl"), check=True)

# User-written text that must render inert: a persona whose display name and description are
# markup (created as a draft; the inbox lists it by its display name).
xss = os.path.join(d, "xss.yaml")
with open(xss, "w") as f:
    f.write("""name: namespaces/default/definitions/xss-persona
display_name: "<img src=x onerror=\\"window.__xss=1;alert(1)\\">"
description: "<script>window.__xss=2</script>"
buyer_persona:
  criteria:
    - {id: any, condition: {attribute: {field: contact.title, op: EXISTS}}}
""")
accordctl(registry.address, tokens["marketing_editor"], "apply", "-f", xss, check=True)

# The console's files: "/" leads to it, a path it does not have is 404 (never the file system).
for path, want in [("/", "302"), ("/console", "302"), ("/console/nope.js", "404"),
                   ("/console/../keys.yaml", "404"), ("/console/%2e%2e/keys.yaml", "404")]:
    got = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                          "--path-as-is", gateway.http + path], capture_output=True, text=True,
                         timeout=10).stdout
    check(got.startswith(want) and (want != "302" or got.endswith("/console/")),
          f"GET {path}: {got}")

shots = os.path.join(os.path.dirname(BIN), "console-screenshots")
shutil.rmtree(shots, ignore_errors=True)
os.makedirs(shots)
node_modules = os.path.normpath(os.path.join(BIN, "..", "console-e2e", "node_modules"))
result = subprocess.run(
    ["node", os.path.join(SOURCE, "tests", "console", "console_e2e.mjs")],
    env=dict(os.environ, CONSOLE_URL=f"{gateway.http}/console/", TOKENS=json.dumps(tokens),
             SCREENSHOTS=shots, NODE_PATH=node_modules,
             CHROMIUM=os.environ.get("ACCORD_CHROMIUM", "/usr/bin/chromium")),
    capture_output=True, text=True, timeout=240)
print(result.stdout)
print(result.stderr, file=sys.stderr)
check(result.returncode == 0, "the console scenario passed in chromium")
print(f"console_test: OK (screenshots in {shots})")
