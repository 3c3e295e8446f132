#!/usr/bin/env bash
# Benchmarks 1 and 2: proxhub (release build) serving a cached ~50 MB artifact against
# nginx (sendfile on) serving the very same file from the same disk, in the same run.
#
#   bench/download.sh [--smoke]
#
# 1. GET of the artifact at 1, 8 and 64 concurrent clients (wrk): throughput, p50/p99
#    latency, server CPU seconds per GB, proxhub's peak RSS.
# 2. HEAD /api/download for the cached key against nginx HEAD of the file, 64
#    connections, keep-alive (ab -k -i: wrk cannot do HEAD): requests per second.
#
# The artifact is built honestly through proxhub: a bench-only fixture plugin
# (bench/make-bench-proxy.py) embeds 48 MiB, so the build is a ~50 MB Caddy binary. Then
# proxhub is restarted on the same data directory, so its peak RSS covers serving only.
# Settings: PROX_BENCH_SECONDS (default 10 per run), PROX_BENCH_BLOB_MIB (default 48).
# --smoke: a 4 MiB blob and 2-second runs, to check that the script works.

source "$(dirname "$0")/lib.sh"
need wrk "apt-get install -y wrk"
need nginx "apt-get install -y nginx-light (or nginx)"

SECS=${PROX_BENCH_SECONDS:-10}
BLOB=${PROX_BENCH_BLOB_MIB:-48}
if [ "$SMOKE" = 1 ]; then SECS=2; BLOB=4; fi
TICK=$(getconf CLK_TCK)
BIN="$(bin_dir)"

log "fixture module proxy with a ${BLOB} MiB blob plugin"
make_proxy "$TMP/fixture" "$BLOB"

DATA="$TMP/hub"
PORT=$(free_port)
QUERY='/api/download?os=linux&arch=amd64&version=v2.8.4&p=github.com/proxbench/bigblob@v1.0.0'
log "building the artifact through proxhub (cold build)"
start_proxhub "$DATA" "$PORT" "$TMP/fixture"
curl -fsS -o "$TMP/first.bin" "http://127.0.0.1:$PORT$QUERY"
stop_pid "$PROXHUB_PID"
FILE=$(find "$DATA/cache/artifacts" -type f -size +1M | head -1)
[ -n "$FILE" ] || die "no artifact in the cache"
SIZE=$(stat -c %s "$FILE")
DIGEST=$(basename "$FILE")
[ "$(sha256sum "$TMP/first.bin" | cut -d' ' -f1)" = "$DIGEST" ] || die "downloaded file differs from the cached one"
log "artifact: $SIZE bytes, sha256 $DIGEST"

log "restarting proxhub on the same cache (serving only)"
start_proxhub "$DATA" "$PORT" "$TMP/fixture"
HUB_PID=$PROXHUB_PID
curl -fsS -o /dev/null -D "$TMP/hit.headers" "http://127.0.0.1:$PORT$QUERY"
grep -qi '^x-prox-cache: hit' "$TMP/hit.headers" || die "the restarted proxhub did not serve a cache hit"

NGINX_PORT=$(free_port)
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<EOF
user root root;  # the temporary directory is private (0700)
worker_processes $(nproc);
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
daemon off;
events { worker_connections 1024; }
http {
    sendfile on;
    tcp_nopush on;
    access_log $TMP/nginx/access.log;
    client_body_temp_path $TMP/nginx;
    proxy_temp_path $TMP/nginx;
    fastcgi_temp_path $TMP/nginx;
    uwsgi_temp_path $TMP/nginx;
    scgi_temp_path $TMP/nginx;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location = /artifact { alias $FILE; default_type application/octet-stream; }
    }
}
EOF
nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_http "http://127.0.0.1:$NGINX_PORT/artifact" 30
nginx_pids() { echo "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"; }

# run NAME URL CONNECTIONS [METHOD]: one wrk run; appends "NAME c requests bytes
# duration_us errors p50_us p99_us cpu_ticks" to $TMP/results.
run() {
    local name=$1 url=$2 conns=$3 method=${4:-GET} pids threads=2
    if [ "$name" = nginx ]; then pids=$(nginx_pids); else pids=$HUB_PID; fi
    [ "$conns" -lt 2 ] && threads=1
    # shellcheck disable=SC2086
    local before after out
    before=$(cpu_ticks $pids)
    out=$(WRK_METHOD=$method wrk -t"$threads" -c"$conns" -d"${SECS}s" --timeout 60s -s "$BENCH_DIR/wrk-report.lua" "$url")
    # shellcheck disable=SC2086
    after=$(cpu_ticks $pids)
    local line
    line=$(echo "$out" | grep '^RESULT') || die "wrk printed no result: $out"
    eval "${line#RESULT }"
    # shellcheck disable=SC2154
    [ "$errors" = 0 ] || die "$name $method c=$conns: $errors errors"
    echo "$name $method $conns $requests $bytes $duration_us $p50_us $p99_us $((after - before))" >>"$TMP/results"
    log "$name $method c=$conns: $requests requests, $bytes bytes, p50 ${p50_us}us p99 ${p99_us}us, cpu $((after - before)) ticks"
}

# head_run NAME URL: HEAD load, 64 keep-alive connections, with bench/headload.go (wrk
# waits for a body after HEAD; ab speaks HTTP/1.0, which Hummingbird answers without
# closing the connection). Appends a line like run's to $TMP/results.
head_run() {
    local name=$1 url=$2 pids before after out line
    if [ "$name" = nginx ]; then pids=$(nginx_pids); else pids=$HUB_PID; fi
    # shellcheck disable=SC2086
    before=$(cpu_ticks $pids)
    out=$("$TMP/headload" -c 64 -d "${SECS}s" "$url")
    # shellcheck disable=SC2086
    after=$(cpu_ticks $pids)
    line=$(echo "$out" | grep '^RESULT') || die "headload printed no result: $out"
    eval "${line#RESULT }"
    [ "$errors" = 0 ] || die "$name HEAD: $errors errors"
    echo "$name HEAD 64 $requests 0 $duration_us $p50_us $p99_us $((after - before))" >>"$TMP/results"
    log "$name HEAD c=64: $requests requests, p50 ${p50_us}us p99 ${p99_us}us, cpu $((after - before)) ticks"
}
(cd "$BENCH_DIR" && "$GO" build -o "$TMP/headload" headload.go) || die "cannot build bench/headload.go"

HUB_URL="http://127.0.0.1:$PORT$QUERY"
NGINX_URL="http://127.0.0.1:$NGINX_PORT/artifact"
: >"$TMP/results"
for c in 1 8 64; do
    run nginx "$NGINX_URL" "$c"
    run proxhub "$HUB_URL" "$c"
done
RSS=$(peak_rss_mb "$HUB_PID")
head_run nginx "$NGINX_URL"
head_run proxhub "$HUB_URL"

echo
machine_line
echo "artifact: $SIZE bytes; $SECS s per run; wrk on the same machine"
python3 - "$TMP/results" "$TICK" "$RSS" <<'EOF'
import sys
rows = {}
for line in open(sys.argv[1]):
    name, method, c, req, nbytes, dur, p50, p99, ticks = line.split()
    rows[(name, method, int(c))] = dict(req=int(req), bytes=int(nbytes), dur=int(dur) / 1e6,
                                        p50=int(p50) / 1e3, p99=int(p99) / 1e3, cpu=int(ticks) / int(sys.argv[2]))
rss = float(sys.argv[3])
print()
print("GET of the cached artifact (ratio = proxhub / nginx)")
print(f"{'c':>3} {'nginx MB/s':>11} {'prox MB/s':>10} {'thr ratio':>9} {'p50 ratio':>9} {'p99 ratio':>9} {'nginx CPU s/GB':>14} {'prox CPU s/GB':>13} {'CPU ratio':>9}  met (thr>=0.9, p99<=1.2, CPU<=1.5)")
for c in (1, 8, 64):
    n, p = rows[("nginx", "GET", c)], rows[("proxhub", "GET", c)]
    nt, pt = n["bytes"] / n["dur"] / 1e6, p["bytes"] / p["dur"] / 1e6
    ncpu, pcpu = n["cpu"] / (n["bytes"] / 1e9), p["cpu"] / (p["bytes"] / 1e9)
    thr, r50, r99, rcpu = pt / nt, p["p50"] / n["p50"], p["p99"] / n["p99"], pcpu / ncpu
    ok = lambda b: "yes" if b else "NO"
    print(f"{c:>3} {nt:>11.0f} {pt:>10.0f} {thr:>9.2f} {r50:>9.2f} {r99:>9.2f} {ncpu:>14.3f} {pcpu:>13.3f} {rcpu:>9.2f}  {ok(thr >= 0.9)} {ok(r99 <= 1.2)} {ok(rcpu <= 1.5)}")
print(f"proxhub peak RSS after the GET runs: {rss:.1f} MB (target <= 150 MB: {'yes' if rss <= 150 else 'NO'})")
n, p = rows[("nginx", "HEAD", 64)], rows[("proxhub", "HEAD", 64)]
nr, pr = n["req"] / n["dur"], p["req"] / p["dur"]
print(f"HEAD, 64 connections: nginx {nr:.0f} req/s, proxhub {pr:.0f} req/s, ratio {pr / nr:.2f} (target >= 0.5: {'yes' if pr / nr >= 0.5 else 'NO'})")
EOF
