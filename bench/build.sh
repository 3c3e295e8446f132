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
#
# Toolchain phases (standalone only; skipped when Debian's golang-1.22-go is missing):
# the host go is go1.22 and the build is fixture Caddy v2.10.0, whose go.mod needs
# go 1.23.0, so proxhub downloads go1.23.5 (Debian's 1.23 made into golang.org/toolchain
# by scripts/make-toolchain-module.py) through the file:// proxy. "toolchain-first": empty
# Go caches, download included; "toolchain-next": the same build again with the toolchain
# and build cache in place (empty artifact cache). The direct reference is go-direct.sh
# with the same go1.22 and GOTOOLCHAIN=go1.23.5, from the same empty and then warm caches.

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

OLD_GO=${PROX_BENCH_OLD_GO:-/usr/lib/go-1.22/bin/go}
NEW_GOROOT=${PROX_BENCH_NEW_GOROOT:-/usr/lib/go-1.23}
if [ -x "$OLD_GO" ] && [ -x "$NEW_GOROOT/bin/go" ]; then
    log "toolchain phases: host $("$OLD_GO" env GOVERSION), downloading $(head -n1 "$NEW_GOROOT/VERSION")"
    python3 "$ROOT/scripts/make-fixture-proxy.py" --go-versions "$TMP/tcfixture" >/dev/null
    python3 "$ROOT/scripts/make-toolchain-module.py" "$NEW_GOROOT" "$TMP/tcfixture/proxy" >/dev/null
    TC_TOOLCHAIN=$(head -n1 "$NEW_GOROOT/VERSION")
    TC_QUERY="/api/download?os=linux&arch=amd64&version=v2.10.0"
    for p in "${PLUGINS[@]}"; do TC_QUERY+="&p=$p"; done
    for phase in toolchain-first toolchain-next; do
        [ "$phase" = toolchain-first ] && rm -rf "$TMP/tc-direct-go" "$TMP/tc-standalone"
        start=$(now_ns)
        DIRECT_GOTOOLCHAIN=$TC_TOOLCHAIN bash "$BENCH_DIR/go-direct.sh" "$OLD_GO" "file://$TMP/tcfixture/proxy" "$TMP/tc-direct-go" \
            "$TMP/tc-direct.bin" v2.10.0 "${PLUGINS[@]}"
        echo "direct $phase $(seconds_since "$start")" | tee -a "$TMP/results" >&2
        rm -rf "$TMP/tc-standalone/cache"
        mkdir -p "$TMP/tc-standalone"
        PROXHUB_GO=$OLD_GO start_proxhub "$TMP/tc-standalone" "$PORT" "$TMP/tcfixture"
        start=$(now_ns)
        curl -fsS -D "$TMP/tc-headers" -o "$TMP/tc-standalone.bin" "http://127.0.0.1:$PORT$TC_QUERY" || die "$phase: the download failed"
        echo "standalone $phase $(seconds_since "$start")" | tee -a "$TMP/results" >&2
        grep -qi "^x-prox-go-version: $TC_TOOLCHAIN" "$TMP/tc-headers" || die "$phase: not built with $TC_TOOLCHAIN: $(cat "$TMP/tc-headers")"
        stop_pid "$PROXHUB_PID"
    done
    cmp -s "$TMP/tc-direct.bin" "$TMP/tc-standalone.bin" && TC_IDENTICAL=yes || TC_IDENTICAL=no
else
    log "toolchain phases skipped: $OLD_GO or $NEW_GOROOT/bin/go is missing (apt-get install golang-1.22-go golang-1.23-go)"
fi
IDENTICAL=no
cmp -s "$TMP/direct.bin" "$TMP/standalone.bin" && cmp -s "$TMP/direct.bin" "$TMP/hub.bin" && IDENTICAL=yes
chmod +x "$TMP/hub.bin"
"$TMP/hub.bin" list-modules | grep -q http.handlers.majortwo || die "the hub's binary lacks a plugin"

echo
machine_line
echo "module set: caddy v2.8.4 + ${PLUGINS[*]}; the three binaries byte-identical: $IDENTICAL"
[ -n "${TC_IDENTICAL:-}" ] && echo "toolchain phases: caddy v2.10.0 + the same plugins, host go1.22 downloading ${TC_TOOLCHAIN}; direct and proxhub binaries byte-identical: $TC_IDENTICAL"
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
for phase in ("toolchain-first", "toolchain-next"):
    if ("direct", phase) not in times:
        continue
    d = statistics.median(times[("direct", phase)])
    t = statistics.median(times[("standalone", phase)])
    print(f"{phase:<16} direct {d:>7.2f}  standalone {t:>7.2f}  ratio {t / d:>5.2f}  met {'yes' if t <= 1.05 * d + 0.5 else 'NO'}")
EOF
