# Shared helpers of the bench/ scripts (sourced, not run). Every server a script starts
# binds 127.0.0.1 on a free port, lives in the script's temporary directory and is stopped
# by the EXIT trap installed here.

set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
GO="${PROX_BENCH_GO:-/usr/lib/go-1.23/bin/go}"
export GOSUMDB=off GOTOOLCHAIN=local GOTELEMETRY=off
SMOKE=0
for arg in "$@"; do [ "$arg" = "--smoke" ] && SMOKE=1; done

TMP="$(mktemp -d "${TMPDIR:-/tmp}/prox-bench.XXXXXX")"
PIDS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "${PROX_BENCH_KEEP:-0}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

log() { echo "==> $*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

# need COMMAND "how to install it"
need() {
    command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] || die "$1 is missing: $2"
}

need python3 "apt-get install -y python3"
need curl "apt-get install -y curl"
need "$GO" "apt-get install -y golang-1.23-go (bookworm-backports), or set PROX_BENCH_GO"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL [SECONDS]: until URL answers 2xx.
wait_http() {
    local deadline=$((SECONDS + ${2:-60}))
    until curl -fsS -o /dev/null "$1" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || die "$1 did not answer within ${2:-60}s"
        sleep 0.1
    done
}

# The release binaries (built when missing; PROX_BIN_DIR overrides).
bin_dir() {
    local dir="${PROX_BIN_DIR:-$ROOT/.build/release}"
    if [ ! -x "$dir/proxhub" ] || [ ! -x "$dir/proxagent" ]; then
        log "building release binaries (swift build -c release)"
        (cd "$ROOT" && swift build -c release >&2)
    fi
    echo "$dir"
}

# make_proxy DIR [BLOB_MIB]: the fixture module proxy (with the bench's large plugin).
make_proxy() {
    python3 "$BENCH_DIR/make-bench-proxy.py" "$1" --blob-mib "${2:-48}" >/dev/null
}

# start_proxhub DATA PORT PROXYDIR [flags...]: standalone proxhub in the background;
# sets PROXHUB_PID. Its log goes to DATA.log.
start_proxhub() {
    local data=$1 port=$2 proxy=$3
    shift 3
    "$(bin_dir)/proxhub" --webserver-host 127.0.0.1 --webserver-port "$port" --binary-path "$data" \
        --goproxy "file://$proxy/proxy" --package-endpoint "file://$proxy/packages.json" --go "${PROXHUB_GO:-$GO}" \
        --client-request-rate 1000000000/m --client-build-rate 0 --client-concurrent-builds 0 --max-queued-builds 0 "$@" \
        >>"$data.log" 2>&1 &
    PROXHUB_PID=$!
    PIDS+=("$PROXHUB_PID")
    wait_http "http://127.0.0.1:$port/healthz" 120
    # Downloads are refused (503) until the catalog is loaded.
    local deadline=$((SECONDS + 60))
    until curl -fsS "http://127.0.0.1:$port/healthz" | grep -q '"catalog_loaded":true'; do
        [ $SECONDS -lt $deadline ] || die "proxhub's catalog did not load"
        sleep 0.1
    done
}

# stop_pid PID: SIGTERM and wait.
stop_pid() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# cpu_ticks PID...: user+system CPU time (clock ticks) of the processes and their
# waited-for children, from /proc/PID/stat.
cpu_ticks() {
    local total=0 pid fields
    for pid in "$@"; do
        fields=$(sed 's/^.*) //' "/proc/$pid/stat")
        # after the command name: state is field 3, utime 14, stime 15, cutime 16, cstime 17
        total=$((total + $(echo "$fields" | awk '{print $12 + $13 + $14 + $15}')))
    done
    echo "$total"
}

# peak_rss_mb PID: VmHWM of a running process, in MB (10^6 bytes).
peak_rss_mb() {
    awk '/VmHWM/ {printf "%.1f", $2 * 1024 / 1e6}' "/proc/$1/status"
}

# ratio A B [DIGITS]: A / B.
ratio() {
    python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.${3:-2}f}' if b else 'n/a')" "$1" "$2"
}

# met VALUE OP LIMIT: "yes" or "NO".
met() {
    python3 -c "import sys,operator as o; v,op,l=sys.argv[1:]; print('yes' if {'<=':o.le,'>=':o.ge}[op](float(v),float(l)) else 'NO')" "$1" "$2" "$3"
}

machine_line() {
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), kernel $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ)"
}

# start_redis PORT: a throwaway redis-server (no persistence); sets REDIS_PID.
start_redis() {
    need redis-server "apt-get install -y redis-server"
    redis-server --bind 127.0.0.1 --port "$1" --save '' --appendonly no --dir "$TMP" \
        >"$TMP/redis-$1.log" 2>&1 &
    REDIS_PID=$!
    PIDS+=("$REDIS_PID")
    local deadline=$((SECONDS + 20))
    until python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1',$1),1); s.sendall(b'PING\r\n'); sys.exit(0 if s.recv(16).startswith(b'+PONG') else 1)" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || die "redis-server did not start"
        sleep 0.1
    done
}

# start_agent WORKDIR HUBPORT REDISPORT TOKEN [flags...]: a proxagent; sets AGENT_PID.
start_agent() {
    local work=$1 hubport=$2 redisport=$3 token=$4
    shift 4
    "$(bin_dir)/proxagent" --hub-url "http://127.0.0.1:$hubport" --push-token "$token" \
        --redis-host 127.0.0.1 --redis-port "$redisport" --go "$GO" --work-dir "$work" "$@" \
        >>"$work.log" 2>&1 &
    AGENT_PID=$!
    PIDS+=("$AGENT_PID")
}

# seconds_since START_NS: wall time since a `date +%s%N` reading, in seconds.
now_ns() { date +%s%N; }
seconds_since() { python3 -c "import sys,time; print(f'{(time.time_ns()-int(sys.argv[1]))/1e9:.3f}')" "$1"; }

# median VALUES...
median() { python3 -c "import sys,statistics; print(f'{statistics.median(map(float,sys.argv[1:])):.3f}')" "$@"; }

# The bench driver (bench/driver, a separate SwiftPM package), built in release mode.
driver_bin() {
    local dir="$BENCH_DIR/driver"
    if [ ! -x "$dir/.build/release/prox-bench" ] || [ "${PROX_BENCH_REBUILD:-0}" = 1 ]; then
        log "building the bench driver (swift build -c release --package-path bench/driver)"
        (cd "$dir" && swift build -c release >&2)
    fi
    echo "$dir/.build/release/prox-bench"
}
