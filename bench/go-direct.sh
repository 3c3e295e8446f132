#!/usr/bin/env bash
# The baseline of benchmark 3: the build steps proxhub runs (xcaddy's, see
# docs/architecture.md, GoToolchainRunner), done directly with the go command.
#
#   bench/go-direct.sh GO GOPROXY GOROOT_DIR OUTPUT CADDY_VERSION PLUGIN@VERSION...
#
# GOROOT_DIR holds the module cache (mod/), build cache (cache/) and GOPATH (gopath/),
# as proxhub's <data>/go does. A fresh work directory is made and removed per run.
# DIRECT_GOTOOLCHAIN (default local) is passed as GOTOOLCHAIN: goX.Y.Z makes GO download
# that toolchain through GOPROXY and switch to it, as proxhub does.
set -euo pipefail
GO=$1 PROXY=$2 GODIR=$3 OUTPUT=$4 CADDY_VERSION=$5
shift 5
CADDY=github.com/caddyserver/caddy/v2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/go-direct.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export GOPROXY=$PROXY GOMODCACHE=$GODIR/mod GOCACHE=$GODIR/cache GOPATH=$GODIR/gopath
export GOFLAGS=-mod=mod GOTOOLCHAIN=${DIRECT_GOTOOLCHAIN:-local} GOENV=off GOTELEMETRY=off CGO_ENABLED=0 GOSUMDB=off LANG=C.UTF-8
{
    echo "package main"
    echo
    echo "import ("
    echo "	caddycmd \"$CADDY/cmd\""
    echo
    echo "	// plugged-in modules"
    echo "	_ \"$CADDY/modules/standard\""
    echo "	_ \"time/tzdata\""
    for p in "$@"; do echo "	_ \"${p%@*}\""; done
    echo ")"
    echo
    echo "func main() {"
    echo "	caddycmd.Main()"
    echo "}"
} >"$WORK/main.go"
cd "$WORK"
"$GO" mod init caddy 2>/dev/null
"$GO" get -v "$CADDY@$CADDY_VERSION" 2>/dev/null
for p in "$@"; do "$GO" get -v "$p" "$CADDY@$CADDY_VERSION" 2>/dev/null; done
"$GO" mod tidy -e 2>/dev/null
GOOS=linux GOARCH=amd64 "$GO" build -o caddy -trimpath -ldflags "-w -s" -tags nobadger,nomysql,nopgx
mv caddy "$OUTPUT"
