// swift-tools-version:6.2
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "prox",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "BuildCore", targets: ["BuildCore"]),
        .library(name: "CacheStore", targets: ["CacheStore"]),
        .library(name: "FileIO", targets: ["FileIO"]),
        .library(name: "Provenance", targets: ["Provenance"]),
        .library(name: "ObjectStorage", targets: ["ObjectStorage"]),
        .library(name: "ProxMetrics", targets: ["ProxMetrics"]),
        .library(name: "GoProxyClient", targets: ["GoProxyClient"]),
        .library(name: "GoToolchain", targets: ["GoToolchain"]),
        .library(name: "HTTPFront", targets: ["HTTPFront"]),
        .library(name: "QueueRedis", targets: ["QueueRedis"]),
        .library(name: "ProxTesting", targets: ["ProxTesting"]),
        .executable(name: "proxhub", targets: ["proxhub"]),
        .executable(name: "proxagent", targets: ["proxagent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // The model and its seams, with in-process logic only: build requests, exact
        // versions, toolchain choice, cache keys, the protocols every adapter implements
        // (module proxy client, build runner, stores, job queue, log bus) and the
        // coordinator. No network, process or file I/O: those are the adapters below.
        .target(
            name: "BuildCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Adapter: the module proxy client over HTTP and file:// (and the catalog fetch).
        .target(
            name: "GoProxyClient",
            dependencies: [
                "BuildCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // Adapter: the go command as a build runner (toolchain choice and download through
        // the module proxy, memory/CPU/disk fences, log scrubbing) and the Go cache janitor.
        .target(
            name: "GoToolchain",
            dependencies: [
                "BuildCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictSettings
        ),
        // Blocking file work, on NIO's thread pool: SHA-256 of files, positioned reads.
        .target(
            name: "FileIO",
            dependencies: [
                "BuildCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // SQLite-indexed, content-addressed artifact cache.
        .target(
            name: "CacheStore",
            dependencies: [
                "BuildCore", "FileIO",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // hiredis from Debian's libhiredis-dev (0.14: RESP2, blocking calls); its headers
        // are in /usr/include/hiredis (pkg-config's flags only add -D_FILE_OFFSET_BITS).
        .systemLibrary(name: "CHiredis"),
        // Redis adapters: connections, the Streams job queue, per-job log streams, agents.
        .target(
            name: "QueueRedis",
            dependencies: [
                "BuildCore", "CHiredis", "FileIO",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // Signed provenance: the hub's signing key file, and the Attestor that reads each
        // new binary (digest, BLAKE2b, Go build information), signs its in-toto statement
        // (DSSE) and the binary (minisign), and keeps both beside the artifact.
        .target(
            name: "Provenance",
            dependencies: [
                "BuildCore", "FileIO",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // Adapter: S3-compatible object storage (MinIO, Garage, Ceph RGW, R2, AWS), the
        // ObjectStore seam over AsyncHTTPClient with AWS Signature Version 4.
        .target(
            name: "ObjectStorage",
            dependencies: [
                "BuildCore", "FileIO",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // Prometheus metrics: swift-metrics over a registry of each hub's or agent's own,
        // and the Metered… wrappers that count what crosses BuildCore's seams.
        .target(
            name: "ProxMetrics",
            dependencies: [
                "BuildCore",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),
        // The Caddy-compatible HTTP API, live logs and the web UI.
        .target(
            name: "HTTPFront",
            dependencies: [
                "BuildCore", "FileIO", "ProxMetrics",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            // The web UI's static files, compiled into the binary as byte arrays
            // (`PackageResources.<name>_<ext>`): proxhub needs nothing beside it to serve them.
            resources: [.embedInCode("UI")],
            swiftSettings: strictSettings
        ),
        // Command types for the executables: flags, environment, wiring.
        .target(
            name: "ProxCommands",
            dependencies: [
                "BuildCore", "CacheStore", "FileIO", "GoProxyClient", "GoToolchain", "HTTPFront", "ObjectStorage", "Provenance", "ProxMetrics", "QueueRedis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "proxhub",
            dependencies: ["ProxCommands", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "proxagent",
            dependencies: ["ProxCommands", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictSettings
        ),
        // Fuzz targets over BuildCore's parsers of untrusted input (scripts/fuzz.sh builds
        // prox-fuzz with --sanitize=fuzzer -Xswiftc -DFUZZING; without them prox-fuzz
        // replays inputs from files).
        .target(
            name: "ProxFuzzTargets",
            dependencies: ["BuildCore"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "prox-fuzz",
            dependencies: ["ProxFuzzTargets"],
            swiftSettings: strictSettings
        ),
        // In-memory twins of BuildCore's seams, for fast tests here and in tools that embed
        // BuildCore (as NIOEmbedded is for NIO): a module proxy, an artifact store, a
        // scripted build runner.
        .target(
            name: "ProxTesting",
            dependencies: [
                "BuildCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // Shared test fixtures: the synthetic Go module proxy, ports, temp dirs.
        .target(
            name: "ProxTestSupport",
            dependencies: [
                "BuildCore",
                .product(name: "Subprocess", package: "swift-subprocess"),
            ],
            path: "Tests/ProxTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BuildCoreTests",
            dependencies: ["BuildCore", "GoProxyClient", "ProxTestSupport", "ProxFuzzTargets"],
            swiftSettings: strictSettings
        ),
        // The fast layer: the HTTP API in process, on ProxTesting's twins (no go, no
        // Redis, no subprocess); the server pipeline's tests bind a port of 127.0.0.1.
        .testTarget(
            name: "APITests",
            dependencies: [
                "BuildCore", "HTTPFront", "Provenance", "ProxMetrics", "ProxTesting", "ProxTestSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ObjectStorageTests",
            dependencies: [
                "ObjectStorage", "BuildCore", "ProxTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ProxCommandsTests",
            dependencies: ["BuildCore", "ProxCommands"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "GoProxyClientTests",
            dependencies: ["GoProxyClient", "BuildCore", "ProxTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "GoToolchainTests",
            dependencies: ["GoToolchain", "BuildCore", "ProxTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FileIOTests",
            dependencies: ["FileIO", "BuildCore", "ProxTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CacheStoreTests",
            dependencies: ["CacheStore", "BuildCore", "ProxTesting", "ProxTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "QueueRedisTests",
            dependencies: [
                "QueueRedis", "BuildCore", "CacheStore", "ProxTesting", "ProxTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SystemTests",
            dependencies: [
                "HTTPFront", "CacheStore", "BuildCore", "GoProxyClient", "GoToolchain", "ObjectStorage", "ProxCommands", "ProxTestSupport", "Provenance", "QueueRedis",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
