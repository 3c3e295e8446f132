import BuildCore
import Foundation

/// A build as the API shows it (`/api/builds`, SSE `result` events).
struct BuildView: Encodable {
    struct Plugin: Encodable {
        let path: String
        let module: String
        let version: String
        let replacement: String?
    }
    struct Artifact: Encodable {
        let sha256: String
        let size: Int64
        let url: String
        let fileName: String

        enum CodingKeys: String, CodingKey { case sha256, size, url, fileName = "file_name" }
    }
    /// How the build's Go toolchain was chosen (absent when the server uses one fixed toolchain).
    struct Toolchain: Encodable {
        let version: String
        /// `local` or `download`.
        let source: String
        /// The highest `go`/`toolchain` line among the go.mod files, and whose it is.
        let needs: String?
        let neededBy: String?
        let reason: String

        enum CodingKeys: String, CodingKey { case version, source, needs, neededBy = "needed_by", reason }
    }
    struct Links: Encodable {
        let `self`: String
        let logs: String
        let artifact: String
        let download: String
        /// The artifact's signed provenance and minisign signature (docs/verifying.md).
        let provenance: String
        let signature: String
    }

    let id: BuildID
    let key: String
    let state: String
    let cached: Bool
    let target: String
    let os: String
    let arch: String
    let arm: Int?
    let caddyVersion: String
    let goVersion: String
    let toolchain: Toolchain?
    let plugins: [Plugin]
    let worker: String?
    /// Hub mode: how many times an agent started the build (more than 1 after agent crashes).
    let attempts: Int?
    let createdAt: Date
    let startedAt: Date?
    let finishedAt: Date?
    let queuedSeconds: Double?
    let buildSeconds: Double?
    let error: ProxError?
    let artifact: Artifact?
    let links: Links

    enum CodingKeys: String, CodingKey {
        case id, key, state, cached, target, os, arch, arm
        case caddyVersion = "caddy_version", goVersion = "go_version"
        case toolchain, plugins, worker, attempts
        case createdAt = "created_at", startedAt = "started_at", finishedAt = "finished_at"
        case queuedSeconds = "queued_seconds", buildSeconds = "build_seconds"
        case error, artifact, links
    }

    init(_ record: BuildRecord) {
        let build = record.build
        id = record.id
        key = record.key.hex
        state = record.state.rawValue
        cached = record.cached
        target = build.platform.description
        os = build.platform.os
        arch = build.platform.arch
        arm = build.platform.arm
        caddyVersion = build.caddyVersion.description
        goVersion = build.settings.goVersion
        toolchain = build.toolchain.map(Toolchain.init)
        plugins = build.plugins.map(Plugin.init)
        worker = record.worker
        attempts = record.attempts
        createdAt = record.createdAt
        startedAt = record.startedAt
        finishedAt = record.finishedAt
        queuedSeconds = record.startedAt.map { Self.round($0.timeIntervalSince(record.createdAt)) }
        buildSeconds = record.startedAt.flatMap { start in record.finishedAt.map { Self.round($0.timeIntervalSince(start)) } }
        error = record.error
        let base = "/api/builds/\(record.id)"
        if let digest = record.digest, let size = record.size {
            artifact = Artifact(sha256: digest, size: size, url: base + "/artifact", fileName: build.platform.downloadFileName)
        } else {
            artifact = nil
        }
        links = Links(
            self: base, logs: base + "/logs", artifact: base + "/artifact", download: build.downloadPath,
            provenance: base + "/provenance", signature: base + "/artifact.minisig"
        )
    }

    static func round(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
}
