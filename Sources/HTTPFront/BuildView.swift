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
        let file_name: String
    }
    /// How the build's Go toolchain was chosen (absent when the server uses one fixed toolchain).
    struct Toolchain: Encodable {
        let version: String
        /// `local` or `download`.
        let source: String
        /// The highest `go`/`toolchain` line among the go.mod files, and whose it is.
        let needs: String?
        let needed_by: String?
        let reason: String
    }
    struct Links: Encodable {
        let `self`: String
        let logs: String
        let artifact: String
        let download: String
    }

    let id: String
    let key: String
    let state: String
    let cached: Bool
    let target: String
    let os: String
    let arch: String
    let arm: Int?
    let caddy_version: String
    let go_version: String
    let toolchain: Toolchain?
    let plugins: [Plugin]
    let worker: String?
    /// Hub mode: how many times an agent started the build (more than 1 after agent crashes).
    let attempts: Int?
    let created_at: Date
    let started_at: Date?
    let finished_at: Date?
    let queued_seconds: Double?
    let build_seconds: Double?
    let error: ProxError?
    let artifact: Artifact?
    let links: Links

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
        caddy_version = build.caddyVersion.description
        go_version = build.settings.goVersion
        toolchain = build.toolchain.map {
            Toolchain(
                version: $0.version.toolchainName, source: $0.source.rawValue, needs: $0.requirement.map { "go" + $0.version.description },
                needed_by: $0.requirement?.module, reason: $0.reason
            )
        }
        plugins = build.plugins.map { Plugin(path: $0.path, module: $0.module, version: $0.version.description, replacement: $0.replacement?.description) }
        worker = record.worker
        attempts = record.attempts
        created_at = record.createdAt
        started_at = record.startedAt
        finished_at = record.finishedAt
        queued_seconds = record.startedAt.map { Self.round($0.timeIntervalSince(record.createdAt)) }
        build_seconds = record.startedAt.flatMap { start in record.finishedAt.map { Self.round($0.timeIntervalSince(start)) } }
        error = record.error
        let base = "/api/builds/\(record.id)"
        if let digest = record.digest, let size = record.size {
            artifact = Artifact(sha256: digest, size: size, url: base + "/artifact", file_name: build.platform.downloadFileName)
        } else {
            artifact = nil
        }
        links = Links(self: base, logs: base + "/logs", artifact: base + "/artifact", download: Self.downloadURL(for: build))
    }

    /// `/api/download?...` with every version exact: the same binary, from any client.
    static func downloadURL(for build: ResolvedBuild) -> String {
        var items = [("os", build.platform.os), ("arch", build.platform.arch)]
        if let arm = build.platform.arm { items.append(("arm", String(arm))) }
        items += build.plugins.map { ("p", "\($0.path)@\($0.version)" + ($0.replacement.map { "=\($0)" } ?? "")) }
        items.append(("version", build.caddyVersion.description))
        return "/api/download?" + items.map { "\($0)=\(percentEncode($1))" }.joined(separator: "&")
    }

    static func percentEncode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    static func round(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
}

/// The JSON body of `POST /api/builds`: the download API's parameters as fields.
struct BuildSubmission: Decodable {
    var os: String?
    var arch: String?
    var arm: String?
    var packages: [String]
    var version: String?
    var caddy_version: String?
    var job_id: String?

    enum CodingKeys: String, CodingKey { case os, arch, arm, packages, p, version, caddy_version, job_id }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        os = try c.decodeIfPresent(String.self, forKey: .os)
        arch = try c.decodeIfPresent(String.self, forKey: .arch)
        if let number = try? c.decodeIfPresent(Int.self, forKey: .arm) {
            arm = String(number)
        } else {
            arm = try c.decodeIfPresent(String.self, forKey: .arm)
        }
        packages = try c.decodeIfPresent([String].self, forKey: .packages) ?? c.decodeIfPresent([String].self, forKey: .p) ?? []
        version = try c.decodeIfPresent(String.self, forKey: .version)
        caddy_version = try c.decodeIfPresent(String.self, forKey: .caddy_version)
        job_id = try c.decodeIfPresent(String.self, forKey: .job_id)
    }
}
