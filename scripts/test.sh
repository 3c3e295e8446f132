#!/usr/bin/env bash
# Runs every test: installs what a fresh Debian 12 lacks (scripts/setup-debian.sh; skip
# with PROX_SKIP_SETUP=1), builds the package with its tests, runs `swift test`, then the
# web UI's browser tests (scripts/test-browser.sh: headless Chromium and Selenium), the local
# cluster (scripts/test-cluster.sh), then
# schemathesis against a live proxhub (scripts/api-fuzz.sh) and the libFuzzer targets for
# PROX_FUZZ_SECONDS each (scripts/fuzz.sh; default 15).
# Arguments pass through to `swift test` (e.g. --filter CacheStoreTests); with arguments
# only `swift test` runs (run the other scripts alone for those parts).
# Exits non-zero if any part failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v swift >/dev/null 2>&1 && [ -d /opt/swift/usr/bin ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

if [ "${PROX_SKIP_SETUP:-0}" != 1 ]; then
    bash scripts/setup-debian.sh
fi

# The tests build real (fixture) Caddy binaries with the go command: Go 1.23 first.
if [ -x /usr/lib/go-1.23/bin/go ]; then
    export PATH="/usr/lib/go-1.23/bin:$PATH"
fi
if [ -z "${PROX_TEST_GO:-}" ]; then
    if [ -x /usr/lib/go-1.23/bin/go ]; then
        PROX_TEST_GO=/usr/lib/go-1.23/bin/go
    elif command -v go >/dev/null 2>&1; then
        PROX_TEST_GO=$(command -v go)
    else
        echo "test.sh: no go command found: run scripts/setup-debian.sh (or install Go >= 1.21)" >&2
        exit 1
    fi
fi
export PROX_TEST_GO

echo "==> swift $(swift --version 2>/dev/null | head -n1)"
echo "==> go: $PROX_TEST_GO ($("$PROX_TEST_GO" env GOVERSION 2>/dev/null || echo unknown))"

echo "==> swift build --build-tests"
swift build --build-tests

echo "==> swift test $*"
status=0
swift test "$@" || status=$?

if [ "$#" -eq 0 ]; then
    # Stress tests load both cores: run alone, after the rest, so no timing test runs beside them.
    echo "==> swift test (stress tests, alone)"
    stress=0
    PROX_STRESS=1 swift test --skip-build --filter cancellationsDuringAppends || stress=$?
    if [ "$status" -eq 0 ]; then status=$stress; fi
fi

if [ "$#" -eq 0 ]; then
    echo "==> browser tests (scripts/test-browser.sh)"
    browser=0
    PROX_PROXHUB="$(swift build --show-bin-path)/proxhub" bash scripts/test-browser.sh || browser=$?
    if [ "$status" -eq 0 ]; then status=$browser; fi

    echo "==> the local cluster (scripts/test-cluster.sh: scripts/cluster.sh up, a build, status, down)"
    cluster=0
    bash scripts/test-cluster.sh || cluster=$?
    if [ "$status" -eq 0 ]; then status=$cluster; fi

    echo "==> schemathesis against a live proxhub (scripts/api-fuzz.sh)"
    api=0
    PROX_PROXHUB="$(swift build --show-bin-path)/proxhub" bash scripts/api-fuzz.sh || api=$?
    if [ "$status" -eq 0 ]; then status=$api; fi

    # The parsers under libFuzzer for a fixed time each (longer: scripts/fuzz.sh 600).
    echo "==> libFuzzer (scripts/fuzz.sh ${PROX_FUZZ_SECONDS:-15})"
    fuzz=0
    bash scripts/fuzz.sh "${PROX_FUZZ_SECONDS:-15}" || fuzz=$?
    if [ "$status" -eq 0 ]; then status=$fuzz; fi
fi
exit "$status"
