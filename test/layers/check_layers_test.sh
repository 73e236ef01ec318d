#!/usr/bin/env bash
# Tests scripts/check-layers: the real tree passes, and a synthetic tree with one forbidden
# edge (util including btc) and one allowed transitive edge (btc including util) fails on the
# forbidden one only.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
"$here/scripts/check-layers" "$here" >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/util" "$tmp/crypto" "$tmp/btc"
printf 'util:\ncrypto: util\nbtc: crypto\n' >"$tmp/layers.txt"
printf '#include "util/status.h"\n' >"$tmp/btc/ok.cc"
printf '#include "btc/script.h"\n' >"$tmp/util/bad.h"
if out=$("$here/scripts/check-layers" "$tmp"); then
  echo "FAIL: a forbidden edge was accepted"; exit 1
fi
grep -q "util/bad.h includes btc/" <<<"$out" || { echo "FAIL: unexpected output: $out"; exit 1; }
if grep -q "ok.cc" <<<"$out"; then echo "FAIL: transitive edge rejected: $out"; exit 1; fi
echo "check-layers: 2 passed, 0 failed"
