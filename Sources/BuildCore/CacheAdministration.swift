
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
