#!/usr/bin/env bash
# The long reliability runs, one after the other, each with its log in $OUT:
#   determinism (10,000 blocks, four instances) → perpchain verify on its node home →
#   crash (200 SIGKILLs) → fuzz (1,090,000 inputs) → property tests (500 runs).
# Usage: scripts/reliability/run-all.sh [OUT_DIR]   (default ./.reliability-runs)
set -u
cd "$(dirname "$0")/../.."
OUT=${1:-.reliability-runs}
mkdir -p "$OUT"
run() { # name, command...
  local name=$1; shift
  echo "== $name: $* ($(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))" | tee "$OUT/$name.log"
  local t0=$SECONDS
  "$@" >>"$OUT/$name.log" 2>&1
  local rc=$?
  echo "== $name: exit $rc after $((SECONDS - t0)) s (load $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/$name.log"
}
rm -rf "$OUT/home"
run determinism node --import tsx scripts/reliability/determinism.ts --blocks "${BLOCKS:-10000}" --home "$OUT/home"
run verify node bin/perpchain.mjs verify --home "$OUT/home" --check-invariants
run crash node --import tsx scripts/reliability/crash.ts --kills "${KILLS:-200}"
run fuzz node --import tsx scripts/reliability/fuzz.ts --scale "${FUZZ_SCALE:-1}"
run properties env RELIABILITY_PROPERTY_RUNS="${PROPERTY_RUNS:-500}" npx vitest run test/reliability/properties.test.ts
grep -h "^== " "$OUT"/*.log
