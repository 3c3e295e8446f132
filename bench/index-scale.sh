#!/usr/bin/env bash
# Benchmark 5: the artifact cache's index at 100k and 1M synthetic rows: start-up time
# (opening the index, including the repair scan proxhub runs at every start), hit lookup
# latency p50/p99 (ArtifactCache.lookup, as a download does), and the time to prune 10 %
# of the rows (a restart with --cache-max-size lowered just below the total, which evicts
# least-recently-used rows down to the low-water mark).
#
#   bench/index-scale.sh [--smoke]
#
# The rows are written straight into SQLite by the bench driver (bench/driver) and share
# PROX_BENCH_DIGESTS (1000) small artifact files, so the rows, not the files, are what
# scales. Targets at 1M rows: start <= 2 s, lookup p99 <= 1 ms, prune <= 5 s.
# --smoke: 10k rows only.

source "$(dirname "$0")/lib.sh"
need swift "install Swift 6.2 or newer (see README.md)"
DRIVER="$(driver_bin)"
SIZES=(100000 1000000)
[ "$SMOKE" = 1 ] && SIZES=(10000)
: >"$TMP/results"
for rows in "${SIZES[@]}"; do
    log "$rows rows"
    TMPDIR="$TMP" "$DRIVER" index-scale --rows "$rows" --digests "${PROX_BENCH_DIGESTS:-1000}" \
        --lookups "${PROX_BENCH_LOOKUPS:-10000}" | tee -a "$TMP/results" >&2
done

echo
machine_line
python3 - "$TMP/results" <<'PY'
import sys
print()
print("Cache index scale (targets at 1M rows: start <= 2 s, lookup p99 <= 1 ms, prune 10% <= 5 s)")
print(f"{'rows':>9} {'files':>6} {'start s':>8} {'lookup p50 ms':>13} {'lookup p99 ms':>13} {'prune 10% s':>11} {'rows pruned':>11}  met (start, p99, prune)")
for line in open(sys.argv[1]):
    if not line.startswith("RESULT"): continue
    r = dict(kv.split("=") for kv in line.split()[1:])
    rows = int(r["rows"])
    ok = lambda b: "yes" if b else "NO"
    met = f"{ok(float(r['start_s']) <= 2)} {ok(float(r['lookup_p99_ms']) <= 1)} {ok(float(r['prune_s']) <= 5)}"
    print(f"{rows:>9} {r['digests']:>6} {float(r['start_s']):>8.3f} {float(r['lookup_p50_ms']):>13.3f} {float(r['lookup_p99_ms']):>13.3f} {float(r['prune_s']):>11.3f} {r['pruned_rows']:>11}  {met if rows >= 1000000 else '(target is for 1M)'}")
PY
