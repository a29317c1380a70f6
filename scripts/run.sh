#!/usr/bin/env bash
# `make run`: starts the stack on the embedded SQLite default under var/, loads and publishes
# the example definitions through the dual-approval workflow, then stays in the foreground.
set -euo pipefail
build=${1:-build}
bin="$build/bin"
mkdir -p var
scripts/dev-keys.sh var
set -a; source var/dev.env; set +a

pids=()
cleanup() {
  echo; echo "stopping..."
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

"$bin/accord-registry" --listen=127.0.0.1:7401 --admin_listen=127.0.0.1:9401 \
  --store=sqlite:var/registry.db --keys=var/dev-keys.yaml 2>>var/registry.log &
pids+=($!)

printf '%s\n' "$ACCORD_TOKEN_SERVICE" > var/scoring.token
"$bin/accord-scoring" --listen=127.0.0.1:7402 --admin_listen=127.0.0.1:9402 \
  --registry=127.0.0.1:7401 --cache_dir=var/scoring-cache --token_file=var/scoring.token \
  --keys=var/dev-keys.yaml 2>>var/scoring.log &
pids+=($!)

"$bin/accord-gateway" --listen=127.0.0.1:7400 --http_listen=127.0.0.1:7480 \
  --admin_listen=127.0.0.1:9400 --registry=127.0.0.1:7401 --scoring=127.0.0.1:7402 \
  --keys=var/dev-keys.yaml 2>>var/gateway.log &
pids+=($!)

# accordctl talks to the gateway (its default, 127.0.0.1:7400) for everything.
unset ACCORD_SERVER ACCORD_SCORING_SERVER
ctl() { "$bin/accordctl" "$@"; }
for _ in $(seq 1 100); do
  ACCORD_TOKEN=$ACCORD_TOKEN_VIEWER ctl list >/dev/null 2>&1 && break
  sleep 0.1
done

echo "== apply examples/definitions (as the marketing editor)"
ACCORD_TOKEN=$ACCORD_TOKEN_MARKETING_EDITOR ctl apply -f examples/definitions
for f in examples/definitions/*.yaml; do
  for name in $(grep -E '^name: ' "$f" | awk '{print $2}'); do
    short=${name##*/}
    ACCORD_TOKEN=$ACCORD_TOKEN_MARKETING_EDITOR ctl propose "$short" -m "example set" >/dev/null 2>&1 || true
    ACCORD_TOKEN=$ACCORD_TOKEN_MARKETING_APPROVER ctl approve "$short" -m "ok for marketing" >/dev/null 2>&1 || true
    ACCORD_TOKEN=$ACCORD_TOKEN_SALES_APPROVER ctl approve "$short" -m "ok for sales" >/dev/null 2>&1 || true
    ACCORD_TOKEN=$ACCORD_TOKEN_MARKETING_EDITOR ctl publish "$short" >/dev/null 2>&1 || true
  done
done
echo "== published definitions"
ACCORD_TOKEN=$ACCORD_TOKEN_VIEWER ctl list
echo
echo "== history of b2b-lead-score"
ACCORD_TOKEN=$ACCORD_TOKEN_VIEWER ctl history b2b-lead-score
echo
echo "== scoring examples/leads.jsonl (as of 2026-11-01)"
for _ in $(seq 1 50); do
  grep -q '"scoring ready"' var/scoring.log 2>/dev/null && break
  sleep 0.1
done
ACCORD_TOKEN=$ACCORD_TOKEN_SERVICE ctl score -f examples/leads.jsonl --as-of 2026-11-01T12:00:00Z \
  | tail -3
ACCORD_TOKEN=$ACCORD_TOKEN_SERVICE ctl score -f examples/leads.jsonl --as-of 2026-11-01T12:00:00Z \
  -o csv > var/scores.csv
for pattern in ',SQL,|,MQL,' ',DISQUALIFIED,'; do
  id=$(grep -E "$pattern" var/scores.csv | head -1 | cut -d, -f1)
  [ -n "$id" ] || continue
  grep "\"id\": \"$id\"" examples/leads.jsonl > "var/$id.json"
  echo
  echo "== explain $id"
  ACCORD_TOKEN=$ACCORD_TOKEN_SERVICE ctl explain -f "var/$id.json" --as-of 2026-11-01T12:00:00Z
done
echo
echo "== the same over HTTP/JSON through the gateway (curl)"
curl -s -H "Authorization: Bearer $ACCORD_TOKEN_SERVICE" -H 'Content-Type: application/json' \
  -d '{"lead": {"id": "curl-1", "attributes": {"contact": {"title": "IT Director"},
       "company": {"employees": 1200, "industry": "software"}}}, "asOf": "2026-11-01T12:00:00Z"}' \
  http://127.0.0.1:7480/v1/scoring:scoreLead
echo
cat <<TXT

Accord is running behind the gateway: gRPC on 127.0.0.1:7400, HTTP/JSON on
http://127.0.0.1:7480 (routes: http://127.0.0.1:7480/openapi.json); registry on :7401 and
scoring on :7402 behind it; metrics on http://127.0.0.1:9400/metrics (:9401, :9402).
Try next, in another shell:
  set -a; source var/dev.env; set +a
  ACCORD_TOKEN=\$ACCORD_TOKEN_VIEWER $bin/accordctl get b2b-lead-score -o yaml
  ACCORD_TOKEN=\$ACCORD_TOKEN_VIEWER $bin/accordctl watch            # live published changes
  edit examples/definitions/20-model.yaml, then:
  ACCORD_TOKEN=\$ACCORD_TOKEN_MARKETING_EDITOR $bin/accordctl apply -f examples/definitions
  ACCORD_TOKEN=\$ACCORD_TOKEN_MARKETING_EDITOR $bin/accordctl diff b2b-lead-score
  ACCORD_TOKEN=\$ACCORD_TOKEN_MARKETING_EDITOR $bin/accordctl propose b2b-lead-score -m "raise MQL bar"
  ACCORD_TOKEN=\$ACCORD_TOKEN_SALES_APPROVER $bin/accordctl approve b2b-lead-score
Logs: var/gateway.log, var/registry.log, var/scoring.log. Press Ctrl-C to stop.
TXT
wait
