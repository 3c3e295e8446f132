#!/usr/bin/env bash
# Benchmark 3: a cold and a warm build of the same module set through proxhub
# (standalone, and hub + one agent on Redis) against the same steps done directly with
# the go command (bench/go-direct.sh), in the same run.
#
#   bench/build.sh [--smoke]
#
# Module set: fixture Caddy v2.8.4 with hello, withdep, multi/handlers and majortwo/v2,
# linux/amd64. Cold: empty Go module and build caches, empty artifact cache. Warm: the
# Go caches of the cold run, an empty artifact cache (proxhub is restarted without its
# cache/ directory, so the request is a miss and builds again). proxhub's time is the
# wall time of `curl` downloading /api/download (resolve, build, hash, commit, serve);
# the direct time is the wall time of go-direct.sh. Medians of PROX_BENCH_COLD (2) cold
# and PROX_BENCH_WARM (3) warm runs; --smoke runs each once.

source "$(dirname "$0")/lib.sh"
need redis-server "apt-get install -y redis-server"
COLD=${PROX_BENCH_COLD:-2}
WARM=${PROX_BENCH_WARM:-3}
if [ "$SMOKE" = 1 ]; then COLD=1; WARM=1; fi
BIN="$(bin_dir)"
make_proxy "$TMP/fixture" 1
PROXY="file://$TMP/fixture/proxy"
PLUGINS=(github.com/proxfixture/hello@v0.2.0 github.com/proxfixture/withdep@v0.1.0
    github.com/proxfixture/multi/handlers@v1.0.0 github.com/proxfixture/majortwo/v2@v2.1.0)
QUERY="/api/download?os=linux&arch=amd64&version=v2.8.4"
for p in "${PLUGINS[@]}"; do QUERY+="&p=$p"; done
TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
: >"$TMP/results"

direct() {  # direct PHASE
    local start
    [ "$1" = cold ] && rm -rf "$TMP/direct-go"
    start=$(now_ns)
    bash "$BENCH_DIR/go-direct.sh" "$GO" "$PROXY" "$TMP/direct-go" "$TMP/direct.bin" v2.8.4 "${PLUGINS[@]}"
    echo "direct $1 $(seconds_since "$start")" | tee -a "$TMP/results" >&2
}

download() {  # download PORT OUTPUT NAME PHASE: appends "NAME PHASE seconds" to the results
    local start
    start=$(now_ns)
    if ! curl -fsS -o "$2" "http://127.0.0.1:$1$QUERY"; then
        curl -sS "http://127.0.0.1:$1$QUERY" | head -c 2000 >&2
        die "$3 $4: the download failed"
    fi
    echo "$3 $4 $(seconds_since "$start")" | tee -a "$TMP/results" >&2
}

PORT=$(free_port)
standalone() {  # standalone PHASE
    local data="$TMP/standalone"
    [ "$1" = cold ] && rm -rf "$data"
    rm -rf "$data/cache"
    start_proxhub "$data" "$PORT" "$TMP/fixture"
    download "$PORT" "$TMP/standalone.bin" standalone "$1"
    stop_pid "$PROXHUB_PID"
}

REDIS_PORT=$(free_port)
start_redis "$REDIS_PORT"
HUB_PORT=$(free_port)
AGENT_PID=
hub() {  # hub PHASE
    local data="$TMP/hub" work="$TMP/agent"
    if [ "$1" = cold ]; then
        [ -n "$AGENT_PID" ] && stop_pid "$AGENT_PID"
        rm -rf "$data" "$work"
        mkdir -p "$work"
        start_agent "$work" "$HUB_PORT" "$REDIS_PORT" "$TOKEN" --goproxy "$PROXY"
    fi
    rm -rf "$data/cache"
    start_proxhub "$data" "$HUB_PORT" "$TMP/fixture" --hub --redis-host 127.0.0.1 --redis-port "$REDIS_PORT" --push-token "$TOKEN"
    download "$HUB_PORT" "$TMP/hub.bin" hub "$1"
    stop_pid "$PROXHUB_PID"
}

for ((i = 1; i <= COLD; i++)); do
    log "cold round $i/$COLD"
    direct cold; standalone cold; hub cold
done
for ((i = 1; i <= WARM; i++)); do
    log "warm round $i/$WARM"
    direct warm; standalone warm; hub warm
done
IDENTICAL=no
cmp -s "$TMP/direct.bin" "$TMP/standalone.bin" && cmp -s "$TMP/direct.bin" "$TMP/hub.bin" && IDENTICAL=yes
chmod +x "$TMP/hub.bin"
"$TMP/hub.bin" list-modules | grep -q http.handlers.majortwo || die "the hub's binary lacks a plugin"

echo
machine_line
echo "module set: caddy v2.8.4 + ${PLUGINS[*]}; the three binaries byte-identical: $IDENTICAL"
python3 - "$TMP/results" "$COLD" "$WARM" <<'EOF'
import statistics, sys
times = {}
for line in open(sys.argv[1]):
    mode, phase, secs = line.split()
    times.setdefault((mode, phase), []).append(float(secs))
print()
print("Build wall time in seconds (median; target: proxhub <= 1.05 x direct + 0.5 s)")
print(f"{'phase':<6} {'direct':>8} {'standalone':>10} {'ratio':>6} {'met':>4} {'hub+agent':>10} {'ratio':>6} {'met':>4}   all runs")
for phase in ("cold", "warm"):
    d = statistics.median(times[("direct", phase)])
    cells = []
    for mode in ("standalone", "hub"):
        t = statistics.median(times[(mode, phase)])
        cells.append(f"{t:>10.2f} {t / d:>6.2f} {'yes' if t <= 1.05 * d + 0.5 else 'NO':>4}")
    runs = "; ".join(f"{m} " + ",".join(f"{x:.2f}" for x in times[(m, phase)]) for m in ("direct", "standalone", "hub"))
    print(f"{phase:<6} {d:>8.2f} {cells[0]} {cells[1]}   {runs}")
EOF
