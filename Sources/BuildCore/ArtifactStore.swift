
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
