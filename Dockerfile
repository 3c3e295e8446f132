# syntax=docker/dockerfile:1
#
# One image for both Prox executables: proxhub (the ENTRYPOINT; standalone, or a hub
# with --hub) and proxagent (docker run --entrypoint proxagent …, or `entrypoint:` in
# compose.yaml). Run it with --init (compose: `init: true`) so that build processes the
# go command leaves behind are reaped. See docs/containers.md.
#
#   docker build -t prox .
#   docker run --init -p 127.0.0.1:8080:8080 -v prox-data:/data prox
#   docker run --init --entrypoint proxagent -v prox-agent:/data prox \
#       --hub-url http://hub:8080 --push-token … --redis-host redis --work-dir /data

ARG SWIFT_VERSION=6.2

# --- Stage 1: build -----------------------------------------------------------
# The official Swift image for Debian 12 with the headers Prox links against (hiredis,
# SQLite). Package.resolved is not committed: `swift build` resolves the dependencies
# from Package.swift here, so this stage needs network access to github.com. The Swift
# runtime and Foundation are linked statically (--static-swift-stdlib): the runtime
# stage needs no Swift toolchain. Tests/ is copied only because Package.swift declares
# the test targets (SwiftPM checks their directories); nothing of it is built.
FROM swift:${SWIFT_VERSION}-bookworm AS build
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends libhiredis-dev libsqlite3-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
# SwiftPM's --product takes one product: two builds, the second reuses the first's work.
# .build is a cache mount (kept between image builds), so the binaries are copied out.
RUN --mount=type=cache,target=/src/.build \
    swift build -c release --static-swift-stdlib --product proxhub \
    && swift build -c release --static-swift-stdlib --product proxagent \
    && bin="$(swift build -c release --static-swift-stdlib --show-bin-path)" \
    && install -d /out \
    && install -m 0755 "$bin/proxhub" "$bin/proxagent" /out/ \
    && install -m 0755 /usr/libexec/swift/linux/swift-backtrace-static /out/

# --- Stage 2: runtime -----------------------------------------------------------
# Debian 12 slim with what the binaries load at run time (hiredis 0.14, SQLite,
# libstdc++), what builds need (Go 1.23 from bookworm-backports, which downloads newer
# toolchains through the module proxy by itself; git; CA certificates), util-linux's
# prlimit (in the base image: builds are held by RLIMIT_DATA where the container's
# cgroup is read-only, as Docker mounts it) and curl for the health check.
FROM debian:bookworm-slim AS runtime
RUN export DEBIAN_FRONTEND=noninteractive \
    && printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' 'Suites: bookworm-backports' \
        'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' \
        > /etc/apt/sources.list.d/bookworm-backports.sources \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends \
        libhiredis0.14 libsqlite3-0 libstdc++6 ca-certificates git curl golang-1.23-go \
    && rm -rf /var/lib/apt/lists/*

# A user of its own. WORKDIR is / so that the defaults land in the volume: proxhub's
# --binary-path ./data is /data. Give proxagent --work-dir /data (its default,
# ./agent-data, is /agent-data, outside any volume).
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin prox \
    && install -d -o prox -g prox -m 0750 /data /agent-data
COPY --from=build /out/proxhub /out/proxagent /out/swift-backtrace-static /usr/local/bin/

# `go` on PATH is the default --go of both commands. No PB_* variable is set here: they
# would win over the flags given to the container.
ENV PATH=/usr/lib/go-1.23/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/data \
    SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/usr/local/bin/swift-backtrace-static
USER prox:prox
WORKDIR /
VOLUME ["/data"]
EXPOSE 8080

# proxhub's liveness route is /healthz (docs/api.md; it does not check Redis or the
# agents). Plain HTTP on PB_WEBSERVER_PORT or 8080: a proxhub given --tls-cert, or one
# given --webserver-port as a flag, needs a health check of its own (compose.yaml's
# agents replace it too).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS -o /dev/null "http://127.0.0.1:${PB_WEBSERVER_PORT:-8080}/healthz" || exit 1

ENTRYPOINT ["proxhub"]
