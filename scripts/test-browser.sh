#!/usr/bin/env bash
# Runs the web UI's browser tests (Tests/BrowserTests): headless Chromium driven by
# Selenium against a live proxhub on a free 127.0.0.1 port, building from the fixture
# module proxy: standalone, and as a hub with a proxagent and a redis-server.
# scripts/test.sh runs them after `swift test`.
#
#   scripts/test-browser.sh [unittest arguments, e.g. -k reload]
#
# Needs chromium and chromium-driver (Debian) and the selenium package from PyPI in
# the virtual environment $PROX_VENV (default ./.venv): scripts/setup-debian.sh
# installs all three. Builds proxhub and proxagent (debug) unless PROX_PROXHUB names a
# proxhub (proxagent is then the one beside it, or PROX_PROXAGENT).
# Screenshots and server logs go to test-output/browser/ (not committed).
# The page's files are compiled into proxhub: to try a change to Sources/HTTPFront/UI
# without rebuilding, set PROX_UI_DIR=Sources/HTTPFront/UI (the tests then reach proxhub
# through a small proxy that serves those files from the tree; see harness.py).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v swift >/dev/null 2>&1 && [ -d /opt/swift/usr/bin ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

VENV=${PROX_VENV:-$PWD/.venv}
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import selenium' 2>/dev/null; then
    echo "test-browser: selenium is not installed in $VENV: run scripts/setup-debian.sh" >&2
    exit 1
fi
for tool in "${PROX_CHROMIUM:-/usr/bin/chromium}" "${PROX_CHROMEDRIVER:-/usr/bin/chromedriver}"; do
    if [ ! -x "$tool" ]; then
        echo "test-browser: $tool is missing: run scripts/setup-debian.sh (apt-get install chromium chromium-driver)" >&2
        exit 1
    fi
done

if [ -z "${PROX_PROXHUB:-}" ]; then
    echo "==> swift build --product proxhub, proxagent"
    swift build --product proxhub
    swift build --product proxagent
    PROX_PROXHUB="$(swift build --show-bin-path)/proxhub"
fi
PROX_PROXHUB=$(realpath "$PROX_PROXHUB")
export PROX_PROXHUB
# proxagent (for the hub-mode test): beside proxhub unless PROX_PROXAGENT says otherwise.

echo "==> browser tests: $("$VENV/bin/python" -c 'import selenium; print("selenium", selenium.__version__)'), $("${PROX_CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null | head -n1)"
cd Tests/BrowserTests
exec "$VENV/bin/python" -m unittest -v "$@"
