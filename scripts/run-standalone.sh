#!/usr/bin/env bash
# Starts proxhub standalone: the API, the artifact cache and the builds in one process.
#
#   ./scripts/run-standalone.sh [proxhub flags...]
#
# 1. scripts/setup-debian.sh (skip with PROX_SKIP_SETUP=1);
# 2. swift build -c release --product proxhub (PROX_BUILD=debug for a debug build);
# 3. online (PB_GOPROXY or GOPROXY set, or proxy.golang.org reachable): proxhub on its
#    embedded defaults; offline: the synthetic fixture modules from
#    scripts/make-fixture-proxy.py are generated into ./data/fixture and used as the
#    module proxy and package catalog;
# 4. exec proxhub --go <go> "$@" (flags pass through; PB_* environment variables win).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

if ! command -v swift >/dev/null 2>&1 && [ -d /opt/swift/usr/bin ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

if [ "${PROX_SKIP_SETUP:-0}" != 1 ]; then
    bash "$ROOT/scripts/setup-debian.sh"
fi

# The go command: Go 1.23 from bookworm-backports first, else go on PATH.
if [ -x /usr/lib/go-1.23/bin/go ]; then
    GO_BIN=/usr/lib/go-1.23/bin/go
elif command -v go >/dev/null 2>&1; then
    GO_BIN=$(command -v go)
else
    echo "run-standalone: no go command found: run scripts/setup-debian.sh (or install Go >= 1.21)" >&2
    exit 1
fi

CONFIG=release
if [ "${PROX_BUILD:-release}" = debug ]; then CONFIG=debug; fi
echo "==> swift build -c $CONFIG --product proxhub"
swift build -c "$CONFIG" --product proxhub
BIN="$(swift build -c "$CONFIG" --show-bin-path)/proxhub"

# The port proxhub will listen on: PB_WEBSERVER_PORT wins over --webserver-port.
PORT=8080
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[i]}" in
        --webserver-port=*) PORT=${args[i]#--webserver-port=} ;;
        --webserver-port) if ((i + 1 < ${#args[@]})); then PORT=${args[i + 1]}; fi ;;
    esac
done
if [ -n "${PB_WEBSERVER_PORT:-}" ]; then PORT=$PB_WEBSERVER_PORT; fi
URL="http://localhost:$PORT"

OFFLINE=0
if [ -z "${PB_GOPROXY:-}" ] && [ -z "${GOPROXY:-}" ]; then
    echo "==> checking whether https://proxy.golang.org is reachable"
    if ! curl -sfI --max-time 5 https://proxy.golang.org >/dev/null 2>&1; then
        OFFLINE=1
    fi
fi

if [ "$OFFLINE" = 1 ]; then
    echo "==> offline mode: generating the synthetic fixture module proxy in ./data/fixture"
    python3 "$ROOT/scripts/make-fixture-proxy.py" "$ROOT/data/fixture" >/dev/null
    export PB_GOPROXY="file://$ROOT/data/fixture/proxy"
    export PB_PACKAGE_ENDPOINT="file://$ROOT/data/fixture/packages.json"
    export GOSUMDB=off
    PLUGIN=github.com/proxfixture/hello
    PINNED=github.com/proxfixture/hello@v0.1.0
    cat <<EOF

  NOTE: https://proxy.golang.org is not reachable and neither PB_GOPROXY nor GOPROXY is
  set, so proxhub builds from the SYNTHETIC FIXTURE MODULES in ./data/fixture: a tiny
  stand-in for Caddy (v2.7.6, v2.8.0, v2.8.4, v2.9.0-beta.1) and a few test plugins
  (see ./data/fixture/packages.json). The binaries it builds are not real Caddy; they
  answer "version" and "list-modules". Set PB_GOPROXY (and PB_PACKAGE_ENDPOINT) to
  build real Caddy from your own module proxy.
    PB_GOPROXY=$PB_GOPROXY
    PB_PACKAGE_ENDPOINT=$PB_PACKAGE_ENDPOINT
    GOSUMDB=off
EOF
else
    PLUGIN=github.com/caddy-dns/cloudflare
    PINNED=github.com/caddy-dns/cloudflare@v0.2.1
    if [ -n "${PB_GOPROXY:-}${GOPROXY:-}" ]; then
        echo "==> module proxy from your environment: ${PB_GOPROXY:-$GOPROXY}"
    else
        echo "==> online mode: proxhub on its embedded defaults (https://proxy.golang.org,direct; catalog from caddyserver.com)"
    fi
fi

cat <<EOF

  proxhub: $BIN
  go:      $GO_BIN
  URL:     $URL   (data in ./data unless --binary-path/PB_BINARY_PATH says otherwise)

  Web UI: $URL/

  Try:
    curl -s $URL/healthz
    curl -s $URL/api/caddy_versions
    curl -s $URL/api/packages | head -c 600; echo
    curl -fOJ '$URL/api/download?os=linux&arch=amd64&p=$PLUGIN'
    curl -fOJ '$URL/api/download?os=linux&arch=arm&arm=6&p=$PINNED'
    curl -sI '$URL/api/download?os=linux&arch=amd64&p=$PLUGIN'
    curl -s -X POST $URL/api/builds -H 'Content-Type: application/json' \\
         -d '{"os":"linux","arch":"arm64","packages":["$PLUGIN"]}'
    curl -N $URL/api/builds/<id>/logs
  Stop with Ctrl-C (SIGINT) or SIGTERM: running builds are cancelled.

EOF

exec "$BIN" --go "$GO_BIN" "$@"
