#!/usr/bin/env bash
# Writes demo API keys: DIR/dev-keys.yaml (SHA-256 hashes, for the servers) and DIR/dev.env
# (ACCORD_TOKEN_<ROLE>=<token>, for people and scripts). Keeps existing files that hold every
# role (a directory from before a role was added gets new keys).
set -euo pipefail
dir=${1:-var}
mkdir -p "$dir"
roles="viewer marketing_editor sales_editor marketing_approver sales_approver service admin scorer"
if [ -f "$dir/dev-keys.yaml" ] && [ -f "$dir/dev.env" ]; then
  missing=0
  for role in $roles; do grep -q "^ACCORD_TOKEN_${role^^}=" "$dir/dev.env" || missing=1; done
  [ "$missing" = 0 ] && exit 0
fi
umask 077
echo "keys:" > "$dir/dev-keys.yaml.tmp"
: > "$dir/dev.env.tmp"
for role in $roles; do
  token="acc_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  hash=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
  principal="demo-${role//_/-}@accord.example"
  printf '  - principal: %s\n    roles: [%s]\n    sha256: %s\n' "$principal" "$role" "$hash" >> "$dir/dev-keys.yaml.tmp"
  printf 'ACCORD_TOKEN_%s=%s\n' "${role^^}" "$token" >> "$dir/dev.env.tmp"
done
mv "$dir/dev-keys.yaml.tmp" "$dir/dev-keys.yaml"
mv "$dir/dev.env.tmp" "$dir/dev.env"
