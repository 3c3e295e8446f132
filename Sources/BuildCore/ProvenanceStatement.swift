import Foundation

/// What made an artifact, as an in-toto Statement (`https://in-toto.io/Statement/v1`) with
/// a SLSA provenance v1 predicate (`https://slsa.dev/provenance/v1`). docs/verifying.md
/// describes every field; docs/api.md where it is served.
public struct ProvenanceStatement: Codable, Sendable, Equatable {
    public static let statementType = "https://in-toto.io/Statement/v1"
    public static let slsaPredicateType = "https://slsa.dev/provenance/v1"
    /// Prox's build type: a Caddy binary built from the request in `externalParameters`.
    public static let buildType = "urn:prox:buildtype:caddy:v1"

    /// A file and its digests (in-toto's ResourceDescriptor).
    public struct ResourceDescriptor: Codable, Sendable, Equatable {
        public var name: String?
        public var uri: String?
        /// Algorithm to value: `sha256` (hex) for files, `dirHash` (Go's `h1:` sum) for modules.
        public var digest: [String: String]?
        public var annotations: [String: String]?

        public init(name: String? = nil, uri: String? = nil, digest: [String: String]? = nil, annotations: [String: String]? = nil) {
            self.name = name
            self.uri = uri
            self.digest = digest
            self.annotations = annotations
        }
    }

    /// The request, as a client gave it once resolved: what anyone can ask for again.
    public struct ExternalParameters: Codable, Sendable, Equatable {
        public struct Plugin: Codable, Sendable, Equatable {
            public var package: String
            public var module: String
            public var version: String
            public var replacement: String?
        }
        public var os: String
        public var arch: String
        public var arm: Int?
        public var caddyVersion: String
        public var plugins: [Plugin]
        /// `/api/download?...` with every version exact.
        public var download: String
    }

    /// What the build service chose: the toolchain, and the flags and environment that
    /// affect the output, as the binary records them (`build` lines of `go version -m`).
    public struct InternalParameters: Codable, Sendable, Equatable {
        public var goVersion: String
        public var toolchainSource: String?
        public var toolchainReason: String?
        public var cacheKey: String
        public var settings: [String: String]
    }

    public struct BuildDefinition: Codable, Sendable, Equatable {
        public var buildType: String
        public var externalParameters: ExternalParameters
        public var internalParameters: InternalParameters
        public var resolvedDependencies: [ResourceDescriptor]
    }

    public struct Builder: Codable, Sendable, Equatable {
        /// `urn:prox:builder:<hub or agent name>`.
        public var id: String
        public var version: [String: String]?
    }

    public struct Metadata: Codable, Sendable, Equatable {
        /// The build's id (`/api/builds/{id}`).
        public var invocationId: String?
        public var startedOn: Date?
        public var finishedOn: Date?
    }

    public struct RunDetails: Codable, Sendable, Equatable {
        public var builder: Builder
        public var metadata: Metadata
    }

    public struct Predicate: Codable, Sendable, Equatable {
        public var buildDefinition: BuildDefinition
        public var runDetails: RunDetails
    }

    public var type: String
    public var subject: [ResourceDescriptor]
    public var predicateType: String
    public var predicate: Predicate

    enum CodingKeys: String, CodingKey {
        case type = "_type", subject, predicateType, predicate
    }

    /// Who built it and when.
    public struct Run: Sendable, Equatable {
        /// Who built an artifact.
        public enum Builder: Sendable, Equatable {
            /// The hub that signs it (standalone builds).
            case thisHub
            /// An agent, by name (hub mode).
            case agent(String)
            /// Not known: provenance made after the fact (an artifact cached before signing
            /// began, or fetched from another hub).
            case unknown
        }

        public var buildID: BuildID?
        public var builder: Builder
        public var startedOn: Date?
        public var finishedOn: Date?

        public init(buildID: BuildID?, builder: Builder, startedOn: Date?, finishedOn: Date?) {
            self.buildID = buildID
            self.builder = builder
            self.startedOn = startedOn
            self.finishedOn = finishedOn
        }
    }

    /// The statement for an artifact: its file name and digest, the resolved request, and
    /// the build list, toolchain and settings read from the binary itself. Throws
    /// `.invalidArtifact` when the binary's build information contradicts the build it is
    /// stored for (another toolchain or Caddy version: not this request's binary).
    /// `builder` names the build host: the agent, or this hub.
    public init(artifact: ArtifactRecord, info: GoBuildInfo, run: Run, builder: String) throws(ProxError) {
        let build = artifact.build
        guard info.goVersion == build.settings.goVersion || build.settings.goVersion.isEmpty else {
            throw ProxError(
                .invalidArtifact, "the binary was built with \(info.goVersion), not \(build.settings.goVersion) as its build says")
        }
        if let caddy = info.dependencies.first(where: { $0.path == BuildRequest.caddyModulePath }), caddy.replacement == nil,
            caddy.version != build.caddyVersion.description
        {
            throw ProxError(
                .invalidArtifact, "the binary holds Caddy \(caddy.version), not \(build.caddyVersion) as its build says")
        }
        type = Self.statementType
        predicateType = Self.slsaPredicateType
        subject = [ResourceDescriptor(name: build.platform.downloadFileName, digest: ["sha256": artifact.digest])]
        var dependencies = [
            ResourceDescriptor(
                name: "go",
                annotations: ["version": info.goVersion])
        ]
        dependencies += info.dependencies.map { module in
            var annotations = ["version": module.version]
            if let replacement = module.replacement {
                annotations["replacedBy"] = replacement.path + (replacement.version.map { "@" + $0 } ?? "")
            }
            let sum = module.replacement.map { $0.sum } ?? module.sum
            return ResourceDescriptor(
                name: module.path, uri: "pkg:golang/\(module.path)@\(module.version)", digest: sum.map { ["dirHash": $0] }, annotations: annotations
            )
        }
        predicate = Predicate(
            buildDefinition: BuildDefinition(
                buildType: Self.buildType,
                externalParameters: ExternalParameters(
                    os: build.platform.os, arch: build.platform.arch, arm: build.platform.arm, caddyVersion: build.caddyVersion.description,
                    plugins: build.plugins.map {
                        .init(package: $0.path, module: $0.module, version: $0.version.description, replacement: $0.replacement?.description)
                    },
                    download: build.downloadPath
                ),
                internalParameters: InternalParameters(
                    goVersion: info.goVersion, toolchainSource: build.toolchain?.source.rawValue, toolchainReason: build.toolchain?.reason,
                    cacheKey: artifact.key.hex,
                    settings: Dictionary(info.settings.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
                ),
                resolvedDependencies: dependencies
            ),
            runDetails: RunDetails(
                builder: Builder(id: "urn:prox:builder:\(builder)", version: ["prox": ProxVersion.current]),
                metadata: Metadata(invocationId: run.buildID?.rawValue, startedOn: run.startedOn, finishedOn: run.finishedOn)
            )
        )
    }
}
