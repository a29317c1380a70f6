#!/usr/bin/env bash
# `make run`: starts the stack on the embedded SQLite default under var/, loads the example
# definitions that do not exist yet and publishes them through the dual-approval workflow,
# scores the example leads, then stays in the foreground until Ctrl-C.
#
# It never changes existing content: a definition already in the store (published by you
# through the real workflow, say) is left exactly as it is.
#
# Environment (for tests): ACCORD_VAR (default var), ACCORD_PORT_BASE (default 7400: gateway
# gRPC 7400, registry 7401, scoring 7402, gateway HTTP base+80, metrics base+2000..2002).
set -euo pipefail
build=${1:-build}
bin="$build/bin"
var=${ACCORD_VAR:-var}
base=${ACCORD_PORT_BASE:-7400}
gateway=127.0.0.1:$base registry=127.0.0.1:$((base + 1)) scoring=127.0.0.1:$((base + 2))
http=127.0.0.1:$((base + 80))
# The example leads are dated around this time: every demo command scores as of it.
as_of=2026-11-01T12:00:00Z
mkdir -p "$var"
scripts/dev-keys.sh "$var"
set -a; source "$var/dev.env"; set +a

pids=()
cleanup() {
  trap - EXIT INT TERM
  echo; echo "stopping..."
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'cleanup; exit 0' INT TERM  # Ctrl-C is how make run ends: not an error

# accordctl talks to the gateway for everything but the first readiness check.
unset ACCORD_SERVER ACCORD_SCORING_SERVER
ctl() { "$bin/accordctl" --server "$gateway" "$@"; }
# Retries `what` (a command) for up to 10 s; false if it never succeeds.
wait_for() {
  for _ in $(seq 1 100); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}
fail() { echo "make run: $*; see $var/*.log" >&2; exit 1; }

# The registry first, and only once it serves its own API do its clients start: nothing
# connects to it early, so nothing starts in back-off.
"$bin/accord-registry" --listen="$registry" --admin_listen=127.0.0.1:$((base + 2001)) \
  --store="sqlite:$var/registry.db" --keys="$var/dev-keys.yaml" 2>>"$var/registry.log" &
pids+=($!)
wait_for env ACCORD_TOKEN="$ACCORD_TOKEN_VIEWER" "$bin/accordctl" --server "$registry" list \
  || fail "the registry did not start"

# The scoring service's own key (role scorer): it watches the registry and stores the verdicts
# it derived.
printf '%s\n' "$ACCORD_TOKEN_SCORER" > "$var/scoring.token"
"$bin/accord-scoring" --listen="$scoring" --admin_listen=127.0.0.1:$((base + 2002)) \
  --registry="$registry" --cache_dir="$var/scoring-cache" --token_file="$var/scoring.token" \
  --keys="$var/dev-keys.yaml" 2>>"$var/scoring.log" &
pids+=($!)

"$bin/accord-gateway" --listen="$gateway" --http_listen="$http" \
  --admin_listen=127.0.0.1:$((base + 2000)) --registry="$registry" --scoring="$scoring" \
  --keys="$var/dev-keys.yaml" --console_dir="$build/console" 2>>"$var/gateway.log" &
pids+=($!)
wait_for env ACCORD_TOKEN="$ACCORD_TOKEN_VIEWER" "$bin/accordctl" --server "$gateway" list \
  || fail "the gateway did not start"

echo "== examples/definitions: creating those that do not exist yet (existing ones are left as they are)"
applied=$(ACCORD_TOKEN=$ACCORD_TOKEN_MARKETING_EDITOR ctl apply --create-only -f examples/definitions) \
  || fail "apply failed"
echo "$applied" | sed 's/^/  /'
created=$(echo "$applied" | awk '$2 == "created" {print $1}')
for name in $created; do
  short=${name##*/}
  ACCORD_TOKEN=$ACCORD_TOKEN_MARKETING_EDITOR ctl propose "$short" -m "example set" >/dev/null \
    || fail "propose $short failed"
  ACCORD_TOKEN=$ACCORD_TOKEN_MARKETING_APPROVER ctl approve "$short" -m "ok for marketing" \
    >/dev/null || fail "approve $short (marketing) failed"
  ACCORD_TOKEN=$ACCORD_TOKEN_SALES_APPROVER ctl approve "$short" -m "ok for sales" >/dev/null \
    || fail "approve $short (sales) failed"
  ACCORD_TOKEN=$ACCORD_TOKEN_MARKETING_EDITOR ctl publish "$short" >/dev/null \
    || fail "publish $short failed"
done
if [ -n "$created" ]; then
  echo "  published $(echo "$created" | wc -w) new definition(s), approved by the demo approvers"
else
  echo "  nothing new: the store already holds every example; its content was not touched"
fi
echo "== definitions"
ACCORD_TOKEN=$ACCORD_TOKEN_VIEWER ctl list
echo
echo "== history of b2b-lead-score"
ACCORD_TOKEN=$ACCORD_TOKEN_VIEWER ctl history b2b-lead-score
echo
echo "== scoring examples/leads.jsonl (as of $as_of, the time the example leads are dated around)"
grep_ready() { grep -q '"scoring ready"' "$var/scoring.log"; }
wait_for grep_ready || fail "scoring did not become ready"
ACCORD_TOKEN=$ACCORD_TOKEN_SERVICE ctl score -f examples/leads.jsonl --as-of "$as_of" | tail -3
ACCORD_TOKEN=$ACCORD_TOKEN_SERVICE ctl score -f examples/leads.jsonl --as-of "$as_of" -o csv \
  > "$var/scores.csv"
explained=""
for pattern in ',SQL,|,MQL,' ',DISQUALIFIED,'; do
  id=$(grep -E "$pattern" "$var/scores.csv" | head -1 | cut -d, -f1)
  [ -n "$id" ] || continue
  grep "\"id\": \"$id\"" examples/leads.jsonl > "$var/$id.json"
  explained=${explained:-$id}
  echo
  echo "== explain $id"
  ACCORD_TOKEN=$ACCORD_TOKEN_SERVICE ctl explain -f "$var/$id.json" --as-of "$as_of"
done
echo
echo "== the account Initech Inc (examples/account.json: 17 of the example leads), as of $as_of"
ACCORD_TOKEN=$ACCORD_TOKEN_SERVICE ctl score-account -f examples/account.json --as-of "$as_of"
# "Why did this score change?": the same lead a month later: the CRM now knows the company has
# 5000 employees, and the lead asked for a demo on the way (an event after the first moment
# counts as time passing: at the first moment it had not happened yet).
if [ -n "$explained" ]; then
  python3 - "$var/$explained.json" "$var/$explained-later.json" <<'PY'
import json, sys
lead = json.load(open(sys.argv[1]))
lead["attributes"].setdefault("company", {})["employees"] = 5000
lead.setdefault("events", []).append({"type": "demo_request", "time": "2026-11-25T10:00:00Z"})
json.dump(lead, open(sys.argv[2], "w"))
PY
  echo
  echo "== why did $explained's score change between $as_of and a month later?"
  ACCORD_TOKEN=$ACCORD_TOKEN_SERVICE ctl explain-change --before "$var/$explained.json" \
    --after "$var/$explained-later.json" --as-of "$as_of" --as-of-after 2026-12-01T12:00:00Z
fi
echo
echo "== sales' verdicts on the leads handed over (MQL and SQL), re-scored as of their hand-off"
python3 scripts/generate_verdicts.py examples/leads.jsonl "$var/scores.csv" "$as_of" \
  > "$var/verdicts.jsonl"
ACCORD_TOKEN=$ACCORD_TOKEN_SALES_EDITOR ctl feedback record -f "$var/verdicts.jsonl" \
  | sed 's/^/  /' || fail "recording the example verdicts failed"
echo
echo "== the quality report: which levels, grades, rules and content bring leads sales accepts"
ACCORD_TOKEN=$ACCORD_TOKEN_VIEWER ctl feedback report
echo
echo "== the same over HTTP/JSON through the gateway (curl)"
curl -s -H "Authorization: Bearer $ACCORD_TOKEN_SERVICE" -H 'Content-Type: application/json' \
  -d '{"lead": {"id": "curl-1", "attributes": {"contact": {"title": "IT Director"},
       "company": {"employees": 1200, "industry": "software"}}}, "asOf": "'"$as_of"'"}' \
  "http://$http/v1/scoring:scoreLead"
echo
# "Try next": a change of your own, from the file to scoring, one command a line (a test runs
# these lines verbatim). Its lead is one that the lower MQL bar moves from LEAD to MQL.
lead=$(awk -F, 'NR > 1 && $2 == "LEAD" && $4 >= 20 && $5 >= 10 {print $1; exit}' \
  "$var/scores.csv")
lead=${lead:-$explained}
grep "\"id\": \"$lead\"" examples/leads.jsonl > "$var/$lead.json"
ctl_path="$bin/accordctl --server $gateway"
cat <<TXT

Accord is running behind the gateway: gRPC on $gateway, HTTP/JSON on http://$http
(routes: http://$http/openapi.json); registry on $registry and scoring on $scoring behind it;
metrics on http://127.0.0.1:$((base + 2000))/metrics (and the next two ports).
Try next, in another shell: lower the MQL bar and see $lead become an MQL.
  set -a; source $var/dev.env; set +a
  cp examples/definitions/20-model.yaml $var/my-model.yaml
  sed -i 's/{name: MQL, min_fit: 40, min_engagement: 25}/{name: MQL, min_fit: 20, min_engagement: 10}/' $var/my-model.yaml
  ACCORD_TOKEN=\$ACCORD_TOKEN_MARKETING_EDITOR $ctl_path apply -f $var/my-model.yaml
  ACCORD_TOKEN=\$ACCORD_TOKEN_MARKETING_EDITOR $ctl_path diff b2b-lead-score
  ACCORD_TOKEN=\$ACCORD_TOKEN_MARKETING_EDITOR $ctl_path propose b2b-lead-score -m "lower the MQL bar"
  ACCORD_TOKEN=\$ACCORD_TOKEN_MARKETING_APPROVER $ctl_path approve b2b-lead-score -m "ok for marketing"
  ACCORD_TOKEN=\$ACCORD_TOKEN_SALES_APPROVER $ctl_path approve b2b-lead-score -m "ok for sales"
  ACCORD_TOKEN=\$ACCORD_TOKEN_MARKETING_EDITOR $ctl_path publish b2b-lead-score
  ACCORD_TOKEN=\$ACCORD_TOKEN_SERVICE $ctl_path explain -f $var/$lead.json --as-of $as_of
Also: accordctl get b2b-lead-score -o yaml, accordctl history b2b-lead-score, accordctl watch.

The review console, where marketing and sales read, test, approve and publish:
http://$http/console/ (sign in with the demo key of a role; one browser window per role):
  marketing editor    $ACCORD_TOKEN_MARKETING_EDITOR
  marketing approver  $ACCORD_TOKEN_MARKETING_APPROVER
  sales approver      $ACCORD_TOKEN_SALES_APPROVER
  sales editor        $ACCORD_TOKEN_SALES_EDITOR
  viewer              $ACCORD_TOKEN_VIEWER
(the keys are in $var/dev.env; they are development keys of this machine only)
Logs: $var/gateway.log, $var/registry.log, $var/scoring.log. Press Ctrl-C to stop.
TXT
wait
