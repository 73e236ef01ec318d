#!/usr/bin/env bash
# Checks that doc/threat-model.md lists every attack scenario of attack_test (as
# `Suite.Name`), lists none that attack_test does not have, and that there are at least 40.
# The suite Harness tests the harness itself and is not a scenario.
# Usage: check_catalog.sh ATTACK_TEST_BINARY THREAT_MODEL_MD
set -euo pipefail
binary=$1
doc=$2
[[ -r $doc ]] || { echo "check_catalog: cannot read $doc"; exit 1; }
mapfile -t scenarios < <("$binary" --gtest_list_tests | awk '
  /^[^ ]/ { suite = $1; next }
  /^  / { print suite $1 }' | grep -v '^Harness\.')
missing=0
for s in "${scenarios[@]}"; do
  if ! grep -qF "\`$s\`" "$doc"; then
    echo "check_catalog: $s is not listed in $(basename "$doc")"
    missing=$((missing + 1))
  fi
done
# And every scenario the doc lists (a table row starting with `Suite.Name`) exists.
stale=0
while read -r listed; do
  if ! printf '%s\n' "${scenarios[@]}" | grep -qxF "$listed"; then
    echo "check_catalog: $(basename "$doc") lists $listed, which attack_test does not have"
    stale=$((stale + 1))
  fi
done < <(grep -oE '^\| `[A-Z][A-Za-z0-9]*\.[A-Za-z0-9]+`' "$doc" | tr -d '|` ')
echo "check_catalog: ${#scenarios[@]} scenarios, $missing not listed, $stale listed but absent"
((missing == 0 && stale == 0)) || exit 1
((${#scenarios[@]} >= 40)) || { echo "check_catalog: fewer than 40 scenarios"; exit 1; }
