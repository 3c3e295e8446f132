import BuildCore
import Foundation
import Hummingbird

/// The dry run of a download, and what past builds taught (issue 15).
extension ProxAPI {
    /// `GET /api/download/plan?<the /api/download query>`: everything the download would
    /// use, resolved, without building: exact versions, the toolchain, the cache key,
    /// whether it is cached or being built, and what this server knows of the combination.
    struct PlanView: Encodable {
        struct Artifact: Encodable {
            let sha256: String
            let size: Int64
        }
        struct Building: Encodable {
            let id: BuildID
            let state: String
            let links: [String: String]
        }
        struct Compatibility: Encodable {
            let path: String
            let version: String
            let caddyVersion: String
            let builds: Int
            let succeeded: Int
            let failed: Int
            let lastError: String?
            let warning: String?
            /// The newest version of the plugin known to build with this Caddy version.
            let suggestion: String?

            enum CodingKeys: String, CodingKey {
                case path, version, caddyVersion = "caddy_version", builds, succeeded, failed, lastError = "last_error", warning, suggestion
            }
        }

        let key: String
        let target: String
        let os: String
        let arch: String
        let arm: Int?
        let caddyVersion: String
        let goVersion: String
        let toolchain: BuildView.Toolchain?
        let plugins: [BuildView.Plugin]
        let cached: Bool
        let artifact: Artifact?
        let building: Building?
        /// The download with every version pinned: what CI scripts keep.
        let download: String
        let compatibility: [Compatibility]
        let warnings: [String]

        enum CodingKeys: String, CodingKey {
            case key, target, os, arch, arm, caddyVersion = "caddy_version", goVersion = "go_version", toolchain, plugins, cached, artifact
            case building, download, compatibility, warnings
        }
    }

    func plan(_ request: Request) async throws -> Response {
        let (buildRequest, _) = try downloadRequest(request)
        try await checkListed(buildRequest)
        let resolved = try await resolver.resolve(buildRequest, settings: settings)
        let key = resolved.cacheKey
        // A look like a download's (the bucket's copy comes to this disk, if there is one).
        let artifact = try await store.lookup(key)
        let building = artifact == nil ? try await builds.building(key) : nil
        var known: [PlanView.Compatibility] = []
        if let compatibility {
            for plugin in resolved.plugins where plugin.replacement == nil {
                let summaries = CompatibilitySummary.summarize(try await compatibility.rows(forPackage: plugin.path))
                let version = plugin.version.description, caddy = resolved.caddyVersion.description
                guard let summary = summaries.first(where: { $0.version == version && $0.caddyVersion == caddy }) else { continue }
                known.append(
                    PlanView.Compatibility(
                        path: plugin.path, version: version, caddyVersion: caddy, builds: summary.builds, succeeded: summary.succeeded,
                        failed: summary.failed, lastError: summary.lastError, warning: summary.warning,
                        suggestion: summary.failed > 0 ? CompatibilitySummary.suggestion(in: summaries, caddyVersion: caddy, instead: version) : nil
                    )
                )
            }
        }
        let view = PlanView(
            key: key.hex, target: resolved.platform.description, os: resolved.platform.os, arch: resolved.platform.arch, arm: resolved.platform.arm,
            caddyVersion: resolved.caddyVersion.description, goVersion: resolved.settings.goVersion,
            toolchain: resolved.toolchain.map(BuildView.Toolchain.init), plugins: resolved.plugins.map(BuildView.Plugin.init),
            cached: artifact != nil, artifact: artifact.map { PlanView.Artifact(sha256: $0.digest, size: $0.size) },
            building: building.map { record in
                let base = "/api/builds/\(record.id)"
                return PlanView.Building(id: record.id, state: record.state.rawValue, links: ["self": base, "logs": base + "/logs"])
            },
            download: resolved.downloadPath, compatibility: known,
            warnings: known.compactMap { entry in entry.warning.map { $0 + (entry.suggestion.map { " (\(entry.path) \($0) built with it)" } ?? "") } }
        )
        return try Self.json(Envelope(statusCode: 200, result: view))
    }

    /// `GET /api/packages/{package path}/compatibility`: every plugin version this server
    /// has built, per Caddy version, with its counts and newest failure.
    func packageCompatibility(_ request: Request) async throws -> Response {
        struct Listing: Encodable {
            let path: String
            let versions: [CompatibilitySummary]
        }
        let suffix = "/compatibility"
        let prefix = "/api/packages/"
        let fullPath = request.uri.path
        guard fullPath.hasPrefix(prefix), fullPath.hasSuffix(suffix), fullPath.count > prefix.count + suffix.count else {
            throw ProxError(.notFound, "no such route: use /api/packages/<package path>/compatibility")
        }
        let path = String(fullPath.dropFirst(prefix.count).dropLast(suffix.count))
        try ModuleSpec.validateModulePath(path, role: "package path")
        let versions = CompatibilitySummary.summarize(try await compatibility?.rows(forPackage: path) ?? [])
        return try Self.json(Envelope(statusCode: 200, result: Listing(path: path, versions: versions)))
    }
}

extension BuildView.Toolchain {
    init(_ choice: ToolchainChoice) {
        self.init(
            version: choice.version.toolchainName, source: choice.source.rawValue, needs: choice.requirement.map { "go" + $0.version.description },
            neededBy: choice.requirement?.module, reason: choice.reason
        )
    }
}

extension BuildView.Plugin {
    init(_ plugin: ResolvedModule) {
        self.init(path: plugin.path, module: plugin.module, version: plugin.version.description, replacement: plugin.replacement?.description)
    }
}
