#!/usr/bin/env bash
# A local Prox cluster as processes on this host: Redis, an S3 test server (moto), one hub
# and two agents, all on 127.0.0.1 on free ports. The topology of compose.yaml, without
# containers (see docs/containers.md).
#
#   scripts/cluster.sh up|down|status [--dir DIR]
#
# up      starts redis-server (--appendonly yes, its files in DIR/redis), the project's S3
#         test server (scripts/s3-test-server.py: moto with authentication on, a bucket
#         `prox` and an IAM user whose access key the hub uses), proxhub --hub
#         (--storage s3://prox/artifacts, the fixture module proxy of
#         scripts/make-fixture-proxy.py as in run-standalone.sh's offline mode) and
#         proxagent agent1 and agent2, each with its metrics on a free port of 127.0.0.1;
#         waits until the hub answers /healthz with its catalog loaded, both agents are
#         live in /api/agents and their /metrics answer; writes DIR/cluster.env. On a
#         failure it prints the failing process's log tail and stops what it started.
# status  each process alive or not, its address, the hub's URL, and whether the hub's and
#         the agents' /metrics answer ("metrics: ok"); exit status 0 only when all are
#         alive and their metrics answer.
# down    SIGTERM to every process by its pid file (agents, then the hub, then the rest),
#         SIGKILL to those still alive after PROX_CLUSTER_STOP_TIMEOUT (30 s). Safe to run
#         twice. Logs and data stay in DIR.
#
# DIR (default ./data/cluster in the repository) holds NAME.pid and NAME.log for each
# process (redis, s3, hub, agent1, agent2), their data (redis/, hub/, agent1/, agent2/),
# the fixture proxy (fixture/) and cluster.env (mode 0600: it holds the push token and the
# S3 key), which is shell syntax: `. DIR/cluster.env; curl "$PROX_HUB_URL/healthz"`.
#
# Settings (environment):
#   PROX_CLUSTER_STORAGE   s3 (default) or none: none leaves out the S3 server and the
#                          hub's --storage flags (the hub keeps artifacts on its disk).
#   PROX_CLUSTER_S3_AUTH   sigv4 (default): moto checks every request's signature against
#                          the IAM user's key; off: s3-test-server.py --no-auth, moto
#                          checks nothing (needed for --download-redirect presigned: moto
#                          cannot check presigned URLs).
#   PROX_BIN_DIR           where proxhub and proxagent are (default .build/debug; built
#                          with `swift build`; this script never builds).
#   PROX_CLUSTER_GO        the go command of hub and agents (default
#                          /usr/lib/go-1.23/bin/go, else go on PATH).
#   PROX_CLUSTER_AGENT_SLOTS  --simultaneous-jobs of each agent (default 1).
#   PROX_CLUSTER_HUB_FLAGS, PROX_CLUSTER_AGENT_FLAGS  more flags, split on spaces.
#   PROX_CLUSTER_TIMEOUT   seconds `up` waits for each step (default 60).
#   PROX_CLUSTER_STOP_TIMEOUT  seconds `down` waits before SIGKILL (default 30).
# PB_* variables in this environment are not passed on (they would win over the flags).
#
# Needs redis-server (apt-get install redis-server), python3, curl, a go command, and for
# the S3 store moto (moto[server]==5.2.1, which scripts/setup-debian.sh installs in
# ./.venv; .venv/bin/python3 runs s3-test-server.py when it exists, else python3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AGENTS=(agent1 agent2)
BUCKET=prox
PREFIX=artifacts
REGION=us-east-1

say() { printf '==> %s\n' "$*"; }
warn() { printf 'cluster: %s\n' "$*" >&2; }
die() {
    warn "$*"
    exit 1
}

usage() {
    cat >&2 <<'EOF'
usage: scripts/cluster.sh up|down|status [--dir DIR]
  PROX_CLUSTER_STORAGE=none leaves out the S3 server and the hub's --storage flags.
EOF
    exit 64
}

# --- processes ----------------------------------------------------------------

pid_file() { printf '%s/%s.pid\n' "$DIR" "$1"; }
log_file() { printf '%s/%s.log\n' "$DIR" "$1"; }

# What each process's command line contains (to tell it from a reused pid).
program_of() {
    case "$1" in
        redis) echo redis-server ;;
        s3) echo s3-test-server.py ;;
        hub) echo proxhub ;;
        *) echo proxagent ;;
    esac
}

# The pid recorded for NAME, or nothing.
recorded_pid() {
    local file
    file=$(pid_file "$1")
    [ -f "$file" ] || return 0
    tr -dc '0-9' <"$file"
}

# True when the pid recorded for NAME is a running process of that program (a zombie has
# an empty command line and counts as gone).
alive() {
    local pid cmdline
    pid=$(recorded_pid "$1")
    [ -n "$pid" ] || return 1
    [ -r "/proc/$pid/cmdline" ] || return 1
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ $cmdline == *"$(program_of "$1")"* ]]
}

# start NAME COMMAND...: runs COMMAND in the background, its output to NAME.log (appended,
# after a line with the command), its pid to NAME.pid. Secrets go to COMMAND through the
# environment (exported by the caller), never on its command line, which every user can
# read. With START_STDOUT=FILE, standard output goes to FILE (created anew, mode 0600)
# instead, standard error still to the log.
start() {
    local name=$1
    shift
    local log out
    log=$(log_file "$name")
    out=${START_STDOUT:-$log}
    printf '\n=== %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$log"
    if [ "$out" != "$log" ]; then
        rm -f "$out"
        (umask 077 && : >"$out")
    fi
    "$@" >>"$out" 2>>"$log" </dev/null &
    echo "$!" >"$(pid_file "$name")"
}

# fail NAME MESSAGE: the end of NAME's log, then stop everything and exit 1.
fail() {
    local name=$1 log
    shift
    log=$(log_file "$name")
    warn "$*"
    if [ -s "$log" ]; then
        # The lines of this start only: from the last "=== " line on.
        warn "last lines of $log:"
        awk '/^=== / { n = 0 } { lines[n++] = $0 } END { for (i = (n > 40 ? n - 40 : 0); i < n; i++) print "    " lines[i] }' "$log" >&2
    fi
    trap - EXIT INT TERM
    stop_all >&2 || true
    exit 1
}

# wait_for NAME WHAT COMMAND...: until COMMAND succeeds, while NAME is alive, within
# PROX_CLUSTER_TIMEOUT seconds.
wait_for() {
    local name=$1 what=$2
    shift 2
    local deadline=$((SECONDS + TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        alive "$name" || fail "$name" "$name exited while waiting for $what"
        [ "$SECONDS" -lt "$deadline" ] || fail "$name" "$name: no $what within ${TIMEOUT}s"
        sleep 0.2
    done
}

# stop NAMES...: SIGTERM to each that is alive, wait for them, SIGKILL the rest.
stop() {
    local name pid waiting=()
    for name in "$@"; do
        if alive "$name"; then
            pid=$(recorded_pid "$name")
            say "stopping $name (pid $pid)"
            kill -TERM "$pid" 2>/dev/null || true
            waiting+=("$name")
        fi
    done
    local deadline=$((SECONDS + STOP_TIMEOUT))
    local left=("${waiting[@]}")
    while [ "${#left[@]}" -gt 0 ] && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.2
        local still=()
        for name in "${left[@]}"; do
            alive "$name" && still+=("$name")
        done
        left=("${still[@]}")
    done
    for name in "${left[@]}"; do
        pid=$(recorded_pid "$name")
        warn "$name (pid $pid) still runs after ${STOP_TIMEOUT}s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    done
    for name in "$@"; do
        rm -f "$(pid_file "$name")"
    done
}

# The INT and TERM trap while `up` runs.
up_interrupted() {
    trap - EXIT INT TERM
    warn "interrupted: stopping what was started"
    stop_all >&2 || true
    exit 130
}

# The EXIT trap while `up` runs: a failure stops what it started.
up_exited() {
    local status=$?
    if [ "$status" -ne 0 ]; then stop_all >&2 || true; fi
}

stop_all() {
    stop "${AGENTS[@]}"
    stop hub
    stop s3 redis
    rm -f "$DIR/cluster.env" "$DIR/s3.started"
}

# --- helpers ------------------------------------------------------------------

# free_ports N: N distinct free TCP ports on 127.0.0.1, one a line.
free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
sockets = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    sockets.append(s)
for s in sockets:
    print(s.getsockname()[1])
    s.close()
EOF
}

redis_ping() {
    python3 - "$1" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)
s.sendall(b"PING\r\n")
sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
EOF
}

# True when the hub answers /healthz with its catalog loaded. (The body is read whole
# first: `curl | grep -q` fails under pipefail when grep stops reading early.)
hub_ready() {
    local body
    body=$(curl -fsS --max-time 2 "http://127.0.0.1:$1/healthz") || return 1
    grep -q '"catalog_loaded":true' <<<"$body"
}

# agent_live PORT NAME: NAME is listed live in the hub's /api/agents.
agent_live() {
    curl -fsS --max-time 2 "http://127.0.0.1:$1/api/agents" | python3 -c '
import json, sys
agents = json.load(sys.stdin).get("result", [])
sys.exit(0 if any(a.get("name") == sys.argv[1] and a.get("live") for a in agents) else 1)
' "$2"
}

# True when URL answers with Prometheus's text format (a "# TYPE" line).
metrics_ok() {
    local body
    body=$(curl -fsS --max-time 3 "$1") || return 1
    grep -q '^# TYPE ' <<<"$body"
}

# The python that runs scripts/s3-test-server.py: the project's .venv (where
# scripts/setup-debian.sh installs moto[server]) when it exists, else python3 on PATH.
find_s3_python() {
    if [ -x "$ROOT/.venv/bin/python3" ]; then
        S3_PYTHON=$ROOT/.venv/bin/python3
    else
        S3_PYTHON=$(command -v python3)
    fi
    "$S3_PYTHON" -c 'import boto3, moto.server' >/dev/null 2>&1 ||
        die "$S3_PYTHON cannot import moto.server and boto3: run scripts/setup-debian.sh (moto[server]==5.2.1 in $ROOT/.venv), or PROX_CLUSTER_STORAGE=none"
}

# s3_started FILE: FILE holds the JSON line s3-test-server.py prints once its bucket exists.
s3_started() {
    [ -s "$1" ] && python3 -c 'import json, sys; json.loads(open(sys.argv[1]).readline())["endpoint"]' "$1"
}

# s3_fields FILE: the endpoint, region, bucket, access key id and secret of that JSON line,
# one a line.
s3_fields() {
    python3 - "$1" <<'EOF'
import json, sys
started = json.loads(open(sys.argv[1]).readline())
for field in ("endpoint", "region", "bucket", "access_key_id", "secret_access_key"):
    value = str(started[field])
    if not value or "\n" in value:
        sys.exit(f"s3-test-server.py printed an unusable {field}")
    print(value)
EOF
}

# q VALUE: VALUE quoted for the shell (cluster.env).
q() { printf '%q' "$1"; }

# --- commands -----------------------------------------------------------------

cmd_up() {
    local storage=${PROX_CLUSTER_STORAGE:-s3}
    case "$storage" in
        s3 | none) ;;
        *) die "PROX_CLUSTER_STORAGE=$storage: give s3 or none" ;;
    esac
    local s3_auth=${PROX_CLUSTER_S3_AUTH:-sigv4}
    case "$s3_auth" in
        sigv4 | off) ;;
        *) die "PROX_CLUSTER_S3_AUTH=$s3_auth: give sigv4 or off" ;;
    esac

    # A cluster already in DIR: all of it up is fine, a part of it is not.
    local name names=(redis hub "${AGENTS[@]}") running=() stopped=()
    [ "$storage" = s3 ] && names+=(s3)
    for name in "${names[@]}"; do
        if alive "$name"; then running+=("$name"); else stopped+=("$name"); fi
    done
    if [ "${#stopped[@]}" -eq 0 ] && [ -f "$DIR/cluster.env" ]; then
        say "the cluster in $DIR is already up"
        cmd_status
        return 0
    fi
    if [ "${#running[@]}" -gt 0 ]; then
        die "a part of a cluster runs in $DIR (${running[*]}; not ${stopped[*]}): run scripts/cluster.sh down --dir $DIR first"
    fi

    # What it needs, before anything starts.
    local bin=${PROX_BIN_DIR:-$ROOT/.build/debug}
    local hub_bin=$bin/proxhub agent_bin=$bin/proxagent
    if [ ! -x "$hub_bin" ] || [ ! -x "$agent_bin" ]; then
        die "$hub_bin or $agent_bin is missing: run swift build first (or set PROX_BIN_DIR)"
    fi
    command -v redis-server >/dev/null 2>&1 || die "redis-server is missing: apt-get install redis-server"
    command -v python3 >/dev/null 2>&1 || die "python3 is missing: apt-get install python3"
    command -v curl >/dev/null 2>&1 || die "curl is missing: apt-get install curl"
    local go=${PROX_CLUSTER_GO:-}
    if [ -z "$go" ]; then
        if [ -x /usr/lib/go-1.23/bin/go ]; then
            go=/usr/lib/go-1.23/bin/go
        elif command -v go >/dev/null 2>&1; then
            go=$(command -v go)
        else
            die "no go command: apt-get install golang-1.23-go (bookworm-backports; scripts/setup-debian.sh), or set PROX_CLUSTER_GO"
        fi
    fi
    "$go" env GOVERSION >/dev/null 2>&1 || die "$go is not a usable go command (PROX_CLUSTER_GO)"
    local hub_help agent_help
    hub_help=$("$hub_bin" --help 2>&1) || die "$hub_bin --help failed: $hub_help"
    agent_help=$("$agent_bin" --help 2>&1) || die "$agent_bin --help failed: $agent_help"
    if [ "$storage" = s3 ]; then
        grep -q -- '--storage ' <<<"$hub_help" ||
            die "$hub_bin has no --storage flag (an older build): rebuild it, or run with PROX_CLUSTER_STORAGE=none"
        [ -f "$ROOT/scripts/s3-test-server.py" ] || die "$ROOT/scripts/s3-test-server.py is missing"
        find_s3_python
    fi
    if ! grep -q -- '--metrics-port ' <<<"$agent_help" || ! grep -q -- '--metrics-host ' <<<"$agent_help"; then
        die "$agent_bin has no --metrics-port or --metrics-host (an older build): rebuild it (swift build)"
    fi
    local slots=${PROX_CLUSTER_AGENT_SLOTS:-1}
    local hub_extra agent_extra
    read -r -a hub_extra <<<"${PROX_CLUSTER_HUB_FLAGS:-}"
    read -r -a agent_extra <<<"${PROX_CLUSTER_AGENT_FLAGS:-}"

    mkdir -p "$DIR"
    chmod 0700 "$DIR"
    # Whatever stops `up` half-way stops what it started.
    trap up_interrupted INT TERM
    trap up_exited EXIT

    # Redis, the hub, and each agent's metrics (the S3 server picks its own port).
    local ports
    mapfile -t ports < <(free_ports $((2 + ${#AGENTS[@]})))
    local redis_port=${ports[0]} hub_port=${ports[1]} next=2
    local hub_url="http://127.0.0.1:$hub_port"
    local token
    token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')

    # The fixture module proxy and package catalog (synthetic Caddy and plugins).
    say "fixture module proxy in $DIR/fixture"
    python3 "$ROOT/scripts/make-fixture-proxy.py" "$DIR/fixture" >/dev/null
    local goproxy="file://$DIR/fixture/proxy" packages="file://$DIR/fixture/packages.json"
    export GOSUMDB=off

    say "redis-server on 127.0.0.1:$redis_port (appendonly, in $DIR/redis)"
    mkdir -p "$DIR/redis"
    start redis redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$DIR/redis" \
        --appendonly yes --appendfsync everysec --save '' --protected-mode yes --daemonize no
    wait_for redis "answer to PING" redis_ping "$redis_port"

    local storage_flags=() s3_endpoint="" s3_region="" s3_bucket="" s3_key="" s3_secret=""
    if [ "$storage" = s3 ]; then
        say "S3 test server (scripts/s3-test-server.py, moto; authentication: $s3_auth)"
        # Its one line of JSON (endpoint, bucket and the IAM user's key) goes to a file of
        # mode 0600 that is removed once read, not to the log. No AWS_* or moto setting of
        # this environment reaches it; the script sets INITIAL_NO_AUTH_ACTION_COUNT itself.
        local s3_out="$DIR/s3.started" s3_flags=(--port 0 --bucket "$BUCKET" --region "$REGION")
        [ "$s3_auth" = off ] && s3_flags+=(--no-auth)
        START_STDOUT=$s3_out start s3 env -u INITIAL_NO_AUTH_ACTION_COUNT -u AWS_PROFILE -u AWS_SESSION_TOKEN \
            -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_CONFIG_FILE -u AWS_SHARED_CREDENTIALS_FILE \
            "$S3_PYTHON" -u "$ROOT/scripts/s3-test-server.py" "${s3_flags[@]}"
        wait_for s3 "its bucket and key (the JSON line of s3-test-server.py)" s3_started "$s3_out"
        local fields
        mapfile -t fields < <(s3_fields "$s3_out")
        rm -f "$s3_out"
        [ "${#fields[@]}" -eq 5 ] || fail s3 "cannot read what scripts/s3-test-server.py printed"
        s3_endpoint=${fields[0]} s3_region=${fields[1]} s3_bucket=${fields[2]} s3_key=${fields[3]} s3_secret=${fields[4]}
        say "S3 on $s3_endpoint: bucket $s3_bucket, access key $s3_key"
        storage_flags=(--storage "s3://$s3_bucket/$PREFIX" --s3-endpoint "$s3_endpoint" --s3-region "$s3_region")
        # moto keeps the bucket in memory: a new one starts empty, and so does the hub's
        # data directory (its local cache of the bucket), but for its signing key.
        if [ -d "$DIR/hub" ]; then
            find "$DIR/hub" -mindepth 1 -maxdepth 1 ! -name signing-key.pem -exec rm -rf {} +
        fi
    fi

    say "proxhub --hub on $hub_url"
    mkdir -p "$DIR/hub"
    # The secrets, for the hub and the agents only: in their environment (start).
    export PB_PUSH_TOKEN=$token
    unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
    if [ "$storage" = s3 ]; then
        export AWS_ACCESS_KEY_ID=$s3_key AWS_SECRET_ACCESS_KEY=$s3_secret
    fi
    start hub "$hub_bin" --hub --webserver-host 127.0.0.1 --webserver-port "$hub_port" \
        --binary-path "$DIR/hub" --redis-host 127.0.0.1 --redis-port "$redis_port" \
        --goproxy "$goproxy" --package-endpoint "$packages" --go "$go" "${storage_flags[@]}" "${hub_extra[@]}"
    wait_for hub "/healthz with the catalog loaded" hub_ready "$hub_port"
    unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

    local agent metrics_lines=() metrics_urls=()
    for agent in "${AGENTS[@]}"; do
        local metrics_port=${ports[next]}
        next=$((next + 1))
        metrics_urls+=("http://127.0.0.1:$metrics_port/metrics")
        metrics_lines+=("PROX_${agent^^}_METRICS_PORT=$metrics_port" "PROX_${agent^^}_METRICS_URL=http://127.0.0.1:$metrics_port/metrics")
        say "proxagent $agent (metrics on 127.0.0.1:$metrics_port)"
        mkdir -p "$DIR/$agent"
        start "$agent" "$agent_bin" --hub-url "$hub_url" \
            --redis-host 127.0.0.1 --redis-port "$redis_port" --go "$go" --goproxy "$goproxy" \
            --work-dir "$DIR/$agent" --agent-name "$agent" --simultaneous-jobs "$slots" \
            --shutdown-timeout 10s --metrics-host 127.0.0.1 --metrics-port "$metrics_port" "${agent_extra[@]}"
    done
    local i
    for i in "${!AGENTS[@]}"; do
        agent=${AGENTS[i]}
        wait_for "$agent" "live entry in $hub_url/api/agents" agent_live "$hub_port" "$agent"
        wait_for "$agent" "metrics at ${metrics_urls[i]}" metrics_ok "${metrics_urls[i]}"
    done

    local env_file="$DIR/cluster.env"
    (
        umask 077
        {
            echo "# Written by scripts/cluster.sh up: source it (. $(q "$env_file"))."
            echo "PROX_CLUSTER_DIR=$(q "$DIR")"
            echo "PROX_STORAGE_MODE=$storage"
            echo "PROX_HUB_URL=$(q "$hub_url")"
            echo "PROX_HUB_PORT=$hub_port"
            echo "PROX_HUB_METRICS_URL=$(q "$hub_url/metrics")"
            echo "PROX_REDIS_HOST=127.0.0.1"
            echo "PROX_REDIS_PORT=$redis_port"
            echo "PROX_PUSH_TOKEN=$(q "$token")"
            echo "PROX_AGENTS=$(q "${AGENTS[*]}")"
            echo "PROX_GOPROXY=$(q "$goproxy")"
            echo "PROX_PACKAGE_ENDPOINT=$(q "$packages")"
            echo "PROX_GO=$(q "$go")"
            if [ "$storage" = s3 ]; then
                echo "PROX_S3_PORT=${s3_endpoint##*:}"
                echo "PROX_S3_ENDPOINT=$(q "$s3_endpoint")"
                echo "PROX_S3_REGION=$(q "$s3_region")"
                echo "PROX_S3_BUCKET=$(q "$s3_bucket")"
                echo "PROX_S3_AUTH=$s3_auth"
                echo "PROX_STORAGE=$(q "s3://$s3_bucket/$PREFIX")"
                echo "PROX_S3_ACCESS_KEY_ID=$(q "$s3_key")"
                echo "PROX_S3_SECRET_ACCESS_KEY=$(q "$s3_secret")"
            fi
            local line
            for line in "${metrics_lines[@]}"; do echo "$line"; done
        } >"$env_file.tmp"
        mv "$env_file.tmp" "$env_file"
    )
    trap - INT TERM EXIT
    say "cluster up; settings in $env_file"
    cmd_status
}

cmd_status() {
    local env_file="$DIR/cluster.env"
    local PROX_HUB_URL="" PROX_REDIS_PORT="" PROX_S3_ENDPOINT="" PROX_STORAGE_MODE="" PROX_HUB_METRICS_URL=""
    local PROX_AGENT1_METRICS_URL="" PROX_AGENT2_METRICS_URL=""
    # shellcheck disable=SC1090
    [ -f "$env_file" ] && . "$env_file"
    local names=(redis) name any=0 all=1
    if [ "$PROX_STORAGE_MODE" = s3 ] || [ -f "$(pid_file s3)" ]; then names+=(s3); fi
    names+=(hub "${AGENTS[@]}")
    echo "cluster in $DIR"
    for name in "${names[@]}"; do
        local pid state where=""
        pid=$(recorded_pid "$name")
        if alive "$name"; then
            state="alive (pid $pid)"
            any=1
        elif [ -n "$pid" ]; then
            state="dead (pid $pid is gone)"
            all=0
        else
            state="not running"
            all=0
        fi
        case "$name" in
            redis) [ -n "$PROX_REDIS_PORT" ] && where="127.0.0.1:$PROX_REDIS_PORT" ;;
            s3) where=$PROX_S3_ENDPOINT ;;
            hub) where=$PROX_HUB_URL ;;
            agent1) where=$PROX_AGENT1_METRICS_URL ;;
            agent2) where=$PROX_AGENT2_METRICS_URL ;;
        esac
        printf '  %-7s %-26s %-38s %s\n' "$name" "$state" "$where" "$(log_file "$name")"
    done
    if [ -n "$PROX_HUB_URL" ] && alive hub; then
        echo "hub: $PROX_HUB_URL"
        # The hub's /metrics, and each live agent's.
        local failed=() url
        metrics_ok "${PROX_HUB_METRICS_URL:-$PROX_HUB_URL/metrics}" || failed+=("hub (${PROX_HUB_METRICS_URL:-$PROX_HUB_URL/metrics})")
        for name in "${AGENTS[@]}"; do
            url=PROX_${name^^}_METRICS_URL
            url=${!url}
            if [ -n "$url" ] && alive "$name"; then
                metrics_ok "$url" || failed+=("$name ($url)")
            fi
        done
        if [ "${#failed[@]}" -eq 0 ]; then
            echo "metrics: ok"
        else
            echo "metrics: no answer from ${failed[*]}"
            all=0
        fi
    elif [ "$any" = 0 ]; then
        echo "hub: not running (scripts/cluster.sh up)"
    else
        echo "hub: not answering"
    fi
    [ "$all" = 1 ]
}

cmd_down() {
    if [ ! -d "$DIR" ]; then
        say "nothing to stop: no cluster in $DIR"
        return 0
    fi
    local name any=0
    for name in redis s3 hub "${AGENTS[@]}"; do
        [ -f "$(pid_file "$name")" ] && any=1
    done
    if [ "$any" = 0 ]; then
        rm -f "$DIR/cluster.env"
        say "nothing to stop in $DIR"
        return 0
    fi
    stop_all
    say "cluster in $DIR stopped (logs and data kept there)"
}

main() {
    local command="" dir=""
    while [ "$#" -gt 0 ]; do
        case "$1" in
            up | down | status)
                [ -z "$command" ] || usage
                command=$1
                ;;
            --dir)
                [ "$#" -ge 2 ] || usage
                dir=$2
                shift
                ;;
            --dir=*) dir=${1#--dir=} ;;
            -h | --help) usage ;;
            *) usage ;;
        esac
        shift
    done
    [ -n "$command" ] || usage
    [ -n "$dir" ] || dir=$ROOT/data/cluster
    DIR=$(realpath -m -- "$dir")
    TIMEOUT=${PROX_CLUSTER_TIMEOUT:-60}
    STOP_TIMEOUT=${PROX_CLUSTER_STOP_TIMEOUT:-30}
    # PB_* variables would win over the flags given here.
    local variable
    while read -r variable; do
        unset "$variable"
    done < <(compgen -e | grep '^PB_' || true)
    "cmd_$command"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    main "$@"
fi
