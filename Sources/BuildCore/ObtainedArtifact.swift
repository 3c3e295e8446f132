

/// What ``BuildService/obtain(_:requestedID:client:)`` gives: the artifact, and the build
/// that made it or was joined (nil when the cache answered at once).
public struct ObtainedArtifact: Sendable {
    public let artifact: ArtifactRecord
    public let build: BuildRecord?

    public init(artifact: ArtifactRecord, build: BuildRecord?) {
        self.artifact = artifact
        self.build = build
    }

    /// True when no build ran for this request: a cache hit, or a cached record.
    public var fromCache: Bool { build?.cached ?? true }
}
