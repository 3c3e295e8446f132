// swift-tools-version:6.2
// Benchmark drivers (index scale, queue dispatch) that need Prox's libraries. Kept out of
// the main package: nothing here is part of proxhub, proxagent or their tests.
import Foundation
import PackageDescription

// A path dependency's identity is its directory's name, which depends on where the
// repository is checked out: compute it.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL
let prox = root.lastPathComponent.lowercased()

let package = Package(
    name: "prox-bench-driver",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: root.path),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .executableTarget(
            name: "prox-bench",
            dependencies: [
                .product(name: "BuildCore", package: prox),
                .product(name: "CacheStore", package: prox),
                .product(name: "QueueRedis", package: prox),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/ProxBench"
        )
    ]
)
