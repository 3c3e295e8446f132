import Foundation

/// A built Caddy binary in the cache: where its bytes are and exactly what made them.
public struct ArtifactRecord: Sendable, Codable, Equatable {
    public var key: CacheKey
    /// SHA-256 of the file, lower-case hex.
    public var digest: String
    public var size: Int64
    /// Absolute path of the file (named by its digest).
    public var path: String
    public var build: ResolvedBuild
    public var createdAt: Date
    public var lastAccess: Date
    public var hits: Int
    public var pinned: Bool

    public init(
        key: CacheKey, digest: String, size: Int64, path: String, build: ResolvedBuild,
        createdAt: Date, lastAccess: Date, hits: Int = 0, pinned: Bool = false
    ) {
        self.key = key
        self.digest = digest
        self.size = size
        self.path = path
        self.build = build
        self.createdAt = createdAt
        self.lastAccess = lastAccess
        self.hits = hits
        self.pinned = pinned
    }
}
