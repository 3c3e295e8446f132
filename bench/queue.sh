#!/usr/bin/env bash
# Benchmark 6: the Redis job queue, hub to agents, with builds replaced by a no-op runner
# (bench/driver: NoopRunner and DirectDelivery exist only there, never in proxhub or
# proxagent). The driver runs the hub's RedisBuildService and RedisLogRelay and
# PROX_BENCH_AGENTS (2) RedisAgents with PROX_BENCH_SLOTS (4) slots each, in one process,
# against a throwaway redis-server.
#
#   bench/queue.sh [--smoke]
#
# Throughput: PROX_BENCH_JOBS (1000) distinct jobs submitted at once; jobs per second
# until the last one's artifact is committed. Latency: 200 jobs one at a time; dispatch =
# from submit() to the runner starting on an agent, done = until wait() returns.
# For scale, redis-benchmark's own rate for one command on the same server is printed.
# --smoke: 100 jobs, 20 for latency.

source "$(dirname "$0")/lib.sh"
need redis-server "apt-get install -y redis-server"
need redis-benchmark "apt-get install -y redis-tools"
DRIVER="$(driver_bin)"
JOBS=${PROX_BENCH_JOBS:-1000}
LAT=200
[ "$SMOKE" = 1 ] && { JOBS=100; LAT=20; }
PORT=$(free_port)
start_redis "$PORT"
TMPDIR="$TMP" "$DRIVER" queue --redis-port "$PORT" --jobs "$JOBS" --agents "${PROX_BENCH_AGENTS:-2}" \
    --slots "${PROX_BENCH_SLOTS:-4}" --latency-jobs "$LAT" | tee "$TMP/result" >&2
XADD=$(redis-benchmark -h 127.0.0.1 -p "$PORT" -q -n 20000 -c 4 xadd prox:bench '*' f v 2>/dev/null | tr '\r' '\n' | grep -i xadd | tail -1)

echo
machine_line
python3 - "$TMP/result" "$XADD" <<'PY'
import sys
r = dict(kv.split("=") for kv in open(sys.argv[1]).read().split("RESULT", 1)[1].split())
print()
print(f"Queue: {r['jobs']} jobs, {r['agents']} agents x {r['slots']} slots, no-op builds (no target set)")
print(f"{'jobs/s':>8} {'builds':>7} {'dispatch p50 ms':>15} {'dispatch p99 ms':>15} {'done p50 ms':>11} {'done p99 ms':>11}")
print(f"{float(r['jobs_per_s']):>8.1f} {r['builds']:>7} {float(r['dispatch_p50_ms']):>15.2f} {float(r['dispatch_p99_ms']):>15.2f} {float(r['done_p50_ms']):>11.2f} {float(r['done_p99_ms']):>11.2f}")
print(f"redis-benchmark on the same server (XADD, 4 clients): {sys.argv[2].strip()}")
PY
