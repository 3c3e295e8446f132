#!/usr/bin/env bash
# The local cluster as docs/containers.md tells operators to run it, tested end to end:
# scripts/cluster.sh up (Redis, the S3 test server with authentication on, a hub on the
# bucket, two agents), one build through the hub (a miss, then a hit with the same bytes),
# the binary in the bucket (the hub's /metrics counts the S3 puts), both agents live,
# `status` (metrics: ok), `down`, and `status` failing after it. Everything on 127.0.0.1;
# the cluster is stopped on any exit.
#
# Usage: scripts/test-cluster.sh   (needs the debug binaries: swift build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DIR=$(mktemp -d "${TMPDIR:-/tmp}/prox-cluster-test.XXXXXX")
export PROX_BIN_DIR=${PROX_BIN_DIR:-$(swift build --show-bin-path 2>/dev/null || echo .build/debug)}
export PROX_CLUSTER_TIMEOUT=${PROX_CLUSTER_TIMEOUT:-120}
[ -n "${PROX_TEST_GO:-}" ] && export PROX_CLUSTER_GO="$PROX_TEST_GO"
cleanup() { bash scripts/cluster.sh down --dir "$DIR" >/dev/null 2>&1 || true; }
trap cleanup EXIT
fail() { echo "test-cluster: FAILED: $*" >&2; tail -n 20 "$DIR"/*.log >&2 || true; exit 1; }

bash scripts/cluster.sh up --dir "$DIR" || fail "cluster.sh up"
# shellcheck disable=SC1091
. "$DIR/cluster.env"
url="$PROX_HUB_URL/api/download?os=linux&arch=amd64&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0"
curl -fsS --max-time 600 -D "$DIR/first.headers" -o "$DIR/first.bin" "$url" || fail "the first download"
grep -qi '^x-prox-cache: miss' "$DIR/first.headers" || fail "the first download was not a build"
curl -fsS --max-time 60 -D "$DIR/second.headers" -o "$DIR/second.bin" "$url" || fail "the second download"
grep -qi '^x-prox-cache: hit' "$DIR/second.headers" || fail "the second download was not a hit"
cmp -s "$DIR/first.bin" "$DIR/second.bin" || fail "the hit's bytes differ from the build's"
metrics=$(curl -fsS --max-time 10 "$PROX_HUB_URL/metrics") || fail "the hub's /metrics"
puts=$(printf '%s\n' "$metrics" | awk '/^prox_s3_operations_total\{operation="put"\}/ { print $2 }')
[ "${puts%.*}" -ge 2 ] 2>/dev/null || fail "the hub stored nothing in the bucket (prox_s3_operations_total put: ${puts:-none})"
live=$(printf '%s\n' "$metrics" | awk '/^prox_agents\{state="live"\}/ { print $2 }')
[ "${live%.*}" = 2 ] || fail "expected 2 live agents, /metrics says ${live:-none}"
status_out=$(bash scripts/cluster.sh status --dir "$DIR") || fail "cluster.sh status: $status_out"
grep -q 'metrics: ok' <<<"$status_out" || fail "status did not say metrics: ok"
bash scripts/cluster.sh down --dir "$DIR" || fail "cluster.sh down"
if bash scripts/cluster.sh status --dir "$DIR" >/dev/null 2>&1; then fail "status succeeded after down"; fi
echo "test-cluster: ok (a build through a hub on the bucket, two agents, status, down)"
rm -rf "$DIR"
