#!/usr/bin/env bash
# Installs what Prox needs on Debian 12 (bookworm): Go 1.23 from bookworm-backports (else
# Debian's golang-go) and Go 1.22 beside it (the toolchain tests build on go1.22 and download
# go1.23 as a toolchain module made from the 1.23 package), Redis and hiredis, SQLite headers, Python 3, curl, git; and for the
# browser tests Chromium, chromedriver and Selenium (from PyPI, into the virtual environment
# $PROX_VENV, default ./.venv).
#
# Idempotent: run it as often as you like. Runs apt-get as root (through sudo when not
# root and sudo exists). Never starts Redis as a service. Swift itself cannot be installed
# from Debian's archive: this script only checks that it is there and says how to get it.
#
# With PROX_SETUP_BENCH=1 it also installs the benchmarks' tools (bench/README.md): wrk,
# nginx-light and redis-tools (nginx's service is not started).
#
# Usage: scripts/setup-debian.sh
set -euo pipefail

say() { printf '==> %s\n' "$*"; }
warn() { printf 'setup-debian: %s\n' "$*" >&2; }

if [ "$(id -u)" -eq 0 ]; then
    AS_ROOT=()
elif command -v sudo >/dev/null 2>&1; then
    AS_ROOT=(sudo)
else
    warn "run this script as root (or install sudo): it uses apt-get"
    exit 1
fi
as_root() { "${AS_ROOT[@]}" "$@"; }

PACKAGES=(redis-server libhiredis-dev libsqlite3-dev python3 python3-venv curl ca-certificates git chromium chromium-driver openssl util-linux minisign python3-cryptography)
if [ "${PROX_SETUP_BENCH:-0}" = 1 ]; then
    PACKAGES+=(wrk nginx-light redis-tools)
fi
# From PyPI, pinned (the versions the tests were written against): the browser tests'
# Selenium; moto's S3 server (scripts/s3-test-server.py) for the object storage tests and
# scripts/cluster.sh; prometheus_client's parser for the /metrics tests.
SELENIUM=selenium==4.51.0
PYPI_PACKAGES=("$SELENIUM" "moto[server]==5.2.1" "prometheus-client==0.21.1")
BACKPORTS_FILE=/etc/apt/sources.list.d/bookworm-backports.sources

# The Debian mirror this machine already uses for bookworm (backports come from the same one).
debian_mirror() {
    local uri=""
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
    fi
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)
    fi
    if [ -z "$uri" ]; then
        warn "cannot find this machine's Debian mirror in /etc/apt: add bookworm-backports yourself"
        exit 1
    fi
    printf '%s\n' "$uri"
}

# True when some enabled APT source already names bookworm-backports.
backports_enabled() {
    local files=()
    [ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
    local f
    for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && files+=("$f")
    done
    [ "${#files[@]}" -gt 0 ] || return 1
    # one-line format: "deb URI bookworm-backports ..."; deb822: "Suites: ... bookworm-backports ..."
    grep -hEv '^[[:space:]]*#' "${files[@]}" 2>/dev/null |
        grep -Eq '^[[:space:]]*(deb[[:space:]].*[[:space:]]bookworm-backports([[:space:]]|$)|Suites:.*(^|[[:space:]])bookworm-backports([[:space:]]|$))'
}

# True when package $1 is installed.
installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# True when apt has an installation candidate for package $1.
installable() {
    local candidate
    candidate=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2; exit }')
    [ -n "$candidate" ] && [ "$candidate" != "(none)" ]
}

if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    say "apt-get update"
    as_root apt-get update

    os_id="" os_version=""
    if [ -r /etc/os-release ]; then
        os_id=$(. /etc/os-release && echo "${ID:-}")
        os_version=$(. /etc/os-release && echo "${VERSION_ID:-}")
    fi
    if [ "$os_id" = debian ] && [ "$os_version" = 12 ]; then
        mirror=$(debian_mirror)
        if backports_enabled; then
            say "bookworm-backports is already enabled"
        else
            say "enabling bookworm-backports ($BACKPORTS_FILE)"
            printf '%s\n' \
                'Types: deb' \
                "URIs: $mirror" \
                'Suites: bookworm-backports' \
                'Components: main' \
                'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' |
                as_root tee "$BACKPORTS_FILE" >/dev/null
            say "apt-get update (with backports)"
            as_root apt-get update
        fi
    else
        say "not Debian 12 (${os_id:-unknown} ${os_version:-?}): bookworm-backports left alone"
    fi

    # Only what is missing is installed: packages already there are not upgraded.
    missing=()
    for p in "${PACKAGES[@]}"; do
        installed "$p" || missing+=("$p")
    done
    need_go=1
    if installed golang-1.23-go && installed golang-1.22-go; then need_go=0; fi

    # Keep package scripts from starting services (redis-server's would) during the
    # install: a temporary policy-rc.d that refuses every action, unless one exists.
    policy=/usr/sbin/policy-rc.d
    made_policy=0
    if { [ "${#missing[@]}" -gt 0 ] || [ "$need_go" = 1 ]; } && [ ! -e "$policy" ]; then
        printf '#!/bin/sh\n# temporary, written by Prox scripts/setup-debian.sh\nexit 101\n' | as_root tee "$policy" >/dev/null
        as_root chmod 0755 "$policy"
        made_policy=1
        trap 'as_root rm -f "$policy"' EXIT
    fi

    if [ "${#missing[@]}" -gt 0 ]; then
        say "installing ${missing[*]}"
        as_root apt-get install -y --no-install-recommends "${missing[@]}"
    else
        say "already installed: ${PACKAGES[*]}"
    fi

    if [ "$need_go" = 0 ]; then
        say "already installed: golang-1.23-go golang-1.22-go"
    elif installable golang-1.23-go && installable golang-1.22-go &&
        as_root apt-get install -y --no-install-recommends golang-1.23-go golang-1.22-go; then
        say "installed golang-1.23-go golang-1.22-go"
    elif installed golang-go; then
        warn "golang-1.23-go and golang-1.22-go cannot be installed here (the toolchain tests need both); using Debian's golang-go, already installed"
    else
        warn "golang-1.23-go and golang-1.22-go cannot be installed here (the toolchain tests need both); falling back to Debian's golang-go"
        as_root apt-get install -y --no-install-recommends golang-go
    fi

    if [ "$made_policy" = 1 ]; then
        as_root rm -f "$policy"
        trap - EXIT
    fi
else
    warn "apt-get not found: this script installs packages on Debian only; install by hand:"
    warn "  Go >= 1.21 (1.23 recommended), redis-server, hiredis and SQLite headers, python3, curl, git,"
    warn "  chromium and chromedriver (browser tests), minisign and python3-cryptography (provenance tests)"
fi

# --- Python packages (browser tests, S3 test server, metrics parser) --------------------
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${PROX_VENV:-$repo/.venv}
venv_ready() {
    "$venv/bin/python" - "${PYPI_PACKAGES[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
for spec in sys.argv[1:]:
    name, _, wanted = spec.partition("==")
    if version(name.split("[")[0]) != wanted:
        sys.exit(1)
PY
}
if [ -x "$venv/bin/python" ] && venv_ready; then
    say "already installed: ${PYPI_PACKAGES[*]} in $venv"
else
    say "installing ${PYPI_PACKAGES[*]} into $venv (PyPI)"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${PYPI_PACKAGES[@]}"
fi

# --- Swift --------------------------------------------------------------------
swift_bin=""
if command -v swift >/dev/null 2>&1; then
    swift_bin=$(command -v swift)
elif [ -x /opt/swift/usr/bin/swift ]; then
    swift_bin=/opt/swift/usr/bin/swift
fi
if [ -z "$swift_bin" ]; then
    cat >&2 <<'EOF'
setup-debian: Swift was not found (neither `swift` on PATH nor /opt/swift/usr/bin/swift).
  Prox needs Swift 6.2 or newer (Package.swift uses swift-tools-version 6.2).
  Debian's archive does not carry it, so this script cannot install it. On a machine
  with internet access, download the Swift 6.x toolchain for Debian 12 from swift.org
  (or install it with swiftly), unpack it so that /opt/swift/usr/bin/swift exists,
  and run this script again. The project's scripts add /opt/swift/usr/bin to PATH
  themselves; for your shell: export PATH=/opt/swift/usr/bin:$PATH
EOF
    exit 1
fi
swift_version=$("$swift_bin" --version 2>/dev/null | grep -Eo 'Swift version [0-9]+\.[0-9]+(\.[0-9]+)?' | head -n1 | awk '{ print $3 }')
say "swift: $swift_bin (${swift_version:-unknown version})"
if [ -n "$swift_version" ]; then
    major=${swift_version%%.*}
    rest=${swift_version#*.}
    minor=${rest%%.*}
    if [ "$major" -lt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -lt 2 ]; }; then
        warn "Swift $swift_version is too old: Prox needs Swift 6.2 or newer"
        exit 1
    fi
fi
if ! command -v swift >/dev/null 2>&1; then
    say "note: swift is not on PATH; the project's scripts add /opt/swift/usr/bin themselves (for your shell: export PATH=/opt/swift/usr/bin:\$PATH)"
fi

# --- Go -------------------------------------------------------------------------
# The other scripts choose the same way: Go 1.23 from backports first, else go on PATH.
if [ -x /usr/lib/go-1.23/bin/go ]; then
    go_bin=/usr/lib/go-1.23/bin/go
elif command -v go >/dev/null 2>&1; then
    go_bin=$(command -v go)
else
    warn "no go command found: install golang-1.23-go (bookworm-backports) or Go >= 1.21"
    exit 1
fi
go_version=$("$go_bin" env GOVERSION 2>/dev/null || true)
case "$go_version" in
    go1.1[0-9]* | go1.[0-9] | go1.[0-9].* | go1.20*)
        warn "$go_bin is $go_version: the test fixture needs Go >= 1.21 and real Caddy builds need a recent Go" ;;
esac
say "go: $go_bin (${go_version:-unknown version})"
