#!/usr/bin/env bash
# Checks that doc/threat-model.md lists every attack scenario of attack_test (as
# `Suite.Name`) and that there are at least 40 of them. The suite Harness tests the harness
# itself and is not a scenario.
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
echo "check_catalog: ${#scenarios[@]} scenarios, $missing not listed"
((missing == 0)) || exit 1
((${#scenarios[@]} >= 40)) || { echo "check_catalog: fewer than 40 scenarios"; exit 1; }
