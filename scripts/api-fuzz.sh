#!/usr/bin/env bash
# Runs schemathesis (PyPI) against a live proxhub with docs/openapi.yaml: generated requests
# to every documented operation, checking that none gets a 5xx and that every status,
# content type and body is the documented one (errors: the official JSON shape).
#   scripts/api-fuzz.sh            (PROX_API_FUZZ_EXAMPLES per operation, default 40)
# proxhub (debug, or $PROX_PROXHUB) runs on a free 127.0.0.1 port over the synthetic fixture
# module proxy, with tight build limits so that generated valid requests mostly meet them
# (429 is documented) instead of queueing builds for minutes. Reports: test-output/api-fuzz/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -d /opt/swift/usr/bin ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi

VENV=.venv
SCHEMATHESIS=schemathesis==4.32.5
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
if ! "$VENV/bin/python" -c 'import schemathesis' 2>/dev/null; then
    echo "==> pip install $SCHEMATHESIS"
    "$VENV/bin/pip" install -q "$SCHEMATHESIS"
fi

if [ -z "${PROX_PROXHUB:-}" ]; then
    swift build --product proxhub >/dev/null
    PROX_PROXHUB="$(swift build --show-bin-path)/proxhub"
fi
GO=${PROX_TEST_GO:-/usr/lib/go-1.23/bin/go}

work=$(mktemp -d)
hub_pid=""
cleanup() {
    if [ -n "$hub_pid" ]; then kill "$hub_pid" 2>/dev/null || true; wait "$hub_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

python3 scripts/make-fixture-proxy.py "$work/fixture" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
out=test-output/api-fuzz
mkdir -p "$out"
GOSUMDB=off "$PROX_PROXHUB" --webserver-host 127.0.0.1 --webserver-port "$port" --binary-path "$work/data" \
    --goproxy "file://$work/fixture/proxy" --package-endpoint "file://$work/fixture/packages.json" --go "$GO" \
    --client-build-rate 3/h --client-concurrent-builds 1 --max-queued-builds 2 --client-request-rate 0 --build-timeout 120s \
    >"$out/proxhub.log" 2>&1 &
hub_pid=$!
for _ in $(seq 1 150); do
    if curl -fs "http://127.0.0.1:$port/healthz" | grep -q '"catalog_loaded":true'; then break; fi
    sleep 0.2
done

echo "==> schemathesis against proxhub on 127.0.0.1:$port"
"$VENV/bin/st" run docs/openapi.yaml --url "http://127.0.0.1:$port" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "${PROX_API_FUZZ_EXAMPLES:-40}" --request-timeout 180 --workers 1 \
    --report junit --report-dir "$out"
