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

/// The content-addressed artifact cache.
///
/// Contract:
/// - ``lookup(_:)`` returns nil on a miss. A returned record's file existed with the
///   recorded size when it was looked up; a row whose file is missing or has the wrong size
///   is dropped and reported as a miss, never served. A hit updates last access and hits.
/// - ``commit(key:build:file:expectedDigest:)`` takes ownership of `file` (which must be in
///   ``stagingDirectory``): it hashes it, fsyncs, renames it into place and only then
///   writes the index row. If `expectedDigest` is given and differs, nothing is cached and
///   `.invalidArtifact` is thrown. If the key is already cached, the existing record is
///   returned and `file` removed. Quota is enforced here: least-recently-used, unpinned
///   entries are evicted; an artifact larger than the quota is `.insufficientStorage`.
///   On any error `file` is removed.
/// - Nothing here may fail silently.
public protocol ArtifactStore: Sendable {
    /// A directory on the same filesystem as the artifacts, for files about to be committed.
    var stagingDirectory: String { get }

    func lookup(_ key: CacheKey) async throws(ProxError) -> ArtifactRecord?

    func commit(key: CacheKey, build: ResolvedBuild, file: String, expectedDigest: String?) async throws(ProxError) -> ArtifactRecord

    /// Removes `file` from ``stagingDirectory`` without committing it (what a failed build
    /// left there); a file that is not there is no error.
    func discardStaged(_ file: String) async
}

/// Downloads per package path: what orders `/api/packages`. Best effort: counting never
/// fails a download.
public protocol DownloadCounter: Sendable {
    /// Counts one download of each package path.
    func recordDownload(packages: [String]) async

    /// Downloads per package path, as recorded by ``recordDownload(packages:)``.
    func downloadCounts() async -> [String: Int]
}

/// Where the last good copy of an upstream document (the package catalog) is kept, so a
/// failing upstream changes nothing.
public protocol DocumentStore: Sendable {
    func loadDocument(named name: String) async -> (data: [UInt8], fetchedAt: Date)?
    func saveDocument(named name: String, data: [UInt8]) async throws(ProxError)
}

/// What the admin API (`/api/admin/`) does to a cache: list, pin, remove, prune.
///
/// Contract: ``setPinned(_:_:)`` and ``remove(_:)`` return false for a key that is not
/// cached; a pinned entry is never evicted by the quota, but ``remove(_:)`` removes it;
/// ``prune(toSize:)`` evicts least-recently-used unpinned entries until the cache holds at
/// most `size` bytes (or only pinned entries are left) and returns what it removed.
public protocol CacheAdministration: Sendable {
    func entries(limit: Int) async throws(ProxError) -> [ArtifactRecord]
    func setPinned(_ key: CacheKey, _ pinned: Bool) async throws(ProxError) -> Bool
    func remove(_ key: CacheKey) async throws(ProxError) -> Bool
    func prune(toSize size: Int64) async throws(ProxError) -> (entries: Int, bytes: Int64)
    /// Bytes in the cache now, and its quota.
    func usage() async -> (size: Int64, quota: Int64)
}
