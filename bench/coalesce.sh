#!/usr/bin/env bash
# Benchmark 4: 50 concurrent identical cold requests against one standalone proxhub.
#
#   bench/coalesce.sh [--smoke]
#
# Target: one build, and the last of the 50 responses within 1.1x of a single build's
# time. Both are measured cold: a proxhub on a new data directory (empty artifact cache,
# empty Go module and build caches, so the build compiles Go's standard library too and
# takes tens of seconds, as a real Caddy build does), alternately, PROX_BENCH_ROUNDS (2)
# times; medians are compared. Builds are counted as the distinct X-Prox-Build-Id headers
# of the 50 responses. --smoke: 1 round of 10 requests.

source "$(dirname "$0")/lib.sh"
ROUNDS=${PROX_BENCH_ROUNDS:-2}
N=${PROX_BENCH_CLIENTS:-50}
if [ "$SMOKE" = 1 ]; then ROUNDS=1; N=10; fi
BIN="$(bin_dir)"
make_proxy "$TMP/fixture" 1
QUERY="/api/download?os=linux&arch=amd64&version=v2.8.4&p=github.com/proxfixture/hello@v0.2.0&p=github.com/proxfixture/withdep@v0.1.0"
PORT=$(free_port)
DATA="$TMP/hub"
URL="http://127.0.0.1:$PORT$QUERY"

fresh() {  # a proxhub on a new data directory: every cache empty
    if [ -n "${PROXHUB_PID:-}" ]; then stop_pid "$PROXHUB_PID"; fi
    rm -rf "$DATA" "$DATA.log"
    start_proxhub "$DATA" "$PORT" "$TMP/fixture"
}

: >"$TMP/results"
for ((r = 1; r <= ROUNDS; r++)); do
    log "round $r/$ROUNDS: one request"
    fresh
    start=$(now_ns)
    curl -fsS -o /dev/null "$URL"
    echo "single $(seconds_since "$start") 1" >>"$TMP/results"

    log "round $r/$ROUNDS: $N concurrent requests"
    fresh
    rm -rf "$TMP/many" && mkdir -p "$TMP/many"
    start=$(now_ns)
    CURLS=()
    for ((i = 1; i <= N; i++)); do
        curl -fsS -o "$TMP/many/$i.bin" -D "$TMP/many/$i.h" "$URL" &
        CURLS+=($!)
    done
    failed=0
    for job in "${CURLS[@]}"; do wait "$job" || failed=$((failed + 1)); done
    elapsed=$(seconds_since "$start")
    [ "$failed" = 0 ] || die "$failed of $N requests failed"
    builds=$(grep -hi '^x-prox-build-id:' "$TMP"/many/*.h | tr -d '\r' | awk '{print $2}' | sort -u | wc -l)
    digests=$(sha256sum "$TMP"/many/*.bin | awk '{print $1}' | sort -u | wc -l)
    [ "$digests" = 1 ] || die "the $N responses are not the same file"
    echo "many $elapsed $builds" >>"$TMP/results"
done

echo
machine_line
python3 - "$TMP/results" "$N" <<'EOF'
import statistics, sys
single, many, builds = [], [], []
for line in open(sys.argv[1]):
    kind, secs, nb = line.split()
    (single if kind == "single" else many).append(float(secs))
    if kind == "many": builds.append(int(nb))
s, m = statistics.median(single), statistics.median(many)
print()
print(f"Coalescing: {sys.argv[2]} concurrent identical cold requests (empty artifact and Go caches)")
print(f"single build: {s:.2f} s (runs {', '.join(f'{x:.2f}' for x in single)})")
print(f"last of {sys.argv[2]}: {m:.2f} s (runs {', '.join(f'{x:.2f}' for x in many)})")
print(f"builds per round: {', '.join(map(str, builds))} (target 1: {'yes' if all(b == 1 for b in builds) else 'NO'})")
print(f"ratio last/single: {m / s:.2f} (target <= 1.1: {'yes' if m / s <= 1.1 else 'NO'})")
EOF
